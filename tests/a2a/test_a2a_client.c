/* tests/a2a/test_a2a_client.c — the blocking client of the `a2a` plugin
 * (ops V2) against the loopback fake peer tests/a2a/fakes/fake_peer.py,
 * through the engine as a host sees it: card verification on connect,
 * send/get/cancel, streams to completion, v0.3 and the run-time fallback,
 * the pre-flight policy (the fake counts requests), and hostile answers:
 * malformed JSON and SSE, wrong ids, oversized bodies and events, 5xx.
 * Skips (77) when python3 with `cryptography` cannot run the fake. */
#include "config.h"
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include <ruvector/feature-a2a.h>
#include <ruvector/plugin.h>
#include <ruvector/ruvector.h>

extern char **environ;

static ruv_engine *eng;
static const struct ruv_a2a_ops *ops;
static void *pstate;
static pid_t peer_pid;
static int peer_port;
static char peer_agent_id[65];
static char base[64];

/* ---- the fake peer ---- */

static int start_peer(void)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    char script[1024];
    snprintf(script, sizeof script, "%s/tests/a2a/fakes/fake_peer.py", RUV_A2A_SRCDIR);
    char *argv[] = {"python3", script, NULL};
    int rc = posix_spawnp(&peer_pid, "python3", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return -1;
    }
    FILE *f = fdopen(fds[0], "r");
    char line[256] = "";
    int ok = f && fgets(line, sizeof line, f) &&
             sscanf(line, "PORT %d AGENT_ID %64s", &peer_port, peer_agent_id) == 2;
    if (f)
        fclose(f);
    if (!ok) {
        kill(peer_pid, SIGTERM);
        waitpid(peer_pid, NULL, 0);
        peer_pid = 0;
        return -1;
    }
    snprintf(base, sizeof base, "http://127.0.0.1:%d", peer_port);
    return 0;
}

static size_t collect(char *p, size_t s, size_t n, void *ud)
{
    json_t **out = ud;
    json_error_t err;
    json_decref(*out);
    *out = json_loadb(p, s * n, 0, &err);
    return s * n;
}

/* POSTs {"mode","card"} to the fake, or GETs /_stats when mode is NULL. */
static json_t *peer_http(const char *mode, const char *card)
{
    char url[128], body[256];
    json_t *out = NULL;
    CURL *h = curl_easy_init();
    snprintf(url, sizeof url, "%s/%s", base, mode ? "_control" : "_stats");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
    if (mode) {
        snprintf(body, sizeof body, "{\"mode\":\"%s\",\"card\":\"%s\"}", mode, card);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    }
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    curl_easy_cleanup(h);
    assert_non_null(out);
    return out;
}

static void peer_mode(const char *mode, const char *card) { json_decref(peer_http(mode, card)); }

static json_int_t peer_stat(const char *key)
{
    json_t *st = peer_http(NULL, NULL);
    json_int_t v = json_integer_value(json_object_get(st, key));
    json_decref(st);
    return v;
}

static int setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (start_peer() != 0) {
        fprintf(stderr, "SKIP: python3 with `cryptography` cannot run the fake peer\n");
        exit(77);
    }
    ruv_config *cfg = NULL;
    if (ruv_config_new(&cfg) || ruv_engine_open(cfg, &eng))
        return -1;
    ruv_config_free(cfg);
    const void *vops = NULL;
    if (ruv_engine_load_plugin(eng, "a2a") != RUV_OK ||
        ruv_engine_feature_get(eng, "a2a", RUV_FEATURE_A2A, RUV_A2A_OPS_SIZE_V2, &vops,
                               &pstate) != RUV_OK)
        return -1;
    ops = vops;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ruv_engine_close(eng);
    if (peer_pid) {
        kill(peer_pid, SIGTERM);
        waitpid(peer_pid, NULL, 0);
    }
    curl_global_cleanup();
    return 0;
}

/* ---- helpers ---- */

static struct ruv_a2a_call_status st;

static struct ruv_a2a_client_options options(uint32_t flags)
{
    struct ruv_a2a_client_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.flags = flags;
    return o;
}

static int open_client(const char *mode, const char *card, const struct ruv_a2a_client_options *o,
                       struct ruv_a2a_client **c)
{
    peer_mode(mode, card);
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    return ops->client_open(pstate, base, o, c, &st);
}

static struct ruv_a2a_client *connect_ok(const char *mode, const char *card)
{
    struct ruv_a2a_client *c = NULL;
    int rc = open_client(mode, card, NULL, &c);
    if (rc != RUV_OK)
        fail_msg("client_open: %d %s", rc, ruv_last_error());
    return c;
}

static json_t *info_of(struct ruv_a2a_client *c)
{
    char *text = NULL;
    assert_int_equal(ops->client_info(c, &text), RUV_OK);
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    ops->free_string(text);
    assert_non_null(j);
    return j;
}

#define SEND_PARAMS                                                                                \
    "{\"message\":{\"messageId\":\"m1\",\"role\":\"ROLE_USER\",\"parts\":[{\"text\":\"hi\"}]}}"

static int call(struct ruv_a2a_client *c, uint32_t m, const char *params,
                const struct ruv_a2a_policy *p, json_t **out)
{
    char *res = NULL;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    int rc = ops->call(c, m, params, strlen(params), p, &res, &st);
    *out = NULL;
    if (res) {
        json_error_t err;
        *out = json_loads(res, 0, &err);
        assert_non_null(*out);
        ops->free_string(res);
    }
    return rc;
}

static const char *state_of(json_t *task)
{
    return json_string_value(json_object_get(json_object_get(task, "status"), "state"));
}

/* ---- tests ---- */

static void test_connect_verifies(void **state)
{
    (void)state;
    struct ruv_a2a_client *c = connect_ok("normal", "v1");
    json_t *info = info_of(c);
    assert_string_equal(json_string_value(json_object_get(info, "agent_id")), peer_agent_id);
    assert_true(json_is_true(json_object_get(info, "verified")));
    assert_string_equal(json_string_value(json_object_get(info, "protocol_version")), "1.0");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(info, "card"), "name")), "fake peer");
    json_decref(info);
    json_t *stats = peer_http(NULL, NULL);
    assert_string_equal(json_string_value(json_object_get(stats, "card_version")), "1.0");
    json_decref(stats);
    ops->client_close(c);
}

static void test_card_refusals(void **state)
{
    (void)state;
    struct ruv_a2a_client *c = NULL;
    assert_int_equal(open_client("normal", "tampered", NULL, &c), RUV_E_SECURITY);
    assert_null(c);
    assert_int_equal(st.error, RUV_A2A_ERR_SIGNATURE);
    assert_int_equal(open_client("normal", "unsigned", NULL, &c), RUV_E_SECURITY);
    assert_int_equal(st.error, RUV_A2A_ERR_SIGNATURE);
    assert_non_null(strstr(ruv_last_error(), "agent-card.json"));

    struct ruv_a2a_client_options lax = options(RUV_A2A_UNSIGNED_OK);
    assert_int_equal(open_client("normal", "unsigned", &lax, &c), RUV_OK);
    json_t *info = info_of(c);
    assert_true(json_is_false(json_object_get(info, "verified")));
    json_decref(info);
    ops->client_close(c);

    /* A pinned AgentID the card does not carry. */
    const char *ids[] = {"00000000000000000000000000000000000000000000000000000000000000aa"};
    struct ruv_a2a_options pins = {.struct_size = sizeof pins, .agent_ids = ids, .n_agent_ids = 1};
    struct ruv_a2a_client_options pinned = options(0);
    pinned.verify = &pins;
    assert_int_equal(open_client("normal", "v1", &pinned, &c), RUV_E_SECURITY);
    ids[0] = peer_agent_id;
    assert_int_equal(open_client("normal", "v1", &pinned, &c), RUV_OK);
    ops->client_close(c);

    /* ruvector's own pre-v0.2 dialect, found through the agent.json fallback. */
    assert_int_equal(open_client("normal", "rvagent", NULL, &c), RUV_E_PROTOCOL);
    assert_int_equal(st.error, RUV_A2A_ERR_VERSION);
    assert_non_null(strstr(ruv_last_error(), "rvagent-a2a"));
    assert_int_equal(peer_stat("card"), 2); /* agent-card.json (404), agent.json */

    /* A tampered card behind the agent.json fallback is refused too. */
    assert_int_equal(open_client("normal", "legacy_path_tampered", NULL, &c), RUV_E_SECURITY);
    assert_int_equal(st.error, RUV_A2A_ERR_SIGNATURE);
    assert_non_null(strstr(ruv_last_error(), "agent.json"));

    assert_int_equal(open_client("normal", "badjson", NULL, &c), RUV_E_PROTOCOL);
    assert_int_equal(st.error, RUV_A2A_ERR_DISCOVERY);
    assert_int_equal(open_client("normal", "bigcard", NULL, &c), RUV_E_PROTOCOL);
    assert_int_equal(st.error, RUV_A2A_ERR_TOO_LARGE);

    /* Plain http to a non-loopback host: refused before any connection. */
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    assert_int_equal(ops->client_open(pstate, "http://agent.example.invalid", NULL, &c, &st),
                     RUV_E_SECURITY);
    assert_int_equal(st.error, RUV_A2A_ERR_URL);
}

static void test_lifecycle(void **state)
{
    (void)state;
    struct ruv_a2a_client *c = connect_ok("normal", "v1");
    json_t *r;
    assert_int_equal(call(c, RUV_A2A_SEND, SEND_PARAMS, NULL, &r), RUV_OK);
    json_t *task = json_object_get(r, "task");
    assert_non_null(task);
    char id[64];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(task, "id")));
    json_decref(r);
    json_t *stats = peer_http(NULL, NULL);
    assert_string_equal(json_string_value(json_object_get(stats, "last_method")), "SendMessage");
    assert_string_equal(json_string_value(json_object_get(stats, "last_version")), "1.0");
    json_t *cfg = json_object_get(json_object_get(stats, "last_params"), "configuration");
    assert_true(json_is_true(json_object_get(cfg, "returnImmediately")));
    json_decref(stats);

    char params[128];
    snprintf(params, sizeof params, "{\"id\":\"%s\"}", id);
    char s[64] = "";
    for (int i = 0; i < 5; i++) {
        assert_int_equal(call(c, RUV_A2A_GET, params, NULL, &r), RUV_OK);
        snprintf(s, sizeof s, "%s", state_of(r));
        int done = strcmp(s, "TASK_STATE_COMPLETED") == 0;
        if (done)
            assert_string_equal(json_string_value(json_object_get(
                                    json_array_get(json_object_get(json_array_get(
                                                       json_object_get(r, "artifacts"), 0),
                                                                   "parts"),
                                                   0),
                                    "text")),
                                "echo: hi");
        json_decref(r);
        if (done)
            break;
    }
    assert_string_equal(s, "TASK_STATE_COMPLETED");
    /* A completed task cannot be canceled; an unknown one is not found. */
    assert_int_equal(call(c, RUV_A2A_CANCEL, params, NULL, &r), RUV_E_REMOTE);
    assert_int_equal(st.rpc_code, -32002);
    assert_int_equal(st.error, RUV_A2A_ERR_REMOTE);
    assert_int_equal(json_integer_value(json_object_get(r, "code")), -32002);
    json_decref(r);
    assert_int_equal(call(c, RUV_A2A_GET, "{\"id\":\"nope\"}", NULL, &r), RUV_E_REMOTE);
    assert_int_equal(st.rpc_code, -32001);
    json_decref(r);
    /* A running task cancels. */
    assert_int_equal(call(c, RUV_A2A_SEND, SEND_PARAMS, NULL, &r), RUV_OK);
    snprintf(params, sizeof params, "{\"id\":\"%s\"}",
             json_string_value(json_object_get(json_object_get(r, "task"), "id")));
    json_decref(r);
    assert_int_equal(call(c, RUV_A2A_CANCEL, params, NULL, &r), RUV_OK);
    assert_string_equal(state_of(r), "TASK_STATE_CANCELED");
    json_decref(r);
    /* Bad params never reach the wire. */
    json_int_t before = peer_stat("rpc");
    assert_int_equal(call(c, RUV_A2A_GET, "{\"id\":5}", NULL, &r), RUV_E_INVAL);
    assert_int_equal(call(c, RUV_A2A_SEND, "[1]", NULL, &r), RUV_E_INVAL);
    assert_int_equal(peer_stat("rpc"), before);
    ops->client_close(c);
}

/* Opens a stream and collects its events' member names. */
static int run_stream(struct ruv_a2a_client *c, char names[][16], size_t max, size_t *n,
                      json_t **last)
{
    struct ruv_a2a_stream *s = NULL;
    char *res = NULL;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    *n = 0;
    *last = NULL;
    int rc = ops->stream_open(c, RUV_A2A_SEND_STREAMING, SEND_PARAMS, strlen(SEND_PARAMS), NULL,
                              &s, &res, &st);
    if (rc != RUV_OK) {
        if (res) {
            json_error_t err;
            *last = json_loads(res, 0, &err);
            ops->free_string(res);
        }
        return rc;
    }
    for (;;) {
        char *ev = NULL;
        rc = ops->stream_next(s, &ev, &st);
        if (rc != RUV_OK) {
            if (ev) {
                json_error_t err;
                json_decref(*last);
                *last = json_loads(ev, 0, &err);
                ops->free_string(ev);
            }
            break;
        }
        json_error_t err;
        json_t *j = json_loads(ev, 0, &err);
        ops->free_string(ev);
        assert_non_null(j);
        assert_int_equal(json_object_size(j), 1);
        if (*n < max)
            snprintf(names[*n], 16, "%s", json_object_iter_key(json_object_iter(j)));
        (*n)++;
        json_decref(*last);
        *last = j;
    }
    /* The end (or failure) repeats. */
    char *again = NULL;
    assert_int_equal(ops->stream_next(s, &again, NULL), rc);
    ops->free_string(again);
    ops->stream_close(s);
    return rc;
}

static void expect_full_stream(struct ruv_a2a_client *c)
{
    char names[16][16];
    size_t n;
    json_t *last;
    assert_int_equal(run_stream(c, names, 16, &n, &last), RUV_E_NOTFOUND);
    assert_int_equal(n, 6);
    assert_string_equal(names[0], "task");
    for (int i = 1; i <= 3; i++)
        assert_string_equal(names[i], "statusUpdate");
    assert_string_equal(names[4], "artifactUpdate");
    assert_string_equal(names[5], "statusUpdate");
    assert_string_equal(state_of(json_object_get(last, "statusUpdate")), "TASK_STATE_COMPLETED");
    json_decref(last);
}

static void test_stream(void **state)
{
    (void)state;
    struct ruv_a2a_client *c = connect_ok("normal", "v1");
    expect_full_stream(c);
    peer_mode("sse_pings", "v1"); /* BOM, a ping comment, CRLF line ends */
    expect_full_stream(c);
    ops->client_close(c);
}

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

static void test_v03(void **state)
{
    (void)state;
    struct ruv_a2a_client *c = connect_ok("normal", "v03");
    json_t *info = info_of(c);
    assert_string_equal(json_string_value(json_object_get(info, "protocol_version")), "0.3");
    json_decref(info);
    json_t *r;
    assert_int_equal(call(c, RUV_A2A_SEND, SEND_PARAMS, NULL, &r), RUV_OK);
    json_t *task = json_object_get(r, "task");
    assert_null(json_object_get(task, "kind"));
    assert_string_equal(state_of(task), "TASK_STATE_SUBMITTED");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(task, "history"), 0), "role")),
                        "ROLE_USER");
    json_decref(r);
    json_t *stats = peer_http(NULL, NULL);
    assert_string_equal(json_string_value(json_object_get(stats, "last_method")), "message/send");
    assert_true(json_is_null(json_object_get(stats, "last_version")));
    json_decref(stats);
    expect_full_stream(c);
    ops->client_close(c);

    /* v1.0 answers "method not found" and the card declares 0.3: once. */
    c = connect_ok("v1_unknown", "both");
    assert_int_equal(call(c, RUV_A2A_SEND, SEND_PARAMS, NULL, &r), RUV_OK);
    json_decref(r);
    info = info_of(c);
    assert_string_equal(json_string_value(json_object_get(info, "protocol_version")), "0.3");
    assert_true(json_is_true(json_object_get(info, "fell_back")));
    json_decref(info);
    ops->client_close(c);
    /* Without 0.3 on the card there is no fallback. */
    c = connect_ok("v1_unknown", "v1");
    assert_int_equal(call(c, RUV_A2A_SEND, SEND_PARAMS, NULL, &r), RUV_E_REMOTE);
    assert_int_equal(st.rpc_code, -32601);
    json_decref(r);
    ops->client_close(c);
}

static struct ruv_a2a_policy policy(void)
{
    struct ruv_a2a_policy p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    p.max_tokens = -1;
    p.max_cost_usd = -1;
    p.estimated_tokens = -1;
    p.estimated_cost_usd = -1;
    p.depth = 1;
    return p;
}

static void test_policy_before_wire(void **state)
{
    (void)state;
    struct ruv_a2a_client *c = connect_ok("normal", "v1");
    json_t *r;
    struct ruv_a2a_policy p = policy();
    p.skill = "rag.query";
    p.max_cost_usd = 0.05; /* the card prices rag.query at 0.10 */
    assert_int_equal(call(c, RUV_A2A_SEND, SEND_PARAMS, &p, &r), RUV_E_POLICY);
    assert_int_equal(st.error, RUV_A2A_ERR_POLICY);
    assert_non_null(strstr(ruv_last_error(), "max_cost_usd"));
    p.max_cost_usd = -1;
    p.max_tokens = 1000; /* priced at 4000 tokens */
    assert_int_equal(call(c, RUV_A2A_SEND, SEND_PARAMS, &p, &r), RUV_E_POLICY);
    p = policy();
    p.skill = "echo";
    p.max_cost_usd = 1.0; /* no price for echo and no estimate */
    assert_int_equal(call(c, RUV_A2A_SEND, SEND_PARAMS, &p, &r), RUV_E_POLICY);
    assert_non_null(strstr(ruv_last_error(), "no cost estimate"));
    p.skill = "translate"; /* not on the card */
    p.max_cost_usd = -1;
    assert_int_equal(call(c, RUV_A2A_SEND, SEND_PARAMS, &p, &r), RUV_E_POLICY);
    const char *allowed[] = {"rag.query"};
    p.skill = "echo";
    p.allowed_skills = allowed;
    p.n_allowed_skills = 1;
    assert_int_equal(call(c, RUV_A2A_SEND, SEND_PARAMS, &p, &r), RUV_E_POLICY);
    p = policy();
    p.depth = 9;
    assert_int_equal(call(c, RUV_A2A_SEND, SEND_PARAMS, &p, &r), RUV_E_POLICY);
    assert_int_equal(st.error, RUV_A2A_ERR_RECURSION);
    const char *visited[] = {peer_agent_id};
    p.depth = 2;
    p.visited_agents = visited;
    p.n_visited_agents = 1;
    assert_int_equal(call(c, RUV_A2A_SEND, SEND_PARAMS, &p, &r), RUV_E_POLICY);
    assert_int_equal(st.error, RUV_A2A_ERR_RECURSION);
    /* Streams run the same pre-flight. */
    struct ruv_a2a_stream *s = NULL;
    char *res = NULL;
    assert_int_equal(ops->stream_open(c, RUV_A2A_SEND_STREAMING, SEND_PARAMS,
                                      strlen(SEND_PARAMS), &p, &s, &res, &st),
                     RUV_E_POLICY);
    assert_int_equal(peer_stat("rpc"), 0); /* nothing reached the peer */
    /* A shared budget of two tasks per window: the third send is refused. */
    struct ruv_a2a_budget_options bo = {.struct_size = sizeof bo, .max_usd_per_window = -1,
                                        .max_tokens_per_window = -1, .max_tasks_per_window = 2};
    struct ruv_a2a_budget *budget = NULL;
    assert_int_equal(ops->budget_new(pstate, &bo, &budget), RUV_OK);
    p = policy();
    p.budget = budget;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(call(c, RUV_A2A_SEND, SEND_PARAMS, &p, &r), RUV_OK);
        json_decref(r);
    }
    assert_int_equal(call(c, RUV_A2A_SEND, SEND_PARAMS, &p, &r), RUV_E_POLICY);
    assert_int_equal(st.error, RUV_A2A_ERR_BUDGET);
    assert_int_equal(peer_stat("rpc"), 2);
    /* A refusal by another check charges nothing. */
    ops->budget_free(budget);
    assert_int_equal(ops->budget_new(pstate, &bo, &budget), RUV_OK);
    p.budget = budget;
    p.skill = "translate";
    assert_int_equal(call(c, RUV_A2A_SEND, SEND_PARAMS, &p, &r), RUV_E_POLICY);
    p.skill = NULL;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(call(c, RUV_A2A_SEND, SEND_PARAMS, &p, &r), RUV_OK);
        json_decref(r);
    }
    ops->budget_free(budget);
    peer_mode("normal", "v1");
    /* max_concurrency 2: two open streams hold both slots; the third is
     * refused until one closes. Unary sends hold theirs only while they run. */
    p = policy();
    p.skill = "echo";
    p.max_concurrency = 2;
    struct ruv_a2a_stream *s2[3] = {NULL, NULL, NULL};
    for (int i = 0; i < 2; i++)
        assert_int_equal(ops->stream_open(c, RUV_A2A_SEND_STREAMING, SEND_PARAMS,
                                          strlen(SEND_PARAMS), &p, &s2[i], &res, &st),
                         RUV_OK);
    assert_int_equal(ops->stream_open(c, RUV_A2A_SEND_STREAMING, SEND_PARAMS,
                                      strlen(SEND_PARAMS), &p, &s2[2], &res, &st),
                     RUV_E_POLICY);
    assert_non_null(strstr(ruv_last_error(), "max_concurrency"));
    p.skill = "rag.query"; /* another skill: its own count */
    assert_int_equal(call(c, RUV_A2A_SEND, SEND_PARAMS, &p, &r), RUV_OK);
    json_decref(r);
    p.skill = "echo";
    ops->stream_close(s2[0]);
    assert_int_equal(ops->stream_open(c, RUV_A2A_SEND_STREAMING, SEND_PARAMS,
                                      strlen(SEND_PARAMS), &p, &s2[2], &res, &st),
                     RUV_OK);
    ops->stream_close(s2[1]);
    ops->stream_close(s2[2]);
    p.max_concurrency = 1;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(call(c, RUV_A2A_SEND, SEND_PARAMS, &p, &r), RUV_OK);
        json_decref(r);
    }
    peer_mode("normal", "v1");
    /* Within the caps it goes out: depth 8 of 8, estimate 0.10 <= 0.10. */
    p = policy();
    p.depth = 8;
    p.skill = "rag.query";
    p.max_cost_usd = 0.10;
    p.max_tokens = 4000;
    assert_int_equal(call(c, RUV_A2A_SEND, SEND_PARAMS, &p, &r), RUV_OK);
    json_decref(r);
    assert_int_equal(peer_stat("rpc"), 1);
    ops->client_close(c);
}

/* Authorization goes to the card's origin only (a2a.md §6). */
static void test_authorization(void **state)
{
    (void)state;
    struct ruv_a2a_client_options o = options(0);
    o.authorization = "Bearer t0k3n";
    struct ruv_a2a_client *c = NULL;
    json_t *r;
    assert_int_equal(open_client("normal", "v1", &o, &c), RUV_OK);
    assert_int_equal(call(c, RUV_A2A_SEND, SEND_PARAMS, NULL, &r), RUV_OK);
    json_decref(r);
    json_t *stats = peer_http(NULL, NULL);
    assert_string_equal(json_string_value(json_object_get(stats, "last_auth")), "Bearer t0k3n");
    json_decref(stats);
    ops->client_close(c);
    /* Connected as localhost, the card's endpoint is 127.0.0.1: another
     * origin, so no Authorization. */
    char local[64];
    snprintf(local, sizeof local, "http://localhost:%d", peer_port);
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    assert_int_equal(ops->client_open(pstate, local, &o, &c, &st), RUV_OK);
    assert_int_equal(call(c, RUV_A2A_SEND, SEND_PARAMS, NULL, &r), RUV_OK);
    json_decref(r);
    stats = peer_http(NULL, NULL);
    assert_true(json_is_null(json_object_get(stats, "last_auth")));
    json_decref(stats);
    ops->client_close(c);
    o.authorization = "Bearer x\r\nX-Evil: 1";
    assert_int_equal(open_client("normal", "v1", &o, &c), RUV_E_INVAL);
}

static void test_report(void **state)
{
    (void)state;
    char *json = NULL;
    assert_int_equal(ruv_engine_report(eng, &json), RUV_OK);
    assert_non_null(strstr(json, "blocking client"));
    ruv_free(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_verifies), cmocka_unit_test(test_card_refusals),
        cmocka_unit_test(test_lifecycle),        cmocka_unit_test(test_stream),
        cmocka_unit_test(test_stream_hostile),   cmocka_unit_test(test_unary_hostile),
        cmocka_unit_test(test_v03),              cmocka_unit_test(test_deadlines),
        cmocka_unit_test(test_retries),              cmocka_unit_test(test_policy_before_wire),
        cmocka_unit_test(test_authorization), cmocka_unit_test(test_report),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
