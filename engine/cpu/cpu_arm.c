/* AArch64 ISA probe: HWCAP bits from the kernel's auxiliary vector, mapped to
 * RUV_ISA_* bits. The kernel sets a HWCAP bit only when it also enables the
 * state (e.g. SVE), so no separate OS check is needed as on x86 (XCR0). */
#if defined(__aarch64__)

#include <stdint.h>

#include <ruvector/cpu.h>

#include "cpu/isa.h"

#if defined(__linux__)
#include <sys/auxv.h>
#include <asm/hwcap.h>
/* Values from the Linux UAPI, for header sets that predate them. */
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1UL << 1)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20)
#endif
#ifndef HWCAP_SVE
#define HWCAP_SVE (1UL << 22)
#endif
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1UL << 7)
#endif
#endif

uint64_t ruv__probe_isa_aarch64(void)
{
#if defined(__linux__)
    unsigned long hw = getauxval(AT_HWCAP);
    uint64_t isa = 0;
    if (hw & HWCAP_ASIMD)
        isa |= RUV_ISA_NEON;
    if (hw & HWCAP_ASIMDDP)
        isa |= RUV_ISA_ASIMDDP;
    if (hw & HWCAP_SVE)
        isa |= RUV_ISA_SVE;
    if (hw & HWCAP_CRC32)
        isa |= RUV_ISA_CRC32;
    return isa;
#else
    /* No portable probe elsewhere; AdvSIMD is mandatory in the AArch64
     * procedure-call standard, so it is the one bit we can claim safely. */
    return RUV_ISA_NEON;
#endif
}

#else
/* Other architectures: nothing to probe; keeps the translation unit non-empty. */
typedef int ruv__cpu_arm_unused;
#endif
