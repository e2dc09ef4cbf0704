/* FhtKac rotation: see rotation.h for the map and the sign stream. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <ruvector/error.h>
#include <ruvector/kernel.h>

#include "base/splitmix.h"
#include "index/rabitq/rotation.h"

uint32_t ruv__rotation_dim_pad(uint32_t dim)
{
    if (dim == 0 || dim > UINT32_MAX - 63u)
        return 0;
    return (dim + 63u) & ~63u;
}

static uint32_t pow2_floor(uint32_t n)
{
    uint32_t p = 1;
    while (p <= n / 2)
        p *= 2;
    return p;
}

int ruv__rotation_init(struct ruv__rotation *r, uint32_t dim, uint64_t seed)
{
    memset(r, 0, sizeof(*r));
    uint32_t pad = ruv__rotation_dim_pad(dim);
    if (pad == 0)
        return RUV_E_INVAL;
    size_t words = (size_t)RUV__ROTATION_ROUNDS * (pad / 64u);
    uint64_t *signs = malloc(words * sizeof(*signs));
    if (signs == NULL)
        return RUV_E_NOMEM;
    uint64_t state = seed;
    for (size_t w = 0; w < words; w++)
        signs[w] = ruv__splitmix64(&state);
    r->dim = dim;
    r->dim_pad = pad;
    r->rounds = RUV__ROTATION_ROUNDS;
    r->fht_n = pow2_floor(pad);
    r->seed = seed;
    r->signs = signs;
    return RUV_OK;
}

void ruv__rotation_free(struct ruv__rotation *r)
{
    free(r->signs);
    memset(r, 0, sizeof(*r));
}

/* x_i *= (bit i set ? -s : s) for i in [lo, hi), a range of whole words.
 * Written as x_i * s with the bit xor-ed into the sign, which is the same
 * float (rounding is sign-symmetric) without a branch: the ternary compiled
 * to one unpredictable branch per coordinate, and this pass was ~7 % of a
 * 1-bit IVF build's CPU time at n = 1M. */
#if defined(__SSE2__)
/* Eight coordinates per byte of signs: each lane tests its own bit
 * (and + compare), so the same x_i * s with the sign bit xor-ed in, with
 * no per-coordinate shift: at D = 1,024 the scalar loop was ~6 % of a
 * query's CPU time. */
static void sign_scale_sse2(float *x, const uint64_t *bits, uint32_t lo, uint32_t hi, float s)
{
    const __m128i b_lo = _mm_setr_epi32(1, 2, 4, 8), b_hi = _mm_setr_epi32(16, 32, 64, 128);
    const __m128i top = _mm_set1_epi32((int)0x80000000u);
    const __m128 vs = _mm_set1_ps(s);
    for (uint32_t w = lo / 64u; w < hi / 64u; w++) {
        const uint64_t b = bits[w];
        float *xw = x + (size_t)w * 64u;
        for (unsigned byte = 0; byte < 8; byte++) {
            const __m128i bb = _mm_set1_epi32((int)((b >> (8 * byte)) & 0xffu));
            const __m128i m0 = _mm_and_si128(_mm_cmpeq_epi32(_mm_and_si128(bb, b_lo), b_lo), top);
            const __m128i m1 = _mm_and_si128(_mm_cmpeq_epi32(_mm_and_si128(bb, b_hi), b_hi), top);
            float *p = xw + 8 * byte;
            __m128 v0 = _mm_mul_ps(_mm_loadu_ps(p), vs), v1 = _mm_mul_ps(_mm_loadu_ps(p + 4), vs);
            _mm_storeu_ps(p, _mm_xor_ps(v0, _mm_castsi128_ps(m0)));
            _mm_storeu_ps(p + 4, _mm_xor_ps(v1, _mm_castsi128_ps(m1)));
        }
    }
}
#endif

static void sign_scale_scalar(float *x, const uint64_t *bits, uint32_t lo, uint32_t hi, float s)
{
    for (uint32_t w = lo / 64u; w < hi / 64u; w++) {
        uint64_t b = bits[w];
        float *xw = x + (size_t)w * 64u;
        for (unsigned t = 0; t < 64; t++) {
            float v = xw[t] * s;
            uint32_t u;
            memcpy(&u, &v, sizeof u);
            u ^= (uint32_t)((b >> t) & 1u) << 31;
            memcpy(&xw[t], &u, sizeof u);
        }
    }
}

void ruv__rotation_sign_scale(float *x, const uint64_t *bits, uint32_t lo, uint32_t hi, float s,
                              int portable)
{
#if defined(__SSE2__)
    if (!portable) {
        sign_scale_sse2(x, bits, lo, hi, s);
        return;
    }
#endif
    (void)portable;
    sign_scale_scalar(x, bits, lo, hi, s);
}

static void sign_scale(float *x, const uint64_t *bits, uint32_t lo, uint32_t hi, float s)
{
    ruv__rotation_sign_scale(x, bits, lo, hi, s, 0);
}

/* Unnormalised Kac butterfly across the two halves; its 1/sqrt(2) is folded
 * into the next sign pass. */
static void kac(float *x, uint32_t n)
{
    uint32_t h = n / 2;
    for (uint32_t i = 0; i < h; i++) {
        float a = x[i], b = x[i + h];
        x[i] = a + b;
        x[i + h] = a - b;
    }
}

static int has_kac(const struct ruv__rotation *r)
{
    return r->fht_n != r->dim_pad;
}

/* First coordinate of round rd's FHT block: the first n (even rounds) or the
 * last n (odd rounds). A multiple of 64, since dim_pad and fht_n are. */
static uint32_t block_start(const struct ruv__rotation *r, uint32_t rd)
{
    return (rd & 1u) ? r->dim_pad - r->fht_n : 0;
}

/* One pass applying S_rd with every pending normalisation: `all` scales every
 * coordinate (the Kac 1/sqrt(2)), and the FHT block also gets 1/sqrt(n).
 * Scaling the block before or after its FHT is the same linear map. */
static void sign_pass(const struct ruv__rotation *r, float *x, uint32_t rd, float all)
{
    const uint64_t *bits = r->signs + (size_t)rd * (r->dim_pad / 64u);
    const uint32_t b0 = block_start(r, rd), b1 = b0 + r->fht_n;
    const float blk = (float)((double)all / sqrt((double)r->fht_n));
    sign_scale(x, bits, 0, b0, all);
    sign_scale(x, bits, b0, b1, blk);
    sign_scale(x, bits, b1, r->dim_pad, all);
}

void ruv__rotation_apply(const struct ruv__rotation *r, const struct ruv_kernel_ops *k,
                         const float *in, float *out)
{
    if (in != out)
        memmove(out, in, (size_t)r->dim * sizeof(float));
    memset(out + r->dim, 0, (size_t)(r->dim_pad - r->dim) * sizeof(float));

    const float kac_s = (float)sqrt(0.5);
    float pending = 1.0f; /* the previous round's Kac normalisation */
    for (uint32_t rd = 0; rd < r->rounds; rd++) {
        sign_pass(r, out, rd, pending);
        k->fht_f32(out + block_start(r, rd), r->fht_n);
        if (has_kac(r)) {
            kac(out, r->dim_pad);
            pending = kac_s;
        }
    }
    if (pending != 1.0f)
        for (uint32_t i = 0; i < r->dim_pad; i++)
            out[i] *= pending;
}

void ruv__rotation_apply_inverse(const struct ruv__rotation *r, const struct ruv_kernel_ops *k,
                                 const float *in, float *out)
{
    if (in != out)
        memmove(out, in, (size_t)r->dim_pad * sizeof(float));

    const float all = has_kac(r) ? (float)sqrt(0.5) : 1.0f;
    /* Q^T = prod over rd = R-1..0 of S_rd H_rd K (each factor symmetric);
     * S_rd comes last in its round, so it carries the round's scales. */
    for (uint32_t rd = r->rounds; rd-- > 0;) {
        if (has_kac(r))
            kac(out, r->dim_pad);
        k->fht_f32(out + block_start(r, rd), r->fht_n);
        sign_pass(r, out, rd, all);
    }
}
