/* The avx512 kernel table (the descriptor in plugin.c points at it). */
#include <ruvector/kernel.h>

#include "impl.h"

const struct ruv_kernel_ops ruv_avx512_ops = {
    .struct_size = sizeof(struct ruv_kernel_ops),
    .reserved = 0,
    .dot_f32 = ruv__avx512_dot_f32,
    .l2sq_f32 = ruv__avx512_l2sq_f32,
    .cos_f32 = ruv__avx512_cos_f32,
    .dot_f32_1xN = ruv__avx512_dot_f32_1xN,
    .l2sq_f32_1xN = ruv__avx512_l2sq_f32_1xN,
    .l2sq_f32_1xN_below = ruv__avx512_l2sq_f32_1xN_below,
    .xor_popcnt_1xN = ruv__avx512_xor_popcnt_1xN,
    .bitplane_dot_1xN = ruv__avx512_bitplane_dot_1xN,
    .popcnt_u64 = ruv__avx512_popcnt_u64,
    .fastscan_u8 = ruv__avx512_fastscan_u8,
    .fht_f32 = ruv__avx512_fht_f32,
    .dot_u8_f32 = ruv__avx512_dot_u8_f32,
    .dot_f16_1xN = ruv__avx512_dot_f16_1xN,
    .dot_f32_1xN_above = ruv__avx512_dot_f32_1xN_above,
    .dot_u8_i16 = ruv__avx512_dot_u8_i16,
    .dot_u4_i16 = ruv__avx512_dot_u4_i16,
};
