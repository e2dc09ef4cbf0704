/* plugins/a2a/astream.c — streams on the I/O thread (ops V3
 * stream_submit): SendStreamingMessage / SubscribeToTask over SSE, the
 * events queued to the client as they are framed, the transfer paused
 * while the host lags (a2a.md §6 backpressure), and the resume rules of
 * the blocking stream (stream.c): a stream that breaks or ends before a
 * terminal or interrupted state is resumed with SubscribeToTask, at most 5
 * consecutive failures, backoff 0.5 s * 2^n up to 10 s; the snapshot is
 * reconciled (v0.3's resubscribe has none: tasks/get first); a task that
 * ended meanwhile (-32004) is read with GetTask.
 * Everything here runs on the I/O thread except ruv__astream_submit. */
#include "config.h"
#include "io.h"
#include "client.h"
#include "clock.h"
#include "concurrency.h"
#include "detail.h"
#include "dialect.h"
#include "reconcile.h"
#include "sse.h"
#include "stream_event.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESUME_ATTEMPTS 5

/* PHASE_SNAPSHOT: a v0.3 resume's tasks/get before tasks/resubscribe;
 * PHASE_GET: the final GetTask of a task that ended while the stream was
 * down. */
enum phase { PHASE_STREAM, PHASE_RESUME, PHASE_GET, PHASE_SNAPSHOT };

struct ruv__astream {
    struct ruv__http_cfg http; /* copies: the client may change (fallback) or close */
    char *endpoint;
    int v1;
    enum phase phase;
    struct ruv__sse *sse;
    int headers_done, is_sse, ended;
    int delivered;               /* events queued so far */
    struct ruv__reconcile seen;
    int reconcile_next;
    int resume_failures;
    int64_t last_byte_ms, event_start_ms, response_deadline_ms;
    /* The first failure, reported in the END event. */
    int fail_status;
    uint32_t fail_error;
    int32_t fail_rpc;
    char *fail_json;
    char fail_detail[512];
};

static char *dup_or_null(const char *s, int *oom)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *oom = 1;
    return d;
}

void ruv__astream_free(struct ruv__astream *s)
{
    if (!s)
        return;
    free(s->http.ca_file);
    free(s->http.authorization);
    free(s->http.proxy);
    free(s->endpoint);
    ruv__sse_free(s->sse);
    ruv__reconcile_free(&s->seen);
    free(s->fail_json);
    free(s);
}

static int fail(struct ruv__astream *s, int status, uint32_t error, int32_t rpc, char *json)
{
    if (s->fail_status) {
        free(json);
        return s->fail_status;
    }
    s->fail_status = status;
    s->fail_error = error;
    s->fail_rpc = rpc;
    s->fail_json = json;
    snprintf(s->fail_detail, sizeof s->fail_detail, "%s", ruv__detail_get());
    return status;
}

/* ---- events ---- */

static int push_json(void *ctx, json_t *event)
{
    struct ruv__op *op = ctx;
    char *text = json_dumps(event, JSON_COMPACT);
    struct ruv__ev_node *n =
        text ? ruv__async_node(op, RUV_A2A_EV_STREAM, RUV_OK, RUV_A2A_ERR_NONE, "", text) : NULL;
    if (!n)
        return ruv__detail_set(RUV_E_NOMEM, "out of memory");
    op->stream->delivered++;
    return ruv__evq_push_stream(op, n);
}

static struct ruv__stream_sink sink_of(struct ruv__op *op)
{
    struct ruv__astream *s = op->stream;
    return (struct ruv__stream_sink){.v1 = s->v1,
                                     .id = op->id,
                                     .seen = &s->seen,
                                     .reconcile_next = &s->reconcile_next,
                                     .resume_failures = &s->resume_failures,
                                     .ended = &s->ended,
                                     .push = push_json,
                                     .push_ctx = op};
}

static int push_snapshot(struct ruv__op *op, json_t *task)
{
    struct ruv__stream_sink sink = sink_of(op);
    return ruv__stream_push_snapshot(&sink, task);
}

static int on_event(void *ctx, const struct ruv__sse_event *ev)
{
    struct ruv__op *op = ctx;
    struct ruv__astream *s = op->stream;
    if (s->ended)
        return 1;
    struct ruv__stream_sink sink = sink_of(op);
    uint32_t error;
    int32_t rpc_code;
    char *rpc_json;
    int rc = ruv__stream_event_in(&sink, ev, &error, &rpc_code, &rpc_json);
    if (rc == RUV_OK)
        return 0;
    fail(s, rc, error, rpc_code, rpc_json);
    return 1;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct ruv__op *op = userdata;
    struct ruv__astream *s = op->stream;
    size_t n = size * nmemb;
    s->last_byte_ms = ruv__clock_ms();
    if (s->fail_status || s->ended)
        return CURL_WRITEFUNC_ERROR;
    if (!s->is_sse)
        return ruv__http_buf_append(&op->resp.body, ptr, n) == 0 ? n : CURL_WRITEFUNC_ERROR;
    /* Backpressure: before the bytes are framed, so that curl hands the
     * same bytes again once a credit resumes the transfer. */
    if (ruv__evq_pause_if_full(op))
        return CURL_WRITEFUNC_PAUSE;
    int rc = ruv__sse_feed(s->sse, ptr, n, on_event, op);
    if (!ruv__sse_in_event(s->sse))
        s->event_start_ms = 0;
    else if (!s->event_start_ms)
        s->event_start_ms = s->last_byte_ms;
    if (rc == RUV_OK)
        return s->ended ? CURL_WRITEFUNC_ERROR : n; /* the last event: end it now */
    if (rc == RUV_E_PROTOCOL && !s->fail_status) /* the framer's cap */
        fail(s, rc, RUV_A2A_ERR_TOO_LARGE, 0, NULL);
    return CURL_WRITEFUNC_ERROR;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct ruv__op *op = userdata;
    struct ruv__astream *s = op->stream;
    size_t n = size * nmemb;
    s->last_byte_ms = ruv__clock_ms();
    size_t r = ruv__http_on_header(ptr, size, nmemb, &op->resp);
    if (r == n && ruv__http_headers_final(op->h, &op->resp, ptr, n, &s->is_sse))
        s->headers_done = 1;
    return r;
}

/* ---- transfers ---- */

/* A new easy handle posting method(wire) to the endpoint; for the GET phase
 * a unary transfer (body into op->resp), else an event stream. */
static int build(struct ruv__op *op, uint32_t method, json_t *wire)
{
    struct ruv__astream *s = op->stream;
    curl_easy_cleanup(op->h);
    op->h = NULL;
    curl_slist_free_all(op->headers);
    op->headers = NULL;
    free(op->body);
    op->body = NULL;
    size_t cap = s->http.max_body;
    ruv__http_resp_free(&op->resp);
    op->resp.retry_after_s = -1;
    op->resp.max_age_s = -1;
    s->headers_done = s->is_sse = 0;
    s->event_start_ms = 0;
    int unary = s->phase == PHASE_GET || s->phase == PHASE_SNAPSHOT;
    size_t blen = 0;
    int rc = ruv__jsonrpc_request(ruv__dialect_method(s->v1, method), wire, op->id, &op->body,
                                  &blen);
    if (rc == RUV_OK && (!(op->h = curl_easy_init()) ||
                         !(op->headers = ruv__http_rpc_headers(&s->http, s->endpoint, s->v1))))
        rc = ruv__detail_set(RUV_E_NOMEM, "out of memory");
    if (rc == RUV_OK)
        rc = ruv__http_easy_setup(op->h, &s->http, s->endpoint, &op->resp, cap, !unary);
    if (rc == RUV_OK &&
        (curl_easy_setopt(op->h, CURLOPT_HTTPHEADER, op->headers) != CURLE_OK ||
         curl_easy_setopt(op->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen) != CURLE_OK ||
         curl_easy_setopt(op->h, CURLOPT_POSTFIELDS, op->body) != CURLE_OK))
        rc = ruv__detail_set(RUV_E_INVAL, "curl setup of the stream failed");
    if (rc == RUV_OK && !unary &&
        (curl_easy_setopt(op->h, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
         curl_easy_setopt(op->h, CURLOPT_HEADERDATA, op) != CURLE_OK ||
         curl_easy_setopt(op->h, CURLOPT_WRITEFUNCTION, on_write) != CURLE_OK ||
         curl_easy_setopt(op->h, CURLOPT_WRITEDATA, op) != CURLE_OK))
        rc = ruv__detail_set(RUV_E_INVAL, "curl setup of the stream failed");
    return rc;
}

void ruv__astream_started(struct ruv__op *op, int64_t now)
{
    struct ruv__astream *s = op->stream;
    /* Until the headers (and a JSON answer's end): the unary deadline. */
    s->response_deadline_ms = now + s->http.unary_timeout_ms;
    s->last_byte_ms = now;
}

int ruv__astream_submit(struct ruv_a2a_client *c, uint32_t method, const char *params,
                        size_t len, const struct ruv_a2a_policy *policy, uint64_t *req,
                        struct ruv_a2a_call_status *st)
{
    if (method != RUV_A2A_SEND_STREAMING && method != RUV_A2A_SUBSCRIBE)
        return ruv__detail_set(RUV_E_INVAL, "stream_submit: method %u is not a stream",
                               (unsigned)method);
    struct ruv__op *op;
    json_t *wire;
    int rc = ruv__async_begin(c, method, params, len, policy, st, &op, &wire);
    if (rc != RUV_OK)
        return rc;
    struct ruv__astream *s = calloc(1, sizeof *s);
    if (!s) {
        json_decref(wire);
        ruv__op_free(op); /* gives back its slot and budget place */
        return ruv__detail_set(RUV_E_NOMEM, "out of memory");
    }
    op->stream = s;
    s->v1 = c->v1;
    int oom = 0;
    s->http = c->http;
    s->http.ca_file = dup_or_null(c->http.ca_file, &oom);
    s->http.authorization = dup_or_null(c->http.authorization, &oom);
    s->http.proxy = dup_or_null(c->http.proxy, &oom);
    s->endpoint = dup_or_null(c->endpoint, &oom);
    if (!oom)
        oom = ruv__op_keep_params(c, op, params, len) != RUV_OK;
    rc = oom ? ruv__detail_set(RUV_E_NOMEM, "out of memory")
             : ruv__sse_new(c->http.max_event, &s->sse);
    if (rc == RUV_OK)
        rc = build(op, method, wire);
    json_decref(wire);
    if (rc == RUV_OK)
        rc = ruv__async_hand_over(c, op, req);
    if (rc != RUV_OK)
        ruv__op_free(op);
    return rc;
}

/* The END event: the recorded failure, or a clean end. */
static struct ruv__ev_node *end_node(struct ruv__op *op)
{
    struct ruv__astream *s = op->stream;
    if (!s->fail_status)
        return ruv__async_node(op, RUV_A2A_EV_END, RUV_OK, RUV_A2A_ERR_NONE, "", NULL);
    struct ruv__ev_node *n = ruv__async_node(op, RUV_A2A_EV_END, s->fail_status, s->fail_error,
                                             s->fail_detail, s->fail_json);
    s->fail_json = NULL;
    if (n) {
        n->ev.rpc_code = s->fail_rpc;
        n->ev.request_sent = 1;
        /* Refused as unknown before any event: poll may resend over v0.3. */
        if (s->fail_status == RUV_E_REMOTE && !s->delivered && op->params &&
            (s->fail_rpc == -32601 || s->fail_rpc == -32009)) {
            n->params = op->params;
            n->params_len = op->params_len;
            op->params = NULL;
        }
    }
    return n;
}

int ruv__astream_tick(struct ruv__op *op, int64_t now, long *wait_ms, struct ruv__ev_node **node)
{
    struct ruv__astream *s = op->stream;
    *node = NULL;
    if (__atomic_exchange_n(&op->unpause, 0, __ATOMIC_ACQ_REL)) {
        s->last_byte_ms = now; /* the idle clock restarts with the consumer */
        curl_easy_pause(op->h, CURLPAUSE_CONT);
    }
    if (s->fail_status)
        return 0; /* the transfer is being ended by curl */
    int64_t deadline;
    enum { RESPONSE, IDLE, EVENT } which;
    if (!s->headers_done || !s->is_sse) {
        deadline = s->response_deadline_ms;
        which = RESPONSE;
    } else if (__atomic_load_n(&op->paused, __ATOMIC_ACQUIRE)) {
        return 0; /* waiting for the consumer, not for the peer */
    } else if (s->event_start_ms && s->event_start_ms + s->http.event_timeout_ms <
                                        s->last_byte_ms + s->http.idle_timeout_ms) {
        deadline = s->event_start_ms + s->http.event_timeout_ms;
        which = EVENT;
    } else {
        deadline = s->last_byte_ms + s->http.idle_timeout_ms;
        which = IDLE;
    }
    if (now < deadline) {
        if (deadline - now < *wait_ms)
            *wait_ms = (long)(deadline - now);
        return 0;
    }
    if (which == RESPONSE)
        ruv__detail_set(RUV_E_TIMEOUT, "no %s within %ld ms",
                        s->headers_done ? "complete response" : "response headers",
                        s->http.unary_timeout_ms);
    else if (which == EVENT)
        ruv__detail_set(RUV_E_TIMEOUT, "stream event not complete %ld ms after its first byte",
                        s->http.event_timeout_ms);
    else
        ruv__detail_set(RUV_E_TIMEOUT, "stream idle: no byte for %ld ms",
                        s->http.idle_timeout_ms);
    fail(s, RUV_E_TIMEOUT, RUV_A2A_ERR_TIMEOUT, 0, NULL);
    *node = end_node(op);
    return 1;
}

/* A resume (or the final GetTask) after delay_ms; 1, or 0 when it could
 * not be set up (the failure recorded). */
static int schedule(struct ruv__op *op, uint32_t method, long delay_ms)
{
    struct ruv__astream *s = op->stream;
    json_t *wire = json_pack("{s:s}", "id", s->seen.task_id);
    int rc = wire ? build(op, method, wire) : ruv__detail_set(RUV_E_NOMEM, "out of memory");
    json_decref(wire);
    if (rc != RUV_OK) {
        fail(s, rc, RUV_A2A_ERR_NONE, 0, NULL);
        return 0;
    }
    op->retry_at_ms = ruv__clock_ms() + (delay_ms > 0 ? delay_ms : 1);
    return 1;
}

/* The transfer ended without a terminal state (status, error): resume,
 * or record the failure. */
static int resume_or_fail(struct ruv__op *op, int status, uint32_t error)
{
    struct ruv__astream *s = op->stream;
    if (!s->seen.task_id || s->resume_failures >= RESUME_ATTEMPTS) {
        if (status == RUV_OK) {
            status = ruv__detail_set(RUV_E_IO, "the stream ended before a terminal or "
                                               "interrupted state");
            error = RUV_A2A_ERR_TRANSPORT;
        }
        if (s->resume_failures >= RESUME_ATTEMPTS)
            ruv__detail_prefix(status, "resuming the stream failed %d times", RESUME_ATTEMPTS);
        fail(s, status, error, 0, NULL);
        return 0;
    }
    long wait = 500L << s->resume_failures;
    s->resume_failures++;
    ruv__sse_finish(s->sse);
    if (!s->v1) {
        /* v0.3's tasks/resubscribe sends no snapshot, only what happens
         * next: tasks/get first, reconciled (ruv__astream_done). */
        s->phase = PHASE_SNAPSHOT;
        return schedule(op, RUV_A2A_GET, wait > 10000 ? 10000 : wait);
    }
    s->phase = PHASE_RESUME;
    s->reconcile_next = 1; /* v1.0 opens with a Task snapshot */
    return schedule(op, RUV_A2A_SUBSCRIBE, wait > 10000 ? 10000 : wait);
}

/* A finished transfer's CURLcode: RUV_OK for a clean end or one of our own
 * aborts, else the failure with *error. */
static int outcome(struct ruv__op *op, CURLcode cc, uint32_t *error)
{
    struct ruv__astream *s = op->stream;
    *error = RUV_A2A_ERR_NONE;
    if (s->fail_status || cc == CURLE_OK || s->ended)
        return RUV_OK;
    struct ruv_a2a_call_status st;
    memset(&st, 0, sizeof st);
    int rc = ruv__http_curl_failure(op->h, cc, &op->resp, s->http.max_body, &st);
    *error = st.error;
    return rc;
}

/* A complete answer that is not an event stream (or the GetTask reply). */
static int answer(struct ruv__op *op, CURLcode cc, struct ruv_a2a_call_status *st, char **json,
                  json_t **result)
{
    uint32_t error;
    int rc = outcome(op, cc, &error);
    if (rc != RUV_OK) {
        st->error = error;
        return rc;
    }
    long status = 0;
    curl_easy_getinfo(op->h, CURLINFO_RESPONSE_CODE, &status);
    struct ruv__rpc_reply reply;
    rc = ruv__client_reply(op->resp.body.data, op->resp.body.len, status, op->id, &reply, json, st);
    if (rc == RUV_OK) {
        *result = reply.result;
        reply.result = NULL;
    }
    ruv__rpc_reply_clear(&reply);
    return rc;
}

int ruv__astream_done(struct ruv__op *op, CURLcode cc, struct ruv__ev_node **node)
{
    struct ruv__astream *s = op->stream;
    *node = NULL;
    int unary = s->phase == PHASE_GET || s->phase == PHASE_SNAPSHOT;
    if (!s->fail_status && (unary || !s->is_sse)) {
        struct ruv_a2a_call_status st;
        memset(&st, 0, sizeof st);
        char *json = NULL;
        json_t *result = NULL;
        int rc = answer(op, cc, &st, &json, &result);
        if (s->phase == PHASE_SNAPSHOT) {
            json_t *task = NULL;
            if (rc == RUV_OK)
                rc = ruv__dialect_result_in(s->v1, RUV_A2A_GET, result, &task);
            if (rc == RUV_OK)
                rc = push_snapshot(op, task);
            json_decref(task);
            json_decref(result);
            result = NULL;
            if (rc == RUV_OK && !s->ended) {
                /* Then the rest of the run; a Task first, if the peer sends
                 * one, is reconciled too. */
                free(json);
                json = NULL;
                s->phase = PHASE_RESUME;
                s->reconcile_next = 1;
                if (schedule(op, RUV_A2A_SUBSCRIBE, 0))
                    return 1;
            } else if (rc != RUV_OK && st.error == RUV_A2A_ERR_TRANSPORT) {
                free(json);
                json = NULL;
                if (resume_or_fail(op, RUV_OK, RUV_A2A_ERR_NONE))
                    return 1;
            } else if (rc != RUV_OK) {
                ruv__detail_prefix(rc, "resuming the stream");
                fail(s, rc, st.error, st.rpc_code, json);
                json = NULL;
            }
        } else if (s->phase == PHASE_GET) {
            json_t *task = NULL;
            if (rc == RUV_OK)
                rc = ruv__dialect_result_in(s->v1, RUV_A2A_GET, result, &task);
            if (rc == RUV_OK)
                rc = push_snapshot(op, task);
            json_decref(task);
            if (rc == RUV_OK)
                s->ended = 1;
            else
                fail(s, rc, st.error, st.rpc_code, json), json = NULL;
        } else if (rc == RUV_OK) {
            fail(s, ruv__detail_set(RUV_E_PROTOCOL,
                                    "expected text/event-stream, got %s with a result",
                                    op->resp.content_type[0] ? op->resp.content_type
                                                             : "no Content-Type"),
                 RUV_A2A_ERR_PROTOCOL, 0, NULL);
        } else if (s->phase == PHASE_RESUME && rc == RUV_E_REMOTE && st.rpc_code == -32004) {
            free(json);
            json_decref(result);
            json = NULL;
            result = NULL;
            s->phase = PHASE_GET; /* terminal meanwhile */
            if (schedule(op, RUV_A2A_GET, 0))
                return 1; /* else schedule recorded the failure: END below */
        } else if (s->phase == PHASE_RESUME && st.error == RUV_A2A_ERR_TRANSPORT) {
            free(json);
            json_decref(result);
            json = NULL;
            result = NULL;
            /* Out of attempts: resume_or_fail recorded the failure, and the
             * END event below reports it. */
            if (resume_or_fail(op, RUV_OK, RUV_A2A_ERR_NONE))
                return 1;
        } else {
            if (s->phase == PHASE_RESUME)
                ruv__detail_prefix(rc, "resuming the stream");
            fail(s, rc, st.error, st.rpc_code, json);
            json = NULL;
        }
        free(json);
        json_decref(result);
    } else if (!s->fail_status && !s->ended) {
        uint32_t error;
        int rc = outcome(op, cc, &error);
        /* Our own deadlines and caps are final; a clean end before the
         * last state, or a broken connection, is resumed. */
        if (rc == RUV_OK || error == RUV_A2A_ERR_TRANSPORT) {
            if (resume_or_fail(op, rc, error))
                return 1;
        } else {
            fail(s, rc, error, 0, NULL);
        }
    }
    *node = end_node(op);
    return 0;
}
