/* Engine-private: the kernels the engine knows by name, the slots of a
 * kernel table, and the built-in scalar kernels (the reference every plugin
 * is checked against and the fill for slots a plugin leaves empty). */
#ifndef RUV_ENGINE_PLUGIN_KERNELS_H
#define RUV_ENGINE_PLUGIN_KERNELS_H

#include <stdint.h>

#include <ruvector/cpu.h>
#include <ruvector/kernel.h>

#include "base/util.h"

/* ---- the built-in kernel (kernel_scalar.c) ---- */
extern const struct ruv_kernel_ops ruv__kernel_scalar_ops;

/* ---- kernel names: one table for discovery, forcing and messages. The ISA
 * column only words messages when a kernel's file is missing; a loaded
 * plugin's own descriptor is what eligibility checks. ---- */
#define RUV_ISA_AVX512_KERNEL                                                     \
    (RUV_ISA_AVX512F | RUV_ISA_AVX512BW | RUV_ISA_AVX512VL | RUV_ISA_AVX512DQ |   \
     RUV_ISA_AVX512VPOPCNTDQ | RUV_ISA_AVX2 | RUV_ISA_FMA | RUV_ISA_POPCNT)
#define RUV_KERNEL_NAMES(X)                                   \
    X(scalar, 0)                                              \
    X(avx2, RUV_ISA_AVX2 | RUV_ISA_FMA | RUV_ISA_POPCNT)      \
    X(avx512, RUV_ISA_AVX512_KERNEL)                          \
    X(neon, RUV_ISA_NEON)

/* Every slot of struct ruv_kernel_ops, in order (fills the effective table). */
#define RUV_KERNEL_SLOTS(X)                                                      \
    X(dot_f32) X(l2sq_f32) X(cos_f32) X(dot_f32_1xN) X(l2sq_f32_1xN)             \
    X(l2sq_f32_1xN_below) X(xor_popcnt_1xN) X(bitplane_dot_1xN) X(popcnt_u64)    \
    X(fastscan_u8) X(fht_f32) X(dot_u8_f32) X(dot_f16_1xN)

/* Required ISA of a known kernel name (for messages when its file is missing). */
uint64_t ruv__known_kernel_isa(const char *name);
int ruv__is_known_kernel(const char *name);
/* Appends the known names, comma-separated. */
void ruv__known_kernel_list(struct ruv__buf *b);

#endif
