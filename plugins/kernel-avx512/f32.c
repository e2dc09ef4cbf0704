/* AVX-512 f32 kernels: dot, L2, cosine, one-to-many scans, the fused
 * threshold scan, and the u8 x f32 and f16 x f32 products (design notes:
 * impl.h). */
#include "../common/prefetch.h"
#include "impl.h"

/* ---------------------------------------------------------------- f32 --- */

RUV_INLINE __m256 fold256(__m512 v)
{
    __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    return _mm256_add_ps(_mm512_castps512_ps256(v), hi);
}

RUV_INLINE float hsum(__m512 v)
{
    __m256 y = fold256(v);
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(y), _mm256_extractf128_ps(y, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Horizontal sums of four vectors, returned as one vector {a, b, c, d}. */
RUV_INLINE __m128 hsum4(__m512 a, __m512 b, __m512 c, __m512 d)
{
    __m256 ab = _mm256_hadd_ps(fold256(a), fold256(b));
    __m256 cd = _mm256_hadd_ps(fold256(c), fold256(d));
    __m256 t = _mm256_hadd_ps(ab, cd);
    return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}

/* One accumulation step: acc + q*r (inner product) or acc + (q-r)^2 (L2).
 * l2 is always a compile-time constant after inlining. */
RUV_INLINE __m512 step(__m512 acc, __m512 q, __m512 r, int l2)
{
    if (l2) {
        __m512 d = _mm512_sub_ps(q, r);
        return _mm512_fmadd_ps(d, d, acc);
    }
    return _mm512_fmadd_ps(q, r, acc);
}

RUV_INLINE float score1(const float *q, const float *r, size_t n, int l2)
{
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    __m512 s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        s0 = step(s0, _mm512_loadu_ps(q + i), _mm512_loadu_ps(r + i), l2);
        s1 = step(s1, _mm512_loadu_ps(q + i + 16), _mm512_loadu_ps(r + i + 16), l2);
        s2 = step(s2, _mm512_loadu_ps(q + i + 32), _mm512_loadu_ps(r + i + 32), l2);
        s3 = step(s3, _mm512_loadu_ps(q + i + 48), _mm512_loadu_ps(r + i + 48), l2);
    }
    for (; i + 16 <= n; i += 16)
        s0 = step(s0, _mm512_loadu_ps(q + i), _mm512_loadu_ps(r + i), l2);
    if (i < n) {
        __mmask16 k = first16(n - i);
        s1 = step(s1, ruv_maskz_loadu_ps(k, q + i), ruv_maskz_loadu_ps(k, r + i), l2);
    }
    return hsum(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

/* Scores of four consecutive rows (r, r+stride, ...) against q. Two chains
 * per row give eight independent FMA chains. */
RUV_INLINE __m128 score4(const float *q, const float *r, size_t stride, size_t dim, int l2)
{
    const float *r0 = r, *r1 = r + stride, *r2 = r + 2 * stride, *r3 = r + 3 * stride;
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
    __m512 a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
    __m512 b0 = _mm512_setzero_ps(), b1 = _mm512_setzero_ps();
    __m512 b2 = _mm512_setzero_ps(), b3 = _mm512_setzero_ps();
    size_t j = 0;
    for (; j + 32 <= dim; j += 32) {
        __m512 qa = _mm512_loadu_ps(q + j), qb = _mm512_loadu_ps(q + j + 16);
        a0 = step(a0, qa, _mm512_loadu_ps(r0 + j), l2);
        a1 = step(a1, qa, _mm512_loadu_ps(r1 + j), l2);
        a2 = step(a2, qa, _mm512_loadu_ps(r2 + j), l2);
        a3 = step(a3, qa, _mm512_loadu_ps(r3 + j), l2);
        b0 = step(b0, qb, _mm512_loadu_ps(r0 + j + 16), l2);
        b1 = step(b1, qb, _mm512_loadu_ps(r1 + j + 16), l2);
        b2 = step(b2, qb, _mm512_loadu_ps(r2 + j + 16), l2);
        b3 = step(b3, qb, _mm512_loadu_ps(r3 + j + 16), l2);
    }
    if (j + 16 <= dim) {
        __m512 qa = _mm512_loadu_ps(q + j);
        a0 = step(a0, qa, _mm512_loadu_ps(r0 + j), l2);
        a1 = step(a1, qa, _mm512_loadu_ps(r1 + j), l2);
        a2 = step(a2, qa, _mm512_loadu_ps(r2 + j), l2);
        a3 = step(a3, qa, _mm512_loadu_ps(r3 + j), l2);
        j += 16;
    }
    if (j < dim) {
        __mmask16 k = first16(dim - j);
        __m512 qb = ruv_maskz_loadu_ps(k, q + j);
        b0 = step(b0, qb, ruv_maskz_loadu_ps(k, r0 + j), l2);
        b1 = step(b1, qb, ruv_maskz_loadu_ps(k, r1 + j), l2);
        b2 = step(b2, qb, ruv_maskz_loadu_ps(k, r2 + j), l2);
        b3 = step(b3, qb, ruv_maskz_loadu_ps(k, r3 + j), l2);
    }
    return hsum4(_mm512_add_ps(a0, b0), _mm512_add_ps(a1, b1), _mm512_add_ps(a2, b2),
                 _mm512_add_ps(a3, b3));
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

float ruv__avx512_dot_f32(const float *a, const float *b, size_t n) { return score1(a, b, n, 0); }

float ruv__avx512_l2sq_f32(const float *a, const float *b, size_t n) { return score1(a, b, n, 1); }

float ruv__avx512_cos_f32(const float *a, const float *b, size_t n)
{
    __m512 ab0 = _mm512_setzero_ps(), aa0 = _mm512_setzero_ps(), bb0 = _mm512_setzero_ps();
    __m512 ab1 = _mm512_setzero_ps(), aa1 = _mm512_setzero_ps(), bb1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 x0 = _mm512_loadu_ps(a + i), y0 = _mm512_loadu_ps(b + i);
        __m512 x1 = _mm512_loadu_ps(a + i + 16), y1 = _mm512_loadu_ps(b + i + 16);
        ab0 = _mm512_fmadd_ps(x0, y0, ab0);
        aa0 = _mm512_fmadd_ps(x0, x0, aa0);
        bb0 = _mm512_fmadd_ps(y0, y0, bb0);
        ab1 = _mm512_fmadd_ps(x1, y1, ab1);
        aa1 = _mm512_fmadd_ps(x1, x1, aa1);
        bb1 = _mm512_fmadd_ps(y1, y1, bb1);
    }
    if (i + 16 <= n) {
        __m512 x = _mm512_loadu_ps(a + i), y = _mm512_loadu_ps(b + i);
        ab0 = _mm512_fmadd_ps(x, y, ab0);
        aa0 = _mm512_fmadd_ps(x, x, aa0);
        bb0 = _mm512_fmadd_ps(y, y, bb0);
        i += 16;
    }
    if (i < n) {
        __mmask16 k = first16(n - i);
        __m512 x = ruv_maskz_loadu_ps(k, a + i), y = ruv_maskz_loadu_ps(k, b + i);
        ab1 = _mm512_fmadd_ps(x, y, ab1);
        aa1 = _mm512_fmadd_ps(x, x, aa1);
        bb1 = _mm512_fmadd_ps(y, y, bb1);
    }
    float ab = hsum(_mm512_add_ps(ab0, ab1));
    float aa = hsum(_mm512_add_ps(aa0, aa1));
    float bb = hsum(_mm512_add_ps(bb0, bb1));
    if (aa == 0.0f || bb == 0.0f)
        return 0.0f;
    /* double keeps |a|^2 |b|^2 from overflowing for large finite inputs */
    return (float)((double)ab / sqrt((double)aa * (double)bb));
}

void ruv__avx512_dot_f32_1xN(const float *q, const float *base, size_t dim, size_t stride, size_t n,
                        float *out)
{
    score_1xN(q, base, dim, stride, n, out, 0);
}

void ruv__avx512_l2sq_f32_1xN(const float *q, const float *base, size_t dim, size_t stride, size_t n,
                         float *out)
{
    score_1xN(q, base, dim, stride, n, out, 1);
}

/* Compress-stores the rows of a 4-row group (row0..row0+3, those in k) whose
 * scores are in d. Only the low four mask bits can be set, so the 512-bit
 * compress-store (which SIMDe also provides) writes at most four entries.
 * Survivors are rare once the top-k heap is warm: most groups store nothing. */
RUV_INLINE size_t emit_below(__m128 d, __mmask8 k, size_t row0, uint32_t *idx_out,
                             float *dist_out, size_t m)
{
    if (!k)
        return m;
    const __m128i iota = _mm_setr_epi32(0, 1, 2, 3);
    __m128i idx = _mm_add_epi32(iota, _mm_set1_epi32((int)(uint32_t)row0));
    _mm512_mask_compressstoreu_ps(dist_out + m, (__mmask16)k, _mm512_castps128_ps512(d));
    _mm512_mask_compressstoreu_epi32(idx_out + m, (__mmask16)k, _mm512_castsi128_si512(idx));
    return m + (size_t)_mm_popcnt_u32(k);
}

/* As the AVX2 build (see there): a sequential walk with one prefetch per
 * 512 bytes far ahead; rows over 128 bytes one at a time, shorter ones four
 * at a time (four of them lie within 512 contiguous bytes). On Zen 3 this
 * took the AVX2 scan at D = 128 from 0.76x to about 1.4x faiss
 * IndexFlatL2; on Zen 4 this scan runs at 0.98-1.04x faiss, at the
 * machine's streaming bandwidth (docs/benchmarks-flat.md). l2 selects rows below the
 * threshold (L2 distance) or above it (inner product). */
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
            __m128 d = score4(q, base + i * stride, stride, dim, l2);
            __mmask8 pass = l2 ? _mm_cmp_ps_mask(d, thr, _CMP_LT_OQ)
                               : _mm_cmp_ps_mask(d, thr, _CMP_GT_OQ);
            m = emit_below(d, pass, i, idx_out, dist_out, m);
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

size_t ruv__avx512_l2sq_f32_1xN_below(const float *q, const float *base, size_t dim, size_t stride,
                                 size_t n, float threshold, uint32_t *idx_out, float *dist_out)
{
    return scan_threshold(q, base, dim, stride, n, threshold, idx_out, dist_out, 1);
}

size_t ruv__avx512_dot_f32_1xN_above(const float *q, const float *base, size_t dim, size_t stride,
                                  size_t n, float threshold, uint32_t *idx_out, float *dot_out)
{
    return scan_threshold(q, base, dim, stride, n, threshold, idx_out, dot_out, 0);
}

/* ---------------------------------------------- u8 and f16 against f32 --- */

/* 16 bytes widened to 16 floats. SIMDe 0.7 has neither vpmovzxbd nor
 * vcvtdq2ps for zmm, so the emulated build converts through memory. */
#ifdef RUV_SIMDE
RUV_INLINE __m512 ruv_u8x16_to_ps(const uint8_t *p)
{
    float v[16];
    for (int i = 0; i < 16; i++)
        v[i] = (float)p[i];
    return _mm512_loadu_ps(v);
}
#else
RUV_INLINE __m512 ruv_u8x16_to_ps(const uint8_t *p)
{
    return _mm512_cvtepi32_ps(
        _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(const void *)p)));
}
#endif

/* Extended-RaBitQ extra bits against the float query: 16 bytes widen to one
 * zmm of floats; the tail uses a masked load on the floats and a short
 * byte copy, so nothing past the end is read. */
float ruv__avx512_dot_u8_f32(const uint8_t *a, const float *b, size_t n)
{
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 lo = ruv_u8x16_to_ps(a + i);
        __m512 hi = ruv_u8x16_to_ps(a + i + 16);
        s0 = _mm512_fmadd_ps(lo, _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(hi, _mm512_loadu_ps(b + i + 16), s1);
    }
    for (; i < n; i += 16) {
        size_t m = n - i < 16 ? n - i : 16;
        uint8_t tmp[16] = {0};
        for (size_t j = 0; j < m; j++)
            tmp[j] = a[i + j];
        __mmask16 k = (__mmask16)((1u << m) - 1u);
        __m512 f = ruv_u8x16_to_ps(tmp);
        s0 = _mm512_fmadd_ps(f, ruv_maskz_loadu_ps(k, b + i), s0);
    }
    return hsum(_mm512_add_ps(s0, s1));
}

/* Sixteen binary16 values widened exactly to floats. SIMDe 0.7 has no
 * _mm512_cvtph_ps: the emulated build joins two F16C halves instead. */
RUV_INLINE __m512 half16(const uint16_t *p)
{
#ifdef RUV_SIMDE
    __m256 lo = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)p));
    __m256 hi = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(p + 8)));
    return _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
#else
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)p));
#endif
}

/* The last r (< 16) halves of a row, zero-padded: nothing past it is read. */
RUV_INLINE __m512 half_tail(const uint16_t *p, size_t r)
{
    uint16_t t[16] = {0};
    for (size_t i = 0; i < r; i++)
        t[i] = p[i];
    return half16(t);
}

/* The IVF probe over half-size centroids: four rows per pass share each
 * query load, two chains per row. */
void ruv__avx512_dot_f16_1xN(const float *q, const uint16_t *base, size_t dim, size_t stride,
                        size_t n, float *out)
{
    size_t i = 0;
    const size_t tail = dim % 16;
    const __mmask16 tk = (__mmask16)((1u << tail) - 1u);
    for (; i + 4 <= n; i += 4) {
        const uint16_t *r0 = base + i * stride, *r1 = r0 + stride, *r2 = r1 + stride,
                       *r3 = r2 + stride;
        __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
        __m512 a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
        __m512 b0 = _mm512_setzero_ps(), b1 = _mm512_setzero_ps();
        __m512 b2 = _mm512_setzero_ps(), b3 = _mm512_setzero_ps();
        size_t j = 0;
        for (; j + 32 <= dim; j += 32) {
            __m512 qa = _mm512_loadu_ps(q + j), qb = _mm512_loadu_ps(q + j + 16);
            a0 = _mm512_fmadd_ps(qa, half16(r0 + j), a0);
            a1 = _mm512_fmadd_ps(qa, half16(r1 + j), a1);
            a2 = _mm512_fmadd_ps(qa, half16(r2 + j), a2);
            a3 = _mm512_fmadd_ps(qa, half16(r3 + j), a3);
            b0 = _mm512_fmadd_ps(qb, half16(r0 + j + 16), b0);
            b1 = _mm512_fmadd_ps(qb, half16(r1 + j + 16), b1);
            b2 = _mm512_fmadd_ps(qb, half16(r2 + j + 16), b2);
            b3 = _mm512_fmadd_ps(qb, half16(r3 + j + 16), b3);
        }
        if (j + 16 <= dim) {
            __m512 qa = _mm512_loadu_ps(q + j);
            a0 = _mm512_fmadd_ps(qa, half16(r0 + j), a0);
            a1 = _mm512_fmadd_ps(qa, half16(r1 + j), a1);
            a2 = _mm512_fmadd_ps(qa, half16(r2 + j), a2);
            a3 = _mm512_fmadd_ps(qa, half16(r3 + j), a3);
            j += 16;
        }
        if (tail) {
            __m512 qb = ruv_maskz_loadu_ps(tk, q + j);
            b0 = _mm512_fmadd_ps(qb, half_tail(r0 + j, tail), b0);
            b1 = _mm512_fmadd_ps(qb, half_tail(r1 + j, tail), b1);
            b2 = _mm512_fmadd_ps(qb, half_tail(r2 + j, tail), b2);
            b3 = _mm512_fmadd_ps(qb, half_tail(r3 + j, tail), b3);
        }
        _mm_storeu_ps(out + i, hsum4(_mm512_add_ps(a0, b0), _mm512_add_ps(a1, b1),
                                     _mm512_add_ps(a2, b2), _mm512_add_ps(a3, b3)));
    }
    for (; i < n; i++) {
        const uint16_t *r0 = base + i * stride;
        __m512 a0 = _mm512_setzero_ps();
        size_t j = 0;
        for (; j + 16 <= dim; j += 16)
            a0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + j), half16(r0 + j), a0);
        if (tail)
            a0 = _mm512_fmadd_ps(ruv_maskz_loadu_ps(tk, q + j), half_tail(r0 + j, tail), a0);
        out[i] = hsum(a0);
    }
}
