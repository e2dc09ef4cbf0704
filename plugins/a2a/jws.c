/* plugins/a2a/jws.c — protected-header checks and EVP signature verification. */
#include "config.h"
#include "jws.h"
#include "b64url.h"
#include "detail.h"
#include "json_in.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/ec.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>

static const struct ruv__json_limits header_limits = {
    .max_bytes = RUV__JWS_PROTECTED_MAX,
    .max_depth = 4,
    .numbers_as_doubles = 0,
    .any_top_level = 0,
};

const char *ruv__jws_alg_name(enum ruv__jws_alg alg)
{
    switch (alg) {
    case RUV__JWS_EDDSA: return "EdDSA";
    case RUV__JWS_ES256: return "ES256";
    case RUV__JWS_RS256: return "RS256";
    }
    return "?";
}

static int parse_alg(const char *s, enum ruv__jws_alg *alg)
{
    if (strcmp(s, "EdDSA") == 0)
        *alg = RUV__JWS_EDDSA;
    else if (strcmp(s, "ES256") == 0)
        *alg = RUV__JWS_ES256;
    else if (strcmp(s, "RS256") == 0)
        *alg = RUV__JWS_RS256;
    else if (strcmp(s, "none") == 0)
        return ruv__detail_set(RUV_E_SECURITY, "jws: alg \"none\" is refused (unsigned)");
    else if (strncmp(s, "HS", 2) == 0)
        return ruv__detail_set(RUV_E_SECURITY,
                             "jws: alg \"%.16s\" is refused (HMAC needs a shared secret; cards are "
                             "signed with private keys)", s);
    else
        return ruv__detail_set(RUV_E_SECURITY,
                             "jws: alg \"%.32s\" is not supported (EdDSA, ES256, RS256)", s);
    return RUV_OK;
}

static int copy_member(const json_t *hdr, const char *name, char *dst, size_t cap, int required)
{
    const json_t *v = json_object_get(hdr, name);
    if (v == NULL) {
        if (required)
            return ruv__detail_set(RUV_E_PROTOCOL, "jws: protected header has no \"%s\"", name);
        return RUV_E_NOTFOUND;
    }
    if (!json_is_string(v))
        return ruv__detail_set(RUV_E_PROTOCOL, "jws: protected \"%s\" is not a string", name);
    size_t len = json_string_length(v);
    if (len == 0 || len >= cap || memchr(json_string_value(v), '\0', len) != NULL)
        return ruv__detail_set(RUV_E_PROTOCOL,
                             "jws: protected \"%s\" is empty, longer than %zu bytes or holds NUL",
                             name, cap - 1);
    memcpy(dst, json_string_value(v), len + 1);
    return RUV_OK;
}

int ruv__jws_parse_protected(const char *protected_b64, size_t len, struct ruv__jws_header *out)
{
    if (protected_b64 == NULL || out == NULL)
        return ruv__detail_set(RUV_E_INVAL, "jws: protected header or out is NULL");
    memset(out, 0, sizeof *out);
    if (len == 0)
        return ruv__detail_set(RUV_E_PROTOCOL, "jws: protected header is empty");
    if (len > RUV__JWS_PROTECTED_MAX / 3 * 4 + 4)
        return ruv__detail_set(RUV_E_PROTOCOL, "jws: protected header longer than %d bytes",
                             RUV__JWS_PROTECTED_MAX);
    unsigned char *raw;
    size_t rawlen;
    int rc = ruv__b64url_decode(protected_b64, len, "protected", &raw, &rawlen);
    if (rc != RUV_OK)
        return rc;
    json_t *hdr;
    rc = ruv__json_parse((const char *)raw, rawlen, &header_limits, &hdr);
    free(raw);
    if (rc != RUV_OK)
        return ruv__detail_prefix(rc, "jws protected header");

    char alg[64], typ[16];
    if ((rc = copy_member(hdr, "alg", alg, sizeof alg, 1)) != RUV_OK ||
        (rc = parse_alg(alg, &out->alg)) != RUV_OK ||
        (rc = copy_member(hdr, "kid", out->kid, sizeof out->kid, 1)) != RUV_OK ||
        (rc = copy_member(hdr, "typ", typ, sizeof typ, 1)) != RUV_OK)
        goto done;
    if (strcmp(typ, "JOSE") != 0) {
        rc = ruv__detail_set(RUV_E_PROTOCOL, "jws: protected typ is \"%s\", not \"JOSE\"", typ);
        goto done;
    }
    if (json_object_get(hdr, "crit") != NULL) {
        rc = ruv__detail_set(RUV_E_SECURITY,
                           "jws: protected header lists crit extensions; none are understood");
        goto done;
    }
    rc = copy_member(hdr, "jku", out->jku, sizeof out->jku, 0);
    out->has_jku = rc == RUV_OK;
    if (rc == RUV_E_NOTFOUND)
        rc = RUV_OK;
done:
    json_decref(hdr);
    return rc;
}

/* Checks that key is the kind alg needs. */
static int key_fits(EVP_PKEY *key, enum ruv__jws_alg alg)
{
    switch (alg) {
    case RUV__JWS_EDDSA:
        if (EVP_PKEY_is_a(key, "ED25519"))
            return RUV_OK;
        return ruv__detail_set(RUV_E_SECURITY, "jws: EdDSA needs an Ed25519 key");
    case RUV__JWS_ES256: {
        char group[64];
        size_t glen = 0;
        if (EVP_PKEY_is_a(key, "EC") &&
            EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                           &glen) == 1 &&
            strcmp(group, "prime256v1") == 0)
            return RUV_OK;
        return ruv__detail_set(RUV_E_SECURITY, "jws: ES256 needs a P-256 key");
    }
    case RUV__JWS_RS256:
        if (!EVP_PKEY_is_a(key, "RSA"))
            return ruv__detail_set(RUV_E_SECURITY, "jws: RS256 needs an RSA key");
        if (EVP_PKEY_get_bits(key) < 2048)
            return ruv__detail_set(RUV_E_SECURITY, "jws: RS256 key has %d bits; 2048 at least",
                                 EVP_PKEY_get_bits(key));
        return RUV_OK;
    }
    return ruv__detail_set(RUV_E_INVAL, "jws: unknown alg %d", (int)alg);
}

/* JWS writes an ES256 signature as R||S, 32 bytes each; OpenSSL verifies DER. */
static int es256_to_der(const unsigned char *rs, size_t len, unsigned char **der, int *derlen)
{
    if (len != 64)
        return ruv__detail_set(RUV_E_PROTOCOL, "jws: ES256 signature is %zu bytes, not 64", len);
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(rs, 32, NULL), *s = BN_bin2bn(rs + 32, 32, NULL);
    if (sig == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(sig, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(sig);
        return ruv__detail_set(RUV_E_NOMEM, "jws: out of memory");
    }
    *der = NULL;
    *derlen = i2d_ECDSA_SIG(sig, der);
    ECDSA_SIG_free(sig);
    if (*derlen <= 0)
        return ruv__detail_set(RUV_E_NOMEM, "jws: cannot encode the ES256 signature");
    return RUV_OK;
}

int ruv__jws_verify(const char *protected_b64, size_t protected_len,
                    const struct ruv__jws_header *hdr, const unsigned char *payload,
                    size_t payload_len, const char *signature_b64, size_t signature_len,
                    EVP_PKEY *key)
{
    if (protected_b64 == NULL || hdr == NULL || (payload == NULL && payload_len > 0) ||
        signature_b64 == NULL || key == NULL)
        return ruv__detail_set(RUV_E_INVAL, "jws: NULL argument");
    int rc = key_fits(key, hdr->alg);
    if (rc != RUV_OK)
        return rc;

    unsigned char *sig = NULL, *der = NULL;
    size_t siglen;
    rc = ruv__b64url_decode(signature_b64, signature_len, "signature", &sig, &siglen);
    if (rc != RUV_OK)
        return rc;
    if (hdr->alg == RUV__JWS_EDDSA && siglen != 64) {
        free(sig);
        return ruv__detail_set(RUV_E_PROTOCOL, "jws: EdDSA signature is %zu bytes, not 64", siglen);
    }
    const unsigned char *check = sig;
    size_t checklen = siglen;
    if (hdr->alg == RUV__JWS_ES256) {
        int derlen = 0;
        rc = es256_to_der(sig, siglen, &der, &derlen);
        if (rc != RUV_OK) {
            free(sig);
            return rc;
        }
        check = der;
        checklen = (size_t)derlen;
    }

    /* Signing input: protected "." base64url(payload). */
    size_t enc = ruv__b64url_encoded_len(payload_len);
    char *input = malloc(protected_len + 1 + enc + 1);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (input == NULL || ctx == NULL) {
        rc = ruv__detail_set(RUV_E_NOMEM, "jws: out of memory");
        goto done;
    }
    memcpy(input, protected_b64, protected_len);
    input[protected_len] = '.';
    ruv__b64url_encode(payload, payload_len, input + protected_len + 1);

    const EVP_MD *md = hdr->alg == RUV__JWS_EDDSA ? NULL : EVP_sha256();
    int ok = EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) == 1 &&
             EVP_DigestVerify(ctx, check, checklen, (const unsigned char *)input,
                              protected_len + 1 + enc) == 1;
    if (!ok)
        ERR_clear_error(); /* a failed check is our answer, not libcrypto state to leak */
    rc = ok ? RUV_OK
            : ruv__detail_set(RUV_E_SECURITY, "jws: %s signature (kid \"%.64s\") does not verify",
                            ruv__jws_alg_name(hdr->alg), hdr->kid);
done:
    EVP_MD_CTX_free(ctx);
    free(input);
    OPENSSL_free(der);
    free(sig);
    return rc;
}
