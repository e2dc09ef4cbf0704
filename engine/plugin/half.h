/* IEEE binary16 <-> binary32 in portable C, for the engine's fp16 tables and
 * the scalar kernel (header-only: the kernel conformance programs link
 * kernel_scalar.c without the rest of the engine). */
#ifndef RUV_ENGINE_HALF_H
#define RUV_ENGINE_HALF_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Exact: every binary16 value is a binary32 value. */
static inline float ruv__half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
    float f;
    if (exp == 0) { /* zero or subnormal: man * 2^-24 */
        f = (float)man * 0x1p-24f;
        return sign ? -f : f;
    }
    uint32_t bits = exp == 0x1f ? sign | 0x7f800000u | man << 13
                                : sign | (exp + 112u) << 23 | man << 13;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Round to nearest, ties to even (what F16C's vcvtps2ph does with
 * _MM_FROUND_TO_NEAREST_INT); beyond +-65504 rounds to infinity. */
static inline uint16_t ruv__float_to_half(float f)
{
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u)
        return (uint16_t)(sign | 0x7e00u); /* NaN */
    if (ax >= 0x477ff000u)                 /* >= 65520: infinity */
        return (uint16_t)(sign | 0x7c00u);
    if (ax < 0x38800000u) { /* below 2^-14: subnormal (or zero) in binary16 */
        float a;
        memcpy(&a, &ax, sizeof a);
        return (uint16_t)(sign | (uint16_t)rintf(a * 0x1p24f));
    }
    uint32_t r = ax - (112u << 23); /* rebias 127 -> 15 */
    r += 0xfffu + ((r >> 13) & 1u);  /* ties to even; a carry bumps the exponent */
    return (uint16_t)(sign | (uint16_t)(r >> 13));
}

#endif
