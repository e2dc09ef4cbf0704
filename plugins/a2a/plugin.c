/* plugins/a2a/plugin.c — the a2a feature plugin: descriptor, init/fini,
 * self-test, report fragment and the ops table of <ruvector/feature-a2a.h>
 * (a2a.md §7). The modules below it record their detail in their own
 * thread-local buffer (detail.h); every entry point here hands that text to
 * host->set_error, so hosts read it with ruv_last_error(). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <ruvector/error.h>
#include <ruvector/feature-a2a.h>
#include <ruvector/plugin.h>

#include "curl_fit.h"
#include "detail.h"
#include "identity.h"
#include "jcs.h"
#include "jwk.h"
#include "selftest.h"
#include "verify.h"

#define A2A_PLUGIN_VERSION "0.1.0"

struct a2a_state {
    const struct ruv_host *host;
    char curl_version[32];
    char tls_backend[64];
};

/* Hands the a2a modules' detail for status to the engine. */
static int forward(const struct ruv_host *host, int status)
{
    return host->set_error(status, "a2a: %s", ruv__detail_get());
}

static int a2a_init(const struct ruv_host *host, void **state)
{
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    const char *why = ruv__a2a_curl_unfit(v);
    if (why)
        return host->set_error(RUV_E_UNSUPPORTED, "a2a: %s (libcurl %s, TLS %s)", why,
                               v && v->version ? v->version : "?",
                               v && v->ssl_version ? v->ssl_version : "none");
    struct a2a_state *s = calloc(1, sizeof *s);
    if (!s)
        return host->set_error(RUV_E_NOMEM, "a2a: out of memory");
    /* The engine calls init under its loader lock, and this libcurl is
     * thread-safe besides; curl counts its own inits, so one per state. */
    CURLcode cc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (cc != CURLE_OK) {
        free(s);
        return host->set_error(RUV_E_BACKEND, "a2a: curl_global_init: %s", curl_easy_strerror(cc));
    }
    s->host = host;
    strncpy(s->curl_version, v->version ? v->version : "", sizeof s->curl_version - 1);
    strncpy(s->tls_backend, v->ssl_version, sizeof s->tls_backend - 1);
    *state = s;
    return RUV_OK;
}

static void a2a_fini(void *state)
{
    if (!state)
        return;
    curl_global_cleanup();
    free(state);
}

static int a2a_self_test(void *state)
{
    struct a2a_state *s = state;
    int rc = ruv__a2a_selftest_vectors();
    return rc == RUV_OK ? RUV_OK : forward(s->host, rc);
}

static void a2a_report(void *state, void (*emit)(void *ctx, const char *key, const char *value),
                       void *ctx)
{
    struct a2a_state *s = state;
    emit(ctx, "curl", s->curl_version);
    emit(ctx, "tls", s->tls_backend);
    emit(ctx, "openssl", OpenSSL_version(OPENSSL_VERSION));
    emit(ctx, "jansson", jansson_version_str());
    /* What this build does with each A2A version: cards only until the
     * client slots land. */
    emit(ctx, "protocols", "1.0 0.3 (card verification; no client yet)");
    emit(ctx, "open_clients", "0");
}

/* ---- verify_card ---- */

static int import_key(const char *text, EVP_PKEY **key)
{
    size_t len = strlen(text);
    if (strncmp(text, "-----BEGIN", 10) == 0)
        return ruv__key_from_pem(text, len, key);
    json_error_t err;
    json_t *jwk = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    if (!jwk)
        return ruv__detail_set(RUV_E_INVAL, "not a JWK or PEM key: %s at byte %d", err.text,
                             err.position);
    int rc = ruv__jwk_import(jwk, key);
    json_decref(jwk);
    return rc;
}

/* The pin set options describe; *out NULL when options pin nothing. */
static int pins_from_options(const struct ruv_a2a_options *o, struct ruv__pins **out)
{
    *out = NULL;
    if (!o || (o->n_pinned_keys == 0 && o->n_agent_ids == 0))
        return RUV_OK;
    if ((o->n_pinned_keys && !o->pinned_keys) || (o->n_agent_ids && !o->agent_ids))
        return ruv__detail_set(RUV_E_INVAL, "options: a count without its array");
    struct ruv__pins *pins;
    int rc = ruv__pins_new(&pins);
    for (size_t i = 0; rc == RUV_OK && i < o->n_pinned_keys; i++) {
        const struct ruv_a2a_pinned_key *k = o->pinned_keys[i];
        char where[48];
        snprintf(where, sizeof where, "pinned key %zu", i);
        if (!k || k->struct_size < sizeof *k || !k->kid || !k->kid[0] || !k->key) {
            rc = ruv__detail_set(RUV_E_INVAL,
                               "%s: NULL, struct_size too small, or no kid or key", where);
            break;
        }
        EVP_PKEY *key = NULL;
        rc = import_key(k->key, &key);
        if (rc == RUV_OK)
            rc = ruv__pins_add_key(pins, k->kid, key, k->not_after, k->revoked != 0);
        if (rc != RUV_OK)
            rc = ruv__detail_prefix(rc == RUV_E_PROTOCOL ? RUV_E_INVAL : rc, "%s", where);
    }
    for (size_t i = 0; rc == RUV_OK && i < o->n_agent_ids; i++) {
        if (!o->agent_ids[i])
            rc = ruv__detail_set(RUV_E_INVAL, "agent_ids[%zu] is NULL", i);
        else if ((rc = ruv__pins_add_agent_id(pins, o->agent_ids[i])) != RUV_OK)
            rc = ruv__detail_prefix(rc, "options.agent_ids");
    }
    if (rc != RUV_OK) {
        ruv__pins_free(pins);
        return rc;
    }
    *out = pins;
    return RUV_OK;
}

static int a2a_verify_card(void *state, const char *json, size_t len,
                           const struct ruv_a2a_options *o, char **view,
                           char agent_id[RUV_A2A_AGENT_ID_SIZE])
{
    const struct ruv_host *host = ((struct a2a_state *)state)->host;
    if (view)
        *view = NULL;
    if (agent_id)
        agent_id[0] = '\0';
    if (!json)
        return host->set_error(RUV_E_INVAL, "a2a verify_card: json is NULL");
    if (o && (o->struct_size < RUV_A2A_OPTIONS_SIZE_V1 || o->reserved != 0))
        return host->set_error(RUV_E_INVAL,
                               "a2a verify_card: options.struct_size %u is below %zu or "
                               "reserved is not 0",
                               (unsigned)o->struct_size, (size_t)RUV_A2A_OPTIONS_SIZE_V1);
    struct ruv__pins *pins;
    int rc = pins_from_options(o, &pins);
    if (rc != RUV_OK)
        return forward(host, rc);
    int64_t now = o && o->now ? o->now : (int64_t)time(NULL);
    json_t *covered = NULL;
    struct ruv__card_verdict verdict;
    rc = ruv__card_verify(json, len, pins, now, view ? &covered : NULL, &verdict);
    ruv__pins_free(pins);
    if (rc != RUV_OK)
        return forward(host, rc);
    if (view) {
        size_t n;
        rc = ruv__jcs_serialize(covered, view, &n);
        json_decref(covered);
        if (rc != RUV_OK)
            return forward(host, rc);
    }
    if (agent_id && verdict.has_agent_id)
        memcpy(agent_id, verdict.agent_id, RUV_A2A_AGENT_ID_SIZE);
    return RUV_OK;
}

static void a2a_free_string(char *s) { free(s); }

static const struct ruv_a2a_ops a2a_ops = {
    .struct_size = sizeof(struct ruv_a2a_ops),
    .verify_card = a2a_verify_card,
    .free_string = a2a_free_string,
};

static const struct ruv_plugin a2a_plugin = {
    .struct_size = sizeof(struct ruv_plugin),
    .abi = RUV_PLUGIN_ABI,
    .name = "a2a",
    .version = A2A_PLUGIN_VERSION,
    .kind = RUV_PLUGIN_FEATURE,
    .caps = RUV_CAP_NETWORK | RUV_CAP_THREADSAFE,
    .init = a2a_init,
    .fini = a2a_fini,
    .self_test = a2a_self_test,
    .ops = &a2a_ops,
    .feature = RUV_FEATURE_A2A,
    .report = a2a_report,
};

RUV_PLUGIN_DEFINE(a2a, a2a_plugin)
