/* NEON kernels for AArch64 (baseline ARMv8-A Advanced SIMD: no dotprod, no
 * SVE), so the plugin needs only RUV_ISA_NEON and runs on every AArch64 core.
 * Contracts: include/ruvector/kernel.h. All loads are unaligned-safe
 * (vld1q only needs element alignment) and never run past n/words/dim: tails
 * fall back to scalar code. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include <arm_neon.h>

#include <ruvector/kernel.h>

extern const struct ruv_kernel_ops ruv_neon_ops;

/* ------------------------------------------------------------------------ */
/* f32, one pair                                                             */

/* Four independent accumulators hide the FMA latency (4 cycles on most cores,
 * two FMA pipes), so 16 floats per iteration keeps both pipes busy. */
static float dot_f32(const float *a, const float *b, size_t n)
{
    float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
        s1 = vfmaq_f32(s1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
        s2 = vfmaq_f32(s2, vld1q_f32(a + i + 8), vld1q_f32(b + i + 8));
        s3 = vfmaq_f32(s3, vld1q_f32(a + i + 12), vld1q_f32(b + i + 12));
    }
    for (; i + 4 <= n; i += 4)
        s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
    float s = vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
    for (; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static float l2sq_f32(const float *a, const float *b, size_t n)
{
    float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        float32x4_t d0 = vsubq_f32(vld1q_f32(a + i), vld1q_f32(b + i));
        float32x4_t d1 = vsubq_f32(vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
        float32x4_t d2 = vsubq_f32(vld1q_f32(a + i + 8), vld1q_f32(b + i + 8));
        float32x4_t d3 = vsubq_f32(vld1q_f32(a + i + 12), vld1q_f32(b + i + 12));
        s0 = vfmaq_f32(s0, d0, d0);
        s1 = vfmaq_f32(s1, d1, d1);
        s2 = vfmaq_f32(s2, d2, d2);
        s3 = vfmaq_f32(s3, d3, d3);
    }
    for (; i + 4 <= n; i += 4) {
        float32x4_t d = vsubq_f32(vld1q_f32(a + i), vld1q_f32(b + i));
        s0 = vfmaq_f32(s0, d, d);
    }
    float s = vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
    for (; i < n; i++) {
        float d = a[i] - b[i];
        s += d * d;
    }
    return s;
}

/* Three sums share each load; two accumulators per sum (six in flight) is
 * enough to cover FMA latency without spilling. */
static float cos_f32(const float *a, const float *b, size_t n)
{
    float32x4_t ab0 = vdupq_n_f32(0.0f), ab1 = ab0, aa0 = ab0, aa1 = ab0, bb0 = ab0, bb1 = ab0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        float32x4_t x0 = vld1q_f32(a + i), x1 = vld1q_f32(a + i + 4);
        float32x4_t y0 = vld1q_f32(b + i), y1 = vld1q_f32(b + i + 4);
        ab0 = vfmaq_f32(ab0, x0, y0);
        ab1 = vfmaq_f32(ab1, x1, y1);
        aa0 = vfmaq_f32(aa0, x0, x0);
        aa1 = vfmaq_f32(aa1, x1, x1);
        bb0 = vfmaq_f32(bb0, y0, y0);
        bb1 = vfmaq_f32(bb1, y1, y1);
    }
    for (; i + 4 <= n; i += 4) {
        float32x4_t x = vld1q_f32(a + i), y = vld1q_f32(b + i);
        ab0 = vfmaq_f32(ab0, x, y);
        aa0 = vfmaq_f32(aa0, x, x);
        bb0 = vfmaq_f32(bb0, y, y);
    }
    float ab = vaddvq_f32(vaddq_f32(ab0, ab1));
    float aa = vaddvq_f32(vaddq_f32(aa0, aa1));
    float bb = vaddvq_f32(vaddq_f32(bb0, bb1));
    for (; i < n; i++) {
        ab += a[i] * b[i];
        aa += a[i] * a[i];
        bb += b[i] * b[i];
    }
    if (aa == 0.0f || bb == 0.0f)
        return 0.0f;
    return ab / sqrtf(aa * bb);
}

/* ------------------------------------------------------------------------ */
/* f32, one query against n rows                                             */

/* Four rows per pass: each query vector is loaded once and used four times,
 * which halves the load traffic that bounds the single-row loop. Two
 * accumulators per row give eight independent FMA chains. */
static float32x4_t dot4_rows(const float *q, const float *r0, const float *r1, const float *r2,
                             const float *r3, size_t dim)
{
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0,
                d1 = a0;
    size_t i = 0;
    for (; i + 8 <= dim; i += 8) {
        float32x4_t q0 = vld1q_f32(q + i), q1 = vld1q_f32(q + i + 4);
        a0 = vfmaq_f32(a0, q0, vld1q_f32(r0 + i));
        a1 = vfmaq_f32(a1, q1, vld1q_f32(r0 + i + 4));
        b0 = vfmaq_f32(b0, q0, vld1q_f32(r1 + i));
        b1 = vfmaq_f32(b1, q1, vld1q_f32(r1 + i + 4));
        c0 = vfmaq_f32(c0, q0, vld1q_f32(r2 + i));
        c1 = vfmaq_f32(c1, q1, vld1q_f32(r2 + i + 4));
        d0 = vfmaq_f32(d0, q0, vld1q_f32(r3 + i));
        d1 = vfmaq_f32(d1, q1, vld1q_f32(r3 + i + 4));
    }
    if (i + 4 <= dim) {
        float32x4_t q0 = vld1q_f32(q + i);
        a0 = vfmaq_f32(a0, q0, vld1q_f32(r0 + i));
        b0 = vfmaq_f32(b0, q0, vld1q_f32(r1 + i));
        c0 = vfmaq_f32(c0, q0, vld1q_f32(r2 + i));
        d0 = vfmaq_f32(d0, q0, vld1q_f32(r3 + i));
        i += 4;
    }
    /* Pairwise adds transpose-and-reduce the four rows into one vector. */
    float32x4_t ab = vpaddq_f32(vaddq_f32(a0, a1), vaddq_f32(b0, b1));
    float32x4_t cd = vpaddq_f32(vaddq_f32(c0, c1), vaddq_f32(d0, d1));
    float32x4_t s = vpaddq_f32(ab, cd);
    if (i < dim) {
        float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        for (; i < dim; i++) {
            t[0] += q[i] * r0[i];
            t[1] += q[i] * r1[i];
            t[2] += q[i] * r2[i];
            t[3] += q[i] * r3[i];
        }
        s = vaddq_f32(s, vld1q_f32(t));
    }
    return s;
}

static float32x4_t l2sq4_rows(const float *q, const float *r0, const float *r1, const float *r2,
                              const float *r3, size_t dim)
{
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0,
                d1 = a0;
    size_t i = 0;
    for (; i + 8 <= dim; i += 8) {
        float32x4_t q0 = vld1q_f32(q + i), q1 = vld1q_f32(q + i + 4), t0, t1;
        t0 = vsubq_f32(q0, vld1q_f32(r0 + i));
        t1 = vsubq_f32(q1, vld1q_f32(r0 + i + 4));
        a0 = vfmaq_f32(a0, t0, t0);
        a1 = vfmaq_f32(a1, t1, t1);
        t0 = vsubq_f32(q0, vld1q_f32(r1 + i));
        t1 = vsubq_f32(q1, vld1q_f32(r1 + i + 4));
        b0 = vfmaq_f32(b0, t0, t0);
        b1 = vfmaq_f32(b1, t1, t1);
        t0 = vsubq_f32(q0, vld1q_f32(r2 + i));
        t1 = vsubq_f32(q1, vld1q_f32(r2 + i + 4));
        c0 = vfmaq_f32(c0, t0, t0);
        c1 = vfmaq_f32(c1, t1, t1);
        t0 = vsubq_f32(q0, vld1q_f32(r3 + i));
        t1 = vsubq_f32(q1, vld1q_f32(r3 + i + 4));
        d0 = vfmaq_f32(d0, t0, t0);
        d1 = vfmaq_f32(d1, t1, t1);
    }
    if (i + 4 <= dim) {
        float32x4_t q0 = vld1q_f32(q + i), t;
        t = vsubq_f32(q0, vld1q_f32(r0 + i));
        a0 = vfmaq_f32(a0, t, t);
        t = vsubq_f32(q0, vld1q_f32(r1 + i));
        b0 = vfmaq_f32(b0, t, t);
        t = vsubq_f32(q0, vld1q_f32(r2 + i));
        c0 = vfmaq_f32(c0, t, t);
        t = vsubq_f32(q0, vld1q_f32(r3 + i));
        d0 = vfmaq_f32(d0, t, t);
        i += 4;
    }
    float32x4_t ab = vpaddq_f32(vaddq_f32(a0, a1), vaddq_f32(b0, b1));
    float32x4_t cd = vpaddq_f32(vaddq_f32(c0, c1), vaddq_f32(d0, d1));
    float32x4_t s = vpaddq_f32(ab, cd);
    if (i < dim) {
        float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        for (; i < dim; i++) {
            float e0 = q[i] - r0[i], e1 = q[i] - r1[i], e2 = q[i] - r2[i], e3 = q[i] - r3[i];
            t[0] += e0 * e0;
            t[1] += e1 * e1;
            t[2] += e2 * e2;
            t[3] += e3 * e3;
        }
        s = vaddq_f32(s, vld1q_f32(t));
    }
    return s;
}

static void dot_f32_1xN(const float *q, const float *base, size_t dim, size_t stride, size_t n,
                        float *out)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const float *r = base + i * stride;
        vst1q_f32(out + i, dot4_rows(q, r, r + stride, r + 2 * stride, r + 3 * stride, dim));
    }
    for (; i < n; i++)
        out[i] = dot_f32(q, base + i * stride, dim);
}

static void l2sq_f32_1xN(const float *q, const float *base, size_t dim, size_t stride, size_t n,
                         float *out)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const float *r = base + i * stride;
        vst1q_f32(out + i, l2sq4_rows(q, r, r + stride, r + 2 * stride, r + 3 * stride, dim));
    }
    for (; i < n; i++)
        out[i] = l2sq_f32(q, base + i * stride, dim);
}

/* FlatF32Index's fused scans: rows below the threshold (l2) or above it (inner
 * product). The compare is vectorised too: most blocks of a top-k scan have
 * no passing row, and they cost one vmaxv and no stores. */
static inline size_t scan_threshold(const float *q, const float *base, size_t dim, size_t stride,
                                    size_t n, float threshold, uint32_t *idx_out, float *dist_out,
                                    int l2)
{
    size_t m = 0, i = 0;
    float32x4_t th = vdupq_n_f32(threshold);
    for (; i + 4 <= n; i += 4) {
        const float *r = base + i * stride;
        float32x4_t d = l2 ? l2sq4_rows(q, r, r + stride, r + 2 * stride, r + 3 * stride, dim)
                           : dot4_rows(q, r, r + stride, r + 2 * stride, r + 3 * stride, dim);
        uint32x4_t pass = l2 ? vcltq_f32(d, th) : vcgtq_f32(d, th);
        if (vmaxvq_u32(pass) == 0)
            continue;
        float dd[4];
        uint32_t mm[4];
        vst1q_f32(dd, d);
        vst1q_u32(mm, pass);
        for (unsigned k = 0; k < 4; k++)
            if (mm[k]) {
                idx_out[m] = (uint32_t)(i + k);
                dist_out[m] = dd[k];
                m++;
            }
    }
    for (; i < n; i++) {
        float d = l2 ? l2sq_f32(q, base + i * stride, dim) : dot_f32(q, base + i * stride, dim);
        if (l2 ? d < threshold : d > threshold) {
            idx_out[m] = (uint32_t)i;
            dist_out[m++] = d;
        }
    }
    return m;
}

static size_t l2sq_f32_1xN_below(const float *q, const float *base, size_t dim, size_t stride,
                                 size_t n, float threshold, uint32_t *idx_out, float *dist_out)
{
    return scan_threshold(q, base, dim, stride, n, threshold, idx_out, dist_out, 1);
}

static size_t dot_f32_1xN_above(const float *q, const float *base, size_t dim, size_t stride,
                                size_t n, float threshold, uint32_t *idx_out, float *dot_out)
{
    return scan_threshold(q, base, dim, stride, n, threshold, idx_out, dot_out, 0);
}

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

static void xor_popcnt_1xN(const uint64_t *q, const uint64_t *codes, size_t words, size_t n,
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
static void bitplane_dot_1xN(const uint64_t *planes, unsigned nplanes, const uint64_t *codes,
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

static uint64_t popcnt_u64(const uint64_t *x, size_t words)
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
static void fastscan_u8(const uint8_t *codes, size_t nsub, size_t nblocks, const uint8_t *lut,
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
/* Fast Walsh-Hadamard transform                                             */

/* Every element goes through the same additions in the same order as the
 * scalar reference (only the memory traversal changes), so results match it
 * bit for bit. */
static void fht_f32(float *x, size_t n)
{
    if (n < 8) {
        for (size_t h = 1; h < n; h *= 2)
            for (size_t i = 0; i < n; i += 2 * h)
                for (size_t j = i; j < i + h; j++) {
                    float a = x[j], b = x[j + h];
                    x[j] = a + b;
                    x[j + h] = a - b;
                }
        return;
    }
    /* h = 1 and h = 2 stay inside each 4-float group: do both in registers,
     * using de-interleave (h = 1) and 64-bit lane transposes (h = 2). */
    for (size_t i = 0; i < n; i += 8) {
        float32x4_t v0 = vld1q_f32(x + i), v1 = vld1q_f32(x + i + 4);
        float32x4_t e = vuzp1q_f32(v0, v1), o = vuzp2q_f32(v0, v1);
        float32x4_t s = vaddq_f32(e, o), d = vsubq_f32(e, o);
        v0 = vzip1q_f32(s, d); /* x0+x1, x0-x1, x2+x3, x2-x3 */
        v1 = vzip2q_f32(s, d);
        float32x4_t lo = vreinterpretq_f32_u64(
            vtrn1q_u64(vreinterpretq_u64_f32(v0), vreinterpretq_u64_f32(v1)));
        float32x4_t hi = vreinterpretq_f32_u64(
            vtrn2q_u64(vreinterpretq_u64_f32(v0), vreinterpretq_u64_f32(v1)));
        s = vaddq_f32(lo, hi);
        d = vsubq_f32(lo, hi);
        v0 = vreinterpretq_f32_u64(vtrn1q_u64(vreinterpretq_u64_f32(s), vreinterpretq_u64_f32(d)));
        v1 = vreinterpretq_f32_u64(vtrn2q_u64(vreinterpretq_u64_f32(s), vreinterpretq_u64_f32(d)));
        vst1q_f32(x + i, v0);
        vst1q_f32(x + i + 4, v1);
    }
    size_t h = 4;
    /* Two levels (h, 2h) per sweep halves the passes over x, which matters
     * once x outgrows L1. */
    for (; 4 * h <= n; h *= 4) {
        for (size_t i = 0; i < n; i += 4 * h)
            for (size_t j = i; j < i + h; j += 4) {
                float32x4_t a = vld1q_f32(x + j), b = vld1q_f32(x + j + h);
                float32x4_t c = vld1q_f32(x + j + 2 * h), d = vld1q_f32(x + j + 3 * h);
                float32x4_t ab = vaddq_f32(a, b), amb = vsubq_f32(a, b);
                float32x4_t cd = vaddq_f32(c, d), cmd = vsubq_f32(c, d);
                vst1q_f32(x + j, vaddq_f32(ab, cd));
                vst1q_f32(x + j + 2 * h, vsubq_f32(ab, cd));
                vst1q_f32(x + j + h, vaddq_f32(amb, cmd));
                vst1q_f32(x + j + 3 * h, vsubq_f32(amb, cmd));
            }
    }
    if (2 * h <= n) { /* one odd level left */
        for (size_t j = 0; j < h; j += 4) {
            float32x4_t a = vld1q_f32(x + j), b = vld1q_f32(x + j + h);
            vst1q_f32(x + j, vaddq_f32(a, b));
            vst1q_f32(x + j + h, vsubq_f32(a, b));
        }
    }
}

/* Extended-RaBitQ extra bits against the float query: 8 bytes widen through
 * u16 and u32 to two float vectors per step. */
static float dot_u8_f32(const uint8_t *a, const float *b, size_t n)
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
static int64_t dot_u8_i16(const uint8_t *a, const int16_t *b, size_t n)
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
static int64_t dot_u4_i16(const uint8_t *a, const int16_t *b, size_t n)
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

/* Eight binary16 values widened exactly to two float vectors. */
static inline void half8(const uint16_t *p, float32x4_t *lo, float32x4_t *hi)
{
    float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(p));
    *lo = vcvt_f32_f16(vget_low_f16(h));
    *hi = vcvt_high_f32_f16(h);
}

/* The IVF probe over half-size centroids, one row at a time with two
 * chains; the tail goes through a zeroed buffer, nothing past a row is read. */
static void dot_f16_1xN(const float *q, const uint16_t *base, size_t dim, size_t stride,
                        size_t n, float *out)
{
    for (size_t i = 0; i < n; i++, base += stride) {
        float32x4_t s0 = vdupq_n_f32(0.0f), s1 = vdupq_n_f32(0.0f);
        size_t j = 0;
        for (; j + 8 <= dim; j += 8) {
            float32x4_t lo, hi;
            half8(base + j, &lo, &hi);
            s0 = vfmaq_f32(s0, lo, vld1q_f32(q + j));
            s1 = vfmaq_f32(s1, hi, vld1q_f32(q + j + 4));
        }
        if (j < dim) {
            uint16_t th[8] = {0};
            float tq[8] = {0};
            for (size_t t = 0; j + t < dim; t++) {
                th[t] = base[j + t];
                tq[t] = q[j + t];
            }
            float32x4_t lo, hi;
            half8(th, &lo, &hi);
            s0 = vfmaq_f32(s0, lo, vld1q_f32(tq));
            s1 = vfmaq_f32(s1, hi, vld1q_f32(tq + 4));
        }
        out[i] = vaddvq_f32(vaddq_f32(s0, s1));
    }
}

const struct ruv_kernel_ops ruv_neon_ops = {
    .struct_size = sizeof(struct ruv_kernel_ops),
    .reserved = 0,
    .dot_f32 = dot_f32,
    .l2sq_f32 = l2sq_f32,
    .cos_f32 = cos_f32,
    .dot_f32_1xN = dot_f32_1xN,
    .l2sq_f32_1xN = l2sq_f32_1xN,
    .l2sq_f32_1xN_below = l2sq_f32_1xN_below,
    .xor_popcnt_1xN = xor_popcnt_1xN,
    .bitplane_dot_1xN = bitplane_dot_1xN,
    .popcnt_u64 = popcnt_u64,
    .fastscan_u8 = fastscan_u8,
    .fht_f32 = fht_f32,
    .dot_u8_f32 = dot_u8_f32,
    .dot_f16_1xN = dot_f16_1xN,
    .dot_f32_1xN_above = dot_f32_1xN_above,
    .dot_u8_i16 = dot_u8_i16,
    .dot_u4_i16 = dot_u4_i16,
};
