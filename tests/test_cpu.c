/* CPU probe: agrees with what CPUID and XGETBV report in this process (read
 * here independently of the engine), and with the kernel's view
 * (/proc/cpuinfo flags, which Linux clears when the OS does not enable a
 * state); names every bit, and gives a sane topology (tests/test_topo.c
 * covers where the topology comes from).
 *
 * Under valgrind the two views differ by design: valgrind's synthetic CPU
 * hides AVX-512 from CPUID. There a flag may be missing from the probe only
 * if this process's CPUID hides it too; a bit the probe sets that the kernel
 * does not list is always an error. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define HAVE_VALGRIND_H 1
#endif
#endif
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include <ruvector/ruvector.h>

/* 1 if the first "flags"/"Features" line of /proc/cpuinfo lists word; -1 if
 * the file is unreadable. */
static int cpuinfo_has(const char *word)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return -1;
    char line[8192];
    int found = 0, seen = 0;
    while (!seen && fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5) && strncmp(line, "Features", 8))
            continue;
        seen = 1;
        char *save = NULL;
        for (char *t = strtok_r(strchr(line, ':') + 1, " \t\n", &save); t;
             t = strtok_r(NULL, " \t\n", &save))
            if (!strcmp(t, word))
                found = 1;
    }
    fclose(f);
    return seen ? found : -1;
}

#if defined(__x86_64__)
/* 1 when this process runs on valgrind's synthetic CPU. */
static int on_valgrind(void)
{
#ifdef HAVE_VALGRIND_H
    return RUNNING_ON_VALGRIND != 0;
#else
    /* Without the client-request header: valgrind preloads its vgpreload_*.so */
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int found = 0;
    while (f && !found && fgets(line, sizeof line, f))
        found = strstr(line, "vgpreload") != NULL;
    if (f)
        fclose(f);
    return found;
#endif
}

/* Where a flag lives in CPUID, and which XCR0 state bits it needs: an
 * oracle written apart from engine/cpu_x86.c. */
struct cpuid_flag {
    uint64_t bit;
    const char *flag;
    unsigned leaf, subleaf, reg, pos; /* reg: 0 eax, 1 ebx, 2 ecx, 3 edx */
    uint64_t xcr0;                    /* state bits the OS must enable */
};

static const struct cpuid_flag x86_flags[] = {
    {RUV_ISA_POPCNT, "popcnt", 1, 0, 2, 23, 0},
    {RUV_ISA_SSE42, "sse4_2", 1, 0, 2, 20, 0},
    {RUV_ISA_FMA, "fma", 1, 0, 2, 12, 0x6},
    {RUV_ISA_AVX2, "avx2", 7, 0, 1, 5, 0x6},
    {RUV_ISA_BMI2, "bmi2", 7, 0, 1, 8, 0},
    {RUV_ISA_AVX512F, "avx512f", 7, 0, 1, 16, 0xe6},
    {RUV_ISA_AVX512DQ, "avx512dq", 7, 0, 1, 17, 0xe6},
    {RUV_ISA_AVX512BW, "avx512bw", 7, 0, 1, 30, 0xe6},
    {RUV_ISA_AVX512VL, "avx512vl", 7, 0, 1, 31, 0xe6},
    {RUV_ISA_AVX512VBMI, "avx512vbmi", 7, 0, 2, 1, 0xe6},
    {RUV_ISA_AVX512VNNI, "avx512_vnni", 7, 0, 2, 11, 0xe6},
    {RUV_ISA_AVX512VPOPCNTDQ, "avx512_vpopcntdq", 7, 0, 2, 14, 0xe6},
};

/* 1 if CPUID in this process reports the flag and XCR0 enables its state. */
static int cpuid_has(const struct cpuid_flag *f)
{
    unsigned r[4], max_leaf = __get_cpuid_max(0, NULL);
    if (f->leaf > max_leaf)
        return 0;
    __cpuid_count(f->leaf, f->subleaf, r[0], r[1], r[2], r[3]);
    if (!((r[f->reg] >> f->pos) & 1))
        return 0;
    if (!f->xcr0)
        return 1;
    unsigned a, b, c, d;
    __cpuid(1, a, b, c, d);
    if (!((c >> 27) & 1) || !((c >> 28) & 1)) /* OSXSAVE, AVX */
        return 0;
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    uint64_t xcr0 = ((uint64_t)hi << 32) | lo;
    (void)a, (void)b, (void)d;
    return (xcr0 & f->xcr0) == f->xcr0;
}

static void check_flag(const struct cpuid_flag *f, int valgrind)
{
    int ours = (ruv_cpu_isa() & f->bit) != 0;
    int cpuid = cpuid_has(f);
    if (ours != cpuid)
        fail_msg("ISA bit %s is %d but CPUID in this process says %d", ruv_isa_name(f->bit),
                 ours, cpuid);
    int has = cpuinfo_has(f->flag);
    if (has < 0 || has == ours)
        return;
    if (valgrind && has && !ours) {
        print_message("note: %s hidden by valgrind's CPU (kernel lists '%s')\n",
                      ruv_isa_name(f->bit), f->flag);
        return;
    }
    fail_msg("ISA bit %s is %d but /proc/cpuinfo flag '%s' is %d", ruv_isa_name(f->bit), ours,
             f->flag, has);
}
#else
static void check_flag(uint64_t bit, const char *flag)
{
    int has = cpuinfo_has(flag);
    if (has < 0)
        return;
    int ours = (ruv_cpu_isa() & bit) != 0;
    if (has != ours)
        fail_msg("ISA bit %s is %d but /proc/cpuinfo flag '%s' is %d", ruv_isa_name(bit), ours,
                 flag, has);
}
#endif

static void test_matches_proc_cpuinfo(void **state)
{
    (void)state;
#if defined(__x86_64__)
    int valgrind = on_valgrind();
    for (size_t i = 0; i < sizeof x86_flags / sizeof x86_flags[0]; i++)
        check_flag(&x86_flags[i], valgrind);
    assert_int_equal(ruv_cpu_isa() & (RUV_ISA_NEON | RUV_ISA_SVE), 0);
#elif defined(__aarch64__)
    check_flag(RUV_ISA_NEON, "asimd");
    check_flag(RUV_ISA_ASIMDDP, "asimddp");
    check_flag(RUV_ISA_SVE, "sve");
    check_flag(RUV_ISA_CRC32, "crc32");
#else
    skip();
#endif
}

static void test_dependent_bits(void **state)
{
    (void)state;
    uint64_t isa = ruv_cpu_isa();
    assert_int_equal(isa & RUV_ISA_TEST_IMPOSSIBLE, 0);
    if (isa & RUV_ISA_AVX512BW)
        assert_true(isa & RUV_ISA_AVX512F);
    if (isa & RUV_ISA_AVX512VPOPCNTDQ)
        assert_true(isa & RUV_ISA_AVX512F);
    assert_int_equal(isa & ~ruv_isa_known(), 0); /* only named bits */
    assert_int_equal(ruv_cpu_isa(), isa);        /* cached, stable */
}

static void test_every_bit_named_once(void **state)
{
    (void)state;
    uint64_t known = ruv_isa_known();
    assert_true(known & RUV_ISA_AVX2);
    assert_true(known & RUV_ISA_NEON);
    for (int i = 0; i < 64; i++) {
        uint64_t bit = UINT64_C(1) << i;
        const char *n = ruv_isa_name(bit);
        assert_int_equal(n != NULL, (known & bit) != 0);
        for (int j = 0; n && j < i; j++) {
            const char *m = ruv_isa_name(UINT64_C(1) << j);
            if (m)
                assert_string_not_equal(n, m);
        }
    }
    assert_string_equal(ruv_isa_name(RUV_ISA_AVX512VPOPCNTDQ), "AVX512VPOPCNTDQ");
    assert_null(ruv_isa_name(RUV_ISA_AVX2 | RUV_ISA_FMA)); /* one bit at a time */
}

static void test_topology(void **state)
{
    (void)state;
    ruv_topology t;
    assert_int_equal(ruv_topology_get(NULL), RUV_E_INVAL);
    assert_int_equal(ruv_topology_get(&t), RUV_OK);
    assert_true(t.cores >= 1);
    assert_true(t.pus >= t.cores);
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    if (online > 0)
        assert_true(t.pus <= (unsigned)online || t.pus >= 1);
    /* Every current x86/ARM server core has an L1d and an L2 listed in sysfs
     * (hwloc and the fallback both read it). */
    if (t.l2_bytes)
        assert_true(t.l2_bytes >= t.l1d_bytes);
    assert_non_null(ruv_cpu_model());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_proc_cpuinfo),
        cmocka_unit_test(test_dependent_bits),
        cmocka_unit_test(test_every_bit_named_once),
        cmocka_unit_test(test_topology),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
