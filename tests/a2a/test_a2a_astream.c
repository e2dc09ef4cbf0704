/* tests/a2a/test_a2a_astream.c — streams on the a2a plugin's I/O thread
 * (ops V3 stream_submit / credit) against the loopback fake peer: a stream
 * to its end, backpressure (the transfer pauses at the queue limit and
 * resumes on credit, nothing lost), abort mid-stream, closing a client
 * with a stream in flight, resume after a broken connection, upfront and
 * in-stream errors, the idle deadline. Skips (77) without the fake. */
#include "config.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include <ruvector/feature-a2a.h>
#include <ruvector/plugin.h>
#include <ruvector/ruvector.h>

#include "a2a_fake_peer.h"

static uint64_t open_stream(struct ruv_a2a_client *c)
{
    uint64_t req = 0;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    int rc = ops->stream_submit(c, RUV_A2A_SEND_STREAMING, SEND_PARAMS, strlen(SEND_PARAMS),
                                NULL, &req, &st);
    if (rc != RUV_OK)
        fail_msg("stream_submit: %d %s", rc, ruv_last_error());
    return req;
}

/* What a stream delivered: event member names in order, and its END. */
struct run {
    char names[6000][16];
    size_t n;
    struct ruv_a2a_event end;
    char end_detail[512];
    json_t *end_json;
};

static const char *member(const char *json, size_t len, char out[16])
{
    json_t *j = json_loadb(json, len, 0, NULL);
    assert_non_null(j);
    const char *k = json_object_iter_key(json_object_iter(j));
    snprintf(out, 16, "%s", k ? k : "?");
    json_decref(j);
    return out;
}

/* Pops events of req until its END (crediting each when credit is set),
 * or until no event came for idle_ms (then returns 0). */
static int collect(struct ruv_a2a_client *c, uint64_t req, struct run *r, int credit, int idle_ms)
{
    for (;;) {
        struct ruv_a2a_event evs[64];
        size_t n = ops->poll(c, evs, 64);
        if (n == 0) {
            if (ops->wait(c, idle_ms) == 0)
                return 0;
            continue;
        }
        int ended = 0;
        uint32_t took = 0;
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(evs[i].req, req);
            if (evs[i].kind == RUV_A2A_EV_STREAM) {
                assert_int_equal(evs[i].status, RUV_OK);
                assert_true(r->n < sizeof r->names / sizeof r->names[0]);
                member(evs[i].json, evs[i].json_len, r->names[r->n++]);
                took++;
            } else {
                assert_int_equal(evs[i].kind, RUV_A2A_EV_END);
                r->end = evs[i];
                snprintf(r->end_detail, sizeof r->end_detail, "%s", evs[i].detail);
                r->end.detail = r->end_detail;
                r->end_json = evs[i].json ? json_loadb(evs[i].json, evs[i].json_len, 0, NULL)
                                          : NULL;
                r->end.json = NULL;
                ended = 1;
            }
        }
        ops->release(c, evs, n);
        if (credit && took)
            ops->credit(c, req, took);
        if (ended)
            return 1;
    }
}

static struct run *new_run(void)
{
    struct run *r = calloc(1, sizeof *r);
    assert_non_null(r);
    return r;
}

static void free_run(struct run *r)
{
    json_decref(r->end_json);
    free(r);
}

static void test_stream_to_the_end(void **state)
{
    (void)state;
    struct ruv_a2a_client *c = connect_ok("normal", "v1");
    uint64_t req = open_stream(c);
    struct run *r = new_run();
    assert_true(collect(c, req, r, 1, 10000));
    assert_int_equal(r->end.status, RUV_OK);
    const char *want[] = {"task", "statusUpdate", "statusUpdate", "statusUpdate",
                          "artifactUpdate", "statusUpdate"};
    assert_int_equal(r->n, 6);
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(r->names[i], want[i]);
    free_run(r);
    ops->client_close(c);
}

/* 20 streams at once on the one I/O thread, their events interleaved in
 * the client's queue, each complete and in order. */
static void test_many_streams_one_thread(void **state)
{
    (void)state;
    struct ruv_a2a_client *c = connect_ok("normal", "v1");
    struct run *warm = new_run();
    assert_true(collect(c, open_stream(c), warm, 1, 10000)); /* the thread runs now */
    free_run(warm);
    int before = threads_now();
    enum { N = 20 };
    uint64_t reqs[N];
    size_t events[N] = {0};
    int ended[N] = {0}, n_ended = 0;
    for (int i = 0; i < N; i++)
        reqs[i] = open_stream(c);
    while (n_ended < N) {
        struct ruv_a2a_event evs[64];
        size_t n = ops->poll(c, evs, 64);
        if (n == 0) {
            assert_int_equal(ops->wait(c, 15000), 1);
            assert_int_equal(threads_now(), before);
            continue;
        }
        for (size_t k = 0; k < n; k++) {
            int i = 0;
            while (i < N && reqs[i] != evs[k].req)
                i++;
            assert_true(i < N);
            assert_false(ended[i]);
            if (evs[k].kind == RUV_A2A_EV_STREAM) {
                char name[16];
                member(evs[k].json, evs[k].json_len, name);
                assert_string_equal(name, events[i] == 0 ? "task"
                                          : events[i] == 4 ? "artifactUpdate"
                                                           : "statusUpdate");
                events[i]++;
                ops->credit(c, evs[k].req, 1);
            } else {
                assert_int_equal(evs[k].kind, RUV_A2A_EV_END);
                assert_int_equal(evs[k].status, RUV_OK);
                ended[i] = 1;
                n_ended++;
            }
        }
        ops->release(c, evs, n);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(events[i], 6);
    assert_int_equal(threads_now(), before);
    ops->client_close(c);
}

static void test_backpressure(void **state)
{
    (void)state;
    struct ruv_a2a_client *c = connect_ok("sse_flood", "v1"); /* 5,002 events */
    uint64_t req = open_stream(c);
    struct run *r = new_run();
    /* No credit: the transfer pauses at 1,024 queued events (one network
     * chunk may pass it), well short of the 5,002 the peer has. */
    assert_false(collect(c, req, r, 0, 1500));
    assert_true(r->n >= 1024);
    assert_true(r->n < 1024 + 200);
    size_t first = r->n;
    /* Still paused a while later: nothing was read meanwhile. */
    assert_false(collect(c, req, r, 0, 500));
    assert_int_equal(r->n, first);
    /* Credit what was taken: the rest arrives, in order, nothing lost. */
    ops->credit(c, req, (uint32_t)first);
    assert_true(collect(c, req, r, 1, 10000));
    assert_int_equal(r->end.status, RUV_OK);
    assert_int_equal(r->n, 5002);
    assert_string_equal(r->names[0], "task");
    assert_string_equal(r->names[5001], "statusUpdate");
    free_run(r);
    ops->credit(c, req, 10); /* ended: a no-op */
    ops->client_close(c);
}

static void test_abort_mid_stream(void **state)
{
    (void)state;
    struct ruv_a2a_client *c = connect_ok("sse_stall", "v1"); /* one event, then 5 s silence */
    uint64_t req = open_stream(c);
    struct run *r = new_run();
    assert_false(collect(c, req, r, 1, 500));
    assert_int_equal(r->n, 1);
    int64_t t0 = now_ms();
    ops->abort(c, req);
    assert_true(collect(c, req, r, 1, 3000));
    assert_true(now_ms() - t0 < 2000);
    assert_int_equal(r->end.status, RUV_E_CANCELED);
    free_run(r);
    /* Closing a client with a stream in flight never waits on the peer. */
    req = open_stream(c);
    usleep(200 * 1000);
    t0 = now_ms();
    ops->client_close(c);
    assert_true(now_ms() - t0 < 1000);
}

static void test_resume_and_errors(void **state)
{
    (void)state;
    struct {
        const char *mode;
        int status;
        size_t events;
        int32_t rpc;
    } cases[] = {
        {"sse_early_eof", RUV_OK, 5, 0},      /* resumed: snapshot reconciled, to the end */
        {"sse_early_eof_done", RUV_OK, 6, 0}, /* ended meanwhile: GetTask */
        {"sse_early_eof_gone", RUV_E_REMOTE, 3, -32001},
        {"upfront_error", RUV_E_REMOTE, 0, -32004},
        {"sse_error_event", RUV_E_REMOTE, 2, -32603},
        {"sse_malformed", RUV_E_PROTOCOL, 2, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        struct ruv_a2a_client *c = connect_ok(cases[k].mode, "v1");
        uint64_t req = open_stream(c);
        struct run *r = new_run();
        assert_true(collect(c, req, r, 1, 20000));
        if (r->end.status != cases[k].status || r->n != cases[k].events)
            fail_msg("%s: status %d, %zu events (%s)", cases[k].mode, r->end.status, r->n,
                     r->end.detail);
        assert_int_equal(r->end.rpc_code, cases[k].rpc);
        if (cases[k].rpc)
            assert_int_equal(json_integer_value(json_object_get(r->end_json, "code")),
                             cases[k].rpc);
        free_run(r);
        ops->client_close(c);
    }
    /* Our idle deadline (scaled down) ends a silent stream. */
    struct ruv_a2a_client_options o = options(0);
    o.idle_timeout_ms = 300;
    struct ruv_a2a_client *c = NULL;
    assert_int_equal(open_client("sse_stall", "v1", &o, &c), RUV_OK);
    uint64_t req = open_stream(c);
    struct run *r = new_run();
    int64_t t0 = now_ms();
    assert_true(collect(c, req, r, 1, 5000));
    assert_true(now_ms() - t0 < 3000);
    assert_int_equal(r->end.status, RUV_E_TIMEOUT);
    assert_int_equal(r->end.error, RUV_A2A_ERR_TIMEOUT);
    assert_non_null(strstr(r->end.detail, "idle"));
    free_run(r);
    ops->client_close(c);
    peer_mode("normal", "v1");
}

/* A resume in both dialects, the task moving on while the stream is down
 * (sse_early_eof_art: its artifact is made then, so only a snapshot shows
 * it): v1.0's SubscribeToTask opens with a Task snapshot, v0.3's
 * tasks/resubscribe has none and the client reads one with tasks/get
 * first. The artifact arrives exactly once; the stream ends COMPLETED. */
static void test_resume_reconciled_in_both_dialects(void **state)
{
    (void)state;
    static const char *const cards[] = {"v1", "v03"};
    static const struct {
        const char *mode;
        size_t events;
    } cases[] = {{"sse_early_eof", 5}, {"sse_early_eof_art", 4}, {"sse_early_eof_done", 6}};
    for (size_t d = 0; d < 2; d++) {
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
            struct ruv_a2a_client *c = connect_ok(cases[k].mode, cards[d]);
            uint64_t req = open_stream(c);
            struct run *r = new_run();
            assert_true(collect(c, req, r, 1, 20000));
            if (r->end.status != RUV_OK || r->n != cases[k].events)
                fail_msg("%s %s: status %d, %zu events (%s)", cards[d], cases[k].mode,
                         r->end.status, r->n, r->end.detail);
            size_t artifacts = 0;
            for (size_t i = 0; i < r->n; i++)
                artifacts += strcmp(r->names[i], "artifactUpdate") == 0;
            assert_int_equal(artifacts, 1);
            assert_string_equal(r->names[r->n - 2], "artifactUpdate");
            assert_string_equal(r->names[r->n - 1], "statusUpdate");
            free_run(r);
            ops->client_close(c);
        }
    }
    peer_mode("normal", "v1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_to_the_end),
        cmocka_unit_test(test_many_streams_one_thread),
        cmocka_unit_test(test_backpressure),
        cmocka_unit_test(test_abort_mid_stream),
        cmocka_unit_test(test_resume_and_errors),
        cmocka_unit_test(test_resume_reconciled_in_both_dialects),
    };
    return cmocka_run_group_tests(tests, a2a_fake_setup, a2a_fake_teardown);
}
