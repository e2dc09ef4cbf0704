/* plugins/a2a/discover.c — the rules of card discovery as a state machine
 * over GETs (discover.h); the transfers are the caller's. */
#include "config.h"
#include "discover.h"
#include "card_cache.h"
#include "detail.h"
#include "identity.h"
#include "json_in.h"
#include "jwks.h"
#include "jws.h"
#include "options.h"
#include "origin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CARD_CAP ((size_t)1 << 20)
#define JWKS_KEY_PREFIX "jwks " /* JWKS entries share the cache; card URLs never start so */

enum phase { PH_CARD, PH_JWKS, PH_DONE };

struct ruv__discover {
    enum phase phase;
    struct ruv__card_cache *cache;
    struct ruv__pins *pins;
    int64_t now;
    uint32_t flags;
    char **trusted_jku;
    size_t n_trusted_jku;
    char *base;       /* base_url without trailing slashes */
    int path;         /* 0: agent-card.json, 1: agent.json */
    /* The document being fetched: the URL asked for (the cache key, whose
     * origin redirects must keep) and the URL of the next GET. */
    char *asked, *url;
    int redirects;
    char *cached;     /* a stale entry being revalidated, or NULL */
    size_t cached_len;
    char etag[RUV__ETAG_MAX];
    char inm[RUV__ETAG_MAX + 32];
    /* The card, kept while its JWKS is fetched, and how to cache it. */
    char *card_body;
    size_t card_len;
    char card_etag[RUV__ETAG_MAX];
    long card_ttl; /* -1: do not store */
    char *card_url;
    char kid[RUV__JWS_KID_MAX + 1]; /* the kid the JWKS must hold */
    int jku_tried;
    /* The outcome. */
    int rc;
    uint32_t error;
    char detail[512];
    json_t *view;
    struct ruv__card_verdict verdict;
    int verified;
};

static void fail(struct ruv__discover *d, int rc, uint32_t error)
{
    d->phase = PH_DONE;
    d->rc = rc;
    d->error = error;
    snprintf(d->detail, sizeof d->detail, "%s", ruv__detail_get());
}

static char *dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

int ruv__discover_new(const char *base_url, const struct ruv_a2a_client_options *o,
                      struct ruv__card_cache *cache, struct ruv__discover **out)
{
    *out = NULL;
    struct ruv__discover *d = calloc(1, sizeof *d);
    if (!d)
        return ruv__detail_set(RUV_E_NOMEM, "out of memory");
    const struct ruv_a2a_options *v = o ? o->verify : NULL;
    d->cache = cache;
    d->flags = o ? o->flags : 0;
    d->now = v && v->now ? v->now : (int64_t)time(NULL);
    d->card_ttl = -1;
    size_t blen = strlen(base_url);
    while (blen && base_url[blen - 1] == '/')
        blen--;
    int rc = (d->base = dup_n(base_url, blen)) ? RUV_OK
                                                : ruv__detail_set(RUV_E_NOMEM, "out of memory");
    if (rc == RUV_OK)
        rc = ruv__a2a_pins_from_options(v, &d->pins);
    if (rc == RUV_OK && v && v->struct_size >= RUV_A2A_OPTIONS_SIZE_V2 && v->n_trusted_jku) {
        if (!v->trusted_jku)
            rc = ruv__detail_set(RUV_E_INVAL, "trusted_jku is NULL with n_trusted_jku %zu",
                                 v->n_trusted_jku);
        else if (!(d->trusted_jku = calloc(v->n_trusted_jku, sizeof *d->trusted_jku)))
            rc = ruv__detail_set(RUV_E_NOMEM, "out of memory");
        for (size_t i = 0; rc == RUV_OK && i < v->n_trusted_jku; i++, d->n_trusted_jku++) {
            if (!v->trusted_jku[i])
                rc = ruv__detail_set(RUV_E_INVAL, "trusted_jku[%zu] is NULL", i);
            else if (!(d->trusted_jku[i] = strdup(v->trusted_jku[i])))
                rc = ruv__detail_set(RUV_E_NOMEM, "out of memory");
        }
    }
    if (rc != RUV_OK) {
        ruv__discover_free(d);
        return rc;
    }
    *out = d;
    return RUV_OK;
}

static void forget_document(struct ruv__discover *d)
{
    free(d->asked);
    free(d->url);
    free(d->cached);
    d->asked = d->url = d->cached = NULL;
    d->redirects = 0;
    d->etag[0] = '\0';
}

void ruv__discover_free(struct ruv__discover *d)
{
    if (!d)
        return;
    forget_document(d);
    ruv__pins_free(d->pins);
    for (size_t i = 0; i < d->n_trusted_jku; i++)
        free(d->trusted_jku[i]);
    free(d->trusted_jku);
    free(d->base);
    free(d->card_body);
    free(d->card_url);
    json_decref(d->view);
    free(d);
}

/* ---- verification ---- */

static int is_rvagent_card(json_t *card)
{
    json_t *meta = json_object_get(card, "metadata");
    json_t *auth = json_object_get(card, "authentication");
    return json_object_get(meta, "ruvector") && json_object_get(auth, "schemes") &&
           !json_object_get(card, "supportedInterfaces") &&
           !json_object_get(card, "protocolVersion");
}

/* The first signature naming a jku whose kid has no pin: 1 with its jku
 * copied into d->url and kid into d->kid; 0 when there is none. A header
 * that does not parse is skipped here (verification already said why). */
static int find_jku(struct ruv__discover *d, json_t *raw, char **jku)
{
    size_t i;
    json_t *sig;
    json_array_foreach(json_object_get(raw, "signatures"), i, sig)
    {
        if (i >= 16)
            break;
        json_t *prot = json_object_get(sig, "protected");
        struct ruv__jws_header hdr;
        EVP_PKEY *pinned = NULL;
        if (!json_is_string(prot) ||
            ruv__jws_parse_protected(json_string_value(prot), json_string_length(prot), &hdr) !=
                RUV_OK ||
            !hdr.has_jku || ruv__pins_key(d->pins, hdr.kid, d->now, &pinned) != RUV_E_NOTFOUND)
            continue;
        memcpy(d->kid, hdr.kid, sizeof d->kid);
        *jku = strdup(hdr.jku);
        return 1;
    }
    return 0;
}

static void store_card(struct ruv__discover *d)
{
    if (d->cache && d->card_ttl >= 0)
        ruv__card_cache_put(d->cache, d->card_url, d->card_body, d->card_len, d->card_etag,
                            d->card_ttl);
}

/* Verifies d->card_body with the pins as they are now; on a signature
 * failure the first time, moves to the jku's JWKS when a signature names
 * one for an unpinned kid. */
static void verify_card(struct ruv__discover *d)
{
    json_t *raw = NULL;
    int rc = ruv__json_parse(d->card_body, d->card_len, &ruv__json_card_limits, &raw);
    if (rc != RUV_OK) {
        ruv__detail_prefix(RUV_E_PROTOCOL, "agent card %s", d->card_url);
        fail(d, RUV_E_PROTOCOL, RUV_A2A_ERR_DISCOVERY);
        return;
    }
    if (is_rvagent_card(raw)) {
        json_decref(raw);
        ruv__detail_set(RUV_E_PROTOCOL,
                        "peer speaks the rvagent-a2a pre-v0.2 dialect; not supported");
        fail(d, RUV_E_PROTOCOL, RUV_A2A_ERR_VERSION);
        return;
    }
    rc = ruv__card_verify(d->card_body, d->card_len, d->pins, d->now, &d->view, &d->verdict);
    if (rc == RUV_OK) {
        json_decref(raw);
        d->verified = 1;
        d->phase = PH_DONE;
        d->rc = RUV_OK;
        store_card(d); /* only a card that verified is kept */
        return;
    }
    char *jku = NULL;
    if (rc == RUV_E_SECURITY && !d->jku_tried && find_jku(d, raw, &jku)) {
        d->jku_tried = 1;
        json_decref(raw);
        if (!jku) {
            ruv__detail_set(RUV_E_NOMEM, "out of memory");
            fail(d, RUV_E_NOMEM, RUV_A2A_ERR_NONE);
            return;
        }
        if (ruv__origin_check_jku(d->card_url, jku, (const char *const *)d->trusted_jku,
                                  d->n_trusted_jku) != RUV_OK) {
            free(jku);
            ruv__detail_prefix(RUV_E_SECURITY, "agent card %s", d->card_url);
            fail(d, RUV_E_SECURITY, RUV_A2A_ERR_SIGNATURE);
            return;
        }
        forget_document(d);
        size_t n = strlen(jku) + sizeof JWKS_KEY_PREFIX;
        d->url = jku;
        if (!(d->asked = malloc(n))) {
            ruv__detail_set(RUV_E_NOMEM, "out of memory");
            fail(d, RUV_E_NOMEM, RUV_A2A_ERR_NONE);
            return;
        }
        snprintf(d->asked, n, "%s%s", JWKS_KEY_PREFIX, jku);
        d->phase = PH_JWKS;
        return;
    }
    if (rc == RUV_E_SECURITY && (d->flags & RUV_A2A_UNSIGNED_OK)) {
        /* Tests only: the unverified card, cut to the schema like a signed one. */
        memset(&d->verdict, 0, sizeof d->verdict);
        if (ruv__card_strip_for_signing(raw) == RUV_OK) {
            d->view = raw;
            d->phase = PH_DONE;
            d->rc = RUV_OK;
            return;
        }
    }
    json_decref(raw);
    ruv__detail_prefix(rc, "agent card %s", d->card_url);
    fail(d, rc, rc == RUV_E_SECURITY ? RUV_A2A_ERR_SIGNATURE : RUV_A2A_ERR_DISCOVERY);
}

/* The JWKS arrived (from the network or the cache): its key for d->kid
 * joins the pins, and the card is verified again. */
static void take_jwks(struct ruv__discover *d, const char *body, size_t len)
{
    EVP_PKEY *key = NULL;
    int rc = ruv__jwks_find(body, len, d->kid, &key);
    if (rc == RUV_OK && !d->pins)
        rc = ruv__pins_new(&d->pins);
    if (rc == RUV_OK)
        rc = ruv__pins_add_key(d->pins, d->kid, key, 0, 0); /* takes key */
    else
        EVP_PKEY_free(key);
    if (rc != RUV_OK) {
        ruv__detail_prefix(rc, "agent card %s: jku %s", d->card_url, d->url);
        fail(d, rc == RUV_E_NOMEM ? rc : RUV_E_SECURITY,
             rc == RUV_E_NOMEM ? RUV_A2A_ERR_NONE : RUV_A2A_ERR_SIGNATURE);
        return;
    }
    forget_document(d);
    verify_card(d);
}

/* A whole card or JWKS body in hand (fetched, revalidated or cached). */
static void take_document(struct ruv__discover *d, char *body, size_t len, const char *etag,
                          long ttl)
{
    if (d->phase == PH_JWKS) {
        if (ttl >= 0 && d->cache)
            ruv__card_cache_put(d->cache, d->asked, body, len, etag, ttl);
        take_jwks(d, body, len);
        free(body);
        return;
    }
    free(d->card_body);
    d->card_body = body;
    d->card_len = len;
    snprintf(d->card_etag, sizeof d->card_etag, "%s", etag);
    d->card_ttl = ttl;
    free(d->card_url);
    d->card_url = d->asked;
    d->asked = NULL;
    forget_document(d);
    verify_card(d);
}

int ruv__discover_next(struct ruv__discover *d, struct ruv__discover_get *get)
{
    static const char *const paths[] = {"/.well-known/agent-card.json", "/.well-known/agent.json"};
    for (;;) {
        if (d->phase == PH_DONE)
            return 0;
        if (d->phase == PH_CARD && !d->asked) {
            size_t n = strlen(d->base) + strlen(paths[d->path]) + 1;
            if (!(d->asked = malloc(n)) || !(d->url = malloc(n))) {
                ruv__detail_set(RUV_E_NOMEM, "out of memory");
                fail(d, RUV_E_NOMEM, RUV_A2A_ERR_NONE);
                continue;
            }
            snprintf(d->asked, n, "%s%s", d->base, paths[d->path]);
            memcpy(d->url, d->asked, n);
        }
        if (!d->redirects && !d->cached && d->cache) {
            int fresh = 0;
            if (ruv__card_cache_get(d->cache, d->asked, &d->cached, &d->cached_len, d->etag,
                                    &fresh) == RUV_OK) {
                if (fresh) { /* its TTL runs from the response that brought it */
                    char *body = d->cached;
                    d->cached = NULL;
                    take_document(d, body, d->cached_len, d->etag, -1);
                    continue;
                }
                if (!d->etag[0]) {
                    free(d->cached);
                    d->cached = NULL;
                }
            }
        }
        get->url = d->url;
        get->cap = d->phase == PH_JWKS ? RUV__JWKS_CAP : CARD_CAP;
        get->extra_header = NULL;
        if (d->cached && !d->redirects) {
            snprintf(d->inm, sizeof d->inm, "If-None-Match: %s", d->etag);
            get->extra_header = d->inm;
        }
        return 1;
    }
}

/* A 3xx: the next GET goes to its Location when it stays on the origin
 * asked for and the count allows; else discovery fails. */
static void follow(struct ruv__discover *d, struct ruv__http_resp *resp)
{
    const char *asked = d->asked + (d->phase == PH_JWKS ? sizeof JWKS_KEY_PREFIX - 1 : 0);
    struct ruv__origin want, got;
    int rc = RUV_OK;
    if (!resp->redirect_url)
        rc = ruv__detail_set(RUV_E_PROTOCOL, "HTTP %ld without a Location", resp->status);
    else if (++d->redirects > RUV__DISCOVER_MAX_REDIRECTS)
        rc = ruv__detail_set(RUV_E_PROTOCOL, "more than %d redirects",
                             RUV__DISCOVER_MAX_REDIRECTS);
    else if (ruv__origin_of(asked, &want) != RUV_OK || ruv__origin_of(resp->redirect_url, &got) !=
                                                           RUV_OK ||
             strcmp(want.scheme, got.scheme) != 0 || strcmp(want.host, got.host) != 0 ||
             want.port != got.port)
        rc = ruv__detail_set(RUV_E_SECURITY, "a redirect to another origin (%.200s) is refused",
                             resp->redirect_url);
    if (rc != RUV_OK) {
        ruv__detail_prefix(rc, "%s %s", d->phase == PH_JWKS ? "jku" : "agent card", asked);
        fail(d, rc, d->phase == PH_JWKS ? RUV_A2A_ERR_SIGNATURE
                    : rc == RUV_E_SECURITY ? RUV_A2A_ERR_URL
                                           : RUV_A2A_ERR_DISCOVERY);
        return;
    }
    free(d->url);
    d->url = resp->redirect_url;
    resp->redirect_url = NULL;
    free(d->cached); /* a revalidation does not follow a redirect */
    d->cached = NULL;
}

void ruv__discover_feed(struct ruv__discover *d, int rc, struct ruv__http_resp *resp,
                        const struct ruv_a2a_call_status *st)
{
    const char *what = d->phase == PH_JWKS ? "fetching jku" : "fetching";
    if (rc != RUV_OK) {
        ruv__http_resp_free(resp);
        ruv__detail_prefix(rc, "%s %s", what, d->url);
        fail(d, rc, st ? st->error : RUV_A2A_ERR_TRANSPORT);
        return;
    }
    long status = resp->status;
    if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
        follow(d, resp);
        ruv__http_resp_free(resp);
        return;
    }
    if (status == 304 && d->cached) {
        long ttl = resp->no_store ? -1 : ruv__card_cache_ttl(resp->max_age_s, d->etag);
        char *body = d->cached;
        d->cached = NULL;
        ruv__http_resp_free(resp);
        take_document(d, body, d->cached_len, d->etag, ttl); /* the 304 renews the entry */
        return;
    }
    int json_type = strstr(resp->content_type, "json") != NULL;
    if (d->phase == PH_CARD && d->path == 0 &&
        (status == 404 || (status / 100 == 2 && !json_type))) {
        ruv__http_resp_free(resp);
        forget_document(d);
        d->path = 1;
        return;
    }
    if (status / 100 != 2) {
        ruv__http_resp_free(resp);
        int jwks = d->phase == PH_JWKS;
        ruv__detail_set(jwks ? RUV_E_SECURITY : RUV_E_PROTOCOL, "%s %s: HTTP %ld",
                        jwks ? "jku" : "agent card", d->url, status);
        fail(d, jwks ? RUV_E_SECURITY : RUV_E_PROTOCOL,
             jwks ? RUV_A2A_ERR_SIGNATURE : RUV_A2A_ERR_DISCOVERY);
        return;
    }
    long ttl = resp->no_store ? -1 : ruv__card_cache_ttl(resp->max_age_s, resp->etag);
    char etag[RUV__ETAG_MAX];
    snprintf(etag, sizeof etag, "%s", resp->etag);
    char *body = resp->body.data ? resp->body.data : strdup("");
    size_t len = resp->body.len;
    resp->body.data = NULL;
    ruv__http_resp_free(resp);
    if (!body) {
        ruv__detail_set(RUV_E_NOMEM, "out of memory");
        fail(d, RUV_E_NOMEM, RUV_A2A_ERR_NONE);
        return;
    }
    take_document(d, body, len, etag, ttl);
}

int ruv__discover_result(struct ruv__discover *d, json_t **card,
                         struct ruv__card_verdict *verdict, int *verified, char **card_url,
                         struct ruv_a2a_call_status *st)
{
    *card = NULL;
    *card_url = NULL;
    if (d->phase != PH_DONE)
        return ruv__detail_set(RUV_E_STATE, "discovery is not finished");
    if (d->rc != RUV_OK) {
        if (st)
            st->error = d->error;
        return ruv__detail_set(d->rc, "%s", d->detail);
    }
    *card = d->view;
    d->view = NULL;
    *verdict = d->verdict;
    *verified = d->verified;
    *card_url = d->card_url;
    d->card_url = NULL;
    return RUV_OK;
}
