/* utf8.h — strict UTF-8 decoding and encoding (plugin-internal). */
#ifndef RUV_EMBED_UTF8_H
#define RUV_EMBED_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes the code point starting at s[0] (n >= 1 bytes available). Returns
 * its length in bytes (1-4) and sets *cp, or returns 0 when the bytes there
 * are not well-formed UTF-8 (overlong forms, surrogates and values past
 * U+10FFFF included). On 0, *bad is the length of the maximal ill-formed
 * subpart (Unicode §3.9, as Python's errors="replace"): the bytes that one
 * U+FFFD replaces. */
size_t ruv__utf8_decode(const unsigned char *s, size_t n, uint32_t *cp, size_t *bad);

/* Writes cp (<= U+10FFFF, not a surrogate) as UTF-8 to out (room for 4) and
 * returns the byte count. */
size_t ruv__utf8_encode(uint32_t cp, unsigned char *out);

#endif
