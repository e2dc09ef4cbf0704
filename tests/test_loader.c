/* Loader and selection: each deliberately broken fixture gives its exact
 * status and a message naming what was wrong; the feature kind loads only on
 * request; kernel selection follows priority and forcing rules. */
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

#include <ruvector/plugin.h>
#include <ruvector/ruvector.h>

#include "fixtures/fixture_feature.h"

static int setup(void **state)
{
    (void)state;
    unsetenv("RUVECTOR_KERNEL");
    unsetenv("RUVECTOR_DISABLE");
    unsetenv("RUVECTOR_VERBOSE");
    return 0;
}

/* Opens an engine that also loads `plugin`; returns the status. */
static int open_with(const char *plugin, ruv_engine **eng)
{
    ruv_config *cfg = NULL;
    assert_int_equal(ruv_config_new(&cfg), RUV_OK);
    if (plugin)
        assert_int_equal(ruv_config_add_plugin(cfg, plugin), RUV_OK);
    int rc = ruv_engine_open(cfg, eng);
    ruv_config_free(cfg);
    return rc;
}

static void expect_failure(const char *plugin, int status, const char *fragment)
{
    ruv_engine *eng = NULL;
    int rc = open_with(plugin, &eng);
    if (rc != status)
        fail_msg("%s: got %s (%s), want %s", plugin, ruv_status_name(rc), ruv_last_error(),
                 ruv_status_name(status));
    assert_null(eng);
    const char *msg = ruv_last_error();
    if (!strstr(msg, fragment))
        fail_msg("%s: message '%s' lacks '%s'", plugin, msg, fragment);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "plugin '%s'", plugin);
    if (!strstr(msg, prefix))
        fail_msg("%s: message '%s' does not name the plugin", plugin, msg);
}

static void test_bad_abi(void **state)
{
    (void)state;
    expect_failure("bad_abi", RUV_E_ABI, "built for plugin ABI 2, engine speaks 1");
    expect_failure("bad_abi", RUV_E_ABI, "tests/fixtures/bad_abi.la");
}

static void test_missing_symbol(void **state)
{
    (void)state;
    expect_failure("no_symbol", RUV_E_PLUGIN, "no entry point 'ruv_plugin_no_symbol'");
}

static void test_wrong_name(void **state)
{
    (void)state;
    expect_failure("wrong_name", RUV_E_PLUGIN,
                   "descriptor name 'other_name' does not match module name 'wrong_name'");
}

static void test_fails_selftest(void **state)
{
    (void)state;
    expect_failure("fails_selftest", RUV_E_SELFTEST,
                   "self-test failed: deliberate failure from the fixture");
}

static void test_wrong_kernel_caught_by_conformance(void **state)
{
    (void)state;
    expect_failure("wrong_kernel", RUV_E_SELFTEST, "disagrees with the scalar reference: l2sq_f32");
}

static void test_unknown_flags(void **state)
{
    (void)state;
    expect_failure("bad_flags", RUV_E_PLUGIN, "unknown must-understand flags 0x4");
}

static void test_init_declines(void **state)
{
    (void)state;
    expect_failure("declines", RUV_E_UNSUPPORTED, "init declined");
    expect_failure("declines", RUV_E_UNSUPPORTED, "fixture declines: no backend here");
}

static void test_not_found(void **state)
{
    (void)state;
    expect_failure("nonexistent", RUV_E_NOTFOUND, "no nonexistent.la or nonexistent.so");
}

static void test_impossible_isa_is_ineligible_and_never_runs(void **state)
{
    (void)state;
    ruv_engine *eng = NULL;
    assert_int_equal(open_with("needs_impossible_isa", &eng), RUV_OK);
    ruv_plugin_info p;
    assert_int_equal(ruv_engine_plugin_find(eng, "needs_impossible_isa", &p), RUV_OK);
    assert_int_equal(p.state, RUV_PLUGIN_INELIGIBLE);
    assert_int_equal(p.status, RUV_E_UNSUPPORTED); /* not RUV_E_PLUGIN: init never ran */
    assert_non_null(strstr(p.reason, "needs TEST_IMPOSSIBLE"));
    assert_string_not_equal(ruv_engine_kernel_name(eng), "needs_impossible_isa");
    ruv_engine_close(eng);

    /* Forcing it is an error naming the missing ISA, never an illegal instruction. */
    ruv_config *cfg = NULL;
    assert_int_equal(ruv_config_new(&cfg), RUV_OK);
    assert_int_equal(ruv_config_add_plugin(cfg, "needs_impossible_isa"), RUV_OK);
    assert_int_equal(ruv_config_set_kernel(cfg, "needs_impossible_isa"), RUV_OK);
    assert_int_equal(ruv_engine_open(cfg, &eng), RUV_E_UNSUPPORTED);
    assert_non_null(strstr(ruv_last_error(), "cannot run on this CPU: needs TEST_IMPOSSIBLE"));
    ruv_config_free(cfg);
}

static void test_feature_loads_only_on_request(void **state)
{
    (void)state;
    ruv_engine *eng = NULL;
    assert_int_equal(open_with(NULL, &eng), RUV_OK);
    ruv_plugin_info p;
    assert_int_equal(ruv_engine_plugin_find(eng, "feature_echo", &p), RUV_E_NOTFOUND);
    const void *ops = NULL;
    assert_int_equal(ruv_engine_feature(eng, "feature_echo", &ops, NULL), RUV_E_NOTFOUND);
    assert_non_null(strstr(ruv_last_error(), "ruv_config_add_plugin"));
    assert_null(ops);
    ruv_engine_close(eng);
}

static void test_feature_ops_and_host_table(void **state)
{
    (void)state;
    ruv_config *cfg = NULL;
    assert_int_equal(ruv_config_new(&cfg), RUV_OK);
    assert_int_equal(ruv_config_add_plugin(cfg, "feature_echo"), RUV_OK);
    assert_int_equal(ruv_config_set_plugin_option(cfg, "feature_echo", "offset", "7"), RUV_OK);
    assert_int_equal(ruv_config_set_plugin_option(cfg, "other", "offset", "9"), RUV_OK);
    ruv_engine *eng = NULL;
    assert_int_equal(ruv_engine_open(cfg, &eng), RUV_OK);
    ruv_config_free(cfg);
    const void *vops = NULL;
    void *st = NULL;
    assert_int_equal(ruv_engine_feature(eng, "feature_echo", &vops, &st), RUV_OK);
    const struct ruv_echo_ops *ops = vops;
    assert_int_equal(ops->struct_size, sizeof(struct ruv_echo_ops));
    assert_int_equal(ops->echo(st, 5), 12);            /* offset came through config_get */
    assert_string_equal(ops->option(st, "offset"), "7"); /* its own option, not "other"'s */
    assert_null(ops->option(st, "missing"));
    assert_string_equal(ops->engine_version(st), ruv_version_string());
    ruv_plugin_info p;
    assert_int_equal(ruv_engine_plugin_find(eng, "feature_echo", &p), RUV_OK);
    assert_int_equal(p.kind, RUV_PLUGIN_FEATURE);
    assert_int_equal(p.state, RUV_PLUGIN_LOADED);
    assert_string_equal(p.version, "1.2.3");
    /* a kernel is not a feature */
    assert_int_equal(ruv_engine_feature(eng, "scalar", &vops, &st), RUV_E_NOTFOUND);
    assert_non_null(strstr(ruv_last_error(), "a kernel, not a feature"));
    ruv_engine_close(eng);
}

static void test_disabled_feature(void **state)
{
    (void)state;
    setenv("RUVECTOR_DISABLE", "feature_echo", 1);
    ruv_engine *eng = NULL;
    assert_int_equal(open_with("feature_echo", &eng), RUV_OK);
    const void *ops = NULL;
    assert_int_equal(ruv_engine_feature(eng, "feature_echo", &ops, NULL), RUV_E_NOTFOUND);
    assert_non_null(strstr(ruv_last_error(), "disabled"));
    ruv_engine_close(eng);
    unsetenv("RUVECTOR_DISABLE");
}

static int static_init_calls;
static int static_init(const struct ruv_host *host, void **state)
{
    (void)host;
    static_init_calls++;
    *state = &static_init_calls;
    return RUV_OK;
}
static const struct ruv_echo_ops static_ops = {.struct_size = sizeof static_ops};
static const struct ruv_plugin static_desc = {
    .struct_size = sizeof(struct ruv_plugin),
    .abi = RUV_PLUGIN_ABI,
    .name = "static_feature",
    .version = "9",
    .kind = RUV_PLUGIN_FEATURE,
    .init = static_init,
    .ops = &static_ops,
};
static const struct ruv_plugin static_bad = {
    .struct_size = 8, /* truncated descriptor from an imaginary older build */
    .abi = RUV_PLUGIN_ABI,
    .name = "static_bad",
};

static void test_static_registration(void **state)
{
    (void)state;
    ruv_config *cfg = NULL;
    assert_int_equal(ruv_config_new(&cfg), RUV_OK);
    assert_int_equal(ruv_config_register(cfg, &static_desc), RUV_OK);
    ruv_engine *eng = NULL;
    static_init_calls = 0;
    assert_int_equal(ruv_engine_open(cfg, &eng), RUV_OK);
    assert_int_equal(static_init_calls, 1);
    const void *ops = NULL;
    void *st = NULL;
    assert_int_equal(ruv_engine_feature(eng, "static_feature", &ops, &st), RUV_OK);
    assert_ptr_equal(ops, &static_ops);
    assert_ptr_equal(st, &static_init_calls);
    ruv_plugin_info p;
    assert_int_equal(ruv_engine_plugin_find(eng, "static_feature", &p), RUV_OK);
    assert_string_equal(p.file, "(registered)");
    ruv_engine_close(eng);
    assert_int_equal(ruv_config_register(cfg, &static_bad), RUV_OK);
    assert_int_equal(ruv_engine_open(cfg, &eng), RUV_E_ABI);
    assert_non_null(strstr(ruv_last_error(), "descriptor struct_size 8 is smaller"));
    ruv_config_free(cfg);
}

static void test_broken_discovered_kernel_is_skipped(void **state)
{
    (void)state;
    const char *fx = getenv("RUV_TEST_FIXTURES");
    assert_non_null(fx);
    char path[4096];
    snprintf(path, sizeof path, "%s/broken", fx);
    ruv_config *cfg = NULL;
    assert_int_equal(ruv_config_new(&cfg), RUV_OK);
    assert_int_equal(ruv_config_set_plugin_path(cfg, path), RUV_OK);
    ruv_engine *eng = NULL;
    assert_int_equal(ruv_engine_open(cfg, &eng), RUV_OK); /* opens with what works */
    ruv_config_free(cfg);
    ruv_plugin_info p;
    assert_int_equal(ruv_engine_plugin_find(eng, "avx2", &p), RUV_OK);
    assert_int_equal(p.state, RUV_PLUGIN_FAILED);
    assert_int_equal(p.status, RUV_E_ABI);
    assert_non_null(strstr(p.reason, "built for plugin ABI 99"));
    assert_string_equal(ruv_engine_kernel_name(eng), "scalar");
    ruv_engine_close(eng);
}

static void test_forced_unknown_kernel_lists_names(void **state)
{
    (void)state;
    setenv("RUVECTOR_KERNEL", "bogus", 1);
    ruv_engine *eng = NULL;
    assert_int_equal(ruv_engine_open(NULL, &eng), RUV_E_NOTFOUND);
    assert_null(eng);
    assert_non_null(strstr(ruv_last_error(), "unknown kernel 'bogus' (from RUVECTOR_KERNEL); "
                                             "known kernels: scalar, avx2, avx512, neon"));
    unsetenv("RUVECTOR_KERNEL");
}

static void test_forced_kernel_cpu_cannot_run(void **state)
{
    (void)state;
    /* Pick a real kernel this CPU lacks: avx512 on CPUs without it, else neon. */
    const char *name = (ruv_cpu_isa() & RUV_ISA_AVX512F) ? "neon" : "avx512";
    if ((ruv_cpu_isa() & RUV_ISA_NEON) && !strcmp(name, "neon"))
        skip();
    setenv("RUVECTOR_KERNEL", name, 1);
    ruv_engine *eng = NULL;
    assert_int_equal(ruv_engine_open(NULL, &eng), RUV_E_UNSUPPORTED);
    char want[128];
    snprintf(want, sizeof want, "kernel '%s' (from RUVECTOR_KERNEL) cannot run on this CPU: needs ",
             name);
    assert_non_null(strstr(ruv_last_error(), want));
    assert_non_null(strstr(ruv_last_error(), !strcmp(name, "neon") ? "NEON" : "AVX512F"));
    unsetenv("RUVECTOR_KERNEL");
}

static void test_auto_picks_highest_priority(void **state)
{
    (void)state;
    ruv_engine *eng = NULL;
    assert_int_equal(ruv_engine_open(NULL, &eng), RUV_OK);
    int32_t best = -1;
    const char *best_name = NULL;
    size_t n = ruv_engine_plugin_count(eng);
    assert_true(n >= 4); /* scalar + the three known kernel plugins, found or not */
    for (size_t i = 0; i < n; i++) {
        ruv_plugin_info p;
        assert_int_equal(ruv_engine_plugin_info(eng, i, &p), RUV_OK);
        if (p.kind == RUV_PLUGIN_KERNEL && p.state == RUV_PLUGIN_LOADED && p.priority > best) {
            best = p.priority;
            best_name = p.name;
        }
        /* a kernel the CPU can run must have loaded: build or conformance bugs fail here */
        if (p.kind == RUV_PLUGIN_KERNEL && (ruv_cpu_isa() & p.requires_isa) == p.requires_isa)
            if (p.state != RUV_PLUGIN_LOADED)
                fail_msg("kernel %s is %s: %s", p.name, ruv_plugin_state_name(p.state), p.reason);
    }
    assert_non_null(best_name);
    assert_string_equal(ruv_engine_kernel_name(eng), best_name);
    ruv_plugin_info p;
    assert_int_equal(ruv_engine_plugin_info(eng, n, &p), RUV_E_INVAL);
#if defined(__x86_64__)
    if ((ruv_cpu_isa() & (RUV_ISA_AVX2 | RUV_ISA_FMA | RUV_ISA_POPCNT)) ==
            (RUV_ISA_AVX2 | RUV_ISA_FMA | RUV_ISA_POPCNT) &&
        !(ruv_cpu_isa() & RUV_ISA_AVX512F))
        assert_string_equal(best_name, "avx2");
#endif
    /* The effective table has every slot, whatever the plugin provided. */
    const struct ruv_kernel_ops *k = ruv_engine_kernel(eng);
    assert_non_null(k->dot_f32);
    assert_non_null(k->fht_f32);
    assert_int_equal(k->struct_size, sizeof(struct ruv_kernel_ops));
    ruv_engine_close(eng);
}

static void test_report_json(void **state)
{
    (void)state;
    ruv_engine *eng = NULL;
    assert_int_equal(open_with("feature_echo", &eng), RUV_OK);
    char *json = NULL;
    assert_int_equal(ruv_engine_report(eng, &json), RUV_OK);
    static const char *const must[] = {
        "\"cpu\":{\"model\":", "\"isa_found\":[", "\"isa_missing\":[", "\"topology\":{\"cores\":",
        "\"topology_source\":", "\"topology_detail\":",
        "\"kernel\":{\"name\":", "\"source\":\"auto\"", "\"plugins\":[{\"name\":\"scalar\"",
        "\"name\":\"feature_echo\"", "\"kind\":\"feature\"", "\"state\":\"loaded\"",
        "\"config\":{", "\"plugins_requested\":[\"feature_echo\"]"};
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
        if (!strstr(json, must[i]))
            fail_msg("report lacks %s:\n%s", must[i], json);
    /* balanced braces and brackets, no raw control characters */
    int depth = 0, in_str = 0;
    for (const char *c = json; *c; c++) {
        if (in_str) {
            if (*c == '\\')
                c++;
            else if (*c == '"')
                in_str = 0;
            else
                assert_true((unsigned char)*c >= 0x20);
        } else if (*c == '"')
            in_str = 1;
        else if (*c == '{' || *c == '[')
            depth++;
        else if (*c == '}' || *c == ']')
            depth--;
    }
    assert_int_equal(depth, 0);
    ruv_free(json);
    assert_int_equal(ruv_engine_report(eng, NULL), RUV_E_INVAL);
    ruv_engine_close(eng);
}

/* Runs open+close with stderr captured; returns what was printed. */
static char *captured_open(int verbose_api)
{
    char tmpl[] = "/tmp/ruv-verbose-XXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    ruv_config *cfg = NULL;
    ruv_config_new(&cfg);
    if (verbose_api >= 0)
        ruv_config_set_verbose(cfg, verbose_api);
    ruv_engine *eng = NULL;
    int rc = ruv_engine_open(cfg, &eng);
    ruv_engine_close(eng);
    ruv_config_free(cfg);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    assert_int_equal(rc, RUV_OK);
    static char buf[16384];
    ssize_t got = pread(fd, buf, sizeof buf - 1, 0);
    buf[got > 0 ? got : 0] = '\0';
    close(fd);
    unlink(tmpl);
    return buf;
}

static void test_verbose_output_only_when_asked(void **state)
{
    (void)state;
    assert_string_equal(captured_open(-1), ""); /* silent by default */
    setenv("RUVECTOR_VERBOSE", "1", 1);
    const char *out = captured_open(-1);
    assert_non_null(strstr(out, "ruvector: kernel "));
    assert_non_null(strstr(out, "ruvector: cpu: "));
    assert_string_equal(captured_open(0), ""); /* the API beats the environment */
    unsetenv("RUVECTOR_VERBOSE");
}

static void test_repeated_open_close(void **state)
{
    (void)state;
    for (int i = 0; i < 20; i++) {
        ruv_engine *eng = NULL;
        assert_int_equal(open_with("feature_echo", &eng), RUV_OK);
        ruv_engine_close(eng);
    }
    ruv_engine_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_bad_abi, setup),
        cmocka_unit_test_setup(test_missing_symbol, setup),
        cmocka_unit_test_setup(test_wrong_name, setup),
        cmocka_unit_test_setup(test_fails_selftest, setup),
        cmocka_unit_test_setup(test_wrong_kernel_caught_by_conformance, setup),
        cmocka_unit_test_setup(test_unknown_flags, setup),
        cmocka_unit_test_setup(test_init_declines, setup),
        cmocka_unit_test_setup(test_not_found, setup),
        cmocka_unit_test_setup(test_impossible_isa_is_ineligible_and_never_runs, setup),
        cmocka_unit_test_setup(test_feature_loads_only_on_request, setup),
        cmocka_unit_test_setup(test_feature_ops_and_host_table, setup),
        cmocka_unit_test_setup(test_disabled_feature, setup),
        cmocka_unit_test_setup(test_static_registration, setup),
        cmocka_unit_test_setup(test_broken_discovered_kernel_is_skipped, setup),
        cmocka_unit_test_setup(test_forced_unknown_kernel_lists_names, setup),
        cmocka_unit_test_setup(test_forced_kernel_cpu_cannot_run, setup),
        cmocka_unit_test_setup(test_auto_picks_highest_priority, setup),
        cmocka_unit_test_setup(test_report_json, setup),
        cmocka_unit_test_setup(test_verbose_output_only_when_asked, setup),
        cmocka_unit_test_setup(test_repeated_open_close, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
