/* Configuration: argument checks, and API > environment > default for every
 * setting, as the engine reports it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <stdio.h>

#include <ruvector/plugin.h>
#include <ruvector/ruvector.h>

static void clear_env(void)
{
    unsetenv("RUVECTOR_KERNEL");
    unsetenv("RUVECTOR_DISABLE");
    unsetenv("RUVECTOR_VERBOSE");
    unsetenv("RUVECTOR_ORT_LIB");
    unsetenv("RUVECTOR_LIBCRYPTO");
}

static int setup(void **state)
{
    (void)state;
    clear_env();
    return 0;
}

static void expect_setting(const ruv_engine *eng, const char *key, const char *value,
                           const char *source)
{
    const char *v = NULL, *s = NULL;
    assert_int_equal(ruv_engine_setting(eng, key, &v, &s), RUV_OK);
    assert_string_equal(v, value);
    assert_string_equal(s, source);
}

static void test_argument_checks(void **state)
{
    (void)state;
    ruv_config *cfg = NULL;
    assert_int_equal(ruv_config_new(NULL), RUV_E_INVAL);
    assert_int_equal(ruv_config_new(&cfg), RUV_OK);
    assert_int_equal(ruv_config_set_kernel(NULL, "avx2"), RUV_E_INVAL);
    assert_int_equal(ruv_config_set_kernel(cfg, NULL), RUV_E_INVAL);
    assert_int_equal(ruv_config_set_kernel(cfg, ""), RUV_E_INVAL);
    assert_int_equal(ruv_config_set_kernel(cfg, "../../etc/x"), RUV_E_INVAL);
    assert_int_equal(ruv_config_set_kernel(cfg, "auto"), RUV_OK);
    assert_int_equal(ruv_config_add_plugin(cfg, "a/b"), RUV_E_INVAL);
    assert_non_null(strstr(ruv_last_error(), "'a/b' is not a module name"));
    assert_int_equal(ruv_config_add_plugin(cfg, "abcdefghijklmnopqrstuvwxyz012345"), RUV_E_INVAL);
    assert_int_equal(ruv_config_set_verbose(cfg, 3), RUV_E_INVAL);
    assert_int_equal(ruv_config_set_threads(cfg, 5000), RUV_E_INVAL);
    assert_int_equal(ruv_config_set_plugin_option(cfg, "x", NULL, "v"), RUV_E_INVAL);
    assert_int_equal(ruv_config_register(cfg, NULL), RUV_E_INVAL);
    ruv_config_free(cfg);
    ruv_config_free(NULL); /* no-op */
}

static void test_defaults(void **state)
{
    (void)state;
    ruv_engine *eng = NULL;
    assert_int_equal(ruv_engine_open(NULL, &eng), RUV_OK);
    expect_setting(eng, "kernel", "auto", "default");
    expect_setting(eng, "disable", "", "default");
    expect_setting(eng, "verbose", "0", "default");
    const char *v = NULL, *s = NULL;
    assert_int_equal(ruv_engine_setting(eng, "threads", &v, &s), RUV_OK);
    assert_true(atoi(v) >= 1);
    assert_string_equal(s, "default");
    assert_int_equal(ruv_engine_setting(eng, "bogus", &v, &s), RUV_E_NOTFOUND);
    assert_string_equal(ruv_engine_kernel_source(eng), "auto");
    ruv_engine_close(eng);
}

static void test_env_beats_default(void **state)
{
    (void)state;
    setenv("RUVECTOR_KERNEL", "scalar", 1);
    setenv("RUVECTOR_DISABLE", "avx512", 1);
    ruv_engine *eng = NULL;
    assert_int_equal(ruv_engine_open(NULL, &eng), RUV_OK);
    expect_setting(eng, "kernel", "scalar", "env");
    expect_setting(eng, "disable", "avx512", "env");
    assert_string_equal(ruv_engine_kernel_name(eng), "scalar");
    assert_string_equal(ruv_engine_kernel_source(eng), "env");
    ruv_plugin_info p;
    assert_int_equal(ruv_engine_plugin_find(eng, "avx512", &p), RUV_OK);
    assert_int_equal(p.state, RUV_PLUGIN_DISABLED);
    assert_non_null(strstr(p.reason, "RUVECTOR_DISABLE"));
    ruv_engine_close(eng);
    clear_env();
}

static void test_api_beats_env(void **state)
{
    (void)state;
    setenv("RUVECTOR_KERNEL", "bogus", 1); /* would fail if it were used */
    setenv("RUVECTOR_DISABLE", "scalar", 1);
    setenv("RUVECTOR_VERBOSE", "2", 1);
    ruv_config *cfg = NULL;
    assert_int_equal(ruv_config_new(&cfg), RUV_OK);
    assert_int_equal(ruv_config_set_kernel(cfg, "scalar"), RUV_OK);
    assert_int_equal(ruv_config_set_disable(cfg, "neon"), RUV_OK);
    assert_int_equal(ruv_config_set_verbose(cfg, 0), RUV_OK);
    assert_int_equal(ruv_config_set_threads(cfg, 3), RUV_OK);
    ruv_engine *eng = NULL;
    assert_int_equal(ruv_engine_open(cfg, &eng), RUV_OK);
    ruv_config_free(cfg); /* the engine keeps its own copy */
    expect_setting(eng, "kernel", "scalar", "api");
    expect_setting(eng, "disable", "neon", "api");
    expect_setting(eng, "verbose", "0", "api");
    expect_setting(eng, "threads", "3", "api");
    assert_int_equal(ruv_engine_threads(eng), 3);
    assert_string_equal(ruv_engine_kernel_source(eng), "api");
    char *json = NULL;
    assert_int_equal(ruv_engine_report(eng, &json), RUV_OK);
    assert_non_null(strstr(json, "\"kernel\":{\"value\":\"scalar\",\"source\":\"api\","));
    assert_non_null(strstr(json, "\"threads\":{\"value\":3,\"source\":\"api\"}"));
    ruv_free(json);
    ruv_engine_close(eng);
    clear_env();
}

/* A plugin's setting from the one table: RUVECTOR_ORT_LIB reaches the
 * embed_onnx plugin through host->config_get, a plugin option beats it,
 * and the report and ruv_engine_setting say where it came from. */
static char seen_ort_lib[256];

static int fake_embed_init(const struct ruv_host *host, void **state)
{
    const char *v = host->config_get(host, "ort_lib");
    snprintf(seen_ort_lib, sizeof seen_ort_lib, "%s", v ? v : "(none)");
    *state = NULL;
    return RUV_OK;
}

static const uint32_t fake_ops_size = sizeof(uint32_t);
static const struct ruv_plugin fake_embed = {
    .struct_size = sizeof(struct ruv_plugin),
    .abi = RUV_PLUGIN_ABI,
    .name = "embed_onnx",
    .version = "0",
    .kind = RUV_PLUGIN_FEATURE,
    .init = fake_embed_init,
    .ops = &fake_ops_size,
};

static void open_with_fake_embed(ruv_config *cfg, ruv_engine **eng)
{
    assert_int_equal(ruv_config_register(cfg, &fake_embed), RUV_OK);
    assert_int_equal(ruv_engine_open(cfg, eng), RUV_OK);
}

static void test_plugin_setting_from_table(void **state)
{
    (void)state;
    ruv_config *cfg = NULL;
    ruv_engine *eng = NULL;
    /* default: nothing */
    assert_int_equal(ruv_config_new(&cfg), RUV_OK);
    open_with_fake_embed(cfg, &eng);
    assert_string_equal(seen_ort_lib, "(none)");
    expect_setting(eng, "ort_lib", "", "default");
    ruv_engine_close(eng);
    ruv_config_free(cfg);
    /* environment */
    setenv("RUVECTOR_ORT_LIB", "/opt/ort/libonnxruntime.so.1", 1);
    assert_int_equal(ruv_config_new(&cfg), RUV_OK);
    open_with_fake_embed(cfg, &eng);
    assert_string_equal(seen_ort_lib, "/opt/ort/libonnxruntime.so.1");
    expect_setting(eng, "ort_lib", "/opt/ort/libonnxruntime.so.1", "env");
    char *json = NULL;
    assert_int_equal(ruv_engine_report(eng, &json), RUV_OK);
    assert_non_null(strstr(json, "\"ort_lib\":{\"value\":\"/opt/ort/libonnxruntime.so.1\","
                                 "\"source\":\"env\",\"env\":\"RUVECTOR_ORT_LIB\","
                                 "\"plugin\":\"embed_onnx\"}"));
    assert_non_null(strstr(json, "\"blas_path\":{"));
    ruv_free(json);
    ruv_engine_close(eng);
    ruv_config_free(cfg);
    /* the API (a plugin option) beats the environment */
    assert_int_equal(ruv_config_new(&cfg), RUV_OK);
    assert_int_equal(ruv_config_set_plugin_option(cfg, "embed_onnx", "ort_lib", "/api/ort.so"),
                     RUV_OK);
    open_with_fake_embed(cfg, &eng);
    assert_string_equal(seen_ort_lib, "/api/ort.so");
    expect_setting(eng, "ort_lib", "/api/ort.so", "api");
    ruv_engine_close(eng);
    ruv_config_free(cfg);
    clear_env();
    /* every named setting is known to ruv_engine_setting, and only those */
    assert_int_equal(ruv_engine_open(NULL, &eng), RUV_OK);
    size_t n = 0;
    for (; ruv_setting_name(n); n++) {
        const char *v = NULL, *src = NULL;
        assert_int_equal(ruv_engine_setting(eng, ruv_setting_name(n), &v, &src), RUV_OK);
        assert_non_null(v);
    }
    assert_int_equal(n, 10);
    const char *v = NULL;
    assert_int_equal(ruv_engine_setting(eng, "nope", &v, NULL), RUV_E_NOTFOUND);
    assert_non_null(strstr(ruv_last_error(), "ort_lib"));
    assert_non_null(strstr(ruv_last_error(), "libcrypto"));
    ruv_engine_close(eng);
}

static void test_bad_verbose_env_is_an_error(void **state)
{
    (void)state;
    setenv("RUVECTOR_VERBOSE", "yes", 1);
    ruv_engine *eng = (ruv_engine *)&eng; /* must be reset to NULL on failure */
    assert_int_equal(ruv_engine_open(NULL, &eng), RUV_E_INVAL);
    assert_null(eng);
    assert_non_null(strstr(ruv_last_error(), "RUVECTOR_VERBOSE='yes' is not 0, 1 or 2"));
    clear_env();
}

static void test_disable_tokens_are_exact(void **state)
{
    (void)state;
    /* "avx" must not disable "avx2" or "avx512" (no substring matching);
     * commas and whitespace both separate. */
    setenv("RUVECTOR_DISABLE", "avx, neon_x\tavx51", 1);
    ruv_engine *eng = NULL;
    assert_int_equal(ruv_engine_open(NULL, &eng), RUV_OK);
    ruv_plugin_info p;
    assert_int_equal(ruv_engine_plugin_find(eng, "avx2", &p), RUV_OK);
    assert_int_not_equal(p.state, RUV_PLUGIN_DISABLED);
    assert_int_equal(ruv_engine_plugin_find(eng, "avx512", &p), RUV_OK);
    assert_int_not_equal(p.state, RUV_PLUGIN_DISABLED);
    assert_int_equal(ruv_engine_plugin_find(eng, "neon", &p), RUV_OK);
    assert_int_not_equal(p.state, RUV_PLUGIN_DISABLED);
    ruv_engine_close(eng);

    setenv("RUVECTOR_DISABLE", " avx2 ,,avx512\nneon ", 1);
    assert_int_equal(ruv_engine_open(NULL, &eng), RUV_OK);
    const char *const names[] = {"avx2", "avx512", "neon"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ruv_engine_plugin_find(eng, names[i], &p), RUV_OK);
        assert_int_equal(p.state, RUV_PLUGIN_DISABLED);
    }
    assert_string_equal(ruv_engine_kernel_name(eng), "scalar");
    ruv_engine_close(eng);
    clear_env();
}

static void test_forced_but_disabled(void **state)
{
    (void)state;
    setenv("RUVECTOR_DISABLE", "avx2", 1);
    ruv_config *cfg = NULL;
    assert_int_equal(ruv_config_new(&cfg), RUV_OK);
    assert_int_equal(ruv_config_set_kernel(cfg, "avx2"), RUV_OK);
    ruv_engine *eng = NULL;
    assert_int_equal(ruv_engine_open(cfg, &eng), RUV_E_INVAL);
    assert_non_null(strstr(ruv_last_error(),
                           "kernel 'avx2' is forced by ruv_config_set_kernel but disabled by "
                           "RUVECTOR_DISABLE"));
    ruv_config_free(cfg);
    clear_env();
}

static void test_scalar_cannot_be_disabled(void **state)
{
    (void)state;
    ruv_config *cfg = NULL;
    assert_int_equal(ruv_config_new(&cfg), RUV_OK);
    assert_int_equal(ruv_config_set_disable(cfg, "scalar,avx2,avx512,neon"), RUV_OK);
    ruv_engine *eng = NULL;
    assert_int_equal(ruv_engine_open(cfg, &eng), RUV_OK);
    assert_string_equal(ruv_engine_kernel_name(eng), "scalar");
    ruv_plugin_info p;
    assert_int_equal(ruv_engine_plugin_find(eng, "scalar", &p), RUV_OK);
    assert_int_equal(p.state, RUV_PLUGIN_LOADED);
    assert_non_null(strstr(p.reason, "cannot be disabled"));
    ruv_engine_close(eng);
    ruv_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_argument_checks, setup),
        cmocka_unit_test_setup(test_defaults, setup),
        cmocka_unit_test_setup(test_env_beats_default, setup),
        cmocka_unit_test_setup(test_api_beats_env, setup),
        cmocka_unit_test_setup(test_plugin_setting_from_table, setup),
        cmocka_unit_test_setup(test_bad_verbose_env_is_an_error, setup),
        cmocka_unit_test_setup(test_disable_tokens_are_exact, setup),
        cmocka_unit_test_setup(test_forced_but_disabled, setup),
        cmocka_unit_test_setup(test_scalar_cannot_be_disabled, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
