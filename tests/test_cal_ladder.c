/* The calibration's measuring searches (engine/index/rabitq/rq_ladder.c)
 * give what ruv_index_search_batch gives, bit for bit: ids, scores and
 * counts at every nprobe of a ladder that rises, repeats, falls back below
 * what was scanned and jumps to every list; for rabitq_plus (4-bit and
 * 1-bit codes) and codes only, L2, inner product and cosine, a dimension
 * that is not a multiple of 8, exact duplicate rows and zero rows, lists
 * the probe scores alike, queries from the data and from elsewhere. And a
 * whole calibration with the ladder chooses the same nprobe and measures
 * the same curve as one without it. */
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

#include "index/common.h"
#include "index/rabitq/rq.h"

#define TESTDATA_SEED 0x1add3e5eedull
#define TESTDATA_TMPDIR "/tmp/ruv-cal-ladder-test-XXXXXX"
#include "testdata.h"

enum { N = 6007, N_CAL = 3001, D = 37, D_CAL = 301, NQ = 60, K = 11 };

/* Rows around `clusters` centres (spread sigma); every 7th row a copy of
 * an earlier one, every 50th zero. */
static float *make_rows(size_t n, size_t d, size_t clusters, float sigma)
{
    float *x = clustered(n, d, clusters, sigma);
    for (size_t i = 1; i < n; i++) {
        if (i % 50 == 0)
            memset(x + i * d, 0, d * sizeof *x);
        else if (i % 7 == 0)
            memcpy(x + i * d, x + (i / 3) * d, d * sizeof *x);
    }
    return x;
}

/* Half the queries rows of the data (as the calibration's), half from a
 * wide Gaussian (adaptive probing goes far for them). */
static float *make_queries(const float *x)
{
    float *q = malloc((size_t)NQ * D * sizeof *q);
    assert_non_null(q);
    for (size_t i = 0; i < NQ; i++)
        for (size_t j = 0; j < D; j++)
            q[i * D + j] = i % 2 ? x[((i * 97) % N) * D + j] : 3.0f * nrand();
    return q;
}

static ruv_index *build(int type, int metric, unsigned bits, size_t n, size_t d,
                        uint32_t nlist, const float *x)
{
    ruv_index_params p;
    assert_int_equal(ruv_index_params_init(&p, type, metric, (uint32_t)d), RUV_OK);
    if (bits)
        p.bits = bits;
    p.nlist = nlist; /* the plan would scan a set this small exactly */
    ruv_index *idx = NULL;
    if (ruv_index_build(eng, &p, x, n, NULL, &idx))
        fail_msg("build: %s", ruv_last_error());
    return idx;
}

/* The ladder and the batch search at idx's nprobe np: the same bits. */
static void same_at(ruv_index *idx, void **state, const float *q, uint32_t np)
{
    static uint64_t ia[NQ * K], ib[NQ * K];
    static float sa[NQ * K], sb[NQ * K];
    size_t na[NQ], nb[NQ];
    ruv_search_params sp;
    ruv_search_params_init(&sp, K);
    const uint32_t saved = idx->p.nprobe;
    idx->p.nprobe = np;
    memset(sa, 0, sizeof sa);
    memset(sb, 0, sizeof sb);
    assert_int_equal(idx->vt->cal_search(idx, state, q, NQ, &sp, ia, sa, na), RUV_OK);
    assert_int_equal(ruv_index_search_batch(idx, q, NQ, &sp, ib, sb, nb), RUV_OK);
    idx->p.nprobe = saved;
    for (size_t i = 0; i < NQ; i++) {
        if (na[i] != nb[i])
            fail_msg("nprobe %u query %zu: %zu results, batch %zu", np, i, na[i], nb[i]);
        for (size_t j = 0; j < na[i]; j++)
            if (ia[i * K + j] != ib[i * K + j] ||
                memcmp(&sa[i * K + j], &sb[i * K + j], sizeof(float)))
                fail_msg("nprobe %u query %zu result %zu: id %llu score %a, batch id %llu "
                         "score %a", np, i, j, (unsigned long long)ia[i * K + j],
                         (double)sa[i * K + j], (unsigned long long)ib[i * K + j],
                         (double)sb[i * K + j]);
    }
}

/* Ties in the probe's order: list 2j + 1 gets list 2j's probe centroid,
 * so both score the same for every query and only the list number orders
 * them (the lists keep their own rows, so the order changes the results). */
static void probe_ties(ruv_index *idx)
{
    struct rq *r = idx->impl;
    for (size_t j = 0; j + 1 < r->probe.nlist; j += 2) {
        memcpy(r->probe.c + (j + 1) * r->probe.dim, r->probe.c + j * r->probe.dim,
               r->probe.dim * sizeof *r->probe.c);
        r->probe.norm[j + 1] = r->probe.norm[j];
    }
}

static void ladder_case(int type, int metric, unsigned bits, int expect_state, int ties)
{
    float *x = make_rows(N, D, 40, 0.6f), *q = make_queries(x);
    ruv_index *idx = build(type, metric, bits, N, D, 48, x);
    const uint32_t nlist = idx->p.nlist;
    assert_true(nlist >= 16);
    if (ties)
        probe_ties(idx);
    assert_non_null(idx->vt->cal_search);
    /* up, the same again, below what was scanned, up past it, every list */
    const uint32_t steps[] = {1, 2, 3, 3, 4, 6, 5, 2, 9, 13, nlist, 1};
    void *st = NULL;
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++)
        same_at(idx, &st, q, steps[i]);
    /* the ladder path itself ran (it keeps a state), or the type is not one it covers */
    assert_int_equal(st != NULL, expect_state);
    idx->vt->cal_search_free(st);
    /* a fresh state whose first step is not 1 */
    st = NULL;
    same_at(idx, &st, q, 7);
    same_at(idx, &st, q, 8);
    idx->vt->cal_search_free(st);
    ruv_index_free(idx);
    free(q);
    free(x);
}

static void test_ladder_plus(void **state)
{
    (void)state;
    const int metrics[] = {RUV_METRIC_L2, RUV_METRIC_IP, RUV_METRIC_COSINE};
    for (int m = 0; m < 3; m++) {
        ladder_case(RUV_INDEX_RABITQ_PLUS, metrics[m], 0, 1, 0);
        ladder_case(RUV_INDEX_RABITQ_PLUS, metrics[m], 1, 1, 0);
        ladder_case(RUV_INDEX_RABITQ_PLUS, metrics[m], 0, 1, 1);
    }
}

static void test_ladder_codes_only(void **state)
{
    (void)state;
    ladder_case(RUV_INDEX_RABITQ, RUV_METRIC_L2, 4, 1, 0);
    ladder_case(RUV_INDEX_RABITQ, RUV_METRIC_IP, 1, 1, 1);
    ladder_case(RUV_INDEX_RABITQ_ASYM, RUV_METRIC_L2, 0, 0, 0); /* not covered: the batch path */
}

/* The whole calibration again, with and without the ladder (and the
 * memo of hits that goes with it, calibrate.c): same nprobe,
 * recall and curve, bit for bit (on one Gaussian at D = 301, where inner
 * product needs 20 measurements: a rising ladder, then halving steps back
 * below the nprobe the ladder reached). */
static void test_calibration_unchanged(void **state)
{
    (void)state;
    /* ~15 minutes under valgrind (scripts/test.sh sets this); make check
     * runs it natively and under ASan+UBSan, the ladder tests above run
     * under valgrind too */
    if (getenv("RUV_TEST_UNDER_VALGRIND")) {
        print_message("skipped under valgrind: the whole calibration twice takes ~15 min there\n");
        skip();
    }
    const int metrics[] = {RUV_METRIC_L2, RUV_METRIC_IP, RUV_METRIC_COSINE};
    for (int m = 0; m < 3; m++) {
        float *x = make_rows(N_CAL, D_CAL, 1, 1.0f); /* one Gaussian: many lists per answer */
        ruv_index *idx = build(RUV_INDEX_RABITQ_PLUS, metrics[m], 0, N_CAL, D_CAL, 96, x);
        assert_true(idx->p.planned & RUV_PLANNED_NPROBE);
        const struct ruv__index_vt *vt = idx->vt;
        struct ruv__index_vt without = *vt;
        without.cal_search = NULL;
        ruv_index_params got[2];
        struct ruv__plan_curve curve[2];
        for (int v = 0; v < 2; v++) {
            idx->vt = v ? &without : vt;
            idx->p.nprobe = 0;
            idx->p.planned &= ~RUV_PLANNED_NPROBE;
            assert_int_equal(ruv__calibrate(idx, idx->vecs, idx->n), RUV_OK);
            got[v] = idx->p;
            curve[v] = idx->curve;
        }
        idx->vt = vt;
        print_message("%s: nprobe %u, recall %.4f, %u points\n", ruv_metric_name(metrics[m]),
                      got[0].nprobe, (double)got[0].calibrated_recall, curve[0].n);
        /* L2 reaches the ceiling at nprobe 1 here (adaptive probing); IP and
         * cosine climb a ladder, inner product with halving steps */
        if (metrics[m] != RUV_METRIC_L2)
            assert_true(curve[0].n >= 8);
        assert_int_equal(got[0].nprobe, got[1].nprobe);
        assert_memory_equal(&got[0].calibrated_recall, &got[1].calibrated_recall, sizeof(float));
        assert_int_equal(curve[0].n, curve[1].n);
        assert_memory_equal(curve[0].nprobe, curve[1].nprobe, curve[0].n * sizeof(uint32_t));
        assert_memory_equal(curve[0].recall, curve[1].recall, curve[0].n * sizeof(float));
        ruv_index_free(idx);
        free(x);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ladder_plus),
        cmocka_unit_test(test_ladder_codes_only),
        cmocka_unit_test(test_calibration_unchanged),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
