#define _GNU_SOURCE
/* The embed_onnx plugin on the generated test models of embed.md §6.4:
 * the committed 1-layer H8 model (tests/models/tiny-h8) and tiny2 variants
 * built per run by tests/models/make_bert.py. Graphs the plugin can feed
 * give the plain model's vectors (no token_type_ids input, weights in an
 * external .data file, a sentence_embedding output pooled in the graph);
 * the others are refused with RUV_E_INVAL naming the file and the problem.
 * Parity against onnxruntime-python is python/tests/test_embed_models.py;
 * this file puts the same paths under ASan/UBSan and valgrind.
 *
 * Needs the onnxruntime wheel ($RUV_TEST_ORT_LIB, else found by
 * $RUV_TOK_PYTHON, default python3) and numpy + onnx in that Python;
 * without them every test is skipped, saying why. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "embed_test.h"

#include <ruvector/feature-embed.h>
#include <ruvector/plugin.h>
#include <ruvector/ruvector.h>

#define DIM 32 /* tiny2's hidden size */
#define MAX_TEXTS 8

static char dir[64], src_dir[512];
static char ort_lib[1024];
static char skip_reason[512];
static ruv_engine *eng;
static const struct ruv_embed_ops *ops;
static void *pstate;

static const char *const texts[] = {
    "hello world", "the cat sat on the mat", "", "Vector search is FAST!",
    "dogs running, cats jumped?", "unknown \xe2\x9c\x93 symbols",
    "query answer data query answer data query answer data query answer data query answer "
    "data query answer data query answer data query answer data query answer data",
};
#define N_TEXTS (sizeof texts / sizeof *texts)

static const char *const variants[] = {
    "plain",           "no_token_types", "sentence_embedding", "sentence_embedding_only",
    "external_data",   "wrong_input_name", "wrong_output_name", "wrong_rank",
    "dim_mismatch",    "truncated",
};

#define NEED_MODELS()                                                                              \
    do {                                                                                           \
        if (skip_reason[0]) {                                                                      \
            printf("# skipped: %s\n", skip_reason);                                                \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

/* Builds one tiny2 variant into dir/<variant>; sets skip_reason when the
 * generator cannot run (no onnx in that Python). */
static void build_variant(const char *py, const char *variant, const char *as)
{
    char cmd[2048], line[256] = "";
    snprintf(cmd, sizeof cmd,
             "'%s' '%s/tests/models/make_bert.py' '%s/%s' --size tiny2 --variant %s 2>&1", py,
             src_dir, dir, as, variant);
    FILE *p = popen(cmd, "r");
    if (!p || !fgets(line, sizeof line, p))
        line[0] = 0;
    while (p && fgetc(p) != EOF) {
    }
    int status = p ? pclose(p) : -1;
    line[strcspn(line, "\n")] = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        snprintf(skip_reason, sizeof skip_reason, "make_bert.py %s: %s", variant,
                 line[0] ? line : "failed");
}

static int setup(void **state)
{
    (void)state;
    const char *src = getenv("RUV_TEST_SRCDIR");
    const char *py = getenv("RUV_TOK_PYTHON");
    snprintf(src_dir, sizeof src_dir, "%s", src ? src : ".");
    if (!py || !*py)
        py = "python3";
    snprintf(dir, sizeof dir, "/tmp/ruv-embed-models-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    unsetenv("RUVECTOR_ORT_LIB");
    ruv_test_find_ort(py, ort_lib, sizeof ort_lib);
    if (!ort_lib[0]) {
        snprintf(skip_reason, sizeof skip_reason,
                 "no onnxruntime wheel (pip install 'onnxruntime>=1.21' or set RUV_TEST_ORT_LIB)");
        return 0;
    }
    for (size_t i = 0; i < sizeof variants / sizeof *variants && !skip_reason[0]; i++)
        build_variant(py, variants[i], variants[i]);
    if (!skip_reason[0])
        build_variant(py, "external_data", "external_lost");
    char path[256];
    snprintf(path, sizeof path, "%s/external_lost/model.onnx.data", dir);
    if (!skip_reason[0] && unlink(path))
        snprintf(skip_reason, sizeof skip_reason, "no %s", path);
    if (skip_reason[0])
        return 0;
    if (ruv_test_open_embed(ort_lib, &eng, &ops, &pstate))
        return -1;
    printf("# onnxruntime: %s; models in %s\n", ort_lib, dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return ruv_test_embed_teardown(eng, dir);
}

static int open_variant(const char *variant, uint32_t batch, ruv_embed_model **m)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, variant);
    struct ruv_embed_open_opts o = {.struct_size = sizeof o, .batch_size = batch};
    *m = NULL;
    return ops->model_open(pstate, path, &o, m);
}

/* Embeds every text with one variant at one batch size into out. */
static void embed_variant(const char *variant, uint32_t batch, float *out)
{
    ruv_embed_model *m = NULL;
    if (open_variant(variant, batch, &m))
        fail_msg("model_open %s: %s", variant, ruv_last_error());
    struct ruv_embed_info info = {.struct_size = sizeof info};
    assert_int_equal(ops->model_info(m, &info), RUV_OK);
    assert_int_equal(info.dim, DIM);
    memset(out, 0xff, N_TEXTS * DIM * sizeof *out); /* NaN: every row must be written */
    assert_int_equal(ops->embed(m, texts, NULL, N_TEXTS, out, DIM, 0, NULL), RUV_OK);
    ops->model_close(m);
}

static double cosine(const float *a, const float *b, size_t n)
{
    double ab = 0, aa = 0, bb = 0;
    for (size_t d = 0; d < n; d++)
        ab += (double)a[d] * b[d], aa += (double)a[d] * a[d], bb += (double)b[d] * b[d];
    return ab / sqrt(aa * bb);
}

static void test_committed_h8(void **state)
{
    (void)state;
    NEED_MODELS();
    char path[700];
    snprintf(path, sizeof path, "%s/tests/models/tiny-h8", src_dir);
    struct ruv_embed_open_opts o = {.struct_size = sizeof o};
    ruv_embed_model *m = NULL;
    if (ops->model_open(pstate, path, &o, &m))
        fail_msg("model_open %s: %s", path, ruv_last_error());
    struct ruv_embed_info info = {.struct_size = sizeof info};
    assert_int_equal(ops->model_info(m, &info), RUV_OK);
    assert_int_equal(info.dim, 8);
    assert_int_equal(info.max_tokens, 16); /* config.json max_position_embeddings */
    assert_int_equal(info.pooling, RUV_EMBED_POOL_MEAN);
    assert_int_equal(info.normalize, 1);
    float out[N_TEXTS * 8];
    assert_int_equal(ops->embed(m, texts, NULL, N_TEXTS, out, 8, 0, NULL), RUV_OK);
    for (size_t i = 0; i < N_TEXTS; i++) {
        double norm = 0;
        for (size_t d = 0; d < 8; d++)
            norm += (double)out[i * 8 + d] * out[i * 8 + d];
        assert_true(fabs(sqrt(norm) - 1.0) < 1e-5);
    }
    assert_true(cosine(out, out + 8, 8) < 0.9999); /* different texts, different vectors */
    ops->model_close(m);
}

/* Each graph the plugin can feed gives the plain model's vectors, at
 * batch 1 and 32. */
static void test_variants_match_plain(void **state)
{
    (void)state;
    NEED_MODELS();
    static float plain[N_TEXTS * DIM], got[N_TEXTS * DIM];
    static const char *const same[] = {"no_token_types", "sentence_embedding",
                                       "sentence_embedding_only", "external_data"};
    const uint32_t batches[] = {1, 32};
    embed_variant("plain", 32, plain);
    for (size_t v = 0; v < sizeof same / sizeof *same; v++)
        for (size_t b = 0; b < 2; b++) {
            embed_variant(same[v], batches[b], got);
            for (size_t i = 0; i < N_TEXTS; i++) {
                double c = cosine(got + i * DIM, plain + i * DIM, DIM);
                if (!(c >= 0.9999))
                    fail_msg("%s, batch %u, text %zu: cosine %.6f vs plain", same[v],
                             batches[b], i, c);
            }
        }
}

static void test_refused(void **state)
{
    (void)state;
    NEED_MODELS();
    static const struct {
        const char *variant, *detail;
        int status;
    } cases[] = {
        {"wrong_input_name", "input 'input_mask' is not one of input_ids", RUV_E_INVAL},
        {"wrong_output_name", "neither a last_hidden_state nor a sentence_embedding", RUV_E_INVAL},
        {"wrong_rank", "last_hidden_state must be float [batch, sequence, hidden]", RUV_E_INVAL},
        {"dim_mismatch", "32 wide but the pooling config says word_embedding_dimension 33",
         RUV_E_INVAL},
        {"truncated", "Protobuf parsing failed", RUV_E_INVAL},
        {"external_lost", "model.onnx.data", RUV_E_PLUGIN},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        ruv_embed_model *m = NULL;
        int rc = open_variant(cases[k].variant, 0, &m);
        assert_null(m);
        if (rc != cases[k].status || !strstr(ruv_last_error(), cases[k].detail) ||
            !strstr(ruv_last_error(), cases[k].variant))
            fail_msg("%s: status %d, detail \"%s\"", cases[k].variant, rc, ruv_last_error());
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_committed_h8),
        cmocka_unit_test(test_variants_match_plain),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
