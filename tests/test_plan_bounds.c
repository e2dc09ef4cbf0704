/* The calibration's lower confidence bounds (engine/index/calibrate.c,
 * plan.c): stored per curve point and at the chosen nprobe (PLAN version
 * 2), read by search(..., recall=R) and shown by ruv_index_calibration_curve;
 * a plan without them (PLAN version 1, every file before them) loads, reads
 * the means as before and saves back byte for byte; edited bounds are
 * refused. White-box: it reads the curve and ruv__plan_nprobe. The
 * held-out-query side is python/tests/test_plan.py. */
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
#include "store/persist.h"

#define TESTDATA_SEED 0x5eed10b0
#define TESTDATA_TMPDIR "/tmp/ruv-plan-bounds-test-XXXXXX"
#include "testdata.h"
#include "fileimage.h"

/* Unit vectors from Gaussian clusters with Zipf(1) sizes and per-axis
 * scales i^-0.5 (python/tests/test_plan.py's zipf_embeddings, bench/peers'
 * embedding-like recipe): rows in hard regions miss several neighbours at
 * once, and the calibration curve has several points below the target. */
static float *zipf_embeddings(size_t n, size_t d, size_t clusters, float within)
{
    float *c = malloc(clusters * d * sizeof *c), *x = malloc(n * d * sizeof *x);
    double *cum = malloc(clusters * sizeof *cum);
    assert_true(c && x && cum);
    double total = 0.0;
    for (size_t k = 0; k < clusters; k++)
        cum[k] = total += 1.0 / (double)(k + 1);
    for (size_t k = 0; k < clusters * d; k++)
        c[k] = (float)(nrand() / sqrt((double)(k % d + 1)));
    for (size_t i = 0; i < n; i++) {
        const double u = urand() * total;
        size_t k = 0;
        while (k + 1 < clusters && cum[k] < u)
            k++;
        double norm = 0.0;
        for (size_t j = 0; j < d; j++) {
            float v = c[k * d + j] + within * (float)(nrand() / sqrt((double)(j + 1)));
            x[i * d + j] = v;
            norm += (double)v * v;
        }
        for (size_t j = 0; j < d; j++)
            x[i * d + j] = (float)(x[i * d + j] / sqrt(norm));
    }
    free(cum);
    free(c);
    return x;
}

/* search(..., recall=R)'s nprobe by the rule of before: the first curve
 * point whose MEAN reaches R (every list past the last), clamped around
 * the default as ruv__plan_nprobe does. */
static uint32_t nprobe_by(const ruv_index *idx, const float *reach, float R)
{
    const struct ruv__plan_curve *c = &idx->curve;
    const uint32_t dflt = idx->p.nprobe;
    uint32_t np = idx->p.nlist;
    for (uint32_t i = 0; i < c->n; i++)
        if (reach[i] >= R) {
            np = c->nprobe[i];
            break;
        }
    if (R <= idx->p.target_recall)
        return np < dflt ? np : dflt;
    return np > dflt ? np : dflt;
}

/* The PLAN section of a saved file: its payload and length. */
static unsigned char *plan_payload(unsigned char *img, size_t *len)
{
    unsigned char *e = table_entry(img, "PLAN");
    assert_non_null(e);
    *len = (size_t)le64(e + 16);
    return img + le64(e + 8);
}

static float f32_at(const unsigned char *p)
{
    uint32_t u = le32(p);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static void put_f32(unsigned char *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    put_le32(p, u);
}

/* Each curve point stores the one-sided 95 % lower bound beside its mean
 * (PLAN version 2), search(recall=R) takes the first point whose BOUND
 * reaches R, as the default nprobe was chosen, and that differs from the
 * mean's choice here (the test fails on the rule of before). A plan without
 * bounds (PLAN version 1, what every file before them has) loads, answers
 * recall= from the means exactly as before, and saves back byte for byte;
 * edited bounds are refused. */
static void test_search_recall_reads_the_bound(void **state)
{
    (void)state;
    const size_t n = 20000, d = 96;
    /* embedding-like rows, where adaptive probing does not finish every
     * query from nprobe 1 (on plain clusters the curve is one point) */
    float *x = zipf_embeddings(n, d, 300, 0.8f);
    ruv_index *idx = build_defaults(RUV_INDEX_RABITQ_PLUS, RUV_METRIC_COSINE, x, n, d);
    const ruv_index_params *p = ruv_index_params_get(idx);
    const struct ruv__plan_curve *cv = &idx->curve;
    print_message("nprobe %u, %u curve points\n", p->nprobe, cv->n);
    assert_true(cv->bounded && cv->n >= 2);
    assert_true(p->calibrated_lower >= p->target_recall);
    assert_true(p->calibrated_lower <= p->calibrated_recall);
    for (uint32_t i = 0; i < cv->n; i++) {
        print_message("nprobe %u: recall %.4f, bound %.4f\n", cv->nprobe[i],
                      (double)cv->recall[i], (double)cv->lower[i]);
        assert_true(cv->lower[i] <= cv->recall[i]);
        assert_true(i == 0 || cv->lower[i] >= cv->lower[i - 1]);
    }
    ruv_search_params sp;
    ruv_search_params_init(&sp, 10);
    int differs = 0;
    for (int i = 1; i <= 1000; i++) {
        sp.recall = (float)i / 1000.0f;
        assert_int_equal(ruv__plan_nprobe(idx, &sp), nprobe_by(idx, cv->lower, sp.recall));
        differs |= nprobe_by(idx, cv->lower, sp.recall) != nprobe_by(idx, cv->recall, sp.recall);
    }
    assert_true(differs); /* the bound asks for more than the mean somewhere */
    uint32_t np_out[RUV__PLAN_POINTS];
    float mean_out[RUV__PLAN_POINTS], lower_out[RUV__PLAN_POINTS];
    assert_int_equal(ruv_index_calibration_curve(idx, np_out, mean_out, lower_out, 2), cv->n);
    assert_int_equal(ruv_index_calibration_curve(idx, np_out, mean_out, lower_out,
                                                 RUV__PLAN_POINTS),
                     cv->n);
    assert_memory_equal(np_out, cv->nprobe, cv->n * sizeof *np_out);
    assert_memory_equal(mean_out, cv->recall, cv->n * sizeof *mean_out);
    assert_memory_equal(lower_out, cv->lower, cv->n * sizeof *lower_out);
    assert_int_equal(ruv_index_calibration_curve(NULL, NULL, NULL, NULL, 0), 0);

    /* saved and loaded: version 2, the same plan bit for bit */
    char path[300], path1[300], path1b[300];
    snprintf(path, sizeof path, "%s/bound.ruv", tmpdir);
    snprintf(path1, sizeof path1, "%s/plan-v1.ruv", tmpdir);
    snprintf(path1b, sizeof path1b, "%s/plan-v1b.ruv", tmpdir);
    assert_int_equal(ruv_index_save(idx, path), RUV_OK);
    size_t len, plen;
    unsigned char *img = read_file(path, &len);
    unsigned char *pl = plan_payload(img, &plen);
    assert_int_equal(le32(pl), 2);
    assert_int_equal(plen, 32 + 12 * (size_t)cv->n);
    ruv_index *b = NULL;
    assert_int_equal(ruv_index_load(eng, path, &b), RUV_OK);
    assert_true(b->curve.bounded);
    assert_int_equal(b->curve.n, cv->n);
    assert_memory_equal(b->curve.lower, cv->lower, cv->n * sizeof(float));
    assert_memory_equal(b->curve.recall, cv->recall, cv->n * sizeof(float));
    assert_memory_equal(&b->p.calibrated_lower, &p->calibrated_lower, sizeof(float));

    /* a plan of before: version 1, read by the means */
    b->curve.bounded = 0;
    b->p.calibrated_lower = 0.0f;
    assert_int_equal(ruv_index_save(b, path1), RUV_OK);
    size_t len1, plen1;
    unsigned char *img1 = read_file(path1, &len1);
    unsigned char *pl1 = plan_payload(img1, &plen1);
    assert_int_equal(le32(pl1), 1);
    assert_int_equal(plen1, 28 + 8 * (size_t)cv->n);
    ruv_index *c1 = NULL;
    assert_int_equal(ruv_index_load(eng, path1, &c1), RUV_OK);
    assert_false(c1->curve.bounded);
    assert_true(c1->p.calibrated_lower == 0.0f);
    assert_int_equal(ruv_index_calibration_curve(c1, np_out, mean_out, lower_out,
                                                 RUV__PLAN_POINTS),
                     cv->n);
    for (uint32_t i = 0; i < cv->n; i++)
        assert_true(lower_out[i] == -1.0f && mean_out[i] == cv->recall[i]);
    assert_int_equal(c1->p.nprobe, p->nprobe);
    for (int i = 1; i <= 1000; i++) {
        sp.recall = (float)i / 1000.0f;
        assert_int_equal(ruv__plan_nprobe(c1, &sp), nprobe_by(idx, cv->recall, sp.recall));
    }
    char text[1024];
    ruv_index_describe_plan(c1, text, sizeof text);
    assert_null(strstr(text, "lower bound"));
    ruv_index_describe_plan(idx, text, sizeof text);
    assert_non_null(strstr(text, "95 % lower bound 0."));
    assert_int_equal(ruv_index_save(c1, path1b), RUV_OK);
    size_t len1b;
    unsigned char *img1b = read_file(path1b, &len1b);
    assert_int_equal(len1b, len1);
    assert_memory_equal(img1b, img1, len1);

    /* edited bounds: above the recall, falling, a version from the future */
    const struct {
        size_t at;
        float v;
    } edits[] = {{24, p->calibrated_recall + 0.001f},
                 {24, NAN},
                 {32 + 8, cv->recall[0] + 0.001f},
                 {32 + 12 + 8, cv->lower[0] * 0.5f}};
    for (size_t e = 0; e < sizeof edits / sizeof *edits; e++) {
        unsigned char *bad = malloc(len);
        memcpy(bad, img, len);
        unsigned char *bp = plan_payload(bad, &plen);
        put_f32(bp + edits[e].at, edits[e].v);
        reseal(bad, table_entry(bad, "PLAN"));
        write_file(path1b, bad, len);
        ruv_index *r = NULL;
        assert_int_equal(ruv_index_load(eng, path1b, &r), RUV_E_CORRUPT);
        assert_non_null(strstr(ruv_last_error(), "PLAN"));
        if (e == 3)
            assert_true(f32_at(img + (bp - bad) + edits[e].at) > edits[e].v);
        put_le32(bp, 3);
        reseal(bad, table_entry(bad, "PLAN"));
        write_file(path1b, bad, len);
        assert_int_equal(ruv_index_load(eng, path1b, &r), RUV_E_CORRUPT);
        assert_non_null(strstr(ruv_last_error(), "PLAN version 3"));
        free(bad);
    }
    free(img);
    free(img1);
    free(img1b);
    ruv_index_free(c1);
    ruv_index_free(b);
    ruv_index_free(idx);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_search_recall_reads_the_bound),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
