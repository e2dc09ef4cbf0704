/* tests/a2a/test_a2a_plugin.c — the `a2a` feature plugin as a host sees it:
 * loaded late into an open engine (its self-test runs at load), reached
 * through ruv_engine_feature_get and <ruvector/feature-a2a.h>, verifying the
 * committed Node-signed cards (vectors/cards.json) and refusing tampered
 * ones with the reason in ruv_last_error(), and its report fragment. */
#include "config.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include <ruvector/feature-a2a.h>
#include <ruvector/plugin.h>
#include <ruvector/ruvector.h>

#include "a2a_test_util.h"

static ruv_engine *eng;
static const struct ruv_a2a_ops *ops;
static void *pstate;
static json_t *vectors;

static int setup(void **state)
{
    (void)state;
    ruv_config *cfg = NULL;
    if (ruv_config_new(&cfg) || ruv_engine_open(cfg, &eng))
        return -1;
    ruv_config_free(cfg);
    char *text = read_vector("cards.json", NULL);
    json_error_t err;
    vectors = json_loads(text, 0, &err);
    free(text);
    return vectors ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    json_decref(vectors);
    ruv_engine_close(eng);
    return 0;
}

static void test_load_late(void **state)
{
    (void)state;
    const void *vops = NULL;
    assert_int_equal(ruv_engine_feature_get(eng, "a2a", RUV_FEATURE_A2A, RUV_A2A_OPS_SIZE_V1,
                                            &vops, &pstate),
                     RUV_E_NOTFOUND);
    assert_int_equal(ruv_engine_load_plugin(eng, "a2a"), RUV_OK);
    ruv_plugin_info info;
    assert_int_equal(ruv_engine_plugin_find(eng, "a2a", &info), RUV_OK);
    /* "loaded" means init accepted this libcurl and self_test (V1, V3, J1)
     * passed: a failing self-test leaves the record "failed". */
    assert_string_equal(ruv_plugin_state_name(info.state), "loaded");
    assert_int_equal(info.status, RUV_OK);
    assert_int_equal(info.kind, RUV_PLUGIN_FEATURE);
    assert_string_equal(info.version, "0.1.0");
    assert_non_null(strstr(info.file, "a2a"));

    assert_int_equal(ruv_engine_feature_get(eng, "a2a", RUV_FEATURE_LAKE, RUV_A2A_OPS_SIZE_V1,
                                            &vops, &pstate),
                     RUV_E_ABI);
    assert_int_equal(ruv_engine_feature_get(eng, "a2a", RUV_FEATURE_A2A,
                                            sizeof(struct ruv_a2a_ops) + 8, &vops, &pstate),
                     RUV_E_ABI);
    assert_int_equal(ruv_engine_feature_get(eng, "a2a", RUV_FEATURE_A2A, RUV_A2A_OPS_SIZE_V1,
                                            &vops, &pstate),
                     RUV_OK);
    ops = vops;
    assert_true(ops->struct_size >= RUV_A2A_OPS_SIZE_V1);
    assert_non_null(ops->verify_card);
    assert_non_null(ops->free_string);
}

/* Options pinning kid's key, given as JWK text or as PEM. */
struct pinned {
    struct ruv_a2a_pinned_key key;
    const struct ruv_a2a_pinned_key *keys[1];
    struct ruv_a2a_options o;
    char *jwk_text;
};

static void pin(struct pinned *p, json_t *vec, int use_pem)
{
    memset(p, 0, sizeof *p);
    p->key.struct_size = sizeof p->key;
    p->key.kid = json_string_value(json_object_get(vec, "kid"));
    if (use_pem) {
        p->key.key = json_string_value(json_object_get(vec, "pem"));
    } else {
        p->jwk_text = json_dumps(json_object_get(vec, "jwk"), JSON_COMPACT);
        p->key.key = p->jwk_text;
    }
    p->keys[0] = &p->key;
    p->o.struct_size = sizeof p->o;
    p->o.pinned_keys = p->keys;
    p->o.n_pinned_keys = 1;
}

static void unpin(struct pinned *p) { free(p->jwk_text); }

static int verify(const char *card, const struct ruv_a2a_options *o, char **view, char *agent_id)
{
    return ops->verify_card(pstate, card, strlen(card), o, view, agent_id);
}

static void test_signed_cards_accepted(void **state)
{
    (void)state;
    const char *canonical = json_string_value(json_object_get(vectors, "canonical"));
    assert_non_null(canonical);
    static const char *const kids[] = {"ed-1", "ec-1", "rsa-1"};
    for (size_t i = 0; i < sizeof kids / sizeof kids[0]; i++) {
        for (int pem = 0; pem <= 1; pem++) {
            json_t *vec = card_by_kid(vectors, kids[i]);
            struct pinned p;
            pin(&p, vec, pem);
            char *view = NULL;
            char agent_id[RUV_A2A_AGENT_ID_SIZE] = "x";
            const char *card = json_string_value(json_object_get(vec, "card"));
            int rc = verify(card, &p.o, &view, agent_id);
            if (rc != RUV_OK)
                fail_msg("%s (%s): %d %s", kids[i], pem ? "pem" : "jwk", rc, ruv_last_error());
            /* The view is what the signer signed: Node's canonical bytes. */
            assert_non_null(view);
            assert_string_equal(view, canonical);
            assert_string_equal(agent_id, ""); /* no identity extension */
            ops->free_string(view);
            /* view and agent_id are optional */
            assert_int_equal(verify(card, &p.o, NULL, NULL), RUV_OK);
            unpin(&p);
        }
    }
}

static void test_tampered_card_refused(void **state)
{
    (void)state;
    json_t *vec = card_by_kid(vectors, "ed-1");
    const char *card = json_string_value(json_object_get(vec, "card"));
    struct pinned p;
    pin(&p, vec, 0);

    char *tampered = replace_once(card, "\"version\": \"1.0.0\"", "\"version\": \"1.0.1\"");
    char *view = (char *)"untouched";
    char agent_id[RUV_A2A_AGENT_ID_SIZE] = "x";
    assert_int_equal(verify(tampered, &p.o, &view, agent_id), RUV_E_SECURITY);
    assert_null(view);
    assert_string_equal(agent_id, "");
    const char *why = ruv_last_error();
    assert_non_null(strstr(why, "a2a: "));
    assert_non_null(strstr(why, "signature"));
    free(tampered);

    /* A covered field added is tampering too; an endpoint redirected. */
    tampered = replace_once(card, "127.0.0.1:41241", "127.0.0.1:41242");
    assert_int_equal(verify(tampered, &p.o, NULL, NULL), RUV_E_SECURITY);
    free(tampered);

    /* The untampered card with nothing pinned: no key to trust. */
    assert_int_equal(verify(card, NULL, &view, NULL), RUV_E_SECURITY);
    assert_null(view);
    assert_true(strlen(ruv_last_error()) > strlen("a2a: "));

    /* Pinned under the right kid but revoked, or expired at `now`. */
    p.key.revoked = 1;
    assert_int_equal(verify(card, &p.o, NULL, NULL), RUV_E_SECURITY);
    p.key.revoked = 0;
    p.key.not_after = 1000;
    p.o.now = 1001;
    assert_int_equal(verify(card, &p.o, NULL, NULL), RUV_E_SECURITY);
    p.o.now = 999;
    assert_int_equal(verify(card, &p.o, NULL, NULL), RUV_OK);
    p.o.now = 0; /* the current time is long past 1000 */
    assert_int_equal(verify(card, &p.o, NULL, NULL), RUV_E_SECURITY);
    p.key.not_after = 0;

    /* An expected AgentID the card cannot show (no identity extension). */
    const char *ids[] = {"bb42f5a06cec4f36e3e9173236e88cdba7aa1a7bf737f6c6c372aa4c9268573e"};
    p.o.agent_ids = ids;
    p.o.n_agent_ids = 1;
    assert_int_equal(verify(card, &p.o, NULL, NULL), RUV_E_SECURITY);
    unpin(&p);
}

/* J1: a card that vouches for itself through the identity extension. */
static void test_identity_card(void **state)
{
    (void)state;
    char *text = read_vector("identity_card.json", NULL);
    json_error_t err;
    json_t *doc = json_loads(text, 0, &err);
    free(text);
    assert_non_null(doc);
    const char *card = json_string_value(json_object_get(doc, "card"));
    const char *want = json_string_value(json_object_get(doc, "agent_id"));
    assert_non_null(card);
    assert_non_null(want);

    char *view = NULL;
    char agent_id[RUV_A2A_AGENT_ID_SIZE] = "";
    assert_int_equal(verify(card, NULL, &view, agent_id), RUV_OK);
    assert_string_equal(agent_id, want);
    assert_non_null(view);
    assert_null(strstr(view, "signatures"));
    assert_non_null(strstr(view, want));
    ops->free_string(view);

    /* Expected AgentIDs: this one (in upper case) passes, another fails. */
    char upper[RUV_A2A_AGENT_ID_SIZE];
    for (size_t i = 0; i < sizeof upper; i++)
        upper[i] = (char)(want[i] >= 'a' && want[i] <= 'f' ? want[i] - 32 : want[i]);
    const char *ids[] = {upper};
    struct ruv_a2a_options o = {.struct_size = sizeof o, .agent_ids = ids, .n_agent_ids = 1};
    assert_int_equal(verify(card, &o, NULL, agent_id), RUV_OK);
    assert_string_equal(agent_id, want);
    const char *other[] = {"00000000000000000000000000000000000000000000000000000000000000aa"};
    o.agent_ids = other;
    assert_int_equal(verify(card, &o, NULL, agent_id), RUV_E_SECURITY);
    assert_string_equal(agent_id, "");

    /* One character of the name changed. */
    char *tampered = replace_once(card, "ruvector-test-peer", "Ruvector-test-peer");
    assert_int_equal(verify(tampered, NULL, NULL, agent_id), RUV_E_SECURITY);
    assert_string_equal(agent_id, "");
    free(tampered);
    json_decref(doc);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    json_t *vec = card_by_kid(vectors, "ed-1");
    const char *card = json_string_value(json_object_get(vec, "card"));
    struct pinned p;
    pin(&p, vec, 0);

    p.o.struct_size = 8;
    assert_int_equal(verify(card, &p.o, NULL, NULL), RUV_E_INVAL);
    assert_non_null(strstr(ruv_last_error(), "struct_size"));
    p.o.struct_size = sizeof p.o;

    const char *good_key = p.key.key;
    p.key.key = "{\"kty\":\"OKP\",\"crv\":\"Ed25519\"}";
    assert_int_equal(verify(card, &p.o, NULL, NULL), RUV_E_INVAL);
    assert_non_null(strstr(ruv_last_error(), "pinned key 0"));
    p.key.key = "not a key";
    assert_int_equal(verify(card, &p.o, NULL, NULL), RUV_E_INVAL);
    assert_non_null(strstr(ruv_last_error(), "pinned key 0"));
    p.key.key = good_key;

    const char *ids[] = {"abc"};
    p.o.agent_ids = ids;
    p.o.n_agent_ids = 1;
    assert_int_equal(verify(card, &p.o, NULL, NULL), RUV_E_INVAL);
    p.o.n_agent_ids = 0;

    assert_int_equal(ops->verify_card(pstate, NULL, 0, &p.o, NULL, NULL), RUV_E_INVAL);
    assert_int_equal(verify("{\"name\":", &p.o, NULL, NULL), RUV_E_PROTOCOL);
    assert_int_equal(verify("{\"a\":1,\"a\":2}", &p.o, NULL, NULL), RUV_E_PROTOCOL);
    ops->free_string(NULL);
    unpin(&p);
}

static void test_report_fragment(void **state)
{
    (void)state;
    char *json = NULL;
    assert_int_equal(ruv_engine_report(eng, &json), RUV_OK);
    const char *f = strstr(json, "\"features\":{");
    assert_non_null(f);
    const char *mine = strstr(f, "\"a2a\":{\"curl\":\"");
    assert_non_null(mine);
    assert_non_null(strstr(mine, "\"tls\":\"OpenSSL/"));
    assert_non_null(strstr(mine, "\"openssl\":\"OpenSSL "));
    assert_non_null(strstr(mine, "\"protocols\":\"1.0 0.3"));
    assert_non_null(strstr(mine, "\"open_clients\":\"0\"}"));
    ruv_free(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_late),
        cmocka_unit_test(test_signed_cards_accepted),
        cmocka_unit_test(test_tampered_card_refused),
        cmocka_unit_test(test_identity_card),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_report_fragment),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
