/* AVX2 kernels on binary codes: XOR-popcount, bit-plane products, popcount,
 * FastScan, and whole multi-bit codes against an int16 query (design notes:
 * impl.h). */
#include "impl.h"

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

void ruv__avx2_xor_popcnt_1xN(const uint64_t *q, const uint64_t *codes, size_t words, size_t n,
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

void ruv__avx2_bitplane_dot_1xN(const uint64_t *planes, unsigned nplanes, const uint64_t *codes,
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

uint64_t ruv__avx2_popcnt_u64(const uint64_t *x, size_t words)
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

void ruv__avx2_fastscan_u8(const uint8_t *codes, size_t nsub, size_t nblocks, const uint8_t *lut,
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

/* -------------------------------- whole codes against an int16 query --- */

/* Elements per int32 stretch: a vpmaddwd pair is within 2 * 255 * 32768 =
 * 16,711,680 in magnitude, and over 2,048 elements each lane of the two
 * accumulators takes at most 64 pairs, so their sum stays within
 * 128 * 16,711,680 = 2,139,095,040 < 2^31 before it is widened to int64. */
#define U8I16_BLOCK 2048u

/* Extended RaBitQ's <u, q> with the integer query: 16 code bytes widen to
 * words (vpmovzxbw, 0..255 is a valid int16) and vpmaddwd multiplies and
 * pairs them with the query in one instruction: 3 instructions per 16
 * elements where the float form (u8 -> i32 -> f32, FMA) takes 7. */
int64_t ruv__avx2_dot_u8_i16(const uint8_t *a, const int16_t *b, size_t n)
{
    __m256i wide = _mm256_setzero_si256();
    size_t i = 0;
    while (n - i >= 16) {
        const size_t end = n - i > U8I16_BLOCK ? i + U8I16_BLOCK : n;
        __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
        for (; i + 32 <= end; i += 32) {
            __m256i u0 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(a + i)));
            __m256i u1 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(a + i + 16)));
            s0 = _mm256_add_epi32(
                s0, _mm256_madd_epi16(u0, _mm256_loadu_si256((const __m256i *)(b + i))));
            s1 = _mm256_add_epi32(
                s1, _mm256_madd_epi16(u1, _mm256_loadu_si256((const __m256i *)(b + i + 16))));
        }
        if (i + 16 <= end) {
            __m256i u0 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(a + i)));
            s0 = _mm256_add_epi32(
                s0, _mm256_madd_epi16(u0, _mm256_loadu_si256((const __m256i *)(b + i))));
            i += 16;
        }
        __m256i s = _mm256_add_epi32(s0, s1);
        wide = _mm256_add_epi64(wide, _mm256_cvtepi32_epi64(_mm256_castsi256_si128(s)));
        wide = _mm256_add_epi64(wide, _mm256_cvtepi32_epi64(_mm256_extracti128_si256(s, 1)));
    }
    __m128i w = _mm_add_epi64(_mm256_castsi256_si128(wide), _mm256_extracti128_si256(wide, 1));
    int64_t sum = _mm_cvtsi128_si64(w) + _mm_extract_epi64(w, 1);
    for (; i < n; i++)
        sum += (int32_t)a[i] * (int32_t)b[i];
    return sum;
}

/* The packed form: a block of 32 elements is 16 bytes. The block goes to
 * both 128-bit lanes (vbroadcasti128) and one in-lane vpshufb spreads
 * bytes 0..7 (lane 0) and 8..15 (lane 1) to words, so the words are
 * bytes 0..15 in order; their low nibbles are elements 0..15 and, shifted,
 * their high nibbles elements 16..31. No cross-lane shuffle per element:
 * half the bytes of dot_u8_i16 for two more instructions a block (the
 * whole-code look waits on memory, not on arithmetic). A pair is within
 * 2 * 15 * 32768, far inside the same stretches. */
int64_t ruv__avx2_dot_u4_i16(const uint8_t *a, const int16_t *b, size_t n)
{
    const __m256i spread = _mm256_setr_epi8(0, -1, 1, -1, 2, -1, 3, -1, 4, -1, 5, -1, 6, -1, 7, -1,
                                            8, -1, 9, -1, 10, -1, 11, -1, 12, -1, 13, -1, 14, -1,
                                            15, -1);
    const __m256i low = _mm256_set1_epi16(0x0f);
    __m256i wide = _mm256_setzero_si256();
    size_t i = 0; /* elements */
    while (i < n) {
        const size_t end = n - i > U8I16_BLOCK ? i + U8I16_BLOCK : n;
        __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
        for (; i + 32 <= end; i += 32) {
            __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(a + i / 2)));
            __m256i w = _mm256_shuffle_epi8(v, spread);
            s0 = _mm256_add_epi32(
                s0, _mm256_madd_epi16(_mm256_and_si256(w, low),
                                      _mm256_loadu_si256((const __m256i *)(b + i))));
            s1 = _mm256_add_epi32(
                s1, _mm256_madd_epi16(_mm256_srli_epi16(w, 4),
                                      _mm256_loadu_si256((const __m256i *)(b + i + 16))));
        }
        i = end;
        __m256i s = _mm256_add_epi32(s0, s1);
        wide = _mm256_add_epi64(wide, _mm256_cvtepi32_epi64(_mm256_castsi256_si128(s)));
        wide = _mm256_add_epi64(wide, _mm256_cvtepi32_epi64(_mm256_extracti128_si256(s, 1)));
    }
    __m128i w = _mm_add_epi64(_mm256_castsi256_si128(wide), _mm256_extracti128_si256(wide, 1));
    return _mm_cvtsi128_si64(w) + _mm_extract_epi64(w, 1);
}
