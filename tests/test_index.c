/* Indexes through the public API: exact flat search against brute force,
 * RaBitQ recall on clustered data, ids, add/remove, allow-lists, batch ==
 * single, save/load round trips, corrupted and truncated files, bad input. */
#define _GNU_SOURCE
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

#include <ruvector/ruvector.h>

#define TESTDATA_SEED 0x12345
#define TESTDATA_TMPDIR "/tmp/ruv-index-test-XXXXXX"
#include "testdata.h"

/* Exact top-k rows by brute force in double (ties by row). */
static void brute(int metric, const float *base, size_t n, size_t d, const float *q, size_t k,
                  uint64_t *out, double *outd)
{
    double *all = malloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++)
        all[i] = dist_of(metric, q, base + i * d, d);
    for (size_t r = 0; r < k && r < n; r++) {
        size_t arg = SIZE_MAX;
        for (size_t i = 0; i < n; i++)
            if (!isnan(all[i]) && (arg == SIZE_MAX || all[i] < all[arg]))
                arg = i;
        out[r] = arg;
        if (outd)
            outd[r] = all[arg];
        all[arg] = NAN;
    }
    free(all);
}

static ruv_index *build(int type, int metric, const float *x, size_t n, size_t d, uint32_t bits,
                        uint32_t nlist)
{
    ruv_index_params p;
    assert_int_equal(ruv_index_params_init(&p, type, metric, (uint32_t)d), RUV_OK);
    p.bits = bits;
    p.nlist = nlist;
    ruv_index *idx = NULL;
    int rc = ruv_index_build(eng, &p, x, n, NULL, &idx);
    if (rc)
        fail_msg("build %s: %s", ruv_status_name(rc), ruv_last_error());
    return idx;
}

/* ---- flat ---- */

static void test_flat_exact_all_metrics_and_dims(void **state)
{
    (void)state;
    static const size_t dims[] = {1, 63, 64, 65, 100, 300, 1000};
    const int metrics[] = {RUV_METRIC_L2, RUV_METRIC_IP, RUV_METRIC_COSINE};
    for (size_t t = 0; t < sizeof dims / sizeof dims[0]; t++) {
        size_t d = dims[t], n = d >= 300 ? 700 : 1500, k = 10;
        float *x = clustered(n, d, 7, 0.5f);
        for (int m = 0; m < 3; m++) {
            ruv_index *idx = build(RUV_INDEX_FLAT_F32, metrics[m], x, n, d, 1, 0);
            for (int qi = 0; qi < 5; qi++) {
                const float *q = x + (size_t)(qi * 37 % n) * d;
                uint64_t ids[10], want[10];
                float sc[10];
                double wd[10];
                size_t nf;
                ruv_search_params sp;
                ruv_search_params_init(&sp, (uint32_t)k);
                assert_int_equal(ruv_index_search(idx, q, &sp, ids, sc, &nf), RUV_OK);
                assert_int_equal(nf, k);
                brute(metrics[m], x, n, d, q, k, want, wd);
                for (size_t r = 0; r < k; r++) {
                    /* equal distance is enough (ties may order differently) */
                    double got = dist_of(metrics[m], q, x + ids[r] * d, d);
                    if (fabs(got - wd[r]) > 1e-4 * (1 + fabs(wd[r])))
                        fail_msg("d=%zu metric=%d rank %zu: id %llu dist %.6g, want %llu %.6g",
                                 d, metrics[m], r, (unsigned long long)ids[r], got,
                                 (unsigned long long)want[r], wd[r]);
                }
                /* scores: squared L2 ascending, or similarity descending */
                for (size_t r = 1; r < k; r++)
                    assert_true(metrics[m] == RUV_METRIC_L2 ? sc[r] >= sc[r - 1]
                                                            : sc[r] <= sc[r - 1]);
            }
            ruv_index_free(idx);
        }
        free(x);
    }
}

static void test_flat_batch_equals_single(void **state)
{
    (void)state;
    size_t n = 3000, d = 48, nq = 70, k = 7;
    float *x = clustered(n, d, 5, 0.3f), *q = clustered(nq, d, 5, 0.3f);
    const int metrics[] = {RUV_METRIC_L2, RUV_METRIC_IP, RUV_METRIC_COSINE};
    /* Shifted by 100 and 1000, the GEMM scores' rounding (which grows with
     * |x|^2, not with the distance) exceeds the gaps between neighbours: the
     * batch path must still return what the single-query scan returns. */
    for (int shift = 0; shift < 3; shift++) {
        if (shift) {
            float by = shift == 1 ? 100.0f : 900.0f;
            for (size_t i = 0; i < n * d; i++)
                x[i] += by;
            for (size_t i = 0; i < nq * d; i++)
                q[i] += by;
        }
        for (int m = 0; m < 3; m++) {
            ruv_index *idx = build(RUV_INDEX_FLAT_F32, metrics[m], x, n, d, 1, 0);
            uint64_t *bi = malloc(nq * k * 8);
            float *bs = malloc(nq * k * 4);
            size_t *bn = malloc(nq * sizeof(size_t));
            ruv_search_params sp;
            ruv_search_params_init(&sp, (uint32_t)k);
            assert_int_equal(ruv_index_search_batch(idx, q, nq, &sp, bi, bs, bn), RUV_OK);
            for (size_t i = 0; i < nq; i++) {
                uint64_t ids[7];
                float sc[7];
                size_t nf;
                assert_int_equal(ruv_index_search(idx, q + i * d, &sp, ids, sc, &nf), RUV_OK);
                assert_int_equal(bn[i], nf);
                for (size_t r = 0; r < k; r++) {
                    assert_true(fabsf(bs[i * k + r] - sc[r]) <= 1e-4f * (1 + fabsf(sc[r])));
                    if (bi[i * k + r] != ids[r]) /* only a tie may swap ids */
                        assert_true(fabsf(bs[i * k + r] - sc[r]) <= 1e-4f * (1 + fabsf(sc[r])));
                }
            }
            free(bi);
            free(bs);
            free(bn);
            ruv_index_free(idx);
        }
    }
    free(x);
    free(q);
}

/* ---- argument and input errors ---- */

static void test_errors(void **state)
{
    (void)state;
    size_t d = 16;
    float *x = clustered(50, d, 3, 0.1f);
    ruv_index_params p;
    ruv_index *idx = NULL;
    assert_int_equal(ruv_index_params_init(&p, RUV_INDEX_RABITQ_PLUS, RUV_METRIC_L2, 16), RUV_OK);
    p.bits = 9;
    assert_int_equal(ruv_index_build(eng, &p, x, 50, NULL, &idx), RUV_E_INVAL);
    assert_non_null(strstr(ruv_last_error(), "bits 9 is outside 1..8"));
    assert_null(idx);
    p.bits = 1;
    p.dim = 0;
    assert_int_equal(ruv_index_build(eng, &p, x, 50, NULL, &idx), RUV_E_INVAL);
    assert_non_null(strstr(ruv_last_error(), "dimension 0"));
    p.dim = 16;
    p.type = 99;
    assert_int_equal(ruv_index_build(eng, &p, x, 50, NULL, &idx), RUV_E_INVAL);
    assert_non_null(strstr(ruv_last_error(), "unknown index type 99"));
    int t = 0;
    assert_int_equal(ruv_index_type_parse("hnsw", &t), RUV_E_INVAL);
    assert_non_null(strstr(ruv_last_error(), "unknown index type 'hnsw'"));
    assert_int_equal(ruv_metric_parse("manhattan", &t), RUV_E_INVAL);
    assert_non_null(strstr(ruv_last_error(), "unknown metric 'manhattan'"));
    p.type = RUV_INDEX_RABITQ_PLUS;

    x[17 * d + 3] = NAN;
    assert_int_equal(ruv_index_build(eng, &p, x, 50, NULL, &idx), RUV_E_INVAL);
    assert_non_null(strstr(ruv_last_error(), "row 17, column 3 is NaN"));
    x[17 * d + 3] = INFINITY;
    assert_int_equal(ruv_index_build(eng, &p, x, 50, NULL, &idx), RUV_E_INVAL);
    assert_non_null(strstr(ruv_last_error(), "row 17, column 3 is infinite"));
    x[17 * d + 3] = -3e17f; /* finite, but its squared distances would overflow */
    assert_int_equal(ruv_index_build(eng, &p, x, 50, NULL, &idx), RUV_E_INVAL);
    assert_non_null(strstr(ruv_last_error(), "row 17, column 3 is -3e+17"));
    assert_non_null(strstr(ruv_last_error(), "overflow"));
    x[17 * d + 3] = 1e16f; /* the largest accepted */
    assert_int_equal(ruv_index_build(eng, &p, x, 50, NULL, &idx), RUV_OK);
    ruv_index_free(idx);
    idx = NULL;
    x[17 * d + 3] = 0.5f;

    assert_int_equal(ruv_index_new(eng, &p, &idx), RUV_OK);
    ruv_search_params sp;
    ruv_search_params_init(&sp, 5);
    uint64_t ids[60];
    float sc[60];
    size_t nf = 99;
    assert_int_equal(ruv_index_search(idx, x, &sp, ids, sc, &nf), RUV_E_EMPTY);
    assert_non_null(strstr(ruv_last_error(), "empty index"));
    uint64_t myids[50];
    for (int i = 0; i < 50; i++)
        myids[i] = 1000 + (uint64_t)i * 7;
    assert_int_equal(ruv_index_add(idx, x, 50, myids), RUV_OK);
    sp.k = 0;
    assert_int_equal(ruv_index_search(idx, x, &sp, ids, sc, &nf), RUV_E_INVAL);
    assert_non_null(strstr(ruv_last_error(), "k must be at least 1"));
    sp.k = 60; /* more than stored: returns n */
    assert_int_equal(ruv_index_search(idx, x, &sp, ids, sc, &nf), RUV_OK);
    assert_int_equal(nf, 50);
    assert_int_equal(ids[50], UINT64_MAX);
    assert_true(isnan(sc[59]));
    float qn[16];
    memcpy(qn, x, sizeof qn);
    qn[2] = NAN;
    sp.k = 5;
    assert_int_equal(ruv_index_search(idx, qn, &sp, ids, sc, &nf), RUV_E_INVAL);
    assert_non_null(strstr(ruv_last_error(), "query row 0, column 2 is NaN"));
    assert_int_equal(ruv_index_check_dim(idx, 17, "query"), RUV_E_DIM);
    assert_non_null(strstr(ruv_last_error(), "dimension mismatch: index has 16, query has 17"));
    assert_int_equal(ruv_index_check_dim(idx, 16, "query"), RUV_OK);

    /* duplicate ids: atomic, nothing added */
    uint64_t dup[2] = {5, 1000};
    assert_int_equal(ruv_index_add(idx, x, 2, dup), RUV_E_INVAL);
    assert_non_null(strstr(ruv_last_error(), "id 1000 (row 1) is already in the index"));
    uint64_t twice[2] = {5, 5};
    assert_int_equal(ruv_index_add(idx, x, 2, twice), RUV_E_INVAL);
    assert_non_null(strstr(ruv_last_error(), "id 5 appears twice"));
    assert_int_equal(ruv_index_len(idx), 50);
    float v[16];
    assert_int_equal(ruv_index_get(idx, 5, v), RUV_E_NOTFOUND);
    assert_int_equal(ruv_index_get(idx, 1007, v), RUV_OK);
    assert_memory_equal(v, x + d, sizeof v);
    ruv_index_free(idx);

    /* codes-only index has no originals */
    p.type = RUV_INDEX_RABITQ;
    assert_int_equal(ruv_index_build(eng, &p, x, 50, NULL, &idx), RUV_OK);
    assert_int_equal(ruv_index_get(idx, 3, v), RUV_E_UNSUPPORTED);
    assert_non_null(strstr(ruv_last_error(), "codes only"));
    const float *vv;
    assert_int_equal(ruv_index_vectors(idx, &vv, NULL), RUV_E_UNSUPPORTED);
    ruv_index_free(idx);
    free(x);
}

/* ---- RaBitQ family ---- */

static double recall_at(ruv_index *idx, int metric, const float *x, size_t n, size_t d,
                        const float *qs, size_t nq, size_t k, uint32_t nprobe)
{
    size_t hits = 0;
    uint64_t *ids = malloc(k * 8), *want = malloc(k * 8);
    float *sc = malloc(k * 4);
    double *wd = malloc(k * sizeof(double));
    ruv_search_params sp;
    ruv_search_params_init(&sp, (uint32_t)k);
    sp.nprobe = nprobe;
    for (size_t i = 0; i < nq; i++) {
        size_t nf;
        assert_int_equal(ruv_index_search(idx, qs + i * d, &sp, ids, sc, &nf), RUV_OK);
        brute(metric, x, n, d, qs + i * d, k, want, wd);
        for (size_t r = 0; r < nf; r++) /* tie-tolerant hit (rabitq.md 8.2) */
            if (dist_of(metric, qs + i * d, x + ids[r] * d, d) <=
                wd[k - 1] + 1e-6 * (1 + fabs(wd[k - 1])))
                hits++;
    }
    free(ids);
    free(want);
    free(sc);
    free(wd);
    return (double)hits / (double)(nq * k);
}

static void test_rabitq_recall(void **state)
{
    (void)state;
    size_t n = 20000, d = 128, nq = 30, k = 10;
    float *x = clustered(n + nq, d, 20, 0.6f), *q = x + n * d;
    struct { int type; uint32_t bits, nlist; double floor; const char *what; } cases[] = {
        {RUV_INDEX_RABITQ_PLUS, 1, 0, 0.97, "plus 1-bit, error-bound rerank"},
        {RUV_INDEX_RABITQ_PLUS, 1, 64, 0.95, "plus 1-bit IVF64 nprobe 16"},
        {RUV_INDEX_RABITQ, 1, 0, 0.09, "codes-only 1-bit"},
        {RUV_INDEX_RABITQ, 4, 0, 0.45, "codes-only 4-bit"},
        {RUV_INDEX_RABITQ_ASYM, 1, 0, 0.09, "asym 1-bit"},
        {RUV_INDEX_RABITQ_PLUS, 3, 0, 0.97, "plus 3-bit"},
    };
    double r1 = 0, r4 = 0;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        ruv_index *idx = build(cases[c].type, RUV_METRIC_L2, x, n, d, cases[c].bits, cases[c].nlist);
        double r = recall_at(idx, RUV_METRIC_L2, x, n, d, q, nq, k, 16);
        print_message("recall@10 %-32s %.3f (floor %.2f)\n", cases[c].what, r, cases[c].floor);
        if (r < cases[c].floor)
            fail_msg("%s: recall %.3f below %.2f", cases[c].what, r, cases[c].floor);
        if (cases[c].type == RUV_INDEX_RABITQ && cases[c].bits == 1)
            r1 = r;
        if (cases[c].type == RUV_INDEX_RABITQ && cases[c].bits == 4)
            r4 = r;
        ruv_index_free(idx);
    }
    assert_true(r4 > r1 + 0.1); /* more bits, clearly better estimates */
    free(x);
}

/* Top-10 ids shared with the float-query (asym) index, over nq queries. */
static size_t same_as_float_query(ruv_index *a, ruv_index *b, const float *q, size_t nq, size_t d)
{
    ruv_search_params sp;
    ruv_search_params_init(&sp, 10);
    sp.nprobe = 4;
    size_t same = 0;
    for (size_t i = 0; i < nq; i++) {
        uint64_t ia[10], ib[10];
        float sa[10], sb[10];
        size_t na, nb;
        assert_int_equal(ruv_index_search(a, q + i * d, &sp, ia, sa, &na), RUV_OK);
        assert_int_equal(ruv_index_search(b, q + i * d, &sp, ib, sb, &nb), RUV_OK);
        assert_int_equal(na, 10);
        assert_int_equal(nb, 10);
        for (size_t j = 0; j < 10; j++)
            for (size_t t = 0; t < 10; t++)
                same += ia[j] == ib[t];
    }
    return same;
}

/* Codes-only search reads <b, q> through FastScan tables quantised to
 * query_bits per entry: at the default 8 its ranking should be nearly the
 * float-query (asym) index's, and clearly closer to it than at 4 bits. */
static void test_rabitq_fastscan_tracks_float_query(void **state)
{
    (void)state;
    size_t n = 6000, d = 96, nq = 40;
    float *x = clustered(n + nq, d, 12, 0.6f), *q = x + n * d;
    ruv_index *ref = build(RUV_INDEX_RABITQ_ASYM, RUV_METRIC_L2, x, n, d, 1, 16);
    size_t same[2];
    const uint32_t qbits[2] = {8, 4};
    for (int t = 0; t < 2; t++) {
        ruv_index_params p;
        assert_int_equal(ruv_index_params_init(&p, RUV_INDEX_RABITQ, RUV_METRIC_L2, (uint32_t)d),
                         RUV_OK);
        assert_int_equal(p.query_bits, 8); /* the default */
        p.bits = 1; /* as the reference: only the query quantisation differs */
        p.nlist = 16;
        p.query_bits = qbits[t];
        ruv_index *a = NULL;
        assert_int_equal(ruv_index_build(eng, &p, x, n, NULL, &a), RUV_OK);
        same[t] = same_as_float_query(a, ref, q, nq, d);
        print_message("query_bits %u: top-10 ids shared with the float query: %zu of %zu\n",
                      qbits[t], same[t], nq * 10);
        ruv_index_free(a);
    }
    assert_true(same[0] >= nq * 10 * 9 / 10);
    assert_true(same[0] > same[1]);
    ruv_index_free(ref);
    free(x);
}

static void test_rabitq_ip_and_cosine(void **state)
{
    (void)state;
    size_t n = 5000, d = 64, nq = 20, k = 10;
    float *x = clustered(n + nq, d, 10, 0.4f), *q = x + n * d;
    const int metrics[] = {RUV_METRIC_IP, RUV_METRIC_COSINE};
    for (int m = 0; m < 2; m++) {
        ruv_index *idx = build(RUV_INDEX_RABITQ_PLUS, metrics[m], x, n, d, 1, 0);
        double r = recall_at(idx, metrics[m], x, n, d, q, nq, k, 0);
        if (r < 0.95)
            fail_msg("metric %d: plus recall %.3f", metrics[m], r);
        ruv_index_free(idx);
    }
    free(x);
}

static void test_add_remove_allow(void **state)
{
    (void)state;
    size_t n = 2000, d = 32, k = 10;
    float *x = clustered(n, d, 8, 0.3f);
    const int types[] = {RUV_INDEX_FLAT_F32, RUV_INDEX_RABITQ_PLUS, RUV_INDEX_RABITQ};
    for (int t = 0; t < 3; t++) {
        ruv_index_params p;
        ruv_index_params_init(&p, types[t], RUV_METRIC_L2, (uint32_t)d);
        uint64_t *ids = malloc(n * 8);
        for (size_t i = 0; i < n; i++)
            ids[i] = 1000000 + i * 3;
        ruv_index *idx = NULL;
        assert_int_equal(ruv_index_build(eng, &p, x, n, ids, &idx), RUV_OK);
        /* remove every other vector, including the query's own */
        uint64_t *gone = malloc(n / 2 * 8);
        for (size_t i = 0; i < n / 2; i++)
            gone[i] = ids[2 * i];
        size_t removed = 0;
        assert_int_equal(ruv_index_remove(idx, gone, n / 2, &removed), RUV_OK);
        assert_int_equal(removed, n / 2);
        assert_int_equal(ruv_index_len(idx), n - n / 2);
        assert_int_equal(ruv_index_remove(idx, gone, 3, &removed), RUV_OK);
        assert_int_equal(removed, 0); /* already gone: not an error */
        ruv_search_params sp;
        ruv_search_params_init(&sp, (uint32_t)k);
        uint64_t got[10];
        float sc[10];
        size_t nf;
        for (int qi = 0; qi < 20; qi++) {
            assert_int_equal(ruv_index_search(idx, x + (size_t)qi * 50 * d, &sp, got, sc, &nf),
                             RUV_OK);
            for (size_t r = 0; r < nf; r++)
                assert_true((got[r] - 1000000) / 3 % 2 == 1); /* never a removed id */
        }
        /* allow-list: only ids in the list come back */
        uint64_t allow[5] = {ids[1], ids[3], ids[5], ids[0] /* removed */, 42 /* unknown */};
        sp.allow = allow;
        sp.nallow = 5;
        assert_int_equal(ruv_index_search(idx, x, &sp, got, sc, &nf), RUV_OK);
        assert_int_equal(nf, 3);
        for (size_t r = 0; r < nf; r++)
            assert_true(got[r] == ids[1] || got[r] == ids[3] || got[r] == ids[5]);
        sp.allow = NULL;
        sp.nallow = 0;
        /* re-add a removed id; it is found again */
        assert_int_equal(ruv_index_add(idx, x, 1, &ids[0]), RUV_OK);
        assert_int_equal(ruv_index_search(idx, x, &sp, got, sc, &nf), RUV_OK);
        assert_int_equal(got[0], ids[0]);
        if (types[t] != RUV_INDEX_RABITQ) {
            float v[32];
            assert_int_equal(ruv_index_get(idx, ids[1999], v), RUV_OK);
            assert_memory_equal(v, x + 1999 * d, sizeof v);
        }
        free(gone);
        free(ids);
        ruv_index_free(idx);
    }
    free(x);
}

/* Ids that are row numbers (no caller ids, or 0..n-1) keep no id table;
 * everything that breaks that pattern must still find the right vectors. */
static void test_row_number_ids(void **state)
{
    (void)state;
    size_t n = 600, d = 16;
    float *x = clustered(n + 3, d, 6, 0.3f);
    const int types[] = {RUV_INDEX_FLAT_F32, RUV_INDEX_RABITQ_PLUS, RUV_INDEX_RABITQ};
    for (int t = 0; t < 3; t++) {
        ruv_index *idx = build(types[t], RUV_METRIC_L2, x, n, d, 1, 0);
        /* continuing the numbering, then clashing with it */
        uint64_t next = n, clash = 7;
        assert_int_equal(ruv_index_add(idx, x + n * d, 1, &next), RUV_OK);
        assert_int_equal(ruv_index_add(idx, x + (n + 1) * d, 1, &clash), RUV_E_INVAL);
        assert_non_null(strstr(ruv_last_error(), "id 7 (row 0) is already in the index"));
        assert_int_equal(ruv_index_len(idx), n + 1);
        /* removing the last row, then one in the middle, then re-adding it */
        size_t removed = 0;
        assert_int_equal(ruv_index_remove(idx, &next, 1, &removed), RUV_OK);
        assert_int_equal(removed, 1);
        uint64_t mid = 123;
        assert_int_equal(ruv_index_remove(idx, &mid, 1, &removed), RUV_OK);
        assert_int_equal(removed, 1);
        assert_int_equal(ruv_index_len(idx), n - 1);
        ruv_search_params sp;
        ruv_search_params_init(&sp, 5);
        uint64_t got[5];
        float sc[5];
        size_t nf;
        for (size_t q = 0; q < n; q += 37) {
            assert_int_equal(ruv_index_search(idx, x + q * d, &sp, got, sc, &nf), RUV_OK);
            for (size_t r = 0; r < nf; r++)
                assert_true(got[r] != mid && got[r] < n);
            if (q != mid && types[t] != RUV_INDEX_RABITQ)
                assert_int_equal(got[0], q); /* exact re-rank: its own vector first */
        }
        uint64_t allow[3] = {mid, n - 1, 5};
        sp.allow = allow;
        sp.nallow = 3;
        assert_int_equal(ruv_index_search(idx, x, &sp, got, sc, &nf), RUV_OK);
        assert_int_equal(nf, 2); /* mid is gone */
        sp.allow = NULL;
        sp.nallow = 0;
        assert_int_equal(ruv_index_add(idx, x + mid * d, 1, &mid), RUV_OK);
        assert_int_equal(ruv_index_search(idx, x + mid * d, &sp, got, sc, &nf), RUV_OK);
        if (types[t] != RUV_INDEX_RABITQ) {
            assert_int_equal(got[0], mid);
            float v[16];
            assert_int_equal(ruv_index_get(idx, n - 1, v), RUV_OK); /* moved into mid's row */
            assert_memory_equal(v, x + (n - 1) * d, sizeof v);
        }
        ruv_index_free(idx);
    }
    free(x);
}

/* ---- files ---- */

static void search_all(ruv_index *idx, const float *q, size_t nq, size_t d, uint64_t *ids,
                       float *sc)
{
    ruv_search_params sp;
    ruv_search_params_init(&sp, 10);
    for (size_t i = 0; i < nq; i++) {
        size_t nf;
        assert_int_equal(ruv_index_search(idx, q + i * d, &sp, ids + i * 10, sc + i * 10, &nf),
                         RUV_OK);
    }
}

static void test_save_load_round_trip(void **state)
{
    (void)state;
    size_t n = 3000, d = 40, nq = 15;
    float *x = clustered(n + nq, d, 9, 0.4f), *q = x + n * d;
    struct { int type, metric; uint32_t bits, nlist; } cases[] = {
        {RUV_INDEX_FLAT_F32, RUV_METRIC_L2, 1, 0},   {RUV_INDEX_FLAT_F32, RUV_METRIC_COSINE, 1, 0},
        {RUV_INDEX_RABITQ, RUV_METRIC_L2, 1, 0},     {RUV_INDEX_RABITQ, RUV_METRIC_IP, 4, 16},
        {RUV_INDEX_RABITQ_PLUS, RUV_METRIC_L2, 1, 8}, {RUV_INDEX_RABITQ_ASYM, RUV_METRIC_L2, 2, 0},
        {RUV_INDEX_RABITQ_PLUS, RUV_METRIC_COSINE, 3, 8}, {RUV_INDEX_RABITQ, RUV_METRIC_L2, 8, 0},
    };
    char path[256];
    snprintf(path, sizeof path, "%s/rt.ruv", tmpdir);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        ruv_index *a = build(cases[c].type, cases[c].metric, x, n, d, cases[c].bits, cases[c].nlist);
        uint64_t gone = 7;
        ruv_index_remove(a, &gone, 1, NULL); /* saved state includes a removal */
        int rc = ruv_index_save(a, path);
        if (rc)
            fail_msg("save: %s", ruv_last_error());
        ruv_index *b = NULL;
        rc = ruv_index_load(eng, path, &b);
        if (rc)
            fail_msg("load case %zu: %s", c, ruv_last_error());
        assert_int_equal(ruv_index_len(a), ruv_index_len(b));
        uint64_t ia[150], ib[150];
        float sa[150], sb[150];
        search_all(a, q, nq, d, ia, sa);
        search_all(b, q, nq, d, ib, sb);
        assert_memory_equal(ia, ib, sizeof ia); /* bit-identical results */
        assert_memory_equal(sa, sb, sizeof sa);
        /* the loaded index keeps working: add and remove after load */
        uint64_t nid = 99999999;
        assert_int_equal(ruv_index_add(b, q, 1, &nid), RUV_OK);
        assert_int_equal(ruv_index_remove(b, &nid, 1, NULL), RUV_OK);
        search_all(b, q, nq, d, ib, sb);
        assert_memory_equal(ia, ib, sizeof ia);
        ruv_index_free(a);
        ruv_index_free(b);
    }
    free(x);
}

static void test_corrupt_and_truncated_files(void **state)
{
    (void)state;
    size_t n = 300, d = 24;
    float *x = clustered(n, d, 4, 0.4f);
    ruv_index *a = build(RUV_INDEX_RABITQ_PLUS, RUV_METRIC_L2, x, n, d, 1, 4);
    char path[256], bad[256];
    snprintf(path, sizeof path, "%s/good.ruv", tmpdir);
    snprintf(bad, sizeof bad, "%s/bad.ruv", tmpdir);
    assert_int_equal(ruv_index_save(a, path), RUV_OK);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *img = malloc((size_t)len);
    assert_int_equal(fread(img, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    ruv_index *b = NULL;
    /* truncations and single-byte flips at spread-out offsets */
    for (long cut = 0; cut < len; cut += len / 37 + 1) {
        FILE *g = fopen(bad, "wb");
        fwrite(img, 1, (size_t)cut, g);
        fclose(g);
        int rc = ruv_index_load(eng, bad, &b);
        assert_true(rc == RUV_E_CORRUPT || rc == RUV_E_IO);
        assert_null(b);
        assert_non_null(strstr(ruv_last_error(), bad));
    }
    for (long at = 0; at < len; at += len / 53 + 1) {
        img[at] ^= 0x40;
        FILE *g = fopen(bad, "wb");
        fwrite(img, 1, (size_t)len, g);
        fclose(g);
        img[at] ^= 0x40;
        int rc = ruv_index_load(eng, bad, &b);
        if (rc != RUV_E_CORRUPT)
            fail_msg("flip at %ld: %s %s", at, ruv_status_name(rc), ruv_last_error());
        assert_null(b);
    }
    snprintf(bad, sizeof bad, "%s/missing.ruv", tmpdir);
    assert_int_equal(ruv_index_load(eng, bad, &b), RUV_E_NOTFOUND);
    assert_non_null(strstr(ruv_last_error(), "missing.ruv"));
    /* a failed save leaves the old file intact */
    snprintf(bad, sizeof bad, "%s/no-such-dir/x.ruv", tmpdir);
    assert_int_equal(ruv_index_save(a, bad), RUV_E_NOTFOUND);
    assert_non_null(strstr(ruv_last_error(), "no-such-dir"));
    assert_int_equal(ruv_index_load(eng, path, &b), RUV_OK);
    ruv_index_free(b);
    free(img);
    free(x);
    ruv_index_free(a);
}

/* ---- crafted files: a saved file edited with valid checksums ---- */

static uint32_t crc32c(const unsigned char *p, size_t n) /* docs/file-format.md */
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int b = 0; b < 8; b++)
            c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
    }
    return ~c;
}

static uint64_t le(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Sets the u32 at byte `at` of section `tag` and refreshes the section's,
 * the table's and the header's CRC-32C, so only the index checks can object. */
static void patch_u32(unsigned char *img, const char *tag, size_t at, uint32_t v)
{
    size_t count = le(img + 20, 4), table = le(img + 32, 8);
    for (size_t i = 0; i < count; i++) {
        unsigned char *e = img + table + 32 * i;
        if (memcmp(e, tag, 4))
            continue;
        size_t off = le(e + 8, 8), len = le(e + 16, 8);
        assert_true(at + 4 <= len);
        put_le32(img + off + at, v);
        put_le32(e + 24, crc32c(img + off, len));
        put_le32(img + 40, crc32c(img + table, 32 * count));
        put_le32(img + 44, 0);
        put_le32(img + 44, crc32c(img, 64));
        return;
    }
    fail_msg("no section '%s'", tag);
}

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *img = malloc(*len);
    assert_non_null(img);
    assert_int_equal(fread(img, 1, *len, f), *len);
    fclose(f);
    return img;
}

static void write_file(const char *path, const unsigned char *img, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(img, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* L2 RaBitQ encodes x - origin (the mean of the centroids): data a long way
 * from 0 must be searched as well as the same data near it. Before the
 * origin, a shift of 1000 (the clusters spanning +-2) left the 8-bit query
 * tables with a step of ~100 and recall near 0, re-rank included. */
static void test_rabitq_far_from_origin(void **state)
{
    (void)state;
    size_t n = 3000, d = 32, nq = 40, k = 10;
    float *x = clustered(n, d, 12, 0.3f), *xs = malloc(n * d * sizeof(float));
    for (size_t i = 0; i < n * d; i++)
        xs[i] = x[i] + 1000.0f;
    const int types[] = {RUV_INDEX_RABITQ, RUV_INDEX_RABITQ_PLUS};
    for (int t = 0; t < 2; t++)
        for (uint32_t nlist = 0; nlist <= 16; nlist += 16) {
            ruv_index *a = build(types[t], RUV_METRIC_L2, x, n, d, 1, nlist);
            ruv_index *b = build(types[t], RUV_METRIC_L2, xs, n, d, 1, nlist);
            ruv_search_params sp;
            ruv_search_params_init(&sp, (uint32_t)k);
            sp.nprobe = 4;
            size_t shared = 0;
            for (size_t qi = 0; qi < nq; qi++) {
                uint64_t ga[10], gb[10];
                float sa[10], sb[10];
                size_t na, nb;
                assert_int_equal(ruv_index_search(a, x + qi * 71 * d, &sp, ga, sa, &na), RUV_OK);
                assert_int_equal(ruv_index_search(b, xs + qi * 71 * d, &sp, gb, sb, &nb), RUV_OK);
                for (size_t i = 0; i < nb; i++)
                    for (size_t j = 0; j < na; j++)
                        shared += gb[i] == ga[j];
                if (types[t] == RUV_INDEX_RABITQ_PLUS) /* exact re-rank: its own row first */
                    assert_int_equal(gb[0], qi * 71);
            }
            print_message("far from origin: %s nlist %u: %zu of %zu ids shared\n",
                          types[t] == RUV_INDEX_RABITQ ? "rabitq" : "rabitq_plus", nlist, shared,
                          nq * k);
            assert_true(shared >= nq * k * 8 / 10);
            ruv_index_free(a);
            ruv_index_free(b);
        }
    free(x);
    free(xs);
}

/* Version 1 files have no frame origin (section ORIG): they are read with
 * the origin at 0, which is what their codes were encoded against. An
 * index made with ruv_index_new has no origin either, so its file, marked
 * version 1, stands for one. */
static void test_version1_file_without_origin(void **state)
{
    (void)state;
    size_t n = 500, d = 24;
    float *x = clustered(n, d, 5, 0.3f);
    ruv_index_params p;
    ruv_index_params_init(&p, RUV_INDEX_RABITQ, RUV_METRIC_L2, (uint32_t)d);
    ruv_index *a = NULL;
    assert_int_equal(ruv_index_new(eng, &p, &a), RUV_OK);
    uint64_t *ids = malloc(n * sizeof *ids);
    for (size_t i = 0; i < n; i++)
        ids[i] = i * 7;
    assert_int_equal(ruv_index_add(a, x, n, ids), RUV_OK);
    char path[300];
    snprintf(path, sizeof path, "%s/v1.ruv", tmpdir);
    assert_int_equal(ruv_index_save(a, path), RUV_OK);
    size_t len;
    unsigned char *img = read_file(path, &len);
    assert_int_equal(le(img + 8, 4), 3);
    put_le32(img + 8, 1);
    put_le32(img + 44, 0);
    put_le32(img + 44, crc32c(img, 64));
    write_file(path, img, len);
    ruv_index *b = NULL;
    assert_int_equal(ruv_index_load(eng, path, &b), RUV_OK);
    ruv_search_params sp;
    ruv_search_params_init(&sp, 10);
    for (size_t qi = 0; qi < 20; qi++) {
        uint64_t ga[10], gb[10];
        float sa[10], sb[10];
        size_t na, nb;
        assert_int_equal(ruv_index_search(a, x + qi * 13 * d, &sp, ga, sa, &na), RUV_OK);
        assert_int_equal(ruv_index_search(b, x + qi * 13 * d, &sp, gb, sb, &nb), RUV_OK);
        assert_int_equal(na, nb);
        assert_memory_equal(ga, gb, na * sizeof *ga);
        assert_memory_equal(sa, sb, na * sizeof *sa);
    }
    free(img);
    free(ids);
    ruv_index_free(a);
    ruv_index_free(b);
    free(x);
}

/* Seen while writing tests/fuzz/fuzz_index_load, which aborts on it (ASan
 * out-of-memory): a META asking for 2^20 lists of dimension 65536 in a
 * 1 KiB file made the loader allocate 2 x 256 GiB of centroids before it
 * looked at CENT (RUV_E_NOMEM here, or whatever the allocator does). It
 * must be refused as corrupt, before any allocation of that size. */
static void test_load_meta_sizes_checked_before_allocation(void **state)
{
    (void)state;
    size_t n = 20, d = 3;
    float *x = clustered(n, d, 2, 0.4f);
    ruv_index *a = build(RUV_INDEX_RABITQ, RUV_METRIC_L2, x, n, d, 1, 0);
    char path[256];
    snprintf(path, sizeof path, "%s/huge-meta.ruv", tmpdir);
    assert_int_equal(ruv_index_save(a, path), RUV_OK);
    size_t len;
    unsigned char *img = read_file(path, &len);
    patch_u32(img, "META", 12, 65536);   /* dim */
    patch_u32(img, "META", 20, 1u << 20); /* nlist */
    write_file(path, img, len);
    ruv_index *b = NULL;
    int rc = ruv_index_load(eng, path, &b);
    if (rc != RUV_E_CORRUPT)
        fail_msg("load: %s %s", ruv_status_name(rc), ruv_last_error());
    assert_null(b);
    assert_non_null(strstr(ruv_last_error(), "'CENT' holds"));
    assert_non_null(strstr(ruv_last_error(), path));
    free(img);
    ruv_index_free(a);
    free(x);
}

static void test_memory_bytes_honest(void **state)
{
    (void)state;
    size_t n = 10000, d = 128;
    float *x = clustered(n, d, 10, 0.5f);
    ruv_index *flat = build(RUV_INDEX_FLAT_F32, RUV_METRIC_L2, x, n, d, 1, 0);
    ruv_index *rq = build(RUV_INDEX_RABITQ, RUV_METRIC_L2, x, n, d, 1, 0);
    size_t fb = ruv_index_memory_bytes(flat), rb = ruv_index_memory_bytes(rq);
    assert_true(fb >= n * d * 4);           /* at least the vectors */
    assert_true(rb < fb / 5);               /* codes are far smaller */
    assert_true(rb >= n * (d / 8 + 12));    /* and at least codes + factors */
    /* issue 3: at most D/8 + 16 bytes a vector plus its 8-byte id, and a
     * fixed part (rotation, one centroid, list slack below 32 entries) */
    assert_true(rb <= n * (d / 8 + 16 + 8) + 32 * 1024);
    print_message("memory: flat %.1f B/vec, rabitq 1-bit %.1f B/vec\n", (double)fb / n,
                  (double)rb / n);
    ruv_index_free(flat);
    ruv_index_free(rq);
    free(x);
}

struct seen_progress {
    int calls, encoding_done, kmeans_done;
    uint64_t last_done;
    int monotonic;
};

static void count_progress(void *ctx, const char *phase, uint64_t done, uint64_t total)
{
    struct seen_progress *sp = ctx;
    if (sp->calls++ && !strcmp(phase, "encoding") && done < sp->last_done)
        sp->monotonic = 0;
    if (!strcmp(phase, "encoding")) {
        sp->last_done = done;
        if (done == total)
            sp->encoding_done = 1;
    }
    if (!strcmp(phase, "k-means") && done == total)
        sp->kmeans_done = 1;
}

static void test_progress_callback(void **state)
{
    (void)state;
    struct seen_progress sp = {0, 0, 0, 0, 1};
    ruv_config *cfg = NULL;
    ruv_engine *e = NULL;
    assert_int_equal(ruv_config_new(&cfg), RUV_OK);
    assert_int_equal(ruv_config_set_progress(cfg, count_progress, &sp), RUV_OK);
    assert_int_equal(ruv_engine_open(cfg, &e), RUV_OK);
    ruv_config_free(cfg);
    size_t n = 5000, d = 32;
    float *x = clustered(n, d, 6, 0.3f);
    ruv_index_params p;
    ruv_index_params_init(&p, RUV_INDEX_RABITQ, RUV_METRIC_L2, (uint32_t)d);
    p.nlist = 8;
    ruv_index *idx = NULL;
    assert_int_equal(ruv_index_build(e, &p, x, n, NULL, &idx), RUV_OK);
    assert_true(sp.calls >= 3);
    assert_true(sp.kmeans_done);
    assert_true(sp.encoding_done);
    assert_true(sp.monotonic);
    ruv_index_free(idx);
    ruv_engine_close(e);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flat_exact_all_metrics_and_dims),
        cmocka_unit_test(test_flat_batch_equals_single),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_rabitq_recall),
        cmocka_unit_test(test_rabitq_fastscan_tracks_float_query),
        cmocka_unit_test(test_rabitq_ip_and_cosine),
        cmocka_unit_test(test_add_remove_allow),
        cmocka_unit_test(test_row_number_ids),
        cmocka_unit_test(test_rabitq_far_from_origin),
        cmocka_unit_test(test_version1_file_without_origin),
        cmocka_unit_test(test_save_load_round_trip),
        cmocka_unit_test(test_corrupt_and_truncated_files),
        cmocka_unit_test(test_load_meta_sizes_checked_before_allocation),
        cmocka_unit_test(test_memory_bytes_honest),
        cmocka_unit_test(test_progress_callback),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
