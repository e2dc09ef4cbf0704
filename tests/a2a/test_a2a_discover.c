/* tests/a2a/test_a2a_discover.c — card discovery against the loopback fake
 * peer (fakes/fake_peer.py): connecting on the I/O thread (ops V4
 * client_open_submit) adds no thread and can be aborted; card redirects
 * (same origin, at most 3, Authorization only to the card's origin); a
 * signature's jku (a2a.md §4 key resolution 3: unknown kid, another host
 * unless trusted, plain http to a non-loopback host and HS256 refused); the
 * card cache keyed by the exact card URL (two agents on one host). Each
 * case runs on the blocking path and on the I/O thread. The fake's paths
 * used here are stateless, so parallel runs cannot disturb each other. */
#include "config.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include <ruvector/feature-a2a.h>
#include <ruvector/plugin.h>
#include <ruvector/ruvector.h>

#include "a2a_fake_peer.h"

static const struct ruv_a2a_ops *ops4;

static void need_v4(void)
{
    if (!ops4) {
        const void *v = NULL;
        void *s = NULL;
        assert_int_equal(ruv_engine_feature_get(eng, "a2a", RUV_FEATURE_A2A,
                                                RUV_A2A_OPS_SIZE_V4, &v, &s),
                         RUV_OK);
        ops4 = v;
    }
}

/* Waits for the one event of req (a connect or a call). */
static struct ruv_a2a_event connect_event(struct ruv_a2a_client *c, uint64_t req)
{
    struct ruv_a2a_event ev;
    int64_t until = now_ms() + 20000;
    for (;;) {
        if (ops4->poll(c, &ev, 1) == 1) {
            assert_int_equal(ev.req, req);
            assert_int_equal(ev.kind, RUV_A2A_EV_RESULT);
            return ev;
        }
        int64_t left = until - now_ms();
        if (left <= 0)
            fail_msg("no connect event within 20 s");
        assert_true(ops4->wait(c, (int)left) >= 0);
    }
}

/* Connects to url (async: on the I/O thread); the status, with st and the
 * detail of a failure in why. *c is the client on RUV_OK, else closed. */
static int connect_to(const char *url, const struct ruv_a2a_client_options *o, int async,
                      struct ruv_a2a_client **c, char *why, size_t why_len)
{
    need_v4();
    *c = NULL;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    if (!async) {
        int rc = ops->client_open(pstate, url, o, c, &st);
        snprintf(why, why_len, "%s", rc ? ruv_last_error() : "");
        return rc;
    }
    uint64_t req = 0;
    int rc = ops4->client_open_submit(pstate, url, o, c, &req, &st);
    if (rc != RUV_OK) {
        snprintf(why, why_len, "%s", ruv_last_error());
        return rc;
    }
    struct ruv_a2a_event ev = connect_event(*c, req);
    rc = ev.status;
    st.error = ev.error;
    snprintf(why, why_len, "%s", ev.detail ? ev.detail : "");
    ops4->release(*c, &ev, 1);
    if (rc != RUV_OK) {
        ops->client_close(*c);
        *c = NULL;
    }
    return rc;
}

static char *url_of(const char *path)
{
    static char u[256];
    snprintf(u, sizeof u, "%s%s", base, path);
    return u;
}

static void expect_name(struct ruv_a2a_client *c, const char *name)
{
    json_t *info = info_of(c);
    assert_string_equal(json_string_value(json_object_get(json_object_get(info, "card"), "name")),
                        name);
    json_decref(info);
}

static void test_async_connect_adds_no_thread(void **state)
{
    (void)state;
    struct ruv_a2a_client_options o = options(0);
    struct ruv_a2a_client *warm;
    char why[512];
    /* The first submit starts the plugin's one I/O thread. */
    assert_int_equal(connect_to(base, &o, 1, &warm, why, sizeof why), RUV_OK);
    int before = threads_now();
    assert_true(before > 0);
    enum { N = 20 };
    struct ruv_a2a_client *c[N];
    uint64_t req[N];
    for (int i = 0; i < N; i++) {
        memset(&st, 0, sizeof st);
        st.struct_size = sizeof st;
        req[i] = 0;
        assert_int_equal(ops4->client_open_submit(pstate, base, &o, &c[i], &req[i], &st), RUV_OK);
        assert_true(req[i] != 0);
        /* Not connected yet (or just now): calls wait for the event. */
    }
    assert_int_equal(threads_now(), before);
    for (int i = 0; i < N; i++) {
        struct ruv_a2a_event ev = connect_event(c[i], req[i]);
        assert_int_equal(ev.status, RUV_OK);
        ops4->release(c[i], &ev, 1);
        json_t *info = info_of(c[i]);
        assert_string_equal(json_string_value(json_object_get(info, "agent_id")), peer_agent_id);
        assert_true(json_is_true(json_object_get(info, "verified")));
        json_decref(info);
    }
    assert_int_equal(threads_now(), before);
    json_t *out = NULL;
    assert_int_equal(call(c[0], RUV_A2A_GET, "{\"id\":\"nope\"}", NULL, &out), RUV_E_REMOTE);
    json_decref(out);
    for (int i = 0; i < N; i++)
        ops->client_close(c[i]);
    ops->client_close(warm);
}

static void test_unconnected_client_refuses_calls(void **state)
{
    (void)state;
    need_v4();
    /* A listener that never answers: discovery stays in flight. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s, 8), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &alen), 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
    struct ruv_a2a_client_options o = options(0);
    struct ruv_a2a_client *c = NULL;
    uint64_t req = 0;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    assert_int_equal(ops4->client_open_submit(pstate, url, &o, &c, &req, &st), RUV_OK);
    char *text = NULL;
    assert_int_equal(ops->client_info(c, &text), RUV_E_STATE);
    uint64_t r2 = 0;
    assert_int_equal(ops4->call_submit(c, RUV_A2A_GET, "{\"id\":\"t\"}", 10, NULL, &r2, &st),
                     RUV_E_STATE);
    /* Aborting the connect ends its transfer at once. */
    int64_t t0 = now_ms();
    ops4->abort(c, req);
    struct ruv_a2a_event ev = connect_event(c, req);
    assert_int_equal(ev.status, RUV_E_CANCELED);
    assert_true(now_ms() - t0 < 5000);
    ops4->release(c, &ev, 1);
    ops->client_close(c);
    /* Closing a client whose connect is in flight never waits either. */
    assert_int_equal(ops4->client_open_submit(pstate, url, &o, &c, &req, &st), RUV_OK);
    t0 = now_ms();
    ops->client_close(c);
    assert_true(now_ms() - t0 < 1000);
    close(s);
}

static void test_redirects(void **state)
{
    (void)state;
    struct ruv_a2a_client_options o = options(0);
    o.authorization = "Bearer secret";
    char why[512];
    for (int async = 0; async < 2; async++) {
        struct ruv_a2a_client *c;
        /* Three same-origin redirects are followed, with Authorization. */
        assert_int_equal(connect_to(url_of("/redir3"), &o, async, &c, why, sizeof why), RUV_OK);
        json_t *info = info_of(c);
        assert_string_equal(json_string_value(json_object_get(info, "card_url")),
                            url_of("/redir3/.well-known/agent-card.json"));
        json_decref(info);
        ops->client_close(c);
        /* A fourth is not. */
        assert_int_equal(connect_to(url_of("/redir4"), &o, async, &c, why, sizeof why),
                         RUV_E_PROTOCOL);
        assert_int_equal(st.error, RUV_A2A_ERR_DISCOVERY);
        assert_non_null(strstr(why, "more than 3 redirects"));
        /* Another origin (the same server as localhost) is refused. */
        assert_int_equal(connect_to(url_of("/redir_foreign"), &o, async, &c, why, sizeof why),
                         RUV_E_SECURITY);
        assert_int_equal(st.error, RUV_A2A_ERR_URL);
        assert_non_null(strstr(why, "another origin"));
    }
    /* Every card GET carried the token, and all went to the card's origin:
     * nothing was fetched from localhost. */
    json_t *stats = peer_http(NULL, NULL);
    json_t *auth = json_object_get(stats, "card_auth");
    size_t i;
    json_t *v;
    size_t seen = 0;
    json_array_foreach(auth, i, v)
    {
        assert_string_equal(json_string_value(v), "Bearer secret");
        seen++;
    }
    assert_true(seen >= 2 * (4 + 4 + 1));
    json_decref(stats);
}

static void test_no_redirect_on_post(void **state)
{
    (void)state;
    struct ruv_a2a_client_options o = options(0);
    char why[512];
    for (int async = 0; async < 2; async++) {
        peer_mode("normal", "v1");
        struct ruv_a2a_client *c;
        /* The card's interface answers every POST with 307 to the real one. */
        assert_int_equal(connect_to(url_of("/agentR"), &o, async, &c, why, sizeof why), RUV_OK);
        json_t *out = NULL;
        assert_int_equal(call(c, RUV_A2A_GET, "{\"id\":\"t\"}", NULL, &out), RUV_E_REMOTE);
        json_decref(out);
        assert_int_equal(st.error, RUV_A2A_ERR_HTTP);
        assert_int_equal(st.http_status, 307);
        assert_int_equal(peer_stat("rpc"), 0); /* never followed to /a2a/jsonrpc */
        /* On the I/O thread too. */
        uint64_t req = 0;
        assert_int_equal(ops4->call_submit(c, RUV_A2A_GET, "{\"id\":\"t\"}", 10, NULL, &req, &st),
                         RUV_OK);
        struct ruv_a2a_event ev = connect_event(c, req);
        assert_int_equal(ev.status, RUV_E_REMOTE);
        assert_int_equal(ev.error, RUV_A2A_ERR_HTTP);
        assert_int_equal(ev.http_status, 307);
        ops4->release(c, &ev, 1);
        assert_int_equal(peer_stat("rpc"), 0);
        ops->client_close(c);
    }
}

static void test_jku(void **state)
{
    (void)state;
    char why[512];
    char foreign[64];
    snprintf(foreign, sizeof foreign, "http://localhost:%d", peer_port);
    const char *trusted[] = {foreign};
    for (int async = 0; async < 2; async++) {
        struct ruv_a2a_options vo = {.struct_size = sizeof vo};
        struct ruv_a2a_client_options o = options(0);
        o.verify = &vo;
        o.authorization = "Bearer secret";
        struct ruv_a2a_client *c;
        const char *ok[] = {"/jku", "/jku_redirect"};
        for (size_t k = 0; k < 2; k++) {
            assert_int_equal(connect_to(url_of(ok[k]), &o, async, &c, why, sizeof why), RUV_OK);
            json_t *info = info_of(c);
            assert_string_equal(json_string_value(json_object_get(info, "signed_by")), "k1");
            assert_string_equal(json_string_value(json_object_get(info, "agent_id")), "");
            assert_true(json_is_true(json_object_get(info, "verified")));
            json_decref(info);
            ops->client_close(c);
        }
        /* The JWKS is cached like a card (max-age 60): no second fetch. */
        json_t *stats = peer_http(NULL, NULL);
        json_int_t fetched = json_integer_value(json_object_get(stats, "jwks"));
        json_decref(stats);
        assert_int_equal(connect_to(url_of("/jku"), &o, async, &c, why, sizeof why), RUV_OK);
        ops->client_close(c);
        stats = peer_http(NULL, NULL);
        assert_int_equal(json_integer_value(json_object_get(stats, "jwks")), fetched);
        json_decref(stats);
        /* Over 64 KiB: aborted while it streams in. */
        assert_int_equal(connect_to(url_of("/jku_big"), &o, async, &c, why, sizeof why),
                         RUV_E_PROTOCOL);
        assert_int_equal(st.error, RUV_A2A_ERR_TOO_LARGE);
        assert_non_null(strstr(why, "65536-byte cap"));
        struct {
            const char *path, *why;
        } refused[] = {{"/jku_unknown", "no key has kid \"k2\""},
                       {"/jku_foreign", "neither the card's origin nor a trusted one"},
                       {"/jku_plainhttp", "jku"},
                       {"/jku_hs256", "HS256"},
                       {"/jku_none", "none"}};
        for (size_t k = 0; k < sizeof refused / sizeof refused[0]; k++) {
            assert_int_equal(connect_to(url_of(refused[k].path), &o, async, &c, why, sizeof why),
                             RUV_E_SECURITY);
            assert_int_equal(st.error, RUV_A2A_ERR_SIGNATURE);
            if (!strstr(why, refused[k].why))
                fail_msg("%s: %s", refused[k].path, why);
        }
        /* Another host is fine once trusted; no Authorization goes there. */
        vo.trusted_jku = trusted;
        vo.n_trusted_jku = 1;
        assert_int_equal(connect_to(url_of("/jku_foreign"), &o, async, &c, why, sizeof why),
                         RUV_OK);
        ops->client_close(c);
        stats = peer_http(NULL, NULL);
        assert_true(json_is_null(json_object_get(stats, "jwks_auth")));
        json_decref(stats);
    }
}

static void test_cache_two_agents_one_host(void **state)
{
    (void)state;
    struct ruv_a2a_client_options o = options(0);
    char why[512];
    const char *order[] = {"/agentA", "/agentB", "/agentA", "/agentB"};
    for (int async = 0; async < 2; async++)
        for (size_t k = 0; k < 4; k++) {
            struct ruv_a2a_client *c;
            assert_int_equal(connect_to(url_of(order[k]), &o, async, &c, why, sizeof why),
                             RUV_OK);
            char want[32];
            snprintf(want, sizeof want, "fake %s", order[k] + 1);
            expect_name(c, want);
            ops->client_close(c);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_async_connect_adds_no_thread),
        cmocka_unit_test(test_unconnected_client_refuses_calls),
        cmocka_unit_test(test_redirects),
        cmocka_unit_test(test_no_redirect_on_post),
        cmocka_unit_test(test_jku),
        cmocka_unit_test(test_cache_two_agents_one_host),
    };
    return cmocka_run_group_tests(tests, a2a_fake_setup, a2a_fake_teardown);
}
