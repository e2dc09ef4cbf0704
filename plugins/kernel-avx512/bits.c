/* AVX-512 kernels on binary codes: XOR-popcount, bit-plane products,
 * popcount, FastScan, and whole multi-bit codes against an int16 query
 * (design notes: impl.h). */
#include "impl.h"

/* ------------------------------------------------------------- 1-bit --- */

/* The sum of the four 64-bit lanes, mod 2^64 (hsum_epi64 folds eight to four first). */
RUV_INLINE uint64_t hsum256_epi64(__m256i y)
{
    __m128i x = _mm_add_epi64(_mm256_castsi256_si128(y), _mm256_extracti128_si256(y, 1));
    x = _mm_add_epi64(x, _mm_unpackhi_epi64(x, x));
    return (uint64_t)_mm_cvtsi128_si64(x);
}

RUV_INLINE uint64_t hsum_epi64(__m512i v)
{
    return hsum256_epi64(
        _mm256_add_epi64(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1)));
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

void ruv__avx512_xor_popcnt_1xN(const uint64_t *q, const uint64_t *codes, size_t words, size_t n,
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

void ruv__avx512_bitplane_dot_1xN(const uint64_t *planes, unsigned nplanes, const uint64_t *codes,
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

uint64_t ruv__avx512_popcnt_u64(const uint64_t *x, size_t words)
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

void ruv__avx512_fastscan_u8(const uint8_t *codes, size_t nsub, size_t nblocks, const uint8_t *lut,
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

/* -------------------------------- whole codes against an int16 query --- */

/* 32 code bytes widened to words. SIMDe 0.7 has no _mm512_cvtepu8_epi16:
 * the emulated build goes through memory. */
#ifdef RUV_SIMDE
RUV_INLINE __m512i u8x32_to_epi16(const uint8_t *p)
{
    int16_t v[32];
    for (int i = 0; i < 32; i++)
        v[i] = p[i];
    return _mm512_loadu_si512(v);
}

#else
RUV_INLINE __m512i u8x32_to_epi16(const uint8_t *p)
{
    return _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)(const void *)p));
}

#endif

/* lo + hi, eight int32 sums (exact: see U8I16_BLOCK), added into four int64
 * lanes. Folding in 256-bit halves first keeps the per-call reduction off
 * Zen 4's slow 512-bit cross-lane widening: at D = 128, where a call is
 * mostly its reduction, the 512-bit widening put this plugin ~9 % behind
 * avx2. */
RUV_INLINE __m256i add_wide_halves(__m256i wide, __m256i lo, __m256i hi)
{
    const __m256i y = _mm256_add_epi32(lo, hi);
    wide = _mm256_add_epi64(wide, _mm256_cvtepi32_epi64(_mm256_castsi256_si128(y)));
    return _mm256_add_epi64(wide, _mm256_cvtepi32_epi64(_mm256_extracti128_si256(y, 1)));
}


/* Elements per int32 stretch: a word pair's product sum is within
 * 2 * 255 * 32768 = 16,711,680 in magnitude; one vpdpwssd over 32 elements
 * adds one pair to each int32 lane, so over 2,048 elements the lanes of both
 * accumulators together take 64 pairs, and the two 256-bit halves added
 * before widening 128: 128 * 16,711,680 = 2,139,095,040 < 2^31. (Four
 * accumulators measured no faster at D = 384 on Zen 4.) */
#define U8I16_BLOCK 2048u

/* VNNI's vpdpwssd multiplies word pairs and adds them into the int32
 * accumulator in one instruction (vpmaddwd + vpaddd without it). */
#define dpwssd(acc, u, q) _mm512_dpwssd_epi32((acc), (u), (q))

/* Extended RaBitQ's <u, q> with the integer query: 32 code bytes widen to
 * words (vpmovzxbw) and vpdpwssd multiplies them with the query and adds.
 * Only a last partial chunk of 32 goes through a zeroed copy of its bytes
 * (the query by masked load), so nothing past n is read. */
int64_t ruv__avx512_dot_u8_i16(const uint8_t *a, const int16_t *b, size_t n)
{
    __m256i wide = _mm256_setzero_si256();
    size_t i = 0;
    while (i < n) {
        const size_t end = n - i > U8I16_BLOCK ? i + U8I16_BLOCK : n;
        __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
        for (; i + 64 <= end; i += 64) {
            s0 = dpwssd(s0, u8x32_to_epi16(a + i), _mm512_loadu_si512(b + i));
            s1 = dpwssd(s1, u8x32_to_epi16(a + i + 32), _mm512_loadu_si512(b + i + 32));
        }
        if (i + 32 <= end) {
            s0 = dpwssd(s0, u8x32_to_epi16(a + i), _mm512_loadu_si512(b + i));
            i += 32;
        }
        if (i < end) {
            const size_t m = end - i;
            uint8_t tmp[32] = {0};
            for (size_t j = 0; j < m; j++)
                tmp[j] = a[i + j];
            s1 = dpwssd(s1, u8x32_to_epi16(tmp),
                        ruv_maskz_loadu_epi16((__mmask32)((1u << m) - 1u), b + i));
        }
        i = end;
        const __m512i s = _mm512_add_epi32(s0, s1);
        wide = add_wide_halves(wide, _mm512_castsi512_si256(s), _mm512_extracti64x4_epi64(s, 1));
    }
    return (int64_t)hsum256_epi64(wide); /* lanes add mod 2^64: exact */
}

/* One packed block (16 bytes, 32 elements: element j < 16 is byte j's low
 * nibble, element 16 + j its high nibble) as 32 words, in registers: the
 * bytes go to all four 128-bit lanes, one in-lane vpshufb spreads bytes
 * 0..7 / 8..15 / 0..7 / 8..15 to words, and one mask keeps the low nibble
 * in words 0..15 and the high nibble, in place (16 x its value), in words
 * 16..31. The int32 lanes 8..15 that sum those words are divided by 16
 * before they are widened (exact: every product in them is a multiple of
 * 16), which saves a shift per block; 16 x 15 = 240 <= 255, so the u8
 * form's overflow bound holds. (Session 11's form split the nibbles
 * through a buffer on the stack; the store-to-load forwarding stall made it
 * 6x slower than AVX2 on Zen 4.) */
RUV_INLINE __m512i u4x32_to_epi16(const uint8_t *p)
{
    const __m512i spread = _mm512_set_epi64(
        (long long)0xff0fff0eff0dff0cULL, (long long)0xff0bff0aff09ff08ULL,
        (long long)0xff07ff06ff05ff04ULL, (long long)0xff03ff02ff01ff00ULL,
        (long long)0xff0fff0eff0dff0cULL, (long long)0xff0bff0aff09ff08ULL,
        (long long)0xff07ff06ff05ff04ULL, (long long)0xff03ff02ff01ff00ULL);
    const __m512i nibble = _mm512_set_epi64(0x00f000f000f000f0LL, 0x00f000f000f000f0LL,
                                            0x00f000f000f000f0LL, 0x00f000f000f000f0LL,
                                            0x000f000f000f000fLL, 0x000f000f000f000fLL,
                                            0x000f000f000f000fLL, 0x000f000f000f000fLL);
    const __m512i v = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(const void *)p));
    return _mm512_and_si512(_mm512_shuffle_epi8(v, spread), nibble);
}

/* The packed form (n a multiple of 32): one block per vpdpwssd, two
 * accumulators. */
int64_t ruv__avx512_dot_u4_i16(const uint8_t *a, const int16_t *b, size_t n)
{
    __m256i wide = _mm256_setzero_si256();
    size_t i = 0; /* elements */
    while (i < n) {
        const size_t end = n - i > U8I16_BLOCK ? i + U8I16_BLOCK : n;
        __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
        for (; i + 64 <= end; i += 64) {
            s0 = dpwssd(s0, u4x32_to_epi16(a + i / 2), _mm512_loadu_si512(b + i));
            s1 = dpwssd(s1, u4x32_to_epi16(a + i / 2 + 16), _mm512_loadu_si512(b + i + 32));
        }
        if (i + 32 <= end)
            s0 = dpwssd(s0, u4x32_to_epi16(a + i / 2), _mm512_loadu_si512(b + i));
        i = end;
        /* lanes 8..15 (the upper 256 bits) hold 16 x their sums, exactly */
        const __m512i s = _mm512_add_epi32(s0, s1);
        wide = add_wide_halves(wide, _mm512_castsi512_si256(s),
                               _mm256_srai_epi32(_mm512_extracti64x4_epi64(s, 1), 4));
    }
    return (int64_t)hsum256_epi64(wide); /* lanes add mod 2^64: exact */
}
