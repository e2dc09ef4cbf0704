/* tests/a2a/test_a2a_card.c — offline card verification (a2a.md §4, §10
 * items 1-5): cards signed by Node's crypto (vectors/cards.json), by CPython
 * with `cryptography` (vectors/python.json) and by libcrypto here; tampering,
 * pins, identity, the field whitelist and the a2a-python rendering. */
#include "config.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "a2a_test_util.h"
#include "../../plugins/a2a/b64url.h"
#include "../../plugins/a2a/detail.h"
#include "../../plugins/a2a/identity.h"
#include "../../plugins/a2a/jcs.h"
#include "../../plugins/a2a/json_in.h"
#include "../../plugins/a2a/jwk.h"
#include "../../plugins/a2a/jws.h"
#include "../../plugins/a2a/verify.h"

static const char v1_agent_id[] = "bb42f5a06cec4f36e3e9173236e88cdba7aa1a7bf737f6c6c372aa4c9268573e";

/* ---- cards signed by Node ---- */

struct node_cards {
    json_t *doc;
    const char *canonical;
};

static void load_node_cards(struct node_cards *nc)
{
    char *text = read_vector("cards.json", NULL);
    json_error_t err;
    nc->doc = json_loads(text, 0, &err);
    free(text);
    assert_non_null(nc->doc);
    nc->canonical = json_string_value(json_object_get(nc->doc, "canonical"));
}

static int verify_text(const char *card, const struct ruv__pins *pins, struct ruv__card_verdict *v)
{
    return ruv__card_verify(card, strlen(card), pins, 1000, NULL, v);
}

static struct ruv__pins *pins_for(json_t *vec, int use_pem)
{
    struct ruv__pins *pins;
    EVP_PKEY *key;
    assert_int_equal(ruv__pins_new(&pins), RUV_OK);
    if (use_pem) {
        const char *pem = json_string_value(json_object_get(vec, "pem"));
        assert_int_equal(ruv__key_from_pem(pem, strlen(pem), &key), RUV_OK);
    } else {
        assert_int_equal(ruv__jwk_import(json_object_get(vec, "jwk"), &key), RUV_OK);
    }
    assert_int_equal(ruv__pins_add_key(pins, json_string_value(json_object_get(vec, "kid")), key,
                                       0, 0), RUV_OK);
    return pins;
}

static void test_node_signed_cards(void **state)
{
    (void)state;
    struct node_cards nc;
    load_node_cards(&nc);
    const char *kids[] = {"ed-1", "ec-1", "rsa-1"};
    for (size_t i = 0; i < 3; i++) {
        json_t *vec = card_by_kid(nc.doc, kids[i]);
        const char *card = json_string_value(json_object_get(vec, "card"));
        for (int pem = 0; pem < 2; pem++) {
            struct ruv__pins *pins = pins_for(vec, pem);
            struct ruv__card_verdict v;
            json_t *view;
            int rc = ruv__card_verify(card, strlen(card), pins, 1000, &view, &v);
            if (rc != RUV_OK)
                fail_msg("%s (%s): %s", kids[i], pem ? "pem" : "jwk", ruv__detail_get());
            assert_int_equal(v.good_signatures, 1);
            assert_string_equal(v.signed_by, kids[i]);
            assert_false(v.has_agent_id);
            /* The view is what was signed: same canonical bytes as Node's. */
            char *canon;
            size_t len;
            assert_int_equal(ruv__jcs_serialize(view, &canon, &len), RUV_OK);
            assert_string_equal(canon, nc.canonical);
            assert_null(json_object_get(view, "signatures"));
            assert_null(json_object_get(view, "iconUrl"));
            free(canon);
            json_decref(view);
            ruv__pins_free(pins);
        }
    }
    /* RSA below 2048 bits is refused even though the signature is right. */
    json_t *small = card_by_kid(nc.doc, "rsa-small");
    struct ruv__pins *pins = pins_for(small, 0);
    struct ruv__card_verdict v;
    assert_int_equal(verify_text(json_string_value(json_object_get(small, "card")), pins, &v),
                     RUV_E_SECURITY);
    assert_non_null(strstr(ruv__detail_get(), "1024 bits"));
    ruv__pins_free(pins);
    json_decref(nc.doc);
}

/* Replaces the first occurrence of from in card text (same length). */
static char *edited(const char *card, const char *from, const char *to)
{
    assert_int_equal(strlen(from), strlen(to));
    return replace_once(card, from, to);
}

static void test_tampering(void **state)
{
    (void)state;
    struct node_cards nc;
    load_node_cards(&nc);
    json_t *vec = card_by_kid(nc.doc, "ed-1");
    const char *card = json_string_value(json_object_get(vec, "card"));
    struct ruv__pins *pins = pins_for(vec, 0);
    struct ruv__card_verdict v;

    char *t = edited(card, "vector peer", "vector Peer");
    assert_int_equal(verify_text(t, pins, &v), RUV_E_SECURITY);
    assert_non_null(strstr(ruv__detail_get(), "does not verify"));
    free(t);

    /* One signature character changed (keeping its trailing bits valid). */
    json_t *doc = json_loads(card, 0, NULL);
    json_t *sig = json_array_get(json_object_get(doc, "signatures"), 0);
    char sigtext[128];
    snprintf(sigtext, sizeof sigtext, "%s", json_string_value(json_object_get(sig, "signature")));
    sigtext[5] = sigtext[5] == 'A' ? 'B' : 'A';
    json_object_set_new(sig, "signature", json_string(sigtext));
    char *dumped = json_dumps(doc, 0);
    assert_int_equal(verify_text(dumped, pins, &v), RUV_E_SECURITY);
    free(dumped);

    /* alg switched to ES256 in the protected header: the EdDSA key no longer fits. */
    char prot[128];
    const char *hdr = "{\"alg\":\"ES256\",\"kid\":\"ed-1\",\"typ\":\"JOSE\"}";
    ruv__b64url_encode((const unsigned char *)hdr, strlen(hdr), prot);
    json_object_set_new(sig, "protected", json_string(prot));
    dumped = json_dumps(doc, 0);
    assert_int_equal(verify_text(dumped, pins, &v), RUV_E_SECURITY);
    assert_non_null(strstr(ruv__detail_get(), "ES256 needs a P-256 key"));
    free(dumped);
    json_decref(doc);

    /* Key order and whitespace do not matter: re-serialized compactly, sorted. */
    doc = json_loads(card, 0, NULL);
    dumped = json_dumps(doc, JSON_SORT_KEYS | JSON_COMPACT);
    assert_int_equal(verify_text(dumped, pins, &v), RUV_OK);
    free(dumped);
    /* No signatures, or an empty list, is unsigned. */
    json_object_set_new(doc, "signatures", json_array());
    dumped = json_dumps(doc, 0);
    assert_int_equal(verify_text(dumped, pins, &v), RUV_E_SECURITY);
    assert_non_null(strstr(ruv__detail_get(), "unsigned"));
    free(dumped);
    json_decref(doc);

    /* Re-headed as alg "none" (signature emptied) or HS256: refused. */
    const char *refused[] = {"{\"alg\":\"none\",\"kid\":\"ed-1\",\"typ\":\"JOSE\"}",
                             "{\"alg\":\"HS256\",\"kid\":\"ed-1\",\"typ\":\"JOSE\"}"};
    for (size_t i = 0; i < 2; i++) {
        doc = json_loads(card, 0, NULL);
        sig = json_array_get(json_object_get(doc, "signatures"), 0);
        ruv__b64url_encode((const unsigned char *)refused[i], strlen(refused[i]), prot);
        json_object_set_new(sig, "protected", json_string(prot));
        if (i == 0)
            json_object_set_new(sig, "signature", json_string(""));
        dumped = json_dumps(doc, 0);
        assert_int_equal(verify_text(dumped, pins, &v), RUV_E_SECURITY);
        assert_non_null(strstr(ruv__detail_get(), i == 0 ? "\"none\" is refused" : "HMAC"));
        free(dumped);
        json_decref(doc);
    }
    /* ruvector's legacy metadata.ruvector.signature alone is unsigned. */
    const char *legacy = "{\"name\":\"n\",\"url\":\"https://a.example/\",\"metadata\":"
                         "{\"ruvector\":{\"signature\":\"QUJD\"}}}";
    assert_int_equal(verify_text(legacy, pins, &v), RUV_E_SECURITY);
    assert_non_null(strstr(ruv__detail_get(), "unsigned"));

    /* Unknown kid: no key. */
    assert_int_equal(verify_text(card, NULL, &v), RUV_E_SECURITY);
    assert_non_null(strstr(ruv__detail_get(), "no pinned or identity key for kid \"ed-1\""));
    ruv__pins_free(pins);
    json_decref(nc.doc);
}

static void test_pins_expiry_revocation_and_mixed_signatures(void **state)
{
    (void)state;
    struct node_cards nc;
    load_node_cards(&nc);
    json_t *ed = card_by_kid(nc.doc, "ed-1"), *ec = card_by_kid(nc.doc, "ec-1");
    const char *card = json_string_value(json_object_get(ed, "card"));
    struct ruv__card_verdict v;
    EVP_PKEY *key;

    struct ruv__pins *pins;
    assert_int_equal(ruv__pins_new(&pins), RUV_OK);
    assert_int_equal(ruv__jwk_import(json_object_get(ed, "jwk"), &key), RUV_OK);
    assert_int_equal(ruv__pins_add_key(pins, "ed-1", key, 999, 0), RUV_OK); /* expires before now=1000 */
    assert_int_equal(verify_text(card, pins, &v), RUV_E_SECURITY);
    assert_non_null(strstr(ruv__detail_get(), "expired"));
    assert_int_equal(ruv__card_verify(card, strlen(card), pins, 999, NULL, &v), RUV_OK);
    assert_int_equal(ruv__jwk_import(json_object_get(ed, "jwk"), &key), RUV_OK);
    assert_int_equal(ruv__pins_add_key(pins, "ed-1", key, 0, 0), RUV_E_INVAL); /* twice */
    ruv__pins_free(pins);

    assert_int_equal(ruv__pins_new(&pins), RUV_OK);
    assert_int_equal(ruv__jwk_import(json_object_get(ed, "jwk"), &key), RUV_OK);
    assert_int_equal(ruv__pins_add_key(pins, "ed-1", key, 0, 1), RUV_OK);
    assert_int_equal(verify_text(card, pins, &v), RUV_E_SECURITY);
    assert_non_null(strstr(ruv__detail_get(), "revoked"));
    ruv__pins_free(pins);

    /* ed-1's card with ec-1's signature appended: one good + one bad passes
     * either way round; with neither key pinned right, both bad fail. */
    json_t *doc = json_loads(card, 0, NULL);
    json_t *ecdoc = json_loads(json_string_value(json_object_get(ec, "card")), 0, NULL);
    json_t *ecsig = json_array_get(json_object_get(ecdoc, "signatures"), 0);
    json_array_insert(json_object_get(doc, "signatures"), 0, ecsig);
    char *both = json_dumps(doc, 0);
    pins = pins_for(ed, 0);
    assert_int_equal(verify_text(both, pins, &v), RUV_OK);
    assert_int_equal(v.good_signatures, 1);
    assert_string_equal(v.signed_by, "ed-1");
    ruv__pins_free(pins);
    pins = pins_for(ec, 0);
    assert_int_equal(verify_text(both, pins, &v), RUV_OK);
    assert_string_equal(v.signed_by, "ec-1");
    /* ES256 key pinned under the EdDSA kid: both signatures fail. */
    ruv__pins_free(pins);
    assert_int_equal(ruv__pins_new(&pins), RUV_OK);
    assert_int_equal(ruv__jwk_import(json_object_get(ec, "jwk"), &key), RUV_OK);
    assert_int_equal(ruv__pins_add_key(pins, "ed-1", key, 0, 0), RUV_OK);
    assert_int_equal(verify_text(both, pins, &v), RUV_E_SECURITY);
    assert_non_null(strstr(ruv__detail_get(), "signatures[0]"));
    ruv__pins_free(pins);
    free(both);
    json_decref(ecdoc);
    json_decref(doc);
    json_decref(nc.doc);
}

/* ---- cards signed here with the identity extension ---- */

/* Signs card (in place: adds signatures) with an Ed25519 key, as a2a-js does:
 * stripped card → JCS → detached JWS. Returns the card's JSON text. */
static char *sign_card(json_t *card, EVP_PKEY *priv, const char *kid)
{
    json_t *signed_view = json_deep_copy(card);
    assert_int_equal(ruv__card_strip_for_signing(signed_view), RUV_OK);
    char *canon;
    size_t len;
    assert_int_equal(ruv__jcs_serialize(signed_view, &canon, &len), RUV_OK);
    json_decref(signed_view);
    char hdr[256], prot[400], payload[2048], sig_b64[128], input[4096];
    snprintf(hdr, sizeof hdr, "{\"alg\":\"EdDSA\",\"kid\":\"%s\",\"typ\":\"JOSE\"}", kid);
    ruv__b64url_encode((const unsigned char *)hdr, strlen(hdr), prot);
    assert_true(ruv__b64url_encoded_len(len) < sizeof payload);
    ruv__b64url_encode((const unsigned char *)canon, len, payload);
    snprintf(input, sizeof input, "%s.%s", prot, payload);
    free(canon);
    unsigned char sig[64];
    size_t siglen = sizeof sig;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, NULL, NULL, priv), 1);
    assert_int_equal(EVP_DigestSign(ctx, sig, &siglen, (unsigned char *)input, strlen(input)), 1);
    EVP_MD_CTX_free(ctx);
    ruv__b64url_encode(sig, siglen, sig_b64);
    json_object_set_new(card, "signatures",
                        json_pack("[{s:s,s:s}]", "protected", prot, "signature", sig_b64));
    return json_dumps(card, 0);
}

static char *sign_identity_card(EVP_PKEY *priv, char agent_id[65], const char *kid_override)
{
    unsigned char pub[32];
    size_t publen = 32;
    assert_int_equal(EVP_PKEY_get_raw_public_key(priv, pub, &publen), 1);
    assert_int_equal(ruv__agent_id(pub, agent_id), RUV_OK);
    char pub_b64[64];
    ruv__b64url_encode(pub, 32, pub_b64);
    json_t *card = json_pack("{s:s,s:s,s:{s:b,s:[{s:s,s:b,s:{s:s,s:s}}]},s:[]}", "name", "peer",
                             "version", "1", "capabilities", "streaming", 0, "extensions", "uri",
                             RUV__A2A_IDENTITY_URI, "required", 0, "params", "publicKey", pub_b64,
                             "agentId", agent_id, "skills");
    assert_non_null(card);
    json_t *signed_view = json_deep_copy(card);
    assert_int_equal(ruv__card_strip_for_signing(signed_view), RUV_OK);
    char *canon;
    size_t len;
    assert_int_equal(ruv__jcs_serialize(signed_view, &canon, &len), RUV_OK);
    json_decref(signed_view);
    /* required:false and skills:[] are not signed; streaming:false is. */
    assert_null(strstr(canon, "required"));
    assert_null(strstr(canon, "skills"));
    assert_non_null(strstr(canon, "\"streaming\":false"));
    free(canon);
    char *text = sign_card(card, priv, kid_override ? kid_override : agent_id);
    json_decref(card);
    return text;
}

static void test_identity_and_attacker(void **state)
{
    (void)state;
    unsigned char seed[32];
    memset(seed, 0x07, sizeof seed);
    EVP_PKEY *v1 = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
    EVP_PKEY *attacker = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    assert_non_null(v1);
    assert_non_null(attacker);
    char id[65], bad_id[65];
    char *good = sign_identity_card(v1, id, NULL);
    assert_string_equal(id, v1_agent_id);
    char *evil = sign_identity_card(attacker, bad_id, NULL);

    /* Self-embedded key: both verify, each with its own AgentID. */
    struct ruv__card_verdict v;
    assert_int_equal(verify_text(good, NULL, &v), RUV_OK);
    assert_true(v.has_agent_id);
    assert_string_equal(v.agent_id, v1_agent_id);
    assert_int_equal(verify_text(evil, NULL, &v), RUV_OK);
    assert_string_equal(v.agent_id, bad_id);

    /* Pinning V1's AgentID (upper case accepted) rejects the attacker. */
    struct ruv__pins *pins;
    assert_int_equal(ruv__pins_new(&pins), RUV_OK);
    char upper[65];
    for (int i = 0; i < 65; i++)
        upper[i] = (char)(v1_agent_id[i] >= 'a' ? v1_agent_id[i] - 32 : v1_agent_id[i]);
    assert_int_equal(ruv__pins_add_agent_id(pins, upper), RUV_OK);
    assert_int_equal(ruv__pins_add_agent_id(pins, "abc"), RUV_E_INVAL);
    assert_int_equal(verify_text(good, pins, &v), RUV_OK);
    assert_int_equal(verify_text(evil, pins, &v), RUV_E_SECURITY);
    assert_non_null(strstr(ruv__detail_get(), "is not pinned"));

    /* A card whose agentId is not SHAKE-256 of its key. */
    char *swapped = strdup(evil);
    char *at = strstr(swapped, bad_id);
    memcpy(at, v1_agent_id, 64);
    assert_int_equal(verify_text(swapped, NULL, &v), RUV_E_SECURITY);
    assert_non_null(strstr(ruv__detail_get(), "is not SHAKE-256 of publicKey"));
    free(swapped);

    /* Signed under another kid: the extension key is not usable for it. */
    char *other_kid = sign_identity_card(v1, id, "some-other-kid");
    assert_int_equal(verify_text(other_kid, NULL, &v), RUV_E_SECURITY);
    /* ... and pinned under that kid, the identity signature is still missing. */
    struct ruv__pins *kp;
    assert_int_equal(ruv__pins_new(&kp), RUV_OK);
    unsigned char pub[32];
    size_t publen = 32;
    EVP_PKEY_get_raw_public_key(v1, pub, &publen);
    EVP_PKEY *pk;
    assert_int_equal(ruv__key_from_ed25519(pub, &pk), RUV_OK);
    assert_int_equal(ruv__pins_add_key(kp, "some-other-kid", pk, 0, 0), RUV_OK);
    assert_int_equal(verify_text(other_kid, kp, &v), RUV_E_SECURITY);
    assert_non_null(strstr(ruv__detail_get(), "kid == agentId"));
    /* A card without the extension fails a pinned AgentID. */
    ruv__pins_free(kp);
    free(other_kid);

    ruv__pins_free(pins);
    free(good);
    free(evil);
    EVP_PKEY_free(v1);
    EVP_PKEY_free(attacker);
}

/* a2a.md §4 step 2: only schema fields are signed and shown. */
static void test_schema_whitelist(void **state)
{
    (void)state;
    struct node_cards nc;
    load_node_cards(&nc);
    json_t *vec = card_by_kid(nc.doc, "ed-1");
    json_t *card = json_loads(json_string_value(json_object_get(vec, "card")), 0, NULL);
    struct ruv__pins *pins = pins_for(vec, 0);
    struct ruv__card_verdict v;

    /* Unknown fields and the hybrid card's v0.3 extras, added after signing. */
    json_object_set_new(card, "evil", json_string("x"));
    json_object_set_new(card, "url", json_string("https://attacker.example/a2a"));
    json_object_set_new(card, "preferredTransport", json_string("JSONRPC"));
    json_object_set_new(card, "protocolVersion", json_string("0.3.0"));
    json_object_set_new(json_object_get(card, "capabilities"), "bogus", json_true());
    json_object_set_new(json_array_get(json_object_get(card, "skills"), 0), "bogus", json_integer(1));
    char *text = json_dumps(card, 0);
    json_t *view;
    int rc = ruv__card_verify(text, strlen(text), pins, 1000, &view, &v);
    if (rc != RUV_OK)
        fail_msg("%s", ruv__detail_get());
    assert_null(json_object_get(view, "evil"));
    assert_null(json_object_get(view, "url"));
    assert_null(json_object_get(view, "protocolVersion"));
    assert_null(json_object_get(json_object_get(view, "capabilities"), "bogus"));
    assert_null(json_object_get(json_array_get(json_object_get(view, "skills"), 0), "bogus"));
    assert_non_null(json_object_get(view, "supportedInterfaces"));
    json_decref(view);
    free(text);

    /* A schema field of the wrong type is a malformed card. */
    struct { const char *path_json; const char *says; } bad[] = {
        {"{\"name\":5}", "card: name is not a string"},
        {"{\"capabilities\":{\"streaming\":\"yes\"}}", "card: capabilities.streaming is not a boolean"},
        {"{\"skills\":[{\"tags\":\"rag\"}]}", "card: skills[0].tags is not an array"},
        {"{\"supportedInterfaces\":[7]}", "card: supportedInterfaces[0] is not an object"},
        {"{\"defaultInputModes\":[\"a\",1]}", "card: defaultInputModes[1] is not a string"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *copy = json_deep_copy(card);
        json_t *patch = json_loads(bad[i].path_json, 0, NULL);
        json_object_update_recursive(copy, patch);
        if (i == 2) /* replace the skill list outright */
            json_object_set(copy, "skills", json_object_get(patch, "skills"));
        char *t = json_dumps(copy, 0);
        rc = verify_text(t, pins, &v);
        if (rc != RUV_E_PROTOCOL || strstr(ruv__detail_get(), bad[i].says) == NULL)
            fail_msg("%s: rc %d, \"%s\"", bad[i].path_json, rc, ruv__detail_get());
        free(t);
        json_decref(patch);
        json_decref(copy);
    }
    json_decref(card);
    ruv__pins_free(pins);

    /* A v0.3-shaped card (no supportedInterfaces) keeps its v0.3 fields. */
    unsigned char seed[32];
    memset(seed, 0x07, sizeof seed);
    EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
    json_t *v03 = json_pack("{s:s,s:s,s:s,s:s,s:s,s:{s:b,s:b},s:[{s:s,s:s}],s:s}", "name", "old",
                            "version", "1", "url", "https://old.example/a2a", "protocolVersion",
                            "0.3.0", "preferredTransport", "JSONRPC", "capabilities", "streaming",
                            1, "stateTransitionHistory", 0, "additionalInterfaces", "url",
                            "https://old.example/a2a", "transport", "JSONRPC", "notInSchema", "x");
    text = sign_card(v03, key, "ed-1");
    pins = pins_for(vec, 0);
    assert_int_equal(ruv__card_verify(text, strlen(text), pins, 1000, &view, &v), RUV_OK);
    assert_string_equal(json_string_value(json_object_get(view, "url")), "https://old.example/a2a");
    assert_true(json_is_false(json_object_get(json_object_get(view, "capabilities"),
                                              "stateTransitionHistory")));
    assert_non_null(json_object_get(view, "additionalInterfaces"));
    assert_null(json_object_get(view, "notInSchema"));
    json_decref(view);
    free(text);
    ruv__pins_free(pins);
    json_decref(v03);
    EVP_PKEY_free(key);
    json_decref(nc.doc);
}

/* A card a2a-python signed over its own rendering verifies on the retry. */
static void test_python_signed_card(void **state)
{
    (void)state;
    char *text = read_vector("python.json", NULL);
    json_t *vec = json_loads(text, 0, NULL);
    free(text);
    struct node_cards nc;
    load_node_cards(&nc);
    /* The Python signer used seed 07x32 under kid "ed-1", as Node's ed-1. */
    struct ruv__pins *pins = pins_for(card_by_kid(nc.doc, "ed-1"), 0);
    const char *card = json_string_value(json_object_get(vec, "card"));
    struct ruv__card_verdict v;
    int rc = verify_text(card, pins, &v);
    if (rc != RUV_OK)
        fail_msg("%s", ruv__detail_get());
    assert_string_equal(v.canonicalization, "python");
    /* Its python rendering is byte for byte CPython's. */
    json_t *doc = json_loads(card, JSON_DECODE_INT_AS_REAL, NULL);
    assert_int_equal(ruv__card_strip_for_signing(doc), RUV_OK);
    char *canon;
    size_t len;
    assert_int_equal(ruv__canon_serialize(doc, RUV__CANON_PYTHON, &canon, &len), RUV_OK);
    assert_string_equal(canon, json_string_value(json_object_get(vec, "canonical")));
    free(canon);
    json_decref(doc);
    /* Tampered, it fails in both renderings; Node's card says "jcs". */
    char *t = edited(card, "python peer", "python Peer");
    assert_int_equal(verify_text(t, pins, &v), RUV_E_SECURITY);
    free(t);
    assert_int_equal(verify_text(json_string_value(json_object_get(card_by_kid(nc.doc, "ed-1"), "card")),
                                 pins, &v), RUV_OK);
    assert_string_equal(v.canonicalization, "jcs");
    ruv__pins_free(pins);
    json_decref(nc.doc);
    json_decref(vec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_node_signed_cards),
        cmocka_unit_test(test_tampering),
        cmocka_unit_test(test_pins_expiry_revocation_and_mixed_signatures),
        cmocka_unit_test(test_identity_and_attacker),
        cmocka_unit_test(test_schema_whitelist),
        cmocka_unit_test(test_python_signed_card),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
