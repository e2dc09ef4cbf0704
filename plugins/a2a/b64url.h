/* plugins/a2a/b64url.h — base64url without padding (RFC 7515 §2, RFC 4648 §5),
 * the encoding of every JWS part and JWK member. Strict on input: padding,
 * whitespace, characters outside the URL-safe alphabet, an impossible length
 * and non-zero unused trailing bits are refused, so each byte string has
 * exactly one accepted encoding. */
#ifndef RUV_A2A_B64URL_H
#define RUV_A2A_B64URL_H

#include <stddef.h>

/* Length of the encoding of n bytes (without the terminating NUL). */
size_t ruv__b64url_encoded_len(size_t n);

/* Encodes n bytes into out, which holds ruv__b64url_encoded_len(n) + 1 bytes;
 * NUL-terminates. */
void ruv__b64url_encode(const unsigned char *in, size_t n, char *out);

/* Decodes len characters. On success *out is a new buffer the caller frees
 * with free() (never NULL, even for an empty result) and *outlen its length.
 * RUV_E_PROTOCOL with the offending offset in the detail, or RUV_E_NOMEM.
 * what names the field in that detail ("signature", "x", ...). */
int ruv__b64url_decode(const char *in, size_t len, const char *what, unsigned char **out,
                       size_t *outlen);

#endif
