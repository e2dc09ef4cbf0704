/* Host table version 2, proven through a feature plugin (tests/fixtures/
 * feature_host.c) loaded late into an open engine: the thread pool, index
 * calls, durable files, the error detail, physical memory, the engine's
 * thread setting and the plugin's report fragment; plus the checks of
 * ruv_engine_feature_get and ruv_engine_load_plugin. */
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

#include "fixtures/fixture_host.h"

static ruv_engine *eng;
static const struct ruv_hostfx_ops *ops;
static void *pstate;
static char dir[64];

static int setup(void **state)
{
    (void)state;
    ruv_config *cfg = NULL;
    if (ruv_config_new(&cfg) || ruv_config_set_threads(cfg, 3) || ruv_engine_open(cfg, &eng))
        return -1;
    ruv_config_free(cfg);
    snprintf(dir, sizeof dir, "/tmp/ruv-host-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    ruv_engine_close(eng);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_late_loading(void **state)
{
    (void)state;
    const void *vops = NULL;
    assert_int_equal(ruv_engine_feature(eng, "feature_host", &vops, NULL), RUV_E_NOTFOUND);
    assert_non_null(strstr(ruv_last_error(), "ruv_engine_load_plugin"));
    assert_int_equal(ruv_engine_load_plugin(eng, "avx2"), RUV_E_INVAL);
    assert_non_null(strstr(ruv_last_error(), "kernel"));
    assert_int_equal(ruv_engine_load_plugin(eng, "Not-A-Name"), RUV_E_INVAL);
    assert_int_equal(ruv_engine_load_plugin(eng, "no_such_plugin"), RUV_E_NOTFOUND);
    assert_non_null(strstr(ruv_last_error(), "no_such_plugin"));
    size_t before = ruv_engine_plugin_count(eng);
    assert_int_equal(ruv_engine_load_plugin(eng, "feature_host"), RUV_OK);
    assert_int_equal(ruv_engine_load_plugin(eng, "feature_host"), RUV_OK); /* idempotent */
    assert_int_equal(ruv_engine_plugin_count(eng), before + 1);
    ruv_plugin_info info;
    assert_int_equal(ruv_engine_plugin_find(eng, "feature_host", &info), RUV_OK);
    assert_int_equal(info.state, RUV_PLUGIN_LOADED);

    /* kind and size checks */
    assert_int_equal(ruv_engine_feature_get(eng, "feature_host", RUV_FEATURE_LAKE,
                                            sizeof(struct ruv_hostfx_ops), &vops, &pstate),
                     RUV_E_ABI);
    assert_null(vops);
    assert_int_equal(ruv_engine_feature_get(eng, "feature_host", RUV_FEATURE_TEST,
                                            sizeof(struct ruv_hostfx_ops) + 8, &vops, &pstate),
                     RUV_E_ABI);
    assert_non_null(strstr(ruv_last_error(), "older than the host"));
    assert_int_equal(ruv_engine_feature_get(eng, "feature_host", RUV_FEATURE_TEST,
                                            sizeof(struct ruv_hostfx_ops), &vops, &pstate),
                     RUV_OK);
    ops = vops;
    /* a v1 feature plugin declares no feature kind */
    assert_int_equal(ruv_engine_load_plugin(eng, "feature_echo"), RUV_OK);
    assert_int_equal(ruv_engine_feature_get(eng, "feature_echo", RUV_FEATURE_TEST, 8, &vops, NULL),
                     RUV_E_ABI);
}

static void test_pool(void **state)
{
    (void)state;
    assert_non_null(ops);
    for (unsigned threads = 0; threads <= 5; threads++) {
        uint64_t sum = 0;
        unsigned workers = 0;
        assert_int_equal(ops->sum(pstate, 10007, threads, &sum, &workers), RUV_OK);
        assert_int_equal(sum, (uint64_t)10006 * 10007 / 2);
        assert_true(workers >= 1);
        assert_true(workers <= (threads ? threads : 3)); /* 0: the engine's setting, 3 */
    }
    /* A plugin's loop runs to the end whatever token the calling thread has
     * raised (<ruvector/cancel.h>): plugins do not expect skipped chunks. */
    ruv_cancel *c = NULL;
    assert_int_equal(ruv_cancel_new(&c), RUV_OK);
    ruv_cancel_request(c);
    ruv_cancel_bind(c);
    uint64_t sum = 0;
    unsigned workers = 0;
    assert_int_equal(ops->sum(pstate, 10007, 3, &sum, &workers), RUV_OK);
    assert_int_equal(sum, (uint64_t)10006 * 10007 / 2);
    ruv_cancel_bind(NULL);
    ruv_cancel_free(c);
    unsigned done = 0;
    assert_int_equal(ops->fan_out(pstate, 12, &done), RUV_OK);
    assert_int_equal(done, 12);
    assert_int_equal(ops->threads(pstate), 3);
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    assert_int_equal(ops->physical_memory(pstate), (uint64_t)pages * (uint64_t)size);
}

static void test_index_calls(void **state)
{
    (void)state;
    enum { N = 2000, D = 16, K = 10 };
    float *rows = malloc(sizeof(float) * N * D);
    uint64_t *row_ids = malloc(sizeof(uint64_t) * N);
    assert_non_null(rows);
    assert_non_null(row_ids);
    uint64_t s = 12345;
    for (size_t i = 0; i < (size_t)N * D; i++) {
        s = s * 6364136223846793005u + 1442695040888963407u;
        rows[i] = (float)(s >> 40) / (float)(1u << 24);
    }
    for (size_t i = 0; i < N; i++)
        row_ids[i] = UINT64_MAX - 3 * i; /* full 64-bit ids, not row numbers */
    char path[128];
    snprintf(path, sizeof path, "%s/idx.ruv", dir);
    uint64_t ids[2 * K], mem = 0, est = 0;
    size_t nfound[2] = {0, 0};
    assert_int_equal(ops->index_round_trip(pstate, rows, N, D, row_ids, rows + 17 * D, K, path,
                                           ids, nfound, &mem, &est),
                     RUV_OK);
    assert_int_equal(nfound[0], K);
    assert_int_equal(nfound[1], K);
    assert_int_equal(ids[0], row_ids[17]); /* the query is row 17 */
    for (int i = 0; i < K; i++)
        assert_int_equal(ids[i], ids[K + i]); /* loaded = built */
    /* the estimate bounds what the build holds, and not loosely */
    assert_true(est >= mem);
    assert_true(est <= mem + mem / 4);
    free(rows);
    free(row_ids);
}

static void read_back(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
}

static void test_durable_files(void **state)
{
    (void)state;
    char path[128], buf[64];
    snprintf(path, sizeof path, "%s/a/b/sidecar.json", dir);
    assert_int_equal(ops->write_file(pstate, path, "{\"v\":1}", 0), RUV_OK);
    read_back(path, buf, sizeof buf);
    assert_string_equal(buf, "{\"v\":1}");
    assert_int_equal(ops->write_file(pstate, path, "{\"v\":22}", 1), RUV_OK);
    read_back(path, buf, sizeof buf);
    assert_string_equal(buf, "{\"v\":22}");
    /* a directory in the way of the file: an error naming the path, the
     * old content untouched */
    snprintf(path, sizeof path, "%s/a", dir);
    assert_int_not_equal(ops->write_file(pstate, path, "x", 0), RUV_OK);
    assert_non_null(strstr(ruv_last_error(), path));
}

static void test_last_error(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/missing.ruv", dir);
    int status = 0;
    const char *detail = ops->failed_load_detail(pstate, path, &status);
    assert_int_not_equal(status, RUV_OK);
    assert_non_null(strstr(detail, "missing.ruv"));
}

static void test_report_fragment(void **state)
{
    (void)state;
    char *json = NULL;
    assert_int_equal(ruv_engine_report(eng, &json), RUV_OK);
    const char *f = strstr(json, "\"features\":{");
    assert_non_null(f);
    assert_non_null(strstr(f, "\"feature_host\":{\"greeting\":\"hello\""));
    assert_non_null(strstr(f, "\"text\":\"caf\xc3\xa9 \\ufffd \\\"quoted\\\"\""));
    assert_null(strstr(json, "never shown"));
    assert_non_null(strstr(json, "\"feature_echo\":{}"));
    assert_non_null(strstr(json, "\"pool\":{\"workers\":"));
    ruv_free(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_late_loading),  cmocka_unit_test(test_pool),
        cmocka_unit_test(test_index_calls),   cmocka_unit_test(test_durable_files),
        cmocka_unit_test(test_last_error),    cmocka_unit_test(test_report_fragment),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
