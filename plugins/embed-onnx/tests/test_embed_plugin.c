/* The embed_onnx plugin loaded late into an open engine: where it looks for
 * ONNX Runtime and in which order, how it declines (the reason names the
 * file), its report fragment, and tokenize through the ops table against
 * the tokenizer library directly.
 *
 * ONNX Runtime comes from the onnxruntime wheel: $RUV_TEST_ORT_LIB, else
 * the newest capi/libonnxruntime.so.* of the onnxruntime that
 * $RUV_TOK_PYTHON (default python3) finds (pip install 'onnxruntime>=1.21').
 * Without it the tests that need a real runtime are skipped, saying so.
 *
 * The order of the tests matters: ORT, once loaded, stays for the process,
 * so every decline is tested before the first successful load. */
#define _GNU_SOURCE
#include <dlfcn.h>
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

#include "embed_test.h"

#include <ruvector/feature-embed.h>
#include <ruvector/plugin.h>
#include <ruvector/ruvector.h>

#include "../tokenizer.h"

static char dir[64];
static char bogus[128];
static char ort_lib[1024]; /* "" when no wheel was found */
static char vocab_dir[128], json_dir[128];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
    (void)state;
    const char *src = getenv("RUV_TEST_SRCDIR");
    if (!src)
        src = ".";
    snprintf(dir, sizeof dir, "/tmp/ruv-embed-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(bogus, sizeof bogus, "%s/not-onnxruntime.so", dir);
    write_file(bogus, "this is not a shared library\n");
    char target[1024];
    snprintf(vocab_dir, sizeof vocab_dir, "%s/vocab-model", dir);
    snprintf(json_dir, sizeof json_dir, "%s/json-model", dir);
    if (mkdir(vocab_dir, 0700) || mkdir(json_dir, 0700))
        return -1;
    char link[256];
    snprintf(target, sizeof target, "%s/plugins/embed-onnx/tests/data/toy_vocab.txt", src);
    snprintf(link, sizeof link, "%s/vocab.txt", vocab_dir);
    if (symlink(target, link))
        return -1;
    snprintf(target, sizeof target, "%s/plugins/embed-onnx/tests/data/toy_tokenizer.json", src);
    snprintf(link, sizeof link, "%s/tokenizer.json", json_dir);
    if (symlink(target, link))
        return -1;
    snprintf(link, sizeof link, "%s/sentence_bert_config.json", json_dir);
    write_file(link, "{\"max_seq_length\": 6, \"do_lower_case\": false}\n");
    unsetenv("RUVECTOR_ORT_LIB");
    ruv_test_find_ort(getenv("RUV_TOK_PYTHON"), ort_lib, sizeof ort_lib);
    if (!ort_lib[0])
        printf("# no onnxruntime wheel (pip install 'onnxruntime>=1.21' or set "
               "RUV_TEST_ORT_LIB): the tests that load it are skipped\n");
    else
        printf("# onnxruntime: %s\n", ort_lib);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Opens an engine with the given ort_lib_wheel option (NULL: none), loads
 * embed_onnx late, and returns the load's status; the engine is *eng. */
static int load(ruv_engine **eng, const char *wheel)
{
    ruv_config *cfg = NULL;
    assert_int_equal(ruv_config_new(&cfg), RUV_OK);
    if (wheel)
        assert_int_equal(ruv_config_set_plugin_option(cfg, "embed_onnx", "ort_lib_wheel", wheel),
                         RUV_OK);
    assert_int_equal(ruv_engine_open(cfg, eng), RUV_OK);
    ruv_config_free(cfg);
    return ruv_engine_load_plugin(*eng, "embed_onnx");
}

/* The load declines with RUV_E_UNSUPPORTED; the recorded reason and the
 * report both contain every string of want (NULL-terminated). */
static void expect_decline(const char *wheel, const char *const *want)
{
    ruv_engine *eng = NULL;
    assert_int_equal(load(&eng, wheel), RUV_E_UNSUPPORTED);
    ruv_plugin_info info;
    assert_int_equal(ruv_engine_plugin_find(eng, "embed_onnx", &info), RUV_OK);
    assert_int_equal(info.state, RUV_PLUGIN_FAILED);
    assert_int_equal(info.status, RUV_E_UNSUPPORTED);
    printf("# declined: %s\n", info.reason);
    char *json = NULL;
    assert_int_equal(ruv_engine_report(eng, &json), RUV_OK);
    for (; *want; want++) {
        if (!strstr(info.reason, *want))
            fail_msg("reason \"%s\" lacks \"%s\"", info.reason, *want);
        assert_non_null(strstr(json, *want));
    }
    const void *ops = NULL;
    assert_int_equal(ruv_engine_feature(eng, "embed_onnx", &ops, NULL), RUV_E_NOTFOUND);
    ruv_free(json);
    ruv_engine_close(eng);
}

static void test_setting_names_bogus_file(void **state)
{
    (void)state;
    setenv("RUVECTOR_ORT_LIB", bogus, 1);
    const char *want[] = {"declined", bogus, "could not be loaded", NULL};
    expect_decline(NULL, want);
    /* an explicit path that fails never falls through to the wheel */
    if (ort_lib[0])
        expect_decline(ort_lib, want);
    unsetenv("RUVECTOR_ORT_LIB");
}

static void test_library_without_ort_symbol(void **state)
{
    (void)state;
    setenv("RUVECTOR_ORT_LIB", "libm.so.6", 1);
    const char *want[] = {"libm.so.6", "is not ONNX Runtime", NULL};
    expect_decline(NULL, want);
    unsetenv("RUVECTOR_ORT_LIB");
}

/* A runtime older than 1.21 is refused from its version string, before
 * GetApi is called (an old GetApi prints to stderr); a new enough one
 * without API 21 is refused too. */
static void test_version_checked_before_get_api(void **state)
{
    (void)state;
    const char *b = getenv("RUV_TEST_BUILDDIR");
    char fake[1024];
    snprintf(fake, sizeof fake, "%s/plugins/embed-onnx/tests/.libs/fake_ort.so", b ? b : ".");
    assert_int_equal(access(fake, R_OK), 0);
    setenv("RUVECTOR_ORT_LIB", fake, 1);
    setenv("RUV_FAKE_ORT_VERSION", "1.18.0", 1);
    const char *old[] = {"onnxruntime 1.18.0 at", "fake_ort.so", "is too old: need >= 1.21", NULL};
    expect_decline(NULL, old);
    setenv("RUV_FAKE_ORT_VERSION", "1.x", 1);
    const char *junk[] = {"onnxruntime 1.x at", "is too old", NULL};
    expect_decline(NULL, junk);
    void *h = dlopen(fake, RTLD_LAZY | RTLD_NOLOAD);
    assert_non_null(h);
    int *calls = dlsym(h, "fake_ort_get_api_calls");
    assert_non_null(calls);
    assert_int_equal(*calls, 0);
    setenv("RUV_FAKE_ORT_VERSION", "1.22.1", 1);
    const char *no_api[] = {"onnxruntime 1.22.1 at", "has no API 21", NULL};
    expect_decline(NULL, no_api);
    assert_int_equal(*calls, 1);
    dlclose(h); /* drops only the reference taken here */
    unsetenv("RUV_FAKE_ORT_VERSION");
    unsetenv("RUVECTOR_ORT_LIB");
}

static void test_wheel_key_bogus(void **state)
{
    (void)state;
    const char *want[] = {bogus, "(wheel)", NULL};
    expect_decline(bogus, want);
}

static void test_nothing_found(void **state)
{
    (void)state;
    void *sys = dlopen("libonnxruntime.so.1", RTLD_LAZY | RTLD_NOLOAD);
    if (!sys && (sys = dlopen("libonnxruntime.so.1", RTLD_LAZY))) {
        /* never closed: ORT must not be unloaded */
    }
    if (sys) {
        printf("# the system loader finds libonnxruntime.so.1: not-found case skipped\n");
        skip();
    }
    const char *want[] = {"onnxruntime not found", "install ruvector[text]", NULL};
    expect_decline(NULL, want);
}

static ruv_engine *eng;
static const struct ruv_embed_ops *ops;
static void *pstate;

static void test_loads_from_wheel_key(void **state)
{
    (void)state;
    if (!ort_lib[0])
        skip();
    assert_int_equal(load(&eng, ort_lib), RUV_OK);
    ruv_plugin_info info;
    assert_int_equal(ruv_engine_plugin_find(eng, "embed_onnx", &info), RUV_OK);
    assert_int_equal(info.state, RUV_PLUGIN_LOADED);
    const void *vops = NULL;
    assert_int_equal(ruv_engine_feature_get(eng, "embed_onnx", RUV_FEATURE_EMBED,
                                            RUV_EMBED_OPS_SIZE_V1, &vops, &pstate),
                     RUV_OK);
    ops = vops;
    assert_true(ops->struct_size >= RUV_EMBED_OPS_SIZE_V1);
    assert_int_equal(ruv_engine_feature_get(eng, "embed_onnx", RUV_FEATURE_LAKE,
                                            RUV_EMBED_OPS_SIZE_V1, &vops, NULL),
                     RUV_E_ABI);

    char *json = NULL;
    assert_int_equal(ruv_engine_report(eng, &json), RUV_OK);
    const char *f = strstr(json, "\"features\":{");
    assert_non_null(f);
    f = strstr(f, "\"embed_onnx\":{");
    assert_non_null(f);
    assert_non_null(strstr(f, "\"ort_found_by\":\"wheel\""));
    assert_non_null(strstr(f, "\"ort_api\":\"21\""));
    const char *v = strstr(f, "\"ort_version\":\"");
    assert_non_null(v);
    v += strlen("\"ort_version\":\"");
    int major = 0, minor = 0;
    assert_int_equal(sscanf(v, "%d.%d", &major, &minor), 2);
    assert_true(major > 1 || (major == 1 && minor >= 21));
    /* the path shown is the file loaded: the wheel's, whatever its name */
    const char *base = strrchr(ort_lib, '/');
    assert_non_null(strstr(f, base ? base + 1 : ort_lib));
    ruv_free(json);
}

static void test_later_engine_same_or_other_file(void **state)
{
    (void)state;
    if (!eng)
        skip();
    /* the same file through the setting: fine, the runtime is shared */
    setenv("RUVECTOR_ORT_LIB", ort_lib, 1);
    ruv_engine *e2 = NULL;
    assert_int_equal(load(&e2, NULL), RUV_OK);
    ruv_engine_close(e2);
    /* another file: the process already has its runtime */
    setenv("RUVECTOR_ORT_LIB", bogus, 1);
    assert_int_not_equal(load(&e2, NULL), RUV_OK);
    ruv_plugin_info info;
    assert_int_equal(ruv_engine_plugin_find(e2, "embed_onnx", &info), RUV_OK);
    assert_non_null(strstr(info.reason, "RUV_E_STATE"));
    assert_non_null(strstr(info.reason, "already loaded"));
    ruv_engine_close(e2);
    unsetenv("RUVECTOR_ORT_LIB");
}

/* Every corpus line, through the ops and through the library directly. */
static void compare_with_library(const char *model_dir, const char *file, size_t max_length)
{
    ruv_embed_model *m = NULL;
    assert_int_equal(ops->model_open(pstate, model_dir, NULL, &m), RUV_OK);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", model_dir, file);
    struct ruv__tok_opts o = {.max_length = max_length};
    struct ruv__tok *tok = NULL;
    assert_int_equal(ruv__tok_open(path, &o, &tok), RUV_OK);
    const char *src = getenv("RUV_TEST_SRCDIR");
    snprintf(path, sizeof path, "%s/plugins/embed-onnx/tests/data/tok_corpus.txt",
             src ? src : ".");
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[4096];
    int64_t a[1024], b[1024];
    size_t lines = 0, longest = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#')
            continue;
        size_t len = strcspn(line, "\n");
        size_t na = 0, nb = 0;
        int ra = ops->tokenize(m, line, len, a, 1024, &na);
        int rb = ruv__tok_encode(tok, line, len, b, 1024, &nb);
        assert_int_equal(ra, rb);
        assert_int_equal(na, nb);
        if (ra == RUV_OK)
            assert_memory_equal(a, b, na * sizeof a[0]);
        lines++;
        if (na > longest)
            longest = na;
    }
    fclose(f);
    assert_true(lines > 20);
    if (max_length)
        assert_int_equal(longest, max_length);
    ruv__tok_free(tok);
    ops->model_close(m);
}

static void test_tokenize_matches_library(void **state)
{
    (void)state;
    if (!ops)
        skip();
    compare_with_library(vocab_dir, "vocab.txt", 0);
    /* tokenizer.json wins, and the limit comes from sentence_bert_config.json */
    compare_with_library(json_dir, "tokenizer.json", 6);
}

static void test_tokenize_errors(void **state)
{
    (void)state;
    if (!ops)
        skip();
    ruv_embed_model *m = (ruv_embed_model *)&m;
    assert_int_equal(ops->model_open(pstate, "all-MiniLM-L6-v2", NULL, &m), RUV_E_NOTFOUND);
    assert_null(m);
    assert_non_null(strstr(ruv_last_error(), "local model directory"));
    assert_int_equal(ops->model_open(pstate, dir, NULL, &m), RUV_E_NOTFOUND);
    assert_non_null(strstr(ruv_last_error(), "no tokenizer.json or vocab.txt"));
    assert_int_equal(ops->model_open(pstate, bogus, NULL, &m), RUV_E_NOTFOUND);
    assert_non_null(strstr(ruv_last_error(), "not a directory"));
    struct ruv_embed_open_opts o = {.struct_size = sizeof o, .flags = 1u << 7};
    assert_int_equal(ops->model_open(pstate, vocab_dir, &o, &m), RUV_E_INVAL);
    assert_non_null(strstr(ruv_last_error(), "unknown flags"));

    /* a bad config names its file */
    char bad[128], cfgp[160];
    snprintf(bad, sizeof bad, "%s/bad-model", dir);
    assert_int_equal(mkdir(bad, 0700), 0);
    snprintf(cfgp, sizeof cfgp, "%s/vocab.txt", bad);
    write_file(cfgp, "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhi\n");
    snprintf(cfgp, sizeof cfgp, "%s/sentence_bert_config.json", bad);
    write_file(cfgp, "{\"max_seq_length\": \"long\"}");
    assert_int_equal(ops->model_open(pstate, bad, NULL, &m), RUV_E_INVAL);
    assert_non_null(strstr(ruv_last_error(), "sentence_bert_config.json"));
    write_file(cfgp, "{\"max_seq_length\": 8}");
    snprintf(cfgp, sizeof cfgp, "%s/tokenizer_config.json", bad);
    write_file(cfgp, "{\"do_lower_case\": false}");
    assert_int_equal(ops->model_open(pstate, bad, NULL, &m), RUV_OK);
    int64_t ids[8];
    size_t n = 0;
    /* cased: "HI" is not "hi" */
    assert_int_equal(ops->tokenize(m, "hi HI", 5, ids, 8, &n), RUV_OK);
    assert_int_equal(n, 4);
    assert_int_equal(ids[1], 4);
    assert_int_equal(ids[2], 1);
    ops->model_close(m);

    assert_int_equal(ops->model_open(pstate, vocab_dir, NULL, &m), RUV_OK);
    /* too small a buffer says how many are needed */
    assert_int_equal(ops->tokenize(m, "hello world", 11, ids, 2, &n), RUV_E_INVAL);
    assert_true(n > 2);
    size_t need = n;
    assert_int_equal(ops->tokenize(m, "hello world", 11, ids, 8, &n), RUV_OK);
    assert_int_equal(n, need);
    /* invalid UTF-8: an error naming the offset, or dropped with the flag */
    assert_int_equal(ops->tokenize(m, "ab\xff", 3, ids, 8, &n), RUV_E_INVAL);
    assert_non_null(strstr(ruv_last_error(), "tokenize"));
    ops->model_close(m);
    o.flags = RUV_EMBED_LOSSY_UTF8;
    assert_int_equal(ops->model_open(pstate, vocab_dir, &o, &m), RUV_OK);
    assert_int_equal(ops->tokenize(m, "ab\xff", 3, ids, 8, &n), RUV_OK);
    ops->model_close(m);
    ops->model_close(NULL);
}

/* Version 3: the registry and model_fetch without a network (an unknown
 * name, an empty cache offline, an existing folder as is). */
static void test_registry_ops(void **state)
{
    (void)state;
    if (!ops)
        skip();
    const void *vops = NULL;
    assert_int_equal(ruv_engine_feature_get(eng, "embed_onnx", RUV_FEATURE_EMBED,
                                            RUV_EMBED_OPS_SIZE_V3, &vops, NULL),
                     RUV_OK);
    const struct ruv_embed_ops *o = vops;
    struct ruv_embed_registry_info e = {.struct_size = sizeof e};
    char *out = (char *)&e;
#ifdef RUV_EMBED_HAVE_MODELS
    assert_int_equal(o->registry_get(pstate, 0, &e), RUV_OK);
    assert_string_equal(e.name, "all-MiniLM-L6-v2");
    assert_int_equal(e.dim, 384);
    assert_string_equal(e.weights, "safetensors");
    assert_string_equal(e.aliases[0], "sentence-transformers/all-MiniLM-L6-v2");
    size_t n = 1;
    while (o->registry_get(pstate, n, &e) == RUV_OK)
        n++;
    assert_int_equal(o->registry_get(pstate, n, &e), RUV_E_NOTFOUND);
    e.struct_size = 8;
    assert_int_equal(o->registry_get(pstate, 0, &e), RUV_E_INVAL);

    assert_int_equal(o->model_fetch(pstate, "no-such-model", NULL, &out), RUV_E_NOTFOUND);
    assert_null(out);
    assert_non_null(strstr(ruv_last_error(), "all-MiniLM-L6-v2"));
    char cache[128];
    snprintf(cache, sizeof cache, "%s/cache", dir);
    struct ruv_embed_fetch_options fo = {.struct_size = sizeof fo, .flags = RUV_EMBED_FETCH_OFFLINE,
                                         .cache_dir = cache};
    out = (char *)&e;
    assert_int_equal(o->model_fetch(pstate, "all-MiniLM-L6-v2", &fo, &out), RUV_E_MISS);
    assert_null(out);
    fo.struct_size = 4;
    assert_int_equal(o->model_fetch(pstate, "all-MiniLM-L6-v2", &fo, &out), RUV_E_INVAL);
    assert_int_equal(o->model_fetch(pstate, vocab_dir, NULL, &out), RUV_OK);
    assert_string_equal(out, vocab_dir);
    o->free_string(out);
#else
    assert_int_equal(o->registry_get(pstate, 0, &e), RUV_E_UNSUPPORTED);
    assert_int_equal(o->model_fetch(pstate, "all-MiniLM-L6-v2", NULL, &out), RUV_E_UNSUPPORTED);
    assert_null(out);
    assert_non_null(strstr(ruv_last_error(), "libcurl"));
#endif
    o->free_string(NULL);
}

static void test_close(void **state)
{
    (void)state;
    if (eng)
        ruv_engine_close(eng);
    eng = NULL;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_setting_names_bogus_file),
        cmocka_unit_test(test_library_without_ort_symbol),
        cmocka_unit_test(test_version_checked_before_get_api),
        cmocka_unit_test(test_wheel_key_bogus),
        cmocka_unit_test(test_nothing_found),
        cmocka_unit_test(test_loads_from_wheel_key),
        cmocka_unit_test(test_later_engine_same_or_other_file),
        cmocka_unit_test(test_tokenize_matches_library),
        cmocka_unit_test(test_tokenize_errors),
        cmocka_unit_test(test_registry_ops),
        cmocka_unit_test(test_close),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
