/* tests/a2a/test_a2a_io.c — the asynchronous calls of the `a2a` plugin
 * (ops V3: one I/O thread per plugin state driving a curl multi handle,
 * events through a notify fd) against the loopback fake peer
 * (fakes/fake_peer.py): many calls in flight on one thread, abort, closing
 * a client and unloading with transfers in flight, retries and the v0.3
 * fallback on the I/O thread, a forked child: the parent's client refused,
 * its own client served by a new I/O thread. Skips (77) when the
 * fake cannot run. Streams still use the blocking slots (V2). */
#include "config.h"
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include <ruvector/feature-a2a.h>
#include <ruvector/plugin.h>
#include <ruvector/ruvector.h>

#include "a2a_fake_peer.h"

static uint64_t submit(struct ruv_a2a_client *c, uint32_t m, const char *params)
{
    uint64_t req = 0;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    int rc = ops->call_submit(c, m, params, strlen(params), NULL, &req, &st);
    if (rc != RUV_OK)
        fail_msg("call_submit: %d %s", rc, ruv_last_error());
    assert_true(req != 0);
    return req;
}

/* Waits for and pops exactly one event (failing after timeout_ms). */
static struct ruv_a2a_event next_event(struct ruv_a2a_client *c, int timeout_ms)
{
    struct ruv_a2a_event ev;
    int64_t until = now_ms() + timeout_ms;
    for (;;) {
        if (ops->poll(c, &ev, 1) == 1)
            return ev;
        int64_t left = until - now_ms();
        if (left <= 0)
            fail_msg("no event within %d ms", timeout_ms);
        assert_true(ops->wait(c, (int)left) >= 0);
    }
}

/* The notify fd is readable exactly while events are queued. */
static int fd_readable(struct ruv_a2a_client *c)
{
    struct pollfd p = {.fd = ops->notify_fd(c), .events = POLLIN};
    return poll(&p, 1, 0) == 1;
}

static char *send_for_task_id(struct ruv_a2a_client *c)
{
    json_t *res = NULL;
    assert_int_equal(call(c, RUV_A2A_SEND, SEND_PARAMS, NULL, &res), RUV_OK);
    char *id = strdup(json_string_value(json_object_get(json_object_get(res, "task"), "id")));
    json_decref(res);
    return id;
}

static void test_many_calls_one_thread(void **state)
{
    (void)state;
    struct ruv_a2a_client *c = connect_ok("normal", "v1");
    char *id = send_for_task_id(c);
    char params[128];
    snprintf(params, sizeof params, "{\"id\":\"%s\"}", id);
    assert_true(ops->notify_fd(c) >= 0);
    assert_false(fd_readable(c));
    /* The first call starts the I/O thread; after that, 50 more calls in
     * flight at once add no thread. */
    uint64_t first = submit(c, RUV_A2A_GET, params);
    struct ruv_a2a_event ev = next_event(c, 10000);
    assert_int_equal(ev.req, first);
    ops->release(c, &ev, 1);
    int before = threads_now();
    enum { N = 50 };
    uint64_t reqs[N];
    int seen[N];
    for (int i = 0; i < N; i++) {
        reqs[i] = submit(c, RUV_A2A_GET, params);
        seen[i] = 0;
    }
    assert_int_equal(threads_now(), before);
    int got = 0, max_threads = before;
    while (got < N) {
        struct ruv_a2a_event evs[16];
        size_t n = ops->poll(c, evs, 16);
        if (n == 0) {
            assert_int_equal(ops->wait(c, 10000), 1);
            int t = threads_now();
            max_threads = t > max_threads ? t : max_threads;
            continue;
        }
        for (size_t k = 0; k < n; k++) {
            assert_int_equal(evs[k].struct_size, sizeof evs[k]);
            assert_int_equal(evs[k].kind, RUV_A2A_EV_RESULT);
            assert_int_equal(evs[k].status, RUV_OK);
            assert_int_equal(evs[k].method, RUV_A2A_GET);
            assert_int_equal(evs[k].http_status, 200);
            json_t *task = json_loadb(evs[k].json, evs[k].json_len, 0, NULL);
            assert_non_null(task);
            assert_string_equal(json_string_value(json_object_get(task, "id")), id);
            json_decref(task);
            int found = 0;
            for (int i = 0; i < N; i++)
                if (reqs[i] == evs[k].req) {
                    assert_int_equal(seen[i], 0);
                    seen[i] = found = 1;
                }
            assert_true(found);
        }
        got += (int)n;
        ops->release(c, evs, n);
    }
    assert_int_equal(max_threads, before);
    assert_false(fd_readable(c));
    assert_int_equal(peer_stat("rpc"), 1 + 1 + N);
    free(id);
    ops->client_close(c);
}

static void test_abort_in_flight(void **state)
{
    (void)state;
    struct ruv_a2a_client *c = connect_ok("normal", "v1");
    peer_mode("slow_headers", "v1"); /* the peer dribbles its headers for 5 s */
    uint64_t slow = submit(c, RUV_A2A_GET, "{\"id\":\"t\"}");
    usleep(200 * 1000); /* the request is on the wire */
    int64_t t0 = now_ms();
    ops->abort(c, slow);
    ops->abort(c, 987654); /* unknown: a no-op */
    struct ruv_a2a_event ev = next_event(c, 3000);
    assert_true(now_ms() - t0 < 2000); /* not the peer's 5 s */
    assert_int_equal(ev.req, slow);
    assert_int_equal(ev.status, RUV_E_CANCELED);
    assert_null(ev.json);
    assert_non_null(strstr(ev.detail, "aborted"));
    ops->release(c, &ev, 1);
    assert_false(fd_readable(c));
    ops->abort(c, slow); /* finished: a no-op */
    ops->client_close(c);
    peer_mode("normal", "v1");
}

static void test_close_with_calls_in_flight(void **state)
{
    (void)state;
    struct ruv_a2a_client *c = connect_ok("normal", "v1");
    peer_mode("slow_headers", "v1");
    for (int i = 0; i < 8; i++)
        submit(c, RUV_A2A_GET, "{\"id\":\"t\"}");
    usleep(100 * 1000);
    int64_t t0 = now_ms();
    ops->client_close(c); /* never waits on the peer */
    assert_true(now_ms() - t0 < 1000);
    /* The thread carries on for other clients. */
    peer_mode("normal", "v1");
    c = connect_ok("normal", "v1");
    uint64_t r = submit(c, RUV_A2A_GET, "{\"id\":\"nope\"}");
    struct ruv_a2a_event ev = next_event(c, 10000);
    assert_int_equal(ev.req, r);
    assert_int_equal(ev.status, RUV_E_REMOTE);
    assert_int_equal(ev.error, RUV_A2A_ERR_REMOTE);
    assert_int_equal(ev.rpc_code, -32001);
    json_t *err = json_loadb(ev.json, ev.json_len, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(err, "code")), -32001);
    json_decref(err);
    ops->release(c, &ev, 1);
    ops->client_close(c);
}

static void test_errors_retries_and_fallback(void **state)
{
    (void)state;
    /* Pre-flight refusals come back from call_submit, nothing queued. */
    struct ruv_a2a_client *c = connect_ok("normal", "v1");
    struct ruv_a2a_policy p = policy();
    p.skill = "no-such-skill";
    uint64_t req = 0;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    assert_int_equal(ops->call_submit(c, RUV_A2A_SEND, SEND_PARAMS, strlen(SEND_PARAMS), &p,
                                      &req, &st),
                     RUV_E_POLICY);
    assert_int_equal(req, 0);
    assert_int_equal(peer_stat("rpc"), 0);
    assert_int_equal(ops->call_submit(c, 99, "{}", 2, NULL, &req, &st), RUV_E_INVAL);

    /* An idempotent call retries 503 (twice) on the I/O thread. */
    peer_mode("flaky503", "v1");
    req = submit(c, RUV_A2A_GET, "{\"id\":\"nope\"}");
    struct ruv_a2a_event ev = next_event(c, 15000);
    assert_int_equal(ev.status, RUV_E_REMOTE);
    assert_int_equal(ev.rpc_code, -32001);
    ops->release(c, &ev, 1);
    assert_int_equal(peer_stat("rpc"), 3);
    /* A 502 HTML page is an HTTP error, not retried for SendMessage. */
    peer_mode("http500", "v1");
    submit(c, RUV_A2A_SEND, SEND_PARAMS);
    ev = next_event(c, 15000);
    assert_int_equal(ev.status, RUV_E_REMOTE);
    assert_int_equal(ev.error, RUV_A2A_ERR_HTTP);
    assert_int_equal(ev.http_status, 502);
    ops->release(c, &ev, 1);
    assert_int_equal(peer_stat("rpc"), 1);
    peer_mode("malformed_json", "v1");
    submit(c, RUV_A2A_GET, "{\"id\":\"x\"}");
    ev = next_event(c, 15000);
    assert_int_equal(ev.error, RUV_A2A_ERR_PROTOCOL);
    assert_true(ev.detail[0] != '\0');
    ops->release(c, &ev, 1);
    ops->client_close(c);

    /* -32601 on v1.0 while the card declares 0.3: resent once over v0.3
     * inside poll, the event is the v0.3 answer (normalized). */
    c = connect_ok("v1_unknown", "both");
    req = submit(c, RUV_A2A_SEND, SEND_PARAMS);
    ev = next_event(c, 15000);
    assert_int_equal(ev.req, req);
    assert_int_equal(ev.status, RUV_OK);
    json_t *res = json_loadb(ev.json, ev.json_len, 0, NULL);
    assert_non_null(json_object_get(res, "task"));
    json_decref(res);
    ops->release(c, &ev, 1);
    json_t *info = info_of(c);
    assert_string_equal(json_string_value(json_object_get(info, "protocol_version")), "0.3");
    json_decref(info);
    ops->client_close(c);
    peer_mode("normal", "v1");
}

/* A GlobalBudget in queue mode: a send that must wait joins the queue and
 * call_submit returns (the wait is the I/O thread's, a2a.md §5), a send
 * beyond the queue depth is refused at once, an aborted waiter leaves the
 * queue, and the queued sends go out as the window admits them. */
static void test_budget_queue_on_the_io_thread(void **state)
{
    (void)state;
    struct ruv_a2a_client *c = connect_ok("normal", "v1");
    struct ruv_a2a_budget_options bo = {.struct_size = sizeof bo,
                                        .queue_depth = 2,
                                        .max_usd_per_window = -1,
                                        .max_tokens_per_window = -1,
                                        .max_tasks_per_window = 1,
                                        .window_ms = 300};
    struct ruv_a2a_budget *b = NULL;
    assert_int_equal(ops->budget_new(pstate, &bo, &b), RUV_OK);
    struct ruv_a2a_policy p = policy();
    p.budget = b;
    uint64_t reqs[3];
    for (int i = 0; i < 3; i++) { /* one admitted, two queued: none waits here */
        reqs[i] = 0;
        memset(&st, 0, sizeof st);
        st.struct_size = sizeof st;
        assert_int_equal(ops->call_submit(c, RUV_A2A_SEND, SEND_PARAMS, strlen(SEND_PARAMS), &p,
                                          &reqs[i], &st),
                         RUV_OK);
    }
    uint64_t extra = 0;
    assert_int_equal(ops->call_submit(c, RUV_A2A_SEND, SEND_PARAMS, strlen(SEND_PARAMS), &p,
                                      &extra, &st),
                     RUV_E_POLICY);
    assert_int_equal(st.error, RUV_A2A_ERR_BUDGET);
    assert_non_null(strstr(ruv_last_error(), "queue_full"));
    ops->abort(c, reqs[2]); /* a waiter leaves the queue ... */
    int ok = 0, canceled = 0;
    while (ok < 3) { /* the two first and the one sent in the freed place */
        struct ruv_a2a_event ev = next_event(c, 10000);
        if (ev.req == reqs[2] && ev.status == RUV_E_CANCELED) {
            canceled++;
            /* ... so there is room for another one */
            reqs[2] = 0;
            assert_int_equal(ops->call_submit(c, RUV_A2A_SEND, SEND_PARAMS, strlen(SEND_PARAMS),
                                              &p, &reqs[2], &st),
                             RUV_OK);
        } else {
            assert_int_equal(ev.status, RUV_OK);
            ok++;
        }
        ops->release(c, &ev, 1);
    }
    assert_int_equal(canceled, 1);
    assert_int_equal(peer_stat("rpc"), 3);
    ops->client_close(c);
    ops->budget_free(b);
}

/* The report's features.a2a.io_in_flight; -1 when missing. */
static long io_in_flight(void)
{
    char *text = NULL;
    assert_int_equal(ruv_engine_report(eng, &text), RUV_OK);
    json_t *j = json_loads(text, 0, NULL);
    ruv_free(text);
    const char *v = json_string_value(
        json_object_get(json_object_get(json_object_get(j, "features"), "a2a"), "io_in_flight"));
    long n = v ? strtol(v, NULL, 10) : -1;
    json_decref(j);
    return n;
}

static void test_forked_child_refused(void **state)
{
    (void)state;
    struct ruv_a2a_client *c = connect_ok("normal", "v1");
    uint64_t r = submit(c, RUV_A2A_GET, "{\"id\":\"nope\"}"); /* the thread runs */
    struct ruv_a2a_event ev = next_event(c, 10000);
    assert_int_equal(ev.req, r);
    ops->release(c, &ev, 1);
    for (int i = 0; i < 10000 && io_in_flight() != 0; i++) /* see below */
        usleep(1000);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        uint64_t req = 0;
        struct ruv_a2a_call_status cst = {.struct_size = sizeof cst};
        int rc = ops->call_submit(c, RUV_A2A_GET, "{\"id\":\"x\"}", 10, NULL, &req, &cst);
        int ok = rc == RUV_E_STATE && strstr(ruv_last_error(), "fork") != NULL;
        struct ruv_a2a_event e;
        ok = ok && ops->poll(c, &e, 1) == 0 && ops->wait(c, 0) == RUV_E_STATE;
        ops->abort(c, 1);
        ops->client_close(c); /* never takes a lock the parent's thread may hold */
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* The parent's client is unaffected. */
    r = submit(c, RUV_A2A_GET, "{\"id\":\"nope\"}");
    ev = next_event(c, 10000);
    assert_int_equal(ev.req, r);
    assert_int_equal(ev.rpc_code, -32001);
    ops->release(c, &ev, 1);
    ops->client_close(c);
}

#if defined(__SANITIZE_THREAD__)
#define RUV_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RUV_TEST_TSAN 1
#endif
#endif

/* A forked child starts an I/O thread of its own on its first submit: a
 * client it opens works asynchronously, while the parent's client stays
 * refused there (its notify fd is shared with the parent). The parent's
 * thread and client carry on. (Not under TSan: it does not support new
 * threads after a multi-threaded fork.) */
static void test_forked_child_restarts_the_io_thread(void **state)
{
    (void)state;
#ifdef RUV_TEST_TSAN
    skip();
#endif
    struct ruv_a2a_client *c = connect_ok("normal", "v1");
    uint64_t r = submit(c, RUV_A2A_GET, "{\"id\":\"nope\"}"); /* the thread runs */
    struct ruv_a2a_event ev = next_event(c, 10000);
    assert_int_equal(ev.req, r);
    ops->release(c, &ev, 1);
    /* The thread frees a finished call just after queueing its event: fork
     * once it has (a call freed mid-fork would be the parent's, unreachable
     * in the child, and valgrind would count it lost there). */
    for (int i = 0; i < 10000 && io_in_flight() != 0; i++)
        usleep(1000);
    assert_int_equal(io_in_flight(), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int ok = 1;
        uint64_t req = 0;
        struct ruv_a2a_call_status cst = {.struct_size = sizeof cst};
        /* The parent's client: refused. */
        ok = ok && ops->call_submit(c, RUV_A2A_GET, "{\"id\":\"x\"}", 10, NULL, &req, &cst) ==
                       RUV_E_STATE;
        /* A client of the child's own: works on a new I/O thread, several
         * calls in flight. */
        struct ruv_a2a_client *mine = NULL;
        struct ruv_a2a_client_options o = {.struct_size = sizeof o};
        ok = ok && ops->client_open(pstate, base, &o, &mine, &cst) == RUV_OK;
        uint64_t reqs[3] = {0, 0, 0};
        for (int i = 0; ok && i < 3; i++)
            ok = ops->call_submit(mine, RUV_A2A_GET, "{\"id\":\"nope\"}", 13, NULL, &reqs[i],
                                  &cst) == RUV_OK;
        int got = 0;
        int64_t until = now_ms() + 20000;
        while (ok && got < 3 && now_ms() < until) {
            struct ruv_a2a_event e;
            if (ops->poll(mine, &e, 1) == 1) {
                ok = e.rpc_code == -32001 && e.status == RUV_E_REMOTE;
                ops->release(mine, &e, 1);
                got++;
            } else if (ops->wait(mine, 1000) < 0) {
                ok = 0;
            }
        }
        ok = ok && got == 3;
        ops->client_close(mine);
        ops->client_close(c);
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    r = submit(c, RUV_A2A_GET, "{\"id\":\"nope\"}");
    ev = next_event(c, 10000);
    assert_int_equal(ev.req, r);
    assert_int_equal(ev.rpc_code, -32001);
    ops->release(c, &ev, 1);
    ops->client_close(c);
}

/* Last: unloading the engine with a call in flight joins the thread
 * without waiting for the peer. */
static void test_unload_with_call_in_flight(void **state)
{
    (void)state;
    assert_true(ops->struct_size >= RUV_A2A_OPS_SIZE_V3);
    struct ruv_a2a_client *c = connect_ok("normal", "v1");
    peer_mode("slow_headers", "v1");
    submit(c, RUV_A2A_GET, "{\"id\":\"t\"}");
    usleep(100 * 1000);
    ops->client_close(c);
    int64_t t0 = now_ms();
    ruv_engine_close(eng);
    eng = NULL;
    assert_true(now_ms() - t0 < 2000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_calls_one_thread),
        cmocka_unit_test(test_abort_in_flight),
        cmocka_unit_test(test_close_with_calls_in_flight),
        cmocka_unit_test(test_errors_retries_and_fallback),
        cmocka_unit_test(test_budget_queue_on_the_io_thread),
        cmocka_unit_test(test_forked_child_refused),
        cmocka_unit_test(test_forked_child_restarts_the_io_thread),
        cmocka_unit_test(test_unload_with_call_in_flight),
    };
    return cmocka_run_group_tests(tests, a2a_fake_setup, a2a_fake_teardown);
}
