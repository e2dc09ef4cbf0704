/* plugins/a2a/jwks.h — a JWK Set (RFC 7517 §5) as a card's jku names it
 * (a2a.md §4 key resolution 3): the key a signature's kid selects. */
#ifndef RUV_A2A_JWKS_H
#define RUV_A2A_JWKS_H

#include <stddef.h>
#include <openssl/evp.h>

/* The a2a.md §6 cap on a JWKS document (also enforced while it streams in). */
#define RUV__JWKS_CAP ((size_t)64 << 10)

/* Parses len bytes of a JWK Set ({"keys":[JWK, ...]}, at most 64 KiB,
 * nesting at most 8, duplicate members refused) and imports the key whose
 * "kid" is kid. On RUV_OK *out is a new key the caller frees with
 * EVP_PKEY_free. RUV_E_PROTOCOL: malformed set, or the chosen key is
 * malformed; RUV_E_INVAL: over the cap; RUV_E_SECURITY: no key has that
 * kid, or two do; RUV_E_UNSUPPORTED: its kty/crv is not one we verify. */
int ruv__jwks_find(const char *buf, size_t len, const char *kid, EVP_PKEY **out);

#endif
