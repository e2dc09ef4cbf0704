/* plugins/a2a/client.c — discovery, card verification, interface choice
 * and unary JSON-RPC calls (a2a.md §1, §2, §4), blocking in the caller. */
#include "config.h"
#include "client.h"
#include "detail.h"
#include "io.h"
#include "budget.h"
#include "card_cache.h"
#include "concurrency.h"
#include "dialect.h"
#include "discover.h"
#include "json_in.h"
#include "jsonrpc.h"
#include "options.h"
#include "origin.h"
#include "policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEF_BODY_CAP ((size_t)16 << 20)
#define DEF_EVENT_CAP ((size_t)4 << 20)

void ruv__client_close(struct ruv_a2a_client *c)
{
    if (!c)
        return;
    ruv__evq_close(c->evq); /* aborts its calls in flight; never waits */
    free(c->http.ca_file);
    free(c->http.authorization);
    free(c->http.proxy);
    free(c->card_url);
    free(c->endpoint);
    free(c->v03_endpoint);
    free(c->tenant);
    json_decref(c->card);
    free(c);
}

static int config_from_options(struct ruv_a2a_client *c, const struct ruv_a2a_client_options *o)
{
    struct ruv__http_cfg *h = &c->http;
    h->connect_timeout_ms = 10000;
    h->unary_timeout_ms = 60000;
    h->idle_timeout_ms = 60000;
    h->event_timeout_ms = 60000;
    h->max_body = DEF_BODY_CAP;
    h->max_event = DEF_EVENT_CAP;
    if (!o)
        return RUV_OK;
    if (o->struct_size < RUV_A2A_CLIENT_OPTIONS_SIZE_V1 || o->reserved)
        return ruv__detail_set(RUV_E_INVAL,
                               "client options: struct_size %u is below %zu or a reserved "
                               "field is not 0",
                               (unsigned)o->struct_size, (size_t)RUV_A2A_CLIENT_OPTIONS_SIZE_V1);
    if (o->protocol > RUV_A2A_PROTO_V03)
        return ruv__detail_set(RUV_E_INVAL, "client options: unknown protocol %u",
                               (unsigned)o->protocol);
    if (o->flags &
        ~(RUV_A2A_INSECURE_TLS | RUV_A2A_ALLOW_HTTP | RUV_A2A_UNSIGNED_OK | RUV_A2A_COMPRESSION))
        return ruv__detail_set(RUV_E_INVAL, "client options: unknown flags 0x%x",
                               (unsigned)o->flags);
    if (o->connect_timeout_ms < 0 || o->unary_timeout_ms < 0 || o->idle_timeout_ms < 0 ||
        o->event_timeout_ms < 0)
        return ruv__detail_set(RUV_E_INVAL, "client options: a negative timeout");
    c->flags = o->flags;
    c->protocol = o->protocol;
    h->insecure_tls = (o->flags & RUV_A2A_INSECURE_TLS) != 0;
    h->compression = (o->flags & RUV_A2A_COMPRESSION) != 0;
    if (o->connect_timeout_ms)
        h->connect_timeout_ms = o->connect_timeout_ms;
    if (o->unary_timeout_ms)
        h->unary_timeout_ms = o->unary_timeout_ms;
    if (o->idle_timeout_ms)
        h->idle_timeout_ms = o->idle_timeout_ms;
    if (o->event_timeout_ms)
        h->event_timeout_ms = o->event_timeout_ms;
    if (o->max_body_bytes)
        h->max_body = (size_t)o->max_body_bytes;
    if (o->max_event_bytes)
        h->max_event = (size_t)o->max_event_bytes;
    if (o->ca_file && !(h->ca_file = strdup(o->ca_file)))
        return ruv__detail_set(RUV_E_NOMEM, "out of memory");
    const char *proxy = o->struct_size >= offsetof(struct ruv_a2a_client_options, proxy) +
                                               sizeof o->proxy
                            ? o->proxy
                            : NULL;
    if (proxy && proxy[0]) {
        if (strpbrk(proxy, "\r\n"))
            return ruv__detail_set(RUV_E_INVAL, "proxy holds a line break");
        if (!(h->proxy = strdup(proxy)))
            return ruv__detail_set(RUV_E_NOMEM, "out of memory");
    }
    if (o->authorization) {
        if (strpbrk(o->authorization, "\r\n"))
            return ruv__detail_set(RUV_E_INVAL, "authorization holds a line break");
        size_t n = strlen(o->authorization) + sizeof "Authorization: ";
        if (!(h->authorization = malloc(n)))
            return ruv__detail_set(RUV_E_NOMEM, "out of memory");
        snprintf(h->authorization, n, "Authorization: %s", o->authorization);
    }
    return RUV_OK;
}

/* ---- discovery ---- */

/* The blocking driver of discover.c: each GET with the retries of a2a.md §6. */
static int discover_blocking(struct ruv_a2a_client *c, const char *base_url,
                             const struct ruv_a2a_client_options *o,
                             struct ruv__card_cache *cache, struct ruv_a2a_call_status *st)
{
    struct ruv__discover *d = NULL;
    int rc = ruv__discover_new(base_url, o, cache, &d);
    if (rc != RUV_OK)
        return rc;
    struct ruv__discover_get get;
    while (ruv__discover_next(d, &get)) {
        struct ruv__http_resp resp;
        memset(&resp, 0, sizeof resp);
        rc = ruv__http_perform_retrying(&c->http, get.url, NULL, 0, 1, get.cap, 1,
                                        get.extra_header, &resp, st);
        ruv__discover_feed(d, rc, &resp, st);
    }
    rc = ruv__client_discovered(c, d, st);
    ruv__discover_free(d);
    return rc;
}

int ruv__client_discovered(struct ruv_a2a_client *c, struct ruv__discover *d,
                           struct ruv_a2a_call_status *st)
{
    char *card_url = NULL;
    json_t *card = NULL;
    int rc = ruv__discover_result(d, &card, &c->verdict, &c->verified, &card_url, st);
    if (rc != RUV_OK)
        return rc;
    json_decref(c->card);
    c->card = card;
    free(c->card_url);
    c->card_url = card_url;
    return ruv__client_choose_interface(c, st);
}

static int set_endpoint(char **slot, const char *url, const char *tenant, char **tenant_slot)
{
    if (!(*slot = strdup(url)))
        return ruv__detail_set(RUV_E_NOMEM, "out of memory");
    if (tenant_slot && tenant && tenant[0] && !(*tenant_slot = strdup(tenant)))
        return ruv__detail_set(RUV_E_NOMEM, "out of memory");
    return RUV_OK;
}

int ruv__client_choose_interface(struct ruv_a2a_client *c, struct ruv_a2a_call_status *st)
{
    const char *v1_url = NULL, *v1_tenant = NULL, *v03_url = NULL, *v03_tenant = NULL;
    size_t i;
    json_t *itf;
    json_array_foreach(json_object_get(c->card, "supportedInterfaces"), i, itf)
    {
        const char *binding = json_string_value(json_object_get(itf, "protocolBinding"));
        const char *ver = json_string_value(json_object_get(itf, "protocolVersion"));
        const char *url = json_string_value(json_object_get(itf, "url"));
        if (!binding || strcmp(binding, "JSONRPC") != 0 || !url || !ver)
            continue;
        if (!v1_url && ver[0] == '1' && (ver[1] == '\0' || ver[1] == '.')) {
            v1_url = url;
            v1_tenant = json_string_value(json_object_get(itf, "tenant"));
        } else if (!v03_url && strncmp(ver, "0.3", 3) == 0) {
            v03_url = url;
            v03_tenant = json_string_value(json_object_get(itf, "tenant"));
        }
    }
    /* A pure v0.3 card: url + protocolVersion 0.3.x (JSONRPC preferred). */
    const char *pv = json_string_value(json_object_get(c->card, "protocolVersion"));
    const char *pt = json_string_value(json_object_get(c->card, "preferredTransport"));
    const char *curl = json_string_value(json_object_get(c->card, "url"));
    if (!v03_url && curl && pv && strncmp(pv, "0.3", 3) == 0 && (!pt || strcmp(pt, "JSONRPC") == 0))
        v03_url = curl;
    int allow_http = (c->flags & RUV_A2A_ALLOW_HTTP) != 0;
    const char *urls[] = {v1_url, v03_url};
    for (size_t k = 0; k < 2; k++)
        if (urls[k] && ruv__origin_check_transport(urls[k], allow_http) != RUV_OK) {
            if (st)
                st->error = RUV_A2A_ERR_URL;
            return ruv__detail_prefix(RUV_E_SECURITY, "card interface");
        }
    int want_v1 = c->protocol != RUV_A2A_PROTO_V03 && v1_url;
    if (c->protocol == RUV_A2A_PROTO_V1 && !v1_url) {
        if (st)
            st->error = RUV_A2A_ERR_VERSION;
        return ruv__detail_set(RUV_E_PROTOCOL,
                               "protocol 1.0 was asked for, but the verified card declares no "
                               "JSONRPC interface with protocolVersion 1.x");
    }
    if (!want_v1 && !v03_url) {
        if (st)
            st->error = c->protocol == RUV_A2A_PROTO_V03 ? RUV_A2A_ERR_VERSION
                                                         : RUV_A2A_ERR_DISCOVERY;
        return ruv__detail_set(RUV_E_PROTOCOL,
                               "the verified card declares no JSONRPC interface with protocol "
                               "version %s",
                               c->protocol == RUV_A2A_PROTO_V03 ? "0.3" : "1.x or 0.3");
    }
    c->v1 = want_v1;
    int rc = want_v1 ? set_endpoint(&c->endpoint, v1_url, v1_tenant, &c->tenant)
                     : set_endpoint(&c->endpoint, v03_url, v03_tenant, &c->tenant);
    if (rc == RUV_OK && want_v1 && v03_url && c->protocol == RUV_A2A_PROTO_AUTO)
        rc = set_endpoint(&c->v03_endpoint, v03_url, NULL, NULL);
    return rc;
}

int ruv__client_new(const char *base_url, const struct ruv_a2a_client_options *o,
                    struct ruv_a2a_client **out, struct ruv_a2a_call_status *st)
{
    *out = NULL;
    if (!base_url)
        return ruv__detail_set(RUV_E_INVAL, "base_url is NULL");
    struct ruv_a2a_client *c = calloc(1, sizeof *c);
    if (!c)
        return ruv__detail_set(RUV_E_NOMEM, "out of memory");
    int rc = config_from_options(c, o);
    if (rc == RUV_OK && ruv__origin_check_transport(base_url, (c->flags & RUV_A2A_ALLOW_HTTP) != 0) !=
                            RUV_OK) {
        if (st)
            st->error = RUV_A2A_ERR_URL;
        rc = ruv__detail_prefix(RUV_E_SECURITY, "base_url");
    }
    if (rc == RUV_OK)
        rc = ruv__origin_of(base_url, &c->http.auth_origin);
    if (rc != RUV_OK) {
        ruv__client_close(c);
        return rc;
    }
    *out = c;
    return RUV_OK;
}

int ruv__client_open(const char *base_url, const struct ruv_a2a_client_options *o,
                     struct ruv__card_cache *cache, struct ruv_a2a_client **out,
                     struct ruv_a2a_call_status *st)
{
    struct ruv_a2a_client *c = NULL;
    int rc = ruv__client_new(base_url, o, &c, st);
    if (rc == RUV_OK)
        rc = discover_blocking(c, base_url, o, cache, st);
    if (rc != RUV_OK) {
        ruv__client_close(c);
        *out = NULL;
        return rc;
    }
    *out = c;
    return RUV_OK;
}

int ruv__client_info(struct ruv_a2a_client *c, char **json)
{
    *json = NULL;
    if (!c->endpoint)
        return ruv__detail_set(RUV_E_STATE, "the client is not connected: its discovery has not "
                                            "finished, or failed");
    json_t *info = json_pack("{s:O, s:s, s:b, s:s, s:s, s:s, s:s, s:s, s:b}", "card", c->card,
                             "agent_id", c->verdict.has_agent_id ? c->verdict.agent_id : "",
                             "verified", c->verified, "signed_by", c->verdict.signed_by,
                             "canonicalization", c->verdict.canonicalization,
                             "protocol_version", c->v1 ? "1.0" : "0.3", "endpoint", c->endpoint,
                             "card_url", c->card_url, "fell_back", c->fell_back);
    if (!info || !(*json = json_dumps(info, JSON_COMPACT))) {
        json_decref(info);
        return ruv__detail_set(RUV_E_NOMEM, "out of memory");
    }
    json_decref(info);
    return RUV_OK;
}

/* ---- calls ---- */

int ruv__client_prepare(struct ruv_a2a_client *c, uint32_t method, const char *params,
                        size_t len, const struct ruv_a2a_policy *policy, json_t **wire,
                        void **slot, struct ruv__budget_wait *bw,
                        struct ruv_a2a_call_status *st)
{
    *wire = NULL;
    *slot = NULL;
    if (bw)
        bw->budget = NULL;
    if (!c->endpoint)
        return ruv__detail_set(RUV_E_STATE, "the client is not connected: its discovery has not "
                                            "finished, or failed");
    if (!ruv__dialect_method(1, method))
        return ruv__detail_set(RUV_E_INVAL, "unknown method %u", (unsigned)method);
    int sends = method == RUV_A2A_SEND || method == RUV_A2A_SEND_STREAMING;
    if (policy && !sends)
        return ruv__detail_set(RUV_E_INVAL, "a policy applies to sends only");
    if (!params)
        return ruv__detail_set(RUV_E_INVAL, "params is NULL");
    json_t *p = NULL;
    int rc = ruv__json_parse(params, len, &ruv__json_rpc_limits, &p);
    if (rc != RUV_OK)
        return ruv__detail_prefix(RUV_E_INVAL, "params");
    /* The wire form first: a malformed request must not take a slot. */
    rc = ruv__dialect_params_out(c->v1, method, p);
    if (rc == RUV_OK && sends)
        rc = ruv__policy_check(policy, c->card, c->verdict.has_agent_id ? c->verdict.agent_id : "",
                               c->card_url, p, slot, bw, st);
    if (rc == RUV_OK && c->tenant)
        json_object_set_new(p, "tenant", json_string(c->tenant));
    if (rc != RUV_OK) {
        json_decref(p);
        return rc;
    }
    *wire = p;
    return RUV_OK;
}

int ruv__client_fall_back(struct ruv_a2a_client *c, int rc, char **result,
                          struct ruv_a2a_call_status *st)
{
    if (rc != RUV_E_REMOTE || !st || !c->v1 || c->fell_back || !c->v03_endpoint ||
        (st->rpc_code != -32601 && st->rpc_code != -32009))
        return 0;
    free(c->endpoint);
    c->endpoint = c->v03_endpoint;
    c->v03_endpoint = NULL;
    free(c->tenant);
    c->tenant = NULL;
    c->v1 = 0;
    c->fell_back = 1;
    free(*result);
    *result = NULL;
    memset((char *)st + sizeof st->struct_size, 0, sizeof *st - sizeof st->struct_size);
    return 1;
}

int ruv__client_reply(const char *body, size_t len, long http_status, const char *id,
                      struct ruv__rpc_reply *reply, char **error_json,
                      struct ruv_a2a_call_status *st)
{
    int rc = ruv__jsonrpc_decode(body ? body : "", len, id, reply);
    if (rc == RUV_E_REMOTE) {
        if (st) {
            st->error = RUV_A2A_ERR_REMOTE;
            st->rpc_code = reply->code;
        }
        if (error_json && !(*error_json = json_dumps(reply->error, JSON_COMPACT)))
            rc = ruv__detail_set(RUV_E_NOMEM, "out of memory");
        return rc;
    }
    if (http_status / 100 != 2) {
        ruv__rpc_reply_clear(reply);
        if (st)
            st->error = RUV_A2A_ERR_HTTP;
        return ruv__detail_set(RUV_E_REMOTE, "HTTP %ld without a JSON-RPC error", http_status);
    }
    if (rc != RUV_OK && st)
        st->error = rc == RUV_E_PROTOCOL ? RUV_A2A_ERR_PROTOCOL : st->error;
    return rc;
}

int ruv__client_call_once(struct ruv_a2a_client *c, uint32_t method, json_t *wire, char **result,
                          struct ruv_a2a_call_status *st)
{
    char id[RUV__UUID_SIZE], *body = NULL;
    size_t blen = 0;
    int rc = ruv__jsonrpc_request(ruv__dialect_method(c->v1, method), wire, id, &body, &blen);
    if (rc != RUV_OK)
        return rc;
    struct ruv__http_resp resp;
    rc = ruv__http_perform_retrying(&c->http, c->endpoint, body, blen, c->v1, c->http.max_body,
                                    method != RUV_A2A_SEND, NULL, &resp, st);
    free(body);
    if (rc != RUV_OK)
        return ruv__detail_prefix(rc, "%s", ruv__dialect_method(c->v1, method));
    struct ruv__rpc_reply reply;
    rc = ruv__client_reply(resp.body.data, resp.body.len, resp.status, id, &reply, result, st);
    ruv__http_resp_free(&resp);
    if (rc == RUV_OK) {
        json_t *norm = NULL;
        rc = ruv__dialect_result_in(c->v1, method, reply.result, &norm);
        if (rc == RUV_OK && !(*result = json_dumps(norm, JSON_COMPACT)))
            rc = ruv__detail_set(RUV_E_NOMEM, "out of memory");
        if (rc == RUV_E_PROTOCOL && st)
            st->error = RUV_A2A_ERR_PROTOCOL;
        json_decref(norm);
    }
    ruv__rpc_reply_clear(&reply);
    return rc;
}

int ruv__client_call(struct ruv_a2a_client *c, uint32_t method, const char *params, size_t len,
                     const struct ruv_a2a_policy *policy, char **result,
                     struct ruv_a2a_call_status *st)
{
    *result = NULL;
    if (method != RUV_A2A_SEND && method != RUV_A2A_GET && method != RUV_A2A_CANCEL)
        return ruv__detail_set(RUV_E_INVAL, "call: method %u is not a unary call",
                               (unsigned)method);
    for (;;) { /* a second pass only after the one fallback to v0.3 */
        json_t *wire = NULL;
        void *slot = NULL;
        int rc = ruv__client_prepare(c, method, params, len, policy, &wire, &slot, NULL, st);
        if (rc != RUV_OK)
            return rc;
        rc = ruv__client_call_once(c, method, wire, result, st);
        json_decref(wire);
        ruv__concurrency_release(slot);
        if (ruv__client_fall_back(c, rc, result, st))
            continue;
        return rc;
    }
}
