/* Issue 13, the files: a file truncated or rewritten under a loaded index
 * (f438c79: SIGBUS, or zeros read silently), the explicit mapping and its
 * checks, a FIFO as the index path (f438c79: open blocks for ever), and
 * files whose checksums are right but whose meaning is not (f438c79: they
 * load). Data, ids, messages and memory: test_hostile_data.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <ruvector/ruvector.h>

#include "fuzz/container_edit.h"
#include "hostile.h"

/* Truncates path to len bytes (as `truncate -s` or `cp smaller file` do). */
static void truncate_file(const char *path, off_t len)
{
    assert_int_equal(truncate(path, len), 0);
}

/* Runs fn(arg) in a child; returns its exit status, or 128 + signal. */
static int in_child(int (*fn)(void *), void *arg)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGBUS, SIG_DFL); /* cmocka's handlers would carry on in the child */
        signal(SIGSEGV, SIG_DFL);
        _exit(fn(arg));
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        assert_int_equal(errno, EINTR);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

struct truncated_case {
    ruv_index *idx;
    const float *q;
    uint64_t want[5]; /* the ids found before the file changed */
};

/* In the child: the same k = 5 results as before the file changed. */
static int search_after_truncation(void *arg)
{
    struct truncated_case *c = arg;
    ruv_search_params sp;
    ruv_search_params_init(&sp, 5);
    uint64_t ids[5];
    float scores[5];
    size_t nfound = 0;
    if (ruv_index_search(c->idx, c->q, &sp, ids, scores, &nfound) != RUV_OK)
        return 2;
    if (nfound != 5 || memcmp(ids, c->want, sizeof ids) != 0)
        return 5;
    if (ruv_index_search_batch(c->idx, c->q, 1, &sp, ids, scores, &nfound) != RUV_OK)
        return 3;
    return nfound == 5 && memcmp(ids, c->want, sizeof ids) == 0 ? 0 : 4;
}

static void expect_now(struct truncated_case *c)
{
    ruv_search_params sp;
    ruv_search_params_init(&sp, 5);
    float scores[5];
    size_t nfound = 0;
    assert_int_equal(ruv_index_search(c->idx, c->q, &sp, c->want, scores, &nfound), RUV_OK);
    assert_int_equal(nfound, 5);
}

/* (1) The default load reads the file: truncating or rewriting it later
 * changes nothing for the loaded index, of any type. */
static void test_truncated_file_under_loaded_index(void **state)
{
    (void)state;
    size_t n = 3000, d = 24;
    float *x = random_rows(n, d);
    for (int t = 0; t < 4; t++) {
        ruv_index_params p;
        ruv_index_params_init(&p, all_types[t], RUV_METRIC_L2, (uint32_t)d);
        ruv_index *built = NULL, *idx = NULL;
        assert_int_equal(ruv_index_build(eng, &p, x, n, NULL, &built), RUV_OK);
        char path[256];
        path_in(path, sizeof path, "trunc.idx");
        assert_int_equal(ruv_index_save(built, path), RUV_OK);
        ruv_index_free(built);
        assert_int_equal(ruv_index_load(eng, path, &idx), RUV_OK);
        struct truncated_case c = {idx, x, {0}};
        expect_now(&c);
        truncate_file(path, 100);
        assert_int_equal(in_child(search_after_truncation, &c), 0);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(in_child(search_after_truncation, &c), 0);
        ruv_index_free(idx);
    }
    free(x);
}

/* (1) An explicit mapping notices a truncation or in-place rewrite before it
 * reads the mapping again: an error, not SIGBUS; rename is harmless. */
static void test_mapped_load_checks_the_file(void **state)
{
    (void)state;
    size_t n = 2000, d = 16;
    float *x = random_rows(n, d);
    char path[256], other[256];
    path_in(path, sizeof path, "mapped.idx");
    path_in(other, sizeof other, "mapped2.idx");
    for (int t = 0; t < 4; t++) {
        ruv_index_params p;
        ruv_index_params_init(&p, all_types[t], RUV_METRIC_COSINE, (uint32_t)d);
        ruv_index *built = NULL, *idx = NULL;
        assert_int_equal(ruv_index_build(eng, &p, x, n, NULL, &built), RUV_OK);
        assert_int_equal(ruv_index_save(built, path), RUV_OK);
        assert_int_equal(ruv_index_save(built, other), RUV_OK);
        assert_int_equal(ruv_index_load_ex(eng, path, RUV_INDEX_LOAD_MMAP, &idx), RUV_OK);
        struct truncated_case c = {idx, x, {0}};
        expect_now(&c);
        assert_int_equal(in_child(search_after_truncation, &c), 0);
        /* replaced by rename: the mapping keeps the old file */
        assert_int_equal(rename(other, path), 0);
        assert_int_equal(in_child(search_after_truncation, &c), 0);
        ruv_index_free(idx);

        assert_int_equal(ruv_index_load_ex(eng, path, RUV_INDEX_LOAD_MMAP, &idx), RUV_OK);
        truncate_file(path, 4096);
        ruv_search_params sp;
        ruv_search_params_init(&sp, 5);
        uint64_t ids[5];
        float scores[5];
        size_t nfound;
        assert_int_equal(ruv_index_search(idx, x, &sp, ids, scores, &nfound), RUV_E_IO);
        assert_non_null(strstr(ruv_last_error(), "changed size since it was loaded"));
        assert_int_equal(ruv_index_search_batch(idx, x, 1, &sp, ids, scores, &nfound), RUV_E_IO);
        uint64_t id0 = 0;
        size_t removed;
        assert_int_equal(ruv_index_remove(idx, &id0, 1, &removed), RUV_E_IO);
        ruv_index_free(idx);
        ruv_index_free(built);
    }
    ruv_index *idx = NULL;
    assert_int_equal(ruv_index_load_ex(eng, path, RUV_INDEX_LOAD_MMAP | RUV_INDEX_LOAD_POPULATE,
                                       &idx),
                     RUV_E_INVAL);
    free(x);
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "load of a FIFO blocked\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    _exit(99);
}

static int load_fifo(void *arg)
{
    signal(SIGALRM, on_alarm);
    alarm(10); /* a guard against the old behaviour (blocking forever), not a timing check */
    ruv_index *idx = NULL;
    int rc = ruv_index_load(eng, arg, &idx);
    alarm(0);
    if (rc != RUV_E_IO || idx)
        return 2;
    return strstr(ruv_last_error(), "not a regular file (a FIFO)") ? 0 : 3;
}

/* (2) A FIFO, a directory: refused at once, naming what the path is. */
static void test_fifo_and_directory_refused(void **state)
{
    (void)state;
    char path[256];
    path_in(path, sizeof path, "fifo.idx");
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(in_child(load_fifo, path), 0);
    unlink(path);
    ruv_index *idx = NULL;
    assert_int_equal(ruv_index_load(eng, tmpdir, &idx), RUV_E_IO);
    assert_non_null(strstr(ruv_last_error(), "a directory"));
}

/* Reads path, lets edit change its sections, writes it back with valid
 * CRCs (container_edit.h): what a careless tool or a crafted file does. */
static void edit_file(const char *path, void (*edit)(struct ce_image *, void *), void *arg)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    size_t len = (size_t)ftell(f);
    rewind(f);
    uint8_t *buf = malloc(len + 4096);
    assert_int_equal(fread(buf, 1, len, f), len);
    fclose(f);
    struct ce_image im;
    assert_int_equal(ce_parse(buf, len, &im), 0);
    edit(&im, arg);
    size_t out = ce_layout(&im, buf, len + 4096);
    assert_true(out > 0);
    ce_image_free(&im);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, out, f), out);
    fclose(f);
    free(buf);
}

static void drop_orig(struct ce_image *im, void *arg)
{
    (void)arg;
    struct ce_section *o = ce_find(im, "ORIG");
    assert_non_null(o);
    ce_drop(im, o);
}

struct float_edit {
    const char *tag;
    size_t at;
    float value;
};

static void set_float(struct ce_image *im, void *arg)
{
    struct float_edit *e = arg;
    struct ce_section *s = ce_find(im, e->tag);
    assert_non_null(s);
    assert_true(s->len >= (e->at + 1) * sizeof(float));
    memcpy(s->data + e->at * sizeof(float), &e->value, sizeof(float));
}

static void set_meta_bits(struct ce_image *im, void *arg)
{
    struct ce_section *m = ce_find(im, "META");
    assert_non_null(m);
    ce_st32(m->data + 16, *(const uint32_t *)arg); /* index_persist.c: bits at 16 */
}

static void set_meta_metric(struct ce_image *im, void *arg)
{
    ce_st32(ce_find(im, "META")->data + 8, *(const uint32_t *)arg);
}

static void set_meta_type(struct ce_image *im, void *arg)
{
    ce_st32(ce_find(im, "META")->data + 4, *(const uint32_t *)arg);
}

/* (5) Files whose checksums are right but whose meaning is not: a version 2
 * L2 file without its ORIG section, non-finite or wrong-signed correction
 * factors, META bits that do not match the codes. Each is refused by name;
 * the untouched file loads. */
static void test_semantic_validation(void **state)
{
    (void)state;
    const size_t n = 200, d = 16;
    float *x = random_rows(n, d);
    char path[256];
    path_in(path, sizeof path, "semantic.idx");
    struct {
        int type;
        unsigned bits;
    } kinds[] = {{RUV_INDEX_RABITQ, 1}, {RUV_INDEX_RABITQ_PLUS, 3}, {RUV_INDEX_RABITQ_ASYM, 4}};
    for (size_t t = 0; t < 3; t++) {
        ruv_index_params p;
        ruv_index_params_init(&p, kinds[t].type, RUV_METRIC_L2, (uint32_t)d);
        p.bits = kinds[t].bits;
        p.nlist = 4;
        ruv_index *idx = NULL, *back = NULL;
        assert_int_equal(ruv_index_build(eng, &p, x, n, NULL, &idx), RUV_OK);

        assert_int_equal(ruv_index_save(idx, path), RUV_OK);
        assert_int_equal(ruv_index_load(eng, path, &back), RUV_OK); /* untouched: fine */
        ruv_index_free(back);
        edit_file(path, drop_orig, NULL);
        assert_int_equal(ruv_index_load(eng, path, &back), RUV_E_CORRUPT);
        assert_non_null(strstr(ruv_last_error(), "needs section 'ORIG'"));

        const char *tags[] = {"FADD", "FRSC", "FERR", "XADD", "XRSC", "XERR"};
        const float bad[] = {NAN, INFINITY, -INFINITY, 1.0f, -1.0f};
        for (size_t g = 0; g < (kinds[t].bits > 1 ? 6u : 3u); g++)
            for (size_t b = 0; b < 5; b++) {
                int is_rescale = tags[g][1] == 'R', is_error = tags[g][1] == 'E';
                /* finite values are bad only with the wrong sign */
                if (isfinite(bad[b]) && !((is_rescale && bad[b] > 0) || (is_error && bad[b] < 0)))
                    continue;
                assert_int_equal(ruv_index_save(idx, path), RUV_OK);
                struct float_edit e = {tags[g], 7, bad[b]};
                edit_file(path, set_float, &e);
                if (ruv_index_load(eng, path, &back) != RUV_E_CORRUPT)
                    fail_msg("type %d: %s[7] = %g loaded", kinds[t].type, tags[g], (double)bad[b]);
                assert_non_null(strstr(ruv_last_error(), "vector 7"));
            }
        /* META bits edited: raised (no size or range can tell: the factors
         * and codes disagree about |r|), or lowered (ex codes out of range) */
        for (uint32_t bits = 1; bits <= 8 && kinds[t].bits > 1; bits++) {
            if (bits == kinds[t].bits)
                continue;
            assert_int_equal(ruv_index_save(idx, path), RUV_OK);
            edit_file(path, set_meta_bits, &bits);
            if (ruv_index_load(eng, path, &back) != RUV_E_CORRUPT)
                fail_msg("type %d: bits %u -> %u loaded", kinds[t].type, kinds[t].bits, bits);
            if (bits > kinds[t].bits)
                assert_non_null(strstr(ruv_last_error(), "do not match the codes"));
        }
        ruv_index_free(idx);
    }
    /* META metric relabelled to cosine over vectors that are not unit; a
     * codes-only type with a VECS section */
    ruv_index_params p;
    ruv_index_params_init(&p, RUV_INDEX_FLAT_F32, RUV_METRIC_IP, (uint32_t)d);
    ruv_index *flat = NULL, *back = NULL;
    assert_int_equal(ruv_index_build(eng, &p, x, n, NULL, &flat), RUV_OK);
    assert_int_equal(ruv_index_save(flat, path), RUV_OK);
    uint32_t cosine = RUV_METRIC_COSINE;
    edit_file(path, set_meta_metric, &cosine);
    assert_int_equal(ruv_index_load(eng, path, &back), RUV_E_CORRUPT);
    assert_non_null(strstr(ruv_last_error(), "a cosine index keeps unit vectors"));
    assert_int_equal(ruv_index_save(flat, path), RUV_OK);
    uint32_t rabitq = RUV_INDEX_RABITQ;
    edit_file(path, set_meta_type, &rabitq);
    assert_int_equal(ruv_index_load(eng, path, &back), RUV_E_CORRUPT);
    ruv_index_free(flat);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_truncated_file_under_loaded_index),
        cmocka_unit_test(test_mapped_load_checks_the_file),
        cmocka_unit_test(test_fifo_and_directory_refused),
        cmocka_unit_test(test_semantic_validation),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
