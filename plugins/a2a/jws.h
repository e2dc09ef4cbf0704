/* plugins/a2a/jws.h — JWS signatures over canonical payloads (a2a.md §4).
 *
 * An agent card's signatures[i] is a detached JWS: {protected, signature}
 * with the payload being the card's RFC 8785 form. The signing input is
 * ASCII(protected) "." base64url(payload). Verification goes through
 * libcrypto EVP; the algorithms are EdDSA (Ed25519), ES256 (P-256, raw
 * R||S signatures as JWS writes them) and RS256 (RSA of 2048 bits or more).
 * "none" and the HMAC family are refused: a card's signer holds a private
 * key, never a secret shared with us. */
#ifndef RUV_A2A_JWS_H
#define RUV_A2A_JWS_H

#include <stddef.h>
#include <openssl/evp.h>

enum ruv__jws_alg { RUV__JWS_EDDSA = 1, RUV__JWS_ES256 = 2, RUV__JWS_RS256 = 3 };

#define RUV__JWS_KID_MAX 255
#define RUV__JWS_JKU_MAX 2047
#define RUV__JWS_PROTECTED_MAX 4096 /* bytes of decoded protected header */

/* The checked protected header of one signature. */
struct ruv__jws_header {
    enum ruv__jws_alg alg;
    char kid[RUV__JWS_KID_MAX + 1];
    int has_jku;
    char jku[RUV__JWS_JKU_MAX + 1];
};

/* Decodes and checks a protected header (its base64url text, len chars): a
 * JSON object of at most 4 KiB, duplicate members refused, holding alg (one
 * of the three above), a non-empty kid, typ "JOSE" and optionally jku; no
 * crit (we implement no critical extensions, RFC 7515 §4.1.11). Returns
 * RUV_OK, RUV_E_PROTOCOL (malformed) or RUV_E_SECURITY (alg none,
 * HS*, unknown alg, crit), with the detail naming the member. */
int ruv__jws_parse_protected(const char *protected_b64, size_t len, struct ruv__jws_header *out);

/* Name of an alg as JWS spells it ("EdDSA", "ES256", "RS256"). Static. */
const char *ruv__jws_alg_name(enum ruv__jws_alg alg);

/* Verifies one signature. protected_b64 is the header exactly as received
 * (it is part of the signed input), hdr its parse, payload the canonical
 * bytes, signature_b64 the signature member. key is borrowed and must fit
 * hdr->alg (Ed25519 for EdDSA, P-256 for ES256, RSA >= 2048 bits for RS256).
 * Returns RUV_OK only if the signature verifies; RUV_E_SECURITY when it
 * does not or the key does not fit; RUV_E_PROTOCOL for a malformed
 * signature; RUV_E_NOMEM. */
int ruv__jws_verify(const char *protected_b64, size_t protected_len,
                    const struct ruv__jws_header *hdr, const unsigned char *payload,
                    size_t payload_len, const char *signature_b64, size_t signature_len,
                    EVP_PKEY *key);

#endif
