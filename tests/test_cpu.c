/* CPU probe: agrees with the kernel's view (/proc/cpuinfo flags, which Linux
 * clears when the OS does not enable a state), names every bit, and gives
 * a sane topology (tests/test_topo.c covers where the topology comes from). */
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

static void test_matches_proc_cpuinfo(void **state)
{
    (void)state;
#if defined(__x86_64__)
    check_flag(RUV_ISA_POPCNT, "popcnt");
    check_flag(RUV_ISA_AVX2, "avx2");
    check_flag(RUV_ISA_FMA, "fma");
    check_flag(RUV_ISA_BMI2, "bmi2");
    check_flag(RUV_ISA_AVX512F, "avx512f");
    check_flag(RUV_ISA_AVX512BW, "avx512bw");
    check_flag(RUV_ISA_AVX512VL, "avx512vl");
    check_flag(RUV_ISA_AVX512DQ, "avx512dq");
    check_flag(RUV_ISA_AVX512VPOPCNTDQ, "avx512_vpopcntdq");
    check_flag(RUV_ISA_AVX512VNNI, "avx512_vnni");
    check_flag(RUV_ISA_AVX512VBMI, "avx512vbmi");
    assert_int_equal(ruv_cpu_isa() & (RUV_ISA_NEON | RUV_ISA_SVE), 0);
#elif defined(__aarch64__)
    check_flag(RUV_ISA_NEON, "asimd");
    check_flag(RUV_ISA_ASIMDDP, "asimddp");
    check_flag(RUV_ISA_SVE, "sve");
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
