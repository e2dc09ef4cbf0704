/* AVX2 f32 kernels: dot, L2, cosine, one-to-many scans, the fused threshold
 * scan, and the u8 x f32 and f16 x f32 products (design notes: impl.h). */
#include "../common/prefetch.h"
#include "impl.h"

/* ---------------------------------------------------------------- f32 --- */

/* Lane mask selecting the first r (1..7) floats of a vector. */
RUV_INLINE __m256i tail_mask(size_t r)
{
    static const int32_t ones_then_zeros[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                0,  0,  0,  0,  0,  0,  0,  0};
    return _mm256_loadu_si256((const __m256i *)(ones_then_zeros + 8 - r));
}

RUV_INLINE float hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Horizontal sums of four vectors, returned as one vector {a, b, c, d}. */
RUV_INLINE __m128 hsum4(__m256 a, __m256 b, __m256 c, __m256 d)
{
    __m256 ab = _mm256_hadd_ps(a, b);
    __m256 cd = _mm256_hadd_ps(c, d);
    __m256 t = _mm256_hadd_ps(ab, cd);
    return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}

/* One accumulation step: acc + q*r (inner product) or acc + (q-r)^2 (L2).
 * l2 is always a compile-time constant after inlining. */
RUV_INLINE __m256 step(__m256 acc, __m256 q, __m256 r, int l2)
{
    if (l2) {
        __m256 d = _mm256_sub_ps(q, r);
        return _mm256_fmadd_ps(d, d, acc);
    }
    return _mm256_fmadd_ps(q, r, acc);
}

RUV_INLINE float score1(const float *q, const float *r, size_t n, int l2)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = step(s0, _mm256_loadu_ps(q + i), _mm256_loadu_ps(r + i), l2);
        s1 = step(s1, _mm256_loadu_ps(q + i + 8), _mm256_loadu_ps(r + i + 8), l2);
        s2 = step(s2, _mm256_loadu_ps(q + i + 16), _mm256_loadu_ps(r + i + 16), l2);
        s3 = step(s3, _mm256_loadu_ps(q + i + 24), _mm256_loadu_ps(r + i + 24), l2);
    }
    for (; i + 8 <= n; i += 8)
        s0 = step(s0, _mm256_loadu_ps(q + i), _mm256_loadu_ps(r + i), l2);
    if (i < n) {
        __m256i m = tail_mask(n - i);
        s1 = step(s1, _mm256_maskload_ps(q + i, m), _mm256_maskload_ps(r + i, m), l2);
    }
    return hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

/* Scores of four consecutive rows (r, r+stride, ...) against q. Two chains
 * per row give eight independent FMA chains. */
RUV_INLINE __m128 score4(const float *q, const float *r, size_t stride, size_t dim, int l2)
{
    const float *r0 = r, *r1 = r + stride, *r2 = r + 2 * stride, *r3 = r + 3 * stride;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    __m256 b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps();
    __m256 b2 = _mm256_setzero_ps(), b3 = _mm256_setzero_ps();
    size_t j = 0;
    for (; j + 16 <= dim; j += 16) {
        __m256 qa = _mm256_loadu_ps(q + j), qb = _mm256_loadu_ps(q + j + 8);
        a0 = step(a0, qa, _mm256_loadu_ps(r0 + j), l2);
        a1 = step(a1, qa, _mm256_loadu_ps(r1 + j), l2);
        a2 = step(a2, qa, _mm256_loadu_ps(r2 + j), l2);
        a3 = step(a3, qa, _mm256_loadu_ps(r3 + j), l2);
        b0 = step(b0, qb, _mm256_loadu_ps(r0 + j + 8), l2);
        b1 = step(b1, qb, _mm256_loadu_ps(r1 + j + 8), l2);
        b2 = step(b2, qb, _mm256_loadu_ps(r2 + j + 8), l2);
        b3 = step(b3, qb, _mm256_loadu_ps(r3 + j + 8), l2);
    }
    if (j + 8 <= dim) {
        __m256 qa = _mm256_loadu_ps(q + j);
        a0 = step(a0, qa, _mm256_loadu_ps(r0 + j), l2);
        a1 = step(a1, qa, _mm256_loadu_ps(r1 + j), l2);
        a2 = step(a2, qa, _mm256_loadu_ps(r2 + j), l2);
        a3 = step(a3, qa, _mm256_loadu_ps(r3 + j), l2);
        j += 8;
    }
    if (j < dim) {
        __m256i m = tail_mask(dim - j);
        __m256 qb = _mm256_maskload_ps(q + j, m);
        b0 = step(b0, qb, _mm256_maskload_ps(r0 + j, m), l2);
        b1 = step(b1, qb, _mm256_maskload_ps(r1 + j, m), l2);
        b2 = step(b2, qb, _mm256_maskload_ps(r2 + j, m), l2);
        b3 = step(b3, qb, _mm256_maskload_ps(r3 + j, m), l2);
    }
    return hsum4(_mm256_add_ps(a0, b0), _mm256_add_ps(a1, b1), _mm256_add_ps(a2, b2),
                 _mm256_add_ps(a3, b3));
}

RUV_INLINE void score_1xN(const float *q, const float *base, size_t dim, size_t stride, size_t n,
                          float *out, int l2)
{
    const size_t ahead = ruv_prefetch_rows(stride);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        if (i + ahead + 4 <= n)
            ruv_prefetch4(base + (i + ahead) * stride, stride, dim);
        _mm_storeu_ps(out + i, score4(q, base + i * stride, stride, dim, l2));
    }
    for (; i < n; i++)
        out[i] = score1(q, base + i * stride, dim, l2);
}

float ruv__avx2_dot_f32(const float *a, const float *b, size_t n) { return score1(a, b, n, 0); }

float ruv__avx2_l2sq_f32(const float *a, const float *b, size_t n) { return score1(a, b, n, 1); }

float ruv__avx2_cos_f32(const float *a, const float *b, size_t n)
{
    __m256 ab0 = _mm256_setzero_ps(), aa0 = _mm256_setzero_ps(), bb0 = _mm256_setzero_ps();
    __m256 ab1 = _mm256_setzero_ps(), aa1 = _mm256_setzero_ps(), bb1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 x0 = _mm256_loadu_ps(a + i), y0 = _mm256_loadu_ps(b + i);
        __m256 x1 = _mm256_loadu_ps(a + i + 8), y1 = _mm256_loadu_ps(b + i + 8);
        ab0 = _mm256_fmadd_ps(x0, y0, ab0);
        aa0 = _mm256_fmadd_ps(x0, x0, aa0);
        bb0 = _mm256_fmadd_ps(y0, y0, bb0);
        ab1 = _mm256_fmadd_ps(x1, y1, ab1);
        aa1 = _mm256_fmadd_ps(x1, x1, aa1);
        bb1 = _mm256_fmadd_ps(y1, y1, bb1);
    }
    if (i + 8 <= n) {
        __m256 x = _mm256_loadu_ps(a + i), y = _mm256_loadu_ps(b + i);
        ab0 = _mm256_fmadd_ps(x, y, ab0);
        aa0 = _mm256_fmadd_ps(x, x, aa0);
        bb0 = _mm256_fmadd_ps(y, y, bb0);
        i += 8;
    }
    if (i < n) {
        __m256i m = tail_mask(n - i);
        __m256 x = _mm256_maskload_ps(a + i, m), y = _mm256_maskload_ps(b + i, m);
        ab1 = _mm256_fmadd_ps(x, y, ab1);
        aa1 = _mm256_fmadd_ps(x, x, aa1);
        bb1 = _mm256_fmadd_ps(y, y, bb1);
    }
    float ab = hsum(_mm256_add_ps(ab0, ab1));
    float aa = hsum(_mm256_add_ps(aa0, aa1));
    float bb = hsum(_mm256_add_ps(bb0, bb1));
    if (aa == 0.0f || bb == 0.0f)
        return 0.0f;
    /* double keeps |a|^2 |b|^2 from overflowing for large finite inputs */
    return (float)((double)ab / sqrt((double)aa * (double)bb));
}

void ruv__avx2_dot_f32_1xN(const float *q, const float *base, size_t dim, size_t stride, size_t n,
                        float *out)
{
    score_1xN(q, base, dim, stride, n, out, 0);
}

void ruv__avx2_l2sq_f32_1xN(const float *q, const float *base, size_t dim, size_t stride, size_t n,
                         float *out)
{
    score_1xN(q, base, dim, stride, n, out, 1);
}

/* Appends the rows of a 4-row group whose score passes the threshold: below
 * it (L2 distance) or above it (inner product). Survivors are rare once the
 * top-k heap is warm, so a bit loop over the compare mask costs less than a
 * permutation-table compress. */
RUV_INLINE size_t emit_passing(__m128 d, __m128 thr, int l2, size_t row0, uint32_t *idx_out,
                               float *dist_out, size_t m)
{
    unsigned bits = (unsigned)_mm_movemask_ps(l2 ? _mm_cmplt_ps(d, thr) : _mm_cmplt_ps(thr, d));
    if (!bits)
        return m;
    float dv[4];
    _mm_storeu_ps(dv, d);
    do {
        unsigned k = (unsigned)__builtin_ctz(bits);
        idx_out[m] = (uint32_t)(row0 + k);
        dist_out[m] = dv[k];
        m++;
        bits &= bits - 1;
    } while (bits);
    return m;
}

/* The exact scans of FlatF32Index, which stream every row from DRAM: the
 * walk must stay sequential for the hardware prefetcher, with one software
 * prefetch per 512 bytes far ahead (prefetch.h). Rows over 128 bytes are
 * scored one at a time, in memory order: the 4-row score4 form reads four
 * such rows side by side (cache lines 0, 8, 16, 24, then 1, 9, ... of a
 * 2 KiB block at D = 128), which the prefetcher follows worse. Four rows of
 * at most 128 bytes lie within 512 contiguous bytes, so those still go four
 * at a time and share each query load. On a shared Zen 3 EPYC, one thread,
 * against faiss IndexFlatL2 in the same process (docs/benchmarks-flat.md):
 * D = 128 from 0.76x to about 1.4x; D = 32 and 64 about 1.1x faster than
 * before; the inner-product form (same loop) against IndexFlatIP from 0.81x.
 * For the long rows, score1 is l2sq_f32's (dot_f32's) summation order, so
 * their scores are bit-identical to the ones the batch path re-scores with.
 * l2 selects the L2 form (rows below the threshold) or the inner product
 * (rows above it); it is a compile-time constant after inlining. */
RUV_INLINE size_t scan_threshold(const float *q, const float *base, size_t dim, size_t stride,
                                 size_t n, float threshold, uint32_t *idx_out, float *dist_out,
                                 int l2)
{
    const size_t row_bytes = stride * sizeof(float);
    size_t m = 0, i = 0;
    if (row_bytes <= 128) {
        const __m128 thr = _mm_set1_ps(threshold);
        for (; i + 4 <= n; i += 4) {
            for (size_t r = 0; r < 4; r++)
                ruv_prefetch_stream(base + (i + r) * stride, row_bytes);
            m = emit_passing(score4(q, base + i * stride, stride, dim, l2), thr, l2, i, idx_out,
                             dist_out, m);
        }
    }
    for (; i < n; i++) {
        ruv_prefetch_stream(base + i * stride, row_bytes);
        float d = score1(q, base + i * stride, dim, l2);
        if (l2 ? d < threshold : d > threshold) {
            idx_out[m] = (uint32_t)i;
            dist_out[m] = d;
            m++;
        }
    }
    return m;
}

size_t ruv__avx2_l2sq_f32_1xN_below(const float *q, const float *base, size_t dim, size_t stride,
                                 size_t n, float threshold, uint32_t *idx_out, float *dist_out)
{
    return scan_threshold(q, base, dim, stride, n, threshold, idx_out, dist_out, 1);
}

size_t ruv__avx2_dot_f32_1xN_above(const float *q, const float *base, size_t dim, size_t stride,
                                size_t n, float threshold, uint32_t *idx_out, float *dot_out)
{
    return scan_threshold(q, base, dim, stride, n, threshold, idx_out, dot_out, 0);
}

/* ---------------------------------------------- u8 and f16 against f32 --- */

/* Extended-RaBitQ extra bits against the float query: widen 8 bytes at a
 * time to floats and FMA; two chains hide the FMA latency. */
float ruv__avx2_dot_u8_f32(const uint8_t *a, const float *b, size_t n)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(a + i));
        __m256 lo = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(v));
        __m256 hi = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(v, 8)));
        s0 = _mm256_fmadd_ps(lo, _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(hi, _mm256_loadu_ps(b + i + 8), s1);
    }
    if (i + 8 <= n) {
        __m128i v = _mm_loadl_epi64((const __m128i *)(const void *)(a + i));
        s0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(v)), _mm256_loadu_ps(b + i), s0);
        i += 8;
    }
    float s = hsum(_mm256_add_ps(s0, s1));
    for (; i < n; i++)
        s += (float)a[i] * b[i];
    return s;
}

/* Eight binary16 values widened exactly to floats (F16C); the tail copies
 * its r < 8 halves to a zeroed buffer, so nothing past the row is read. */
RUV_INLINE __m256 half8(const uint16_t *p)
{
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)p));
}

RUV_INLINE __m256 half_tail(const uint16_t *p, size_t r)
{
    uint16_t t[8] = {0};
    for (size_t i = 0; i < r; i++)
        t[i] = p[i];
    return half8(t);
}

/* The IVF probe over half-size centroids: four rows per pass share each
 * query load, two chains per row (as score4). Rows are read from L2/L3,
 * so the half width is what pays: the same rows in f32 were 1.6x slower. */
void ruv__avx2_dot_f16_1xN(const float *q, const uint16_t *base, size_t dim, size_t stride,
                        size_t n, float *out)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const uint16_t *r0 = base + i * stride, *r1 = r0 + stride, *r2 = r1 + stride,
                       *r3 = r2 + stride;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
        __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
        __m256 b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps();
        __m256 b2 = _mm256_setzero_ps(), b3 = _mm256_setzero_ps();
        size_t j = 0;
        for (; j + 16 <= dim; j += 16) {
            __m256 qa = _mm256_loadu_ps(q + j), qb = _mm256_loadu_ps(q + j + 8);
            a0 = _mm256_fmadd_ps(qa, half8(r0 + j), a0);
            a1 = _mm256_fmadd_ps(qa, half8(r1 + j), a1);
            a2 = _mm256_fmadd_ps(qa, half8(r2 + j), a2);
            a3 = _mm256_fmadd_ps(qa, half8(r3 + j), a3);
            b0 = _mm256_fmadd_ps(qb, half8(r0 + j + 8), b0);
            b1 = _mm256_fmadd_ps(qb, half8(r1 + j + 8), b1);
            b2 = _mm256_fmadd_ps(qb, half8(r2 + j + 8), b2);
            b3 = _mm256_fmadd_ps(qb, half8(r3 + j + 8), b3);
        }
        for (; j < dim; j += 8) {
            size_t r = dim - j < 8 ? dim - j : 8;
            __m256 qa = _mm256_maskload_ps(q + j, tail_mask(r));
            a0 = _mm256_fmadd_ps(qa, half_tail(r0 + j, r), a0);
            a1 = _mm256_fmadd_ps(qa, half_tail(r1 + j, r), a1);
            a2 = _mm256_fmadd_ps(qa, half_tail(r2 + j, r), a2);
            a3 = _mm256_fmadd_ps(qa, half_tail(r3 + j, r), a3);
        }
        _mm_storeu_ps(out + i, hsum4(_mm256_add_ps(a0, b0), _mm256_add_ps(a1, b1),
                                     _mm256_add_ps(a2, b2), _mm256_add_ps(a3, b3)));
    }
    for (; i < n; i++) {
        const uint16_t *r0 = base + i * stride;
        __m256 a0 = _mm256_setzero_ps();
        for (size_t j = 0; j < dim; j += 8) {
            size_t r = dim - j < 8 ? dim - j : 8;
            a0 = _mm256_fmadd_ps(_mm256_maskload_ps(q + j, tail_mask(r)), half_tail(r0 + j, r),
                                 a0);
        }
        out[i] = hsum(a0);
    }
}
