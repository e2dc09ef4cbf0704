/* Kernel conformance check: compares a kernel table against exact (double)
 * results and the scalar reference. Depends only on <ruvector/kernel.h> and
 * libc/libm, so the cross-compiled NEON test and the emulated AVX-512 test
 * link the very same checks the loader runs. */
#ifndef RUV_ENGINE_CONFORM_H
#define RUV_ENGINE_CONFORM_H

#include <stddef.h>
#include <ruvector/kernel.h>

/* Runs every non-NULL slot of ops that lies within ops->struct_size at the
 * sizes 0, 1, 7, 8, 9, 31, 33, 1000 (and others per slot), from pointers one
 * element past a 64-byte boundary. Float slots must be within
 * (m + 2) * FLT_EPSILON * sum|terms| of the exact result; integer slots must
 * equal ref's. Returns 0 when all pass; otherwise -1 and a message naming
 * the slot, the size and the values in why. */
int ruv__conform_check(const struct ruv_kernel_ops *ops, const struct ruv_kernel_ops *ref,
                       char *why, size_t whylen);

/* Number of slots checked by the last passing call on this thread (for tests
 * that must prove a slot was actually exercised). */
unsigned ruv__conform_slots_checked(void);

#endif
