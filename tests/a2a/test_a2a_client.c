/* tests/a2a/test_a2a_client.c — the blocking client of the `a2a` plugin
 * (ops V2) against the loopback fake peer tests/a2a/fakes/fake_peer.py,
 * through the engine as a host sees it: card verification on connect,
 * send/get/cancel, streams to completion, v0.3 and the run-time fallback,
 * the pre-flight policy, budget and concurrency (the fake counts requests),
 * Authorization. Hostile peers: test_a2a_client_hostile.c.
 * Skips (77) when python3 with `cryptography` cannot run the fake. */
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


static void test_stream(void **state)
{
    (void)state;
    struct ruv_a2a_client *c = connect_ok("normal", "v1");
    expect_full_stream(c);
    peer_mode("sse_pings", "v1"); /* BOM, a ping comment, CRLF line ends */
    expect_full_stream(c);
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


/* The card cache (a2a.md §7): inside max-age no request; with max-age=0
 * and an ETag, If-None-Match and a 304 reuse the card; a card that fails
 * verification is never stored. Under a base URL of its own, so the other
 * tests never meet these entries. */
static void test_card_cache(void **state)
{
    (void)state;
    char cached[96];
    snprintf(cached, sizeof cached, "%s/cachetest", base);
    struct ruv_a2a_client *c = NULL;
    peer_mode("cache_maxage", "tampered");
    for (int i = 0; i < 2; i++)
        assert_int_equal(ops->client_open(pstate, cached, NULL, &c, &st), RUV_E_SECURITY);
    assert_int_equal(peer_stat("card"), 2); /* refused cards are not kept */
    peer_mode("cache_maxage", "v1");
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ops->client_open(pstate, cached, NULL, &c, &st), RUV_OK);
        json_t *info = info_of(c);
        assert_string_equal(json_string_value(json_object_get(info, "agent_id")), peer_agent_id);
        json_decref(info);
        ops->client_close(c);
    }
    assert_int_equal(peer_stat("card"), 1);
    /* Fresh: even a peer that would now serve a tampered card is not asked. */
    peer_mode("cache_maxage", "tampered");
    assert_int_equal(ops->client_open(pstate, cached, NULL, &c, &st), RUV_OK);
    ops->client_close(c);
    assert_int_equal(peer_stat("card"), 0);

    char other[96];
    snprintf(other, sizeof other, "http://localhost:%d/cachetest", peer_port); /* another key */
    peer_mode("cache_etag", "v1");
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ops->client_open(pstate, other, NULL, &c, &st), RUV_OK);
        ops->client_close(c);
    }
    json_t *stats = peer_http(NULL, NULL);
    assert_int_equal(json_integer_value(json_object_get(stats, "card")), 3);
    assert_int_equal(json_integer_value(json_object_get(stats, "card_304")), 2);
    json_decref(stats);
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
        cmocka_unit_test(test_connect_verifies),
        cmocka_unit_test(test_card_refusals),
        cmocka_unit_test(test_lifecycle),
        cmocka_unit_test(test_stream),
        cmocka_unit_test(test_v03),
        cmocka_unit_test(test_policy_before_wire),
        cmocka_unit_test(test_authorization),
        cmocka_unit_test(test_card_cache),
        cmocka_unit_test(test_report),
    };
    return cmocka_run_group_tests(tests, a2a_fake_setup, a2a_fake_teardown);
}
