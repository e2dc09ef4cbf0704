/* AVX2 + FMA + POPCNT (+ F16C) kernels: f32.c, bits.c, fht.c and their
 * table in ops.c. Only these files are built with -mavx2 -mfma -mpopcnt
 * -mf16c (plugin.c, the descriptor, is not); the engine reaches them through
 * ruv_avx2_ops after it has checked the CPU, so nothing here may run at load
 * time.
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
#ifndef RUV_PLUGIN_AVX2_IMPL_H
#define RUV_PLUGIN_AVX2_IMPL_H

#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#include <ruvector/kernel.h>

#define RUV_INLINE static inline __attribute__((always_inline))

/* The kernel slots (ops.c puts them in the table). */
float ruv__avx2_dot_f32(const float *a, const float *b, size_t n);
float ruv__avx2_l2sq_f32(const float *a, const float *b, size_t n);
float ruv__avx2_cos_f32(const float *a, const float *b, size_t n);
void ruv__avx2_dot_f32_1xN(const float *q, const float *base, size_t dim, size_t stride, size_t n,
                           float *out);
void ruv__avx2_l2sq_f32_1xN(const float *q, const float *base, size_t dim, size_t stride, size_t n,
                            float *out);
size_t ruv__avx2_l2sq_f32_1xN_below(const float *q, const float *base, size_t dim, size_t stride,
                                    size_t n, float threshold, uint32_t *idx_out, float *dist_out);
size_t ruv__avx2_dot_f32_1xN_above(const float *q, const float *base, size_t dim, size_t stride,
                                size_t n, float threshold, uint32_t *idx_out, float *dot_out);
void ruv__avx2_xor_popcnt_1xN(const uint64_t *q, const uint64_t *codes, size_t words, size_t n,
                              uint32_t *out);
void ruv__avx2_bitplane_dot_1xN(const uint64_t *planes, unsigned nplanes, const uint64_t *codes,
                                size_t words, size_t n, uint32_t *out);
uint64_t ruv__avx2_popcnt_u64(const uint64_t *x, size_t words);
void ruv__avx2_fastscan_u8(const uint8_t *codes, size_t nsub, size_t nblocks, const uint8_t *lut,
                           uint16_t *out);
void ruv__avx2_fht_f32(float *x, size_t n);
float ruv__avx2_dot_u8_f32(const uint8_t *a, const float *b, size_t n);
void ruv__avx2_dot_f16_1xN(const float *q, const uint16_t *base, size_t dim, size_t stride,
                           size_t n, float *out);
int64_t ruv__avx2_dot_u8_i16(const uint8_t *a, const int16_t *b, size_t n);
int64_t ruv__avx2_dot_u4_i16(const uint8_t *a, const int16_t *b, size_t n);

#endif
