/* x86 ISA probe: cpuid for what the CPU has, xgetbv(XCR0) for what the OS
 * saves on context switch. AVX and AVX-512 bits count only when the OS saves
 * their register state, or the first ymm/zmm instruction would fault. */
#include "config.h"

#include <ruvector/cpu.h>

#include "cpu/isa.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static uint64_t xgetbv0(void)
{
    uint32_t eax, edx;
    /* xgetbv as raw bytes: no -mxsave needed on this (baseline) file */
    __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

uint64_t ruv__probe_isa_x86(void)
{
    unsigned a, b, c, d, max_leaf;
    uint64_t isa = 0;
    if (!__get_cpuid(0, &max_leaf, &b, &c, &d))
        return 0;
    __cpuid(1, a, b, c, d);
    unsigned ecx1 = c;
    if (ecx1 & (1u << 23))
        isa |= RUV_ISA_POPCNT;
    if (ecx1 & (1u << 20))
        isa |= RUV_ISA_SSE42; /* SSE state is always enabled on x86-64 */
    int osxsave = (ecx1 >> 27) & 1;
    uint64_t xcr0 = osxsave ? xgetbv0() : 0;
    int avx_state = (xcr0 & 0x6) == 0x6;        /* SSE + AVX (ymm) state */
    int avx512_state = (xcr0 & 0xe6) == 0xe6;   /* + opmask, zmm0-15 upper, zmm16-31 */
    int avx = avx_state && (ecx1 & (1u << 28));
    if (avx && (ecx1 & (1u << 12)))
        isa |= RUV_ISA_FMA;
    if (avx && (ecx1 & (1u << 29)))
        isa |= RUV_ISA_F16C;
    if (max_leaf < 7)
        return isa;
    unsigned eax7, ebx7, ecx7, edx7;
    __cpuid_count(7, 0, eax7, ebx7, ecx7, edx7);
    if (ebx7 & (1u << 8))
        isa |= RUV_ISA_BMI2;
    if (avx && (ebx7 & (1u << 5)))
        isa |= RUV_ISA_AVX2;
    if (avx && eax7 >= 1) {
        unsigned a1, b1, c1, d1;
        __cpuid_count(7, 1, a1, b1, c1, d1);
        if (a1 & (1u << 4))
            isa |= RUV_ISA_AVXVNNI;
        if (avx512_state && (a1 & (1u << 5)) && (ebx7 & (1u << 16)))
            isa |= RUV_ISA_AVX512BF16;
    }
    if (!avx || !avx512_state || !(ebx7 & (1u << 16)))
        return isa;
    isa |= RUV_ISA_AVX512F;
    if (ebx7 & (1u << 17)) isa |= RUV_ISA_AVX512DQ;
    if (ebx7 & (1u << 28)) isa |= RUV_ISA_AVX512CD;
    if (ebx7 & (1u << 30)) isa |= RUV_ISA_AVX512BW;
    if (ebx7 & (1u << 31)) isa |= RUV_ISA_AVX512VL;
    if (ecx7 & (1u << 1)) isa |= RUV_ISA_AVX512VBMI;
    if (ecx7 & (1u << 6)) isa |= RUV_ISA_AVX512VBMI2;
    if (ecx7 & (1u << 11)) isa |= RUV_ISA_AVX512VNNI;
    if (ecx7 & (1u << 12)) isa |= RUV_ISA_AVX512BITALG;
    if (ecx7 & (1u << 14)) isa |= RUV_ISA_AVX512VPOPCNTDQ;
    if (edx7 & (1u << 23)) isa |= RUV_ISA_AVX512FP16;
    return isa;
}
#else
typedef int ruv__cpu_x86_unused;
#endif
