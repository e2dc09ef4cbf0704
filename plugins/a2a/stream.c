/* plugins/a2a/stream.c — SendStreamingMessage / SubscribeToTask over SSE
 * (a2a.md §3.3), pulled by the caller: a curl multi handle with one
 * transfer is driven only while the caller waits for an event and none is
 * queued, so the plugin holds at most one network chunk's events and TCP
 * slows a peer that outruns the consumer.
 *
 * A stream that breaks, or ends before a terminal or interrupted state, is
 * resumed (a2a.md §6) with SubscribeToTask / tasks/resubscribe: at most 5
 * consecutive failures (any event resets the count), backoff 0.5 s * 2^n up
 * to 10 s. The resumed stream's Task snapshot is reconciled against what
 * was delivered (reconcile.h); v0.3's resubscribe has no snapshot, so one
 * is read with tasks/get first. A task that ended meanwhile (-32004, or a
 * final v0.3 snapshot) is read with GetTask, reconciled the same way, and
 * ends the stream. */
#include "config.h"
#include "client.h"
#include "clock.h"
#include "concurrency.h"
#include "detail.h"
#include "dialect.h"
#include "reconcile.h"
#include "sse.h"
#include "stream_event.h"

#include <stdlib.h>
#include <string.h>

#define RESUME_ATTEMPTS 5

struct ev_node {
    struct ev_node *next;
    char *json;
};

struct ruv_a2a_stream {
    struct ruv_a2a_client *c;
    CURL *h;
    CURLM *m;
    struct curl_slist *headers;
    char *body;
    char id[RUV__UUID_SIZE];
    struct ruv__http_resp resp;
    struct ruv__sse *sse;
    struct ev_node *head, *tail;
    int headers_done, transfer_done, ended, is_sse;
    CURLcode curl_result;
    int v1;                      /* the dialect at open (a later fallback does not change it) */
    struct ruv__reconcile seen;  /* what was delivered, for resumption */
    int reconcile_next;          /* the next event is a resumed stream's snapshot */
    int resume_failures;         /* consecutive, reset by any event */
    unsigned resumes;
    void *slot;                  /* the max_concurrency slot, held until close */
    /* A failure, replayed to every later stream_next. */
    int fail_status;
    char *fail_json;
    struct ruv_a2a_call_status fail_st;
    char fail_detail[512];
    int64_t last_byte_ms;
    int64_t event_start_ms;      /* when the event being assembled got its first byte; 0 */
};

/* Records the current detail as the stream's failure. */
static int fail(struct ruv_a2a_stream *s, int status, uint32_t error, int32_t rpc_code,
                char *json)
{
    if (s->fail_status) {
        free(json);
        return s->fail_status;
    }
    s->fail_status = status;
    s->fail_st.error = error;
    s->fail_st.rpc_code = rpc_code;
    s->fail_json = json;
    strncpy(s->fail_detail, ruv__detail_get(), sizeof s->fail_detail - 1);
    return status;
}

static int push(struct ruv_a2a_stream *s, char *json)
{
    struct ev_node *n = malloc(sizeof *n);
    if (!n) {
        free(json);
        return ruv__detail_set(RUV_E_NOMEM, "out of memory");
    }
    n->next = NULL;
    n->json = json;
    if (s->tail)
        s->tail->next = n;
    else
        s->head = n;
    s->tail = n;
    return RUV_OK;
}

static int push_json(void *ctx, json_t *event)
{
    char *text = json_dumps(event, JSON_COMPACT);
    if (!text)
        return ruv__detail_set(RUV_E_NOMEM, "out of memory");
    return push(ctx, text);
}

static struct ruv__stream_sink sink_of(struct ruv_a2a_stream *s)
{
    return (struct ruv__stream_sink){.v1 = s->v1,
                                     .id = s->id,
                                     .seen = &s->seen,
                                     .reconcile_next = &s->reconcile_next,
                                     .resume_failures = &s->resume_failures,
                                     .ended = &s->ended,
                                     .push = push_json,
                                     .push_ctx = s};
}

/* A resumed stream's snapshot (or a GetTask result): only what is new. */
static int push_snapshot(struct ruv_a2a_stream *s, json_t *task)
{
    struct ruv__stream_sink sink = sink_of(s);
    return ruv__stream_push_snapshot(&sink, task);
}

static int on_event(void *ctx, const struct ruv__sse_event *ev)
{
    struct ruv_a2a_stream *s = ctx;
    if (s->ended)
        return 1; /* nothing may follow the last event */
    struct ruv__stream_sink sink = sink_of(s);
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
    struct ruv_a2a_stream *s = userdata;
    size_t n = size * nmemb;
    s->last_byte_ms = ruv__clock_ms();
    if (s->fail_status || s->ended)
        return CURL_WRITEFUNC_ERROR;
    if (!s->is_sse) {
        return ruv__http_buf_append(&s->resp.body, ptr, n) == 0 ? n : CURL_WRITEFUNC_ERROR;
    }
    int rc = ruv__sse_feed(s->sse, ptr, n, on_event, s);
    /* The event-assembly deadline runs from the first byte of an event
     * still open at the end of this chunk (a2a.md §6). */
    if (!ruv__sse_in_event(s->sse))
        s->event_start_ms = 0;
    else if (!s->event_start_ms)
        s->event_start_ms = s->last_byte_ms;
    if (rc == RUV_OK)
        return n;
    if (rc == RUV_E_PROTOCOL && !s->fail_status) /* the framer's cap */
        fail(s, rc, RUV_A2A_ERR_TOO_LARGE, 0, NULL);
    return s->ended && !s->fail_status ? n : CURL_WRITEFUNC_ERROR;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct ruv_a2a_stream *s = userdata;
    size_t n = size * nmemb;
    s->last_byte_ms = ruv__clock_ms();
    size_t r = ruv__http_on_header(ptr, size, nmemb, &s->resp);
    if (r == n && ruv__http_headers_final(s->h, &s->resp, ptr, n, &s->is_sse))
        s->headers_done = 1;
    return r;
}

static void free_events(struct ruv_a2a_stream *s)
{
    while (s->head) {
        struct ev_node *n = s->head;
        s->head = n->next;
        free(n->json);
        free(n);
    }
    s->tail = NULL;
}

/* Ends the current transfer (if any) and forgets its response. */
static void end_transfer(struct ruv_a2a_stream *s)
{
    if (s->m && s->h)
        curl_multi_remove_handle(s->m, s->h);
    curl_easy_cleanup(s->h);
    s->h = NULL;
    curl_slist_free_all(s->headers);
    s->headers = NULL;
    free(s->body);
    s->body = NULL;
    ruv__http_resp_free(&s->resp);
    s->headers_done = s->transfer_done = s->is_sse = 0;
    s->event_start_ms = 0;
    s->curl_result = CURLE_OK;
}

void ruv__stream_close(struct ruv_a2a_stream *s)
{
    if (!s)
        return;
    end_transfer(s);
    ruv__concurrency_release(s->slot);
    curl_multi_cleanup(s->m);
    ruv__sse_free(s->sse);
    ruv__reconcile_free(&s->seen);
    free_events(s);
    free(s->fail_json);
    free(s);
}

struct ruv_a2a_client *ruv__stream_client(struct ruv_a2a_stream *s) { return s->c; }

/* One round of transfer work: waits up to the idle deadline's remainder
 * (at most 1 s) for the socket, then lets curl run the callbacks. */
static int drive(struct ruv_a2a_stream *s, int64_t deadline_ms)
{
    int running = 0;
    CURLMcode mc = curl_multi_perform(s->m, &running);
    if (mc == CURLM_OK && running) {
        int64_t left = deadline_ms - ruv__clock_ms();
        int wait = left < 0 ? 0 : left > 1000 ? 1000 : (int)left;
        mc = curl_multi_poll(s->m, NULL, 0, wait, NULL);
        if (mc == CURLM_OK)
            mc = curl_multi_perform(s->m, &running);
    }
    if (mc != CURLM_OK)
        return fail(s, ruv__detail_set(RUV_E_IO, "curl multi: %s", curl_multi_strerror(mc)),
                    RUV_A2A_ERR_TRANSPORT, 0, NULL);
    CURLMsg *msg;
    int left_msgs;
    while ((msg = curl_multi_info_read(s->m, &left_msgs)))
        if (msg->msg == CURLMSG_DONE) {
            s->transfer_done = 1;
            s->curl_result = msg->data.result;
        }
    return RUV_OK;
}

/* What a finished transfer's CURLcode means: RUV_OK (a clean end, or an
 * abort of our own after the last event or a recorded failure), else the
 * status with *error set. Records nothing. */
static int transfer_outcome(struct ruv_a2a_stream *s, uint32_t *error)
{
    *error = RUV_A2A_ERR_NONE;
    if (s->fail_status || s->curl_result == CURLE_OK || s->ended)
        return RUV_OK;
    struct ruv_a2a_call_status st;
    memset(&st, 0, sizeof st);
    int rc = ruv__http_curl_failure(s->h, s->curl_result, &s->resp, s->c->http.max_body, &st);
    *error = st.error;
    return rc;
}

static int replay_failure(struct ruv_a2a_stream *s, char **json, struct ruv_a2a_call_status *st)
{
    if (st) {
        st->error = s->fail_st.error;
        st->rpc_code = s->fail_st.rpc_code;
        st->request_sent = 1;
    }
    if (json && s->fail_json) {
        size_t n = strlen(s->fail_json) + 1;
        if ((*json = malloc(n)))
            memcpy(*json, s->fail_json, n);
    }
    return ruv__detail_set(s->fail_status, "%s", s->fail_detail);
}

/* Sends method with wire (params) and reads up to the end of the response
 * headers. RUV_OK when an event stream began; otherwise the transfer is
 * over and the status says why (RUV_E_REMOTE with *result the peer's
 * JSON-RPC error, or an HTTP status), nothing recorded. */
static int start_transfer(struct ruv_a2a_stream *s, uint32_t method, json_t *wire, char **result,
                          struct ruv_a2a_call_status *st)
{
    struct ruv_a2a_client *c = s->c;
    end_transfer(s);
    size_t blen = 0;
    int rc = ruv__jsonrpc_request(ruv__dialect_method(s->v1, method), wire, s->id, &s->body, &blen);
    if (rc == RUV_OK && (!(s->h = curl_easy_init()) ||
                         !(s->headers = ruv__http_rpc_headers(&c->http, c->endpoint, s->v1))))
        rc = ruv__detail_set(RUV_E_NOMEM, "out of memory");
    if (rc == RUV_OK)
        rc = ruv__http_easy_setup(s->h, &c->http, c->endpoint, &s->resp, c->http.max_body, 1);
    if (rc == RUV_OK &&
        (curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, s->headers) != CURLE_OK ||
         curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen) != CURLE_OK ||
         curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, s->body) != CURLE_OK ||
         curl_easy_setopt(s->h, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
         curl_easy_setopt(s->h, CURLOPT_HEADERDATA, s) != CURLE_OK ||
         curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, on_write) != CURLE_OK ||
         curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s) != CURLE_OK ||
         curl_multi_add_handle(s->m, s->h) != CURLM_OK))
        rc = ruv__detail_set(RUV_E_INVAL, "curl setup of the stream failed");
    if (rc != RUV_OK)
        return rc;
    if (st)
        st->request_sent = 1;
    /* Until the headers, and for a JSON answer until its end: the unary
     * deadline. An event stream then has only the idle deadline. */
    int64_t deadline = ruv__clock_ms() + c->http.unary_timeout_ms;
    s->last_byte_ms = ruv__clock_ms();
    while (!s->transfer_done && !s->fail_status && !(s->headers_done && s->is_sse)) {
        if (ruv__clock_ms() > deadline) {
            if (st)
                st->error = RUV_A2A_ERR_TIMEOUT;
            return ruv__detail_set(RUV_E_TIMEOUT, "no %s within %ld ms",
                                   s->headers_done ? "complete response" : "response headers",
                                   c->http.unary_timeout_ms);
        }
        drive(s, deadline);
    }
    long status = 0;
    curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
    if (st)
        st->http_status = (int32_t)status;
    if (s->is_sse)
        return RUV_OK; /* a failure after early events is delivered after them */
    uint32_t error;
    if (s->fail_status) {
        if (st)
            st->error = s->fail_st.error;
        return ruv__detail_set(s->fail_status, "%s", s->fail_detail);
    }
    if ((rc = transfer_outcome(s, &error)) != RUV_OK) {
        if (st)
            st->error = error;
        return rc;
    }
    struct ruv__rpc_reply reply;
    rc = ruv__client_reply(s->resp.body.data, s->resp.body.len, status, s->id, &reply, result, st);
    ruv__rpc_reply_clear(&reply);
    if (rc == RUV_OK) {
        if (st)
            st->error = RUV_A2A_ERR_PROTOCOL;
        rc = ruv__detail_set(RUV_E_PROTOCOL, "expected text/event-stream, got %s with a result",
                             s->resp.content_type[0] ? s->resp.content_type : "no Content-Type");
    }
    return rc;
}

int ruv__stream_open(struct ruv_a2a_client *c, uint32_t method, const char *params, size_t len,
                     const struct ruv_a2a_policy *policy, struct ruv_a2a_stream **out,
                     char **result, struct ruv_a2a_call_status *st)
{
    *out = NULL;
    *result = NULL;
    if (method != RUV_A2A_SEND_STREAMING && method != RUV_A2A_SUBSCRIBE)
        return ruv__detail_set(RUV_E_INVAL, "stream_open: method %u is not a stream",
                               (unsigned)method);
    for (;;) { /* a second pass only after the one fallback to v0.3 */
        json_t *wire = NULL;
        void *slot = NULL;
        int rc = ruv__client_prepare(c, method, params, len, policy, &wire, &slot, NULL, st);
        if (rc != RUV_OK)
            return rc;
        struct ruv_a2a_stream *s = calloc(1, sizeof *s);
        if (!s) {
            json_decref(wire);
            ruv__concurrency_release(slot);
            return ruv__detail_set(RUV_E_NOMEM, "out of memory");
        }
        s->slot = slot;
        s->c = c;
        s->v1 = c->v1;
        rc = ruv__sse_new(c->http.max_event, &s->sse);
        if (rc == RUV_OK && !(s->m = curl_multi_init()))
            rc = ruv__detail_set(RUV_E_NOMEM, "out of memory");
        if (rc == RUV_OK)
            rc = start_transfer(s, method, wire, result, st);
        json_decref(wire);
        if (rc == RUV_OK) {
            *out = s;
            return RUV_OK;
        }
        ruv__stream_close(s);
        if (ruv__client_fall_back(c, rc, result, st))
            continue;
        return rc;
    }
}

/* GetTask, reconciled against what was delivered (only what is new is
 * queued; a snapshot in a final state ends the stream). final: the task
 * ended while the stream was down, so the stream ends here whatever the
 * snapshot says. RUV_OK; a transport failure when transient is set is
 * returned without failing the stream (the caller counts it as a failed
 * resume); any other failure fails the stream. */
static int snapshot_from_get(struct ruv_a2a_stream *s, int final, int *transient)
{
    json_t *wire = json_pack("{s:s}", "id", s->seen.task_id);
    char *text = NULL;
    struct ruv_a2a_call_status st;
    memset(&st, 0, sizeof st);
    int rc = wire ? ruv__client_call_once(s->c, RUV_A2A_GET, wire, &text, &st)
                  : ruv__detail_set(RUV_E_NOMEM, "out of memory");
    json_decref(wire);
    json_t *task = NULL;
    if (rc == RUV_OK && !(task = json_loads(text, 0, NULL)))
        rc = ruv__detail_set(RUV_E_NOMEM, "out of memory");
    free(text);
    if (rc == RUV_OK)
        rc = push_snapshot(s, task);
    json_decref(task);
    if (rc != RUV_OK) {
        if (transient && st.error == RUV_A2A_ERR_TRANSPORT) {
            *transient = 1;
            return rc;
        }
        return fail(s, rc, st.error, st.rpc_code, NULL);
    }
    if (final)
        s->ended = 1;
    return RUV_OK;
}

/* The task ended while the stream was down: GetTask, reconciled. */
static int finish_from_get(struct ruv_a2a_stream *s) { return snapshot_from_get(s, 1, NULL); }

/* The transfer ended without a terminal state (why: status, error).
 * Resumes, or records the failure. */
static void resume_or_fail(struct ruv_a2a_stream *s, int status, uint32_t error)
{
    if (!s->seen.task_id || s->resume_failures >= RESUME_ATTEMPTS) {
        if (status == RUV_OK) {
            status = ruv__detail_set(RUV_E_IO, "the stream ended before a terminal or "
                                               "interrupted state");
            error = RUV_A2A_ERR_TRANSPORT;
        }
        if (s->resume_failures >= RESUME_ATTEMPTS)
            ruv__detail_prefix(status, "resuming the stream failed %d times", RESUME_ATTEMPTS);
        fail(s, status, error, 0, NULL);
        return;
    }
    long wait = 500L << s->resume_failures;
    ruv__sleep_ms(wait > 10000 ? 10000 : wait);
    s->resume_failures++;
    s->resumes++;
    ruv__sse_finish(s->sse);
    if (!s->v1) {
        /* v0.3's tasks/resubscribe sends no snapshot, only what happens
         * next: read one with tasks/get first and reconcile it, so nothing
         * that happened while the stream was down is lost or repeated. A
         * task that has ended meanwhile ends the stream here. */
        int transient = 0;
        if (snapshot_from_get(s, 0, &transient) != RUV_OK || s->ended)
            return; /* failed, ended, or (transient) counted and tried again */
    }
    json_t *wire = json_pack("{s:s}", "id", s->seen.task_id);
    char *result = NULL;
    struct ruv_a2a_call_status st;
    memset(&st, 0, sizeof st);
    /* v1.0 opens with a Task snapshot, which may arrive with the headers,
     * inside start_transfer. A v0.3 peer that sends one anyway (a Task
     * first) is reconciled the same way. */
    s->reconcile_next = 1;
    int rc = wire ? start_transfer(s, RUV_A2A_SUBSCRIBE, wire, &result, &st)
                  : ruv__detail_set(RUV_E_NOMEM, "out of memory");
    json_decref(wire);
    if (rc == RUV_OK) {
        free(result);
        return;
    }
    s->reconcile_next = 0;
    if (rc == RUV_E_REMOTE && st.rpc_code == -32004) { /* terminal meanwhile */
        free(result);
        end_transfer(s);
        finish_from_get(s);
        return;
    }
    if (st.error == RUV_A2A_ERR_TRANSPORT) { /* try again, within the count */
        free(result);
        end_transfer(s);
        s->transfer_done = 1;
        return;
    }
    ruv__detail_prefix(rc, "resuming the stream");
    fail(s, rc, st.error, st.rpc_code, result);
}

int ruv__stream_next(struct ruv_a2a_stream *s, char **event, struct ruv_a2a_call_status *st)
{
    *event = NULL;
    for (;;) {
        if (s->head) {
            struct ev_node *n = s->head;
            s->head = n->next;
            if (!s->head)
                s->tail = NULL;
            *event = n->json;
            free(n);
            return RUV_OK;
        }
        if (s->fail_status)
            return replay_failure(s, event, st);
        if (s->ended)
            return ruv__detail_set(RUV_E_NOTFOUND, "the stream has ended");
        if (s->transfer_done) {
            uint32_t error;
            int rc = transfer_outcome(s, &error);
            /* Our own deadlines and caps are final; a clean end before the
             * last state, or a broken connection, is resumed. */
            if (rc == RUV_OK || error == RUV_A2A_ERR_TRANSPORT)
                resume_or_fail(s, rc, error);
            else
                fail(s, rc, error, 0, NULL);
            continue;
        }
        int64_t deadline = s->last_byte_ms + s->c->http.idle_timeout_ms;
        int64_t event_deadline =
            s->event_start_ms ? s->event_start_ms + s->c->http.event_timeout_ms : INT64_MAX;
        if (ruv__clock_ms() >= deadline) {
            ruv__detail_set(RUV_E_TIMEOUT, "stream idle: no byte for %ld ms",
                            s->c->http.idle_timeout_ms);
            fail(s, RUV_E_TIMEOUT, RUV_A2A_ERR_TIMEOUT, 0, NULL);
            continue;
        }
        if (ruv__clock_ms() >= event_deadline) {
            ruv__detail_set(RUV_E_TIMEOUT, "stream event not complete %ld ms after its first byte",
                            s->c->http.event_timeout_ms);
            fail(s, RUV_E_TIMEOUT, RUV_A2A_ERR_TIMEOUT, 0, NULL);
            continue;
        }
        drive(s, deadline < event_deadline ? deadline : event_deadline);
    }
}
