/* utf8.c — strict UTF-8 (RFC 3629 / Unicode Table 3-7). */
#include "utf8.h"

size_t ruv__utf8_decode(const unsigned char *s, size_t n, uint32_t *cp, size_t *bad)
{
    unsigned char b0 = s[0];
    if (b0 < 0x80) {
        *cp = b0;
        return 1;
    }
    size_t need;
    uint32_t v;
    unsigned char lo = 0x80, hi = 0xBF; /* the allowed range of the second byte */
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 2; v = b0 & 0x1Fu;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 3; v = b0 & 0x0Fu;
        if (b0 == 0xE0) lo = 0xA0;      /* no overlong forms */
        if (b0 == 0xED) hi = 0x9F;      /* no surrogates */
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 4; v = b0 & 0x07u;
        if (b0 == 0xF0) lo = 0x90;
        if (b0 == 0xF4) hi = 0x8F;      /* nothing past U+10FFFF */
    } else {
        *bad = 1;
        return 0;
    }
    for (size_t i = 1; i < need; i++) {
        unsigned char b = i < n ? s[i] : 0;
        unsigned char l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xBF;
        if (i >= n || b < l || b > h) {
            *bad = i;
            return 0;
        }
        v = (v << 6) | (b & 0x3Fu);
    }
    *cp = v;
    return need;
}

size_t ruv__utf8_encode(uint32_t cp, unsigned char *out)
{
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | (cp >> 12));
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | (cp >> 18));
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}
