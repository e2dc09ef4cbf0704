/* plugins/a2a/async.c — unary calls on the I/O thread (ops V3): the
 * caller's thread runs the pre-flight and builds the request and its easy
 * handle; the I/O thread (io.c) runs the transfer and, through
 * ruv__async_done, the a2a.md §6 retry rules and the decoding of the reply
 * that the blocking path (client.c, http.c) applies; poll hands the
 * results to the host and resends a v1.0 call once over v0.3 when the
 * verified card allows it, as ruv__client_call does. */
#include "config.h"
#include "io.h"
#include "client.h"
#include "clock.h"
#include "concurrency.h"
#include "detail.h"
#include "dialect.h"
#include "policy_keep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ruv__op_free(struct ruv__op *op)
{
    if (!op)
        return;
    curl_easy_cleanup(op->h);
    curl_slist_free_all(op->headers);
    free(op->body);
    free(op->params);
    ruv__http_resp_free(&op->resp);
    ruv__concurrency_release(op->slot);
    ruv__budget_leave_queue(&op->bw); /* aborted while queued */
    ruv__astream_free(op->stream);
    ruv__adisc_free(op->discover);
    ruv__kept_policy_free(op->policy);
    free(op->sizes);
    free(op);
}

static void reset_resp(struct ruv__op *op)
{
    size_t cap = op->resp.body.cap_bytes;
    ruv__http_resp_free(&op->resp);
    op->resp.retry_after_s = -1;
    op->resp.max_age_s = -1;
    op->resp.body.cap_bytes = cap;
}

/* The easy handle of a JSON-RPC POST of op->body to the client's endpoint. */
static int build_transfer(struct ruv_a2a_client *c, struct ruv__op *op, size_t blen)
{
    if (!(op->h = curl_easy_init()) ||
        !(op->headers = ruv__http_rpc_headers(&c->http, c->endpoint, op->v1)))
        return ruv__detail_set(RUV_E_NOMEM, "out of memory");
    reset_resp(op);
    int rc = ruv__http_easy_setup(op->h, &c->http, c->endpoint, &op->resp, c->http.max_body, 0);
    if (rc == RUV_OK &&
        (curl_easy_setopt(op->h, CURLOPT_HTTPHEADER, op->headers) != CURLE_OK ||
         curl_easy_setopt(op->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen) != CURLE_OK ||
         curl_easy_setopt(op->h, CURLOPT_POSTFIELDS, op->body) != CURLE_OK))
        rc = ruv__detail_set(RUV_E_INVAL, "curl setup of the POST failed");
    return rc;
}

int ruv__async_ready(struct ruv_a2a_client *c)
{
    if (c->evq && ruv__evq_forked(c->evq))
        return ruv__detail_set(RUV_E_STATE, "this client belongs to the process that forked "
                                            "this one; open a new client here");
    int rc = RUV_OK;
    if (!c->evq)
        rc = ruv__evq_new(c->io, &c->evq);
    return rc;
}

int ruv__async_hand_over(struct ruv_a2a_client *c, struct ruv__op *op, uint64_t *req)
{
    uint64_t id = *req ? *req : ruv__evq_next_req(c->evq);
    op->req = id;
    ruv__evq_track(c->evq, op);
    int rc = ruv__io_submit(c->io, op); /* from here op is the I/O thread's */
    if (rc != RUV_OK) {
        ruv__evq_untrack(op);
        return rc;
    }
    *req = id;
    return RUV_OK;
}

int ruv__op_keep_params(const struct ruv_a2a_client *c, struct ruv__op *op, const char *params,
                        size_t len)
{
    if (!(c->v1 && c->v03_endpoint && !c->fell_back))
        return RUV_OK;
    if (!(op->params = malloc(len + 1)))
        return ruv__detail_set(RUV_E_NOMEM, "out of memory");
    memcpy(op->params, params, len);
    op->params[len] = '\0';
    op->params_len = len;
    return RUV_OK;
}

int ruv__async_begin(struct ruv_a2a_client *c, uint32_t method, const char *params, size_t len,
                     const struct ruv_a2a_policy *policy, struct ruv_a2a_call_status *st,
                     struct ruv__op **op, json_t **wire)
{
    *op = NULL;
    *wire = NULL;
    int rc = ruv__async_ready(c);
    if (rc != RUV_OK)
        return rc;
    void *slot = NULL;
    struct ruv__budget_wait bw = {NULL, NULL, 0};
    rc = ruv__client_prepare(c, method, params, len, policy, wire, &slot, &bw, st);
    if (rc != RUV_OK)
        return rc;
    if (!(*op = calloc(1, sizeof **op))) {
        json_decref(*wire);
        *wire = NULL;
        ruv__concurrency_release(slot);
        ruv__budget_leave_queue(&bw);
        return ruv__detail_set(RUV_E_NOMEM, "out of memory");
    }
    (*op)->slot = slot; /* max_concurrency counts the op until it ends */
    (*op)->bw = bw;
    (*op)->method = method;
    (*op)->v1 = c->v1;
    /* a2a.md §5 for the one resend over v0.3: the pre-flight runs again. */
    if (policy && c->v1 && c->v03_endpoint && !c->fell_back &&
        (rc = ruv__policy_keep(policy, &(*op)->policy)) != RUV_OK) {
        json_decref(*wire);
        *wire = NULL;
        ruv__op_free(*op);
        *op = NULL;
        return rc;
    }
    return RUV_OK;
}

int ruv__async_submit(struct ruv_a2a_client *c, uint32_t method, const char *params, size_t len,
                      const struct ruv_a2a_policy *policy, uint64_t *req,
                      struct ruv_a2a_call_status *st)
{
    if (method != RUV_A2A_SEND && method != RUV_A2A_GET && method != RUV_A2A_CANCEL)
        return ruv__detail_set(RUV_E_INVAL, "call_submit: method %u is not a unary call",
                               (unsigned)method);
    struct ruv__op *op;
    json_t *wire;
    int rc = ruv__async_begin(c, method, params, len, policy, st, &op, &wire);
    if (rc != RUV_OK)
        return rc;
    op->idempotent = method != RUV_A2A_SEND;
    size_t blen = 0;
    rc = ruv__jsonrpc_request(ruv__dialect_method(c->v1, method), wire, op->id, &op->body, &blen);
    json_decref(wire);
    if (rc == RUV_OK)
        rc = ruv__op_keep_params(c, op, params, len);
    if (rc == RUV_OK)
        rc = build_transfer(c, op, blen);
    if (rc == RUV_OK)
        rc = ruv__async_hand_over(c, op, req);
    if (rc != RUV_OK)
        ruv__op_free(op);
    return rc;
}

struct ruv__ev_node *ruv__async_node(struct ruv__op *op, uint32_t kind, int status,
                                     uint32_t error, const char *detail, char *json)
{
    struct ruv__ev_node *n = calloc(1, sizeof *n);
    if (!n) {
        free(json);
        return NULL;
    }
    n->ev.struct_size = sizeof n->ev;
    n->ev.kind = kind;
    n->json = json;
    if (json) {
        n->ev.json = json;
        n->ev.json_len = strlen(json);
    }
    n->ev.req = op->req;
    n->ev.method = op->method;
    if (kind != RUV_A2A_EV_STREAM) { /* the op's last event */
        ruv__concurrency_release(op->slot);
        op->slot = NULL;
        n->policy = op->policy;
        op->policy = NULL;
    }
    n->ev.status = status;
    n->ev.error = error;
    n->v1 = op->v1;
    if (status != RUV_OK)
        snprintf(n->detail, sizeof n->detail, "%s", detail);
    n->ev.detail = n->detail;
    return n;
}

struct ruv__ev_node *ruv__async_event(struct ruv__op *op, int status, uint32_t error,
                                      const char *detail)
{
    return ruv__async_node(op, op->stream ? RUV_A2A_EV_END : RUV_A2A_EV_RESULT, status, error,
                           detail, NULL);
}

/* The reply of a finished transfer, decoded as ruv__client_call_once does. */
static struct ruv__ev_node *decode(struct ruv__op *op, struct ruv_a2a_call_status *st)
{
    char *json = NULL;
    struct ruv__rpc_reply reply;
    int rc = ruv__client_reply(op->resp.body.data, op->resp.body.len, op->resp.status, op->id,
                               &reply, &json, st);
    if (rc == RUV_OK) {
        json_t *norm = NULL;
        rc = ruv__dialect_result_in(op->v1, op->method, reply.result, &norm);
        if (rc == RUV_OK && !(json = json_dumps(norm, JSON_COMPACT)))
            rc = ruv__detail_set(RUV_E_NOMEM, "out of memory");
        if (rc == RUV_E_PROTOCOL)
            st->error = RUV_A2A_ERR_PROTOCOL;
        json_decref(norm);
    }
    ruv__rpc_reply_clear(&reply);
    if (rc != RUV_OK && rc != RUV_E_REMOTE) {
        free(json);
        json = NULL;
    }
    struct ruv__ev_node *n = ruv__async_event(op, rc, st->error, ruv__detail_get());
    if (!n) {
        free(json);
        return NULL;
    }
    n->json = json;
    if (json) {
        n->ev.json = json;
        n->ev.json_len = strlen(json);
    }
    /* Only a refusal as unknown may be resent over v0.3 (poll decides). */
    if (rc == RUV_E_REMOTE && op->params && (st->rpc_code == -32601 || st->rpc_code == -32009)) {
        n->params = op->params;
        n->params_len = op->params_len;
        op->params = NULL;
    }
    return n;
}

static void fill_status(struct ruv__ev_node *n, const struct ruv_a2a_call_status *st)
{
    n->ev.rpc_code = st->rpc_code;
    n->ev.http_status = st->http_status;
    n->ev.request_sent = st->request_sent;
}

int ruv__async_done(struct ruv__op *op, CURLcode cc, struct ruv__ev_node **node)
{
    *node = NULL;
    struct ruv_a2a_call_status st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    int last = op->attempt + 1 >= RUV__HTTP_RETRY_ATTEMPTS;
    long wait_ms = -1;
    int rc = RUV_OK;
    if (cc == CURLE_OK) {
        curl_easy_getinfo(op->h, CURLINFO_RESPONSE_CODE, &op->resp.status);
        st.http_status = (int32_t)op->resp.status;
        st.request_sent = 1;
        if (op->idempotent && ruv__http_retryable_status(op->resp.status)) {
            wait_ms = ruv__http_retry_wait(&op->resp, op->attempt, &rc, &st);
        }
    } else {
        rc = ruv__http_curl_failure(op->h, cc, &op->resp, op->resp.body.cap_bytes, &st);
        /* a2a.md §6: SendMessage is sent again only when no byte left. */
        if (st.error == RUV_A2A_ERR_TRANSPORT && (op->idempotent || !st.request_sent) && !last)
            wait_ms = ruv__http_backoff_ms(op->attempt);
    }
    if (wait_ms >= 0) {
        op->attempt++;
        op->retry_at_ms = ruv__clock_ms() + (wait_ms > 0 ? wait_ms : 1);
        reset_resp(op);
        return 1;
    }
    if (rc == RUV_OK) {
        *node = decode(op, &st);
    } else {
        ruv__detail_prefix(rc, "%s", ruv__dialect_method(op->v1, op->method));
        *node = ruv__async_event(op, rc, st.error, ruv__detail_get());
    }
    if (*node)
        fill_status(*node, &st);
    return 0;
}

/* Resends n's call over v0.3 when the client may (or already did) fall
 * back; 1 when it went out again (n is then freed). */
static int resend_v03(struct ruv_a2a_client *c, struct ruv__ev_node *n)
{
    if (!n->params || !n->v1)
        return 0;
    if (c->v1) {
        struct ruv_a2a_call_status st;
        memset(&st, 0, sizeof st);
        st.struct_size = sizeof st;
        st.rpc_code = n->ev.rpc_code;
        char *none = NULL;
        if (!ruv__client_fall_back(c, RUV_E_REMOTE, &none, &st))
            return 0;
    }
    uint64_t req = n->ev.req;
    struct ruv_a2a_call_status st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    int streams = n->ev.method == RUV_A2A_SEND_STREAMING || n->ev.method == RUV_A2A_SUBSCRIBE;
    const struct ruv_a2a_policy *policy = ruv__kept_policy(n->policy);
    int rc = streams ? ruv__astream_submit(c, n->ev.method, n->params, n->params_len, policy,
                                           &req, &st)
                     : ruv__async_submit(c, n->ev.method, n->params, n->params_len, policy, &req,
                                         &st);
    if (rc != RUV_OK) {
        /* The resend's own failure is the call's outcome. */
        free(n->json);
        n->json = NULL;
        n->ev.json = NULL;
        n->ev.json_len = 0;
        n->ev.status = rc;
        n->ev.error = st.error;
        n->ev.rpc_code = st.rpc_code;
        snprintf(n->detail, sizeof n->detail, "resending over v0.3: %s", ruv__detail_get());
        free(n->params);
        n->params = NULL;
        return 0;
    }
    ruv__ev_node_free(n);
    return 1;
}

size_t ruv__async_poll(struct ruv_a2a_client *c, struct ruv_a2a_event *out, size_t max)
{
    if (!c->evq || ruv__evq_forked(c->evq))
        return 0;
    size_t got = 0;
    while (got < max) {
        struct ruv__ev_node *batch[64];
        size_t want = max - got < 64 ? max - got : 64;
        size_t n = ruv__evq_pop(c->evq, batch, want);
        if (n == 0)
            break;
        for (size_t i = 0; i < n; i++) {
            struct ruv__ev_node *node = batch[i];
            if (node->discover)
                ruv__adiscover_land(c, node);
            else if (resend_v03(c, node))
                continue;
            out[got] = node->ev;
            out[got].plugin_private = node;
            got++;
        }
    }
    return got;
}

void ruv__async_release(struct ruv_a2a_event *ev, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ruv__ev_node_free(ev[i].plugin_private);
        ev[i].plugin_private = NULL;
        ev[i].json = NULL;
        ev[i].detail = NULL;
    }
}
