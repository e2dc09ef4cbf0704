/* Runs the loader's conformance check on the AVX-512 kernels compiled
 * against SIMDe, so they are verified on CPUs without AVX-512. The build
 * still uses native AVX2/FMA/POPCNT/F16C underneath SIMDe, so CPUs without those
 * skip (exit 77) instead of dying on an illegal instruction. */
#include <stdio.h>

#include "plugin/conform.h"

extern const struct ruv_kernel_ops ruv_avx512_ops;
extern const struct ruv_kernel_ops ruv__kernel_scalar_ops;

int main(void)
{
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma") ||
        !__builtin_cpu_supports("popcnt") || !__builtin_cpu_supports("f16c")) {
        printf("SKIP: avx512 (SIMDe-emulated): the emulation build needs AVX2, FMA, POPCNT and "
               "F16C\n");
        return 77;
    }
    char why[512];
    if (ruv__conform_check(&ruv_avx512_ops, &ruv__kernel_scalar_ops, why, sizeof why) != 0) {
        printf("FAIL: avx512 (SIMDe-emulated): %s\n", why);
        return 1;
    }
    printf("PASS: avx512 (SIMDe-emulated): %u slots checked\n", ruv__conform_slots_checked());
    return 0;
}
