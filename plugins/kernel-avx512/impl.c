/* AVX-512 (F, BW, VL, DQ, VPOPCNTDQ) kernels. Only this translation unit is
 * built with the -mavx512* flags; the engine reaches it through
 * ruv_avx512_ops after it has checked the CPU.
 *
 * With RUV_SIMDE defined the same source builds against SIMDe's portable
 * AVX-512 (plus native AVX2), so the kernels can be conformance-tested on
 * CPUs without AVX-512. SIMDe 0.7 lacks masked loads and stores; the ruv_*
 * wrappers below stand in for them and never touch masked-off memory.
 *
 * Design notes:
 *  - Tails use masked loads, never a scalar loop or a read past the end.
 *  - f32: several independent FMA chains, four rows per pass sharing each
 *    query load, prefetch a few KiB ahead; the fused threshold scan
 *    compress-stores survivors.
 *  - 1-bit codes: vpopcntq over whole vectors of codes (4 codes of 2 words or
 *    2 codes of 4 words per zmm), then one permute-and-add folds the words
 *    of each code. Bit-planes use Horner's rule (acc = 2 acc + popcnt).
 *  - FastScan feeds four sub-codes per vpshufb (their LUTs are contiguous).
 *  - The FHT performs exactly the scalar reference's additions, so its
 *    results are bit-identical to it. */
#ifdef RUV_SIMDE
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
#include <simde/x86/f16c.h>
#else
#include <immintrin.h>
#endif
#include <math.h>
#include <stdint.h>

#include <ruvector/kernel.h>

#include "../common/prefetch.h"

#define RUV_INLINE static inline __attribute__((always_inline))

/* ------------------------------------------------ masked memory access --- */

#ifdef RUV_SIMDE
RUV_INLINE __m512 ruv_maskz_loadu_ps(__mmask16 k, const float *p)
{
    float v[16];
    for (int i = 0; i < 16; i++)
        v[i] = (k >> i) & 1 ? p[i] : 0.0f;
    return _mm512_loadu_ps(v);
}

RUV_INLINE __m512i ruv_maskz_loadu_epi64(__mmask8 k, const uint64_t *p)
{
    uint64_t v[8];
    for (int i = 0; i < 8; i++)
        v[i] = (k >> i) & 1 ? p[i] : 0;
    return _mm512_loadu_si512(v);
}

RUV_INLINE __m512i ruv_maskz_loadu_epi8(__mmask64 k, const uint8_t *p)
{
    uint8_t v[64];
    for (int i = 0; i < 64; i++)
        v[i] = (k >> i) & 1 ? p[i] : 0;
    return _mm512_loadu_si512(v);
}

RUV_INLINE void ruv_mask_storeu_epi32(uint32_t *p, __mmask8 k, __m256i x)
{
    uint32_t v[8];
    _mm256_storeu_si256((__m256i *)v, x);
    for (int i = 0; i < 8; i++)
        if ((k >> i) & 1)
            p[i] = v[i];
}

/* SIMDe's portable _mm512_add_epi16 adds signed shorts, so UBSan flags the
 * u16 wraparound FastScan relies on; GCC's AVX2 adds are unsigned. */
RUV_INLINE __m512i ruv_add_epi16(__m512i a, __m512i b)
{
    __m256i lo = _mm256_add_epi16(_mm512_castsi512_si256(a), _mm512_castsi512_si256(b));
    __m256i hi = _mm256_add_epi16(_mm512_extracti64x4_epi64(a, 1), _mm512_extracti64x4_epi64(b, 1));
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}
#else
#define ruv_maskz_loadu_ps(k, p) _mm512_maskz_loadu_ps((k), (p))
#define ruv_maskz_loadu_epi64(k, p) _mm512_maskz_loadu_epi64((k), (p))
#define ruv_maskz_loadu_epi8(k, p) _mm512_maskz_loadu_epi8((k), (p))
#define ruv_mask_storeu_epi32(p, k, x) _mm256_mask_storeu_epi32((p), (k), (x))
#define ruv_add_epi16(a, b) _mm512_add_epi16((a), (b))
#endif

/* Mask of the first r (0..16) lanes. */
RUV_INLINE __mmask16 first16(size_t r) { return (__mmask16)((1u << r) - 1u); }

/* Mask of lanes [start, start + 8) that lie below total. */
RUV_INLINE __mmask8 lanes8(size_t total, size_t start)
{
    if (total <= start)
        return 0;
    if (total - start >= 8)
        return 0xff;
    return (__mmask8)((1u << (total - start)) - 1u);
}

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

static float dot_f32(const float *a, const float *b, size_t n) { return score1(a, b, n, 0); }

static float l2sq_f32(const float *a, const float *b, size_t n) { return score1(a, b, n, 1); }

static float cos_f32(const float *a, const float *b, size_t n)
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

static void dot_f32_1xN(const float *q, const float *base, size_t dim, size_t stride, size_t n,
                        float *out)
{
    score_1xN(q, base, dim, stride, n, out, 0);
}

static void l2sq_f32_1xN(const float *q, const float *base, size_t dim, size_t stride, size_t n,
                         float *out)
{
    score_1xN(q, base, dim, stride, n, out, 1);
}

/* Compress-stores the rows of a 4-row group (row0..row0+3, those in k) whose
 * distances are in d. Only the low four mask bits can be set, so the 512-bit
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

/* Groups of 4 rows, like l2sq_f32_1xN: on the AVX2 build, larger groups
 * (two or four score4 bodies per iteration) measured 14 % slower from DRAM. */
static size_t l2sq_f32_1xN_below(const float *q, const float *base, size_t dim, size_t stride,
                                 size_t n, float threshold, uint32_t *idx_out, float *dist_out)
{
    const __m128 thr = _mm_set1_ps(threshold);
    const size_t ahead = ruv_prefetch_rows(stride);
    size_t m = 0, i = 0;
    for (; i + 4 <= n; i += 4) {
        if (i + ahead + 4 <= n)
            ruv_prefetch4(base + (i + ahead) * stride, stride, dim);
        __m128 d = score4(q, base + i * stride, stride, dim, 1);
        m = emit_below(d, _mm_cmp_ps_mask(d, thr, _CMP_LT_OQ), i, idx_out, dist_out, m);
    }
    if (i < n) {
        float d[4] = {0};
        for (size_t r = 0; i + r < n; r++)
            d[r] = score1(q, base + (i + r) * stride, dim, 1);
        __m128 dv = _mm_loadu_ps(d);
        __mmask8 k = (__mmask8)(_mm_cmp_ps_mask(dv, thr, _CMP_LT_OQ) & ((1u << (n - i)) - 1u));
        m = emit_below(dv, k, i, idx_out, dist_out, m);
    }
    return m;
}

/* ------------------------------------------------------------- 1-bit --- */

RUV_INLINE uint64_t hsum_epi64(__m512i v)
{
    __m256i y = _mm256_add_epi64(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
    __m128i x = _mm_add_epi64(_mm256_castsi256_si128(y), _mm256_extracti128_si256(y, 1));
    x = _mm_add_epi64(x, _mm_unpackhi_epi64(x, x));
    return (uint64_t)_mm_cvtsi128_si64(x);
}

/* p0, p1 hold per-word counts of codes 0-3 and 4-7, two qwords per code.
 * Returns the eight per-code sums as u32 (counts fit in the low dword). */
RUV_INLINE __m256i fold_pairs(__m512i p0, __m512i p1)
{
    const __m512i w0 = _mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m512i w1 = _mm512_setr_epi32(2, 6, 10, 14, 18, 22, 26, 30, 0, 0, 0, 0, 0, 0, 0, 0);
    __m512i s = _mm512_add_epi32(_mm512_permutex2var_epi32(p0, w0, p1),
                                 _mm512_permutex2var_epi32(p0, w1, p1));
    return _mm512_castsi512_si256(s);
}

/* p0..p3 hold per-word counts of codes 0-7, four qwords per code. */
RUV_INLINE __m256i fold_quads(__m512i p0, __m512i p1, __m512i p2, __m512i p3)
{
    const __m512i ev = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
    const __m512i od = _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15);
    __m512i h01 = _mm512_add_epi64(_mm512_permutex2var_epi64(p0, ev, p1),
                                   _mm512_permutex2var_epi64(p0, od, p1));
    __m512i h23 = _mm512_add_epi64(_mm512_permutex2var_epi64(p2, ev, p3),
                                   _mm512_permutex2var_epi64(p2, od, p3));
    return fold_pairs(h01, h23);
}

RUV_INLINE __m512i xpc(__m512i q, __m512i c) { return _mm512_popcnt_epi64(_mm512_xor_si512(q, c)); }

/* Loads the qwords [8 j, 8 j + 8) of a group whose valid part is total qwords. */
RUV_INLINE __m512i load_group(const uint64_t *c, size_t j, size_t total, int full)
{
    if (full)
        return _mm512_loadu_si512(c + 8 * j);
    return ruv_maskz_loadu_epi64(lanes8(total, 8 * j), c + 8 * j);
}

/* Eight codes of two words (n - i of them valid when !full). Lanes loaded as
 * zero produce garbage counts that the masked store drops. */
RUV_INLINE void xor_w2_group(__m512i q, const uint64_t *c, size_t r, uint32_t *out, int full)
{
    __m512i p0 = xpc(q, load_group(c, 0, 2 * r, full));
    __m512i p1 = xpc(q, load_group(c, 1, 2 * r, full));
    __m256i s = fold_pairs(p0, p1);
    if (full)
        _mm256_storeu_si256((__m256i *)out, s);
    else
        ruv_mask_storeu_epi32(out, (__mmask8)((1u << r) - 1u), s);
}

RUV_INLINE void xor_w4_group(__m512i q, const uint64_t *c, size_t r, uint32_t *out, int full)
{
    __m512i p0 = xpc(q, load_group(c, 0, 4 * r, full));
    __m512i p1 = xpc(q, load_group(c, 1, 4 * r, full));
    __m512i p2 = xpc(q, load_group(c, 2, 4 * r, full));
    __m512i p3 = xpc(q, load_group(c, 3, 4 * r, full));
    __m256i s = fold_quads(p0, p1, p2, p3);
    if (full)
        _mm256_storeu_si256((__m256i *)out, s);
    else
        ruv_mask_storeu_epi32(out, (__mmask8)((1u << r) - 1u), s);
}

/* Query words repeated to fill a zmm: words is 1, 2 or 4. */
RUV_INLINE __m512i repeat_query(const uint64_t *q, size_t words)
{
    if (words == 1)
        return _mm512_set1_epi64((long long)q[0]);
    if (words == 2)
        return _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)q));
    return _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)q));
}

static void xor_popcnt_w1(const uint64_t *q, const uint64_t *c, size_t n, uint32_t *out)
{
    const __m512i qv = repeat_query(q, 1);
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_si256((__m256i *)(out + i),
                            _mm512_cvtepi64_epi32(xpc(qv, _mm512_loadu_si512(c + i))));
    if (i < n) {
        __mmask8 k = lanes8(n, i);
        ruv_mask_storeu_epi32(out + i, k,
                              _mm512_cvtepi64_epi32(xpc(qv, ruv_maskz_loadu_epi64(k, c + i))));
    }
}

static void xor_popcnt_w2(const uint64_t *q, const uint64_t *c, size_t n, uint32_t *out)
{
    const __m512i qv = repeat_query(q, 2);
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        xor_w2_group(qv, c + 2 * i, 8, out + i, 1);
    if (i < n)
        xor_w2_group(qv, c + 2 * i, n - i, out + i, 0);
}

static void xor_popcnt_w4(const uint64_t *q, const uint64_t *c, size_t n, uint32_t *out)
{
    const __m512i qv = repeat_query(q, 4);
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        xor_w4_group(qv, c + 4 * i, 8, out + i, 1);
    if (i < n)
        xor_w4_group(qv, c + 4 * i, n - i, out + i, 0);
}

/* Any word count: one code at a time, eight words per step, masked tail. */
static void xor_popcnt_any(const uint64_t *q, const uint64_t *codes, size_t words, size_t n,
                           uint32_t *out)
{
    const __mmask8 kt = lanes8(words % 8, 0);
    const size_t full = words - words % 8;
    for (size_t i = 0; i < n; i++) {
        const uint64_t *c = codes + i * words;
        __m512i acc = _mm512_setzero_si512();
        for (size_t w = 0; w < full; w += 8)
            acc = _mm512_add_epi64(acc, xpc(_mm512_loadu_si512(q + w), _mm512_loadu_si512(c + w)));
        if (kt)
            acc = _mm512_add_epi64(acc, xpc(ruv_maskz_loadu_epi64(kt, q + full),
                                            ruv_maskz_loadu_epi64(kt, c + full)));
        out[i] = (uint32_t)hsum_epi64(acc);
    }
}

static void xor_popcnt_1xN(const uint64_t *q, const uint64_t *codes, size_t words, size_t n,
                           uint32_t *out)
{
    switch (words) {
    case 1:
        xor_popcnt_w1(q, codes, n, out);
        break;
    case 2:
        xor_popcnt_w2(q, codes, n, out);
        break;
    case 4:
        xor_popcnt_w4(q, codes, n, out);
        break;
    default:
        xor_popcnt_any(q, codes, words, n, out);
        break;
    }
}

/* Horner's rule over the planes, top plane first: acc = 2 acc + popcnt(P_j & c).
 * P holds the planes already repeated to match the code layout in c. */
RUV_INLINE __m512i horner(const __m512i *P, unsigned nplanes, __m512i c)
{
    __m512i acc = _mm512_setzero_si512();
#pragma GCC unroll 16
    for (unsigned j = nplanes; j-- > 0;)
        acc = _mm512_add_epi64(_mm512_add_epi64(acc, acc),
                               _mm512_popcnt_epi64(_mm512_and_si512(P[j], c)));
    return acc;
}

/* nplanes is a literal in the specialised callers, so the loop over planes
 * unrolls and the repeated planes stay in registers. */
RUV_INLINE void bitplane_w2(const uint64_t *planes, unsigned nplanes, const uint64_t *c, size_t n,
                            uint32_t *out)
{
    __m512i P[16];
    for (unsigned j = 0; j < nplanes; j++)
        P[j] = repeat_query(planes + 2 * j, 2);
    size_t i = 0;
    for (; i + 8 <= n; i += 8, c += 16)
        _mm256_storeu_si256((__m256i *)(out + i),
                            fold_pairs(horner(P, nplanes, _mm512_loadu_si512(c)),
                                       horner(P, nplanes, _mm512_loadu_si512(c + 8))));
    if (i < n) {
        size_t q = 2 * (n - i);
        __m256i s = fold_pairs(horner(P, nplanes, ruv_maskz_loadu_epi64(lanes8(q, 0), c)),
                               horner(P, nplanes, ruv_maskz_loadu_epi64(lanes8(q, 8), c + 8)));
        ruv_mask_storeu_epi32(out + i, lanes8(n - i, 0), s);
    }
}

RUV_INLINE void bitplane_w4(const uint64_t *planes, unsigned nplanes, const uint64_t *c, size_t n,
                            uint32_t *out)
{
    __m512i P[16];
    for (unsigned j = 0; j < nplanes; j++)
        P[j] = repeat_query(planes + 4 * j, 4);
    size_t i = 0;
    for (; i + 8 <= n; i += 8, c += 32)
        _mm256_storeu_si256((__m256i *)(out + i),
                            fold_quads(horner(P, nplanes, _mm512_loadu_si512(c)),
                                       horner(P, nplanes, _mm512_loadu_si512(c + 8)),
                                       horner(P, nplanes, _mm512_loadu_si512(c + 16)),
                                       horner(P, nplanes, _mm512_loadu_si512(c + 24))));
    if (i < n) {
        size_t q = 4 * (n - i);
        __m256i s = fold_quads(horner(P, nplanes, ruv_maskz_loadu_epi64(lanes8(q, 0), c)),
                               horner(P, nplanes, ruv_maskz_loadu_epi64(lanes8(q, 8), c + 8)),
                               horner(P, nplanes, ruv_maskz_loadu_epi64(lanes8(q, 16), c + 16)),
                               horner(P, nplanes, ruv_maskz_loadu_epi64(lanes8(q, 24), c + 24)));
        ruv_mask_storeu_epi32(out + i, lanes8(n - i, 0), s);
    }
}

static void bitplane_w2_p4(const uint64_t *planes, const uint64_t *c, size_t n, uint32_t *out)
{
    bitplane_w2(planes, 4, c, n, out);
}

static void bitplane_w4_p4(const uint64_t *planes, const uint64_t *c, size_t n, uint32_t *out)
{
    bitplane_w4(planes, 4, c, n, out);
}

static void bitplane_w2_pn(const uint64_t *planes, unsigned nplanes, const uint64_t *c, size_t n,
                           uint32_t *out)
{
    bitplane_w2(planes, nplanes, c, n, out);
}

static void bitplane_w4_pn(const uint64_t *planes, unsigned nplanes, const uint64_t *c, size_t n,
                           uint32_t *out)
{
    bitplane_w4(planes, nplanes, c, n, out);
}

/* Any word count: one code at a time, eight words per step, masked tail.
 * Horner's rule is linear, so per-step results simply add up. */
static void bitplane_any(const uint64_t *planes, unsigned nplanes, const uint64_t *codes,
                         size_t words, size_t n, uint32_t *out)
{
    for (size_t i = 0; i < n; i++) {
        const uint64_t *c = codes + i * words;
        __m512i total = _mm512_setzero_si512();
        for (size_t w = 0; w < words; w += 8) {
            __mmask8 k = lanes8(words, w);
            __m512i cv = ruv_maskz_loadu_epi64(k, c + w);
            __m512i acc = _mm512_setzero_si512();
            for (unsigned j = nplanes; j-- > 0;) {
                __m512i p = ruv_maskz_loadu_epi64(k, planes + (size_t)j * words + w);
                acc = _mm512_add_epi64(_mm512_add_epi64(acc, acc),
                                       _mm512_popcnt_epi64(_mm512_and_si512(p, cv)));
            }
            total = _mm512_add_epi64(total, acc);
        }
        out[i] = (uint32_t)hsum_epi64(total);
    }
}

static void bitplane_dot_1xN(const uint64_t *planes, unsigned nplanes, const uint64_t *codes,
                             size_t words, size_t n, uint32_t *out)
{
    if (words == 2 && nplanes == 4)
        bitplane_w2_p4(planes, codes, n, out);
    else if (words == 4 && nplanes == 4)
        bitplane_w4_p4(planes, codes, n, out);
    else if (words == 2 && nplanes <= 16)
        bitplane_w2_pn(planes, nplanes, codes, n, out);
    else if (words == 4 && nplanes <= 16)
        bitplane_w4_pn(planes, nplanes, codes, n, out);
    else
        bitplane_any(planes, nplanes, codes, words, n, out);
}

static uint64_t popcnt_u64(const uint64_t *x, size_t words)
{
    __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
    size_t w = 0;
    for (; w + 16 <= words; w += 16) {
        s0 = _mm512_add_epi64(s0, _mm512_popcnt_epi64(_mm512_loadu_si512(x + w)));
        s1 = _mm512_add_epi64(s1, _mm512_popcnt_epi64(_mm512_loadu_si512(x + w + 8)));
    }
    for (; w < words; w += 8)
        s0 = _mm512_add_epi64(s0, _mm512_popcnt_epi64(ruv_maskz_loadu_epi64(lanes8(words, w),
                                                                            x + w)));
    return hsum_epi64(_mm512_add_epi64(s0, s1));
}

/* ---------------------------------------------------------- FastScan --- */

/* u16 accumulators for one block. "all" adds each looked-up byte pair as one
 * u16 (even vector + 256 * odd vector, wrapping); "odd" adds the odd vector's
 * byte alone. The even sums are all - 256 * odd, exact because they never
 * exceed 256 * 255. */
struct fs_acc {
    __m512i lo_all, lo_odd, hi_all, hi_odd;
};

RUV_INLINE void fs_add(struct fs_acc *a, __m512i codes, __m512i lut)
{
    const __m512i nib = _mm512_set1_epi8(0x0f);
    __m512i vlo = _mm512_shuffle_epi8(lut, _mm512_and_si512(codes, nib));
    __m512i vhi = _mm512_shuffle_epi8(lut, _mm512_and_si512(_mm512_srli_epi16(codes, 4), nib));
    a->lo_all = ruv_add_epi16(a->lo_all, vlo);
    a->lo_odd = ruv_add_epi16(a->lo_odd, _mm512_srli_epi16(vlo, 8));
    a->hi_all = ruv_add_epi16(a->hi_all, vhi);
    a->hi_odd = ruv_add_epi16(a->hi_odd, _mm512_srli_epi16(vhi, 8));
}

RUV_INLINE __m128i fold128_epi16(__m512i v)
{
    __m256i y = _mm256_add_epi16(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
    return _mm_add_epi16(_mm256_castsi256_si128(y), _mm256_extracti128_si256(y, 1));
}

/* Folds the four 128-bit lanes and writes 16 u16 sums in vector order. */
RUV_INLINE void fs_store16(uint16_t *out, __m512i all, __m512i odd)
{
    __m128i a = fold128_epi16(all), o = fold128_epi16(odd);
    __m128i e = _mm_sub_epi16(a, _mm_slli_epi16(o, 8));
    _mm_storeu_si128((__m128i *)out, _mm_unpacklo_epi16(e, o));
    _mm_storeu_si128((__m128i *)(out + 8), _mm_unpackhi_epi16(e, o));
}

static void fastscan_u8(const uint8_t *codes, size_t nsub, size_t nblocks, const uint8_t *lut,
                        uint16_t *out)
{
    const size_t body = nsub - nsub % 4;
    /* 1-3 leftover sub-codes: zero-filled LUT lanes add nothing */
    const __mmask64 kt = (__mmask64)((UINT64_C(1) << (16 * (nsub % 4))) - 1);
    for (size_t b = 0; b < nblocks; b++) {
        const uint8_t *blk = codes + b * nsub * 16;
        struct fs_acc a = {_mm512_setzero_si512(), _mm512_setzero_si512(),
                           _mm512_setzero_si512(), _mm512_setzero_si512()};
        for (size_t m = 0; m < body; m += 4)
            fs_add(&a, _mm512_loadu_si512(blk + m * 16), _mm512_loadu_si512(lut + m * 16));
        if (kt)
            fs_add(&a, ruv_maskz_loadu_epi8(kt, blk + body * 16),
                   ruv_maskz_loadu_epi8(kt, lut + body * 16));
        uint16_t *o = out + b * RUV_FASTSCAN_BLOCK;
        fs_store16(o, a.lo_all, a.lo_odd);
        fs_store16(o + 16, a.hi_all, a.hi_odd);
    }
}

/* -------------------------------------------------------------- FHT --- */

/* Butterfly of the lanes h apart inside a vector, given those lanes swapped
 * (s) and the sign pattern (+1 on the lower lane of each pair): the lower
 * lane gets x + s, the upper s - x. Multiplying by +-1 is exact, so each lane
 * is rounded once, exactly as the scalar a + b / a - b. */
RUV_INLINE __m512 fly(__m512 x, __m512 swapped, __m512 sign)
{
    return _mm512_fmadd_ps(x, sign, swapped);
}

/* 128-bit lanes [1, 0, 3, 2]: the h = 4 partner of every float. */
RUV_INLINE __m512 swap_lane_pairs(__m512 v)
{
    __m512i i = _mm512_castps_si512(v);
    return _mm512_castsi512_ps(_mm512_shuffle_i32x4(i, i, 0xB1));
}

/* 128-bit lanes [2, 3, 0, 1]: the h = 8 partner of every float. */
RUV_INLINE __m512 swap_halves(__m512 v)
{
    __m512i i = _mm512_castps_si512(v);
    return _mm512_castsi512_ps(_mm512_shuffle_i32x4(i, i, 0x4E));
}

/* Levels h = 1, 2, 4, 8 of every 16-float group, in registers. */
static void fht_levels_1_to_8(float *x, size_t n)
{
    const __m512 s1 = _mm512_setr_ps(1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1);
    const __m512 s2 = _mm512_setr_ps(1, 1, -1, -1, 1, 1, -1, -1, 1, 1, -1, -1, 1, 1, -1, -1);
    const __m512 s4 = _mm512_setr_ps(1, 1, 1, 1, -1, -1, -1, -1, 1, 1, 1, 1, -1, -1, -1, -1);
    const __m512 s8 = _mm512_setr_ps(1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1, -1);
    for (size_t i = 0; i < n; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        v = fly(v, _mm512_shuffle_ps(v, v, 0xB1), s1);
        v = fly(v, _mm512_shuffle_ps(v, v, 0x4E), s2);
        v = fly(v, swap_lane_pairs(v), s4);
        v = fly(v, swap_halves(v), s8);
        _mm512_storeu_ps(x + i, v);
    }
}

/* n = 8: levels h = 1, 2, 4 in one ymm. */
static void fht_8(float *x)
{
    const __m256 s1 = _mm256_setr_ps(1, -1, 1, -1, 1, -1, 1, -1);
    const __m256 s2 = _mm256_setr_ps(1, 1, -1, -1, 1, 1, -1, -1);
    const __m256 s4 = _mm256_setr_ps(1, 1, 1, 1, -1, -1, -1, -1);
    __m256 v = _mm256_loadu_ps(x);
    v = _mm256_fmadd_ps(v, s1, _mm256_permute_ps(v, 0xB1));
    v = _mm256_fmadd_ps(v, s2, _mm256_permute_ps(v, 0x4E));
    v = _mm256_fmadd_ps(v, s4, _mm256_permute2f128_ps(v, v, 0x01));
    _mm256_storeu_ps(x, v);
}

/* Levels h and 2h in one pass over memory (h >= 16, 4h <= n). */
static void fht_radix4(float *x, size_t n, size_t h)
{
    for (size_t i = 0; i < n; i += 4 * h) {
        for (size_t j = i; j < i + h; j += 16) {
            __m512 a = _mm512_loadu_ps(x + j), b = _mm512_loadu_ps(x + j + h);
            __m512 c = _mm512_loadu_ps(x + j + 2 * h), d = _mm512_loadu_ps(x + j + 3 * h);
            __m512 ab = _mm512_add_ps(a, b), amb = _mm512_sub_ps(a, b);
            __m512 cd = _mm512_add_ps(c, d), cmd = _mm512_sub_ps(c, d);
            _mm512_storeu_ps(x + j, _mm512_add_ps(ab, cd));
            _mm512_storeu_ps(x + j + 2 * h, _mm512_sub_ps(ab, cd));
            _mm512_storeu_ps(x + j + h, _mm512_add_ps(amb, cmd));
            _mm512_storeu_ps(x + j + 3 * h, _mm512_sub_ps(amb, cmd));
        }
    }
}

/* One level h (h >= 16, 2h <= n). */
static void fht_radix2(float *x, size_t n, size_t h)
{
    for (size_t i = 0; i < n; i += 2 * h) {
        for (size_t j = i; j < i + h; j += 16) {
            __m512 a = _mm512_loadu_ps(x + j), b = _mm512_loadu_ps(x + j + h);
            _mm512_storeu_ps(x + j, _mm512_add_ps(a, b));
            _mm512_storeu_ps(x + j + h, _mm512_sub_ps(a, b));
        }
    }
}

static void fht_scalar(float *x, size_t n)
{
    for (size_t h = 1; h < n; h *= 2)
        for (size_t i = 0; i < n; i += 2 * h)
            for (size_t j = i; j < i + h; j++) {
                float a = x[j], b = x[j + h];
                x[j] = a + b;
                x[j + h] = a - b;
            }
}

static void fht_f32(float *x, size_t n)
{
    if (n < 8) {
        fht_scalar(x, n);
        return;
    }
    if (n == 8) {
        fht_8(x);
        return;
    }
    fht_levels_1_to_8(x, n);
    size_t h = 16;
    for (; 4 * h <= n; h *= 4)
        fht_radix4(x, n, h);
    if (h < n)
        fht_radix2(x, n, h);
}

/* ------------------------------------------------------------ table --- */

extern const struct ruv_kernel_ops ruv_avx512_ops;

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
static float dot_u8_f32(const uint8_t *a, const float *b, size_t n)
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
static void dot_f16_1xN(const float *q, const uint16_t *base, size_t dim, size_t stride,
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

const struct ruv_kernel_ops ruv_avx512_ops = {
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
};
