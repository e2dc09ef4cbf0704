/* Issue 13, the data: IVF over many exact duplicates (f438c79: empty probed
 * lists, fewer than k hits, the stored vector not found), tiny values
 * (f438c79: every score 0), id 2^64-1 end to end, a batch output beyond
 * memory (f438c79: no up-front refusal), and the plugin and BLAS messages
 * (f438c79: "cannot open: (null)", a bad BLAS path ignored). Files:
 * test_hostile.c. */
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

#include "hostile.h"

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
                /* Exact scores (flat, plus): the query itself first, the same
                 * ranking and scores. Estimates (rabitq, asym): codes of
                 * subnormal inputs (about 16 significant bits) may differ in
                 * a near-zero coordinate, so the best hit and scores close. */
                const int exact = t == 0 || t == 2;
                if (exact)
                    assert_int_equal(ib[0], q);
                for (size_t j = 0; j < k; j++) {
                    if ((exact || j == 0 ? ia[j] != ib[j] : 0) ||
                        fabsf(sa[j] - sb[j]) > (exact ? 1e-4f : 2e-2f))
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ivf_duplicates_complete),
        cmocka_unit_test(test_tiny_values),
        cmocka_unit_test(test_full_u64_ids),
        cmocka_unit_test(test_batch_output_beyond_memory),
        cmocka_unit_test(test_plugin_and_blas_messages),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
