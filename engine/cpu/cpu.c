/* ISA probe entry point and the one table of ISA names. The probe itself is
 * per architecture: cpuid + xgetbv on x86 (cpu_x86.c), getauxval on aarch64
 * (cpu_arm.c). Selection keys on these bits only, never on CPU models. */
#include "config.h"

#include <pthread.h>
#include <stddef.h>

#include <ruvector/cpu.h>

#include "base/util.h"
#include "cpu/isa.h"

#define RUV_ISA_TABLE(X)                                                       \
    X(POPCNT) X(AVX2) X(FMA) X(BMI2) X(F16C) X(AVX512F) X(AVX512BW) X(AVX512VL) \
    X(AVX512DQ) X(AVX512CD) X(AVX512VPOPCNTDQ) X(AVX512VNNI) X(AVX512VBMI)     \
    X(AVX512VBMI2) X(AVX512BITALG) X(AVX512FP16) X(AVX512BF16) X(AVXVNNI)      \
    X(SSE42) X(NEON) X(ASIMDDP) X(SVE) X(CRC32) X(TEST_IMPOSSIBLE)

static const struct {
    uint64_t bit;
    const char *name;
} isa_names[] = {
#define X(n) {RUV_ISA_##n, #n},
    RUV_ISA_TABLE(X)
#undef X
};

const char *ruv_isa_name(uint64_t bit)
{
    for (size_t i = 0; i < sizeof isa_names / sizeof isa_names[0]; i++)
        if (isa_names[i].bit == bit)
            return isa_names[i].name;
    return NULL;
}

uint64_t ruv_isa_known(void)
{
    uint64_t all = 0;
    for (size_t i = 0; i < sizeof isa_names / sizeof isa_names[0]; i++)
        all |= isa_names[i].bit;
    return all;
}

void ruv__isa_list(struct ruv__buf *b, uint64_t bits, const char *sep)
{
    int first = 1;
    for (size_t i = 0; i < sizeof isa_names / sizeof isa_names[0]; i++) {
        if (!(bits & isa_names[i].bit))
            continue;
        ruv__buf_printf(b, "%s%s", first ? "" : sep, isa_names[i].name);
        first = 0;
    }
    if (first)
        ruv__buf_printf(b, "(none)");
}

static uint64_t probed;
static pthread_once_t probe_once = PTHREAD_ONCE_INIT;

static void probe(void)
{
#if defined(__x86_64__) || defined(__i386__)
    probed = ruv__probe_isa_x86();
#elif defined(__aarch64__)
    probed = ruv__probe_isa_aarch64();
#else
    probed = 0;
#endif
}

uint64_t ruv_cpu_isa(void)
{
    pthread_once(&probe_once, probe);
    return probed;
}
