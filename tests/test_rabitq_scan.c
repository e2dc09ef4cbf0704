/* The 1-bit list scan of the RaBitQ search (engine/index/rabitq/rq_search.c:
 * estimates a block of lanes at a time, SSE2 where the build has it, and a
 * lane mask instead of a test per lane) against a reference written the
 * obvious way: every lane's estimate and bounds through the scalar
 * one-vector functions, then the candidates and the re-rank the search
 * documents. Both must give the same ids and the same score bits, on lists
 * whose lengths leave partial blocks, with and without an allow-list and a
 * re-rank cap, for rabitq_plus and for codes only. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/engine.h>
#include <ruvector/error.h>
#include <ruvector/index.h>

#include "base/splitmix.h"
#include "index/common.h"
#include "index/rabitq/rabitq.h"
#include "index/rabitq/rq.h"

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    assert_non_null(p);
    return p;
}

static float uniform(uint64_t *s, float lo, float hi)
{
    return lo + (hi - lo) * (float)((double)(ruv__splitmix64(s) >> 40) / 16777216.0);
}

static uint32_t bits_of(float x)
{
    uint32_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

/* ---- the fused estimator equals the two-step one, bit for bit ---- */

static void test_est_fastscan_forms_agree(void **state)
{
    (void)state;
    uint64_t s = 7;
    enum { MAXN = 131 };
    uint16_t acc[MAXN];
    float ip[MAXN], fa[MAXN], fr[MAXN], fe[MAXN];
    float est_a[MAXN], lb_a[MAXN], est_b[MAXN], lb_b[MAXN];
    const size_t lens[] = {0, 1, 3, 4, 7, 8, 9, 31, 32, 33, 63, 64, 65, 100, MAXN};
    for (unsigned round = 0; round < 40; round++) {
        struct ruv__rabitq_lutq lq = {uniform(&s, 1e-4f, 2.0f), uniform(&s, -300.0f, 300.0f)};
        struct ruv__rabitq_query qc = {uniform(&s, -50.0f, 500.0f), uniform(&s, 0.0f, 30.0f),
                                       uniform(&s, -40.0f, 40.0f)};
        for (size_t i = 0; i < MAXN; i++) {
            /* the extremes of a uint16 sum, and values in between */
            acc[i] = i % 17 == 0 ? 0 : i % 19 == 0 ? 65535 : (uint16_t)(ruv__splitmix64(&s) >> 48);
            fa[i] = uniform(&s, -100.0f, 100.0f);
            fr[i] = uniform(&s, -3.0f, 3.0f);
            fe[i] = uniform(&s, 0.0f, 5.0f);
        }
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            const size_t n = lens[li];
            for (int with_lb = 0; with_lb < 2; with_lb++) {
                memset(est_a, 0xAB, sizeof est_a);
                memset(est_b, 0xAB, sizeof est_b);
                memset(lb_a, 0xCD, sizeof lb_a);
                memset(lb_b, 0xCD, sizeof lb_b);
                ruv__rabitq_ip_fastscan_n(&lq, acc, n, ip);
                ruv__rabitq_est_n(ip, n, fa, fr, fe, &qc, 1, est_a, with_lb ? lb_a : NULL);
                ruv__rabitq_est_fastscan_n(&lq, acc, n, fa, fr, with_lb ? fe : NULL, &qc, est_b,
                                           with_lb ? lb_b : NULL);
                /* every slot: the lanes written and the ones past n (untouched) */
                for (size_t i = 0; i < MAXN; i++) {
                    assert_int_equal(bits_of(est_a[i]), bits_of(est_b[i]));
                    assert_int_equal(bits_of(lb_a[i]), bits_of(lb_b[i]));
                }
            }
        }
    }
}

/* ---- whole searches against the reference ---- */

struct lane {
    float lb, est;
    uint32_t row;
};

static int by_lb(const void *a, const void *b)
{
    const struct lane *x = a, *y = b;
    return x->lb < y->lb ? -1 : x->lb > y->lb ? 1 : (x->row > y->row) - (x->row < y->row);
}

static int by_est(const void *a, const void *b)
{
    const struct lane *x = a, *y = b;
    return x->est < y->est ? -1 : x->est > y->est ? 1 : (x->row > y->row) - (x->row < y->row);
}

/* Every allowed lane's estimate, lower bound and (as the search computes
 * it) upper bound, one vector at a time. nlist 0: one list. */
static size_t reference_lanes(const struct ruv_index *idx, const float *q, const uint8_t *allow,
                              struct lane *out, float *ub)
{
    const struct rq *r = idx->impl;
    const struct ruv_kernel_ops *k = idx->k;
    assert_int_equal(r->nlist, 1);
    float *qwork = xmalloc(idx->p.dim * sizeof *qwork), *qr = xmalloc(r->dim_pad * sizeof *qr);
    uint8_t *lut = xmalloc(r->block_bytes);
    ruv__rotation_apply(&r->rot, k, ruv__rq_in_frame(r, q, idx->p.dim, qwork), qr);
    struct ruv__rabitq_lutq lq;
    ruv__rabitq_fastscan_lut(qr, r->dim_pad, idx->p.query_bits, lut, &lq);
    struct ruv__rabitq_query qc;
    ruv__rabitq_query_init(k, qr, r->centroids_rot, r->dim_pad, r->metric, &qc);
    ruv__rabitq_query_centroid(k, qr, r->centroids_rot, r->dim_pad, r->metric, &qc);
    const struct rq_list *l = &r->lists[0];
    const size_t nblocks = (l->n + 31) / 32;
    uint16_t *acc = xmalloc(nblocks * 32 * sizeof *acc);
    k->fastscan_u8(l->fs, r->nsub, nblocks, lut, acc);
    size_t m = 0;
    for (size_t j = 0; j < l->n; j++) {
        if (!ruv__row_allowed(allow, l->rows[j]))
            continue;
        const struct ruv__rabitq_factors f = {l->f_add[j], l->f_rescale[j], l->f_error[j]};
        float est, lb;
        ruv__rabitq_est_bounds(&f, &qc, ruv__rabitq_ip_fastscan(&lq, acc[j]), 1, &est, &lb, NULL);
        ub[m] = 2.0f * est - lb;
        out[m++] = (struct lane){lb, est, l->rows[j]};
    }
    free(acc);
    free(lut);
    free(qr);
    free(qwork);
    return m;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The k-th smallest of the distances held (INFINITY with fewer than k). */
static float kth(const struct lane *top, size_t n, size_t k)
{
    return n < k ? INFINITY : top[k - 1].est;
}

static void top_insert(struct lane *top, size_t *n, size_t k, float d, uint32_t row)
{
    if (*n == k && !(d < top[k - 1].est || (d == top[k - 1].est && row < top[k - 1].row)))
        return;
    size_t i = *n < k ? (*n)++ : k - 1;
    while (i > 0 && (top[i - 1].est > d || (top[i - 1].est == d && top[i - 1].row > row))) {
        top[i] = top[i - 1];
        i--;
    }
    top[i] = (struct lane){0.0f, d, row};
}

/* rabitq_plus, 1 bit: the candidates are the lanes whose lower bound is
 * within the k-th smallest upper bound; the re-rank takes them in
 * lower-bound order, 8 at a time, while one may still beat the k-th exact
 * distance, at most cap of them (rq_search.c). */
static size_t reference_plus(const struct ruv_index *idx, const float *q, const uint8_t *allow,
                             uint32_t k, int32_t factor, struct lane *top)
{
    struct lane *c = xmalloc(idx->n * sizeof *c);
    float *ub = xmalloc(idx->n * sizeof *ub);
    size_t m = reference_lanes(idx, q, allow, c, ub);
    float *sorted = xmalloc(m * sizeof *sorted);
    memcpy(sorted, ub, m * sizeof *ub);
    qsort(sorted, m, sizeof *sorted, cmp_float);
    const float ubk = m < k ? INFINITY : sorted[k - 1];
    size_t nc = 0;
    for (size_t i = 0; i < m; i++)
        if (c[i].lb <= ubk)
            c[nc++] = c[i];
    qsort(c, nc, sizeof *c, by_lb);
    size_t cap = factor > 0 ? (size_t)factor * k : nc;
    cap = cap < k ? k : cap;
    size_t ntop = 0, done = 0, i = 0;
    while (i < nc && done < cap && c[i].lb <= kth(top, ntop, k)) {
        const float th = kth(top, ntop, k);
        uint32_t rows[8];
        size_t b = 0;
        while (b < 8 && i < nc && done + b < cap && c[i].lb <= th)
            rows[b++] = c[i++].row;
        for (size_t t = 0; t < b; t++)
            top_insert(top, &ntop, k, ruv__exact_dist(idx, q, idx->vecs + (size_t)rows[t] * idx->p.dim),
                       rows[t]);
        done += b;
    }
    free(sorted);
    free(ub);
    free(c);
    return ntop;
}

/* Codes only, 1 bit: the k smallest estimates. */
static size_t reference_codes(const struct ruv_index *idx, const float *q, const uint8_t *allow,
                              uint32_t k, struct lane *top)
{
    struct lane *c = xmalloc(idx->n * sizeof *c);
    float *ub = xmalloc(idx->n * sizeof *ub);
    size_t m = reference_lanes(idx, q, allow, c, ub);
    qsort(c, m, sizeof *c, by_est);
    size_t ntop = m < k ? m : k;
    memcpy(top, c, ntop * sizeof *c);
    free(ub);
    free(c);
    return ntop;
}

static float *clustered(size_t n, size_t dim, uint64_t seed)
{
    uint64_t s = seed;
    float *x = xmalloc(n * dim * sizeof *x), centres[8][256];
    assert_true(dim <= 256);
    for (size_t c = 0; c < 8; c++)
        for (size_t d = 0; d < dim; d++)
            centres[c][d] = uniform(&s, -4.0f, 4.0f);
    for (size_t i = 0; i < n; i++)
        for (size_t d = 0; d < dim; d++)
            x[i * dim + d] = centres[i % 8][d] + uniform(&s, -1.0f, 1.0f);
    return x;
}

static void check_searches(ruv_engine *eng, int type, int metric, size_t n, size_t dim)
{
    float *x = clustered(n, dim, 1000 + n);
    ruv_index_params p;
    assert_int_equal(ruv_index_params_init(&p, type, metric, (uint32_t)dim), RUV_OK);
    p.bits = 1;
    p.nlist = 0;
    p.seed = 42;
    p.target_recall = 0.0f; /* no plan: the explicit parameters, never an exact scan */
    ruv_index *idx;
    assert_int_equal(ruv_index_build(eng, &p, x, n, NULL, &idx), RUV_OK);
    const int plus = type == RUV_INDEX_RABITQ_PLUS;
    uint64_t *allow_ids = xmalloc(n * sizeof *allow_ids);
    uint8_t *allow_rows = calloc((n + 7) / 8, 1);
    assert_non_null(allow_rows);
    size_t nallow = 0;
    for (size_t i = 0; i < n; i++)
        if (i % 3 != 1) {
            allow_ids[nallow++] = i; /* ids are rows: built with ids NULL */
            allow_rows[i / 8] |= (uint8_t)(1u << (i % 8));
        }
    uint64_t s = 99 + n;
    float *q = xmalloc(dim * sizeof *q);
    const uint32_t ks[] = {1, 10, 37};
    const int32_t factors[] = {0, 3, 20};
    struct lane top[64];
    uint64_t ids[64];
    float scores[64];
    size_t checked = 0;
    for (unsigned qi = 0; qi < 12; qi++) {
        const float *base = x + (size_t)(ruv__splitmix64(&s) % n) * dim;
        for (size_t d = 0; d < dim; d++) /* near a row, as real queries are */
            q[d] = base[d] + uniform(&s, -0.7f, 0.7f);
        for (unsigned v = 0; v < 3 * 3 * 2; v++) {
            const uint32_t k = ks[v % 3];
            const int32_t f = factors[(v / 3) % 3];
            const int with_allow = (v / 9) % 2;
            if (!plus && v % 9 >= 3)
                continue; /* the re-rank factor means nothing without originals */
            ruv_search_params sp;
            ruv_search_params_init(&sp, k);
            sp.rerank_factor = f;
            if (with_allow) {
                sp.allow = allow_ids;
                sp.nallow = nallow;
            }
            size_t nfound;
            assert_int_equal(ruv_index_search(idx, q, &sp, ids, scores, &nfound), RUV_OK);
            const uint8_t *allow = with_allow ? allow_rows : NULL;
            size_t nref = plus ? reference_plus(idx, q, allow, k, f, top)
                               : reference_codes(idx, q, allow, k, top);
            assert_int_equal(nfound, nref);
            for (size_t i = 0; i < nref; i++) {
                assert_int_equal(ids[i], top[i].row);
                assert_int_equal(bits_of(scores[i]), bits_of(ruv__score_from_dist(idx, top[i].est)));
            }
            checked++;
        }
    }
    assert_true(checked > 0);
    free(q);
    free(allow_rows);
    free(allow_ids);
    ruv_index_free(idx);
    free(x);
}

static ruv_engine *engine(void)
{
    ruv_engine *eng = NULL;
    assert_int_equal(ruv_engine_open(NULL, &eng), RUV_OK);
    return eng;
}

/* List lengths around the scan's 64-lane blocks and its 32-lane FastScan
 * blocks: one lane, a partial block, whole blocks, and many blocks. */
static const size_t list_lengths[] = {1, 5, 63, 64, 65, 130, 3001};

static void test_plus_one_bit_equals_reference(void **state)
{
    (void)state;
    ruv_engine *eng = engine();
    for (size_t i = 0; i < sizeof list_lengths / sizeof list_lengths[0]; i++) {
        check_searches(eng, RUV_INDEX_RABITQ_PLUS, RUV_METRIC_L2, list_lengths[i], 100);
        check_searches(eng, RUV_INDEX_RABITQ_PLUS, RUV_METRIC_IP, list_lengths[i], 64);
    }
    ruv_engine_close(eng);
}

static void test_codes_one_bit_equals_reference(void **state)
{
    (void)state;
    ruv_engine *eng = engine();
    for (size_t i = 0; i < sizeof list_lengths / sizeof list_lengths[0]; i++) {
        check_searches(eng, RUV_INDEX_RABITQ, RUV_METRIC_L2, list_lengths[i], 100);
        check_searches(eng, RUV_INDEX_RABITQ, RUV_METRIC_IP, list_lengths[i], 64);
    }
    ruv_engine_close(eng);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_est_fastscan_forms_agree),
        cmocka_unit_test(test_plus_one_bit_equals_reference),
        cmocka_unit_test(test_codes_one_bit_equals_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
