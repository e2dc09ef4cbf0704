/* Issue 13: the index layer under hostile files, odd data and full 64-bit
 * ids. Each test fails on f438c79's behaviour: a file truncated under a
 * loaded index (SIGBUS), a FIFO as the index path (open blocks), IVF over
 * duplicates (empty probed lists, fewer than k hits), tiny values (silent
 * zero scores), id 2^64-1, and outputs larger than memory. */
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

static ruv_engine *eng;
static char tmpdir[] = "/tmp/ruv-hostile-test-XXXXXX";

static uint64_t rs = 0x9e3779b97f4a7c15u;
static float frand(void) /* uniform in [-1, 1) */
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (float)((double)(rs >> 11) / 4503599627370496.0 - 1.0);
}

static float *random_rows(size_t n, size_t d)
{
    float *x = malloc(n * d * sizeof(float));
    for (size_t i = 0; i < n * d; i++)
        x[i] = frand();
    return x;
}

static void path_in(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmpdir, name);
}

static const int all_types[4] = {RUV_INDEX_FLAT_F32, RUV_INDEX_RABITQ, RUV_INDEX_RABITQ_PLUS,
                                 RUV_INDEX_RABITQ_ASYM};

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

/* (3) IVF over many exact duplicates: 6 distinct vectors, 1,200 rows, 64
 * lists. Most lists are empty; every nprobe must still give k hits, all
 * copies of the stored vector searched for. */
static void test_ivf_duplicates_complete(void **state)
{
    (void)state;
    const size_t distinct = 6, n = 1200, d = 32, k = 10;
    float *u = random_rows(distinct, d);
    float *x = malloc(n * d * sizeof(float));
    for (size_t i = 0; i < n; i++)
        memcpy(x + i * d, u + (i % distinct) * d, d * sizeof(float));
    for (int t = 1; t < 4; t++) {
        for (int metric = RUV_METRIC_L2; metric <= RUV_METRIC_COSINE; metric++) {
            ruv_index_params p;
            ruv_index_params_init(&p, all_types[t], metric, (uint32_t)d);
            p.nlist = 64;
            ruv_index *idx = NULL;
            assert_int_equal(ruv_index_build(eng, &p, x, n, NULL, &idx), RUV_OK);
            for (uint32_t np = 1; np <= 32; np++) {
                ruv_search_params sp;
                ruv_search_params_init(&sp, (uint32_t)k);
                sp.nprobe = np;
                uint64_t ids[10 * 6];
                float scores[10 * 6];
                size_t nfound[6];
                assert_int_equal(ruv_index_search_batch(idx, u, distinct, &sp, ids, scores, nfound),
                                 RUV_OK);
                for (size_t g = 0; g < distinct; g++) {
                    if (nfound[g] != k)
                        fail_msg("type %d metric %d nprobe %u query %zu: %zu hits of %zu", t,
                                 metric, np, g, nfound[g], k);
                    for (size_t j = 0; j < k; j++)
                        if (ids[g * k + j] % distinct != g)
                            fail_msg("type %d metric %d nprobe %u query %zu: hit %zu is id %llu, "
                                     "not a copy", t, metric, np, g, j,
                                     (unsigned long long)ids[g * k + j]);
                }
                /* An allow-list of one row, in a list the probe may not reach. */
                uint64_t only = n - 1;
                sp.allow = &only;
                sp.nallow = 1;
                size_t nf = 0;
                assert_int_equal(ruv_index_search(idx, u, &sp, ids, scores, &nf), RUV_OK);
                assert_int_equal(nf, 1);
                assert_int_equal(ids[0], only);
            }
            ruv_index_free(idx);
        }
    }
    /* k larger than the index: every row comes back, at nprobe 1. */
    ruv_index_params p;
    ruv_index_params_init(&p, RUV_INDEX_RABITQ_PLUS, RUV_METRIC_L2, (uint32_t)d);
    p.nlist = 64;
    ruv_index *small = NULL;
    assert_int_equal(ruv_index_build(eng, &p, x, 100, NULL, &small), RUV_OK);
    ruv_search_params sp;
    ruv_search_params_init(&sp, 500);
    sp.nprobe = 1;
    uint64_t ids[500];
    float scores[500];
    size_t nf = 0;
    assert_int_equal(ruv_index_search(small, u, &sp, ids, scores, &nf), RUV_OK);
    assert_int_equal(nf, 100);
    ruv_index_free(small);
    free(u);
    free(x);
}

/* (4) Vectors scaled to ~1e-23: cosine ranks them exactly as the unscaled
 * ones; L2 and IP, whose scores would underflow to 0, refuse them by name. */
static void test_tiny_values(void **state)
{
    (void)state;
    const size_t n = 300, d = 16, k = 5;
    float *x = random_rows(n, d);
    float *tiny = malloc(n * d * sizeof(float));
    for (int t = 0; t < 4; t++) {
        const float scale[2] = {1e-23f, 1e-40f}; /* the second: subnormal floats */
        for (int si = 0; si < 2; si++) {
            for (size_t i = 0; i < n * d; i++)
                tiny[i] = x[i] * scale[si];
            ruv_index_params p;
            ruv_index_params_init(&p, all_types[t], RUV_METRIC_COSINE, (uint32_t)d);
            ruv_index *a = NULL, *b = NULL;
            assert_int_equal(ruv_index_build(eng, &p, x, n, NULL, &a), RUV_OK);
            assert_int_equal(ruv_index_build(eng, &p, tiny, n, NULL, &b), RUV_OK);
            ruv_search_params sp;
            ruv_search_params_init(&sp, (uint32_t)k);
            for (size_t q = 0; q < 20; q++) {
                uint64_t ia[5], ib[5];
                float sa[5], sb[5];
                size_t na, nb;
                assert_int_equal(ruv_index_search(a, x + q * d, &sp, ia, sa, &na), RUV_OK);
                assert_int_equal(ruv_index_search(b, tiny + q * d, &sp, ib, sb, &nb), RUV_OK);
                assert_int_equal(na, k);
                assert_int_equal(nb, k);
                if (t == 0 || t == 2) /* exact scores: the query itself first, cosine 1 */
                    assert_int_equal(ib[0], q);
                for (size_t j = 0; j < k; j++) {
                    if (ia[j] != ib[j] || fabsf(sa[j] - sb[j]) > 1e-4f)
                        fail_msg("type %d scale %g query %zu rank %zu: %llu %g vs %llu %g", t,
                                 (double)scale[si], q, j, (unsigned long long)ia[j],
                                 (double)sa[j], (unsigned long long)ib[j], (double)sb[j]);
                }
                assert_true(sb[0] > 0.5f);
            }
            /* the batch path (flat: GEMM tiles) normalises tiny queries too */
            uint64_t ids[20 * 5];
            float scores[20 * 5];
            size_t nf[20];
            assert_int_equal(ruv_index_search_batch(b, tiny, 20, &sp, ids, scores, nf), RUV_OK);
            if (t == 0 || t == 2)
                for (size_t q = 0; q < 20; q++)
                    assert_int_equal(ids[q * k], q);
            ruv_index_free(a);
            ruv_index_free(b);
        }
        for (int metric = RUV_METRIC_L2; metric <= RUV_METRIC_IP; metric++) {
            for (size_t i = 0; i < n * d; i++)
                tiny[i] = x[i] * 1e-23f;
            ruv_index_params p;
            ruv_index_params_init(&p, all_types[t], metric, (uint32_t)d);
            ruv_index *b = NULL;
            assert_int_equal(ruv_index_build(eng, &p, tiny, n, NULL, &b), RUV_E_INVAL);
            assert_null(b);
            assert_non_null(strstr(ruv_last_error(), "input row 0: its largest |value| is"));
            assert_non_null(strstr(ruv_last_error(), "underflow"));
            /* zero vectors stay valid; a tiny query is refused the same way */
            memset(tiny, 0, d * sizeof(float));
            assert_int_equal(ruv_index_build(eng, &p, x, n, NULL, &b), RUV_OK);
            ruv_search_params sp;
            ruv_search_params_init(&sp, 3);
            uint64_t ids[3];
            float scores[3];
            size_t nf;
            assert_int_equal(ruv_index_search(b, tiny, &sp, ids, scores, &nf), RUV_OK);
            assert_int_equal(ruv_index_search(b, tiny + d, &sp, ids, scores, &nf), RUV_E_INVAL);
            assert_non_null(strstr(ruv_last_error(), "query row 0: its largest |value| is"));
            ruv_index_free(b);
        }
    }
    free(tiny);
    free(x);
}

/* (6) Ids use all 64 bits: UINT64_MAX is a real id, counted by nfound, found
 * by get and remove, and kept by save/load; nothing treats it as "none". */
static void test_full_u64_ids(void **state)
{
    (void)state;
    const size_t n = 64, d = 8;
    float *x = random_rows(n, d);
    uint64_t ids[64];
    for (size_t i = 0; i < n; i++)
        ids[i] = i;
    ids[0] = UINT64_MAX;
    ids[1] = (uint64_t)1 << 63;
    ids[2] = UINT64_MAX - 1;
    char path[256];
    path_in(path, sizeof path, "u64.idx");
    for (int t = 0; t < 4; t++) {
        ruv_index_params p;
        ruv_index_params_init(&p, all_types[t], RUV_METRIC_L2, (uint32_t)d);
        ruv_index *idx = NULL, *back = NULL;
        assert_int_equal(ruv_index_build(eng, &p, x, n, ids, &idx), RUV_OK);
        assert_int_equal(ruv_index_save(idx, path), RUV_OK);
        assert_int_equal(ruv_index_load(eng, path, &back), RUV_OK);
        ruv_index *both[2] = {idx, back};
        for (int b = 0; b < 2; b++) {
            ruv_search_params sp;
            ruv_search_params_init(&sp, 3);
            uint64_t got[9];
            float scores[9];
            size_t nf[3];
            assert_int_equal(ruv_index_search_batch(both[b], x, 3, &sp, got, scores, nf), RUV_OK);
            for (size_t q = 0; q < 3; q++) {
                assert_int_equal(nf[q], 3);
                if (t != 1 && t != 3) /* exact scores: each row finds itself first */
                    assert_int_equal(got[q * 3], ids[q]);
            }
            if (all_types[t] != RUV_INDEX_RABITQ && all_types[t] != RUV_INDEX_RABITQ_ASYM) {
                float v[8];
                assert_int_equal(ruv_index_get(both[b], UINT64_MAX, v), RUV_OK);
                assert_memory_equal(v, x, sizeof v);
            }
            /* an allow-list holding only UINT64_MAX */
            uint64_t top = UINT64_MAX;
            sp.allow = &top;
            sp.nallow = 1;
            size_t one;
            assert_int_equal(ruv_index_search(both[b], x + 5 * d, &sp, got, scores, &one), RUV_OK);
            assert_int_equal(one, 1);
            assert_int_equal(got[0], UINT64_MAX);
        }
        uint64_t gone[2] = {UINT64_MAX, (uint64_t)1 << 63};
        size_t removed = 0;
        assert_int_equal(ruv_index_remove(back, gone, 2, &removed), RUV_OK);
        assert_int_equal(removed, 2);
        assert_int_equal(ruv_index_len(back), n - 2);
        ruv_index_free(idx);
        ruv_index_free(back);
    }
    free(x);
}

/* (9) An output larger than the machine is refused up front, naming the
 * sizes, before a query is read or a slot written. */
static void test_batch_output_beyond_memory(void **state)
{
    (void)state;
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || psize <= 0)
        skip();
    uint64_t mem = (uint64_t)pages * (uint64_t)psize;
    const uint32_t k = 1000;
    size_t nq = (size_t)(mem / (12u * k)) + 1;
    float *x = random_rows(16, 4);
    ruv_index_params p;
    ruv_index_params_init(&p, RUV_INDEX_FLAT_F32, RUV_METRIC_L2, 4);
    ruv_index *idx = NULL;
    assert_int_equal(ruv_index_build(eng, &p, x, 16, NULL, &idx), RUV_OK);
    ruv_search_params sp;
    ruv_search_params_init(&sp, k);
    uint64_t ids[1];
    float scores[1];
    size_t nf[1];
    /* the arrays are far too small: they must not be touched */
    assert_int_equal(ruv_index_search_batch(idx, x, nq, &sp, ids, scores, nf), RUV_E_NOMEM);
    assert_non_null(strstr(ruv_last_error(), "more than this machine's"));
    assert_non_null(strstr(ruv_last_error(), "search in smaller batches"));
    ruv_index_free(idx);
    free(x);
}

/* (8) A garbage kernel plugin says why it cannot be opened (not "(null)"),
 * and an explicit BLAS path that cannot be used fails the open by name. */
static void test_plugin_and_blas_messages(void **state)
{
    (void)state;
    char dir[256], so[300];
    path_in(dir, sizeof dir, "garbage-plugins");
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(so, sizeof so, "%s/avx2.so", dir);
    FILE *f = fopen(so, "wb");
    assert_non_null(f);
    for (int i = 0; i < 4096; i++)
        fputc((int)(frand() * 127 + 128), f);
    fclose(f);
    ruv_config *cfg = NULL;
    assert_int_equal(ruv_config_new(&cfg), RUV_OK);
    assert_int_equal(ruv_config_set_plugin_path(cfg, dir), RUV_OK);
    ruv_engine *e = NULL;
    assert_int_equal(ruv_engine_open(cfg, &e), RUV_OK);
    ruv_plugin_info info;
    assert_int_equal(ruv_engine_plugin_find(e, "avx2", &info), RUV_OK);
    assert_int_equal(info.state, RUV_PLUGIN_FAILED);
    assert_null(strstr(info.reason, "(null)"));
    assert_null(strstr(info.reason, "file not found"));
    assert_non_null(strstr(info.reason, "avx2.so"));
    ruv_engine_close(e);
    ruv_config_free(cfg);

    assert_int_equal(ruv_config_new(&cfg), RUV_OK);
    assert_int_equal(ruv_config_set_blas_path(cfg, "/nonexistent/libblas.so"), RUV_OK);
    e = NULL;
    assert_int_equal(ruv_engine_open(cfg, &e), RUV_E_NOTFOUND);
    assert_null(e);
    assert_non_null(strstr(ruv_last_error(), "BLAS '/nonexistent/libblas.so' cannot be used"));
    /* the same when retried: a failed hint is not remembered as "searched" */
    assert_int_equal(ruv_engine_open(cfg, &e), RUV_E_NOTFOUND);
    assert_non_null(strstr(ruv_last_error(), "/nonexistent/libblas.so"));
    /* a file that is no library, and a directory without one */
    assert_int_equal(ruv_config_set_blas_path(cfg, so), RUV_OK);
    assert_int_equal(ruv_engine_open(cfg, &e), RUV_E_NOTFOUND);
    assert_non_null(strstr(ruv_last_error(), "avx2.so"));
    assert_int_equal(ruv_config_set_blas_path(cfg, tmpdir), RUV_OK);
    assert_int_equal(ruv_engine_open(cfg, &e), RUV_E_NOTFOUND);
    assert_non_null(strstr(ruv_last_error(), "no BLAS library in this directory"));
    ruv_config_free(cfg);
    unlink(so);
    rmdir(dir);
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

static int group_setup(void **state)
{
    (void)state;
    if (!mkdtemp(tmpdir))
        return -1;
    return ruv_engine_open(NULL, &eng) == RUV_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    ruv_engine_close(eng);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_truncated_file_under_loaded_index),
        cmocka_unit_test(test_mapped_load_checks_the_file),
        cmocka_unit_test(test_fifo_and_directory_refused),
        cmocka_unit_test(test_ivf_duplicates_complete),
        cmocka_unit_test(test_tiny_values),
        cmocka_unit_test(test_full_u64_ids),
        cmocka_unit_test(test_batch_output_beyond_memory),
        cmocka_unit_test(test_plugin_and_blas_messages),
        cmocka_unit_test(test_semantic_validation),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
