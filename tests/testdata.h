/* Seeded test data shared by the C index tests: a xorshift stream, normal
 * draws, rows around cluster centres, and the float64 reference distance.
 * Define TESTDATA_SEED before including: each test keeps its own stream.
 * Define TESTDATA_TMPDIR (a mkdtemp template) as well for the group fixture:
 * one engine `eng` and a temporary directory `tmpdir` per test program. */
#ifndef RUV_TESTS_TESTDATA_H
#define RUV_TESTS_TESTDATA_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <ruvector/engine.h>
#include <ruvector/index.h>

#ifndef TESTDATA_SEED
#error "define TESTDATA_SEED before including testdata.h"
#endif

static uint64_t rs = TESTDATA_SEED;

static inline double urand(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (double)(rs >> 11) / 9007199254740992.0;
}

static inline float nrand(void) /* Box-Muller */
{
    double u = urand() + 1e-12, v = urand();
    return (float)(sqrt(-2 * log(u)) * cos(6.283185307179586 * v));
}

/* n rows around `clusters` centres in [-2,2]^d with N(0, sigma) noise (the
 * shape of ruvector's demo data). */
static inline float *clustered(size_t n, size_t d, size_t clusters, float sigma)
{
    float *c = malloc(clusters * d * sizeof(float)), *x = malloc(n * d * sizeof(float));
    for (size_t i = 0; i < clusters * d; i++)
        c[i] = (float)(urand() * 4 - 2);
    for (size_t i = 0; i < n; i++) {
        size_t k = (size_t)(urand() * (double)clusters) % clusters;
        for (size_t j = 0; j < d; j++)
            x[i * d + j] = c[k * d + j] + sigma * nrand();
    }
    free(c);
    return x;
}

/* The engine's distance in float64: squared L2, -<a,b> for IP, -cos for
 * cosine (0 when either vector is zero). */
static inline double dist_of(int metric, const float *a, const float *b, size_t d)
{
    double s = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < d; i++) {
        if (metric == RUV_METRIC_L2)
            s += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        else
            s -= (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    if (metric == RUV_METRIC_COSINE)
        s = (aa > 0 && bb > 0) ? s / sqrt(aa * bb) : 0;
    return s;
}

/* The k-th smallest of d[0..n) (1 <= k <= 64; INFINITY marks rows left
 * out): the exact k-th neighbour's distance when d holds dist_of. */
static inline double kth_smallest(const double *d, size_t n, size_t k)
{
    double best[64];
    for (size_t t = 0; t < k; t++)
        best[t] = INFINITY;
    for (size_t r = 0; r < n; r++) { /* the k smallest, kept sorted */
        if (!(d[r] < best[k - 1]))
            continue;
        size_t t = k - 1;
        while (t > 0 && best[t - 1] > d[r]) {
            best[t] = best[t - 1];
            t--;
        }
        best[t] = d[r];
    }
    return best[k - 1];
}

/* Whether a result at exact distance dr is among the k nearest whose k-th
 * is kth: tie-tolerant, within float rounding. */
static inline int within_kth(double dr, double kth)
{
    return dr <= kth + 1e-6 * (1.0 + fabs(kth));
}

#ifdef TESTDATA_TMPDIR
static ruv_engine *eng;
static char tmpdir[] = TESTDATA_TMPDIR;

/* cmocka group fixtures: the temporary directory and the engine. */
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

/* An index built as a new user builds it: ruv_index_params_init's
 * defaults (the plan), no ids. Fails the test when the build fails
 * (include cmocka.h first). */
static inline ruv_index *build_defaults(int type, int metric, const float *x, size_t n, size_t d)
{
    ruv_index_params p;
    assert_int_equal(ruv_index_params_init(&p, type, metric, (uint32_t)d), RUV_OK);
    ruv_index *idx = NULL;
    int rc = ruv_index_build(eng, &p, x, n, NULL, &idx);
    if (rc)
        fail_msg("build: %s", ruv_last_error());
    return idx;
}
#endif

#endif
