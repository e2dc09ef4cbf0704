/* The rulake feature plugin as a host sees it: loaded late into an open
 * engine, its ops table fetched with ruv_engine_feature_get, the witness
 * and sidecar ops checked against rulake.md §6, its report fragment in
 * ruv_engine_report, and a libcrypto that cannot be opened declining the
 * load with the reason recorded. The convenience library is linked only
 * to write the sidecars that sidecar_verify reads. */
#include "config.h"

#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ruvector/engine.h>
#include <ruvector/error.h>
#include <ruvector/feature-lake.h>

#include "lake_example.h"
#include "sidecar.h"

/* Statuses and details from the engine (ruv_last_error), not the local copy. */
#define assert_engine_status(expr, want, fragment)                                            \
    check_status((expr), (want), (fragment), #expr, ruv_last_error)

static char dir[] = "/tmp/rulake-plugin-XXXXXX";

static ruv_engine *open_engine(const char *libcrypto)
{
    ruv_config *cfg = NULL;
    ruv_engine *eng = NULL;
    assert_int_equal(ruv_config_new(&cfg), RUV_OK);
    if (libcrypto)
        assert_int_equal(ruv_config_set_plugin_option(cfg, "rulake", "libcrypto", libcrypto),
                         RUV_OK);
    assert_engine_status(ruv_engine_open(cfg, &eng), RUV_OK, NULL);
    ruv_config_free(cfg);
    return eng;
}

/* Runs first: the plugin keeps the first libcrypto it opens for the life
 * of the process, so a failed open must come before a good one. */
static void bogus_libcrypto_declines(void **state)
{
    (void)state;
    static const char bogus[] = "/nonexistent/rulake-test/libcrypto.so.3";
    ruv_engine *eng = open_engine(bogus);
    assert_engine_status(ruv_engine_load_plugin(eng, "rulake"), RUV_E_UNSUPPORTED, bogus);
    ruv_plugin_info info;
    assert_int_equal(ruv_engine_plugin_find(eng, "rulake", &info), RUV_OK);
    assert_int_equal(info.status, RUV_E_UNSUPPORTED);
    assert_non_null(strstr(info.reason, "declined"));
    assert_non_null(strstr(info.reason, bogus));
    assert_non_null(strstr(info.reason, "RUVECTOR_LIBCRYPTO"));
    const void *ops = NULL;
    assert_engine_status(
        ruv_engine_feature_get(eng, "rulake", RUV_FEATURE_LAKE, RUV_LAKE_OPS_SIZE_V1, &ops, NULL),
        RUV_E_NOTFOUND, bogus);
    assert_null(ops);
    char *json = NULL;
    assert_int_equal(ruv_engine_report(eng, &json), RUV_OK);
    assert_non_null(strstr(json, "\"libcrypto\":{\"value\":\"/nonexistent/rulake-test/"));
    ruv_free(json);
    ruv_engine_close(eng);

    /* The same through the environment. */
    setenv("RUVECTOR_LIBCRYPTO", "/nonexistent/rulake-test/env/libcrypto.so.3", 1);
    eng = open_engine(NULL);
    unsetenv("RUVECTOR_LIBCRYPTO");
    assert_engine_status(ruv_engine_load_plugin(eng, "rulake"), RUV_E_UNSUPPORTED,
                         "rulake-test/env/libcrypto.so.3");
    ruv_engine_close(eng);
}

static ruv_engine *eng;
static const struct ruv_lake_ops *ops;
static void *lake;

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (eng)
        ruv_engine_close(eng);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void loads_and_gives_its_ops(void **state)
{
    (void)state;
    eng = open_engine(NULL);
    assert_engine_status(ruv_engine_load_plugin(eng, "rulake"), RUV_OK, NULL);
    ruv_plugin_info info;
    assert_int_equal(ruv_engine_plugin_find(eng, "rulake", &info), RUV_OK);
    assert_int_equal(info.kind, RUV_PLUGIN_FEATURE);
    assert_non_null(strstr(info.file, "rulake"));
    const void *o = NULL;
    /* A host compiled against a larger table than this plugin has: refused. */
    assert_engine_status(ruv_engine_feature_get(eng, "rulake", RUV_FEATURE_LAKE,
                                                sizeof(struct ruv_lake_ops) + 8, &o, &lake),
                         RUV_E_ABI, NULL);
    assert_engine_status(ruv_engine_feature_get(eng, "rulake", RUV_FEATURE_A2A,
                                                RUV_LAKE_OPS_SIZE_V1, &o, &lake),
                         RUV_E_ABI, NULL);
    assert_engine_status(ruv_engine_feature_get(eng, "rulake", RUV_FEATURE_LAKE,
                                                RUV_LAKE_OPS_SIZE_V1, &o, &lake),
                         RUV_OK, NULL);
    ops = o;
    assert_true(ops->struct_size >= RUV_LAKE_OPS_SIZE_V1);
}

static void witness_ops_match_the_spec(void **state)
{
    (void)state;
    assert_non_null(ops);
    char hex[65], digest[65];
    static const char x[] = "gs://bucket/x.parquet";
    struct ruv_lake_witness_in w = {.struct_size = sizeof w, .data_ref = x,
                                    .data_ref_len = sizeof x - 1, .dim = 128,
                                    .rotation_seed = 42, .rerank_factor = 20, .gen_num = 7};
    assert_engine_status(ops->witness_v1(lake, &w, hex), RUV_OK, NULL);
    assert_string_equal(hex, "7eac1775d1f76a4db88672655fc64977287ec60eda47c6df3a19bacfd0c038cd");
    static const char ice[] = "iceberg://catalog/db/table";
    struct ruv_lake_witness_in o = {.struct_size = sizeof o, .gen_is_opaque = 1,
                                    .data_ref = ice, .data_ref_len = sizeof ice - 1, .dim = 384,
                                    .rotation_seed = 0xdeadbeef, .rerank_factor = 5,
                                    .gen_opaque = "01JCX7NK6G5R9G1YZ7QH", .gen_len = 20};
    assert_engine_status(ops->witness_v1(lake, &o, hex), RUV_OK, NULL);
    assert_string_equal(hex, "6b1a75410b684054ec05c6c717a4e75204419722d5ce64e37ac1a2703c8e940b");

    /* §6.4's rows, pulled out of id order: the digest sorts them. */
    static const uint64_t ids[4] = {99, 2000, 42, 7};
    float rows[16] = {-1, -2, -3, -4, 8, 16, 32, 64, 0.5f, -0.5f, 0.25f, -0.25f, 1, 2, 3, 4};
    static const char ref[] = "local://hot-shard/docs";
    struct ruv_lake_witness_in d = {.struct_size = sizeof d, .data_ref = ref,
                                    .data_ref_len = sizeof ref - 1, .dim = 4,
                                    .rotation_seed = 42, .rerank_factor = 20, .gen_num = 1};
    struct ruv_lake_index_params p = {.struct_size = sizeof p, .bits = 1, .metric = "l2"};
    assert_engine_status(ops->witness_v2(lake, &d, &p, ids, rows, 4, hex, digest), RUV_OK, NULL);
    assert_string_equal(digest, "3de7bfbad5f7366a26d126d44b23a0037301c24f5c4a99fb7d7c02dda20fd7c3");
    assert_string_equal(hex, "2f92ba472c8cd0a4dd6274fc67857aa0d567096be766d20148d0ea132dae1076");
    rows[3] = -4.5f; /* id 99's last float */
    assert_engine_status(ops->witness_v2(lake, &d, &p, ids, rows, 4, hex, NULL), RUV_OK, NULL);
    assert_string_equal(hex, "b3b782b8bfe257ba6e88ca2512561e1870df2190d72e122e32cb937fc94a2e7e");
    assert_engine_status(ops->witness_v2(lake, &d, &p, NULL, NULL, 0, hex, digest), RUV_OK, NULL);
    assert_string_equal(digest, "2d02d3a8bdc3d98e2cd790b287f80c75bb61fc7be6b1fb6c8af4ee9249660561");

    /* Bad input is refused with a reason, through the engine's detail. */
    static const uint64_t dup[2] = {5, 5};
    assert_engine_status(ops->witness_v2(lake, &d, &p, dup, rows, 2, hex, NULL), RUV_E_INVAL,
                         "duplicate id 5");
    rows[0] = NAN;
    assert_engine_status(ops->witness_v2(lake, &d, &p, ids, rows, 4, hex, NULL), RUV_E_INVAL,
                         "id 99");
    p.metric = "hamming";
    assert_engine_status(ops->witness_v2(lake, &d, &p, ids, rows, 4, hex, NULL), RUV_E_INVAL,
                         "hamming");
    d.dim = 0;
    p.metric = "l2";
    assert_engine_status(ops->witness_v2(lake, &d, &p, ids, rows, 4, hex, NULL), RUV_E_INVAL,
                         "dim 0");
    w.struct_size = 8;
    assert_engine_status(ops->witness_v1(lake, &w, hex), RUV_E_INVAL, "older");
    w.struct_size = sizeof w;
    w.data_ref = NULL;
    assert_engine_status(ops->witness_v1(lake, &w, hex), RUV_E_INVAL, "data_ref is NULL");
    o.gen_len = 1025;
    assert_engine_status(ops->witness_v1(lake, &o, hex), RUV_E_INVAL, "over 1024");
}

/* RUV_CAP_THREADSAFE: the ops share no mutable state, so threads calling
 * them at once get the single-threaded answers. */
static void *hash_many(void *arg)
{
    int *bad = arg;
    static const uint64_t ids[4] = {2000, 42, 7, 99};
    static const float rows[16] = {8, 16, 32, 64, 0.5f, -0.5f, 0.25f, -0.25f,
                                   1, 2, 3, 4, -1, -2, -3, -4};
    static const char ref[] = "local://hot-shard/docs";
    const struct ruv_lake_witness_in d = {.struct_size = sizeof d, .data_ref = ref,
                                          .data_ref_len = sizeof ref - 1, .dim = 4,
                                          .rotation_seed = 42, .rerank_factor = 20, .gen_num = 1};
    const struct ruv_lake_index_params p = {.struct_size = sizeof p, .bits = 1, .metric = "l2"};
    static const uint64_t dup[2] = {9, 9};
    char hex[65];
    for (int i = 0; i < 200; i++) {
        if (ops->witness_v2(lake, &d, &p, ids, rows, 4, hex, NULL) != RUV_OK ||
            strcmp(hex, "2f92ba472c8cd0a4dd6274fc67857aa0d567096be766d20148d0ea132dae1076"))
            (*bad)++;
        /* and a failure's detail stays on its own thread */
        if (ops->witness_v2(lake, &d, &p, dup, rows, 2, hex, NULL) != RUV_E_INVAL ||
            !strstr(ruv_last_error(), "duplicate id 9"))
            (*bad)++;
    }
    return NULL;
}

static void ops_are_threadsafe(void **state)
{
    (void)state;
    assert_non_null(ops);
    enum { T = 4 };
    pthread_t th[T];
    int bad[T] = {0};
    for (int i = 0; i < T; i++)
        assert_int_equal(pthread_create(&th[i], NULL, hash_many, &bad[i]), 0);
    for (int i = 0; i < T; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(bad[i], 0);
    }
}

/* Writes the §6.4 example bundle (sealed, signed when priv) into dir/sub. */
static void write_bundle(const char *sub, const uint8_t *priv, uint64_t dim_after_seal)
{
    struct ruv__lake_sidecar *sc = example_unsealed();
    assert_ok(ruv__lake_sidecar_seal(sc, priv));
    if (dim_after_seal)
        sc->dim = dim_after_seal; /* an edit after sealing */
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    assert_int_equal(mkdir(path, 0700), 0);
    int dfd = open(path, O_RDONLY | O_DIRECTORY);
    assert_true(dfd >= 0);
    assert_ok(ruv__lake_sidecar_write_at(dfd, sc));
    close(dfd);
    free(sc);
}

static void sidecar_verify_checks_bundles(void **state)
{
    (void)state;
    assert_non_null(ops);
    uint8_t priv[32], pub[1][32], other[1][32] = {{1}};
    unhex_or_die(rfc8032_priv, priv, 32);
    unhex_or_die(rfc8032_pub, pub[0], 32);
    write_bundle("good", priv, 0);
    write_bundle("edited", NULL, 8);
    char path[128], v1[65], v2[65];
    snprintf(path, sizeof path, "%s/good", dir);
    assert_engine_status(ops->sidecar_verify(lake, path, NULL, 0, v1, v2), RUV_OK, NULL);
    assert_string_equal(v1, "cfbc83a2e5561551db0843faa85b920d5bb6fa01f6b7190c61e32db7b9b0d365");
    assert_string_equal(v2, "2f92ba472c8cd0a4dd6274fc67857aa0d567096be766d20148d0ea132dae1076");
    assert_engine_status(ops->sidecar_verify(lake, path, (const uint8_t(*)[32])pub, 1, NULL, NULL),
                         RUV_OK, NULL);
    assert_engine_status(
        ops->sidecar_verify(lake, path, (const uint8_t(*)[32])other, 1, NULL, NULL),
        RUV_E_INTEGRITY, NULL);

    snprintf(path, sizeof path, "%s/edited", dir);
    assert_engine_status(ops->sidecar_verify(lake, path, NULL, 0, v1, v2), RUV_E_INTEGRITY,
                         "table.rulake.json");
    snprintf(path, sizeof path, "%s/absent", dir);
    assert_engine_status(ops->sidecar_verify(lake, path, NULL, 0, v1, v2), RUV_E_NOTFOUND,
                         "absent");
    assert_engine_status(ops->sidecar_verify(lake, dir, NULL, 0, v1, v2), RUV_E_NOTFOUND,
                         "table.rulake.json");
    snprintf(path, sizeof path, "%s/garbled", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    char file[160];
    snprintf(file, sizeof file, "%s/table.rulake.json", path);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs("{\"format_version\": 1, \"format_version\": 2}", f);
    fclose(f);
    assert_engine_status(ops->sidecar_verify(lake, path, NULL, 0, v1, v2), RUV_E_CORRUPT, NULL);
}

static void report_fragment(void **state)
{
    (void)state;
    assert_non_null(eng);
    char *json = NULL;
    assert_int_equal(ruv_engine_report(eng, &json), RUV_OK);
    const char *f = strstr(json, "\"features\":{");
    assert_non_null(f);
    const char *r = strstr(f, "\"rulake\":{\"libcrypto\":\"");
    if (!r)
        fail_msg("no rulake fragment in %s", f);
    assert_non_null(strstr(r, "libcrypto"));
    assert_non_null(strstr(r, "\"libcrypto_version\":\"OpenSSL 3."));
    assert_non_null(strstr(r, "\"witness_versions\":\"1,2\""));
    assert_non_null(strstr(r, "\"jansson\":\"2."));
    ruv_free(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bogus_libcrypto_declines),
        cmocka_unit_test(loads_and_gives_its_ops),
        cmocka_unit_test(witness_ops_match_the_spec),
        cmocka_unit_test(sidecar_verify_checks_bundles),
        cmocka_unit_test(ops_are_threadsafe),
        cmocka_unit_test(report_fragment),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
