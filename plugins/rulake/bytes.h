/* Little-endian encoding and lowercase hex, shared by the witness, sidecar
 * and ruvec code. All formats in rulake.md are little-endian whatever the
 * host, so these go through shifts, never through casts of memory. */
#ifndef RULAKE_BYTES_H
#define RULAKE_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline void ruv__lake_put_u32le(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void ruv__lake_put_u64le(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t ruv__lake_get_u32le(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static inline uint64_t ruv__lake_get_u64le(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* The IEEE-754 bit pattern of f (so -0.0 and +0.0 differ, as §6.3 wants). */
static inline uint32_t ruv__lake_f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline int ruv__lake_f32_is_finite(float f)
{
    return (ruv__lake_f32_bits(f) & 0x7f800000u) != 0x7f800000u;
}

/* Writes 2*n lowercase hex digits and a NUL to out (2*n + 1 bytes). */
static inline void ruv__lake_hex(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Decodes exactly 2*n lowercase hex digits (and nothing more: s must end
 * there). Returns 0, or -1 if s has another length or any other byte. */
static inline int ruv__lake_unhex(const char *s, uint8_t *out, size_t n)
{
    if (strlen(s) != 2 * n)
        return -1;
    for (size_t i = 0; i < 2 * n; i++) {
        char c = s[i];
        int v;
        if (c >= '0' && c <= '9')
            v = c - '0';
        else if (c >= 'a' && c <= 'f')
            v = c - 'a' + 10;
        else
            return -1;
        if (i % 2 == 0)
            out[i / 2] = (uint8_t)(v << 4);
        else
            out[i / 2] |= (uint8_t)v;
    }
    return 0;
}

#endif
