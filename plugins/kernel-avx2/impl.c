/* AVX2 + FMA + POPCNT kernels. Only this translation unit is built with
 * -mavx2 -mfma -mpopcnt; the engine reaches it through ruv_avx2_ops after it
 * has checked the CPU, so nothing here may run at load time.
 *
 * Design notes:
 *  - f32 loops keep several independent FMA chains (FMA latency is 4-5
 *    cycles, two issue per cycle) and score four rows per pass so one query
 *    load feeds four FMAs. Float tails use vmaskmovps, which never touches
 *    masked-off memory.
 *  - Hamming distances use the scalar POPCNT instruction: at D = 128 a code
 *    is two words, and POPCNT on 64-bit registers beats a vpshufb nibble
 *    count plus the horizontal reduction each code would need. Bit-plane
 *    products do more work per code and go the vpshufb way (see there).
 *  - DRAM-resident f32 scans prefetch a few KiB ahead.
 *  - FastScan feeds two sub-codes per vpshufb (their LUTs are contiguous).
 *  - The FHT performs exactly the scalar reference's additions, so its
 *    results are bit-identical to it. */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#include <ruvector/kernel.h>

#include "../common/prefetch.h"

#define RUV_INLINE static inline __attribute__((always_inline))

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

static float dot_f32(const float *a, const float *b, size_t n) { return score1(a, b, n, 0); }

static float l2sq_f32(const float *a, const float *b, size_t n) { return score1(a, b, n, 1); }

static float cos_f32(const float *a, const float *b, size_t n)
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

/* Appends the rows of a 4-row group whose distance is below the threshold.
 * Survivors are rare once the top-k heap is warm, so a bit loop over the
 * compare mask costs less than a permutation-table compress. (Groups of 4,
 * like l2sq_f32_1xN: 8-row groups measured 14 % slower from DRAM.) */
RUV_INLINE size_t emit_below(__m128 d, __m128 thr, size_t row0, uint32_t *idx_out,
                             float *dist_out, size_t m)
{
    unsigned bits = (unsigned)_mm_movemask_ps(_mm_cmplt_ps(d, thr));
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

static size_t l2sq_f32_1xN_below(const float *q, const float *base, size_t dim, size_t stride,
                                 size_t n, float threshold, uint32_t *idx_out, float *dist_out)
{
    const __m128 thr = _mm_set1_ps(threshold);
    const size_t ahead = ruv_prefetch_rows(stride);
    size_t m = 0, i = 0;
    for (; i + 4 <= n; i += 4) {
        if (i + ahead + 4 <= n)
            ruv_prefetch4(base + (i + ahead) * stride, stride, dim);
        m = emit_below(score4(q, base + i * stride, stride, dim, 1), thr, i, idx_out, dist_out, m);
    }
    for (; i < n; i++) {
        float d = score1(q, base + i * stride, dim, 1);
        if (d < threshold) {
            idx_out[m] = (uint32_t)i;
            dist_out[m] = d;
            m++;
        }
    }
    return m;
}

/* ------------------------------------------------------------- 1-bit --- */

RUV_INLINE uint32_t pc(uint64_t x) { return (uint32_t)_mm_popcnt_u64(x); }

static void xor_popcnt_w1(const uint64_t *q, const uint64_t *c, size_t n, uint32_t *out)
{
    const uint64_t q0 = q[0];
    for (size_t i = 0; i < n; i++)
        out[i] = pc(q0 ^ c[i]);
}

static void xor_popcnt_w2(const uint64_t *q, const uint64_t *c, size_t n, uint32_t *out)
{
    const uint64_t q0 = q[0], q1 = q[1];
    size_t i = 0;
    for (; i + 4 <= n; i += 4, c += 8) {
        out[i] = pc(q0 ^ c[0]) + pc(q1 ^ c[1]);
        out[i + 1] = pc(q0 ^ c[2]) + pc(q1 ^ c[3]);
        out[i + 2] = pc(q0 ^ c[4]) + pc(q1 ^ c[5]);
        out[i + 3] = pc(q0 ^ c[6]) + pc(q1 ^ c[7]);
    }
    for (; i < n; i++, c += 2)
        out[i] = pc(q0 ^ c[0]) + pc(q1 ^ c[1]);
}

static void xor_popcnt_w4(const uint64_t *q, const uint64_t *c, size_t n, uint32_t *out)
{
    const uint64_t q0 = q[0], q1 = q[1], q2 = q[2], q3 = q[3];
    size_t i = 0;
    for (; i + 2 <= n; i += 2, c += 8) {
        out[i] = (pc(q0 ^ c[0]) + pc(q1 ^ c[1])) + (pc(q2 ^ c[2]) + pc(q3 ^ c[3]));
        out[i + 1] = (pc(q0 ^ c[4]) + pc(q1 ^ c[5])) + (pc(q2 ^ c[6]) + pc(q3 ^ c[7]));
    }
    if (i < n)
        out[i] = (pc(q0 ^ c[0]) + pc(q1 ^ c[1])) + (pc(q2 ^ c[2]) + pc(q3 ^ c[3]));
}

static void xor_popcnt_any(const uint64_t *q, const uint64_t *codes, size_t words, size_t n,
                           uint32_t *out)
{
    for (size_t i = 0; i < n; i++) {
        const uint64_t *c = codes + i * words;
        uint32_t s0 = 0, s1 = 0;
        size_t w = 0;
        for (; w + 2 <= words; w += 2) {
            s0 += pc(q[w] ^ c[w]);
            s1 += pc(q[w + 1] ^ c[w + 1]);
        }
        if (w < words)
            s0 += pc(q[w] ^ c[w]);
        out[i] = s0 + s1;
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

/* Bit-plane dot products: sum_j 2^j popcount(plane_j & c).
 *
 * Words 2 and 4 run on vpshufb: split code and planes into nibbles once, then
 * per plane AND the nibbles and look up popcount(nibble) << (j % 4). Four
 * planes' weighted counts stay below 2 * 4 * 15 = 120 per byte, so they add
 * up in u8 lanes; vpsadbw then sums each 64-bit word, and groups of four
 * planes combine by Horner's rule (acc << 4 + group). On AVX2 machines this
 * is about 1.5x the scalar POPCNT loop, which still serves other word
 * counts and the last n % 4 codes. */

RUV_INLINE uint32_t bitplane_one(const uint64_t *planes, unsigned nplanes, const uint64_t *c,
                                 size_t words)
{
    uint32_t s = 0;
    for (unsigned j = nplanes; j-- > 0;) {
        const uint64_t *p = planes + (size_t)j * words;
        uint32_t pj = 0;
        for (size_t w = 0; w < words; w++)
            pj += pc(p[w] & c[w]);
        s = 2 * s + pj;
    }
    return s;
}

/* Planes repeated to 256 bits and split into low and high nibbles. */
struct bp_planes {
    __m256i lo[16], hi[16];
};

RUV_INLINE void bp_prepare(struct bp_planes *P, const uint64_t *planes, unsigned nplanes,
                           size_t words)
{
    const __m256i nib = _mm256_set1_epi8(0x0f);
    for (unsigned j = 0; j < nplanes; j++) {
        const uint64_t *p = planes + (size_t)j * words;
        __m256i v = words == 2 ? _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)p))
                               : _mm256_loadu_si256((const __m256i *)p);
        P->lo[j] = _mm256_and_si256(v, nib);
        P->hi[j] = _mm256_and_si256(_mm256_srli_epi16(v, 4), nib);
    }
}

/* Weighted plane counts of the 64-bit words in v, one u64 per word. */
RUV_INLINE __m256i bp_word_sums(const struct bp_planes *P, unsigned nplanes, __m256i v)
{
    const __m256i nib = _mm256_set1_epi8(0x0f);
    const __m256i pc4 = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2,
                                         1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i lut[4] = {pc4, _mm256_add_epi8(pc4, pc4), _mm256_slli_epi16(pc4, 2),
                            _mm256_slli_epi16(pc4, 3)};
    __m256i lo = _mm256_and_si256(v, nib), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), nib);
    __m256i total = _mm256_setzero_si256();
    unsigned top = (nplanes - 1) / 4 * 4;
    for (unsigned g = top + 4; g >= 4; g -= 4) {
        unsigned g0 = g - 4, g1 = g0 + 4 < nplanes ? g0 + 4 : nplanes;
        __m256i acc = _mm256_setzero_si256();
#pragma GCC unroll 4
        for (unsigned j = g0; j < g1; j++) {
            acc = _mm256_add_epi8(acc, _mm256_shuffle_epi8(lut[j - g0], _mm256_and_si256(lo, P->lo[j])));
            acc = _mm256_add_epi8(acc, _mm256_shuffle_epi8(lut[j - g0], _mm256_and_si256(hi, P->hi[j])));
        }
        total = _mm256_add_epi64(_mm256_slli_epi64(total, 4),
                                 _mm256_sad_epu8(acc, _mm256_setzero_si256()));
    }
    return total;
}

/* s0, s1 hold the word sums of codes {0, 1} and {2, 3} (two words each);
 * returns the four code sums. Sums fit in 32 bits. */
RUV_INLINE __m128i fold_w2(__m256i s0, __m256i s1)
{
    __m256i x = _mm256_or_si256(s0, _mm256_slli_epi64(s1, 32)); /* a0 c0 a1 c1 | b0 d0 b1 d1 */
    __m256i y = _mm256_add_epi32(x, _mm256_shuffle_epi32(x, 0x4E)); /* a c . . | b d . . */
    return _mm256_castsi256_si128(
        _mm256_permutevar8x32_epi32(y, _mm256_setr_epi32(0, 4, 1, 5, 0, 0, 0, 0)));
}

/* s0..s3 hold the four word sums of codes 0..3; returns the code sums. */
RUV_INLINE __m128i fold_w4(__m256i s0, __m256i s1, __m256i s2, __m256i s3)
{
    __m256i x01 = _mm256_or_si256(s0, _mm256_slli_epi64(s1, 32));
    __m256i x23 = _mm256_or_si256(s2, _mm256_slli_epi64(s3, 32));
    __m256i y01 = _mm256_add_epi32(x01, _mm256_shuffle_epi32(x01, 0x4E));
    __m256i y23 = _mm256_add_epi32(x23, _mm256_shuffle_epi32(x23, 0x4E));
    __m128i z01 = _mm_add_epi32(_mm256_castsi256_si128(y01), _mm256_extracti128_si256(y01, 1));
    __m128i z23 = _mm_add_epi32(_mm256_castsi256_si128(y23), _mm256_extracti128_si256(y23, 1));
    return _mm_unpacklo_epi64(z01, z23);
}

RUV_INLINE __m256i load256(const uint64_t *p) { return _mm256_loadu_si256((const __m256i *)p); }

/* nplanes is a literal in the hot callers, so the plane loops unroll. */
RUV_INLINE void bitplane_w2(const uint64_t *planes, unsigned nplanes, const uint64_t *c, size_t n,
                            uint32_t *out)
{
    struct bp_planes P;
    bp_prepare(&P, planes, nplanes, 2);
    size_t i = 0;
    for (; i + 4 <= n; i += 4, c += 8)
        _mm_storeu_si128((__m128i *)(out + i), fold_w2(bp_word_sums(&P, nplanes, load256(c)),
                                                       bp_word_sums(&P, nplanes, load256(c + 4))));
    for (; i < n; i++, c += 2)
        out[i] = bitplane_one(planes, nplanes, c, 2);
}

RUV_INLINE void bitplane_w4(const uint64_t *planes, unsigned nplanes, const uint64_t *c, size_t n,
                            uint32_t *out)
{
    struct bp_planes P;
    bp_prepare(&P, planes, nplanes, 4);
    size_t i = 0;
    for (; i + 4 <= n; i += 4, c += 16)
        _mm_storeu_si128((__m128i *)(out + i), fold_w4(bp_word_sums(&P, nplanes, load256(c)),
                                                       bp_word_sums(&P, nplanes, load256(c + 4)),
                                                       bp_word_sums(&P, nplanes, load256(c + 8)),
                                                       bp_word_sums(&P, nplanes, load256(c + 12))));
    for (; i < n; i++, c += 4)
        out[i] = bitplane_one(planes, nplanes, c, 4);
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

static void bitplane_any(const uint64_t *planes, unsigned nplanes, const uint64_t *codes,
                         size_t words, size_t n, uint32_t *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = bitplane_one(planes, nplanes, codes + i * words, words);
}

static void bitplane_dot_1xN(const uint64_t *planes, unsigned nplanes, const uint64_t *codes,
                             size_t words, size_t n, uint32_t *out)
{
    if (nplanes == 0 || nplanes > 16)
        bitplane_any(planes, nplanes, codes, words, n, out);
    else if (words == 2 && nplanes == 4)
        bitplane_w2_p4(planes, codes, n, out);
    else if (words == 4 && nplanes == 4)
        bitplane_w4_p4(planes, codes, n, out);
    else if (words == 2)
        bitplane_w2_pn(planes, nplanes, codes, n, out);
    else if (words == 4)
        bitplane_w4_pn(planes, nplanes, codes, n, out);
    else
        bitplane_any(planes, nplanes, codes, words, n, out);
}

static uint64_t popcnt_u64(const uint64_t *x, size_t words)
{
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t w = 0;
    for (; w + 4 <= words; w += 4) {
        s0 += pc(x[w]);
        s1 += pc(x[w + 1]);
        s2 += pc(x[w + 2]);
        s3 += pc(x[w + 3]);
    }
    for (; w < words; w++)
        s0 += pc(x[w]);
    return (s0 + s1) + (s2 + s3);
}

/* ---------------------------------------------------------- FastScan --- */

/* u16 accumulators for one nibble half of a block. "all" adds each looked-up
 * byte pair as one u16 (even vector + 256 * odd vector, wrapping); "odd" adds
 * the odd vector's byte alone. The even sums are all - 256 * odd, exact
 * because they never exceed 256 * 255. */
struct fs_acc {
    __m256i lo_all, lo_odd, hi_all, hi_odd;
};

RUV_INLINE void fs_add(struct fs_acc *a, __m256i codes, __m256i lut)
{
    const __m256i nib = _mm256_set1_epi8(0x0f);
    __m256i vlo = _mm256_shuffle_epi8(lut, _mm256_and_si256(codes, nib));
    __m256i vhi = _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(codes, 4), nib));
    a->lo_all = _mm256_add_epi16(a->lo_all, vlo);
    a->lo_odd = _mm256_add_epi16(a->lo_odd, _mm256_srli_epi16(vlo, 8));
    a->hi_all = _mm256_add_epi16(a->hi_all, vhi);
    a->hi_odd = _mm256_add_epi16(a->hi_odd, _mm256_srli_epi16(vhi, 8));
}

/* Folds the two 128-bit halves and writes 16 u16 sums in vector order. */
RUV_INLINE void fs_store16(uint16_t *out, __m256i all, __m256i odd)
{
    __m128i a = _mm_add_epi16(_mm256_castsi256_si128(all), _mm256_extracti128_si256(all, 1));
    __m128i o = _mm_add_epi16(_mm256_castsi256_si128(odd), _mm256_extracti128_si256(odd, 1));
    __m128i e = _mm_sub_epi16(a, _mm_slli_epi16(o, 8));
    _mm_storeu_si128((__m128i *)out, _mm_unpacklo_epi16(e, o));
    _mm_storeu_si128((__m128i *)(out + 8), _mm_unpackhi_epi16(e, o));
}

RUV_INLINE __m256i zext128(const uint8_t *p)
{
    return _mm256_inserti128_si256(_mm256_setzero_si256(),
                                   _mm_loadu_si128((const __m128i *)p), 0);
}

static void fastscan_u8(const uint8_t *codes, size_t nsub, size_t nblocks, const uint8_t *lut,
                        uint16_t *out)
{
    for (size_t b = 0; b < nblocks; b++) {
        const uint8_t *blk = codes + b * nsub * 16;
        struct fs_acc a = {_mm256_setzero_si256(), _mm256_setzero_si256(),
                           _mm256_setzero_si256(), _mm256_setzero_si256()};
        size_t m = 0;
        for (; m + 2 <= nsub; m += 2)
            fs_add(&a, _mm256_loadu_si256((const __m256i *)(blk + m * 16)),
                   _mm256_loadu_si256((const __m256i *)(lut + m * 16)));
        /* An odd last sub-code runs alone: a zero upper LUT adds nothing. */
        if (m < nsub)
            fs_add(&a, zext128(blk + m * 16), zext128(lut + m * 16));
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
RUV_INLINE __m256 fly(__m256 x, __m256 swapped, __m256 sign)
{
    return _mm256_fmadd_ps(x, sign, swapped);
}

/* Levels h = 1, 2, 4 of every 8-float group, in registers. */
static void fht_levels_1_2_4(float *x, size_t n)
{
    const __m256 s1 = _mm256_setr_ps(1, -1, 1, -1, 1, -1, 1, -1);
    const __m256 s2 = _mm256_setr_ps(1, 1, -1, -1, 1, 1, -1, -1);
    const __m256 s4 = _mm256_setr_ps(1, 1, 1, 1, -1, -1, -1, -1);
    for (size_t i = 0; i < n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        v = fly(v, _mm256_permute_ps(v, 0xB1), s1);
        v = fly(v, _mm256_permute_ps(v, 0x4E), s2);
        v = fly(v, _mm256_permute2f128_ps(v, v, 0x01), s4);
        _mm256_storeu_ps(x + i, v);
    }
}

/* Levels h and 2h in one pass over memory (h >= 8, 4h <= n). */
static void fht_radix4(float *x, size_t n, size_t h)
{
    for (size_t i = 0; i < n; i += 4 * h) {
        for (size_t j = i; j < i + h; j += 8) {
            __m256 a = _mm256_loadu_ps(x + j), b = _mm256_loadu_ps(x + j + h);
            __m256 c = _mm256_loadu_ps(x + j + 2 * h), d = _mm256_loadu_ps(x + j + 3 * h);
            __m256 ab = _mm256_add_ps(a, b), amb = _mm256_sub_ps(a, b);
            __m256 cd = _mm256_add_ps(c, d), cmd = _mm256_sub_ps(c, d);
            _mm256_storeu_ps(x + j, _mm256_add_ps(ab, cd));
            _mm256_storeu_ps(x + j + 2 * h, _mm256_sub_ps(ab, cd));
            _mm256_storeu_ps(x + j + h, _mm256_add_ps(amb, cmd));
            _mm256_storeu_ps(x + j + 3 * h, _mm256_sub_ps(amb, cmd));
        }
    }
}

/* One level h (h >= 8, 2h <= n). */
static void fht_radix2(float *x, size_t n, size_t h)
{
    for (size_t i = 0; i < n; i += 2 * h) {
        for (size_t j = i; j < i + h; j += 8) {
            __m256 a = _mm256_loadu_ps(x + j), b = _mm256_loadu_ps(x + j + h);
            _mm256_storeu_ps(x + j, _mm256_add_ps(a, b));
            _mm256_storeu_ps(x + j + h, _mm256_sub_ps(a, b));
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
    fht_levels_1_2_4(x, n);
    size_t h = 8;
    for (; 4 * h <= n; h *= 4)
        fht_radix4(x, n, h);
    if (h < n)
        fht_radix2(x, n, h);
}

/* ------------------------------------------------------------ table --- */

extern const struct ruv_kernel_ops ruv_avx2_ops;

/* Extended-RaBitQ extra bits against the float query: widen 8 bytes at a
 * time to floats and FMA; two chains hide the FMA latency. */
static float dot_u8_f32(const uint8_t *a, const float *b, size_t n)
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
static void dot_f16_1xN(const float *q, const uint16_t *base, size_t dim, size_t stride,
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

const struct ruv_kernel_ops ruv_avx2_ops = {
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
