/* plugins/a2a/stream.c — SendStreamingMessage / SubscribeToTask over SSE
 * (a2a.md §3.3), pulled by the caller: a curl multi handle with one
 * transfer is driven only while the caller waits for an event and none is
 * queued, so the plugin holds at most one network chunk's events and TCP
 * slows a peer that outruns the consumer. */
#include "config.h"
#include "client.h"
#include "detail.h"
#include "dialect.h"
#include "sse.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    /* A failure, replayed to every later stream_next. */
    int fail_status;
    char *fail_json;
    struct ruv_a2a_call_status fail_st;
    char fail_detail[512];
    int64_t last_byte_ms;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

static int on_event(void *ctx, const struct ruv__sse_event *ev)
{
    struct ruv_a2a_stream *s = ctx;
    if (s->ended)
        return 1; /* nothing may follow the last event */
    int is_error = ev->event_len == 5 && memcmp(ev->event, "error", 5) == 0;
    struct ruv__rpc_reply reply;
    int rc = ruv__jsonrpc_decode(ev->data, ev->data_len, s->id, &reply);
    if (rc == RUV_E_REMOTE) {
        char *text = json_dumps(reply.error, JSON_COMPACT);
        int32_t code = reply.code;
        ruv__rpc_reply_clear(&reply);
        ruv__detail_prefix(RUV_E_REMOTE, "in-stream error");
        fail(s, RUV_E_REMOTE, RUV_A2A_ERR_REMOTE, code, text);
        return 1;
    }
    if (rc == RUV_OK && is_error) {
        ruv__rpc_reply_clear(&reply);
        rc = ruv__detail_set(RUV_E_PROTOCOL, "an \"error\" event without a JSON-RPC error");
    }
    if (rc != RUV_OK) {
        ruv__detail_prefix(rc, "stream event");
        fail(s, rc, rc == RUV_E_PROTOCOL ? RUV_A2A_ERR_PROTOCOL : RUV_A2A_ERR_NONE, 0, NULL);
        return 1;
    }
    json_t *norm = NULL;
    rc = ruv__dialect_event_in(s->c->v1, reply.result, &norm, &s->ended);
    ruv__rpc_reply_clear(&reply);
    char *text = NULL;
    if (rc == RUV_OK && !(text = json_dumps(norm, JSON_COMPACT)))
        rc = ruv__detail_set(RUV_E_NOMEM, "out of memory");
    json_decref(norm);
    if (rc == RUV_OK)
        rc = push(s, text);
    if (rc != RUV_OK) {
        ruv__detail_prefix(rc, "stream event");
        fail(s, rc, rc == RUV_E_PROTOCOL ? RUV_A2A_ERR_PROTOCOL : RUV_A2A_ERR_NONE, 0, NULL);
        return 1;
    }
    return 0;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct ruv_a2a_stream *s = userdata;
    size_t n = size * nmemb;
    s->last_byte_ms = now_ms();
    if (s->fail_status || s->ended)
        return CURL_WRITEFUNC_ERROR;
    if (!s->is_sse) {
        return ruv__http_buf_append(&s->resp.body, ptr, n) == 0 ? n : CURL_WRITEFUNC_ERROR;
    }
    int rc = ruv__sse_feed(s->sse, ptr, n, on_event, s);
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
    s->last_byte_ms = now_ms();
    size_t r = ruv__http_on_header(ptr, size, nmemb, &s->resp);
    if (r == n && ((n == 2 && ptr[0] == '\r') || (n == 1 && ptr[0] == '\n'))) {
        long code = 0;
        curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &code);
        if (code >= 200) {
            s->headers_done = 1;
            s->is_sse = strcmp(s->resp.content_type, "text/event-stream") == 0 && code / 100 == 2;
        }
    }
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

void ruv__stream_close(struct ruv_a2a_stream *s)
{
    if (!s)
        return;
    if (s->m && s->h)
        curl_multi_remove_handle(s->m, s->h);
    curl_easy_cleanup(s->h);
    curl_multi_cleanup(s->m);
    curl_slist_free_all(s->headers);
    free(s->body);
    ruv__http_resp_free(&s->resp);
    ruv__sse_free(s->sse);
    free_events(s);
    free(s->fail_json);
    free(s);
}

/* One round of transfer work: waits up to the idle deadline's remainder
 * (at most 1 s) for the socket, then lets curl run the callbacks. */
static int drive(struct ruv_a2a_stream *s, int64_t deadline_ms)
{
    int running = 0;
    CURLMcode mc = curl_multi_perform(s->m, &running);
    if (mc == CURLM_OK && running) {
        int64_t left = deadline_ms - now_ms();
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

/* The failure of a finished transfer that ended badly, if any. */
static int transfer_failure(struct ruv_a2a_stream *s)
{
    if (s->fail_status || s->curl_result == CURLE_OK || s->ended)
        return s->fail_status;
    struct ruv_a2a_call_status st;
    memset(&st, 0, sizeof st);
    int rc = ruv__http_curl_failure(s->h, s->curl_result, &s->resp, s->c->http.max_body, &st);
    return fail(s, rc, st.error, 0, NULL);
}

static int idle_timeout(struct ruv_a2a_stream *s)
{
    ruv__detail_set(RUV_E_TIMEOUT, "stream idle: no byte for %ld ms", s->c->http.idle_timeout_ms);
    return fail(s, RUV_E_TIMEOUT, RUV_A2A_ERR_TIMEOUT, 0, NULL);
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

int ruv__stream_open(struct ruv_a2a_client *c, uint32_t method, const char *params, size_t len,
                     const struct ruv_a2a_policy *policy, struct ruv_a2a_stream **out,
                     char **result, struct ruv_a2a_call_status *st)
{
    *out = NULL;
    *result = NULL;
    if (method != RUV_A2A_SEND_STREAMING && method != RUV_A2A_SUBSCRIBE)
        return ruv__detail_set(RUV_E_INVAL, "stream_open: method %u is not a stream",
                               (unsigned)method);
    for (int attempt = 0;; attempt++) {
        json_t *wire = NULL;
        int rc = ruv__client_prepare(c, method, params, len, policy, &wire, st);
        if (rc != RUV_OK)
            return rc;
        struct ruv_a2a_stream *s = calloc(1, sizeof *s);
        if (!s) {
            json_decref(wire);
            return ruv__detail_set(RUV_E_NOMEM, "out of memory");
        }
        s->c = c;
        size_t blen = 0;
        rc = ruv__jsonrpc_request(ruv__dialect_method(c->v1, method), wire, s->id, &s->body, &blen);
        json_decref(wire);
        if (rc == RUV_OK)
            rc = ruv__sse_new(c->http.max_event, &s->sse);
        if (rc == RUV_OK && (!(s->h = curl_easy_init()) || !(s->m = curl_multi_init()) ||
                             !(s->headers = ruv__http_rpc_headers(&c->http, c->endpoint, c->v1))))
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
        /* Until the headers: the unary deadline (headers of a stream come
         * at once; the body has only the idle deadline). */
        int64_t deadline = now_ms() + c->http.unary_timeout_ms;
        s->last_byte_ms = now_ms();
        while (rc == RUV_OK && !s->headers_done && !s->transfer_done && !s->fail_status) {
            if (now_ms() > deadline) {
                ruv__detail_set(RUV_E_TIMEOUT, "no response headers within %ld ms",
                                c->http.unary_timeout_ms);
                rc = fail(s, RUV_E_TIMEOUT, RUV_A2A_ERR_TIMEOUT, 0, NULL);
            } else {
                rc = drive(s, deadline);
            }
        }
        if (rc == RUV_OK && !s->is_sse) {
            /* A JSON answer (an upfront error) or a refusal: read it whole. */
            while (rc == RUV_OK && !s->transfer_done && !s->fail_status) {
                if (now_ms() > deadline) {
                    ruv__detail_set(RUV_E_TIMEOUT, "no complete response within %ld ms",
                                    c->http.unary_timeout_ms);
                    rc = fail(s, RUV_E_TIMEOUT, RUV_A2A_ERR_TIMEOUT, 0, NULL);
                } else {
                    rc = drive(s, deadline);
                }
            }
            if (rc == RUV_OK)
                rc = transfer_failure(s);
            if (rc == RUV_OK) {
                long status = 0;
                curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
                if (st)
                    st->http_status = (int32_t)status;
                struct ruv__rpc_reply reply;
                rc = ruv__client_reply(s->resp.body.data, s->resp.body.len, status, s->id, &reply,
                                       result, st);
                ruv__rpc_reply_clear(&reply);
                if (rc == RUV_OK) {
                    if (st)
                        st->error = RUV_A2A_ERR_PROTOCOL;
                    rc = ruv__detail_set(RUV_E_PROTOCOL,
                                         "expected text/event-stream, got %s with a result",
                                         s->resp.content_type[0] ? s->resp.content_type
                                                                 : "no Content-Type");
                }
            }
        } else if (rc == RUV_OK && !s->is_sse) {
            rc = s->fail_status;
        }
        /* With an event stream, events that came with the headers are
         * delivered before a failure that followed them (stream_next). */
        if (st)
            st->request_sent = 1;
        if (rc == RUV_OK) {
            if (st) {
                long status = 0;
                curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
                st->http_status = (int32_t)status;
            }
            *out = s;
            return RUV_OK;
        }
        if (s->fail_status && st && !st->error) {
            st->error = s->fail_st.error;
            st->rpc_code = s->fail_st.rpc_code;
        }
        ruv__stream_close(s);
        if (rc == RUV_E_REMOTE && attempt == 0 && st && ruv__client_fall_back(c, st->rpc_code)) {
            free(*result);
            *result = NULL;
            memset((char *)st + sizeof st->struct_size, 0, sizeof *st - sizeof st->struct_size);
            continue;
        }
        return rc;
    }
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
            int rc = transfer_failure(s);
            if (rc != RUV_OK)
                continue;
            ruv__sse_finish(s->sse);
            ruv__detail_set(RUV_E_IO,
                            "the stream ended before a terminal or interrupted state (stream "
                            "resume is not implemented)");
            fail(s, RUV_E_IO, RUV_A2A_ERR_TRANSPORT, 0, NULL);
            continue;
        }
        int64_t deadline = s->last_byte_ms + s->c->http.idle_timeout_ms;
        if (now_ms() >= deadline) {
            idle_timeout(s);
            continue;
        }
        drive(s, deadline);
    }
}

struct ruv_a2a_client *ruv__stream_client(struct ruv_a2a_stream *s) { return s->c; }
