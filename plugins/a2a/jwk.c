/* plugins/a2a/jwk.c — JWK, raw and PEM public keys into EVP_PKEY (OpenSSL 3). */
#include "config.h"
#include "jwk.h"
#include "b64url.h"
#include "detail.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

/* Decodes the base64url member name of jwk; *len must equal want when want
 * is non-zero. */
static int member_bytes(const json_t *jwk, const char *name, size_t want, unsigned char **out,
                        size_t *len)
{
    const json_t *v = json_object_get(jwk, name);
    if (!json_is_string(v))
        return ruv__detail_set(RUV_E_PROTOCOL, "jwk: member \"%s\" missing or not a string",
                             name);
    int rc = ruv__b64url_decode(json_string_value(v), json_string_length(v), name, out, len);
    if (rc != RUV_OK)
        return ruv__detail_prefix(rc, "jwk");
    if ((want != 0 && *len != want) || *len == 0) {
        free(*out);
        *out = NULL;
        return ruv__detail_set(RUV_E_PROTOCOL, "jwk: member \"%s\" is %zu bytes, expected %zu",
                             name, *len, want);
    }
    return RUV_OK;
}

static int string_is(const json_t *jwk, const char *name, const char *want)
{
    const json_t *v = json_object_get(jwk, name);
    return json_is_string(v) && strcmp(json_string_value(v), want) == 0;
}

int ruv__key_from_ed25519(const unsigned char pub[32], EVP_PKEY **out)
{
    *out = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
    if (*out == NULL) {
        ERR_clear_error();
        return ruv__detail_set(RUV_E_NOMEM, "jwk: cannot make an Ed25519 key");
    }
    return RUV_OK;
}

/* Builds a public key of type name ("EC", "RSA") from OSSL_PARAMs. */
static int from_params(const char *name, OSSL_PARAM *params, EVP_PKEY **out)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL);
    int ok = ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
             EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) == 1;
    EVP_PKEY_CTX_free(ctx);
    if (!ok) {
        *out = NULL;
        ERR_clear_error();
        return ruv__detail_set(RUV_E_PROTOCOL, "jwk: libcrypto refused the %s key", name);
    }
    return RUV_OK;
}

static int import_ec(const json_t *jwk, EVP_PKEY **out)
{
    if (!string_is(jwk, "crv", "P-256"))
        return ruv__detail_set(RUV_E_UNSUPPORTED, "jwk: EC keys must use crv \"P-256\"");
    unsigned char *x = NULL, *y = NULL;
    size_t xl, yl;
    int rc = member_bytes(jwk, "x", 32, &x, &xl);
    if (rc == RUV_OK)
        rc = member_bytes(jwk, "y", 32, &y, &yl);
    if (rc == RUV_OK) {
        unsigned char point[65];
        point[0] = 0x04; /* uncompressed */
        memcpy(point + 1, x, 32);
        memcpy(point + 33, y, 32);
        char group[] = "prime256v1";
        OSSL_PARAM params[] = {
            OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
            OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point),
            OSSL_PARAM_END,
        };
        rc = from_params("EC", params, out);
        if (rc == RUV_OK) {
            /* fromdata decodes the point; a public check also rules out the
             * point at infinity and points off the curve. */
            EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, *out, NULL);
            int valid = c != NULL && EVP_PKEY_public_check(c) == 1;
            EVP_PKEY_CTX_free(c);
            if (!valid) {
                ERR_clear_error();
                EVP_PKEY_free(*out);
                *out = NULL;
                rc = ruv__detail_set(RUV_E_PROTOCOL, "jwk: EC point is not on P-256");
            }
        }
    }
    free(x);
    free(y);
    return rc;
}

static int import_rsa(const json_t *jwk, EVP_PKEY **out)
{
    unsigned char *n = NULL, *e = NULL;
    size_t nl, el;
    int rc = member_bytes(jwk, "n", 0, &n, &nl);
    if (rc == RUV_OK)
        rc = member_bytes(jwk, "e", 0, &e, &el);
    if (rc == RUV_OK && (nl > 2048 || el > 8))
        rc = ruv__detail_set(RUV_E_PROTOCOL, "jwk: RSA n over 16384 bits or e over 64 bits");
    BIGNUM *bn_n = NULL, *bn_e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    if (rc == RUV_OK) {
        bn_n = BN_bin2bn(n, (int)nl, NULL);
        bn_e = BN_bin2bn(e, (int)el, NULL);
        bld = OSSL_PARAM_BLD_new();
        if (bn_n == NULL || bn_e == NULL || bld == NULL ||
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) != 1 ||
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) != 1 ||
            (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
            rc = ruv__detail_set(RUV_E_NOMEM, "jwk: out of memory");
    }
    if (rc == RUV_OK)
        rc = from_params("RSA", params, out);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    free(n);
    free(e);
    return rc;
}

int ruv__jwk_import(const json_t *jwk, EVP_PKEY **out)
{
    if (out == NULL)
        return ruv__detail_set(RUV_E_INVAL, "jwk: out is NULL");
    *out = NULL;
    if (!json_is_object(jwk))
        return ruv__detail_set(RUV_E_PROTOCOL, "jwk: not a JSON object");
    if (string_is(jwk, "kty", "OKP")) {
        if (!string_is(jwk, "crv", "Ed25519"))
            return ruv__detail_set(RUV_E_UNSUPPORTED, "jwk: OKP keys must use crv \"Ed25519\"");
        unsigned char *x;
        size_t xl;
        int rc = member_bytes(jwk, "x", 32, &x, &xl);
        if (rc != RUV_OK)
            return rc;
        rc = ruv__key_from_ed25519(x, out);
        free(x);
        return rc;
    }
    if (string_is(jwk, "kty", "EC"))
        return import_ec(jwk, out);
    if (string_is(jwk, "kty", "RSA"))
        return import_rsa(jwk, out);
    return ruv__detail_set(RUV_E_UNSUPPORTED, "jwk: kty must be \"OKP\", \"EC\" or \"RSA\"");
}

int ruv__key_from_pem(const char *pem, size_t len, EVP_PKEY **out)
{
    if (out == NULL || pem == NULL || len > INT32_MAX)
        return ruv__detail_set(RUV_E_INVAL, "pem: NULL or oversized argument");
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    *out = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (*out == NULL) {
        ERR_clear_error();
        return ruv__detail_set(RUV_E_PROTOCOL, "pem: no PUBLIC KEY block could be read");
    }
    return RUV_OK;
}
