/* The integer query of Extended RaBitQ's whole-code dot (rabitq.h,
 * ruv__rabitq_query_int16; kernel slot dot_u8_i16): its error stays within
 * the bound it states for every code, including the code that makes it
 * largest; an all-zero query and queries with one huge or only tiny
 * coordinates; the estimator's bounds, widened by that error, contain the
 * bounds the exact <u, q> gives; a rabitq_plus search through it
 * returns the exact top-10 where its bounds hold; and whole codes packed
 * two to a byte (bits <= 4) survive save, load and removals. */
#define _GNU_SOURCE
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

#include <ruvector/ruvector.h>

#include "index/rabitq/rabitq.h"
#include "plugin/kernels.h"

#define TESTDATA_SEED 0x1a7e9e5ull
#define TESTDATA_TMPDIR "/tmp/ruv-rabitq-int-test-XXXXXX"
#include "testdata.h"

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    assert_non_null(p);
    return p;
}

static int64_t ref_dot(const uint8_t *u, const int16_t *qi, size_t n)
{
    return ruv__kernel_scalar_ops.dot_u8_i16(u, qi, n);
}

/* exact <u, q> in long double (|sum| < 2^8 * 2^16 * max|q|: no cancellation
 * worth a bit at 64 bits of mantissa for these sizes) */
static long double exact_ip(const uint8_t *u, const float *q, size_t n)
{
    long double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (long double)u[i] * q[i];
    return s;
}

/* Checks the quantiser's own promises for q: |qi| <= 32767, each
 * coordinate within half a step, and for the given codes
 * |<u, q> - ip_int| <= err. Returns the largest error seen over err. */
static double check_codes(const float *q, size_t n, unsigned bits, const uint8_t *codes,
                          size_t ncodes)
{
    int16_t *qi = xmalloc(n * sizeof *qi);
    struct ruv__rabitq_qint qz;
    ruv__rabitq_query_int16(q, n, bits, qi, &qz);
    assert_true(qz.scale >= 0.0f && isfinite(qz.err) && qz.err >= 0.0f);
    for (size_t i = 0; i < n; i++) {
        assert_true(qi[i] >= -32767 && qi[i] <= 32767);
        /* round to nearest, unless clamped at the top or the step
         * underflowed (subnormal queries: the bound still holds below) */
        double e = fabs((double)q[i] - (double)qz.scale * qi[i]);
        if (abs(qi[i]) < 32767 && qz.scale >= FLT_MIN)
            assert_true(e <= 0.5 * qz.scale * (1 + 1e-6));
    }
    double worst = 0;
    for (size_t c = 0; c < ncodes; c++) {
        const uint8_t *u = codes + c * n;
        long double want = exact_ip(u, q, n);
        float got = ruv__rabitq_ip_int(&qz, ref_dot(u, qi, n));
        double err = (double)fabsl((long double)got - want);
        if (!(err <= qz.err))
            fail_msg("bits %u n %zu code %zu: |%.9g - %.9Lg| = %.3g > err %.3g", bits, n, c,
                     (double)got, want, err, (double)qz.err);
        if (qz.err > 0 && err / qz.err > worst)
            worst = err / qz.err;
    }
    free(qi);
    return worst;
}

/* Random codes, the extremes, and the adversarial code u_i = umax where the
 * rounding error e_i is positive, else 0: it makes sum (u_i - c) e_i =
 * c sum |e_i|, the whole bound, so the test shows the bound is also tight. */
static void test_quantiser_bound(void **state)
{
    (void)state;
    static const size_t dims[] = {1, 7, 64, 100, 384, 1024, 4096};
    static const unsigned bitss[] = {1, 2, 4, 7, 8};
    for (size_t t = 0; t < sizeof dims / sizeof dims[0]; t++)
        for (size_t b = 0; b < sizeof bitss / sizeof bitss[0]; b++) {
            const size_t n = dims[t];
            const unsigned bits = bitss[b];
            const unsigned umax = (1u << bits) - 1u;
            enum { NC = 24 };
            float *q = xmalloc(n * sizeof *q);
            uint8_t *codes = xmalloc(NC * n);
            for (size_t i = 0; i < n; i++)
                q[i] = nrand() * (float)(t + 1) / sqrtf((float)n);
            int16_t *qi = xmalloc(n * sizeof *qi);
            struct ruv__rabitq_qint qz;
            ruv__rabitq_query_int16(q, n, bits, qi, &qz);
            for (size_t c = 0; c < NC; c++)
                for (size_t i = 0; i < n; i++) {
                    uint8_t v;
                    double e = (double)q[i] - (double)qz.scale * qi[i];
                    switch (c) {
                    case 0: v = 0; break;
                    case 1: v = (uint8_t)umax; break;
                    case 2: v = e > 0 ? (uint8_t)umax : 0; break; /* the worst code */
                    case 3: v = e < 0 ? (uint8_t)umax : 0; break;
                    default: v = (uint8_t)((unsigned)(urand() * 256) % (umax + 1)); break;
                    }
                    codes[c * n + i] = v;
                }
            free(qi);
            double worst = check_codes(q, n, bits, codes, NC);
            /* the adversarial codes come near the bound (n >= 64: enough
             * coordinates that rounding errors, not the float slack, make it) */
            if (n >= 64)
                assert_true(worst > 0.9);
            free(q);
            free(codes);
        }
}

static void test_quantiser_zero_query(void **state)
{
    (void)state;
    enum { n = 130 };
    float q[n] = {0};
    int16_t qi[n];
    uint8_t u[n];
    memset(qi, 0x55, sizeof qi);
    for (size_t i = 0; i < n; i++)
        u[i] = (uint8_t)(i * 7);
    struct ruv__rabitq_qint qz;
    ruv__rabitq_query_int16(q, n, 8, qi, &qz);
    assert_true(qz.scale == 0.0f && qz.shift == 0.0 && qz.err == 0.0f);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(qi[i], 0);
    assert_true(ruv__rabitq_ip_int(&qz, ref_dot(u, qi, n)) == 0.0f);
}

/* One coordinate far above the rest takes the whole range: the others
 * round to 0 and their whole value is the error, which the bound must
 * still cover; and a query of subnormal floats, whose step underflows. */
static void test_quantiser_extreme_coordinates(void **state)
{
    (void)state;
    enum { n = 384, NC = 8 };
    float *q = xmalloc(n * sizeof *q);
    uint8_t *codes = xmalloc(NC * n);
    for (size_t c = 0; c < NC * n; c++)
        codes[c] = (uint8_t)(urand() * 256);
    for (size_t i = 0; i < n; i++)
        q[i] = 1e-3f * nrand();
    q[17] = 1e30f;
    int16_t qi[n];
    struct ruv__rabitq_qint qz;
    ruv__rabitq_query_int16(q, n, 8, qi, &qz);
    assert_int_equal(qi[17], 32767);
    for (size_t i = 0; i < n; i++)
        if (i != 17)
            assert_int_equal(qi[i], 0);
    check_codes(q, n, 8, codes, NC);
    q[17] = -1e30f;
    check_codes(q, n, 8, codes, NC);
    for (size_t i = 0; i < n; i++)
        q[i] = (float)(i % 3) * 1e-44f - 1e-44f; /* subnormal: -1e-44, 0, 1e-44 */
    check_codes(q, n, 8, codes, NC);
    free(q);
    free(codes);
}

/* The estimator's bounds through the integer query contain those of the
 * exact <u, q>, up to the float rounding the estimate itself always had
 * (a few ulps of its terms): codes made by the real encoder. */
static void test_bounds_contain_exact(void **state)
{
    (void)state;
    const struct ruv_kernel_ops *k = &ruv__kernel_scalar_ops;
    enum { DP = 384, NV = 300, NQ = 20 };
    const size_t W = ruv__rabitq_words(DP);
    float *x = xmalloc(NV * DP * sizeof *x), *c = xmalloc(DP * sizeof *c), q[DP];
    uint64_t *code = xmalloc(NV * W * sizeof *code);
    uint8_t *ex = xmalloc(NV * DP), *u = xmalloc(NV * DP);
    struct ruv__rabitq_factors *f1 = xmalloc(NV * sizeof *f1), *fx = xmalloc(NV * sizeof *fx);
    void *scratch = xmalloc(ruv__rabitq_ex_scratch_bytes(DP));
    for (size_t i = 0; i < DP; i++)
        c[i] = 0.1f * nrand();
    for (size_t i = 0; i < NV * DP; i++)
        x[i] = c[i % DP] + nrand() / sqrtf(DP);
    static const unsigned bitss[] = {2, 4, 8};
    static const enum ruv__rabitq_metric metrics[] = {RUV__RABITQ_L2, RUV__RABITQ_IP};
    double widest = 0; /* largest (integer widening) / (estimator's bound), bits 4 */
    for (size_t mb = 0; mb < 6; mb++) {
        const unsigned bits = bitss[mb % 3];
        const enum ruv__rabitq_metric metric = metrics[mb / 3];
        for (size_t v = 0; v < NV; v++) {
            assert_int_equal(ruv__rabitq_encode_ex(x + v * DP, c, DP, bits, metric,
                                                   RUV__RABITQ_EPS0, 0.0f, scratch,
                                                   code + v * W, ex + v * DP, &f1[v], &fx[v]),
                             RUV_OK);
            for (size_t i = 0; i < DP; i++) {
                unsigned b = (unsigned)(code[v * W + i / 64] >> (i % 64)) & 1u;
                u[v * DP + i] = (uint8_t)((b << (bits - 1)) | ex[v * DP + i]);
            }
        }
        for (size_t j = 0; j < NQ; j++) {
            for (size_t i = 0; i < DP; i++)
                q[i] = nrand() / sqrtf(DP) * (j % 2 ? 1.0f : 30.0f);
            int16_t qi[DP];
            struct ruv__rabitq_qint qz;
            ruv__rabitq_query_int16(q, DP, bits, qi, &qz);
            struct ruv__rabitq_query qc;
            ruv__rabitq_query_init(k, q, c, DP, metric, &qc);
            for (size_t v = 0; v < NV; v++) {
                const struct ruv__rabitq_factors *f = &fx[v];
                float ip = ruv__rabitq_ip_int(&qz, ref_dot(u + v * DP, qi, DP));
                float est, lb, ub;
                ruv__rabitq_est_bounds_err(f, &qc, ip, qz.err, bits, &est, &lb, &ub);
                /* the same formula in long double with the exact <u, q> */
                long double ipx = exact_ip(u + v * DP, q, DP);
                long double ex_est = (long double)f->f_add + qc.g_add +
                                     (long double)f->f_rescale *
                                         (ipx + (long double)ruv__rabitq_cb(bits) * qc.sum_q);
                long double d = (long double)f->f_error * qc.g_error;
                long double slack = 8 * FLT_EPSILON *
                                    (fabsl(ex_est) + fabsl((long double)f->f_add) +
                                     fabsl((long double)qc.g_add) + d +
                                     fabsl((long double)f->f_rescale * ipx));
                if (!((long double)lb <= ex_est - d + slack &&
                      (long double)ub >= ex_est + d - slack))
                    fail_msg("bits %u metric %d q %zu v %zu: [%.9g, %.9g] does not hold "
                             "[%.9Lg, %.9Lg]",
                             bits, (int)metric, j, v, (double)lb, (double)ub, ex_est - d,
                             ex_est + d);
                if (bits == 4 && d > 0) {
                    double w = fabs((double)f->f_rescale) * qz.err / (double)d;
                    widest = w > widest ? w : widest;
                }
            }
        }
    }
    printf("bits 4, D %d: the integer query widens the bounds by at most %.2e of their width\n",
           DP, widest);
    assert_true(widest < 0.01);
    free(x);
    free(c);
    free(code);
    free(ex);
    free(u);
    free(f1);
    free(fx);
    free(scratch);
}

/* rabitq_plus through the integer query, every list probed, and an
 * epsilon (4) at which the estimator's bound holds for practically every
 * pair: the exact <u, q> would return the exact top-10 of every query, and
 * so must this (tie-tolerant, against a float64 scan). */
static void test_plus_returns_exact_top10(void **state)
{
    (void)state;
    enum { N = 4000, D = 100, NQ = 40, K = 10 };
    static const unsigned bitss[] = {2, 4, 8};
    static const int metrics[] = {RUV_METRIC_L2, RUV_METRIC_COSINE};
    float *x = clustered(N, D, 20, 0.5f);
    float *qs = clustered(NQ, D, 20, 0.5f);
    double *dist = xmalloc(N * sizeof *dist);
    for (size_t m = 0; m < 2; m++)
        for (size_t b = 0; b < 3; b++) {
            ruv_index_params p;
            assert_int_equal(
                ruv_index_params_init(&p, RUV_INDEX_RABITQ_PLUS, (uint32_t)metrics[m], D), RUV_OK);
            p.bits = bitss[b];
            p.nlist = 8;
            p.nprobe = 8;
            p.epsilon = 4.0f;
            ruv_index *idx = NULL;
            if (ruv_index_build(eng, &p, x, N, NULL, &idx) != RUV_OK)
                fail_msg("build: %s", ruv_last_error());
            ruv_search_params sp;
            assert_int_equal(ruv_search_params_init(&sp, K), RUV_OK);
            size_t misses = 0;
            for (size_t j = 0; j < NQ; j++) {
                const float *q = qs + j * D;
                for (size_t i = 0; i < N; i++)
                    dist[i] = dist_of(metrics[m], q, x + i * D, D);
                const double kth = kth_smallest(dist, N, K);
                uint64_t ids[K];
                float sc[K];
                size_t nf = 0;
                assert_int_equal(ruv_index_search(idx, q, &sp, ids, sc, &nf), RUV_OK);
                assert_int_equal(nf, K);
                for (size_t r = 0; r < K; r++)
                    misses += !within_kth(dist[ids[r]], kth);
            }
            if (misses)
                fail_msg("metric %d bits %u: %zu of %d results outside the exact top-10",
                         metrics[m], bitss[b], misses, NQ * K);
            ruv_index_free(idx);
        }
    free(x);
    free(qs);
    free(dist);
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = xmalloc(*len);
    assert_int_equal(fread(b, 1, *len, f), *len);
    fclose(f);
    return b;
}

/* Whole codes of <= 4 bits live two to a byte in memory (rq.h), files keep
 * one ex byte per dimension: a save, a load and a second save give the
 * same bytes, and the loaded index answers bit for bit as the built one;
 * removing rows (which moves packed codes inside a list) leaves the exact
 * top-10 of what remains. bits 5 (unpacked) for contrast. */
static void test_packed_codes_persist_and_remove(void **state)
{
    (void)state;
    enum { N = 3000, D = 72, NQ = 30, K = 10 }; /* dim_pad 128 */
    float *x = clustered(N, D, 15, 0.5f);
    float *qs = clustered(NQ, D, 15, 0.5f);
    static const unsigned bitss[] = {2, 3, 4, 5};
    for (size_t b = 0; b < 4; b++) {
        ruv_index_params p;
        assert_int_equal(ruv_index_params_init(&p, RUV_INDEX_RABITQ_PLUS, RUV_METRIC_L2, D),
                         RUV_OK);
        p.bits = bitss[b];
        p.nlist = 6;
        p.nprobe = 6;
        p.epsilon = 4.0f;
        ruv_index *idx = NULL, *back = NULL;
        assert_int_equal(ruv_index_build(eng, &p, x, N, NULL, &idx), RUV_OK);
        char f1[512], f2[512];
        snprintf(f1, sizeof f1, "%s/a%u.rvq", tmpdir, bitss[b]);
        snprintf(f2, sizeof f2, "%s/b%u.rvq", tmpdir, bitss[b]);
        assert_int_equal(ruv_index_save(idx, f1), RUV_OK);
        assert_int_equal(ruv_index_load(eng, f1, &back), RUV_OK);
        assert_int_equal(ruv_index_save(back, f2), RUV_OK);
        size_t l1, l2;
        unsigned char *b1 = slurp(f1, &l1), *b2 = slurp(f2, &l2);
        assert_int_equal(l1, l2);
        assert_memory_equal(b1, b2, l1);
        free(b1);
        free(b2);
        ruv_search_params sp;
        assert_int_equal(ruv_search_params_init(&sp, K), RUV_OK);
        for (size_t j = 0; j < NQ; j++) {
            uint64_t i1[K], i2[K];
            float s1[K], s2[K];
            size_t n1, n2;
            assert_int_equal(ruv_index_search(idx, qs + j * D, &sp, i1, s1, &n1), RUV_OK);
            assert_int_equal(ruv_index_search(back, qs + j * D, &sp, i2, s2, &n2), RUV_OK);
            assert_int_equal(n1, n2);
            assert_memory_equal(i1, i2, n1 * sizeof *i1);
            assert_memory_equal(s1, s2, n1 * sizeof *s1);
        }
        /* remove every third row; the rest must still come back exactly */
        uint64_t *gone = xmalloc(N / 3 * sizeof *gone);
        double *dist = xmalloc(N * sizeof *dist);
        for (size_t i = 0; i < N / 3; i++)
            gone[i] = 3 * i;
        size_t removed = 0;
        assert_int_equal(ruv_index_remove(back, gone, N / 3, &removed), RUV_OK);
        assert_int_equal(removed, N / 3);
        for (size_t j = 0; j < NQ; j++) {
            const float *q = qs + j * D;
            for (size_t i = 0; i < N; i++)
                dist[i] = i % 3 == 0 ? INFINITY : dist_of(RUV_METRIC_L2, q, x + i * D, D);
            const double kth = kth_smallest(dist, N, K);
            uint64_t ids[K];
            float sc[K];
            size_t nf;
            assert_int_equal(ruv_index_search(back, q, &sp, ids, sc, &nf), RUV_OK);
            assert_int_equal(nf, K);
            for (size_t r = 0; r < K; r++) {
                assert_true(ids[r] % 3 != 0);
                assert_true(within_kth(dist[ids[r]], kth));
            }
        }
        free(gone);
        free(dist);
        ruv_index_free(idx);
        ruv_index_free(back);
    }
    free(x);
    free(qs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantiser_bound),
        cmocka_unit_test(test_quantiser_zero_query),
        cmocka_unit_test(test_quantiser_extreme_coordinates),
        cmocka_unit_test(test_bounds_contain_exact),
        cmocka_unit_test(test_plus_returns_exact_top10),
        cmocka_unit_test(test_packed_codes_persist_and_remove),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
