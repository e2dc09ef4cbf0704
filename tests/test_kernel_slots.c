/* Per-slot kernel selection with the race fixtures (tests/fixtures/race):
 * "avx512" (preferred) is SLOW times slower at l2sq_f32, "avx2" at dot_f32,
 * so the race has one answer on any machine under any load. Checks who
 * supplies each slot, that the speed cache is used on the next open (a
 * doctored cache changes the answer), that a damaged or foreign cache is
 * ignored with its reason, forcing, and switching measuring off. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <ruvector/ruvector.h>

#include "store/persist.h"

static char cache_dir[256], cache_file[300];

static int setup(void **state)
{
    (void)state;
    unsetenv("RUVECTOR_KERNEL");
    unsetenv("RUVECTOR_DISABLE");
    unsetenv("RUVECTOR_KERNEL_MEASURE");
    snprintf(cache_dir, sizeof cache_dir, "%s/ruv-slots-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(cache_dir));
    snprintf(cache_file, sizeof cache_file, "%s/kernel-slots", cache_dir);
    setenv("RUVECTOR_CACHE_DIR", cache_dir, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(cache_file);
    rmdir(cache_file); /* a test may put a directory there */
    rmdir(cache_dir);
    unsetenv("RUVECTOR_KERNEL");
    unsetenv("RUVECTOR_KERNEL_MEASURE");
    unsetenv("RUVECTOR_CACHE_DIR");
    return 0;
}

/* An engine over the race fixtures only; kernel NULL = auto. */
static ruv_engine *open_race(const char *kernel)
{
    const char *fx = getenv("RUV_TEST_FIXTURES");
    assert_non_null(fx);
    char path[1024];
    snprintf(path, sizeof path, "%s/race", fx);
    ruv_config *cfg = NULL;
    assert_int_equal(ruv_config_new(&cfg), RUV_OK);
    assert_int_equal(ruv_config_set_plugin_path(cfg, path), RUV_OK);
    if (kernel)
        assert_int_equal(ruv_config_set_kernel(cfg, kernel), RUV_OK);
    ruv_engine *eng = NULL;
    int rc = ruv_engine_open(cfg, &eng);
    ruv_config_free(cfg);
    if (rc != RUV_OK)
        fail_msg("open: %s", ruv_last_error());
    return eng;
}

static ruv_kernel_slot_info slot(const ruv_engine *eng, const char *name)
{
    ruv_kernel_slot_info info;
    for (size_t i = 0; i < ruv_kernel_slot_count(); i++) {
        assert_int_equal(ruv_engine_kernel_slot(eng, i, &info), RUV_OK);
        if (!strcmp(info.slot, name))
            return info;
    }
    fail_msg("no slot %s", name);
    return info;
}

static void expect_slot(const ruv_engine *eng, const char *name, const char *kernel, const char *how)
{
    ruv_kernel_slot_info s = slot(eng, name);
    if (strcmp(s.kernel, kernel) || strcmp(s.how, how))
        fail_msg("slot %s: %s (%s; %s), want %s (%s); selection: %s", name, s.kernel, s.how,
                 s.detail, kernel, how, ruv_engine_kernel_selection(eng));
}

static void expect_selection(const ruv_engine *eng, const char *fragment)
{
    const char *sel = ruv_engine_kernel_selection(eng);
    if (!strstr(sel, fragment))
        fail_msg("selection '%s' lacks '%s'", sel, fragment);
}

/* The race's answer: l2sq_f32 from avx2, the rest from avx512. */
static void expect_race_answer(const ruv_engine *eng)
{
    assert_string_equal(ruv_engine_kernel_name(eng), "avx512");
    expect_slot(eng, "l2sq_f32", "avx2", "faster");
    expect_slot(eng, "dot_f32", "avx512", "kept");
    expect_slot(eng, "popcnt_u64", "avx512", "priority"); /* only avx512 has one */
    expect_slot(eng, "fht_f32", "avx512", "priority");    /* both use the scalar fill */
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = calloc(1, 1 << 16);
    assert_non_null(buf);
    *len = fread(buf, 1, (1 << 16) - 1, f);
    fclose(f);
    return buf;
}

static void spit(const char *path, const char *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Rewrites the cache with line `prefix...` replaced by `line` and a
 * correct checksum, as a cache made elsewhere would be. */
static void doctor_cache(const char *prefix, const char *line)
{
    size_t len;
    char *buf = slurp(cache_file, &len);
    char *out = calloc(1, 1 << 16);
    assert_non_null(out);
    size_t n = 0;
    int replaced = 0;
    for (char *p = buf; *p;) {
        char *nl = strchr(p, '\n');
        assert_non_null(nl);
        size_t l = (size_t)(nl - p) + 1;
        if (!strncmp(p, "crc32c ", 7))
            break;
        if (!replaced && !strncmp(p, prefix, strlen(prefix))) {
            n += (size_t)sprintf(out + n, "%s\n", line);
            replaced = 1;
        } else {
            memcpy(out + n, p, l);
            n += l;
        }
        p = nl + 1;
    }
    assert_true(replaced);
    n += (size_t)sprintf(out + n, "crc32c %08x\n", (unsigned)ruv__crc32c(0, out, n));
    spit(cache_file, out, n);
    free(buf);
    free(out);
}

static void test_faster_plugin_takes_its_slot(void **state)
{
    (void)state;
    ruv_engine *eng = open_race(NULL);
    expect_race_answer(eng);
    expect_selection(eng, "measured now");
    expect_selection(eng, "saved to");
    assert_int_equal(access(cache_file, R_OK), 0);
    /* the table holds the winners' own functions */
    ruv_engine *a2 = open_race("avx2"), *a512 = open_race("avx512");
    const struct ruv_kernel_ops *k = ruv_engine_kernel(eng);
    assert_ptr_equal((void *)k->l2sq_f32, (void *)ruv_engine_kernel(a2)->l2sq_f32);
    assert_ptr_equal((void *)k->dot_f32, (void *)ruv_engine_kernel(a512)->dot_f32);
    assert_ptr_equal((void *)k->popcnt_u64, (void *)ruv_engine_kernel(a512)->popcnt_u64);
    assert_ptr_not_equal((void *)k->l2sq_f32, (void *)ruv_engine_kernel(a512)->l2sq_f32);
    /* the times are reported: the rival's l2sq beat the preferred one's */
    ruv_kernel_slot_info s = slot(eng, "l2sq_f32");
    assert_non_null(strstr(s.detail, "avx2 "));
    assert_non_null(strstr(s.detail, "avx512 "));
    char *json = NULL;
    assert_int_equal(ruv_engine_report(eng, &json), RUV_OK);
    assert_non_null(strstr(json, "{\"slot\":\"l2sq_f32\",\"kernel\":\"avx2\",\"how\":\"faster\""));
    assert_non_null(strstr(json, "\"selection\":\"measured now"));
    ruv_free(json);
    ruv_kernel_slot_info bad;
    assert_int_equal(ruv_engine_kernel_slot(eng, ruv_kernel_slot_count(), &bad), RUV_E_INVAL);
    ruv_engine_close(a2);
    ruv_engine_close(a512);
    ruv_engine_close(eng);
}

static void test_second_open_uses_the_cache(void **state)
{
    (void)state;
    ruv_engine_close(open_race(NULL)); /* measures and saves */
    /* A cache saying the opposite of what a race finds: if the next open
     * measured, it would not follow it. */
    doctor_cache("slot dot_f32 ", "slot dot_f32 1000 10");
    doctor_cache("slot l2sq_f32 ", "slot l2sq_f32 10 1000");
    size_t len0;
    char *before = slurp(cache_file, &len0);
    ruv_engine *eng = open_race(NULL);
    expect_selection(eng, "measured earlier");
    expect_selection(eng, cache_file);
    expect_slot(eng, "dot_f32", "avx2", "faster");
    expect_slot(eng, "l2sq_f32", "avx512", "kept");
    ruv_engine_close(eng);
    size_t len1;
    char *after = slurp(cache_file, &len1);
    assert_int_equal(len0, len1);
    assert_memory_equal(before, after, len0); /* not rewritten */
    free(before);
    free(after);
}

/* Opens with a damaged cache: the race decides, the reason is reported,
 * and the file is rewritten whole. */
static void expect_ignored(const char *why)
{
    ruv_engine *eng = open_race(NULL);
    expect_race_answer(eng);
    expect_selection(eng, "measured now");
    expect_selection(eng, "the cache file was ignored: ");
    expect_selection(eng, why);
    ruv_engine_close(eng);
    eng = open_race(NULL);
    expect_selection(eng, "measured earlier");
    expect_race_answer(eng);
    ruv_engine_close(eng);
}

static void test_damaged_cache_is_ignored(void **state)
{
    (void)state;
    ruv_engine_close(open_race(NULL));
    size_t len;
    char *good = slurp(cache_file, &len);
    spit(cache_file, good, len / 2);
    expect_ignored("truncated");
    spit(cache_file, good, len - 1); /* the last newline gone */
    expect_ignored("truncated");
    spit(cache_file, "", 0);
    expect_ignored("truncated");
    char *bad = malloc(len);
    assert_non_null(bad);
    memcpy(bad, good, len);
    char *t = strstr(bad, "slot l2sq_f32 ");
    assert_non_null(t);
    t[14] = t[14] == '9' ? '1' : '9'; /* one digit of a time */
    spit(cache_file, bad, len);
    expect_ignored("checksum mismatch");
    memcpy(bad, good, len);
    bad[len / 3] = '\0'; /* a NUL inside */
    spit(cache_file, bad, len);
    expect_ignored("checksum mismatch");
    /* checksum right, content not: a time that is not a number */
    spit(cache_file, good, len);
    doctor_cache("slot l2sq_f32 ", "slot l2sq_f32 fast 10");
    expect_ignored("slot l2sq_f32: time 1 is not a number");
    spit(cache_file, good, len);
    doctor_cache("slot l2sq_f32 ", "slot l2sq_f32 10");
    expect_ignored("slot l2sq_f32: 1 times for 2 kernels");
    spit(cache_file, good, len);
    doctor_cache("slot l2sq_f32 ", "slot l2sq_f32 0 10");
    expect_ignored("no time for avx512's l2sq_f32");
    spit(cache_file, good, len);
    doctor_cache("slot l2sq_f32 ", "slot cos_f32 1 1");
    expect_ignored("expected slot l2sq_f32");
    free(bad);
    free(good);
}

static void test_other_plugins_or_cpu_measure_anew(void **state)
{
    (void)state;
    ruv_engine_close(open_race(NULL));
    doctor_cache("racer avx2 ", "racer avx2 20 0123456789abcdef");
    expect_ignored("another set or build of kernel plugins");
    doctor_cache("racer avx512 ", "racer avx512 41 0123456789abcdef");
    expect_ignored("another set or build of kernel plugins");
    doctor_cache("cpu ", "cpu Some Other CPU");
    expect_ignored("another CPU model");
    doctor_cache("isa ", "isa 0000000000000000");
    expect_ignored("instruction sets");
    doctor_cache("ruvector kernel slots ", "ruvector kernel slots 1"); /* the previous format */
    expect_ignored("another file format");
}

static void test_unwritable_cache(void **state)
{
    (void)state;
    assert_int_equal(mkdir(cache_file, 0700), 0); /* a directory where the file goes */
    ruv_engine *eng = open_race(NULL);
    expect_race_answer(eng);
    expect_selection(eng, "not a regular file");
    expect_selection(eng, "not saved");
    ruv_engine_close(eng);
    assert_int_equal(rmdir(cache_file), 0);
    /* no cache directory at all */
    setenv("RUVECTOR_CACHE_DIR", "", 1);
    ruv_config *cfg = NULL;
    assert_int_equal(ruv_config_new(&cfg), RUV_OK);
    char path[1024];
    snprintf(path, sizeof path, "%s/race", getenv("RUV_TEST_FIXTURES"));
    assert_int_equal(ruv_config_set_plugin_path(cfg, path), RUV_OK);
    assert_int_equal(ruv_config_set_cache_dir(cfg, ""), RUV_OK);
    assert_int_equal(ruv_engine_open(cfg, &eng), RUV_OK);
    ruv_config_free(cfg);
    expect_race_answer(eng);
    expect_selection(eng, "not saved: no cache directory");
    ruv_engine_close(eng);
    assert_int_not_equal(access(cache_file, F_OK), 0);
}

static void test_forced_kernel_supplies_every_slot(void **state)
{
    (void)state;
    setenv("RUVECTOR_KERNEL", "avx2", 1);
    ruv_config *cfg = NULL;
    assert_int_equal(ruv_config_new(&cfg), RUV_OK);
    char path[1024];
    snprintf(path, sizeof path, "%s/race", getenv("RUV_TEST_FIXTURES"));
    assert_int_equal(ruv_config_set_plugin_path(cfg, path), RUV_OK);
    ruv_engine *eng = NULL;
    assert_int_equal(ruv_engine_open(cfg, &eng), RUV_OK);
    ruv_config_free(cfg);
    assert_string_equal(ruv_engine_kernel_name(eng), "avx2");
    for (size_t i = 0; i < ruv_kernel_slot_count(); i++) {
        ruv_kernel_slot_info s;
        assert_int_equal(ruv_engine_kernel_slot(eng, i, &s), RUV_OK);
        assert_string_equal(s.kernel, "avx2");
        assert_string_equal(s.how, "forced");
        assert_string_equal(s.detail, "");
    }
    expect_selection(eng, "forced by RUVECTOR_KERNEL");
    ruv_engine_close(eng);
    assert_int_not_equal(access(cache_file, F_OK), 0); /* nothing measured */
}

static void expect_priority_order(ruv_engine *eng, const char *fragment)
{
    ruv_engine *a512 = open_race("avx512");
    assert_string_equal(ruv_engine_kernel_name(eng), "avx512");
    for (size_t i = 0; i < ruv_kernel_slot_count(); i++) {
        ruv_kernel_slot_info s;
        assert_int_equal(ruv_engine_kernel_slot(eng, i, &s), RUV_OK);
        assert_string_equal(s.kernel, "avx512");
        assert_string_equal(s.how, "priority");
    }
    /* today's table: the slow l2sq_f32 too */
    assert_memory_equal(ruv_engine_kernel(eng), ruv_engine_kernel(a512),
                        sizeof(struct ruv_kernel_ops));
    expect_selection(eng, fragment);
    ruv_engine_close(a512);
    assert_int_not_equal(access(cache_file, F_OK), 0);
}

static void test_measuring_off_keeps_priority_order(void **state)
{
    (void)state;
    setenv("RUVECTOR_KERNEL_MEASURE", "0", 1);
    ruv_engine *eng = open_race(NULL);
    expect_priority_order(eng, "measuring off (RUVECTOR_KERNEL_MEASURE=0)");
    const char *v = NULL, *src = NULL;
    assert_int_equal(ruv_engine_setting(eng, "kernel_measure", &v, &src), RUV_OK);
    assert_string_equal(v, "0");
    assert_string_equal(src, "env");
    ruv_engine_close(eng);
    unsetenv("RUVECTOR_KERNEL_MEASURE");

    ruv_config *cfg = NULL;
    assert_int_equal(ruv_config_new(&cfg), RUV_OK);
    char path[1024];
    snprintf(path, sizeof path, "%s/race", getenv("RUV_TEST_FIXTURES"));
    assert_int_equal(ruv_config_set_plugin_path(cfg, path), RUV_OK);
    assert_int_equal(ruv_config_set_kernel_measure(cfg, 0), RUV_OK);
    assert_int_equal(ruv_engine_open(cfg, &eng), RUV_OK);
    expect_priority_order(eng, "measuring off (ruv_config_set_kernel_measure)");
    ruv_engine_close(eng);
    ruv_config_free(cfg);

    setenv("RUVECTOR_KERNEL_MEASURE", "yes", 1);
    assert_int_equal(ruv_engine_open(NULL, &eng), RUV_E_INVAL);
    assert_non_null(strstr(ruv_last_error(), "RUVECTOR_KERNEL_MEASURE='yes' is not 0 or 1"));
}

static void expect_cache_dir(const char *want, const char *source)
{
    ruv_engine *eng = NULL;
    assert_int_equal(ruv_engine_open(NULL, &eng), RUV_OK);
    const char *v = NULL, *src = NULL;
    assert_int_equal(ruv_engine_setting(eng, "cache_dir", &v, &src), RUV_OK);
    assert_string_equal(v, want);
    assert_string_equal(src, source);
    ruv_engine_close(eng);
}

static void test_default_cache_dir(void **state)
{
    (void)state;
    char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    char *xdg = getenv("XDG_CACHE_HOME") ? strdup(getenv("XDG_CACHE_HOME")) : NULL;
    unsetenv("RUVECTOR_CACHE_DIR");
    setenv("XDG_CACHE_HOME", "/xdg/cache", 1);
    setenv("HOME", "/home/someone", 1);
    expect_cache_dir("/xdg/cache/ruvector", "default");
    setenv("XDG_CACHE_HOME", "relative/is/ignored", 1); /* the XDG spec: absolute only */
    expect_cache_dir("/home/someone/.cache/ruvector", "default");
    unsetenv("XDG_CACHE_HOME");
    unsetenv("HOME");
    expect_cache_dir("", "default");
    setenv("RUVECTOR_CACHE_DIR", "/elsewhere", 1);
    expect_cache_dir("/elsewhere", "env");
    if (home)
        setenv("HOME", home, 1);
    if (xdg)
        setenv("XDG_CACHE_HOME", xdg, 1);
    free(home);
    free(xdg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_faster_plugin_takes_its_slot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_open_uses_the_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_cache_is_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_plugins_or_cpu_measure_anew, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwritable_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forced_kernel_supplies_every_slot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_measuring_off_keeps_priority_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_cache_dir, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
