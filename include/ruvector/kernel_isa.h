/* ruvector/kernel_isa.h — the instruction sets each kernel plugin shipped
 * with ruvector requires.
 *
 * One definition for both sides: the plugins' descriptors declare these as
 * their requires_isa (what the engine checks before a kernel may run), and
 * the engine uses the same values to word its message when a forced
 * kernel's file is missing. A third-party kernel declares its own
 * requires_isa and does not need this header. */
#ifndef RUVECTOR_KERNEL_ISA_H
#define RUVECTOR_KERNEL_ISA_H

#include <stdint.h>

#include <ruvector/cpu.h>

/* The scalar reference, built into the engine: runs everywhere. */
#define RUV_KERNEL_ISA_SCALAR UINT64_C(0)
/* plugins/kernel-avx2: AVX2 + FMA loops, POPCNT, F16C for the binary16 probe. */
#define RUV_KERNEL_ISA_AVX2 (RUV_ISA_AVX2 | RUV_ISA_FMA | RUV_ISA_POPCNT | RUV_ISA_F16C)
/* plugins/kernel-avx512: AVX-512 F/BW/VL/DQ/VPOPCNTDQ/VNNI, and the
 * AVX2-era instructions its code also uses. Every CPU with VPOPCNTDQ and BW
 * (Ice Lake and later, Zen 4 and later) also has VNNI. */
#define RUV_KERNEL_ISA_AVX512                                                   \
    (RUV_ISA_AVX512F | RUV_ISA_AVX512BW | RUV_ISA_AVX512VL | RUV_ISA_AVX512DQ | \
     RUV_ISA_AVX512VPOPCNTDQ | RUV_ISA_AVX512VNNI | RUV_ISA_AVX2 | RUV_ISA_FMA |  \
     RUV_ISA_POPCNT | RUV_ISA_F16C)
/* plugins/kernel-neon: Advanced SIMD (part of every AArch64 CPU). */
#define RUV_KERNEL_ISA_NEON RUV_ISA_NEON

#endif
