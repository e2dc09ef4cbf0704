/* FlatF32Index's exact scans through the public API, against a reference
 * scan in double: the single-query fused scans (l2sq_f32_1xN_below for L2,
 * dot_f32_1xN_above for inner product and cosine) and the batch path (GEMM
 * tiles, then exact re-scoring). On small-integer data every distance is
 * exact in float, so results must equal the reference id for id, ties
 * broken by the lower row, whatever the summation order: duplicated rows,
 * k > n, n not a multiple of the scan block (1024 rows) or GEMM tile (512),
 * dims that are not multiples of 8 (the masked tails) and rows of at most
 * 128 bytes (scored four at a time), on indexes small enough to be scored
 * four rows at a time from cache and past 4 MiB, where the fused scans run. Also allow-lists, cosine batch ==
 * single, and NaN/Inf queries still rejected on both paths. */
#define _GNU_SOURCE
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <ruvector/ruvector.h>

#define TESTDATA_SEED 0x5ca9
#define TESTDATA_TMPDIR "/tmp/ruv-flat-scan-test-XXXXXX"
#include "testdata.h"

/* n x d values in -3..3; every fifth row (from row 5 on) copies an earlier
 * one, so exact ties are common. */
static float *integer_rows(size_t n, size_t d)
{
    float *x = malloc((n ? n : 1) * d * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        if (i >= 5 && i % 5 == 0) {
            size_t src = (size_t)(urand() * (double)i) % i;
            memcpy(x + i * d, x + src * d, d * sizeof(float));
            continue;
        }
        for (size_t j = 0; j < d; j++)
            x[i * d + j] = (float)((int)(urand() * 7) - 3);
    }
    return x;
}

/* The reference: every row's distance in double, the k best by (distance,
 * row); returns how many (min(k, number of allowed rows)). */
static size_t reference(int metric, const float *x, size_t n, size_t d, const float *q,
                        const uint8_t *allowed, size_t k, uint64_t *ids, double *dist)
{
    double *all = malloc((n ? n : 1) * sizeof(double));
    for (size_t i = 0; i < n; i++)
        all[i] = allowed && !allowed[i] ? NAN : dist_of(metric, q, x + i * d, d);
    size_t m = 0;
    for (; m < k; m++) {
        size_t arg = SIZE_MAX;
        for (size_t i = 0; i < n; i++) /* strict <: the lower row wins a tie */
            if (!isnan(all[i]) && (arg == SIZE_MAX || all[i] < all[arg]))
                arg = i;
        if (arg == SIZE_MAX)
            break;
        ids[m] = arg;
        dist[m] = all[arg];
        all[arg] = NAN;
    }
    free(all);
    return m;
}

static ruv_index *build(int metric, const float *x, size_t n, size_t d)
{
    ruv_index_params p;
    assert_int_equal(ruv_index_params_init(&p, RUV_INDEX_FLAT_F32, metric, (uint32_t)d), RUV_OK);
    ruv_index *idx = NULL;
    int rc = ruv_index_build(eng, &p, x, n, NULL, &idx);
    if (rc)
        fail_msg("build %s: %s", ruv_status_name(rc), ruv_last_error());
    return idx;
}

/* The engine's score for a reference distance: squared L2, or the dot. */
static double score_of(int metric, double dist) { return metric == RUV_METRIC_L2 ? dist : -dist; }

static void check_exact(int metric, size_t n, size_t d, size_t k)
{
    const size_t nq = 9;
    float *x = integer_rows(n, d);
    float *q = malloc(nq * d * sizeof(float));
    for (size_t i = 0; i < nq; i++) { /* some queries are rows, some not */
        if (i % 3 == 0 && n)
            memcpy(q + i * d, x + (i * 7 % n) * d, d * sizeof(float));
        else
            for (size_t j = 0; j < d; j++)
                q[i * d + j] = (float)((int)(urand() * 7) - 3);
    }
    ruv_index *idx = build(metric, x, n, d);
    uint64_t *want = malloc(k * sizeof *want), *ids = malloc(nq * k * sizeof *ids);
    double *wd = malloc(k * sizeof *wd);
    float *sc = malloc(nq * k * sizeof *sc);
    size_t nf[9];
    ruv_search_params sp;
    ruv_search_params_init(&sp, (uint32_t)k);
    assert_int_equal(ruv_index_search_batch(idx, q, nq, &sp, ids, sc, nf), RUV_OK);
    for (int batch = 1; batch >= 0; batch--) {
        for (size_t i = 0; i < nq; i++) {
            const float *qi = q + i * d;
            size_t m = reference(metric, x, n, d, qi, NULL, k, want, wd);
            uint64_t *gi = ids + i * k;
            float *gs = sc + i * k;
            size_t got = nf[i];
            if (!batch)
                assert_int_equal(ruv_index_search(idx, qi, &sp, gi, gs, &got), RUV_OK);
            if (got != m)
                fail_msg("metric %d n=%zu d=%zu k=%zu query %zu (%s): %zu results, want %zu",
                         metric, n, d, k, i, batch ? "batch" : "single", got, m);
            for (size_t r = 0; r < m; r++)
                if (gi[r] != want[r] || (double)gs[r] != score_of(metric, wd[r]))
                    fail_msg("metric %d n=%zu d=%zu k=%zu query %zu (%s) rank %zu: id %llu "
                             "score %.9g, want id %llu score %.9g",
                             metric, n, d, k, i, batch ? "batch" : "single", r,
                             (unsigned long long)gi[r], (double)gs[r],
                             (unsigned long long)want[r], score_of(metric, wd[r]));
            for (size_t r = m; r < k; r++) /* padding */
                assert_true(gi[r] == UINT64_MAX && isnan(gs[r]));
        }
    }
    ruv_index_free(idx);
    free(x);
    free(q);
    free(want);
    free(ids);
    free(wd);
    free(sc);
}

static void test_exact_ids_and_ties(void **state)
{
    (void)state;
    /* d: masked tail only, short rows (<= 128 bytes, four at a time) with
     * and without a tail, long rows with and without a tail */
    static const size_t dims[] = {5, 24, 29, 37, 64, 130};
    /* n: tiny, below one block, one block plus and minus a row, several
     * blocks and tiles with a remainder */
    static const size_t ns[] = {1, 7, 1023, 1025, 2500};
    const int metrics[] = {RUV_METRIC_L2, RUV_METRIC_IP};
    for (size_t m = 0; m < 2; m++)
        for (size_t t = 0; t < sizeof dims / sizeof dims[0]; t++)
            for (size_t u = 0; u < sizeof ns / sizeof ns[0]; u++) {
                size_t n = ns[u];
                check_exact(metrics[m], n, dims[t], 10);
                if (n < 100) /* k > n: every row, then padding */
                    check_exact(metrics[m], n, dims[t], n + 5);
                else if (dims[t] == 37)
                    check_exact(metrics[m], n, dims[t], 1);
            }
    /* past CACHE_RESIDENT_BYTES (4 MiB of rows) the fused DRAM scans answer:
     * long rows with and without a tail, and short rows four at a time */
    static const size_t big[][2] = {{8200, 130}, {28500, 37}, {44000, 24}};
    for (size_t m = 0; m < 2; m++)
        for (size_t t = 0; t < 3; t++) {
            check_exact(metrics[m], big[t][0], big[t][1], 10);
            check_exact(metrics[m], big[t][0], big[t][1], 1);
        }
}

/* An allow-list goes through the fused scans' survivors: the filtered
 * result equals the reference over the allowed rows. */
static void allow_list(size_t n, size_t d)
{
    const size_t k = 10;
    float *x = integer_rows(n, d);
    uint8_t *allowed = calloc(n, 1);
    uint64_t *allow = malloc(n * sizeof *allow);
    size_t na = 0;
    for (size_t i = 0; i < n; i++)
        if (urand() < 0.3) {
            allowed[i] = 1;
            allow[na++] = i;
        }
    const int metrics[] = {RUV_METRIC_L2, RUV_METRIC_IP};
    for (int m = 0; m < 2; m++) {
        ruv_index *idx = build(metrics[m], x, n, d);
        for (size_t qi = 0; qi < 6; qi++) {
            const float *q = x + (qi * 311 % n) * d;
            uint64_t want[10], ids[10];
            double wd[10];
            float sc[10];
            size_t nf, want_n = reference(metrics[m], x, n, d, q, allowed, k, want, wd);
            ruv_search_params sp;
            ruv_search_params_init(&sp, (uint32_t)k);
            sp.allow = allow;
            sp.nallow = na;
            assert_int_equal(ruv_index_search(idx, q, &sp, ids, sc, &nf), RUV_OK);
            assert_int_equal(nf, want_n);
            for (size_t r = 0; r < nf; r++) {
                assert_int_equal(ids[r], want[r]);
                assert_true((double)sc[r] == score_of(metrics[m], wd[r]));
            }
        }
        ruv_index_free(idx);
    }
    free(x);
    free(allowed);
    free(allow);
}

static void test_allow_list(void **state)
{
    (void)state;
    allow_list(3000, 37);  /* cached: four rows at a time */
    allow_list(28500, 37); /* past 4 MiB: the fused scans */
}

/* Cosine on continuous data (normalising rounds, so no integer exactness):
 * the batch path returns the single-query ids, and both match the
 * reference's distances within float rounding. */
static void test_cosine_batch_equals_single(void **state)
{
    (void)state;
    static const size_t dims[] = {29, 100};
    for (size_t t = 0; t < 2; t++) {
        const size_t n = 2100, d = dims[t], nq = 20, k = 10;
        float *x = clustered(n, d, 6, 0.4f), *q = clustered(nq, d, 6, 0.4f);
        ruv_index *idx = build(RUV_METRIC_COSINE, x, n, d);
        uint64_t bi[20 * 10], ids[10], want[10];
        float bs[20 * 10], sc[10];
        double wd[10];
        size_t bn[20], nf;
        ruv_search_params sp;
        ruv_search_params_init(&sp, (uint32_t)k);
        assert_int_equal(ruv_index_search_batch(idx, q, nq, &sp, bi, bs, bn), RUV_OK);
        for (size_t i = 0; i < nq; i++) {
            assert_int_equal(ruv_index_search(idx, q + i * d, &sp, ids, sc, &nf), RUV_OK);
            assert_int_equal(nf, k);
            assert_int_equal(bn[i], k);
            reference(RUV_METRIC_COSINE, x, n, d, q + i * d, NULL, k, want, wd);
            for (size_t r = 0; r < k; r++) {
                /* the paths may sum in another order (four rows at a time
                 * on the single path for a cached index): rounding apart,
                 * the same scores; ids may differ only on a near-tie */
                assert_true(fabsf(bs[i * k + r] - sc[r]) <= 1e-6f);
                if (bi[i * k + r] != ids[r])
                    assert_true(fabsf(sc[r] - sc[r ? r - 1 : r + 1]) <= 2e-6f ||
                                (r + 1 < k && fabsf(sc[r] - sc[r + 1]) <= 2e-6f));
                assert_true(fabs((double)sc[r] + wd[r]) <= 1e-5);
            }
        }
        ruv_index_free(idx);
        free(x);
        free(q);
    }
}

/* NaN and Inf queries are still refused before any kernel runs, on the
 * single and batch paths and for every metric. */
static void test_nan_query_rejected(void **state)
{
    (void)state;
    const size_t n = 200, d = 37;
    float *x = integer_rows(n, d);
    const int metrics[] = {RUV_METRIC_L2, RUV_METRIC_IP, RUV_METRIC_COSINE};
    for (int m = 0; m < 3; m++) {
        ruv_index *idx = build(metrics[m], x, n, d);
        float q[2 * 37];
        memcpy(q, x, sizeof q);
        q[37 + 36] = NAN; /* the second query's last column: the masked tail */
        uint64_t ids[20];
        float sc[20];
        size_t nf[2];
        ruv_search_params sp;
        ruv_search_params_init(&sp, 10);
        assert_int_equal(ruv_index_search(idx, q + 37, &sp, ids, sc, nf), RUV_E_INVAL);
        assert_non_null(strstr(ruv_last_error(), "column 36 is NaN"));
        assert_int_equal(ruv_index_search_batch(idx, q, 2, &sp, ids, sc, nf), RUV_E_INVAL);
        assert_non_null(strstr(ruv_last_error(), "query row 1, column 36 is NaN"));
        q[37 + 36] = -INFINITY;
        assert_int_equal(ruv_index_search(idx, q + 37, &sp, ids, sc, nf), RUV_E_INVAL);
        assert_non_null(strstr(ruv_last_error(), "is infinite"));
        ruv_index_free(idx);
    }
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_ids_and_ties),
        cmocka_unit_test(test_allow_list),
        cmocka_unit_test(test_cosine_batch_equals_single),
        cmocka_unit_test(test_nan_query_rejected),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
