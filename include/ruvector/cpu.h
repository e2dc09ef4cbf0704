/* ruvector/cpu.h — instruction-set bits probed at run time. */
#ifndef RUVECTOR_CPU_H
#define RUVECTOR_CPU_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A bit is set only when the CPU has the feature AND the OS saves the state
 * it needs (XCR0 for AVX and AVX-512). Bits never change meaning. */
#define RUV_ISA_POPCNT          (UINT64_C(1) << 0)
#define RUV_ISA_AVX2            (UINT64_C(1) << 1)
#define RUV_ISA_FMA             (UINT64_C(1) << 2)
#define RUV_ISA_BMI2            (UINT64_C(1) << 3)
#define RUV_ISA_F16C            (UINT64_C(1) << 4)
#define RUV_ISA_AVX512F         (UINT64_C(1) << 5)
#define RUV_ISA_AVX512BW        (UINT64_C(1) << 6)
#define RUV_ISA_AVX512VL        (UINT64_C(1) << 7)
#define RUV_ISA_AVX512DQ        (UINT64_C(1) << 8)
#define RUV_ISA_AVX512CD        (UINT64_C(1) << 9)
#define RUV_ISA_AVX512VPOPCNTDQ (UINT64_C(1) << 10)
#define RUV_ISA_AVX512VNNI      (UINT64_C(1) << 11)
#define RUV_ISA_AVX512VBMI      (UINT64_C(1) << 12)
#define RUV_ISA_AVX512VBMI2     (UINT64_C(1) << 13)
#define RUV_ISA_AVX512BITALG    (UINT64_C(1) << 14)
#define RUV_ISA_AVX512FP16      (UINT64_C(1) << 15)
#define RUV_ISA_AVX512BF16      (UINT64_C(1) << 16)
#define RUV_ISA_AVXVNNI         (UINT64_C(1) << 17)
#define RUV_ISA_SSE42           (UINT64_C(1) << 18) /* SSE4.2 (crc32, pcmpistri) */
#define RUV_ISA_NEON            (UINT64_C(1) << 32) /* HWCAP_ASIMD */
#define RUV_ISA_ASIMDDP         (UINT64_C(1) << 33) /* HWCAP_ASIMDDP (sdot/udot) */
#define RUV_ISA_SVE             (UINT64_C(1) << 34) /* HWCAP_SVE */
#define RUV_ISA_CRC32           (UINT64_C(1) << 35) /* HWCAP_CRC32 (crc32b..crc32cx) */
#define RUV_ISA_TEST_IMPOSSIBLE (UINT64_C(1) << 63) /* never set: for tests of ineligible plugins */

/* The AArch64 bits above; every other named bit except TEST_IMPOSSIBLE is an
 * x86 one (for "missing" lists, which only make sense per architecture). */
#define RUV_ISA_AARCH64_BITS (RUV_ISA_NEON | RUV_ISA_ASIMDDP | RUV_ISA_SVE | RUV_ISA_CRC32)

/* ISA bits of the running CPU (probed once, cached; thread-safe). */
uint64_t ruv_cpu_isa(void);

/* Name of one bit, e.g. "AVX512VPOPCNTDQ"; NULL if the bit has no name. */
const char *ruv_isa_name(uint64_t bit);

/* Every bit this build knows a name for (the ones ruv_isa_name accepts). */
uint64_t ruv_isa_known(void);

#ifdef __cplusplus
}
#endif
#endif
