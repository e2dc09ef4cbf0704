/* Engine-private: the kernels the engine knows by name, the slots of a
 * kernel table, and the built-in scalar kernels (the reference every plugin
 * is checked against and the fill for slots a plugin leaves empty). */
#ifndef RUV_ENGINE_PLUGIN_KERNELS_H
#define RUV_ENGINE_PLUGIN_KERNELS_H

#include <stdint.h>

#include <ruvector/kernel.h>
#include <ruvector/kernel_isa.h>

#include "base/util.h"

/* ---- the built-in kernel (kernel_scalar.c) ---- */
extern const struct ruv_kernel_ops ruv__kernel_scalar_ops;

/* ---- kernel names: one table for discovery, forcing and messages. The ISA
 * column is the plugins' own requires_isa (ruvector/kernel_isa.h): it words
 * messages when a kernel's file is missing, while a loaded plugin's
 * descriptor is what eligibility checks. ---- */
#define RUV_KERNEL_NAMES(X)            \
    X(scalar, RUV_KERNEL_ISA_SCALAR)   \
    X(avx2, RUV_KERNEL_ISA_AVX2)       \
    X(avx512, RUV_KERNEL_ISA_AVX512)   \
    X(neon, RUV_KERNEL_ISA_NEON)

/* Every slot of struct ruv_kernel_ops, in order (fills the effective table;
 * kernel_names.c checks the list against the struct at compile time). */
#define RUV_KERNEL_SLOTS(X)                                                      \
    X(dot_f32) X(l2sq_f32) X(cos_f32) X(dot_f32_1xN) X(l2sq_f32_1xN)             \
    X(l2sq_f32_1xN_below) X(xor_popcnt_1xN) X(bitplane_dot_1xN) X(popcnt_u64)    \
    X(fastscan_u8) X(fht_f32) X(dot_u8_f32) X(dot_f16_1xN) X(dot_f32_1xN_above) \
    X(dot_u8_i16) X(dot_u4_i16)

/* Slot indices in table order, and their names ("dot_f32"). */
enum {
#define X(slot) RUV__SLOT_##slot,
    RUV_KERNEL_SLOTS(X)
#undef X
    RUV__SLOT_COUNT
};
extern const char *const ruv__kernel_slot_names[RUV__SLOT_COUNT];

/* Any slot, as a generic function pointer (compared and copied, never
 * called through this type). */
typedef void (*ruv__slot_fn)(void);
/* Slot i of ops, or NULL when ops leaves it empty or its struct_size ends
 * before it. */
ruv__slot_fn ruv__kernel_slot_get(const struct ruv_kernel_ops *ops, size_t i);
/* Puts fn in slot i of a full-size table. */
void ruv__kernel_slot_set(struct ruv_kernel_ops *ops, size_t i, ruv__slot_fn fn);

/* kernel_names.c. Required ISA of a known kernel name (for messages when its
 * file is missing). */
uint64_t ruv__known_kernel_isa(const char *name);
int ruv__is_known_kernel(const char *name);
/* Appends the known names, comma-separated. */
void ruv__known_kernel_list(struct ruv__buf *b);

#endif
