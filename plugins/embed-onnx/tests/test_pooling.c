/* Pooling (embed.md §5) without ONNX Runtime: the arithmetic on small
 * hand-checked arrays (padding never changes a vector, CLS, max, L2) and
 * the mode read from modules.json and the pooling config, errors included. */
#include <math.h>
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

#include <ruvector/error.h>
#include <ruvector/feature-embed.h>

#include "../pooling.h"

static char detail[512];

static int t_set_error(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return status;
}

static const struct ruv_host host = {.struct_size = sizeof(struct ruv_host),
                                     .set_error = t_set_error};

static void test_mean_ignores_padding(void **state)
{
    (void)state;
    /* 3 tokens of width 2, the last one padding with garbage in it */
    const float h[] = {1, 2, 3, 6, 1000, -1000};
    const int64_t mask[] = {1, 1, 0};
    struct ruv__pooling p = {RUV_EMBED_POOL_MEAN, 0, 0, 1};
    float v[2], w[2];
    ruv__pool_row(&p, h, mask, 3, 2, v);
    assert_float_equal(v[0], 2.0f, 1e-6);
    assert_float_equal(v[1], 4.0f, 1e-6);
    ruv__pool_row(&p, h, mask, 2, 2, w); /* the same row unpadded */
    assert_memory_equal(v, w, sizeof v);
    p.normalize = 1;
    ruv__pool_row(&p, h, mask, 3, 2, v);
    assert_float_equal(v[0], 2.0f / sqrtf(20.0f), 1e-6);
    assert_float_equal(v[1], 4.0f / sqrtf(20.0f), 1e-6);
}

static void test_cls_max_and_zero_vectors(void **state)
{
    (void)state;
    const float h[] = {3, -4, 5, 7, -9, 100};
    const int64_t mask[] = {1, 1, 0};
    struct ruv__pooling p = {RUV_EMBED_POOL_CLS, 1, 0, 1};
    float v[2];
    ruv__pool_row(&p, h, mask, 3, 2, v);
    assert_float_equal(v[0], 0.6f, 1e-6);
    assert_float_equal(v[1], -0.8f, 1e-6);
    p = (struct ruv__pooling){RUV_EMBED_POOL_MAX, 0, 0, 1};
    ruv__pool_row(&p, h, mask, 3, 2, v);
    assert_float_equal(v[0], 5.0f, 0); /* the masked 100 and -9 never count */
    assert_float_equal(v[1], 7.0f, 0);
    /* a zero vector stays zero under L2 (norm floor), never NaN */
    const float z[] = {0, 0};
    const int64_t one[] = {1};
    p = (struct ruv__pooling){RUV_EMBED_POOL_MEAN, 1, 0, 1};
    ruv__pool_row(&p, z, one, 1, 2, v);
    assert_float_equal(v[0], 0.0f, 0);
    assert_float_equal(v[1], 0.0f, 0);
}

static char dir[64];

static void put(const char *rel, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    if (!text) {
        unlink(path);
        return;
    }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static const char st_modules[] =
    "[{\"idx\":0,\"name\":\"0\",\"path\":\"\",\"type\":\"sentence_transformers.models."
    "Transformer\"},{\"idx\":1,\"name\":\"1\",\"path\":\"1_Pooling\",\"type\":"
    "\"sentence_transformers.models.Pooling\"},{\"idx\":2,\"name\":\"2\",\"path\":"
    "\"2_Normalize\",\"type\":\"sentence_transformers.models.Normalize\"}]";

static void test_config_files(void **state)
{
    (void)state;
    struct ruv__pooling p;
    /* a bare directory: mean + L2, and it says the defaults were used */
    assert_int_equal(ruv__pooling_read(&host, dir, &p), RUV_OK);
    assert_int_equal(p.mode, RUV_EMBED_POOL_MEAN);
    assert_int_equal(p.normalize, 1);
    assert_int_equal(p.from_config, 0);

    put("modules.json", st_modules);
    put("1_Pooling/config.json", "{\"word_embedding_dimension\": 384, "
                                 "\"pooling_mode_cls_token\": true, "
                                 "\"pooling_mode_mean_tokens\": false}");
    assert_int_equal(ruv__pooling_read(&host, dir, &p), RUV_OK);
    assert_int_equal(p.mode, RUV_EMBED_POOL_CLS);
    assert_int_equal(p.normalize, 1);
    assert_int_equal(p.dim, 384);
    assert_int_equal(p.from_config, 1);

    /* no Normalize module: no L2 */
    put("modules.json", "[{\"type\": \"sentence_transformers.models.Pooling\", "
                        "\"path\": \"1_Pooling\"}]");
    assert_int_equal(ruv__pooling_read(&host, dir, &p), RUV_OK);
    assert_int_equal(p.normalize, 0);
}

static void expect(int status, const char *modules, const char *pooling, const char *want)
{
    struct ruv__pooling p;
    put("modules.json", modules);
    put("1_Pooling/config.json", pooling);
    detail[0] = 0;
    assert_int_equal(ruv__pooling_read(&host, dir, &p), status);
    if (!strstr(detail, want))
        fail_msg("detail \"%s\" lacks \"%s\"", detail, want);
}

static void test_config_errors(void **state)
{
    (void)state;
    expect(RUV_E_UNSUPPORTED, st_modules, "{\"pooling_mode_mean_sqrt_len_tokens\": true}",
           "pooling_mode_mean_sqrt_len_tokens is not supported");
    expect(RUV_E_UNSUPPORTED, st_modules,
           "{\"pooling_mode_cls_token\": true, \"pooling_mode_mean_tokens\": true}",
           "several pooling modes");
    expect(RUV_E_UNSUPPORTED, st_modules, "{\"pooling_mode_cls_token\": false}", "no pooling mode");
    expect(RUV_E_INVAL, st_modules, "{\"pooling_mode_cls_token\": 1}", "must be true or false");
    expect(RUV_E_INVAL, st_modules, "{\"pooling_mode_cls_token\": true, \"pooling_mode_cls_token\": true}",
           "duplicate");
    expect(RUV_E_INVAL, st_modules, "{\"pooling_mode_mean_tokens\": true, "
                                    "\"word_embedding_dimension\": -3}",
           "word_embedding_dimension");
    expect(RUV_E_INVAL, "{\"type\": 1}", NULL, "not a JSON array");
    expect(RUV_E_INVAL, "[{\"path\": \"x\"}]", NULL, "no \"type\" string");
    expect(RUV_E_INVAL, "[{\"type\": \"sentence_transformers.models.Pooling\", \"path\": \"../x\"}]",
           NULL, "inside the model directory");
    expect(RUV_E_INVAL, "[{\"type\": \"sentence_transformers.models.Pooling\", \"path\": \"/etc\"}]",
           NULL, "inside the model directory");
    expect(RUV_E_INVAL, "[", NULL, "modules.json");
    put("modules.json", NULL);
    put("1_Pooling/config.json", NULL);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/ruv-pool-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    char sub[128];
    snprintf(sub, sizeof sub, "%s/1_Pooling", dir);
    return mkdir(sub, 0700);
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mean_ignores_padding),
        cmocka_unit_test(test_cls_max_and_zero_vectors),
        cmocka_unit_test(test_config_files),
        cmocka_unit_test(test_config_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
