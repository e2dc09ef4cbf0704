/* tests/a2a/test_a2a_jws.c — base64url, JWS protected headers, JWK import,
 * AgentID and the V1/V3/J1 self-test (a2a.md §4, §10 items 1 and 3). */
#include "config.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../plugins/a2a/b64url.h"
#include "../../plugins/a2a/detail.h"
#include "../../plugins/a2a/identity.h"
#include "../../plugins/a2a/jcs.h"
#include "../../plugins/a2a/json_in.h"
#include "../../plugins/a2a/jwk.h"
#include "../../plugins/a2a/jws.h"
#include "../../plugins/a2a/selftest.h"
#include "../../plugins/a2a/verify.h"

static const char v1_agent_id[] = "bb42f5a06cec4f36e3e9173236e88cdba7aa1a7bf737f6c6c372aa4c9268573e";

static void test_selftest_vectors(void **state)
{
    (void)state;
    int rc = ruv__a2a_selftest_vectors();
    if (rc != RUV_OK)
        fail_msg("%s", ruv__detail_get());
}

static void test_agent_id_v1(void **state)
{
    (void)state;
    unsigned char *pub;
    size_t len;
    assert_int_equal(ruv__b64url_decode("6kpsY-KcUgq-9VB7Ey7F-ZVHdq6-vnuSQh7qaRRG0iw", 43, "k", &pub,
                                        &len), RUV_OK);
    assert_int_equal(len, 32);
    char id[65];
    assert_int_equal(ruv__agent_id(pub, id), RUV_OK);
    assert_string_equal(id, v1_agent_id);
    pub[0] ^= 1;
    assert_int_equal(ruv__agent_id(pub, id), RUV_OK);
    assert_string_not_equal(id, v1_agent_id);
    free(pub);
    assert_true(ruv__agent_id_valid(v1_agent_id));
    assert_false(ruv__agent_id_valid("bb42"));
    assert_false(ruv__agent_id_valid("zz42f5a06cec4f36e3e9173236e88cdba7aa1a7bf737f6c6c372aa4c9268573e"));
}

static void test_b64url(void **state)
{
    (void)state;
    unsigned char in[40], *out;
    char enc[64];
    size_t len;
    for (size_t n = 0; n <= sizeof in; n++) {
        for (size_t i = 0; i < n; i++)
            in[i] = (unsigned char)(i * 37 + n);
        ruv__b64url_encode(in, n, enc);
        assert_int_equal(strlen(enc), ruv__b64url_encoded_len(n));
        assert_null(strpbrk(enc, "+/="));
        assert_int_equal(ruv__b64url_decode(enc, strlen(enc), "t", &out, &len), RUV_OK);
        assert_int_equal(len, n);
        assert_memory_equal(out, in, n);
        free(out);
    }
    const char *bad[] = {"AB", "A", "AAA=", "AA+A", "AA/A", "AA A", "AAAAA"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(ruv__b64url_decode(bad[i], strlen(bad[i]), "t", &out, &len),
                         RUV_E_PROTOCOL);
        assert_null(out);
    }
    assert_int_equal(ruv__b64url_decode("AA", 2, "t", &out, &len), RUV_OK);
    assert_int_equal(len, 1);
    free(out);
}

static int header(const char *json, struct ruv__jws_header *h)
{
    char b64[512];
    ruv__b64url_encode((const unsigned char *)json, strlen(json), b64);
    return ruv__jws_parse_protected(b64, strlen(b64), h);
}

static void test_protected_header(void **state)
{
    (void)state;
    struct ruv__jws_header h;
    assert_int_equal(header("{\"alg\":\"ES256\",\"kid\":\"k1\",\"typ\":\"JOSE\",\"jku\":"
                            "\"https://a.example/jwks.json\"}", &h), RUV_OK);
    assert_int_equal(h.alg, RUV__JWS_ES256);
    assert_string_equal(h.kid, "k1");
    assert_true(h.has_jku);
    assert_string_equal(h.jku, "https://a.example/jwks.json");
    assert_int_equal(header("{\"alg\":\"EdDSA\",\"kid\":\"k1\",\"typ\":\"JOSE\"}", &h), RUV_OK);
    assert_false(h.has_jku);

    struct { const char *json; int rc; const char *says; } bad[] = {
        {"{\"alg\":\"none\",\"kid\":\"k\",\"typ\":\"JOSE\"}", RUV_E_SECURITY, "\"none\" is refused"},
        {"{\"alg\":\"HS256\",\"kid\":\"k\",\"typ\":\"JOSE\"}", RUV_E_SECURITY, "HMAC"},
        {"{\"alg\":\"HS512\",\"kid\":\"k\",\"typ\":\"JOSE\"}", RUV_E_SECURITY, "HMAC"},
        {"{\"alg\":\"PS256\",\"kid\":\"k\",\"typ\":\"JOSE\"}", RUV_E_SECURITY, "not supported"},
        {"{\"alg\":\"EdDSA\",\"typ\":\"JOSE\"}", RUV_E_PROTOCOL, "no \"kid\""},
        {"{\"alg\":\"EdDSA\",\"kid\":\"\",\"typ\":\"JOSE\"}", RUV_E_PROTOCOL, "\"kid\" is empty"},
        {"{\"alg\":\"EdDSA\",\"kid\":\"k\"}", RUV_E_PROTOCOL, "no \"typ\""},
        {"{\"alg\":\"EdDSA\",\"kid\":\"k\",\"typ\":\"JWT\"}", RUV_E_PROTOCOL, "not \"JOSE\""},
        {"{\"alg\":\"EdDSA\",\"kid\":7,\"typ\":\"JOSE\"}", RUV_E_PROTOCOL, "not a string"},
        {"{\"alg\":\"EdDSA\",\"kid\":\"k\",\"typ\":\"JOSE\",\"crit\":[\"b64\"]}", RUV_E_SECURITY, "crit"},
        {"{\"alg\":\"EdDSA\",\"alg\":\"none\",\"kid\":\"k\",\"typ\":\"JOSE\"}", RUV_E_PROTOCOL, "duplicate"},
        {"[\"EdDSA\"]", RUV_E_PROTOCOL, "not an object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = header(bad[i].json, &h);
        if (rc != bad[i].rc || strstr(ruv__detail_get(), bad[i].says) == NULL)
            fail_msg("%s: rc %d, detail \"%s\"", bad[i].json, rc, ruv__detail_get());
    }
    assert_int_equal(ruv__jws_parse_protected("e30=", 4, &h), RUV_E_PROTOCOL);
}

static void test_jwk_refusals(void **state)
{
    (void)state;
    EVP_PKEY *key;
    const char *bad[] = {
        "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"6kpsY-KcUgq-9VB7Ey7F-ZVHdq6-vnuSQh7qaRRG0iw\"}",
        "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"6kpsY-KcUgq\"}",
        "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"AA\",\"y\":\"AA\"}",
        "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
        "\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE\"}",
        "{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}",
        "{\"kty\":\"RSA\",\"n\":\"AQAB\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *jwk = json_loads(bad[i], 0, NULL);
        assert_non_null(jwk);
        int rc = ruv__jwk_import(jwk, &key);
        if (rc == RUV_OK)
            fail_msg("accepted %s", bad[i]);
        assert_null(key);
        json_decref(jwk);
    }
    assert_int_equal(ruv__key_from_pem("nope", 4, &key), RUV_E_PROTOCOL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selftest_vectors),
        cmocka_unit_test(test_agent_id_v1),
        cmocka_unit_test(test_b64url),
        cmocka_unit_test(test_protected_header),
        cmocka_unit_test(test_jwk_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
