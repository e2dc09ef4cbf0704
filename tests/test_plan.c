/* The plan (engine/index/plan.c, calibrate.c): defaults chosen from a
 * recall target reach it on generated data, explicit values win, the
 * calibration is deterministic, small indexes are searched exactly, files
 * from before plans load and search as they did, and search(recall=) is
 * monotone. White-box: it reads the calibration curve. */
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

#include "exec/blas.h"
#include "index/build.h"
#include "index/common.h"
#include "plugin/kernels.h"
#include "store/persist.h"

#define TESTDATA_SEED 0x9e3779b9
#define TESTDATA_TMPDIR "/tmp/ruv-plan-test-XXXXXX"
#include "testdata.h"
#include "fileimage.h"

/* The k-th smallest exact distance from q (k <= 16). */
static double kth_dist(int metric, const float *base, size_t n, size_t d, const float *q, size_t k)
{
    double best[16] = {0};
    size_t have = 0;
    for (size_t i = 0; i < n; i++) {
        double v = dist_of(metric, q, base + i * d, d);
        if (have < k) {
            best[have++] = v;
        } else {
            size_t w = 0;
            for (size_t j = 1; j < k; j++)
                if (best[j] > best[w])
                    w = j;
            if (v < best[w])
                best[w] = v;
        }
    }
    double m = best[0];
    for (size_t j = 1; j < have; j++)
        m = best[j] > m ? best[j] : m;
    return m;
}

/* Tie-tolerant recall@10 of nq queries (ids are row numbers). */
static double recall10(const ruv_index *idx, const ruv_search_params *sp, int metric,
                       const float *base, size_t n, size_t d, const float *qs, size_t nq)
{
    size_t hits = 0;
    for (size_t i = 0; i < nq; i++) {
        const float *q = qs + i * d;
        uint64_t ids[10];
        float sc[10];
        size_t nf;
        assert_int_equal(ruv_index_search(idx, q, sp, ids, sc, &nf), RUV_OK);
        double kth = kth_dist(metric, base, n, d, q, 10);
        for (size_t r = 0; r < nf; r++)
            hits += dist_of(metric, q, base + ids[r] * d, d) <= kth + 1e-6 * (1 + fabs(kth));
    }
    return (double)hits / (double)(nq * 10);
}

/* Defaults on held-out queries from the data's distribution. The build
 * measured itself on 200 of its own rows (2,000 neighbours: a standard
 * error of ~0.005 at 0.95, more since neighbours of one query correlate);
 * 300 other queries may fall below that by chance, so the tolerance is
 * 0.03 below the target, and the build's own figure must reach it. */
static void test_defaults_reach_target(void **state)
{
    (void)state;
    const size_t n = 30000, d = 40, nq = 300;
    const int metrics[] = {RUV_METRIC_L2, RUV_METRIC_COSINE};
    for (int m = 0; m < 2; m++) {
        float *x = clustered(n + nq, d, 60, 0.7f), *qs = x + n * d;
        ruv_index *idx = build_defaults(RUV_INDEX_RABITQ_PLUS, metrics[m], x, n, d);
        const ruv_index_params *p = ruv_index_params_get(idx);
        char plan[512];
        ruv_index_describe_plan(idx, plan, sizeof plan);
        ruv_search_params sp;
        ruv_search_params_init(&sp, 10);
        double r = recall10(idx, &sp, metrics[m], x, n, d, qs, nq);
        print_message("%s: %s; held-out recall@10 %.3f\n", ruv_metric_name(metrics[m]), plan, r);
        assert_true(p->nlist > 1);
        assert_int_equal(p->planned & 7u, 7u);
        assert_true(p->nprobe >= 1 && p->nprobe <= p->nlist);
        assert_true(p->calibrated_recall >= p->target_recall);
        assert_int_equal(p->calibration_queries, 200);
        /* the plan's k-means sample: 64 rows per list, at least 4,096 */
        assert_int_equal(p->train_size, 64u * p->nlist > 4096u ? 64u * p->nlist : 4096u);
        assert_true(r >= p->target_recall - 0.03);
        /* the smallest: one probe fewer measured below the target */
        if (p->nprobe > 1) {
            int below = 0;
            for (uint32_t i = 0; i < idx->curve.n; i++)
                below |= idx->curve.nprobe[i] == p->nprobe - 1 &&
                         idx->curve.recall[i] < p->target_recall;
            assert_true(below);
        }
        ruv_index_free(idx);
        free(x);
    }
}

/* The plan's k-means sample: 64 rows per list below 512 dimensions, 40
 * from 512 on, at least 4,096 and at most n; a given train_size or nlist
 * keeps the engine's rule. Its Lloyd iterations: 4 for a RabitqPlus index
 * from 512 on, else 10; a given kmeans_iters wins. Then a planned build at D = 512 (where the
 * smaller sample applies) still reaches the target on held-out queries,
 * with the same tolerance as test_defaults_reach_target (400 clusters of
 * ~20 rows, so lists hold several and a query's neighbours can straddle
 * them; adaptive probing also guards recall here, so this part checks the
 * whole planned build, not the sample alone). */
static void test_train_sample_rule(void **state)
{
    (void)state;
    static const struct {
        uint32_t dim;
        uint64_t n;
        uint32_t nlist, train, iters;
    } cases[] = {
        {511, 10000, 100, 6400, 10},     /* 64 per list */
        {512, 10000, 100, 4096, 4},      /* 40 per list = 4,000: the floor */
        {1024, 10000, 100, 4096, 4},
        {1024, 50000, 224, 8960, 4},     /* 40 per list */
        {384, 100000, 316, 20224, 10},   /* 64 per list */
        {2048, 1000000, 1000, 40000, 4},
        {32, 1000000, 1000, 64000, 10},
        {1024, 3000, 55, 3000, 4},       /* never more than n */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ruv_index_params q, r;
        ruv_index_params_init(&q, RUV_INDEX_RABITQ_PLUS, RUV_METRIC_L2, cases[i].dim);
        assert_int_equal(ruv__plan_resolve(&q, cases[i].n, 0, &r), RUV_OK);
        assert_int_equal(r.nlist, cases[i].nlist);
        assert_int_equal(r.train_size, cases[i].train);
        assert_int_equal(r.kmeans_iters, cases[i].iters);
        q.kmeans_iters = 7; /* given: wins at any dimension */
        assert_int_equal(ruv__plan_resolve(&q, cases[i].n, 0, &r), RUV_OK);
        assert_int_equal(r.kmeans_iters, 7);
        q.kmeans_iters = 0;
        ruv_index_params c = q; /* a codes-only index keeps the engine's 10 */
        c.type = RUV_INDEX_RABITQ;
        assert_int_equal(ruv__plan_resolve(&c, cases[i].n, 0, &r), RUV_OK);
        assert_int_equal(r.kmeans_iters, 10);
        c = q; /* no plan: 10 */
        c.target_recall = 0.0f;
        assert_int_equal(ruv__plan_resolve(&c, cases[i].n, 0, &r), RUV_OK);
        assert_int_equal(r.kmeans_iters, 10);
        q.train_size = 7000; /* given: wins at any dimension */
        assert_int_equal(ruv__plan_resolve(&q, cases[i].n, 0, &r), RUV_OK);
        assert_int_equal(r.train_size, 7000);
        q.train_size = 0;
        q.nlist = 100; /* nlist given: the engine's sample (0 here) and 10 iterations */
        assert_int_equal(ruv__plan_resolve(&q, cases[i].n, 0, &r), RUV_OK);
        assert_int_equal(r.train_size, 0);
        assert_int_equal(r.kmeans_iters, 10);
    }

    const size_t n = 8000, d = 512, nq = 200;
    float *x = clustered(n + nq, d, 400, 1.0f), *qs = x + n * d;
    ruv_index *idx = build_defaults(RUV_INDEX_RABITQ_PLUS, RUV_METRIC_L2, x, n, d);
    const ruv_index_params *p = ruv_index_params_get(idx);
    assert_int_equal(p->nlist, 89);
    assert_int_equal(p->train_size, 4096);
    assert_int_equal(p->kmeans_iters, 4);
    assert_true(p->calibrated_recall >= p->target_recall);
    ruv_search_params sp;
    ruv_search_params_init(&sp, 10);
    double rec = recall10(idx, &sp, RUV_METRIC_L2, x, n, d, qs, nq);
    print_message("D %zu: nprobe %u, held-out recall@10 %.3f\n", d, p->nprobe, rec);
    assert_true(rec >= p->target_recall - 0.03);
    ruv_index_free(idx);
    free(x);
}

static void test_explicit_params_win(void **state)
{
    (void)state;
    const size_t n = 25000, d = 24;
    float *x = clustered(n, d, 40, 0.6f);
    ruv_index_params p;
    ruv_index_params_init(&p, RUV_INDEX_RABITQ_PLUS, RUV_METRIC_L2, (uint32_t)d);
    p.bits = 2;
    p.nlist = 50;
    p.nprobe = 7;
    ruv_index *idx = NULL;
    assert_int_equal(ruv_index_build(eng, &p, x, n, NULL, &idx), RUV_OK);
    const ruv_index_params *got = ruv_index_params_get(idx);
    assert_int_equal(got->bits, 2);
    assert_int_equal(got->nlist, 50);
    assert_int_equal(got->nprobe, 7);
    assert_int_equal(got->planned, 0);
    assert_int_equal(got->train_size, 0); /* nlist given: the engine's sample */
    assert_true(got->calibrated_recall > 0.0f); /* measured, not chosen */
    /* the stored nprobe is what a default search uses */
    ruv_search_params a, b;
    ruv_search_params_init(&a, 10);
    ruv_search_params_init(&b, 10);
    b.nprobe = 7;
    for (size_t i = 0; i < 50; i++) {
        uint64_t ia[10], ib[10];
        float sa[10], sb[10];
        size_t na, nb;
        assert_int_equal(ruv_index_search(idx, x + i * 37 * d, &a, ia, sa, &na), RUV_OK);
        assert_int_equal(ruv_index_search(idx, x + i * 37 * d, &b, ib, sb, &nb), RUV_OK);
        assert_int_equal(na, nb);
        assert_memory_equal(ia, ib, na * sizeof *ia);
    }
    ruv_index_free(idx);
    /* a given sample wins over the plan's; the plan's never exceeds n */
    ruv_index_params q, r;
    ruv_index_params_init(&q, RUV_INDEX_RABITQ_PLUS, RUV_METRIC_L2, 1024);
    q.train_size = 5000;
    assert_int_equal(ruv__plan_resolve(&q, 100000, 0, &r), RUV_OK);
    assert_int_equal(r.nlist, 316);
    assert_int_equal(r.train_size, 5000);
    q.train_size = 0;
    assert_int_equal(ruv__plan_resolve(&q, 1500, 0, &r), RUV_OK);
    assert_int_equal(r.nlist, 39);
    assert_int_equal(r.train_size, 1500);
    assert_int_equal(ruv__plan_resolve(&q, 0, 1, &r), RUV_OK); /* create: n unknown */
    assert_int_equal(r.train_size, 0);
    /* target_recall 0: the behaviour before plans */
    ruv_index_params_init(&p, RUV_INDEX_RABITQ, RUV_METRIC_L2, (uint32_t)d);
    p.target_recall = 0.0f;
    assert_int_equal(ruv_index_build(eng, &p, x, n, NULL, &idx), RUV_OK);
    got = ruv_index_params_get(idx);
    assert_int_equal(got->bits, 1);
    assert_int_equal(got->nlist, 0);
    assert_int_equal(got->nprobe, 0);
    assert_int_equal(got->planned, 0);
    assert_int_equal(got->calibration_queries, 0);
    ruv_index_free(idx);
    /* bad targets are refused */
    ruv_index_params_init(&p, RUV_INDEX_RABITQ, RUV_METRIC_L2, (uint32_t)d);
    p.target_recall = 1.5f;
    assert_int_equal(ruv_index_build(eng, &p, x, n, NULL, &idx), RUV_E_INVAL);
    assert_non_null(strstr(ruv_last_error(), "target_recall"));
    p.target_recall = NAN;
    assert_int_equal(ruv_index_build(eng, &p, x, n, NULL, &idx), RUV_E_INVAL);
    free(x);
}

/* The calibration's GEMM screen never rejects a tile holding a row whose
 * exact distance (the scalar kernel's) is below the threshold, even when
 * a large common offset makes the GEMM identity lose most of its digits;
 * and it does reject tiles that are clearly out of reach. */
static void test_truth_screen_is_safe(void **state)
{
    (void)state;
    const struct ruv_kernel_ops *k = &ruv__kernel_scalar_ops;
    const size_t dims[] = {7, 128, 300}, rows = 256;
    const float offsets[] = {0.0f, 1000.0f, -3e4f};
    int rejected = 0;
    for (size_t di = 0; di < 3; di++)
        for (size_t oi = 0; oi < 3; oi++)
            for (int l2 = 0; l2 < 2; l2++) {
                const size_t d = dims[di];
                float *x = malloc(rows * d * sizeof *x), *q = malloc(d * sizeof *q);
                float g[256], g_own[256], xx[256], ex[256];
                for (size_t i = 0; i < rows * d; i++)
                    x[i] = offsets[oi] + (float)(urand() - 0.5);
                for (size_t j = 0; j < d; j++)
                    q[j] = offsets[oi] + (float)(urand() - 0.5);
                ruv__sgemm_nt(k, 1, rows, d, q, d, x, d, g, rows);
                ruv__sgemm_nt_own(k, 1, rows, d, q, d, x, d, g_own, rows);
                for (size_t i = 0; i < rows; i++)
                    xx[i] = k->dot_f32(x + i * d, x + i * d, d);
                if (l2) {
                    k->l2sq_f32_1xN(q, x, d, d, rows, ex);
                } else {
                    k->dot_f32_1xN(q, x, d, d, rows, ex);
                    for (size_t i = 0; i < rows; i++)
                        ex[i] = -ex[i];
                }
                float lo = ex[0];
                for (size_t i = 1; i < rows; i++)
                    lo = ex[i] < lo ? ex[i] : lo;
                const float qq = k->dot_f32(q, q, d), above = nextafterf(lo, INFINITY);
                assert_true(ruv__cal_tile_may_enter(l2, qq, g, xx, rows, d, above));
                assert_true(ruv__cal_tile_may_enter(l2, qq, g_own, xx, rows, d, above));
                assert_true(ruv__cal_tile_may_enter(l2, qq, g, xx, rows, d, INFINITY));
                if (oi == 0 && l2) { /* distances ~d/6, margin ~2e-6 d^2 / 3 */
                    assert_false(ruv__cal_tile_may_enter(l2, qq, g, xx, rows, d, 0.5f * lo));
                    rejected++;
                }
                free(x);
                free(q);
            }
    assert_int_equal(rejected, 3);
}

/* Planned rabitq_plus bits encode at one extended-code scale, given bits
 * at each row's best: the two differ. Rows added after a save and load are
 * encoded as the built index encodes them (the PLAN section keeps the flag),
 * byte for byte. */
static void test_planned_scale_survives_load(void **state)
{
    (void)state;
    const size_t n = 5000, more = 1000, d = 64; /* 1.28 MB of floats: IVF */
    float *x = clustered(n + more, d, 30, 0.6f);
    ruv_index *a = build_defaults(RUV_INDEX_RABITQ_PLUS, RUV_METRIC_L2, x, n, d);
    assert_true(a->p.nlist > 1);
    assert_true(a->p.planned & RUV_PLANNED_BITS);
    ruv_index_params pb;
    ruv_index_params_init(&pb, RUV_INDEX_RABITQ_PLUS, RUV_METRIC_L2, (uint32_t)d);
    pb.bits = a->p.bits;
    pb.nlist = a->p.nlist;
    pb.train_size = a->p.train_size; /* the same centroids: only the codes differ */
    ruv_index *b = NULL;
    assert_int_equal(ruv_index_build(eng, &pb, x, n, NULL, &b), RUV_OK);
    char pa[300], pbp[300], pc[300];
    snprintf(pa, sizeof pa, "%s/scale-a.ruv", tmpdir);
    snprintf(pbp, sizeof pbp, "%s/scale-b.ruv", tmpdir);
    snprintf(pc, sizeof pc, "%s/scale-c.ruv", tmpdir);
    assert_int_equal(ruv_index_save(a, pa), RUV_OK);
    assert_int_equal(ruv_index_save(b, pbp), RUV_OK);
    size_t la, lb, lc;
    unsigned char *fa = read_file(pa, &la), *fb = read_file(pbp, &lb);
    assert_true(la != lb || memcmp(fa, fb, la) != 0);
    free(fa);
    free(fb);
    ruv_index *c = NULL;
    assert_int_equal(ruv_index_load(eng, pa, &c), RUV_OK);
    uint64_t *ids = malloc(more * sizeof *ids);
    for (size_t i = 0; i < more; i++)
        ids[i] = n + i;
    assert_int_equal(ruv_index_add(a, x + n * d, more, ids), RUV_OK);
    assert_int_equal(ruv_index_add(c, x + n * d, more, ids), RUV_OK);
    assert_int_equal(ruv_index_save(a, pa), RUV_OK);
    assert_int_equal(ruv_index_save(c, pc), RUV_OK);
    fa = read_file(pa, &la);
    unsigned char *fc = read_file(pc, &lc);
    assert_int_equal(la, lc);
    assert_memory_equal(fa, fc, la);
    free(fa);
    free(fc);
    free(ids);
    ruv_index_free(a);
    ruv_index_free(b);
    ruv_index_free(c);
    free(x);
}

/* Same data and seed: the same plan, nprobe, curve and file, byte for byte
 * (on any thread count); another seed samples other rows. */
static void test_calibration_deterministic(void **state)
{
    (void)state;
    const size_t n = 22000, d = 20;
    float *x = clustered(n, d, 30, 0.6f);
    ruv_index *a = build_defaults(RUV_INDEX_RABITQ_PLUS, RUV_METRIC_L2, x, n, d);
    ruv_index_params p1;
    ruv_index_params_init(&p1, RUV_INDEX_RABITQ_PLUS, RUV_METRIC_L2, (uint32_t)d);
    ruv_index *b = NULL; /* on one thread: the same answers */
    assert_int_equal(ruv__index_build(eng, &p1, x, n, NULL, 1, &b), RUV_OK);
    assert_int_equal(a->curve.n, b->curve.n);
    assert_true(a->curve.n >= 1);
    assert_memory_equal(&a->curve, &b->curve, sizeof a->curve);
    assert_int_equal(a->p.nprobe, b->p.nprobe);
    assert_true(a->p.calibrated_recall == b->p.calibrated_recall);
    char pa[300], pb[300];
    snprintf(pa, sizeof pa, "%s/a.ruv", tmpdir);
    snprintf(pb, sizeof pb, "%s/b.ruv", tmpdir);
    assert_int_equal(ruv_index_save(a, pa), RUV_OK);
    assert_int_equal(ruv_index_save(b, pb), RUV_OK);
    size_t la, lb;
    unsigned char *fa = read_file(pa, &la), *fb = read_file(pb, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(fa, fb, la);
    free(fa);
    free(fb);
    /* the plan survives a save and load */
    ruv_index *c = NULL;
    assert_int_equal(ruv_index_load(eng, pa, &c), RUV_OK);
    assert_memory_equal(&a->curve, &c->curve, sizeof a->curve);
    assert_memory_equal(&a->p, &c->p, sizeof a->p);
    ruv_index_free(c);
    ruv_index_free(a);
    ruv_index_free(b);
    free(x);
}

/* n = 1, 10, 1000 (and 2,000 x 128, 1 MiB of originals): rabitq_plus's
 * default plan is an exact scan, so its answers are the brute force ones;
 * codes-only types scan every code (no IVF) below 20,000. */
static void test_small_defaults_are_exact(void **state)
{
    (void)state;
    const size_t sizes[][2] = {{1, 8}, {10, 8}, {1000, 33}, {2048, 128}};
    for (size_t s = 0; s < 4; s++) {
        size_t n = sizes[s][0], d = sizes[s][1], nq = 20;
        float *x = clustered(n + nq, d, 5, 0.5f), *qs = x + n * d;
        ruv_index *idx = build_defaults(RUV_INDEX_RABITQ_PLUS, RUV_METRIC_L2, x, n, d);
        const ruv_index_params *p = ruv_index_params_get(idx);
        assert_true(p->planned & RUV_PLANNED_EXACT);
        assert_int_equal(p->nlist, 0);
        ruv_search_params sp;
        ruv_search_params_init(&sp, 10);
        for (size_t i = 0; i < nq; i++) {
            uint64_t ids[10];
            float sc[10];
            size_t nf;
            assert_int_equal(ruv_index_search(idx, qs + i * d, &sp, ids, sc, &nf), RUV_OK);
            assert_int_equal(nf, n < 10 ? n : 10);
            double kth = kth_dist(RUV_METRIC_L2, x, n, d, qs + i * d, nf);
            for (size_t r = 0; r < nf; r++) /* every result within the true top nf */
                assert_true(dist_of(RUV_METRIC_L2, qs + i * d, x + ids[r] * d, d) <=
                            kth + 1e-5 * (1 + kth));
        }
        ruv_index_free(idx);
        idx = build_defaults(RUV_INDEX_RABITQ, RUV_METRIC_L2, x, n, d);
        assert_int_equal(ruv_index_params_get(idx)->nlist, 0);
        assert_int_equal(ruv_index_params_get(idx)->bits, 8);
        ruv_index_free(idx);
        free(x);
    }
    /* an index made empty may grow to any size: every code scanned (4-bit
     * bounds), not an exact scan */
    ruv_index_params p;
    ruv_index_params_init(&p, RUV_INDEX_RABITQ_PLUS, RUV_METRIC_IP, 16);
    ruv_index *idx = NULL;
    assert_int_equal(ruv_index_new(eng, &p, &idx), RUV_OK);
    assert_false(ruv_index_params_get(idx)->planned & RUV_PLANNED_EXACT);
    assert_int_equal(ruv_index_params_get(idx)->nlist, 0);
    assert_int_equal(ruv_index_params_get(idx)->bits, 4);
    ruv_index_free(idx);
}

/* A file from before plans: version 2, no PLAN section. An index without a
 * plan (target_recall 0) writes exactly that layout; marked version 2, it
 * loads with no plan and searches with the fixed nprobe rule (nlist / 16),
 * bit for bit as the index it was saved from. */
static void test_version2_file_unchanged(void **state)
{
    (void)state;
    const size_t n = 8000, d = 24;
    float *x = clustered(n, d, 20, 0.6f);
    ruv_index_params p;
    ruv_index_params_init(&p, RUV_INDEX_RABITQ_PLUS, RUV_METRIC_L2, (uint32_t)d);
    p.target_recall = 0.0f;
    p.nlist = 64;
    p.bits = 2;
    ruv_index *a = NULL;
    assert_int_equal(ruv_index_build(eng, &p, x, n, NULL, &a), RUV_OK);
    char path[300];
    snprintf(path, sizeof path, "%s/v2.ruv", tmpdir);
    assert_int_equal(ruv_index_save(a, path), RUV_OK);
    size_t len;
    unsigned char *img = read_file(path, &len);
    assert_int_equal(le32(img + 8), 3);
    put_le32(img + 8, 2);
    reseal_header(img);
    write_file(path, img, len);
    free(img);
    ruv_index *b = NULL;
    assert_int_equal(ruv_index_load(eng, path, &b), RUV_OK);
    const ruv_index_params *q = ruv_index_params_get(b);
    assert_true(q->target_recall == 0.0f);
    assert_int_equal(q->nprobe, 0);
    assert_int_equal(q->planned, 0);
    assert_int_equal(b->curve.n, 0);
    ruv_search_params sp, fixed;
    ruv_search_params_init(&sp, 10);
    sp.recall = 0.99f; /* no curve: ignored */
    ruv_search_params_init(&fixed, 10);
    fixed.nprobe = 64 / 16;
    for (size_t i = 0; i < 40; i++) {
        uint64_t ia[10], ib[10], ic[10];
        float sa[10], sb[10], sc[10];
        size_t na, nb, nc;
        const float *qv = x + i * 131 * d;
        assert_int_equal(ruv_index_search(a, qv, &sp, ia, sa, &na), RUV_OK);
        assert_int_equal(ruv_index_search(b, qv, &sp, ib, sb, &nb), RUV_OK);
        assert_int_equal(ruv_index_search(b, qv, &fixed, ic, sc, &nc), RUV_OK);
        assert_int_equal(na, nb);
        assert_memory_equal(ia, ib, na * sizeof *ia);
        assert_memory_equal(sa, sb, na * sizeof *sa);
        assert_memory_equal(ib, ic, nb * sizeof *ib);
    }
    ruv_index_free(a);
    ruv_index_free(b);
    free(x);
}

/* search(..., recall=): the probe count never falls as the recall asked
 * rises; at the target it is the calibrated default; past every measured
 * point it is every list. */
static void test_search_recall_monotone(void **state)
{
    (void)state;
    const size_t n = 24000, d = 32;
    float *x = clustered(n, d, 50, 0.7f);
    ruv_index *idx = build_defaults(RUV_INDEX_RABITQ_PLUS, RUV_METRIC_L2, x, n, d);
    const ruv_index_params *p = ruv_index_params_get(idx);
    ruv_search_params sp;
    ruv_search_params_init(&sp, 10);
    uint32_t prev = 0;
    for (int i = 1; i <= 100; i++) {
        sp.recall = (float)i / 100.0f;
        uint32_t np = ruv__plan_nprobe(idx, &sp);
        assert_true(np >= prev);
        assert_true(np >= 1 && np <= p->nlist);
        prev = np;
    }
    sp.recall = p->target_recall;
    assert_int_equal(ruv__plan_nprobe(idx, &sp), p->nprobe);
    sp.recall = 1.0f;
    if (idx->curve.lower[idx->curve.n - 1] < 1.0f)
        assert_int_equal(ruv__plan_nprobe(idx, &sp), p->nlist);
    /* and what it buys: at least the default's recall on these rows */
    ruv_search_params more;
    ruv_search_params_init(&more, 10);
    more.recall = 0.99f;
    double r_def = recall10(idx, &(ruv_search_params){.struct_size = sizeof sp, .k = 10,
                                                     .rerank_factor = -1},
                            RUV_METRIC_L2, x, n, d, x + 1000 * d, 100);
    double r_more = recall10(idx, &more, RUV_METRIC_L2, x, n, d, x + 1000 * d, 100);
    print_message("recall@10 (own rows, self included) default %.3f, recall=0.99 %.3f\n", r_def,
                  r_more);
    assert_true(r_more >= r_def);
    ruv_index_free(idx);
    free(x);
}

static void test_describe_plan(void **state)
{
    (void)state;
    const size_t n = 100, d = 8;
    float *x = clustered(n, d, 3, 0.5f);
    ruv_index *idx = build_defaults(RUV_INDEX_RABITQ_PLUS, RUV_METRIC_L2, x, n, d);
    char buf[512], tiny[8];
    size_t need = ruv_index_describe_plan(idx, buf, sizeof buf);
    assert_int_equal(need, strlen(buf));
    assert_non_null(strstr(buf, "exact scan"));
    assert_int_equal(ruv_index_describe_plan(idx, tiny, sizeof tiny), need);
    assert_int_equal(strlen(tiny), sizeof tiny - 1);
    ruv_index_free(idx);
    idx = build_defaults(RUV_INDEX_RABITQ, RUV_METRIC_L2, x, n, d);
    ruv_index_describe_plan(idx, buf, sizeof buf);
    assert_non_null(strstr(buf, "exhaustive scan of the codes"));
    assert_non_null(strstr(buf, "measured on 100 of its own rows"));
    ruv_index_free(idx);
    free(x);
}

/* Callers compiled before plans pass the shorter structs: they keep the
 * behaviour of before (no plan, the fixed nprobe rule). */
static void test_structs_from_before_plans(void **state)
{
    (void)state;
    const size_t n = 3000, d = 16;
    float *x = clustered(n, d, 10, 0.5f);
    ruv_index_params p;
    ruv_index_params_init(&p, RUV_INDEX_RABITQ_PLUS, RUV_METRIC_L2, (uint32_t)d);
    p.bits = 1; /* what the old ruv_index_params_init set */
    p.nlist = 32;
    p.target_recall = 0.9f; /* beyond the old struct: must not be read */
    p.struct_size = (uint32_t)offsetof(ruv_index_params, target_recall);
    ruv_index *idx = NULL;
    assert_int_equal(ruv_index_build(eng, &p, x, n, NULL, &idx), RUV_OK);
    const ruv_index_params *got = ruv_index_params_get(idx);
    assert_true(got->target_recall == 0.0f);
    assert_int_equal(got->nprobe, 0);
    assert_int_equal(got->calibration_queries, 0);
    ruv_search_params sp, now;
    ruv_search_params_init(&sp, 5);
    sp.recall = 0.5f; /* beyond the old struct: must not be read */
    sp.struct_size = (uint32_t)offsetof(ruv_search_params, recall);
    ruv_search_params_init(&now, 5);
    now.nprobe = 2; /* the fixed rule: 32 / 16 */
    uint64_t ia[5], ib[5];
    float sa[5], sb[5];
    size_t na, nb;
    assert_int_equal(ruv_index_search(idx, x, &sp, ia, sa, &na), RUV_OK);
    assert_int_equal(ruv_index_search(idx, x, &now, ib, sb, &nb), RUV_OK);
    assert_int_equal(na, nb);
    assert_memory_equal(ia, ib, na * sizeof *ia);
    sp.struct_size = 8;
    assert_int_equal(ruv_index_search(idx, x, &sp, ia, sa, &na), RUV_E_INVAL);
    ruv_search_params_init(&now, 5);
    now.recall = 2.0f;
    assert_int_equal(ruv_index_search(idx, x, &now, ia, sa, &na), RUV_E_INVAL);
    assert_non_null(strstr(ruv_last_error(), "recall"));
    ruv_index_free(idx);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_reach_target),
        cmocka_unit_test(test_explicit_params_win),
        cmocka_unit_test(test_train_sample_rule),
        cmocka_unit_test(test_calibration_deterministic),
        cmocka_unit_test(test_truth_screen_is_safe),
        cmocka_unit_test(test_planned_scale_survives_load),
        cmocka_unit_test(test_small_defaults_are_exact),
        cmocka_unit_test(test_version2_file_unchanged),
        cmocka_unit_test(test_search_recall_monotone),
        cmocka_unit_test(test_describe_plan),
        cmocka_unit_test(test_structs_from_before_plans),
    };
    /* RUV_TEST_FILTER=pattern runs a subset (e.g. the light ones under valgrind) */
    if (getenv("RUV_TEST_FILTER"))
        cmocka_set_test_filter(getenv("RUV_TEST_FILTER"));
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
