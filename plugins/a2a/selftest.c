/* plugins/a2a/selftest.c — vectors V1, V3 and J1 (a2a.md §4). */
#include "config.h"
#include "selftest.h"
#include "b64url.h"
#include "detail.h"
#include "identity.h"
#include "jcs.h"
#include "json_in.h"
#include "jws.h"
#include "verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/sha.h>

static const char v1_public_hex[] = "ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c";
static const char v1_agent_id[] = "bb42f5a06cec4f36e3e9173236e88cdba7aa1a7bf737f6c6c372aa4c9268573e";

static const char v2_card[] =
    "{\"authentication\":{\"schemes\":[\"bearer\"]},\"capabilities\":{\"pushNotifications\":false,"
    "\"streaming\":false},\"description\":\"card_signature.rs fixture\",\"metadata\":{\"ruvector\":{}},"
    "\"name\":\"signer-under-test\",\"provider\":{\"organization\":\"ruvector\"},\"skills\":[{"
    "\"description\":\"x\",\"id\":\"rag.query\",\"inputModes\":[],\"name\":\"RAG\",\"outputModes\":[],"
    "\"tags\":[]}],\"url\":\"https://agent.example.invalid/a2a\",\"version\":\"0.1.0\"}";
static const char v2_sha256[] = "26ca8a4b8b76f2e1335474a8f9d62b9a78543e4f6ff1c100c4ebda2158da5f9c";
static const char v3_signature_hex[] =
    "43c2f713b7fd764bc5ef944de89a22b3d42b2eea607f11c765291015afe3e232"
    "019fc1e0242898adc3fb05f4e831e6d1a6691ca246fafa1f8e331bd91216da07";

/* J1 as signed, before the signer dropped tenant:"", description:"" and
 * required:false; %s is the signatures array. */
static const char j1_card_format[] =
    "{\"name\":\"ruvector-test-peer\",\"description\":\"identity fixture\",\"version\":\"1.0.0\","
    "\"supportedInterfaces\":[{\"url\":\"http://127.0.0.1:41241/a2a/jsonrpc\",\"protocolBinding\":"
    "\"JSONRPC\",\"tenant\":\"\",\"protocolVersion\":\"1.0\"}],\"capabilities\":{\"streaming\":true,"
    "\"pushNotifications\":false,\"extensions\":[{\"uri\":\"urn:ruvector:a2a:identity:v1\","
    "\"description\":\"\",\"required\":false,\"params\":{\"publicKey\":"
    "\"6kpsY-KcUgq-9VB7Ey7F-ZVHdq6-vnuSQh7qaRRG0iw\",\"agentId\":"
    "\"bb42f5a06cec4f36e3e9173236e88cdba7aa1a7bf737f6c6c372aa4c9268573e\"}}]},"
    "\"defaultInputModes\":[\"text/plain\"],\"defaultOutputModes\":[\"text/plain\"],\"skills\":[{"
    "\"id\":\"rag.query\",\"name\":\"RAG\",\"description\":\"x\",\"tags\":[\"rag\"]}],"
    "\"signatures\":[{\"protected\":\"%s\",\"signature\":\"%s\"}]}";
static const char j1_sha256[] = "1e1ab7e413da709607d08ee15b09c3c6b01db489bd35fdbfe18366026877d673";
static const size_t j1_canonical_len = 608;
static const char j1_signature[] =
    "WJMbiXPX75sHqJyl9f4Fm8nJPAOh7UHblFy49twGp3byjLBE6Ve7BO_KAe5PFHnUdFG2no1B77GlL6Tuah3NBQ";

static int sha256_is(const char *data, size_t len, const char *want_hex)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    char hex[2 * SHA256_DIGEST_LENGTH + 1];
    SHA256((const unsigned char *)data, len, md);
    ruv__hex_lower(md, sizeof md, hex);
    return strcmp(hex, want_hex) == 0;
}

static int failed(const char *vector, const char *step)
{
    ERR_clear_error();
    return ruv__detail_set(RUV_E_SELFTEST, "self-test %s: %s", vector, step);
}

/* V1 and V3: the seed's key, its AgentID, and a deterministic signature. */
static int ed25519_vectors(void)
{
    unsigned char seed[32], pub[32], sig[64];
    size_t publen = sizeof pub, siglen = sizeof sig;
    char hex[129];
    memset(seed, 0x07, sizeof seed);
    EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof seed);
    if (key == NULL || EVP_PKEY_get_raw_public_key(key, pub, &publen) != 1 || publen != 32) {
        EVP_PKEY_free(key);
        return failed("V1", "libcrypto cannot make the Ed25519 key from seed 07x32");
    }
    ruv__hex_lower(pub, 32, hex);
    if (strcmp(hex, v1_public_hex) != 0) {
        EVP_PKEY_free(key);
        return failed("V1", "public key of seed 07x32 differs");
    }
    char id[RUV__AGENT_ID_HEX + 1];
    if (ruv__agent_id(pub, id) != RUV_OK || strcmp(id, v1_agent_id) != 0) {
        EVP_PKEY_free(key);
        return failed("V1", "AgentID (SHAKE-256 of the key) differs");
    }

    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx != NULL && EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 &&
             EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)v2_card,
                            sizeof v2_card - 1) == 1 && siglen == 64;
    EVP_MD_CTX_free(ctx);
    ruv__hex_lower(sig, sizeof sig, hex);
    if (!ok || strcmp(hex, v3_signature_hex) != 0) {
        EVP_PKEY_free(key);
        return failed("V3", "Ed25519 signature of V2 differs");
    }
    /* Verify through the public key alone, and refuse a changed card. */
    EVP_PKEY *pubkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
    char tampered[sizeof v2_card];
    memcpy(tampered, v2_card, sizeof v2_card);
    tampered[10] ^= 1;
    int good = 0, bad = 1;
    for (int pass = 0; pass < 2 && pubkey != NULL; pass++) {
        ctx = EVP_MD_CTX_new();
        int r = ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pubkey) == 1 &&
                EVP_DigestVerify(ctx, sig, 64, (const unsigned char *)(pass ? tampered : v2_card),
                                 sizeof v2_card - 1) == 1;
        EVP_MD_CTX_free(ctx);
        if (pass == 0)
            good = r;
        else
            bad = r;
    }
    EVP_PKEY_free(pubkey);
    EVP_PKEY_free(key);
    if (!good || bad)
        return failed("V3", "verification accepts the wrong input or refuses the right one");
    return RUV_OK;
}

/* V2 is canonical already: JCS must give it back byte for byte. */
static int v2_canonical(void)
{
    if (!sha256_is(v2_card, sizeof v2_card - 1, v2_sha256))
        return failed("V2", "fixture bytes damaged");
    json_t *doc;
    char *canon = NULL;
    size_t len = 0;
    int rc = ruv__json_parse(v2_card, sizeof v2_card - 1, &ruv__json_card_limits, &doc);
    if (rc == RUV_OK) {
        rc = ruv__jcs_serialize(doc, &canon, &len);
        json_decref(doc);
    }
    int same = rc == RUV_OK && len == sizeof v2_card - 1 && memcmp(canon, v2_card, len) == 0;
    free(canon);
    return same ? RUV_OK : failed("V2", "RFC 8785 form of the canonical card differs");
}

static int j1_card(char *buf, size_t cap, const char *signature)
{
    char header[160], protected_b64[256];
    int n = snprintf(header, sizeof header, "{\"alg\":\"EdDSA\",\"kid\":\"%s\",\"typ\":\"JOSE\"}",
                     v1_agent_id);
    ruv__b64url_encode((const unsigned char *)header, (size_t)n, protected_b64);
    return snprintf(buf, cap, j1_card_format, protected_b64, signature);
}

static int j1_vector(void)
{
    char card[2048];
    int n = j1_card(card, sizeof card, j1_signature);
    if (n <= 0 || (size_t)n >= sizeof card)
        return failed("J1", "card does not fit its buffer");

    /* The canonical payload the signer saw. */
    json_t *doc;
    char *canon = NULL;
    size_t len = 0;
    int rc = ruv__json_parse(card, (size_t)n, &ruv__json_card_limits, &doc);
    if (rc == RUV_OK) {
        rc = ruv__card_strip_for_signing(doc);
        if (rc == RUV_OK)
            rc = ruv__jcs_serialize(doc, &canon, &len);
        json_decref(doc);
    }
    int same = rc == RUV_OK && len == j1_canonical_len && sha256_is(canon, len, j1_sha256);
    free(canon);
    if (!same)
        return failed("J1", "canonical payload differs (length or sha256)");

    struct ruv__card_verdict verdict;
    if (ruv__card_verify(card, (size_t)n, NULL, 0, NULL, &verdict) != RUV_OK)
        return failed("J1", "the signed card does not verify");
    if (!verdict.has_agent_id || strcmp(verdict.agent_id, v1_agent_id) != 0)
        return failed("J1", "the verified AgentID differs from V1's");

    /* One changed character in the name must break it. */
    char *name = strstr(card, "ruvector-test-peer");
    if (name == NULL)
        return failed("J1", "fixture lost its name");
    name[0] = 'R';
    if (ruv__card_verify(card, (size_t)n, NULL, 0, NULL, &verdict) == RUV_OK)
        return failed("J1", "a tampered card verifies");
    return RUV_OK;
}

int ruv__a2a_selftest_vectors(void)
{
    int rc = ed25519_vectors();
    if (rc == RUV_OK)
        rc = v2_canonical();
    if (rc == RUV_OK)
        rc = j1_vector();
    return rc;
}
