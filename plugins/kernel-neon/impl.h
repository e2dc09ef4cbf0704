/* The NEON plugin's kernels defined outside impl.c (whose table,
 * ruv_neon_ops, collects them): codes.c's, over quantised codes.
 * Contracts: include/ruvector/kernel.h. */
#ifndef RUV_PLUGINS_KERNEL_NEON_IMPL_H
#define RUV_PLUGINS_KERNEL_NEON_IMPL_H

#include <stddef.h>
#include <stdint.h>

void ruv__neon_xor_popcnt_1xN(const uint64_t *q, const uint64_t *codes, size_t words, size_t n,
                              uint32_t *out);
void ruv__neon_bitplane_dot_1xN(const uint64_t *planes, unsigned nplanes, const uint64_t *codes,
                                size_t words, size_t n, uint32_t *out);
uint64_t ruv__neon_popcnt_u64(const uint64_t *x, size_t words);
void ruv__neon_fastscan_u8(const uint8_t *codes, size_t nsub, size_t nblocks, const uint8_t *lut,
                           uint16_t *out);
float ruv__neon_dot_u8_f32(const uint8_t *a, const float *b, size_t n);
int64_t ruv__neon_dot_u8_i16(const uint8_t *a, const int16_t *b, size_t n);
int64_t ruv__neon_dot_u4_i16(const uint8_t *a, const int16_t *b, size_t n);

#endif
