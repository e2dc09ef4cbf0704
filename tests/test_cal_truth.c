/* The calibration's truth pruned with the lists (index/cal_truth.c) gives
 * the unpruned truth bit for bit: the kk-th exact distance of every sample
 * query, and the same multiset of top-kk distances (the same rows below
 * the kk-th), on integer data, collinear data (every Cauchy-Schwarz and
 * triangle bound met with equality), duplicates, zero vectors, one giant
 * list, far-off centres and a large common offset; for L2, inner product
 * and cosine, with the scalar kernel and the engine's. */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ruvector/ruvector.h>

#include "exec/blas.h"
#include "index/cal_truth.h"
#include "index/common.h"
#include "plugin/kernels.h"

#define TESTDATA_SEED 0x5EEDCA11B2A7E5ull
#include "testdata.h"

enum shape { INTEGERS, COLLINEAR, DUPS_ZEROS, OFFSET, CLUSTERED, NSHAPES };
enum parts { MEANS, GIANT, FAR, NPARTS };

static float *make_data(enum shape s, size_t n, size_t d)
{
    float *x = malloc(n * d * sizeof *x);
    assert_non_null(x);
    float *v = malloc(d * sizeof *v);
    assert_non_null(v);
    for (size_t j = 0; j < d; j++)
        v[j] = (float)((int)(urand() * 5) - 2);
    v[0] = 1.0f;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) {
            float *o = x + i * d + j;
            switch (s) {
            case INTEGERS:
                *o = (float)((int)(urand() * 7) - 3);
                break;
            case COLLINEAR: /* a_i v with integer a_i: every bound is tight */
                *o = (float)((int)(i % 13) - 6) * v[j];
                break;
            case DUPS_ZEROS: /* 1/4 zero rows, 1/4 copies of a few rows */
                if (i % 4 == 0)
                    *o = 0.0f;
                else if (i % 4 == 1 && i >= 16)
                    *o = x[(i % 16) * d + j];
                else
                    *o = (float)nrand();
                break;
            case CLUSTERED: /* 9 tight clusters, centres +-4 on the first 9 axes */
                *o = (j == i % 9 ? 4.0f : 0.0f) * (i % 2 ? 1.0f : -1.0f) * (j < 9) +
                     0.05f * (float)nrand();
                break;
            default: /* a large common offset: the GEMM identity loses digits */
                *o = 1000.0f + (float)(urand() - 0.5);
                break;
            }
        }
    free(v);
    return x;
}

/* A partition of the rows into nlist lists and its centres. */
static void make_lists(enum shape s, enum parts p, const float *x, size_t n, size_t d,
                       uint32_t nlist, uint32_t *row_list, float *cent)
{
    for (size_t i = 0; i < n; i++)
        row_list[i] = p == GIANT ? (i == n / 2 ? 1u : 0u) : (uint32_t)(urand() * nlist);
    if (p == MEANS && s == CLUSTERED) { /* the clusters themselves (18 with the sign) */
        for (size_t i = 0; i < n; i++)
            row_list[i] = (uint32_t)((i % 18) % nlist);
    } else if (p == MEANS) { /* sort a little: lists by the first coordinate's sign */
        for (size_t i = 0; i < n; i++)
            if (x[i * d] > 0.0f && urand() < 0.7)
                row_list[i] = 0;
    }
    for (uint32_t l = 0; l < nlist; l++) {
        size_t cnt = 0;
        for (size_t j = 0; j < d; j++)
            cent[l * d + j] = 0.0f;
        for (size_t i = 0; i < n; i++)
            if (row_list[i] == l) {
                cnt++;
                for (size_t j = 0; j < d; j++)
                    cent[l * d + j] += x[i * d + j];
            }
        for (size_t j = 0; j < d; j++) {
            cent[l * d + j] = cnt ? cent[l * d + j] / (float)cnt : 0.0f;
            if (p == FAR)
                cent[l * d + j] += 50.0f * (float)(urand() - 0.5);
        }
    }
}

static void normalise(float *x, size_t n, size_t d)
{
    for (size_t i = 0; i < n; i++) {
        double s = 0.0;
        for (size_t j = 0; j < d; j++)
            s += (double)x[i * d + j] * x[i * d + j];
        if (s > 0.0)
            for (size_t j = 0; j < d; j++)
                x[i * d + j] = (float)(x[i * d + j] / sqrt(s));
    }
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

/* The kernel under test with its exact 1xN scans counted: rows scored. */
static const struct ruv_kernel_ops *inner;
static size_t scored;

static void counting_l2(const float *q, const float *base, size_t dim, size_t stride, size_t n,
                        float *out)
{
    scored += n;
    inner->l2sq_f32_1xN(q, base, dim, stride, n, out);
}

static void counting_dot(const float *q, const float *base, size_t dim, size_t stride, size_t n,
                         float *out)
{
    scored += n;
    inner->dot_f32_1xN(q, base, dim, stride, n, out);
}

/* Both truths on one case; rows each scored exactly added to work[]. */
static void compare(const struct ruv_kernel_ops *k, int metric, enum shape s, enum parts p,
                    size_t n, size_t d, uint32_t nlist, size_t work[2])
{
    float *x = make_data(s, n, d);
    if (metric == RUV_METRIC_COSINE)
        normalise(x, n, d);
    uint32_t *row_list = malloc(n * sizeof *row_list);
    float *cent = malloc((size_t)nlist * d * sizeof *cent);
    assert_non_null(row_list);
    assert_non_null(cent);
    make_lists(s, p, x, n, d, nlist, row_list, cent);
    const uint32_t m = 37, kk = 10;
    uint32_t sample[37];
    for (uint32_t q = 0; q < m; q++)
        sample[q] = (uint32_t)((q * 7919u + 3u) % n);
    float *queries = malloc((size_t)m * d * sizeof *queries);
    assert_non_null(queries);
    for (uint32_t q = 0; q < m; q++)
        memcpy(queries + (size_t)q * d, x + (size_t)sample[q] * d, d * sizeof *queries);
    struct ruv_index idx;
    memset(&idx, 0, sizeof idx);
    idx.p.dim = (uint32_t)d;
    idx.p.metric = metric;
    idx.k = k;
    idx.threads = 2;
    struct ruv__cal_lists lists = {nlist, cent, row_list};
    float thr[2][37], hd[2][37 * 10];
    uint32_t hr[2][37 * 10];
    struct ruv__topk tops[2][37];
    for (int w = 0; w < 2; w++) {
        for (uint32_t q = 0; q < m; q++)
            ruv__topk_init(&tops[w][q], kk, hd[w] + q * kk, hr[w] + q * kk);
        scored = 0;
        assert_int_equal(ruv__cal_truth(&idx, x, n, sample, queries, m, kk, w ? &lists : NULL,
                                        tops[w], thr[w]),
                         RUV_OK);
        work[w] += scored;
    }
    for (uint32_t q = 0; q < m; q++) {
        if (memcmp(&thr[0][q], &thr[1][q], sizeof(float)) != 0)
            fail_msg("metric %d shape %d parts %d d %zu query %u: kk-th %.9g pruned %.9g", metric,
                     (int)s, (int)p, d, q, (double)thr[0][q], (double)thr[1][q]);
        assert_int_equal(tops[0][q].n, tops[1][q].n);
        float a[10], b[10];
        memcpy(a, tops[0][q].dist, tops[0][q].n * sizeof *a);
        memcpy(b, tops[1][q].dist, tops[1][q].n * sizeof *b);
        qsort(a, tops[0][q].n, sizeof *a, cmp_float);
        qsort(b, tops[1][q].n, sizeof *b, cmp_float);
        assert_memory_equal(a, b, tops[0][q].n * sizeof *a);
        /* rows strictly below the kk-th are the same rows */
        for (size_t i = 0; i < tops[0][q].n; i++) {
            if (!(tops[0][q].dist[i] < thr[0][q]))
                continue;
            int found = 0;
            for (size_t j = 0; j < tops[1][q].n; j++)
                found |= tops[1][q].row[j] == tops[0][q].row[i];
            assert_true(found);
        }
    }
    free(x);
    free(row_list);
    free(cent);
    free(queries);
}

static void run_all(const struct ruv_kernel_ops *base)
{
    struct ruv_kernel_ops ops = *base;
    inner = base;
    ops.l2sq_f32_1xN = counting_l2;
    ops.dot_f32_1xN = counting_dot;
    const struct ruv_kernel_ops *k = &ops;
    const int metrics[] = {RUV_METRIC_L2, RUV_METRIC_IP, RUV_METRIC_COSINE};
    const size_t dims[] = {7, 33, 128};
    const size_t ns[] = {333, 1030};
    size_t work[NPARTS][2] = {{0}}, tight[2] = {0, 0};
    for (size_t mi = 0; mi < 3; mi++)
        for (int s = 0; s < NSHAPES; s++)
            for (int p = 0; p < NPARTS; p++)
                for (size_t di = 0; di < 3; di++)
                    for (size_t ni = 0; ni < 2; ni++)
                        compare(k, metrics[mi], (enum shape)s, (enum parts)p, ns[ni], dims[di],
                                p == GIANT ? 2u : s == CLUSTERED ? 18u : 9u,
                                s == CLUSTERED && p == MEANS ? tight : work[p]);
    /* where the lists are tight (clustered rows, their clusters as lists)
     * the pruning must have left rows unscored */
    fprintf(stderr, "rows scored exactly (unpruned / pruned): clustered %zu / %zu, random lists "
                    "%zu / %zu, giant %zu / %zu, far %zu / %zu\n",
            tight[0], tight[1], work[MEANS][0], work[MEANS][1], work[GIANT][0], work[GIANT][1],
            work[FAR][0], work[FAR][1]);
    assert_true(tight[1] < tight[0]);
}

static void test_pruned_truth_scalar(void **state)
{
    (void)state;
    run_all(&ruv__kernel_scalar_ops);
}

static void test_pruned_truth_engine_kernel(void **state)
{
    (void)state;
    ruv_engine *eng = NULL;
    assert_int_equal(ruv_engine_open(NULL, &eng), RUV_OK);
    run_all(ruv_engine_kernel(eng));
    ruv_engine_close(eng);
}

int main(void)
{
    (void)ruv__blas_load(NULL); /* the pruned truth's GEMM through a BLAS when there is one */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pruned_truth_scalar),
        cmocka_unit_test(test_pruned_truth_engine_kernel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
