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

#include "budget.h"
#include "card_cache.h"
#include "client.h"
#include "curl_fit.h"
#include "detail.h"
#include "identity.h"
#include "io.h"
#include "jcs.h"
#include "options.h"
#include "selftest.h"
#include "verify.h"

#define A2A_PLUGIN_VERSION "0.1.0"

struct a2a_state {
    const struct ruv_host *host;
    char curl_version[32];
    char tls_backend[64];
    long open_clients;
    struct ruv__card_cache *cards;
    struct ruv__io *io; /* the I/O thread of the asynchronous calls (ops V3) */
};

/* Hands the a2a modules' detail for a failing status to the engine;
 * RUV_OK passes through. */
static int forward(const struct ruv_host *host, int status)
{
    if (status == RUV_OK)
        return RUV_OK;
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
    if (ruv__card_cache_new(&s->cards) != RUV_OK || ruv__io_new(&s->io) != RUV_OK) {
        ruv__card_cache_free(s->cards);
        curl_global_cleanup();
        free(s);
        return host->set_error(RUV_E_NOMEM, "a2a: out of memory");
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
    /* Joins the I/O thread (its calls end as canceled); the host frees
     * its clients before unloading the plugin. */
    ruv__io_free(((struct a2a_state *)state)->io);
    ruv__card_cache_free(((struct a2a_state *)state)->cards);
    curl_global_cleanup();
    free(state);
}

static int a2a_self_test(void *state)
{
    struct a2a_state *s = state;
    int rc = ruv__a2a_selftest_vectors();
    return forward(s->host, rc);
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
    emit(ctx, "protocols", "1.0 0.3 (JSON-RPC; blocking client; calls and streams on the I/O thread)");
    char n[24];
    long in_flight;
    emit(ctx, "io_thread", ruv__io_state(s->io, &in_flight));
    snprintf(n, sizeof n, "%ld", in_flight);
    emit(ctx, "io_in_flight", n);
    snprintf(n, sizeof n, "%ld", (long)__atomic_load_n(&s->open_clients, __ATOMIC_RELAXED));
    emit(ctx, "open_clients", n);
}

/* ---- verify_card ---- */

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
    int rc = ruv__a2a_pins_from_options(o, &pins);
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

/* ---- the blocking client (ops V2) ---- */

/* The caller's status record (cleared), or a local one when it gave none:
 * the fallback logic reads the JSON-RPC code from it. */
static struct ruv_a2a_call_status *status_record(struct ruv_a2a_call_status *st,
                                                 struct ruv_a2a_call_status *local)
{
    if (!st || st->struct_size < sizeof *st)
        st = local;
    memset(st, 0, sizeof *st);
    st->struct_size = sizeof *st;
    return st;
}

static int a2a_client_open(void *state, const char *base_url,
                           const struct ruv_a2a_client_options *o, struct ruv_a2a_client **out,
                           struct ruv_a2a_call_status *st)
{
    struct a2a_state *s = state;
    struct ruv_a2a_call_status local;
    st = status_record(st, &local);
    if (!out)
        return s->host->set_error(RUV_E_INVAL, "a2a client_open: out is NULL");
    int rc = ruv__client_open(base_url, o, s->cards, out, st);
    if (rc != RUV_OK)
        return forward(s->host, rc);
    (*out)->plugin_state = s;
    (*out)->io = s->io;
    __atomic_add_fetch(&s->open_clients, 1, __ATOMIC_RELAXED);
    return RUV_OK;
}

static void a2a_client_close(struct ruv_a2a_client *c)
{
    if (!c)
        return;
    struct a2a_state *s = c->plugin_state;
    ruv__client_close(c);
    __atomic_sub_fetch(&s->open_clients, 1, __ATOMIC_RELAXED);
}

static int a2a_client_info(struct ruv_a2a_client *c, char **json)
{
    if (!c || !json)
        return RUV_E_INVAL;
    struct a2a_state *s = c->plugin_state;
    int rc = ruv__client_info(c, json);
    return forward(s->host, rc);
}

static int a2a_call(struct ruv_a2a_client *c, uint32_t method, const char *params, size_t len,
                    const struct ruv_a2a_policy *policy, char **result,
                    struct ruv_a2a_call_status *st)
{
    if (!c || !result)
        return RUV_E_INVAL;
    struct a2a_state *s = c->plugin_state;
    struct ruv_a2a_call_status local;
    st = status_record(st, &local);
    int rc = ruv__client_call(c, method, params, len, policy, result, st);
    return forward(s->host, rc);
}

static int a2a_stream_open(struct ruv_a2a_client *c, uint32_t method, const char *params,
                           size_t len, const struct ruv_a2a_policy *policy,
                           struct ruv_a2a_stream **out, char **result,
                           struct ruv_a2a_call_status *st)
{
    if (!c || !out || !result)
        return RUV_E_INVAL;
    struct a2a_state *s = c->plugin_state;
    struct ruv_a2a_call_status local;
    st = status_record(st, &local);
    int rc = ruv__stream_open(c, method, params, len, policy, out, result, st);
    return forward(s->host, rc);
}

static int a2a_stream_next(struct ruv_a2a_stream *strm, char **event,
                           struct ruv_a2a_call_status *st)
{
    if (!strm || !event)
        return RUV_E_INVAL;
    struct a2a_state *s = ruv__stream_client(strm)->plugin_state;
    struct ruv_a2a_call_status local;
    st = status_record(st, &local);
    int rc = ruv__stream_next(strm, event, st);
    return forward(s->host, rc);
}

static int a2a_budget_new(void *state, const struct ruv_a2a_budget_options *o,
                          struct ruv_a2a_budget **out)
{
    struct a2a_state *s = state;
    if (!out)
        return s->host->set_error(RUV_E_INVAL, "a2a budget_new: out is NULL");
    int rc = ruv__budget_new(o, out);
    return forward(s->host, rc);
}

/* ---- asynchronous calls on the I/O thread (ops V3) ---- */

static int a2a_notify_fd(struct ruv_a2a_client *c)
{
    if (!c)
        return RUV_E_INVAL;
    struct a2a_state *s = c->plugin_state;
    int rc = RUV_OK;
    if (c->evq && ruv__evq_forked(c->evq))
        rc = ruv__detail_set(RUV_E_STATE, "this client belongs to the process that forked this "
                                          "one; open a new client here");
    else if (!c->evq)
        rc = ruv__evq_new(s->io, &c->evq);
    if (rc != RUV_OK)
        return forward(s->host, rc);
    return ruv__evq_fd(c->evq);
}

/* call_submit and stream_submit: the checks and the status record are the
 * same, only the submitter differs. */
static int submit_with(int (*submit)(struct ruv_a2a_client *, uint32_t, const char *, size_t,
                                     const struct ruv_a2a_policy *, uint64_t *,
                                     struct ruv_a2a_call_status *),
                       struct ruv_a2a_client *c, uint32_t method, const char *params,
                       size_t len, const struct ruv_a2a_policy *policy, uint64_t *req,
                       struct ruv_a2a_call_status *st)
{
    if (!c || !req)
        return RUV_E_INVAL;
    struct a2a_state *s = c->plugin_state;
    struct ruv_a2a_call_status local;
    st = status_record(st, &local);
    *req = 0;
    return forward(s->host, submit(c, method, params, len, policy, req, st));
}

static int a2a_call_submit(struct ruv_a2a_client *c, uint32_t method, const char *params,
                           size_t len, const struct ruv_a2a_policy *policy, uint64_t *req,
                           struct ruv_a2a_call_status *st)
{
    return submit_with(ruv__async_submit, c, method, params, len, policy, req, st);
}

static size_t a2a_poll(struct ruv_a2a_client *c, struct ruv_a2a_event *out, size_t max)
{
    if (!c || !out)
        return 0;
    return ruv__async_poll(c, out, max);
}

static void a2a_release(struct ruv_a2a_client *c, struct ruv_a2a_event *ev, size_t n)
{
    (void)c;
    if (ev)
        ruv__async_release(ev, n);
}

static void a2a_abort(struct ruv_a2a_client *c, uint64_t req)
{
    if (c && c->evq && !ruv__evq_forked(c->evq))
        ruv__evq_abort(c->evq, req);
}

static int a2a_wait(struct ruv_a2a_client *c, int timeout_ms)
{
    if (!c)
        return RUV_E_INVAL;
    struct a2a_state *s = c->plugin_state;
    if (!c->evq || ruv__evq_forked(c->evq))
        return forward(s->host, ruv__detail_set(RUV_E_STATE, "a2a wait: no call was submitted "
                                                             "by this process"));
    int rc = ruv__evq_wait(c->evq, timeout_ms);
    return rc < 0 ? forward(s->host, rc) : rc;
}

static int a2a_stream_submit(struct ruv_a2a_client *c, uint32_t method, const char *params,
                             size_t len, const struct ruv_a2a_policy *policy, uint64_t *req,
                             struct ruv_a2a_call_status *st)
{
    return submit_with(ruv__astream_submit, c, method, params, len, policy, req, st);
}

static void a2a_credit(struct ruv_a2a_client *c, uint64_t req, uint32_t n)
{
    if (c && c->evq && !ruv__evq_forked(c->evq))
        ruv__evq_credit(c->evq, req, n);
}

/* ---- connecting on the I/O thread (ops V4) ---- */

static int a2a_client_open_submit(void *state, const char *base_url,
                                  const struct ruv_a2a_client_options *o,
                                  struct ruv_a2a_client **out, uint64_t *req,
                                  struct ruv_a2a_call_status *st)
{
    struct a2a_state *s = state;
    struct ruv_a2a_call_status local;
    st = status_record(st, &local);
    if (!out || !req)
        return s->host->set_error(RUV_E_INVAL, "a2a client_open_submit: out or req is NULL");
    *out = NULL;
    *req = 0;
    struct ruv_a2a_client *c = NULL;
    int rc = ruv__client_new(base_url, o, &c, st);
    if (rc != RUV_OK)
        return forward(s->host, rc);
    c->plugin_state = s;
    c->io = s->io;
    rc = ruv__adiscover_submit(c, base_url, o, s->cards, req, st);
    if (rc != RUV_OK) {
        ruv__client_close(c);
        return forward(s->host, rc);
    }
    *out = c;
    __atomic_add_fetch(&s->open_clients, 1, __ATOMIC_RELAXED);
    return RUV_OK;
}

static const struct ruv_a2a_ops a2a_ops = {
    .struct_size = sizeof(struct ruv_a2a_ops),
    .verify_card = a2a_verify_card,
    .free_string = a2a_free_string,
    .client_open = a2a_client_open,
    .client_close = a2a_client_close,
    .client_info = a2a_client_info,
    .call = a2a_call,
    .stream_open = a2a_stream_open,
    .stream_next = a2a_stream_next,
    .stream_close = ruv__stream_close,
    .budget_new = a2a_budget_new,
    .budget_free = ruv__budget_free,
    .notify_fd = a2a_notify_fd,
    .call_submit = a2a_call_submit,
    .poll = a2a_poll,
    .release = a2a_release,
    .abort = a2a_abort,
    .wait = a2a_wait,
    .stream_submit = a2a_stream_submit,
    .credit = a2a_credit,
    .client_open_submit = a2a_client_open_submit,
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
