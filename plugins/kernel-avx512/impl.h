/* AVX-512 (F, BW, VL, DQ, VPOPCNTDQ, VNNI) kernels: f32.c, bits.c, fht.c and
 * their table in ops.c. Only these files are built with the -mavx512* flags
 * (plugin.c, the descriptor, is not); the engine reaches them through
 * ruv_avx512_ops after it has checked the CPU.
 *
 * With RUV_SIMDE defined the same sources build against SIMDe's portable
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
#ifndef RUV_PLUGIN_AVX512_IMPL_H
#define RUV_PLUGIN_AVX512_IMPL_H

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

RUV_INLINE __m512i ruv_maskz_loadu_epi16(__mmask32 k, const int16_t *p)
{
    int16_t v[32];
    for (int i = 0; i < 32; i++)
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

/* SIMDe 0.7's native alias of _mm512_madd_epi16 takes four arguments (a
 * copy of the masked form's); the function itself is right. */
#define ruv_madd_epi16(a, b) simde_mm512_madd_epi16((a), (b))
#else
#define ruv_madd_epi16(a, b) _mm512_madd_epi16((a), (b))
#define ruv_maskz_loadu_ps(k, p) _mm512_maskz_loadu_ps((k), (p))
#define ruv_maskz_loadu_epi64(k, p) _mm512_maskz_loadu_epi64((k), (p))
#define ruv_maskz_loadu_epi8(k, p) _mm512_maskz_loadu_epi8((k), (p))
#define ruv_maskz_loadu_epi16(k, p) _mm512_maskz_loadu_epi16((k), (p))
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

/* The kernel slots (ops.c puts them in the table). */
float ruv__avx512_dot_f32(const float *a, const float *b, size_t n);
float ruv__avx512_l2sq_f32(const float *a, const float *b, size_t n);
float ruv__avx512_cos_f32(const float *a, const float *b, size_t n);
void ruv__avx512_dot_f32_1xN(const float *q, const float *base, size_t dim, size_t stride, size_t n,
                             float *out);
void ruv__avx512_l2sq_f32_1xN(const float *q, const float *base, size_t dim, size_t stride,
                              size_t n, float *out);
size_t ruv__avx512_l2sq_f32_1xN_below(const float *q, const float *base, size_t dim, size_t stride,
                                      size_t n, float threshold, uint32_t *idx_out,
                                      float *dist_out);
size_t ruv__avx512_dot_f32_1xN_above(const float *q, const float *base, size_t dim, size_t stride,
                                  size_t n, float threshold, uint32_t *idx_out, float *dot_out);
void ruv__avx512_xor_popcnt_1xN(const uint64_t *q, const uint64_t *codes, size_t words, size_t n,
                                uint32_t *out);
void ruv__avx512_bitplane_dot_1xN(const uint64_t *planes, unsigned nplanes, const uint64_t *codes,
                                  size_t words, size_t n, uint32_t *out);
uint64_t ruv__avx512_popcnt_u64(const uint64_t *x, size_t words);
void ruv__avx512_fastscan_u8(const uint8_t *codes, size_t nsub, size_t nblocks, const uint8_t *lut,
                             uint16_t *out);
void ruv__avx512_fht_f32(float *x, size_t n);
float ruv__avx512_dot_u8_f32(const uint8_t *a, const float *b, size_t n);
void ruv__avx512_dot_f16_1xN(const float *q, const uint16_t *base, size_t dim, size_t stride,
                             size_t n, float *out);
int64_t ruv__avx512_dot_u8_i16(const uint8_t *a, const int16_t *b, size_t n);
int64_t ruv__avx512_dot_u4_i16(const uint8_t *a, const int16_t *b, size_t n);

#endif
