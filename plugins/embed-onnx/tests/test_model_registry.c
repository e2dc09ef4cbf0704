/* test_model_registry — the compiled-in registry (embed.md §6.1) and the
 * cache's `verified` manifest parser (§6.2), with no network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ruvector/error.h>

#include "../../common/detail.h"
#include "../manifest.h"
#include "../registry.h"

#define SHA_A "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
#define SHA_B "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"

/* A well-formed entry made for the test; the cases below break one field. */
static const struct ruv__embed_file files[] = {
    {"model.safetensors", 100, SHA_A},
    {"config.json", 10, SHA_B},
};
static const struct ruv__embed_entry entry = {
    .name = "fake-model",
    .repo = "test/fake-model",
    .revision = "0123456789abcdef0123456789abcdef01234567",
    .weights = RUV_EMBED_WEIGHTS_SAFETENSORS,
    .weights_file = "model.safetensors",
    .files = files,
    .n_files = 2,
    .dim = 8,
    .max_tokens = 16,
    .pooling = "mean",
    .normalize = 1,
    .licence = "CC0-1.0",
    .query_prefix = "",
    .confirmed_by = "this test",
};

/* ---- registry ---- */

static void test_registry_lookup(void **state)
{
    (void)state;
    assert_true(ruv__embed_registry_count() >= 1);
    for (size_t i = 0; i < ruv__embed_registry_count(); i++)
        assert_int_equal(ruv__embed_entry_check(ruv__embed_registry_at(i)), RUV_OK);
    assert_null(ruv__embed_registry_at(ruv__embed_registry_count()));
    const struct ruv__embed_entry *e = ruv__embed_registry_find("all-MiniLM-L6-v2");
    assert_non_null(e);
    assert_ptr_equal(ruv__embed_registry_find("sentence-transformers/all-MiniLM-L6-v2"), e);
    assert_int_equal(e->dim, 384);
    assert_int_equal(e->weights, RUV_EMBED_WEIGHTS_SAFETENSORS);
    const struct ruv__embed_file *w = ruv__embed_entry_file(e, e->weights_file);
    assert_non_null(w);
    assert_int_equal(w->size, 90868376);
    assert_string_equal(w->sha256, "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db");
    assert_null(ruv__embed_registry_find("all-minilm-l6-v2")); /* exact names only */
    assert_non_null(strstr(ruv__detail_get(), "known models: all-MiniLM-L6-v2"));
    assert_null(ruv__embed_registry_find("mobilenetv3-small"));
    assert_non_null(strstr(ruv__detail_get(), "image embeddings"));
    assert_int_equal(ruv__embed_entry_check(&entry), RUV_OK);
}

static void test_registry_rejects_bad_entries(void **state)
{
    (void)state;
    static const char *bad_paths[] = {"../etc/passwd", "/abs", "a//b", "a/./b", "dir/", "verified", "x.part",
                                      "sp ace", ""};
    for (size_t i = 0; i < sizeof bad_paths / sizeof bad_paths[0]; i++) {
        struct ruv__embed_file f[2] = {files[0], {bad_paths[i], 1, SHA_A}};
        struct ruv__embed_entry e = entry;
        e.files = f;
        e.n_files = 2;
        assert_int_equal(ruv__embed_entry_check(&e), RUV_E_INVAL);
    }
    struct ruv__embed_entry e = entry;
    e.name = "..";
    assert_int_equal(ruv__embed_entry_check(&e), RUV_E_INVAL);
    e = entry;
    e.revision = "a/b";
    assert_int_equal(ruv__embed_entry_check(&e), RUV_E_INVAL);
    e = entry;
    e.weights_file = "nope.onnx";
    assert_int_equal(ruv__embed_entry_check(&e), RUV_E_INVAL);
    struct ruv__embed_file f[2] = {files[0], files[0]};
    e = entry;
    e.files = f;
    e.n_files = 2;
    assert_int_equal(ruv__embed_entry_check(&e), RUV_E_INVAL);
    assert_non_null(strstr(ruv__detail_get(), "twice"));
    f[1] = (struct ruv__embed_file){"b", 1, "53AA51172D142C89D9012CCE15AE4D6CC0CA6895895114379CACB4FAB128D9DB"};
    assert_int_equal(ruv__embed_entry_check(&e), RUV_E_INVAL);
}

/* ---- manifest ---- */

static void test_manifest_roundtrip_and_rejects(void **state)
{
    (void)state;
    struct ruv__embed_manifest m = {.n = 2};
    snprintf(m.files[0].path, sizeof m.files[0].path, "config.json");
    snprintf(m.files[0].sha256, 65, "%s", SHA_A);
    m.files[0].size = 612;
    m.files[0].mtime_ns = 1765000000123456789LL;
    snprintf(m.files[1].path, sizeof m.files[1].path, "1_Pooling/config.json");
    snprintf(m.files[1].sha256, 65, "%s", SHA_B);
    m.files[1].size = 0;
    m.files[1].mtime_ns = -5;
    char *text = ruv__embed_manifest_dump(&m);
    assert_non_null(text);
    struct ruv__embed_manifest back;
    assert_int_equal(ruv__embed_manifest_parse(text, strlen(text), &back), RUV_OK);
    assert_int_equal(back.n, 2);
    assert_string_equal(back.files[0].path, m.files[0].path);
    assert_string_equal(back.files[0].sha256, m.files[0].sha256);
    assert_int_equal(back.files[0].size, 612);
    assert_int_equal(back.files[0].mtime_ns, 1765000000123456789LL);
    assert_string_equal(back.files[1].path, "1_Pooling/config.json");
    assert_int_equal(back.files[1].mtime_ns, -5);
    free(text);

    static const char *bad[] = {
        "",
        "[]",
        "{\"format\":\"ruvector-model-verified/1\"}",
        "{\"format\":\"ruvector-model-verified/2\",\"files\":[]}",
        "{\"format\":\"ruvector-model-verified/1\",\"files\":[],\"x\":1}",
        "{\"format\":\"ruvector-model-verified/1\",\"format\":\"ruvector-model-verified/1\",\"files\":[]}",
        "{\"format\":\"ruvector-model-verified/1\",\"files\":[{\"path\":\"../x\",\"sha256\":\"" 
        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db\",\"size\":1,\"mtime_ns\":1}]}",
        "{\"format\":\"ruvector-model-verified/1\",\"files\":[{\"path\":\"a\",\"sha256\":\"53aa\",\"size\":1,"
        "\"mtime_ns\":1}]}",
        "{\"format\":\"ruvector-model-verified/1\",\"files\":[{\"path\":\"a\",\"sha256\":\""
        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db\",\"size\":-1,\"mtime_ns\":1}]}",
        "{\"format\":\"ruvector-model-verified/1\",\"files\":[{\"path\":\"a\\u0000b\",\"sha256\":\""
        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db\",\"size\":1,\"mtime_ns\":1}]}",
        "{\"format\":\"ruvector-model-verified/1\",\"files\":[{\"path\":\"a\",\"sha256\":\""
        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db\",\"size\":1.5,\"mtime_ns\":1}]}",
        "{\"format\":\"ruvector-model-verified/1\",\"files\":[{\"path\":\"a\",\"sha256\":\""
        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db\",\"size\":1,\"mtime_ns\":1},"
        "{\"path\":\"a\",\"sha256\":\"53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db\","
        "\"size\":1,\"mtime_ns\":1}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        back.n = 7;
        assert_int_equal(ruv__embed_manifest_parse(bad[i], strlen(bad[i]), &back), RUV_E_CORRUPT);
        assert_int_equal(back.n, 0);
        assert_non_null(strstr(ruv__detail_get(), "verified manifest"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_lookup),
        cmocka_unit_test(test_registry_rejects_bad_entries),
        cmocka_unit_test(test_manifest_roundtrip_and_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
