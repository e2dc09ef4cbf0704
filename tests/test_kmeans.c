/* Run-time BLAS and k-means (engine/exec/blas.c, engine/index/ivf/kmeans.c), on the scalar
 * kernel table.
 *
 * The order of the tests matters: the BLAS is process state that, once
 * loaded, stays loaded. The tests before test_blas_load run on our own
 * sgemm fallback; test_blas_load then loads whatever BLAS this machine has,
 * and the tests after it repeat the sgemm and determinism checks through it
 * (they skip when no BLAS is installed). */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ruvector/error.h>

#include "exec/blas.h"
#include "index/ivf/kmeans.h"
#include "plugin/kernels.h"

static const struct ruv_kernel_ops *const K = &ruv__kernel_scalar_ops;

/* ------------------------------------------------------------ helpers --- */

static uint64_t rng_state;
static uint64_t next_u64(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}
static double unif(void) { return (double)(next_u64() >> 11) / 9007199254740992.0; }
static float frand(void) { return (float)(unif() * 2.0 - 1.0); }
static float gauss(void)
{
    double u = unif(), v = unif();
    return (float)(sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v));
}

static void *xmalloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    assert_non_null(p);
    return p;
}

static float *random_matrix(size_t rows, size_t ld)
{
    float *m = xmalloc(rows * ld * sizeof *m);
    for (size_t i = 0; i < rows * ld; i++)
        m[i] = frand();
    return m;
}

static double l2sq_d(const float *a, const float *b, size_t dim)
{
    double s = 0.0;
    for (size_t i = 0; i < dim; i++) {
        double d = (double)a[i] - (double)b[i];
        s += d * d;
    }
    return s;
}

/* ------------------------------------------------------------- sgemm --- */

static const size_t sizes[] = {0, 1, 3, 17, 100, 129};
#define NSIZES (sizeof sizes / sizeof sizes[0])
#define SENTINEL 12345.0f

typedef void (*gemm_fn)(const struct ruv_kernel_ops *, size_t, size_t, size_t, const float *,
                        size_t, const float *, size_t, float *, size_t);

/* <a, b> over d floats in double, and sum |a_t b_t| (for the error bound). */
static double dot_ref(const float *a, const float *b, size_t d, double *mag)
{
    double ref = 0.0;
    *mag = 0.0;
    for (size_t t = 0; t < d; t++) {
        double p = (double)a[t] * (double)b[t];
        ref += p;
        *mag += fabs(p);
    }
    return ref;
}

/* C must match the double-precision reference within the kernel contract's
 * bound, and the padding columns between n and ldc must be untouched. */
static void check_gemm(gemm_fn gemm, size_t m, size_t n, size_t d)
{
    size_t lda = d + 3, ldb = d + 5, ldc = n + 2;
    float *A = random_matrix(m, lda), *B = random_matrix(n, ldb);
    float *C = xmalloc((m ? m : 1) * ldc * sizeof *C);
    for (size_t i = 0; i < m * ldc; i++)
        C[i] = SENTINEL;
    gemm(K, m, n, d, A, lda, B, ldb, C, ldc);
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < n; j++) {
            double mag, ref = dot_ref(A + i * lda, B + j * ldb, d, &mag);
            double tol = (double)(d + 2) * FLT_EPSILON * mag + 1e-30;
            double got = C[i * ldc + j];
            if (fabs(got - ref) > tol)
                fail_msg("m=%zu n=%zu d=%zu C[%zu][%zu]=%g, want %g (tol %g)", m, n, d, i, j, got,
                         ref, tol);
        }
        for (size_t j = n; j < ldc; j++)
            assert_true(C[i * ldc + j] == SENTINEL);
    }
    free(A);
    free(B);
    free(C);
}

/* ruv__sgemm_nt_acc: C = C0 + alpha A B^T, C0 what C held (the flat index
 * starts it at the squared norms), padding untouched. */
static void check_gemm_acc(size_t m, size_t n, size_t d, float alpha)
{
    size_t lda = d + 3, ldb = d + 5, ldc = n + 2;
    float *A = random_matrix(m, lda), *B = random_matrix(n, ldb);
    float *C0 = random_matrix(m ? m : 1, ldc), *C = xmalloc((m ? m : 1) * ldc * sizeof *C);
    for (size_t i = 0; i < m; i++)
        for (size_t j = n; j < ldc; j++)
            C0[i * ldc + j] = SENTINEL;
    memcpy(C, C0, (m ? m : 1) * ldc * sizeof *C);
    ruv__sgemm_nt_acc(K, m, n, d, alpha, A, lda, B, ldb, C, ldc);
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < n; j++) {
            double mag, ref = dot_ref(A + i * lda, B + j * ldb, d, &mag);
            double c0 = C0[i * ldc + j], want = c0 + alpha * ref;
            double tol = (double)(d + 3) * FLT_EPSILON * (fabs(alpha) * mag + fabs(c0)) + 1e-30;
            if (fabs(C[i * ldc + j] - want) > tol)
                fail_msg("acc m=%zu n=%zu d=%zu C[%zu][%zu]=%g, want %g (tol %g)", m, n, d, i, j,
                         (double)C[i * ldc + j], want, tol);
        }
        for (size_t j = n; j < ldc; j++)
            assert_true(C[i * ldc + j] == SENTINEL);
    }
    free(A);
    free(B);
    free(C0);
    free(C);
}

static void test_sgemm_own(void **state)
{
    (void)state;
    rng_state = 1;
    assert_false(ruv__blas_available()); /* nothing loaded yet: see the file comment */
    assert_string_equal(ruv__blas_describe(), "not searched");
    for (size_t a = 0; a < NSIZES; a++)
        for (size_t b = 0; b < NSIZES; b++)
            for (size_t c = 0; c < NSIZES; c++) {
                check_gemm(ruv__sgemm_nt_own, sizes[a], sizes[b], sizes[c]);
                check_gemm(ruv__sgemm_nt, sizes[a], sizes[b], sizes[c]);
                check_gemm_acc(sizes[a], sizes[b], sizes[c], -2.0f);
            }
}

/* The fallback's value for C[i][j] must not depend on m or on the rows of A
 * around row i (k-means relies on it for thread-independent results). */
static void test_sgemm_own_row_independent(void **state)
{
    (void)state;
    rng_state = 2;
    size_t m = 37, n = 1000, d = 29;
    float *A = random_matrix(m, d), *B = random_matrix(n, d);
    float *C = xmalloc(m * n * sizeof *C), *C1 = xmalloc(n * sizeof *C1);
    ruv__sgemm_nt_own(K, m, n, d, A, d, B, d, C, n);
    for (size_t i = 0; i < m; i++) {
        ruv__sgemm_nt_own(K, 1, n, d, A + i * d, d, B, d, C1, n);
        assert_memory_equal(C1, C + i * n, n * sizeof *C1);
    }
    free(A);
    free(B);
    free(C);
    free(C1);
}

/* --------------------------------------------------- k-means: recovery --- */

struct blobs {
    size_t n, dim, g;
    float *x;         /* n x dim */
    size_t *label;    /* n */
    double true_sse;  /* sum of squared distances to the empirical cluster means */
    float *centre;    /* g x dim: the generating centres */
};

/* g well-separated Gaussian blobs (centres ~ +-100 per coordinate, sigma 1)
 * of unequal sizes, rows shuffled. */
static void make_blobs(struct blobs *b, size_t g, size_t dim, uint64_t seed)
{
    rng_state = seed;
    b->g = g;
    b->dim = dim;
    size_t *sz = xmalloc(g * sizeof *sz);
    b->n = 0;
    for (size_t c = 0; c < g; c++) {
        sz[c] = 40 + (size_t)(unif() * 160);
        b->n += sz[c];
    }
    b->centre = xmalloc(g * dim * sizeof *b->centre);
    for (size_t i = 0; i < g * dim; i++)
        b->centre[i] = 100.0f * frand();
    b->x = xmalloc(b->n * dim * sizeof *b->x);
    b->label = xmalloc(b->n * sizeof *b->label);
    size_t r = 0;
    for (size_t c = 0; c < g; c++)
        for (size_t i = 0; i < sz[c]; i++, r++) {
            b->label[r] = c;
            for (size_t d = 0; d < dim; d++)
                b->x[r * dim + d] = b->centre[c * dim + d] + gauss();
        }
    /* Fisher-Yates, so clusters are not contiguous in the input. */
    float *tmp = xmalloc(dim * sizeof *tmp);
    for (size_t i = b->n - 1; i > 0; i--) {
        size_t j = (size_t)(unif() * (double)(i + 1));
        if (j > i)
            j = i;
        memcpy(tmp, b->x + i * dim, dim * sizeof *tmp);
        memcpy(b->x + i * dim, b->x + j * dim, dim * sizeof *tmp);
        memcpy(b->x + j * dim, tmp, dim * sizeof *tmp);
        size_t l = b->label[i];
        b->label[i] = b->label[j];
        b->label[j] = l;
    }
    double *mean = calloc(g * dim, sizeof *mean);
    assert_non_null(mean);
    for (size_t i = 0; i < b->n; i++)
        for (size_t d = 0; d < dim; d++)
            mean[b->label[i] * dim + d] += b->x[i * dim + d];
    for (size_t c = 0; c < g; c++)
        for (size_t d = 0; d < dim; d++)
            mean[c * dim + d] /= (double)sz[c];
    b->true_sse = 0.0;
    for (size_t i = 0; i < b->n; i++)
        for (size_t d = 0; d < dim; d++) {
            double e = b->x[i * dim + d] - mean[b->label[i] * dim + d];
            b->true_sse += e * e;
        }
    free(mean);
    free(tmp);
    free(sz);
}

static void free_blobs(struct blobs *b)
{
    free(b->x);
    free(b->label);
    free(b->centre);
}

/* Every true cluster maps to exactly one centroid, no two clusters share
 * one, and the within-cluster SSE is the truth's within rounding. */
static void check_recovery(const struct blobs *b, const float *cent, size_t nlist)
{
    uint32_t *asg = xmalloc(b->n * sizeof *asg);
    float *dist = xmalloc(b->n * sizeof *dist);
    assert_int_equal(ruv__kmeans_assign(K, b->x, b->n, b->dim, cent, nlist, 2, asg, dist), RUV_OK);
    size_t *map = xmalloc(b->g * sizeof *map);
    for (size_t c = 0; c < b->g; c++)
        map[c] = SIZE_MAX;
    double sse = 0.0;
    for (size_t i = 0; i < b->n; i++) {
        size_t c = b->label[i];
        if (map[c] == SIZE_MAX)
            map[c] = asg[i];
        if (map[c] != asg[i])
            fail_msg("true cluster %zu split over centroids %zu and %u", c, map[c], asg[i]);
        sse += dist[i];
    }
    for (size_t c = 0; c < b->g; c++)
        for (size_t e = c + 1; e < b->g; e++)
            if (map[c] == map[e])
                fail_msg("true clusters %zu and %zu share centroid %zu", c, e, map[c]);
    if (!(sse <= b->true_sse * 1.001 && sse >= b->true_sse * 0.999))
        fail_msg("SSE %g, truth %g", sse, b->true_sse);
    free(asg);
    free(dist);
    free(map);
}

static void test_kmeans_recovers_blobs(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        struct blobs b;
        make_blobs(&b, 20, 24, seed * 77);
        float *cent = xmalloc(20 * b.dim * sizeof *cent);
        assert_int_equal(ruv__kmeans(K, b.x, b.n, b.dim, 20, 0, 0, seed, (unsigned)(seed % 3),
                                     cent),
                         RUV_OK);
        check_recovery(&b, cent, 20);
        free(cent);
        free_blobs(&b);
    }
}

/* The same blobs 1e5 from 0 (1000x the spread of their centres, 1e5x a
 * cluster's): training and assignment centre on the mean, so they are
 * recovered as well. With the plain GEMM identity ||x||^2 - 2 <x, c> +
 * ||c||^2 the rounding of those 2e11-sized terms (~3e5) swamped the
 * distances between clusters (~1.6e5). */
static void test_kmeans_far_from_origin(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        struct blobs b;
        make_blobs(&b, 20, 24, seed * 77);
        for (size_t i = 0; i < b.n * b.dim; i++)
            b.x[i] += 1e5f;
        float *cent = xmalloc(20 * b.dim * sizeof *cent);
        assert_int_equal(ruv__kmeans(K, b.x, b.n, b.dim, 20, 0, 0, seed, 2, cent), RUV_OK);
        check_recovery(&b, cent, 20);
        free(cent);
        free_blobs(&b);
    }
}

/* Converged (no row changes list: fewer than 1,000 rows, so only that
 * stops it), every centroid is bit for bit its members' mean summed in
 * double in row order and rounded to float: the update's vectorised sums
 * (four coordinates at a time, the rest one by one) add each coordinate
 * exactly as the plain loop does. Dimensions cover every tail length and
 * one of the embedding size. */
static void test_kmeans_update_is_double_mean(void **state)
{
    (void)state;
    static const size_t dims[] = {1, 2, 3, 4, 5, 7, 8, 13, 1030};
    for (size_t t = 0; t < sizeof dims / sizeof dims[0]; t++) {
        const size_t dim = dims[t], g = 5;
        struct blobs b;
        make_blobs(&b, g, dim, 1000 + t);
        assert_true(b.n < 1000);
        /* values that are not exact in float sums: offsets and fractions */
        for (size_t i = 0; i < b.n * dim; i++)
            b.x[i] = b.x[i] * 1.37f + 0.1f;
        float *cent = xmalloc(g * dim * sizeof *cent);
        uint32_t *asg = xmalloc(b.n * sizeof *asg);
        assert_int_equal(ruv__kmeans(K, b.x, b.n, dim, g, 0, 50, 7 + t, 2, cent), RUV_OK);
        assert_int_equal(ruv__kmeans_assign(K, b.x, b.n, dim, cent, g, 1, asg, NULL), RUV_OK);
        double *sum = calloc(dim, sizeof *sum);
        float *want = xmalloc(dim * sizeof *want);
        assert_non_null(sum);
        for (size_t c = 0; c < g; c++) {
            size_t cnt = 0;
            memset(sum, 0, dim * sizeof *sum);
            for (size_t i = 0; i < b.n; i++)
                if (asg[i] == c) {
                    cnt++;
                    for (size_t d = 0; d < dim; d++)
                        sum[d] += b.x[i * dim + d];
                }
            assert_true(cnt > 0);
            for (size_t d = 0; d < dim; d++)
                want[d] = (float)(sum[d] / (double)cnt);
            if (memcmp(want, cent + c * dim, dim * sizeof *want) != 0)
                fail_msg("dim %zu: centroid %zu is not its members' double mean", dim, c);
        }
        free(sum);
        free(want);
        free(asg);
        free(cent);
        free_blobs(&b);
    }
}

/* Trained on a sample, the centroids still land on the generating centres. */
static void test_kmeans_sampled(void **state)
{
    (void)state;
    struct blobs b;
    make_blobs(&b, 12, 16, 4242);
    float *cent = xmalloc(12 * b.dim * sizeof *cent);
    assert_int_equal(ruv__kmeans(K, b.x, b.n, b.dim, 12, 300, 10, 9, 2, cent), RUV_OK);
    for (size_t c = 0; c < b.g; c++) {
        double bestd = INFINITY;
        for (size_t j = 0; j < 12; j++) {
            double d = l2sq_d(b.centre + c * b.dim, cent + j * b.dim, b.dim);
            bestd = d < bestd ? d : bestd;
        }
        /* sigma 1 per coordinate and >= 10 samples per blob: the mean is
         * within about sqrt(16/10) of the centre; far below separation. */
        if (bestd > 9.0)
            fail_msg("no centroid near centre %zu (nearest at squared distance %g)", c, bestd);
    }
    free(cent);
    free_blobs(&b);
}

/* Clusters whose spread is large next to their separation (as in the demo
 * set: centres in [-2, 2]^d, noise sigma 0.6 per coordinate). Plain
 * k-means++ misses clusters here and Lloyd cannot recover them; the mean
 * SSE over four seeds must stay within 20 % of the true partition's
 * (greedy k-means++ measured 15 %, plain 34 %). */
static void test_kmeans_hard_clusters(void **state)
{
    (void)state;
    const size_t g = 40, per = 100, dim = 64, n = g * per;
    float *x = xmalloc(n * dim * sizeof *x), *centre = xmalloc(g * dim * sizeof *centre);
    float *cent = xmalloc(g * dim * sizeof *cent), *dist = xmalloc(n * sizeof *dist);
    uint32_t *asg = xmalloc(n * sizeof *asg);
    size_t *label = xmalloc(n * sizeof *label);
    double *mean = xmalloc(g * dim * sizeof *mean);
    double ratio_sum = 0.0;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        rng_state = seed * 1000;
        for (size_t i = 0; i < g * dim; i++)
            centre[i] = 2.0f * frand();
        memset(mean, 0, g * dim * sizeof *mean);
        for (size_t i = 0; i < n; i++) {
            label[i] = i % g;
            for (size_t d = 0; d < dim; d++) {
                x[i * dim + d] = centre[label[i] * dim + d] + 0.6f * gauss();
                mean[label[i] * dim + d] += x[i * dim + d] / (double)per;
            }
        }
        double truth = 0.0, got = 0.0;
        for (size_t i = 0; i < n; i++)
            for (size_t d = 0; d < dim; d++) {
                double e = x[i * dim + d] - mean[label[i] * dim + d];
                truth += e * e;
            }
        assert_int_equal(ruv__kmeans(K, x, n, dim, g, 0, 0, seed, 2, cent), RUV_OK);
        assert_int_equal(ruv__kmeans_assign(K, x, n, dim, cent, g, 2, asg, dist), RUV_OK);
        for (size_t i = 0; i < n; i++)
            got += dist[i];
        ratio_sum += got / truth;
    }
    if (ratio_sum / 4.0 > 1.2)
        fail_msg("mean SSE / true SSE = %.3f", ratio_sum / 4.0);
    free(x);
    free(centre);
    free(cent);
    free(dist);
    free(asg);
    free(label);
    free(mean);
}

/* The default sample: 256 per centroid up to 65,536 rows, then 65,536,
 * then 64 per centroid; never above n, never overflowing. */
static void test_kmeans_default_sample(void **state)
{
    (void)state;
    assert_int_equal(ruv__kmeans_default_sample(1000000, 1), 256);
    assert_int_equal(ruv__kmeans_default_sample(1000000, 100), 25600);
    assert_int_equal(ruv__kmeans_default_sample(1000000, 256), 65536);
    assert_int_equal(ruv__kmeans_default_sample(1000000, 300), 65536);
    assert_int_equal(ruv__kmeans_default_sample(1000000, 1000), 65536);
    assert_int_equal(ruv__kmeans_default_sample(1000000, 1024), 65536);
    assert_int_equal(ruv__kmeans_default_sample(1000000, 1025), 65600);
    assert_int_equal(ruv__kmeans_default_sample(1000000, 4000), 256000);
    assert_int_equal(ruv__kmeans_default_sample(100000, 4000), 100000);
    assert_int_equal(ruv__kmeans_default_sample(5000, 100), 5000);
    assert_true(ruv__kmeans_default_sample(SIZE_MAX, SIZE_MAX / 8) == SIZE_MAX);
}

/* Above 1024 lists, on the default sample of 64 rows per centroid: 1100
 * well-separated blobs of 40-100 points on a 2-d grid are found by a
 * centroid each (but for a few, see below), the result is the one an
 * explicit sample of 64 * nlist gives, and it does not depend on the
 * thread count. */
static void test_kmeans_many_lists(void **state)
{
    (void)state;
    const size_t g = 1100, dim = 2, side = 34;
    rng_state = 77;
    size_t n = 0, *sz = xmalloc(g * sizeof *sz);
    for (size_t c = 0; c < g; c++) {
        sz[c] = 40 + (size_t)(unif() * 61);
        n += sz[c];
    }
    float *x = xmalloc(n * dim * sizeof *x);
    size_t *label = xmalloc(n * sizeof *label);
    for (size_t c = 0, r = 0; c < g; c++)
        for (size_t i = 0; i < sz[c]; i++, r++) {
            label[r] = c;
            x[r * dim] = 100.0f * (float)(c % side) + gauss();
            x[r * dim + 1] = 100.0f * (float)(c / side) + gauss();
        }
    assert_true(n > 64 * g); /* so the default sample is not every row */
    size_t bytes = g * dim * sizeof(float);
    float *c1 = xmalloc(bytes), *c2 = xmalloc(bytes), *c3 = xmalloc(bytes);
    assert_int_equal(ruv__kmeans(K, x, n, dim, g, 0, 0, 5, 1, c1), RUV_OK);
    assert_int_equal(ruv__kmeans(K, x, n, dim, g, 64 * g, 0, 5, 2, c2), RUV_OK);
    assert_int_equal(ruv__kmeans(K, x, n, dim, g, 0, 0, 5, 3, c3), RUV_OK);
    assert_memory_equal(c1, c2, bytes);
    assert_memory_equal(c1, c3, bytes);

    uint32_t *asg = xmalloc(n * sizeof *asg);
    assert_int_equal(ruv__kmeans_assign(K, x, n, dim, c1, g, 2, asg, NULL), RUV_OK);
    /* A blob is clean if all its rows share a centroid no other blob's rows
     * use. k-means++ draws its candidates from the sample, 8 per centroid,
     * so a small blob can go without one and its neighbour then holds two
     * centroids (a local optimum Lloyd keeps): allow 1 % such blobs. */
    size_t *map = xmalloc(g * sizeof *map), *users = xmalloc(g * sizeof *users);
    int *split = xmalloc(g * sizeof *split);
    for (size_t c = 0; c < g; c++) {
        map[c] = SIZE_MAX;
        users[c] = 0;
        split[c] = 0;
    }
    for (size_t i = 0; i < n; i++) {
        size_t c = label[i];
        if (map[c] == SIZE_MAX) {
            map[c] = asg[i];
            users[asg[i]]++;
        }
        split[c] |= map[c] != asg[i];
    }
    size_t clean = 0;
    for (size_t c = 0; c < g; c++)
        clean += !split[c] && users[map[c]] == 1;
    print_message("%zu of %zu blobs found cleanly\n", clean, g);
    if (clean < g - g / 100)
        fail_msg("%zu of %zu blobs found cleanly", clean, g);
    free(sz);
    free(x);
    free(label);
    free(c1);
    free(c2);
    free(c3);
    free(asg);
    free(map);
    free(users);
    free(split);
}

/* nlist == n: every distinct point becomes its own centroid. */
static void test_kmeans_nlist_equals_n(void **state)
{
    (void)state;
    rng_state = 5;
    size_t n = 50, dim = 7;
    float *x = random_matrix(n, dim), *cent = xmalloc(n * dim * sizeof *cent);
    float *dist = xmalloc(n * sizeof *dist);
    uint32_t *asg = xmalloc(n * sizeof *asg);
    assert_int_equal(ruv__kmeans(K, x, n, dim, n, 0, 5, 1, 1, cent), RUV_OK);
    assert_int_equal(ruv__kmeans_assign(K, x, n, dim, cent, n, 1, asg, dist), RUV_OK);
    for (size_t i = 0; i < n; i++)
        assert_true(dist[i] == 0.0f);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            assert_int_not_equal(asg[i], asg[j]);
    /* One row, one centroid. */
    assert_int_equal(ruv__kmeans(K, x, 1, dim, 1, 0, 0, 1, 4, cent), RUV_OK);
    assert_memory_equal(cent, x, dim * sizeof *x);
    free(x);
    free(cent);
    free(dist);
    free(asg);
}

/* Identical rows: nothing to split, but no failure and sane centroids. */
static void test_kmeans_duplicates(void **state)
{
    (void)state;
    size_t n = 100, dim = 5, nlist = 4;
    float *x = xmalloc(n * dim * sizeof *x), *cent = xmalloc(nlist * dim * sizeof *cent);
    for (size_t i = 0; i < n * dim; i++)
        x[i] = (float)(i % dim) - 1.5f;
    assert_int_equal(ruv__kmeans(K, x, n, dim, nlist, 0, 0, 3, 2, cent), RUV_OK);
    for (size_t j = 0; j < nlist; j++)
        for (size_t d = 0; d < dim; d++)
            assert_true(fabsf(cent[j * dim + d] - x[d]) <= 1e-3f);
    free(x);
    free(cent);
}

/* Five distinct points, three of them piled up by the hundred: the k-means++
 * candidates (8 per centroid) almost surely hold only the three piles, so
 * init duplicates centres and Lloyd sees empty clusters. Splitting the one
 * cluster with spread (pile A plus the two loners) must end with five
 * non-empty clusters and zero SSE. */
static void test_kmeans_splits_empty(void **state)
{
    (void)state;
    const size_t n = 1000, dim = 4, nlist = 5;
    static const float pts[5][4] = {
        {0, 0, 0, 0}, {10, 10, 10, 10}, {-10, -10, -10, -10}, {0.5f, 0, 0, 0}, {0, 0.5f, 0, 0}};
    float *x = xmalloc(n * dim * sizeof *x), *cent = xmalloc(nlist * dim * sizeof *cent);
    float *dist = xmalloc(n * sizeof *dist);
    uint32_t *asg = xmalloc(n * sizeof *asg);
    for (uint64_t seed = 1; seed <= 4; seed++) {
        for (size_t i = 0; i < n; i++) {
            size_t p = i == 300 ? 3 : i == 700 ? 4 : i % 3;
            memcpy(x + i * dim, pts[p], sizeof pts[p]);
        }
        assert_int_equal(ruv__kmeans(K, x, n, dim, nlist, 0, 0, seed, 2, cent), RUV_OK);
        assert_int_equal(ruv__kmeans_assign(K, x, n, dim, cent, nlist, 1, asg, dist), RUV_OK);
        size_t used[5] = {0};
        for (size_t i = 0; i < n; i++) {
            if (dist[i] != 0.0f)
                fail_msg("seed %u: row %zu at distance %g from its centroid", (unsigned)seed, i,
                         dist[i]);
            used[asg[i]]++;
        }
        for (size_t j = 0; j < nlist; j++)
            assert_true(used[j] > 0);
    }
    free(x);
    free(cent);
    free(dist);
    free(asg);
}

/* -------------------------------------------------- k-means: determinism --- */

struct det_case {
    size_t n, dim, nlist, sample;
    unsigned iters;
};

/* A kernel table whose 1xN results depend on where a row sits in the call,
 * as SIMD kernels' do (rows in groups of four, another code path for the
 * tail). Real kernels differ in the last bits only, which rarely flips an
 * argmin in a test this size; the tail here is off by 1/64 so that any work
 * split that follows the thread count changes the centroids. The scalar
 * table alone is position-independent and would hide such a split. */
static void lumpy_dot_1xN(const float *q, const float *base, size_t dim, size_t stride, size_t n,
                          float *out)
{
    K->dot_f32_1xN(q, base, dim, stride, n, out);
    for (size_t i = n & ~(size_t)3; i < n; i++)
        out[i] *= 1.0f + 1.0f / 64.0f;
}
static void lumpy_l2sq_1xN(const float *q, const float *base, size_t dim, size_t stride, size_t n,
                           float *out)
{
    K->l2sq_f32_1xN(q, base, dim, stride, n, out);
    for (size_t i = n & ~(size_t)3; i < n; i++)
        out[i] *= 1.0f + 1.0f / 64.0f;
}

/* Bit-identical centroids for any thread count, and for repeated calls. */
static void check_determinism_with(const struct ruv_kernel_ops *k, const char *kname)
{
    static const struct det_case cases[] = {
        {3000, 33, 37, 0, 0},     /* everything, default iterations */
        {3000, 16, 100, 0, 6},    /* k-means++ rounds run in parallel */
        {9000, 17, 20, 2500, 8},  /* sampled */
        {2200, 3, 2100, 0, 2},    /* nlist above one centroid block */
    };
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        const struct det_case *c = &cases[ci];
        rng_state = 100 + ci;
        float *x = xmalloc(c->n * c->dim * sizeof *x);
        for (size_t i = 0; i < c->n * c->dim; i++)
            x[i] = gauss();
        size_t bytes = c->nlist * c->dim * sizeof(float);
        float *c1 = xmalloc(bytes), *c2 = xmalloc(bytes), *c3 = xmalloc(bytes);
        assert_int_equal(ruv__kmeans(k, x, c->n, c->dim, c->nlist, c->sample, c->iters, 99, 1, c1),
                         RUV_OK);
        assert_int_equal(ruv__kmeans(k, x, c->n, c->dim, c->nlist, c->sample, c->iters, 99, 2, c2),
                         RUV_OK);
        assert_int_equal(ruv__kmeans(k, x, c->n, c->dim, c->nlist, c->sample, c->iters, 99, 3, c3),
                         RUV_OK);
        if (memcmp(c1, c2, bytes) != 0 || memcmp(c1, c3, bytes) != 0)
            fail_msg("%s kernel, case %zu: centroids differ between thread counts", kname, ci);
        /* A different seed gives different centroids (the seed is used). */
        assert_int_equal(ruv__kmeans(k, x, c->n, c->dim, c->nlist, c->sample, c->iters, 100, 2, c2),
                         RUV_OK);
        assert_true(memcmp(c1, c2, bytes) != 0);
        free(x);
        free(c1);
        free(c2);
        free(c3);
    }
}

static void check_determinism(void)
{
    struct ruv_kernel_ops lumpy = ruv__kernel_scalar_ops;
    lumpy.dot_f32_1xN = lumpy_dot_1xN;
    lumpy.l2sq_f32_1xN = lumpy_l2sq_1xN;
    check_determinism_with(K, "scalar");
    check_determinism_with(&lumpy, "position-dependent");
}

static void test_kmeans_deterministic_own(void **state)
{
    (void)state;
    assert_false(ruv__blas_available());
    check_determinism();
}

/* --------------------------------------------------------- assignment --- */

static void check_assign(size_t n, size_t dim, size_t nlist)
{
    rng_state = n * 31 + nlist;
    float *x = random_matrix(n, dim), *c = random_matrix(nlist, dim);
    uint32_t *a1 = xmalloc(n * sizeof *a1), *a2 = xmalloc(n * sizeof *a2);
    float *d1 = xmalloc(n * sizeof *d1);
    assert_int_equal(ruv__kmeans_assign(K, x, n, dim, c, nlist, 1, a1, d1), RUV_OK);
    assert_int_equal(ruv__kmeans_assign(K, x, n, dim, c, nlist, 2, a2, NULL), RUV_OK);
    assert_memory_equal(a1, a2, n * sizeof *a1);
    for (size_t i = 0; i < n; i++) {
        const float *xi = x + i * dim;
        double best = INFINITY, second = INFINITY;
        size_t bj = 0;
        for (size_t j = 0; j < nlist; j++) {
            double d = l2sq_d(xi, c + j * dim, dim);
            if (d < best) {
                second = best;
                best = d;
                bj = j;
            } else if (d < second) {
                second = d;
            }
        }
        assert_true(a1[i] < nlist);
        /* dist is the direct distance to the chosen centroid... */
        assert_true(d1[i] == K->l2sq_f32(xi, c + (size_t)a1[i] * dim, dim));
        /* ...which is the minimum within GEMM rounding (|x|,|c| <= sqrt(dim)). */
        double tol = 1e-4 * (double)dim;
        assert_true(l2sq_d(xi, c + (size_t)a1[i] * dim, dim) <= best + tol);
        if (second - best > tol)
            assert_int_equal(a1[i], bj);
    }
    free(x);
    free(c);
    free(a1);
    free(a2);
    free(d1);
}

static void test_assign_brute_force(void **state)
{
    (void)state;
    check_assign(1, 3, 1);
    check_assign(1000, 19, 300);  /* several row tiles, last one partial */
    check_assign(700, 5, 2500);   /* centroids in blocks of 1024 */
    check_assign(257, 128, 17);
    /* n == 0 is fine, even with NULL rows and outputs. */
    float c[3] = {0};
    assert_int_equal(ruv__kmeans_assign(K, NULL, 0, 3, c, 1, 2, NULL, NULL), RUV_OK);
}

/* --------------------------------------------------- nearest centroids --- */

/* The probe's ranking against exact float64 distances: with every score
 * within tol of its exact distance, the i-th list probed is within 2 tol of
 * the i-th nearest (tol from binary16 rounding of the centred, scaled
 * centroids: half an ulp is <= 2^-11 of the largest coordinate). */
static void check_probe(const float *c, size_t nlist, size_t dim, const float *q)
{
    struct ruv__probe p;
    assert_int_equal(ruv__probe_init(&p, c, nlist, dim), RUV_OK);
    double *exact = xmalloc(nlist * sizeof *exact), *sorted = xmalloc(nlist * sizeof *sorted);
    double m = 0, dmax = 0, *mean = calloc(dim, sizeof *mean);
    for (size_t i = 0; i < nlist * dim; i++)
        mean[i % dim] += c[i] / (double)nlist;
    for (size_t i = 0; i < nlist; i++) {
        exact[i] = sorted[i] = l2sq_d(q, c + i * dim, dim);
        dmax = exact[i] > dmax ? exact[i] : dmax;
        for (size_t j = 0; j < dim; j++)
            m = fmax(m, fabs(c[i * dim + j] - mean[j]));
    }
    free(mean);
    for (size_t i = 1; i < nlist; i++) /* insertion sort */
        for (size_t j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
            double t = sorted[j];
            sorted[j] = sorted[j - 1];
            sorted[j - 1] = t;
        }
    double err = sqrt((double)dim) * m * 0x1p-11; /* |c - stored c| */
    double tol = 2 * sqrt(dmax) * err + err * err + 1e-5 * dmax;
    static const size_t probes[] = {1, 2, 10, 255, 257, 999, 1000, 1200};
    uint32_t *out = xmalloc(nlist * sizeof *out);
    float *score = xmalloc(nlist * sizeof *score), *work = xmalloc(dim * sizeof *work);
    for (size_t t = 0; t < sizeof probes / sizeof probes[0]; t++) {
        size_t np = probes[t], want = np < nlist ? np : nlist;
        ruv__probe_nearest(K, &p, q, work, np, out, score);
        uint8_t *seen = calloc(nlist, 1);
        for (size_t i = 0; i < want; i++) {
            assert_true(out[i] < nlist && !seen[out[i]]);
            seen[out[i]] = 1;
            if (fabs(exact[out[i]] - sorted[i]) > 2 * tol)
                fail_msg("nprobe %zu: list %zu probed is %u at %.6g, the %zu-th nearest is at "
                         "%.6g (tol %.3g)",
                         np, i, out[i], exact[out[i]], i, sorted[i], 2 * tol);
            if (i)
                assert_true(score[i - 1] <= score[i]);
        }
        free(seen);
    }
    ruv__probe_free(&p);
    free(exact);
    free(sorted);
    free(out);
    free(score);
    free(work);
}

static void test_probe_nearest(void **state)
{
    (void)state;
    rng_state = 77;
    size_t nlist = 1000, dim = 21;
    float *c = random_matrix(nlist, dim), *q = random_matrix(1, dim);
    /* A few exact ties, so the tie order (lower id first) is exercised. */
    memcpy(c + 700 * dim, c + 5 * dim, dim * sizeof *c);
    memcpy(c + 900 * dim, c + 5 * dim, dim * sizeof *c);
    check_probe(c, nlist, dim, q);
    /* A common offset 1000x the spread: ranked as well as without it (the
     * table is centred; scaled as it stands, binary16 would keep ~0.5 of
     * each coordinate's spread of 1). */
    float *off = xmalloc(nlist * dim * sizeof *off), qo[21];
    for (size_t i = 0; i < nlist * dim; i++)
        off[i] = c[i] + 1000.0f;
    for (size_t j = 0; j < dim; j++)
        qo[j] = q[j] + 1000.0f;
    check_probe(off, nlist, dim, qo);
    /* Tiny and huge scales: the power-of-two scale keeps them in range. */
    for (size_t i = 0; i < nlist * dim; i++)
        off[i] = c[i] * 1e-9f;
    for (size_t j = 0; j < dim; j++)
        qo[j] = q[j] * 1e-9f;
    check_probe(off, nlist, dim, qo);
    for (size_t i = 0; i < nlist * dim; i++)
        off[i] = c[i] * 1e12f;
    for (size_t j = 0; j < dim; j++)
        qo[j] = q[j] * 1e12f;
    check_probe(off, nlist, dim, qo);
    /* Make centroid 5's twins the nearest: the three come out as 5, 700, 900. */
    struct ruv__probe p;
    assert_int_equal(ruv__probe_init(&p, c, nlist, dim), RUV_OK);
    uint32_t out[3];
    float score[3], work[21];
    memcpy(q, c + 5 * dim, dim * sizeof *q);
    ruv__probe_nearest(K, &p, q, work, 3, out, score);
    assert_int_equal(out[0], 5);
    assert_int_equal(out[1], 700);
    assert_int_equal(out[2], 900);
    ruv__probe_nearest(K, &p, q, work, 0, out, score); /* nothing, no crash */
    ruv__probe_free(&p);
    free(off);
    free(c);
    free(q);
}

/* ---------------------------------------------------------- bad input --- */

static void expect_inval(int st, const char *fragment)
{
    assert_int_equal(st, RUV_E_INVAL);
    if (!strstr(ruv_last_error(), fragment))
        fail_msg("detail '%s' lacks '%s'", ruv_last_error(), fragment);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    float x[40] = {0}, c[40];
    uint32_t a[10];
    expect_inval(ruv__kmeans(K, x, 10, 4, 0, 0, 0, 1, 1, c), "nlist must be at least 1");
    expect_inval(ruv__kmeans(K, x, 10, 4, 11, 0, 0, 1, 1, c),
                 "nlist (11) exceeds the number of rows n (10)");
    expect_inval(ruv__kmeans(K, x, 0, 4, 1, 0, 0, 1, 1, c), "nlist (1) exceeds");
    expect_inval(ruv__kmeans(K, x, 10, 0, 2, 0, 0, 1, 1, c), "dim must be at least 1");
    expect_inval(ruv__kmeans(K, NULL, 10, 4, 2, 0, 0, 1, 1, c), "data is NULL");
    expect_inval(ruv__kmeans(K, x, 10, 4, 2, 0, 0, 1, 1, NULL), "centroids is NULL");
    expect_inval(ruv__kmeans(NULL, x, 10, 4, 2, 0, 0, 1, 1, c), "kernel table is NULL");
    expect_inval(ruv__kmeans_assign(K, x, 10, 4, c, 0, 1, a, NULL), "nlist must be at least 1");
    expect_inval(ruv__kmeans_assign(K, x, 10, 0, c, 2, 1, a, NULL), "dim must be at least 1");
    expect_inval(ruv__kmeans_assign(K, x, 10, 4, NULL, 2, 1, a, NULL), "centroids is NULL");
    expect_inval(ruv__kmeans_assign(K, x, 10, 4, c, 2, 1, NULL, NULL), "assign is NULL");
}

/* --------------------------------------------------------------- BLAS --- */

static void test_blas_load(void **state)
{
    (void)state;
    /* A hint that cannot be used is an error naming it, and the system's
     * libraries are not tried in its place (issue 13: no silent
     * fall-through). */
    const char *bad = "/nonexistent/ruvector-test/libnothing.so";
    int st = ruv__blas_load(bad);
    assert_int_equal(st, RUV_E_NOTFOUND);
    assert_non_null(strstr(ruv_last_error(), "BLAS '/nonexistent/ruvector-test/libnothing.so' "
                                             "cannot be used"));
    assert_false(ruv__blas_available());
    const char *desc = ruv__blas_describe();
    assert_true(strncmp(desc, "none: own kernels (", 19) == 0);
    assert_non_null(strstr(desc, "/nonexistent/ruvector-test/libnothing.so: "));

    /* Without a hint, the system search: a BLAS, or our own kernels. */
    st = ruv__blas_load(NULL);
    desc = ruv__blas_describe();
    if (st == RUV_OK) {
        assert_true(ruv__blas_available());
        assert_non_null(strstr(desc, "sgemm"));
        assert_null(strstr(desc, "none:"));
    } else {
        assert_int_equal(st, RUV_E_NOTFOUND);
        assert_false(ruv__blas_available());
        assert_true(strncmp(desc, "none: own kernels (", 19) == 0);
        assert_non_null(strstr(ruv_last_error(), "none: own kernels"));
    }
    /* Later calls give the same answer; a bad hint is still refused, and
     * leaves a loaded BLAS (and the description) as they were. */
    char before[1024];
    snprintf(before, sizeof before, "%s", desc);
    assert_int_equal(ruv__blas_load(NULL), st);
    assert_string_equal(ruv__blas_describe(), before);
    assert_int_equal(ruv__blas_load(bad), RUV_E_NOTFOUND);
    assert_int_equal(ruv__blas_available(), st == RUV_OK);
    if (st == RUV_OK)
        assert_string_equal(ruv__blas_describe(), before);
}

static void test_sgemm_blas(void **state)
{
    (void)state;
    if (!ruv__blas_available())
        skip();
    rng_state = 3;
    for (size_t a = 0; a < NSIZES; a++)
        for (size_t b = 0; b < NSIZES; b++)
            for (size_t c = 0; c < NSIZES; c++) {
                check_gemm(ruv__sgemm_nt, sizes[a], sizes[b], sizes[c]);
                check_gemm_acc(sizes[a], sizes[b], sizes[c], -1.0f);
            }
    /* BLAS and fallback agree with each other within the same bound. */
    size_t m = 129, n = 100, d = 129;
    float *A = random_matrix(m, d), *B = random_matrix(n, d);
    float *C1 = xmalloc(m * n * sizeof *C1), *C2 = xmalloc(m * n * sizeof *C2);
    ruv__sgemm_nt(K, m, n, d, A, d, B, d, C1, n);
    ruv__sgemm_nt_own(K, m, n, d, A, d, B, d, C2, n);
    for (size_t i = 0; i < m * n; i++)
        assert_true(fabsf(C1[i] - C2[i]) <= 2.0f * (float)(d + 2) * FLT_EPSILON * (float)d);
    free(A);
    free(B);
    free(C1);
    free(C2);
}

static void test_kmeans_deterministic_blas(void **state)
{
    (void)state;
    if (!ruv__blas_available())
        skip();
    check_determinism();
    /* And the recovery still holds through the BLAS. */
    struct blobs b;
    make_blobs(&b, 20, 24, 31337);
    float *cent = xmalloc(20 * b.dim * sizeof *cent);
    assert_int_equal(ruv__kmeans(K, b.x, b.n, b.dim, 20, 0, 0, 5, 2, cent), RUV_OK);
    check_recovery(&b, cent, 20);
    free(cent);
    free_blobs(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* own sgemm fallback: no BLAS loaded yet */
        cmocka_unit_test(test_sgemm_own),
        cmocka_unit_test(test_sgemm_own_row_independent),
        cmocka_unit_test(test_kmeans_recovers_blobs),
        cmocka_unit_test(test_kmeans_far_from_origin),
        cmocka_unit_test(test_kmeans_sampled),
        cmocka_unit_test(test_kmeans_update_is_double_mean),
        cmocka_unit_test(test_kmeans_hard_clusters),
        cmocka_unit_test(test_kmeans_default_sample),
        cmocka_unit_test(test_kmeans_many_lists),
        cmocka_unit_test(test_kmeans_nlist_equals_n),
        cmocka_unit_test(test_kmeans_duplicates),
        cmocka_unit_test(test_kmeans_splits_empty),
        cmocka_unit_test(test_kmeans_deterministic_own),
        cmocka_unit_test(test_assign_brute_force),
        cmocka_unit_test(test_probe_nearest),
        cmocka_unit_test(test_bad_arguments),
        /* from here on, the machine's BLAS if it has one */
        cmocka_unit_test(test_blas_load),
        cmocka_unit_test(test_sgemm_blas),
        cmocka_unit_test(test_kmeans_deterministic_blas),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
