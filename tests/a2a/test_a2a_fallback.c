/* tests/a2a/test_a2a_fallback.c — the one resend of a send over v0.3 (a
 * v1.0 -32601 while the verified card declares 0.3) runs the a2a.md §5
 * pre-flight again on both paths: a second GlobalBudget charge (refused
 * when the window is spent: the peer then sees only the first request) and
 * a concurrency slot taken anew (the first attempt's slot is free by
 * then). Against the loopback fake peer (fakes/fake_peer.py). */
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

/* One send with policy p, async (submit, then its event) or blocking. */
static int send_once(struct ruv_a2a_client *c, const struct ruv_a2a_policy *p, int async)
{
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    if (!async) {
        char *result = NULL;
        int rc = ops->call(c, RUV_A2A_SEND, SEND_PARAMS, strlen(SEND_PARAMS), p, &result, &st);
        ops->free_string(result);
        return rc;
    }
    uint64_t req = 0;
    int rc = ops->call_submit(c, RUV_A2A_SEND, SEND_PARAMS, strlen(SEND_PARAMS), p, &req, &st);
    if (rc != RUV_OK)
        return rc;
    struct ruv_a2a_event ev;
    int64_t until = now_ms() + 15000;
    while (ops->poll(c, &ev, 1) != 1) {
        assert_true(now_ms() < until);
        assert_true(ops->wait(c, (int)(until - now_ms())) >= 0);
    }
    assert_int_equal(ev.req, req);
    rc = ev.status;
    st.error = ev.error;
    st.rpc_code = ev.rpc_code;
    ops->release(c, &ev, 1);
    return rc;
}

static struct ruv_a2a_budget *tasks_budget(int64_t tasks)
{
    struct ruv_a2a_budget_options bo = {.struct_size = sizeof bo,
                                        .max_usd_per_window = -1,
                                        .max_tokens_per_window = -1,
                                        .max_tasks_per_window = tasks,
                                        .window_ms = 600000};
    struct ruv_a2a_budget *b = NULL;
    assert_int_equal(ops->budget_new(pstate, &bo, &b), RUV_OK);
    return b;
}

static void test_resend_charges_the_budget_again(void **state)
{
    (void)state;
    for (int async = 0; async < 2; async++) {
        /* One task in the window: the v1.0 attempt takes it, the resend is
         * refused before it leaves. */
        struct ruv_a2a_budget *b = tasks_budget(1);
        struct ruv_a2a_policy p = policy();
        p.budget = b;
        struct ruv_a2a_client *c = connect_ok("v1_unknown", "both");
        assert_int_equal(send_once(c, &p, async), RUV_E_POLICY);
        assert_int_equal(st.error, RUV_A2A_ERR_BUDGET);
        assert_int_equal(st.rpc_code, 0);
        assert_int_equal(peer_stat("rpc"), 1);
        ops->client_close(c);
        ops->budget_free(b);

        /* Two tasks: both attempts are charged, so a next send is refused. */
        b = tasks_budget(2);
        p.budget = b;
        c = connect_ok("v1_unknown", "both");
        assert_int_equal(send_once(c, &p, async), RUV_OK);
        assert_int_equal(peer_stat("rpc"), 2);
        json_t *info = info_of(c);
        assert_string_equal(json_string_value(json_object_get(info, "protocol_version")), "0.3");
        json_decref(info);
        assert_int_equal(send_once(c, &p, async), RUV_E_POLICY);
        assert_int_equal(st.error, RUV_A2A_ERR_BUDGET);
        assert_int_equal(peer_stat("rpc"), 2);
        ops->client_close(c);
        ops->budget_free(b);
    }
}

static void test_resend_takes_the_slot_again(void **state)
{
    (void)state;
    for (int async = 0; async < 2; async++) {
        struct ruv_a2a_policy p = policy();
        p.max_concurrency = 1;
        struct ruv_a2a_client *c = connect_ok("v1_unknown", "both");
        /* The first attempt's slot is free before the resend asks for one. */
        assert_int_equal(send_once(c, &p, async), RUV_OK);
        assert_int_equal(peer_stat("rpc"), 2);
        /* And the resend's own slot is free once it ended. */
        assert_int_equal(send_once(c, &p, async), RUV_OK);
        assert_int_equal(peer_stat("rpc"), 3);
        ops->client_close(c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resend_charges_the_budget_again),
        cmocka_unit_test(test_resend_takes_the_slot_again),
    };
    return cmocka_run_group_tests(tests, a2a_fake_setup, a2a_fake_teardown);
}
