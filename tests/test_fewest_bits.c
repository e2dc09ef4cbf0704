/* ruv_index_build_fewest_bits (engine/index/fewest_bits.c): a codes-only
 * index with a recall target gets the narrowest code whose calibration
 * reaches it (one bit fewer does not), or a clear refusal naming the best
 * recall measured when even 8 bits fall short; wrong requests are refused
 * by name. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ruvector/ruvector.h>

#define TESTDATA_SEED 0xfe3b175ull
#define TESTDATA_TMPDIR "/tmp/ruv-fewest-test-XXXXXX"
#include "testdata.h"

enum { N = 4000, D = 32 };

static ruv_index_params params(int type, float target)
{
    ruv_index_params p;
    assert_int_equal(ruv_index_params_init(&p, type, RUV_METRIC_L2, D), RUV_OK);
    p.target_recall = target;
    return p;
}

/* The chosen width reaches the target on calibration and one bit fewer
 * (same data, same target, built with explicit bits) does not: it is the
 * fewest. 1 bit cannot reach 0.9 here, so the search has work to do. */
static void test_fewest_bits_reach_target(void **state)
{
    (void)state;
    float *x = clustered(N, D, 20, 0.8f);
    const int types[] = {RUV_INDEX_RABITQ, RUV_INDEX_RABITQ_ASYM};
    for (int t = 0; t < 2; t++) {
        ruv_index_params p = params(types[t], 0.9f);
        ruv_index *idx = NULL;
        if (ruv_index_build_fewest_bits(eng, &p, x, N, NULL, &idx))
            fail_msg("fewest bits: %s", ruv_last_error());
        const ruv_index_params *got = ruv_index_params_get(idx);
        print_message("%s: %u bits, recall@10 %.3f on calibration\n",
                      ruv_index_type_name(types[t]), got->bits, (double)got->calibrated_recall);
        /* reached as the plan says it: the bound, and so the mean */
        assert_true(got->calibrated_lower >= 0.9f);
        assert_true(got->calibrated_recall >= got->calibrated_lower);
        assert_true(got->planned & RUV_PLANNED_BITS);
        assert_true(got->bits > 1 && got->bits <= 8);
        ruv_index_params fewer = p;
        fewer.bits = got->bits - 1;
        ruv_index *less = NULL;
        assert_int_equal(ruv_index_build(eng, &fewer, x, N, NULL, &less), RUV_OK);
        print_message("  %u bits: %.3f\n", fewer.bits,
                      (double)ruv_index_params_get(less)->calibrated_recall);
        assert_true(ruv_index_params_get(less)->calibrated_lower < 0.9f);
        char plan[1024];
        ruv_index_describe_plan(idx, plan, sizeof plan);
        assert_non_null(strstr(plan, "(planned)"));
        assert_null(strstr(plan, "NOT reached"));
        ruv_index_free(less);
        ruv_index_free(idx);
    }
    free(x);
}

/* One Gaussian in 128 dimensions: the 10th and 11th neighbours lie so
 * close that no code tells them apart every time, so recall@10 1.0 is out
 * of reach of the codes; the refusal says so and names what was measured. */
static void test_unreachable_target_refused(void **state)
{
    (void)state;
    const size_t d = 128, n = 3000;
    float *x = malloc(n * d * sizeof *x);
    for (size_t i = 0; i < n * d; i++)
        x[i] = nrand();
    ruv_index_params p;
    assert_int_equal(ruv_index_params_init(&p, RUV_INDEX_RABITQ, RUV_METRIC_L2, d), RUV_OK);
    p.target_recall = 1.0f;
    ruv_index *idx = (ruv_index *)&p; /* must be reset to NULL */
    assert_int_equal(ruv_index_build_fewest_bits(eng, &p, x, n, NULL, &idx), RUV_E_UNSUPPORTED);
    assert_null(idx);
    const char *e = ruv_last_error();
    print_message("%s\n", e);
    assert_non_null(strstr(e, "codes alone cannot reach recall@10 1 on this data: with 8 bits"));
    assert_non_null(strstr(e, "measured 0."));
    assert_non_null(strstr(e, "on 200 of its own rows"));
    assert_non_null(strstr(e, "use rabitq_plus"));
    free(x);
}

static void test_wrong_requests_refused(void **state)
{
    (void)state;
    float *x = clustered(100, D, 4, 0.5f);
    ruv_index *idx = NULL;
    ruv_index_params p = params(RUV_INDEX_RABITQ_PLUS, 0.9f);
    assert_int_equal(ruv_index_build_fewest_bits(eng, &p, x, 100, NULL, &idx), RUV_E_INVAL);
    assert_non_null(strstr(ruv_last_error(), "codes-only types"));
    p = params(RUV_INDEX_RABITQ, 0.0f);
    assert_int_equal(ruv_index_build_fewest_bits(eng, &p, x, 100, NULL, &idx), RUV_E_INVAL);
    assert_non_null(strstr(ruv_last_error(), "target_recall"));
    p = params(RUV_INDEX_RABITQ, 0.9f);
    p.bits = 4;
    assert_int_equal(ruv_index_build_fewest_bits(eng, &p, x, 100, NULL, &idx), RUV_E_INVAL);
    assert_non_null(strstr(ruv_last_error(), "bits 4 were given"));
    p = params(RUV_INDEX_RABITQ, 0.9f);
    assert_int_equal(ruv_index_build_fewest_bits(eng, &p, x, 1, NULL, &idx), RUV_E_INVAL);
    assert_int_equal(ruv_index_build_fewest_bits(eng, NULL, x, 100, NULL, &idx), RUV_E_INVAL);
    assert_int_equal(ruv_index_build_fewest_bits(eng, &p, x, 100, NULL, NULL), RUV_E_INVAL);
    assert_null(idx);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fewest_bits_reach_target),
        cmocka_unit_test(test_unreachable_target_refused),
        cmocka_unit_test(test_wrong_requests_refused),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
