/* Adaptive probing (engine/index/rabitq/rq_search.c): with the defaults,
 * queries unlike the data (out of distribution) still reach the recall
 * target less 0.05, in-distribution ones the target; the per-list radii it
 * needs are exact, survive a save and load, and are validated; a file
 * without them (written before adaptive probing) searches as it did.
 * White-box: it reads the lists' radii. */
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

#include "index/build.h"
#include "index/common.h"
#include "index/rabitq/rq.h"
#include "store/persist.h"

#define TESTDATA_SEED 0x5eed0adaull
#define TESTDATA_TMPDIR "/tmp/ruv-adaptive-test-XXXXXX"
#include "testdata.h"
#include "fileimage.h"

enum { N = 30000, D = 48, NQ = 200 };

/* Tie-tolerant recall@10 of nq queries against an exact float64 scan. */
static double recall10(const ruv_index *idx, const ruv_search_params *sp, int metric,
                       const float *base, const float *qs, size_t nq)
{
    size_t hits = 0;
    double *d = malloc(N * sizeof *d);
    for (size_t i = 0; i < nq; i++) {
        const float *q = qs + i * D;
        for (size_t r = 0; r < N; r++)
            d[r] = dist_of(metric, q, base + r * D, D);
        const double kth = kth_smallest(d, N, 10);
        uint64_t ids[10];
        float sc[10];
        size_t nf;
        assert_int_equal(ruv_index_search(idx, q, sp, ids, sc, &nf), RUV_OK);
        for (size_t r = 0; r < nf; r++)
            hits += within_kth(d[ids[r]], kth);
    }
    free(d);
    return (double)hits / (double)(nq * 10);
}

/* Queries from elsewhere: one Gaussian with the data's per-coordinate mean
 * and spread, so they fall between the clusters (for cosine, directions
 * uniform on the sphere). */
static float *ood_queries(int metric, const float *x, size_t nq)
{
    double mean[D] = {0}, var[D] = {0};
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < D; j++)
            mean[j] += x[i * D + j] / N;
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < D; j++)
            var[j] += (x[i * D + j] - mean[j]) * (x[i * D + j] - mean[j]) / N;
    float *q = malloc(nq * D * sizeof *q);
    for (size_t i = 0; i < nq * D; i++)
        q[i] = metric == RUV_METRIC_COSINE
                   ? nrand()
                   : (float)(mean[i % D] + sqrt(var[i % D]) * nrand());
    return q;
}

static ruv_index *build_default(int metric, const float *x)
{
    return build_defaults(RUV_INDEX_RABITQ_PLUS, metric, x, N, D);
}

/* The defaults on held-out queries: in distribution the target less 0.03
 * (the calibration's sampling error, as in test_plan.c), out of distribution
 * the target less 0.05 (issue 14). The fixed calibrated nprobe alone, which
 * is what files without radii do, falls short on the same OOD queries: the
 * data are made so that the test can fail. */
static void test_ood_queries_reach_target(void **state)
{
    (void)state;
    const int metrics[] = {RUV_METRIC_L2, RUV_METRIC_COSINE, RUV_METRIC_IP};
    for (int m = 0; m < 3; m++) {
        float *x = clustered(N + NQ, D, 60, 0.7f), *in = x + (size_t)N * D;
        float *ood = ood_queries(metrics[m], x, NQ);
        ruv_index *idx = build_default(metrics[m], x);
        const ruv_index_params *p = ruv_index_params_get(idx);
        assert_true(p->nlist > 1);
        assert_true(((const struct rq *)idx->impl)->radii);
        ruv_search_params sp, fixed;
        ruv_search_params_init(&sp, 10);
        ruv_search_params_init(&fixed, 10);
        fixed.nprobe = p->nprobe;
        double r_in = recall10(idx, &sp, metrics[m], x, in, NQ);
        double r_ood = recall10(idx, &sp, metrics[m], x, ood, NQ);
        double r_fixed = recall10(idx, &fixed, metrics[m], x, ood, NQ);
        print_message("%s: nprobe %u of %u; recall@10 in-dist %.3f, OOD %.3f (fixed nprobe: "
                      "%.3f)\n", ruv_metric_name(metrics[m]), p->nprobe, p->nlist, r_in, r_ood,
                      r_fixed);
        assert_true(r_in >= p->target_recall - 0.03);
        assert_true(r_ood >= p->target_recall - 0.05);
        assert_true(r_fixed < r_ood);
        ruv_index_free(idx);
        free(ood);
        free(x);
    }
}

/* Every list's radius is the largest |x - centroid| of its vectors. */
static void test_radii_exact(void **state)
{
    (void)state;
    float *x = clustered(N, D, 60, 0.7f);
    ruv_index *idx = build_default(RUV_METRIC_L2, x);
    const struct rq *r = idx->impl;
    for (uint32_t l = 0; l < r->nlist; l++) {
        const struct rq_list *li = &r->lists[l];
        double want = 0.0;
        for (size_t j = 0; j < li->n; j++) {
            double s = dist_of(RUV_METRIC_L2, x + (size_t)li->rows[j] * D,
                               r->centroids + (size_t)l * D, D);
            want = sqrt(s) > want ? sqrt(s) : want;
        }
        assert_true(fabs(li->radius - want) <= 1e-4 * (1 + want));
    }
    ruv_index_free(idx);
    free(x);
}

/* Saved and loaded, the index searches as before, bit for bit. A file
 * without LRAD, as written before adaptive probing, loads with the radii
 * unknown and searches each query with the calibrated nprobe alone, as it
 * did; saving it again keeps it so. */
static void test_files_with_and_without_radii(void **state)
{
    (void)state;
    float *x = clustered(N, D, 60, 0.7f);
    float *ood = ood_queries(RUV_METRIC_L2, x, 40);
    ruv_index *a = build_default(RUV_METRIC_L2, x);
    char path[300];
    snprintf(path, sizeof path, "%s/a.ruv", tmpdir);
    assert_int_equal(ruv_index_save(a, path), RUV_OK);
    ruv_index *b = NULL, *c = NULL, *c2 = NULL;
    assert_int_equal(ruv_index_load(eng, path, &b), RUV_OK);
    assert_true(((const struct rq *)b->impl)->radii);
    size_t len;
    unsigned char *img = read_file(path, &len);
    unsigned char *e = table_entry(img, "LRAD");
    assert_non_null(e);
    memcpy(e, "Lrad", 4); /* a tag this reader does not know: LRAD is gone */
    reseal(img, e);
    write_file(path, img, len);
    free(img);
    assert_int_equal(ruv_index_load(eng, path, &c), RUV_OK);
    assert_false(((const struct rq *)c->impl)->radii);
    assert_int_equal(ruv_index_save(c, path), RUV_OK);
    img = read_file(path, &len);
    assert_null(table_entry(img, "LRAD"));
    free(img);
    assert_int_equal(ruv_index_load(eng, path, &c2), RUV_OK);
    ruv_search_params sp, fixed;
    ruv_search_params_init(&sp, 10);
    ruv_search_params_init(&fixed, 10);
    fixed.nprobe = ruv_index_params_get(a)->nprobe;
    int differs = 0;
    for (size_t i = 0; i < 40; i++) {
        uint64_t ia[10], ib[10], ic[10], id[10], ie[10];
        float sa[10], sb[10], sc[10], sd[10], se[10];
        size_t na, nb, nc, nd, ne;
        const float *q = ood + i * D;
        assert_int_equal(ruv_index_search(a, q, &sp, ia, sa, &na), RUV_OK);
        assert_int_equal(ruv_index_search(b, q, &sp, ib, sb, &nb), RUV_OK);
        assert_int_equal(ruv_index_search(c, q, &sp, ic, sc, &nc), RUV_OK);
        assert_int_equal(ruv_index_search(a, q, &fixed, id, sd, &nd), RUV_OK);
        assert_int_equal(ruv_index_search(c2, q, &sp, ie, se, &ne), RUV_OK);
        assert_int_equal(na, nb);
        assert_memory_equal(ia, ib, na * sizeof *ia);
        assert_memory_equal(sa, sb, na * sizeof *sa);
        assert_int_equal(nc, nd);
        assert_memory_equal(ic, id, nc * sizeof *ic);
        assert_memory_equal(sc, sd, nc * sizeof *sc);
        assert_int_equal(ne, nd);
        assert_memory_equal(ie, id, ne * sizeof *ie);
        differs |= na != nc || memcmp(ia, ic, na * sizeof *ia) != 0;
    }
    assert_true(differs); /* the radii change OOD answers: the test sees them */
    char text[1024];
    ruv_index_describe_probing(b, text, sizeof text);
    assert_non_null(strstr(text, "adaptive: "));
    ruv_index_describe_probing(c, text, sizeof text);
    assert_non_null(strstr(text, "fixed: "));
    assert_non_null(strstr(text, "no list radii"));
    ruv_index_describe_plan(c2, text, sizeof text);
    assert_non_null(strstr(text, "; probing fixed (no list radii in the file)"));
    ruv_index_free(a);
    ruv_index_free(b);
    ruv_index_free(c);
    ruv_index_free(c2);
    free(ood);
    free(x);
}

/* L2 probes with a smaller reach than inner product (rq_search.c: 0.5 of
 * the rule's sqrt(2 ln m / D) against 0.75). Two more L2 shapes hold the
 * targets with it: one anisotropic Gaussian (scales i^-0.7) whose OOD
 * queries are isotropic with the same total variance (their energy in the
 * directions the data barely uses), and 12 wide clusters, so that each
 * spans several lists, with OOD queries between them. With a reach of 0.15
 * of the rule the first shape's OOD recall falls under the target less
 * 0.05, so the test can fail. */
static void test_l2_reach_holds_on_other_shapes(void **state)
{
    (void)state;
    for (int shape = 0; shape < 2; shape++) {
        float *x;
        float *ood = malloc((size_t)NQ * D * sizeof *ood);
        if (shape == 0) {
            x = malloc((size_t)(N + NQ) * D * sizeof *x);
            double tot = 0;
            for (size_t j = 0; j < D; j++)
                tot += pow((double)(j + 1), -1.4);
            const float iso = (float)sqrt(tot / D);
            for (size_t i = 0; i < (size_t)(N + NQ) * D; i++)
                x[i] = (float)pow((double)(i % D + 1), -0.7) * nrand();
            for (size_t i = 0; i < (size_t)NQ * D; i++)
                ood[i] = iso * nrand();
        } else {
            x = clustered(N + NQ, D, 12, 1.2f);
            float *between = ood_queries(RUV_METRIC_L2, x, NQ);
            memcpy(ood, between, (size_t)NQ * D * sizeof *ood);
            free(between);
        }
        const float *in = x + (size_t)N * D;
        ruv_index *idx = build_default(RUV_METRIC_L2, x);
        const ruv_index_params *p = ruv_index_params_get(idx);
        assert_true(p->nlist > 1);
        ruv_search_params sp;
        ruv_search_params_init(&sp, 10);
        double r_in = recall10(idx, &sp, RUV_METRIC_L2, x, in, NQ);
        double r_ood = recall10(idx, &sp, RUV_METRIC_L2, x, ood, NQ);
        print_message("l2 %s: nprobe %u of %u; recall@10 in-dist %.3f, OOD %.3f\n",
                      shape ? "wide clusters" : "anisotropic", p->nprobe, p->nlist, r_in, r_ood);
        assert_true(r_in >= p->target_recall - 0.03);
        assert_true(r_ood >= p->target_recall - 0.05);
        ruv_index_free(idx);
        free(ood);
        free(x);
    }
}

/* What the plan says of the probing: adaptive with the floor, the reach the
 * search uses and the stop rule; fixed without a target; none for an exact
 * scan. The texts are what ruvector info, the CLI, repr and params show. */
static void test_plan_says_probing(void **state)
{
    (void)state;
    float *x = clustered(N, D, 60, 0.7f);
    ruv_index *idx = build_default(RUV_METRIC_L2, x);
    const ruv_index_params *p = ruv_index_params_get(idx);
    char text[1024], want[128];
    size_t need = ruv_index_describe_probing(idx, text, sizeof text);
    assert_int_equal(need, strlen(text));
    char tiny[12];
    assert_int_equal(ruv_index_describe_probing(idx, tiny, sizeof tiny), need);
    assert_int_equal(strlen(tiny), sizeof tiny - 1); /* truncated, terminated */
    assert_int_equal(ruv_index_describe_probing(idx, NULL, 0), need);
    assert_int_equal(ruv_index_describe_probing(NULL, text, sizeof text), strlen("(no index)"));
    ruv_index_describe_probing(idx, text, sizeof text);
    print_message("%s\n", text);
    snprintf(want, sizeof want, "adaptive: starts at the floor nprobe %u (calibrated) of %u lists",
             p->nprobe, p->nlist);
    assert_non_null(strstr(text, want));
    assert_non_null(strstr(text, "(|q - c| - reach R)^2"));
    assert_non_null(strstr(text, "radius"));
    assert_non_null(strstr(text, "stops when no unprobed list's bound can beat the k-th"));
    /* the reach the search uses (rq_search.c), not a constant in the text:
     * for L2 its scale is 0.5 (inner product and cosine: 0.75, below) */
    snprintf(want, sizeof want, "reach %.3f = 0.50 sqrt(",
             0.5 * sqrt(2.0 * log((double)N / p->nlist) / D));
    assert_non_null(strstr(text, want));
    ruv_index_describe_plan(idx, text, sizeof text);
    snprintf(want, sizeof want, "; probing adaptive (from nprobe %u,", p->nprobe);
    assert_non_null(strstr(text, want));
    ruv_index_free(idx);

    idx = build_default(RUV_METRIC_IP, x);
    p = ruv_index_params_get(idx);
    ruv_index_describe_probing(idx, text, sizeof text);
    assert_non_null(strstr(text, "-<q, c> - |q| reach R"));
    snprintf(want, sizeof want, "reach %.3f = 0.75 sqrt(",
             0.75 * sqrt(2.0 * log((double)N / p->nlist) / D));
    assert_non_null(strstr(text, want));
    ruv_index_free(idx);

    ruv_index_params q;
    assert_int_equal(ruv_index_params_init(&q, RUV_INDEX_RABITQ, RUV_METRIC_IP, D), RUV_OK);
    q.target_recall = 0.0f;
    q.nlist = 64;
    assert_int_equal(ruv_index_build(eng, &q, x, N, NULL, &idx), RUV_OK);
    ruv_index_describe_probing(idx, text, sizeof text);
    assert_non_null(strstr(text, "fixed: nprobe 4 of 64 lists (the fixed rule nlist/16)"));
    ruv_index_describe_plan(idx, text, sizeof text);
    assert_non_null(strstr(text, "; probing fixed (no recall target)"));
    ruv_index_free(idx);

    assert_int_equal(ruv_index_params_init(&q, RUV_INDEX_RABITQ_PLUS, RUV_METRIC_IP, D), RUV_OK);
    assert_int_equal(ruv_index_build(eng, &q, x, 500, NULL, &idx), RUV_OK);
    ruv_index_describe_probing(idx, text, sizeof text);
    assert_string_equal(text, "none: exact scan of every vector");
    ruv_index_free(idx);
    free(x);
}

/* A radius that is negative, NaN or infinite, or an LRAD of the wrong
 * size, is refused by name. */
static void test_bad_radii_refused(void **state)
{
    (void)state;
    const size_t n = 3000;
    float *x = clustered(n, D, 20, 0.7f);
    ruv_index_params p;
    ruv_index_params_init(&p, RUV_INDEX_RABITQ, RUV_METRIC_L2, D);
    p.nlist = 16;
    ruv_index *a = NULL;
    assert_int_equal(ruv_index_build(eng, &p, x, n, NULL, &a), RUV_OK);
    char path[300];
    snprintf(path, sizeof path, "%s/bad.ruv", tmpdir);
    assert_int_equal(ruv_index_save(a, path), RUV_OK);
    size_t len;
    unsigned char *good = read_file(path, &len);
    const float bad[] = {-1.0f, NAN, INFINITY};
    for (int t = 0; t < 4; t++) {
        unsigned char *img = malloc(len);
        memcpy(img, good, len);
        unsigned char *e = table_entry(img, "LRAD");
        assert_non_null(e);
        assert_int_equal(le64(e + 16), 16 * sizeof(float));
        if (t < 3)
            memcpy(img + le64(e + 8) + 5 * sizeof(float), &bad[t], sizeof(float));
        else {
            put_le32(e + 16, 15 * sizeof(float)); /* one radius short */
            memset(img + le64(e + 8) + 15 * sizeof(float), 0, sizeof(float)); /* padding */
        }
        reseal(img, e);
        write_file(path, img, len);
        free(img);
        ruv_index *b = NULL;
        assert_int_equal(ruv_index_load(eng, path, &b), RUV_E_CORRUPT);
        assert_null(b);
        assert_non_null(strstr(ruv_last_error(), "LRAD"));
    }
    free(good);
    ruv_index_free(a);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ood_queries_reach_target),
        cmocka_unit_test(test_l2_reach_holds_on_other_shapes),
        cmocka_unit_test(test_radii_exact),
        cmocka_unit_test(test_files_with_and_without_radii),
        cmocka_unit_test(test_bad_radii_refused),
        cmocka_unit_test(test_plan_says_probing),
    };
    if (getenv("RUV_TEST_FILTER"))
        cmocka_set_test_filter(getenv("RUV_TEST_FILTER"));
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
