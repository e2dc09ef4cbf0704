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

#include "impl.h"

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
    .xor_popcnt_1xN = ruv__neon_xor_popcnt_1xN,
    .bitplane_dot_1xN = ruv__neon_bitplane_dot_1xN,
    .popcnt_u64 = ruv__neon_popcnt_u64,
    .fastscan_u8 = ruv__neon_fastscan_u8,
    .fht_f32 = fht_f32,
    .dot_u8_f32 = ruv__neon_dot_u8_f32,
    .dot_f16_1xN = dot_f16_1xN,
    .dot_f32_1xN_above = dot_f32_1xN_above,
    .dot_u8_i16 = ruv__neon_dot_u8_i16,
    .dot_u4_i16 = ruv__neon_dot_u4_i16,
};
