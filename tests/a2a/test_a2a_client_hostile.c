/* tests/a2a/test_a2a_client_hostile.c — the blocking client of the `a2a`
 * plugin against a hostile or failing loopback fake peer
 * (tests/a2a/fakes/fake_peer.py): malformed JSON and SSE, wrong ids,
 * oversized bodies and events, 5xx and retries, our deadlines, and stream
 * resume with reconciliation. Skips (77) when python3 with `cryptography`
 * cannot run the fake. */
#include "config.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include <ruvector/feature-a2a.h>
#include <ruvector/plugin.h>
#include <ruvector/ruvector.h>

#include "a2a_fake_peer.h"

static void test_stream_hostile(void **state)
{
    (void)state;
    struct ruv_a2a_client_options o = options(0);
    o.max_event_bytes = 64 << 10;
    struct ruv_a2a_client *c = NULL;
    assert_int_equal(open_client("normal", "v1", &o, &c), RUV_OK);
    char names[16][16];
    size_t n;
    json_t *last;
    static const struct {
        const char *mode;
        int rc;
        uint32_t error;
        size_t events;
    } cases[] = {
        {"sse_malformed", RUV_E_PROTOCOL, RUV_A2A_ERR_PROTOCOL, 2},
        {"sse_wrong_id", RUV_E_PROTOCOL, RUV_A2A_ERR_PROTOCOL, 1},
        {"sse_error_event", RUV_E_REMOTE, RUV_A2A_ERR_REMOTE, 2},
        {"sse_big_event", RUV_E_PROTOCOL, RUV_A2A_ERR_TOO_LARGE, 1},
        /* Resumed (SubscribeToTask) and reconciled: no event twice. */
        {"sse_early_eof", RUV_E_NOTFOUND, RUV_A2A_ERR_NONE, 5},
        /* Completed meanwhile: -32004, then GetTask gives the rest. */
        {"sse_early_eof_done", RUV_E_NOTFOUND, RUV_A2A_ERR_NONE, 6},
        {"sse_early_eof_gone", RUV_E_REMOTE, RUV_A2A_ERR_REMOTE, 3},
        {"upfront_error", RUV_E_REMOTE, RUV_A2A_ERR_REMOTE, 0},
        {"http500", RUV_E_REMOTE, RUV_A2A_ERR_HTTP, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        peer_mode(cases[i].mode, "v1");
        int rc = run_stream(c, names, 16, &n, &last);
        if (rc != cases[i].rc || st.error != cases[i].error || n != cases[i].events)
            fail_msg("%s: rc %d error %u events %zu (%s)", cases[i].mode, rc, st.error, n,
                     ruv_last_error());
        if (strncmp(cases[i].mode, "sse_early_eof", 13) == 0 && rc == RUV_E_NOTFOUND) {
            /* task, WORKING, WORKING (, WORKING), then what resuming added */
            assert_string_equal(names[n - 2], "artifactUpdate");
            assert_string_equal(names[n - 1], "statusUpdate");
            assert_string_equal(state_of(json_object_get(last, "statusUpdate")),
                                "TASK_STATE_COMPLETED");
        }
        if (strcmp(cases[i].mode, "sse_error_event") == 0)
            assert_int_equal(st.rpc_code, -32603);
        if (strcmp(cases[i].mode, "upfront_error") == 0) {
            assert_int_equal(st.rpc_code, -32004);
            assert_int_equal(json_integer_value(json_object_get(last, "code")), -32004);
        }
        json_decref(last);
    }
    ops->client_close(c);
}

/* The blocking stream's resume in both dialects (as in test_a2a_astream):
 * a v0.3 resume reads a tasks/get snapshot before tasks/resubscribe, so an
 * artifact made while the stream was down arrives, exactly once. */
static void test_stream_resume_both_dialects(void **state)
{
    (void)state;
    static const char *const cards[] = {"v1", "v03"};
    static const struct {
        const char *mode;
        size_t events;
    } cases[] = {{"sse_early_eof", 5}, {"sse_early_eof_art", 4}, {"sse_early_eof_done", 6}};
    char names[16][16];
    size_t n;
    json_t *last;
    for (size_t d = 0; d < 2; d++) {
        struct ruv_a2a_client_options o = options(0);
        struct ruv_a2a_client *c = NULL;
        assert_int_equal(open_client("normal", cards[d], &o, &c), RUV_OK);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            peer_mode(cases[i].mode, cards[d]);
            int rc = run_stream(c, names, 16, &n, &last);
            if (rc != RUV_E_NOTFOUND || n != cases[i].events)
                fail_msg("%s %s: rc %d events %zu (%s)", cards[d], cases[i].mode, rc, n,
                         ruv_last_error());
            size_t artifacts = 0;
            for (size_t k = 0; k < n; k++)
                artifacts += strcmp(names[k], "artifactUpdate") == 0;
            assert_int_equal(artifacts, 1);
            assert_string_equal(names[n - 2], "artifactUpdate");
            assert_string_equal(state_of(json_object_get(last, "statusUpdate")),
                                "TASK_STATE_COMPLETED");
            json_decref(last);
        }
        ops->client_close(c);
    }
    peer_mode("normal", "v1");
}

/* Proxies by API only (a2a.md §6), against the counting proxy fake
 * (fakes/fake_proxy.py): with http_proxy, HTTPS_PROXY and ALL_PROXY naming
 * it and no_proxy unset, a client without a proxy option never uses it;
 * with options.proxy every request (card, unary call, stream) goes through
 * it. */
static json_int_t proxied(int port)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/_stats", port);
    json_t *s = get_json(url);
    json_int_t n = json_integer_value(json_object_get(s, "forward")) +
                   json_integer_value(json_object_get(s, "connect"));
    json_decref(s);
    return n;
}

static void test_proxy_by_api_only(void **state)
{
    (void)state;
    int port = 0;
    pid_t pid = start_fake_script("fake_proxy.py", &port);
    if (pid < 0)
        fail_msg("the proxy fake did not start");
    char proxy[64];
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", port);
    static const char *const vars[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                                       "all_proxy", "ALL_PROXY"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        setenv(vars[i], proxy, 1);
    unsetenv("no_proxy");
    unsetenv("NO_PROXY");
    char names[16][16];
    size_t n;
    json_t *last, *res;
    struct ruv_a2a_client_options o = options(0);
    struct ruv_a2a_client *c = NULL;
    assert_int_equal(open_client("normal", "v1", &o, &c), RUV_OK);
    assert_int_equal(call(c, RUV_A2A_SEND, SEND_PARAMS, NULL, &res), RUV_OK);
    json_decref(res);
    assert_int_equal(run_stream(c, names, 16, &n, &last), RUV_E_NOTFOUND);
    json_decref(last);
    ops->client_close(c);
    assert_int_equal(proxied(port), 0);
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);

    o.proxy = proxy;
    assert_int_equal(open_client("normal", "v1", &o, &c), RUV_OK);
    json_int_t after_card = proxied(port);
    assert_true(after_card >= 1);
    assert_int_equal(call(c, RUV_A2A_SEND, SEND_PARAMS, NULL, &res), RUV_OK);
    json_decref(res);
    assert_int_equal(run_stream(c, names, 16, &n, &last), RUV_E_NOTFOUND);
    assert_int_equal(n, 6);
    json_decref(last);
    ops->client_close(c);
    assert_true(proxied(port) >= after_card + 2);
    /* A proxy value with a line break is refused. */
    o.proxy = "http://127.0.0.1:1\r\nX: y";
    assert_int_equal(open_client("normal", "v1", &o, &c), RUV_E_INVAL);
    stop_fake_script(pid);
}

/* compression on: a gzip bomb (~32 KiB that decode to 32 MiB) stops at
 * the decoded body cap; off (the default) sends no Accept-Encoding. */
static void test_compression_caps_decoded_bytes(void **state)
{
    (void)state;
    struct ruv_a2a_client_options o = options(RUV_A2A_COMPRESSION);
    o.max_body_bytes = 1 << 20;
    struct ruv_a2a_client *c = NULL;
    assert_int_equal(open_client("normal", "v1", &o, &c), RUV_OK);
    peer_mode("gzip_bomb", "v1");
    json_t *res = NULL;
    assert_int_equal(call(c, RUV_A2A_GET, "{\"id\":\"x\"}", NULL, &res), RUV_E_PROTOCOL);
    assert_int_equal(st.error, RUV_A2A_ERR_TOO_LARGE);
    assert_non_null(strstr(ruv_last_error(), "cap"));
    json_decref(res);
    ops->client_close(c);
    o = options(0);
    assert_int_equal(open_client("normal", "v1", &o, &c), RUV_OK);
    peer_mode("gzip", "v1");
    assert_int_equal(call(c, RUV_A2A_GET, "{\"id\":\"x\"}", NULL, &res), RUV_E_REMOTE);
    json_decref(res);
    json_t *stats = peer_http(NULL, NULL);
    assert_true(json_is_null(json_object_get(stats, "last_accept_encoding")));
    json_decref(stats);
    ops->client_close(c);
    peer_mode("normal", "v1");
}

static void test_unary_hostile(void **state)
{
    (void)state;
    struct ruv_a2a_client_options o = options(0);
    o.max_body_bytes = 64 << 10;
    struct ruv_a2a_client *c = NULL;
    assert_int_equal(open_client("normal", "v1", &o, &c), RUV_OK);
    static const struct {
        const char *mode;
        int rc;
        uint32_t error;
        const char *says;
    } cases[] = {
        {"malformed_json", RUV_E_PROTOCOL, RUV_A2A_ERR_PROTOCOL, "JSON-RPC response"},
        {"wrong_id", RUV_E_PROTOCOL, RUV_A2A_ERR_PROTOCOL, "id does not match"},
        {"bad_version", RUV_E_PROTOCOL, RUV_A2A_ERR_PROTOCOL, "\"2.0\""},
        {"both", RUV_E_PROTOCOL, RUV_A2A_ERR_PROTOCOL, "both of result and error"},
        {"oversized", RUV_E_PROTOCOL, RUV_A2A_ERR_TOO_LARGE, "cap"},
        {"http500", RUV_E_REMOTE, RUV_A2A_ERR_HTTP, "HTTP 502"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        peer_mode(cases[i].mode, "v1");
        json_t *r;
        int rc = call(c, RUV_A2A_GET, "{\"id\":\"x\"}", NULL, &r);
        if (rc != cases[i].rc || st.error != cases[i].error ||
            !strstr(ruv_last_error(), cases[i].says))
            fail_msg("%s: rc %d error %u: %s", cases[i].mode, rc, st.error, ruv_last_error());
        assert_null(r);
    }
    assert_int_equal(st.http_status, 502);
    ops->client_close(c);
}

/* Our own deadlines (a2a.md §6), scaled down: a peer that dribbles its
 * headers meets the unary deadline; a stream that goes silent meets the idle
 * deadline; pings keep a slow stream alive past it. */

/* Our own deadlines (a2a.md §6), scaled down: a peer that dribbles its
 * headers meets the unary deadline; a stream that goes silent meets the idle
 * deadline; pings keep a slow stream alive past it. */
static void test_deadlines(void **state)
{
    (void)state;
    struct ruv_a2a_client_options o = options(0);
    o.unary_timeout_ms = 400;
    o.idle_timeout_ms = 400;
    struct ruv_a2a_client *c = NULL;
    assert_int_equal(open_client("normal", "v1", &o, &c), RUV_OK);
    peer_mode("slow_headers", "v1");
    json_t *r;
    assert_int_equal(call(c, RUV_A2A_GET, "{\"id\":\"x\"}", NULL, &r), RUV_E_TIMEOUT);
    assert_int_equal(st.error, RUV_A2A_ERR_TIMEOUT);
    char names[16][16];
    size_t n;
    json_t *last;
    peer_mode("sse_stall", "v1");
    assert_int_equal(run_stream(c, names, 16, &n, &last), RUV_E_TIMEOUT);
    assert_int_equal(st.error, RUV_A2A_ERR_TIMEOUT);
    assert_int_equal(n, 1);
    assert_non_null(strstr(ruv_last_error(), "idle"));
    json_decref(last);
    /* Bytes keep coming (the idle deadline never fires) but the event never
     * ends: the event-assembly deadline does. */
    ops->client_close(c);
    o.idle_timeout_ms = 0;
    o.event_timeout_ms = 400;
    assert_int_equal(open_client("sse_dribble", "v1", &o, &c), RUV_OK);
    assert_int_equal(run_stream(c, names, 16, &n, &last), RUV_E_TIMEOUT);
    assert_non_null(strstr(ruv_last_error(), "not complete"));
    assert_int_equal(n, 1);
    json_decref(last);
    o.idle_timeout_ms = 400;
    o.event_timeout_ms = 0;
    ops->client_close(c);
    assert_int_equal(open_client("normal", "v1", &o, &c), RUV_OK);
    peer_mode("sse_slow_pings", "v1");
    assert_int_equal(run_stream(c, names, 16, &n, &last), RUV_E_NOTFOUND);
    assert_int_equal(n, 6);
    json_decref(last);
    ops->client_close(c);
}

/* Retries (a2a.md §6): GetTask again after 503 (Retry-After: 0), at most 3
 * attempts; SendMessage never re-sent once its bytes left; a Retry-After
 * beyond 30 s is reported, not waited for. The fake counts requests. */
static void test_retries(void **state)
{
    (void)state;
    struct ruv_a2a_client *c = connect_ok("normal", "v1");
    json_t *r;
    assert_int_equal(call(c, RUV_A2A_SEND, SEND_PARAMS, NULL, &r), RUV_OK);
    char params[128];
    snprintf(params, sizeof params, "{\"id\":\"%s\"}",
             json_string_value(json_object_get(json_object_get(r, "task"), "id")));
    json_decref(r);
    peer_mode("flaky503", "v1"); /* the first two RPCs get 503 */
    assert_int_equal(call(c, RUV_A2A_GET, params, NULL, &r), RUV_OK);
    json_decref(r);
    assert_int_equal(peer_stat("rpc"), 3);
    peer_mode("always503", "v1");
    assert_int_equal(call(c, RUV_A2A_GET, params, NULL, &r), RUV_E_REMOTE);
    assert_int_equal(st.error, RUV_A2A_ERR_HTTP);
    assert_int_equal(st.http_status, 503);
    assert_int_equal(peer_stat("rpc"), 3);
    peer_mode("always503", "v1");
    assert_int_equal(call(c, RUV_A2A_SEND, SEND_PARAMS, NULL, &r), RUV_E_REMOTE);
    assert_int_equal(st.http_status, 503);
    assert_int_equal(st.request_sent, 1);
    assert_int_equal(peer_stat("rpc"), 1);
    peer_mode("retry_after_long", "v1");
    assert_int_equal(call(c, RUV_A2A_GET, params, NULL, &r), RUV_E_REMOTE);
    assert_non_null(strstr(ruv_last_error(), "Retry-After 60 s"));
    assert_int_equal(peer_stat("rpc"), 1);
    ops->client_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_hostile),
        cmocka_unit_test(test_stream_resume_both_dialects),
        cmocka_unit_test(test_proxy_by_api_only),
        cmocka_unit_test(test_compression_caps_decoded_bytes),
        cmocka_unit_test(test_unary_hostile),
        cmocka_unit_test(test_deadlines),
        cmocka_unit_test(test_retries),
    };
    return cmocka_run_group_tests(tests, a2a_fake_setup, a2a_fake_teardown);
}
