/* NEON kernels over quantised codes: 1-bit codes (popcounts), FastScan's
 * 4-bit look-ups and Extended RaBitQ's whole codes against the float or
 * int16 query. Contracts: include/ruvector/kernel.h; the same rules as
 * impl.c (unaligned-safe loads, nothing read past n/words, scalar tails). */
#include <stddef.h>
#include <stdint.h>

#include <arm_neon.h>

#include <ruvector/kernel.h>

#include "impl.h"

/* ------------------------------------------------------------------------ */
/* 1-bit codes                                                               */

/* vcntq_u8 yields 0..8 per byte; byte counters are summed for at most this
 * many 16-byte steps (31 * 8 = 248 <= 255) before being widened, so no lane
 * can wrap whatever words is. */
#define U8_STEPS 31u

/* Popcount of the 64-bit word (a OP b), OP being XOR or AND. */
static inline unsigned pop_word(uint64_t a, uint64_t b, int use_xor)
{
    uint8x8_t v = vcnt_u8(vcreate_u8(use_xor ? a ^ b : a & b));
    return vaddv_u8(v); /* at most 64: fits the u8 result */
}

static inline uint8x16_t combine(uint64x2_t a, uint64x2_t b, int use_xor)
{
    return vreinterpretq_u8_u64(use_xor ? veorq_u64(a, b) : vandq_u64(a, b));
}

/* popcount(q OP row k) for four rows at once, as one u32x4. Processing four
 * rows shares each query load and lets one pairwise-add tree reduce all four
 * horizontal sums, which dominates when words is small (D = 128: 2 words). */
static inline uint32x4_t pop4(const uint64_t *q, const uint64_t *c0, const uint64_t *c1,
                              const uint64_t *c2, const uint64_t *c3, size_t words, int use_xor)
{
    uint32x4_t tot = vdupq_n_u32(0);
    size_t w = 0;
    while (w + 2 <= words) {
        size_t steps = (words - w) / 2;
        if (steps > U8_STEPS)
            steps = U8_STEPS;
        uint8x16_t a0 = vdupq_n_u8(0), a1 = a0, a2 = a0, a3 = a0;
        for (size_t s = 0; s < steps; s++, w += 2) {
            uint64x2_t qv = vld1q_u64(q + w);
            a0 = vaddq_u8(a0, vcntq_u8(combine(qv, vld1q_u64(c0 + w), use_xor)));
            a1 = vaddq_u8(a1, vcntq_u8(combine(qv, vld1q_u64(c1 + w), use_xor)));
            a2 = vaddq_u8(a2, vcntq_u8(combine(qv, vld1q_u64(c2 + w), use_xor)));
            a3 = vaddq_u8(a3, vcntq_u8(combine(qv, vld1q_u64(c3 + w), use_xor)));
        }
        /* Bytes <= 248, so u16 lanes stay <= 248 * 16 = 3968 through the tree. */
        uint16x8_t p01 = vpaddq_u16(vpaddlq_u8(a0), vpaddlq_u8(a1));
        uint16x8_t p23 = vpaddq_u16(vpaddlq_u8(a2), vpaddlq_u8(a3));
        tot = vaddq_u32(tot, vpaddlq_u16(vpaddq_u16(p01, p23)));
    }
    if (w < words) {
        uint32_t t[4] = {pop_word(q[w], c0[w], use_xor), pop_word(q[w], c1[w], use_xor),
                         pop_word(q[w], c2[w], use_xor), pop_word(q[w], c3[w], use_xor)};
        tot = vaddq_u32(tot, vld1q_u32(t));
    }
    return tot;
}

static inline uint32_t pop1(const uint64_t *q, const uint64_t *c, size_t words, int use_xor)
{
    uint32_t tot = 0;
    size_t w = 0;
    while (w + 2 <= words) {
        size_t steps = (words - w) / 2;
        if (steps > U8_STEPS)
            steps = U8_STEPS;
        uint8x16_t a = vdupq_n_u8(0);
        for (size_t s = 0; s < steps; s++, w += 2)
            a = vaddq_u8(a, vcntq_u8(combine(vld1q_u64(q + w), vld1q_u64(c + w), use_xor)));
        tot += vaddlvq_u8(a); /* <= 16 * 248: fits the u16 result */
    }
    if (w < words)
        tot += pop_word(q[w], c[w], use_xor);
    return tot;
}

void ruv__neon_xor_popcnt_1xN(const uint64_t *q, const uint64_t *codes, size_t words, size_t n,
                              uint32_t *out)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const uint64_t *c = codes + i * words;
        vst1q_u32(out + i, pop4(q, c, c + words, c + 2 * words, c + 3 * words, words, 1));
    }
    for (; i < n; i++)
        out[i] = pop1(q, codes + i * words, words, 1);
}

/* Planes outermost within a four-row group: the group's codes (4 * words * 8
 * bytes) stay in L1 across planes, and each plane reuses the pop4 reduction.
 * Sums wrap modulo 2^32 exactly as the reference's uint32 arithmetic does. */
void ruv__neon_bitplane_dot_1xN(const uint64_t *planes, unsigned nplanes, const uint64_t *codes,
                                size_t words, size_t n, uint32_t *out)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const uint64_t *c = codes + i * words;
        uint32x4_t s = vdupq_n_u32(0);
        for (unsigned j = 0; j < nplanes; j++) {
            uint32x4_t p = pop4(planes + (size_t)j * words, c, c + words, c + 2 * words,
                                c + 3 * words, words, 0);
            s = vaddq_u32(s, vshlq_u32(p, vdupq_n_s32((int32_t)j)));
        }
        vst1q_u32(out + i, s);
    }
    for (; i < n; i++) {
        const uint64_t *c = codes + i * words;
        uint32_t s = 0;
        for (unsigned j = 0; j < nplanes; j++)
            s += pop1(planes + (size_t)j * words, c, words, 0) << j;
        out[i] = s;
    }
}

uint64_t ruv__neon_popcnt_u64(const uint64_t *x, size_t words)
{
    uint64_t tot = 0;
    size_t w = 0;
    /* 8 words per step into u8 (<= 32 per byte), then pairwise-widened into
     * u16 (<= 64 per lane per step); 1023 steps keep u16 lanes <= 65472. */
    while (w + 8 <= words) {
        size_t steps = (words - w) / 8;
        if (steps > 1023)
            steps = 1023;
        uint16x8_t acc = vdupq_n_u16(0);
        for (size_t s = 0; s < steps; s++, w += 8) {
            uint8x16_t c = vcntq_u8(vreinterpretq_u8_u64(vld1q_u64(x + w)));
            c = vaddq_u8(c, vcntq_u8(vreinterpretq_u8_u64(vld1q_u64(x + w + 2))));
            c = vaddq_u8(c, vcntq_u8(vreinterpretq_u8_u64(vld1q_u64(x + w + 4))));
            c = vaddq_u8(c, vcntq_u8(vreinterpretq_u8_u64(vld1q_u64(x + w + 6))));
            acc = vpadalq_u8(acc, c);
        }
        tot += vaddlvq_u16(acc);
    }
    if (w + 2 <= words) { /* at most 3 pairs left */
        uint8x16_t c = vdupq_n_u8(0);
        for (; w + 2 <= words; w += 2)
            c = vaddq_u8(c, vcntq_u8(vreinterpretq_u8_u64(vld1q_u64(x + w))));
        tot += vaddlvq_u8(c);
    }
    if (w < words)
        tot += vaddv_u8(vcnt_u8(vcreate_u8(x[w])));
    return tot;
}

/* ------------------------------------------------------------------------ */
/* FastScan                                                                  */

/* One tbl per nibble half looks up 16 vectors at once; results are widened
 * straight into u16 (the contract guarantees nsub * 255 fits). Two sub-codes
 * per iteration with separate accumulators give eight independent add chains. */
void ruv__neon_fastscan_u8(const uint8_t *codes, size_t nsub, size_t nblocks, const uint8_t *lut,
                           uint16_t *out)
{
    const uint8x16_t lo_mask = vdupq_n_u8(0x0f);
    for (size_t b = 0; b < nblocks; b++) {
        const uint8_t *blk = codes + b * nsub * 16;
        uint16x8_t l0 = vdupq_n_u16(0), l1 = l0, h0 = l0, h1 = l0;
        uint16x8_t l2 = l0, l3 = l0, h2 = l0, h3 = l0;
        size_t m = 0;
        for (; m + 2 <= nsub; m += 2) {
            uint8x16_t c0 = vld1q_u8(blk + m * 16), c1 = vld1q_u8(blk + m * 16 + 16);
            uint8x16_t t0 = vld1q_u8(lut + m * 16), t1 = vld1q_u8(lut + m * 16 + 16);
            uint8x16_t lo0 = vqtbl1q_u8(t0, vandq_u8(c0, lo_mask));
            uint8x16_t hi0 = vqtbl1q_u8(t0, vshrq_n_u8(c0, 4));
            uint8x16_t lo1 = vqtbl1q_u8(t1, vandq_u8(c1, lo_mask));
            uint8x16_t hi1 = vqtbl1q_u8(t1, vshrq_n_u8(c1, 4));
            l0 = vaddw_u8(l0, vget_low_u8(lo0));
            l1 = vaddw_high_u8(l1, lo0);
            h0 = vaddw_u8(h0, vget_low_u8(hi0));
            h1 = vaddw_high_u8(h1, hi0);
            l2 = vaddw_u8(l2, vget_low_u8(lo1));
            l3 = vaddw_high_u8(l3, lo1);
            h2 = vaddw_u8(h2, vget_low_u8(hi1));
            h3 = vaddw_high_u8(h3, hi1);
        }
        if (m < nsub) {
            uint8x16_t c0 = vld1q_u8(blk + m * 16);
            uint8x16_t t0 = vld1q_u8(lut + m * 16);
            uint8x16_t lo0 = vqtbl1q_u8(t0, vandq_u8(c0, lo_mask));
            uint8x16_t hi0 = vqtbl1q_u8(t0, vshrq_n_u8(c0, 4));
            l0 = vaddw_u8(l0, vget_low_u8(lo0));
            l1 = vaddw_high_u8(l1, lo0);
            h0 = vaddw_u8(h0, vget_low_u8(hi0));
            h1 = vaddw_high_u8(h1, hi0);
        }
        uint16_t *o = out + b * RUV_FASTSCAN_BLOCK;
        vst1q_u16(o, vaddq_u16(l0, l2));
        vst1q_u16(o + 8, vaddq_u16(l1, l3));
        vst1q_u16(o + 16, vaddq_u16(h0, h2));
        vst1q_u16(o + 24, vaddq_u16(h1, h3));
    }
}

/* ------------------------------------------------------------------------ */
/* Extended RaBitQ's whole codes                                            */

/* Extended-RaBitQ extra bits against the float query: 8 bytes widen through
 * u16 and u32 to two float vectors per step. */
float ruv__neon_dot_u8_f32(const uint8_t *a, const float *b, size_t n)
{
    float32x4_t s0 = vdupq_n_f32(0.0f), s1 = vdupq_n_f32(0.0f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint16x8_t w = vmovl_u8(vld1_u8(a + i));
        float32x4_t lo = vcvtq_f32_u32(vmovl_u16(vget_low_u16(w)));
        float32x4_t hi = vcvtq_f32_u32(vmovl_u16(vget_high_u16(w)));
        s0 = vfmaq_f32(s0, lo, vld1q_f32(b + i));
        s1 = vfmaq_f32(s1, hi, vld1q_f32(b + i + 4));
    }
    float s = vaddvq_f32(vaddq_f32(s0, s1));
    for (; i < n; i++)
        s += (float)a[i] * b[i];
    return s;
}

/* Extended RaBitQ's whole codes against the int16 query, exactly: 16 bytes
 * widen to two u16 vectors (0..255 is a valid s16) and vmlal multiplies
 * into four int32 chains. A product is within 255 * 32768 = 8,355,840, and
 * a chain takes one per 16 elements, so 2,048-element stretches (128 per
 * chain, ~1.07e9) fit int32 before vpadal widens them to int64. */
int64_t ruv__neon_dot_u8_i16(const uint8_t *a, const int16_t *b, size_t n)
{
    int64x2_t wide = vdupq_n_s64(0);
    size_t i = 0;
    while (n - i >= 16) {
        const size_t end = n - i > 2048 ? i + 2048 : n;
        int32x4_t s0 = vdupq_n_s32(0), s1 = s0, s2 = s0, s3 = s0;
        for (; i + 16 <= end; i += 16) {
            uint8x16_t v = vld1q_u8(a + i);
            int16x8_t lo = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(v)));
            int16x8_t hi = vreinterpretq_s16_u16(vmovl_high_u8(v));
            int16x8_t q0 = vld1q_s16(b + i), q1 = vld1q_s16(b + i + 8);
            s0 = vmlal_s16(s0, vget_low_s16(lo), vget_low_s16(q0));
            s1 = vmlal_high_s16(s1, lo, q0);
            s2 = vmlal_s16(s2, vget_low_s16(hi), vget_low_s16(q1));
            s3 = vmlal_high_s16(s3, hi, q1);
        }
        wide = vpadalq_s32(wide, s0);
        wide = vpadalq_s32(wide, s1);
        wide = vpadalq_s32(wide, s2);
        wide = vpadalq_s32(wide, s3);
    }
    int64_t s = vaddvq_s64(wide);
    for (; i < n; i++)
        s += (int32_t)a[i] * (int32_t)b[i];
    return s;
}

/* The packed form (n a multiple of 32): 16 bytes per block of 32, the low
 * nibbles elements 0..15, the high ones 16..31; a product is within
 * 15 * 32768, so the same stretches are far from int32's limit. */
int64_t ruv__neon_dot_u4_i16(const uint8_t *a, const int16_t *b, size_t n)
{
    int64x2_t wide = vdupq_n_s64(0);
    size_t i = 0;
    while (i < n) {
        const size_t end = n - i > 2048 ? i + 2048 : n;
        int32x4_t s0 = vdupq_n_s32(0), s1 = s0, s2 = s0, s3 = s0;
        for (; i + 32 <= end; i += 32) {
            uint8x16_t v = vld1q_u8(a + i / 2);
            uint8x16_t l = vandq_u8(v, vdupq_n_u8(0x0f)), h = vshrq_n_u8(v, 4);
            int16x8_t l0 = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(l)));
            int16x8_t l1 = vreinterpretq_s16_u16(vmovl_high_u8(l));
            int16x8_t h0 = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(h)));
            int16x8_t h1 = vreinterpretq_s16_u16(vmovl_high_u8(h));
            int16x8_t q0 = vld1q_s16(b + i), q1 = vld1q_s16(b + i + 8);
            int16x8_t q2 = vld1q_s16(b + i + 16), q3 = vld1q_s16(b + i + 24);
            s0 = vmlal_s16(s0, vget_low_s16(l0), vget_low_s16(q0));
            s1 = vmlal_high_s16(s1, l0, q0);
            s2 = vmlal_s16(s2, vget_low_s16(l1), vget_low_s16(q1));
            s3 = vmlal_high_s16(s3, l1, q1);
            s0 = vmlal_s16(s0, vget_low_s16(h0), vget_low_s16(q2));
            s1 = vmlal_high_s16(s1, h0, q2);
            s2 = vmlal_s16(s2, vget_low_s16(h1), vget_low_s16(q3));
            s3 = vmlal_high_s16(s3, h1, q3);
        }
        i = end;
        wide = vpadalq_s32(wide, s0);
        wide = vpadalq_s32(wide, s1);
        wide = vpadalq_s32(wide, s2);
        wide = vpadalq_s32(wide, s3);
    }
    return vaddvq_s64(wide);
}
