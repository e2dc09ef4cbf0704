/* plugins/a2a/jwk.h — public keys from JWK, raw Ed25519 bytes or PEM, as
 * libcrypto EVP_PKEYs: the forms pinned keys, the identity extension and
 * JWKS documents take (a2a.md §4). */
#ifndef RUV_A2A_JWK_H
#define RUV_A2A_JWK_H

#include <stddef.h>
#include <jansson.h>
#include <openssl/evp.h>

/* Imports a public JWK (RFC 7517/7518/8037): {"kty":"OKP","crv":"Ed25519",
 * "x"}, {"kty":"EC","crv":"P-256","x","y"} (the point must lie on the curve)
 * or {"kty":"RSA","n","e"}. Private members are ignored. On success *out is a
 * new key the caller frees with EVP_PKEY_free. RUV_E_PROTOCOL names the
 * missing or malformed member; RUV_E_UNSUPPORTED for other kty/crv. */
int ruv__jwk_import(const json_t *jwk, EVP_PKEY **out);

/* Ed25519 public key from its 32 raw bytes. *out as above. */
int ruv__key_from_ed25519(const unsigned char pub[32], EVP_PKEY **out);

/* Public key from PEM text ("-----BEGIN PUBLIC KEY-----", SPKI). *out as above. */
int ruv__key_from_pem(const char *pem, size_t len, EVP_PKEY **out);

#endif
