/* The 1-bit screen of multi-bit RabitqPlus lists (rq_search.c,
 * RQ_SCREEN_SCALE): it spares most whole-code looks without losing
 * neighbours, for every metric, while an explicit nprobe keeps the full
 * bound. White-box: counts through the index's kernel table. */
#define _GNU_SOURCE
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

#define TESTDATA_SEED 0x5c12ee4ull
#define TESTDATA_TMPDIR "/tmp/ruv-screen-test-XXXXXX"
#include "testdata.h"

enum { N = 20000, D = 96, NQ = 100, NLIST = 64, K = 10 };

/* The index's own kernel with its whole-code looks and FastScan lanes
 * counted. */
static const struct ruv_kernel_ops *inner;
static size_t looks, lanes;

static float counting_dot_u8(const uint8_t *a, const float *b, size_t n)
{
    looks++;
    return inner->dot_u8_f32(a, b, n);
}

/* the look's integer forms (the int16 query; packed codes for bits <= 4) */
static int64_t counting_dot_u8_i16(const uint8_t *a, const int16_t *b, size_t n)
{
    looks++;
    return inner->dot_u8_i16(a, b, n);
}

static int64_t counting_dot_u4_i16(const uint8_t *a, const int16_t *b, size_t n)
{
    looks++;
    return inner->dot_u4_i16(a, b, n);
}

static void counting_fastscan(const uint8_t *codes, size_t nsub, size_t nblocks,
                              const uint8_t *lut, uint16_t *out)
{
    lanes += 32 * nblocks;
    inner->fastscan_u8(codes, nsub, nblocks, lut, out);
}

struct outcome {
    double recall; /* tie-tolerant recall@10 against an exact float64 scan */
    size_t looks, lanes;
};

static struct outcome search_all(ruv_index *idx, int metric, const float *x, const float *qs,
                                 uint32_t nprobe)
{
    struct ruv_kernel_ops counting = *idx->k;
    inner = idx->k;
    counting.dot_u8_f32 = counting_dot_u8;
    counting.dot_u8_i16 = counting_dot_u8_i16;
    counting.dot_u4_i16 = counting_dot_u4_i16;
    counting.fastscan_u8 = counting_fastscan;
    idx->k = &counting;
    looks = lanes = 0;
    ruv_search_params sp;
    ruv_search_params_init(&sp, K);
    sp.nprobe = nprobe;
    double *d = malloc(N * sizeof *d);
    assert_non_null(d);
    size_t hits = 0;
    for (size_t i = 0; i < NQ; i++) {
        const float *q = qs + i * D;
        for (size_t r = 0; r < N; r++)
            d[r] = dist_of(metric, q, x + r * D, D);
        const double kth = kth_smallest(d, N, K);
        uint64_t ids[K];
        float sc[K];
        size_t nf = 0;
        assert_int_equal(ruv_index_search(idx, q, &sp, ids, sc, &nf), RUV_OK);
        for (size_t r = 0; r < nf; r++)
            hits += within_kth(d[ids[r]], kth);
    }
    free(d);
    idx->k = inner;
    return (struct outcome){(double)hits / (double)(NQ * K), looks, lanes};
}

/* Isotropic Gaussian rows, where 1-bit estimates are loose. For L2 the
 * lists' radius bounds overlap every query, so adaptive probing visits
 * (nearly) every list and the planned search and an explicit nprobe of
 * every list scan the same lanes: only the screen differs. Measured with
 * this data (seed above), whole-code looks per scanned lane, planned
 * against nprobe 64, and planned recall@10 (nprobe 64: 1.000):
 *   screen 0.6 (as built): L2 0.048 vs 0.118, 0.996; cosine 0.075 vs 0.159, 0.972
 *   1.0 (no screen):       L2 0.119 vs 0.118, 1.000; cosine 0.184 vs 0.159, 0.963
 *   0.3:                   L2 0.022 vs 0.118, 0.968; cosine 0.030 vs 0.159, 0.965
 * (cosine's planned recall is adaptive probing's stop, which scans ~78 %
 * of the lanes there, not the screen). The 0.85 rate limit fails a screen
 * dropped or widened back to the bound; L2's 0.99 recall floor fails one
 * narrowed until it loses neighbours. */
static void test_screen_spares_looks_and_keeps_neighbours(void **state)
{
    (void)state;
    const int metrics[] = {RUV_METRIC_L2, RUV_METRIC_COSINE};
    float *x = malloc((size_t)(N + NQ) * D * sizeof *x);
    assert_non_null(x);
    for (size_t i = 0; i < (size_t)(N + NQ) * D; i++)
        x[i] = nrand();
    const float *qs = x + (size_t)N * D;
    for (size_t m = 0; m < 2; m++) {
        ruv_index_params p;
        assert_int_equal(ruv_index_params_init(&p, RUV_INDEX_RABITQ_PLUS, metrics[m], D), RUV_OK);
        p.nlist = NLIST; /* bits and nprobe planned: 4 bits, calibrated */
        ruv_index *idx = NULL;
        assert_int_equal(ruv_index_build(eng, &p, x, N, NULL, &idx), RUV_OK);
        const struct outcome planned = search_all(idx, metrics[m], x, qs, 0);
        const struct outcome full = search_all(idx, metrics[m], x, qs, NLIST);
        fprintf(stderr,
                "metric %d: planned %zu looks of %zu lanes, recall@10 %.4f; nprobe %d: %zu looks "
                "of %zu lanes, recall@10 %.4f\n",
                metrics[m], planned.looks, planned.lanes, planned.recall, NLIST, full.looks,
                full.lanes, full.recall);
        const double rate = (double)planned.looks / (double)planned.lanes,
                     full_rate = (double)full.looks / (double)full.lanes;
        assert_true(planned.looks > 0);
        assert_true(rate < 0.85 * full_rate);
        assert_true(full.recall >= planned.recall);
        if (metrics[m] == RUV_METRIC_L2) {
            /* (nearly) the same lanes: only the screen differs */
            assert_true((double)planned.lanes >= 0.99 * (double)full.lanes);
            assert_true(planned.recall >= 0.99);
        } else {
            assert_true(planned.recall >= 0.95); /* the plan's target */
        }
        ruv_index_free(idx);
    }
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_screen_spares_looks_and_keeps_neighbours),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
