/* Build-time calibration: the index answers a seeded sample of its own rows
 * as queries (each row excluded from its own answer), against the exact
 * neighbours of those rows, at increasing nprobe. The smallest nprobe whose
 * recall@10 reaches the target with 95 % confidence (CAL_Z) becomes the
 * default; the measured curve, each point's mean and that bound, lets a
 * search ask for more (ruv_search_params.recall) with the same confidence.
 *
 * Recall is tie-tolerant: a result counts when its exact distance is within
 * rounding of the 10th true neighbour's, so exact duplicates cannot make a
 * correct answer look wrong. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/error.h>
#include <ruvector/index.h>
#include <ruvector/kernel.h>

#include "base/error.h"
#include "base/splitmix.h"
#include "exec/blas.h"
#include "exec/cancel.h"
#include "exec/pool.h"
#include "index/cal_truth.h"
#include "index/common.h"
#include "index/idmap.h"
#include "index/topk.h"

/* 200 queries, 2,000 neighbours. The neighbours of one query are not
 * independent (a query whose region is hard misses several), so the
 * recall's standard error is the per-query recall's spread over sqrt(200),
 * not the binomial ~0.005 of 2,000 draws: 0.013 at nprobe 2 on embed384-100k
 * (docs/indexes.md, "Calibration") */
#define CAL_QUERIES 200u
#define CAL_K 10u
#define CAL_TILE RUV__CAL_TILE
#define TRUTH_GROUP RUV__CAL_GROUP
/* The ladder stops once this is reached: the curve must reach past the
 * default target for search(..., recall=0.99). */
#define CAL_CEILING 0.995f
/* An nprobe is chosen when the sample's recall less this many standard
 * errors reaches the target: a one-sided 95 % lower confidence bound, so
 * an nprobe whose recall on queries of the same process is below the target
 * passes only by a 1-in-20 draw of the sample (the mean alone passed it by
 * ~1 in 2 right at the target, and took 0.957 on 200 rows for 0.943 on
 * 5,000). */
#define CAL_Z 1.645

/* The GEMM screen's margin per unit of |q|^2 + |x|^2 and dimension: the
 * rounding of a float dot product of length D is at most ~D * 2^-24 times
 * |q| |x| <= (|q|^2 + |x|^2) / 2, and the exact kernel's, the GEMM's and
 * the norms' together stay within ~5 such terms; 2e-6 is ~6x that. */
#define CAL_SCREEN_MARGIN RUV__CAL_MARGIN

struct truth_ctx {
    const struct ruv_index *idx;
    const float *data;
    size_t n;
    const uint32_t *sample;
    const float *queries; /* the sample rows, contiguous */
    uint32_t kk;
    struct ruv__topk *tops; /* per query, over heap storage of kk entries each */
    float *thr;             /* per query: the kk-th exact distance */
    float *tiles;           /* per worker: CAL_TILE distances */
    float *screen;          /* per worker: chunk x CAL_TILE GEMM scores, or NULL */
    size_t chunk;           /* queries per range at most */
    float *xx;              /* with the screen: n squared norms, |x|^2 = dot(x, x) */
};

/* Rows [begin, end)'s squared norms, for the screen: once for all
 * workers (each worker's tiles span every row, so each computed all n of
 * them before). The same kernel call on the same row, so the same bits. */
static void norms_range(void *vctx, size_t begin, size_t end, unsigned worker)
{
    (void)worker;
    struct truth_ctx *c = vctx;
    const size_t dim = c->idx->p.dim;
    for (size_t i = begin; i < end; i++)
        c->xx[i] = c->idx->k->dot_f32(c->data + i * dim, c->data + i * dim, dim);
}

int ruv__cal_tile_may_enter(int l2, float qq, const float *g, const float *xx, size_t rows,
                            size_t dim, float threshold)
{
    if (!(threshold < INFINITY))
        return 1;
    const float unit = CAL_SCREEN_MARGIN * (float)dim;
    for (size_t i = 0; i < rows; i++) {
        float approx = l2 ? qq + xx[i] - 2.0f * g[i] : -g[i];
        if (!(approx - unit * (qq + xx[i]) >= threshold))
            return 1;
    }
    return 0;
}

/* Queries [begin, end) against every row: tile by tile, each tile (which
 * stays in cache) against every query of the range, so the data streams
 * from memory once per worker rather than once per query. With a BLAS,
 * one GEMM per tile screens it first (ruv__cal_tile_may_enter): once a
 * query's top is full, most tiles hold no candidate, and the exact
 * per-query pass runs only on those that may (on the 100k demo set the
 * truth was ~15 % of a planned build's CPU without it). */
static void truth_range(void *vctx, size_t begin, size_t end, unsigned worker)
{
    struct truth_ctx *c = vctx;
    const size_t dim = c->idx->p.dim;
    const int l2 = c->idx->p.metric == RUV_METRIC_L2;
    float *d = c->tiles + (size_t)worker * CAL_TILE;
    float *g = c->screen ? c->screen + (size_t)worker * c->chunk * CAL_TILE : NULL;
    for (size_t first = 0; first < c->n && !ruv__cancel_pending(); first += CAL_TILE) {
        size_t rows = c->n - first < CAL_TILE ? c->n - first : CAL_TILE;
        const float *base = c->data + first * dim;
        if (g) {
            ruv__sgemm_nt(c->idx->k, end - begin, rows, dim, c->queries + begin * dim, dim, base,
                          dim, g, CAL_TILE);
        }
        const float *xx = g ? c->xx + first : NULL;
        for (size_t q = begin; q < end; q++) {
            const float *qv = c->data + (size_t)c->sample[q] * dim;
            struct ruv__topk *top = &c->tops[q];
            if (!g) {
                ruv__cal_exact_rows(c->idx, c->data, qv, base, first, 0, rows, d, top);
                continue;
            }
            /* Screen group by group: one group that may enter no longer
             * sends the whole tile to the exact pass (at D = 1,024 that
             * pass was ~12 % of a planned build's CPU). Groups are aligned
             * at multiples of TRUTH_GROUP rows from the tile's start, so
             * the kernel scores each row exactly as a whole-tile call would
             * (its row groups are 1, 4, 8 or 16 wide), and the truth is
             * the same bit for bit; the threshold only falls, so a group
             * screened out later could not have entered earlier either. */
            const float qq = c->idx->k->dot_f32(qv, qv, dim);
            const float *gq = g + (q - begin) * CAL_TILE;
            for (size_t s0 = 0; s0 < rows;) {
                size_t e = s0;
                while (e < rows) {
                    size_t len = rows - e < TRUTH_GROUP ? rows - e : TRUTH_GROUP;
                    if (!ruv__cal_tile_may_enter(l2, qq, gq + e, xx + e, len, dim,
                                                 ruv__topk_threshold(top)))
                        break;
                    e += len;
                }
                if (e > s0)
                    ruv__cal_exact_rows(c->idx, c->data, qv, base, first, s0, e, d, top);
                s0 = e + (e < rows ? (rows - e < TRUTH_GROUP ? rows - e : TRUTH_GROUP) : 0);
            }
        }
    }
    for (size_t q = begin; q < end; q++) /* max-heap: the root is the kk-th */
        c->thr[q] = c->tops[q].n ? c->tops[q].dist[0] : INFINITY;
}

/* Seeded sample of m distinct rows (a partial Fisher-Yates shuffle). */
static int pick_sample(size_t n, uint32_t m, uint64_t seed, uint32_t *out)
{
    uint32_t *perm = malloc(n * sizeof *perm);
    if (!perm)
        return ruv__set_error(RUV_E_NOMEM, "out of memory for the calibration sample");
    for (size_t i = 0; i < n; i++)
        perm[i] = (uint32_t)i;
    uint64_t s = seed ^ 0xC0FFEE5EEDull;
    for (uint32_t i = 0; i < m; i++) {
        size_t j = i + (size_t)(ruv__splitmix64(&s) % (n - i));
        uint32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
        out[i] = perm[i];
    }
    free(perm);
    return RUV_OK;
}

/* Per sample query, whether rows of its earlier answers were hits: the
 * answers at the next nprobe are mostly the same rows, and each check is an
 * exact distance (at D = 1,024, ~0.8 ms a step for 200 queries). */
#define CAL_HIT_MEMO 24u
struct cal_hits {
    uint32_t row[CAL_HIT_MEMO];
    uint8_t hit[CAL_HIT_MEMO];
    uint32_t n;
};

struct cal {
    struct ruv_index *idx;
    const float *data;
    uint32_t m, kk;
    const uint32_t *sample;
    const float *thr;
    float *queries;
    uint64_t *ids;
    float *scores;
    size_t *nfound;
    void *state; /* the index type's cal_search state (NULL: none yet) */
    struct cal_hits *hits; /* m, or NULL */
};

/* Whether row's exact distance from sample query q is within thr[q]'s
 * tolerance: remembered, or computed (and remembered while there is room). */
static int is_hit(const struct cal *c, uint32_t q, const float *qv, uint32_t row, float tol)
{
    struct cal_hits *h = c->hits ? &c->hits[q] : NULL;
    for (uint32_t i = 0; h && i < h->n; i++)
        if (h->row[i] == row)
            return h->hit[i];
    const size_t dim = c->idx->p.dim;
    const int hit = ruv__exact_dist(c->idx, qv, c->data + (size_t)row * dim) <= c->thr[q] + tol;
    if (h && h->n < CAL_HIT_MEMO) {
        h->row[h->n] = row;
        h->hit[h->n++] = (uint8_t)hit;
    }
    return hit;
}

/* Recall@kk of the sample at nprobe np (0: the index's default) and, when
 * lower is not NULL, its lower confidence bound: the mean of the per-query
 * recalls less CAL_Z times their standard error. */
static int measure(struct cal *c, uint32_t np, float *recall, float *lower)
{
    ruv_search_params sp;
    ruv_search_params_init(&sp, c->kk + 1); /* one more: the query row finds itself */
    /* np as the index's default, not the search's: a default nprobe is where
     * adaptive probing starts (rq_search.c), and it is that search, the one
     * a default query gets, that must reach the target */
    const uint32_t saved = c->idx->p.nprobe;
    if (np)
        c->idx->p.nprobe = np;
    /* the index type's own path, where it has one, keeps each query's work
     * from one nprobe to the next (rq_ladder.c); the same results */
    int rc = c->idx->vt->cal_search
                 ? c->idx->vt->cal_search(c->idx, &c->state, c->queries, c->m, &sp, c->ids,
                                          c->scores, c->nfound)
                 : ruv_index_search_batch(c->idx, c->queries, c->m, &sp, c->ids, c->scores,
                                          c->nfound);
    c->idx->p.nprobe = saved;
    if (rc)
        return rc;
    const struct ruv_index *idx = c->idx;
    const size_t dim = idx->p.dim;
    size_t hits = 0;
    double sq = 0.0; /* sum over queries of (hits of the query)^2 */
    for (uint32_t q = 0; q < c->m; q++) {
        size_t qhits = 0;
        const uint64_t self = idx->ids[c->sample[q]];
        const float *qv = c->data + (size_t)c->sample[q] * dim;
        const float tol = 1e-5f * fabsf(c->thr[q]) + 1e-6f;
        uint32_t taken = 0;
        for (size_t j = 0; j < c->nfound[q] && taken < c->kk; j++) {
            const uint64_t id = c->ids[q * (c->kk + 1) + j];
            uint32_t row;
            if (id == self || !ruv__idmap_get(&idx->map, idx->ids, id, &row))
                continue;
            taken++;
            qhits += (size_t)is_hit(c, q, qv, row, tol);
        }
        hits += qhits;
        sq += (double)qhits * (double)qhits;
    }
    const double m = c->m, mean = (double)hits / (m * c->kk);
    *recall = (float)mean;
    if (lower) {
        /* sample variance of the per-query recalls (hits / kk) */
        double var = 0.0;
        if (c->m > 1) {
            var = (sq / ((double)c->kk * c->kk) - m * mean * mean) / (m - 1.0);
            if (var < 0.0)
                var = 0.0;
        }
        const double lcb = mean - CAL_Z * sqrt(var / m);
        *lower = lcb > 0.0 ? (float)lcb : 0.0f; /* stored as a recall: 0..1 */
    }
    return RUV_OK;
}

static void curve_put(struct ruv__plan_curve *cv, uint32_t np, float r, float lcb)
{
    if (cv->n == RUV__PLAN_POINTS)
        return;
    uint32_t i = cv->n;
    while (i > 0 && cv->nprobe[i - 1] > np) {
        cv->nprobe[i] = cv->nprobe[i - 1];
        cv->recall[i] = cv->recall[i - 1];
        cv->lower[i] = cv->lower[i - 1];
        i--;
    }
    cv->nprobe[i] = np;
    cv->recall[i] = r;
    cv->lower[i] = lcb;
    cv->n++;
}

/* Measures at nprobe 1, then ~1.3x steps until the ceiling or every list;
 * then halves the last step into the target. */
static int calibrate_ivf(struct cal *c, uint32_t nlist, float target, uint32_t *chosen,
                         float *at_chosen, float *lower_at_chosen)
{
    struct ruv__plan_curve *cv = &c->idx->curve;
    uint32_t lo = 0, hi = 0;
    float hi_recall = 0.0f, hi_lower = 0.0f, best = -1.0f, best_lower = 0.0f;
    uint32_t best_np = nlist;
    for (uint32_t np = 1;; np = np + 1 > np * 13 / 10 ? np + 1 : np * 13 / 10) {
        if (np > nlist)
            np = nlist;
        float r, lcb;
        int rc = measure(c, np, &r, &lcb);
        if (rc)
            return rc;
        curve_put(cv, np, r, lcb);
        if (r > best + 0.005f) { /* where a target out of reach plateaus */
            best = r;
            best_lower = lcb;
            best_np = np;
        }
        if (!hi && lcb >= target) {
            hi = np;
            hi_recall = r;
            hi_lower = lcb;
        }
        if (!hi)
            lo = np;
        /* past the ceiling only while the bound still misses a target below it */
        if ((r >= CAL_CEILING && (hi || target > CAL_CEILING)) || np == nlist ||
            cv->n == RUV__PLAN_POINTS)
            break;
    }
    if (!hi) { /* out of reach: where it stopped improving */
        *chosen = best_np;
        *at_chosen = best;
        *lower_at_chosen = best_lower;
        return RUV_OK;
    }
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        float r, lcb;
        int rc = measure(c, mid, &r, &lcb);
        if (rc)
            return rc;
        curve_put(cv, mid, r, lcb);
        if (lcb >= target) {
            hi = mid;
            hi_recall = r;
            hi_lower = lcb;
        } else {
            lo = mid;
        }
    }
    *chosen = hi;
    *at_chosen = hi_recall;
    *lower_at_chosen = hi_lower;
    return RUV_OK;
}

int ruv__cal_truth(const struct ruv_index *idx, const float *data, size_t n,
                   const uint32_t *sample, const float *queries, uint32_t m, uint32_t kk,
                   const struct ruv__cal_lists *lists, struct ruv__topk *tops, float *thr)
{
    if (lists)
        return ruv__cal_truth_pruned(idx, data, n, sample, queries, m, kk, lists, tops, thr);
    unsigned threads = idx->threads ? idx->threads : 1;
    float *tiles = malloc((size_t)threads * CAL_TILE * sizeof *tiles);
    if (!tiles)
        return ruv__set_error(RUV_E_NOMEM, "out of memory for calibration");
    int rc = RUV_OK;
    const size_t chunk = (m + threads - 1) / threads;
    /* the screen only pays with a BLAS (the fallback GEMM is the same
     * dot products as the exact pass); without memory, no screen */
    float *screen = ruv__blas_available()
                        ? malloc((size_t)threads * chunk * CAL_TILE * sizeof *screen)
                        : NULL;
    float *xx = screen ? malloc(n * sizeof *xx) : NULL;
    if (!xx) { /* without memory for either, no screen */
        free(screen);
        screen = NULL;
    }
    struct truth_ctx t = {idx, data, n,     sample, queries, kk,
                          tops, thr, tiles, screen, chunk, xx};
    if (xx && ruv__parallel_for(threads, n, CAL_TILE, norms_range, &t))
        rc = ruv__cancel_check("calibration");
    if (!rc && ruv__parallel_for(threads, m, chunk, truth_range, &t))
        rc = ruv__cancel_check("calibration");
    free(screen);
    free(xx);
    free(tiles);
    return rc;
}

int ruv__calibrate(struct ruv_index *idx, const float *data, size_t n)
{
    memset(&idx->curve, 0, sizeof idx->curve);
    if (n < 2 || idx->p.target_recall <= 0.0f || (idx->p.planned & RUV_PLANNED_EXACT))
        return RUV_OK; /* nothing to choose; an exact scan needs no measuring */
    const uint32_t m = n < CAL_QUERIES ? (uint32_t)n : CAL_QUERIES;
    const uint32_t kk = n - 1 < CAL_K ? (uint32_t)(n - 1) : CAL_K;
    const size_t dim = idx->p.dim;
    uint32_t *sample = malloc(m * sizeof *sample);
    float *thr = malloc(m * sizeof *thr);
    float *queries = malloc((size_t)m * dim * sizeof *queries);
    uint64_t *ids = malloc((size_t)m * (kk + 1) * sizeof *ids);
    float *scores = malloc((size_t)m * (kk + 1) * sizeof *scores);
    size_t *nfound = malloc(m * sizeof *nfound);
    struct ruv__topk *tops = malloc(m * sizeof *tops);
    float *heap_d = malloc((size_t)m * kk * sizeof *heap_d);
    uint32_t *heap_r = malloc((size_t)m * kk * sizeof *heap_r);
    int rc = RUV_OK;
    if (!sample || !thr || !queries || !ids || !scores || !nfound || !tops || !heap_d ||
        !heap_r)
        rc = ruv__set_error(RUV_E_NOMEM, "out of memory for calibration");
    if (!rc)
        rc = pick_sample(n, m, idx->p.seed, sample);
    if (!rc) {
        for (uint32_t q = 0; q < m; q++)
            memcpy(queries + (size_t)q * dim, data + (size_t)sample[q] * dim, dim * sizeof(float));
        for (uint32_t q = 0; q < m; q++)
            ruv__topk_init(&tops[q], kk, heap_d + (size_t)q * kk, heap_r + (size_t)q * kk);
        /* with a BLAS and the IVF's lists, the truth prunes lists that
         * cannot hold a neighbour (cal_truth.c): same truth, less GEMM */
        struct ruv__cal_lists lists = {0, NULL, NULL};
        uint32_t *row_list = NULL;
        int have_lists = 0;
        if (idx->vt->cal_lists && ruv__blas_available())
            row_list = malloc(n * sizeof *row_list);
        if (row_list)
            have_lists = idx->vt->cal_lists(idx, row_list, &lists) == RUV_OK && lists.nlist > 1;
        rc = ruv__cal_truth(idx, data, n, sample, queries, m, kk, have_lists ? &lists : NULL,
                            tops, thr);
        free(row_list);
    }
    /* the memo goes with the index type's measuring path, whose later steps
     * cost about what the checks do (without it, the steps are whole
     * searches and the path is the one before both: test_cal_ladder
     * compares the two) */
    struct cal_hits *memo = idx->vt->cal_search ? calloc(m, sizeof *memo) : NULL;
    struct cal c = {idx, data, m, kk, sample, thr, queries, ids, scores, nfound, NULL, memo};
    const uint32_t nlist = idx->p.nlist;
    float r = 0.0f, lower = 0.0f;
    if (!rc && nlist > 1 && idx->p.nprobe == 0) {
        uint32_t np = 0;
        rc = calibrate_ivf(&c, nlist, idx->p.target_recall, &np, &r, &lower);
        if (!rc) {
            idx->p.nprobe = np;
            idx->p.planned |= RUV_PLANNED_NPROBE;
        }
    } else if (!rc) {
        rc = measure(&c, 0, &r, &lower); /* exhaustive, or the nprobe the caller gave */
    }
    if (!rc) {
        idx->p.calibrated_recall = r;
        idx->p.calibrated_lower = lower;
        idx->p.calibration_queries = m;
        /* the curve answers search(..., recall=): make it non-decreasing
         * (more lists never find fewer neighbours; a dip is the sample's
         * noise), the bounds as the means, so each stays <= its mean */
        struct ruv__plan_curve *cv = &idx->curve;
        for (uint32_t i = 1; i < cv->n; i++) {
            if (cv->recall[i] < cv->recall[i - 1])
                cv->recall[i] = cv->recall[i - 1];
            if (cv->lower[i] < cv->lower[i - 1])
                cv->lower[i] = cv->lower[i - 1];
        }
        cv->bounded = 1;
    } else {
        memset(&idx->curve, 0, sizeof idx->curve);
        if (rc == RUV_E_CANCELED) /* in a measuring search: say it was the build's */
            rc = ruv__cancel_check("calibration");
    }
    if (c.state && idx->vt->cal_search_free)
        idx->vt->cal_search_free(c.state);
    free(c.hits);
    free(sample);
    free(thr);
    free(queries);
    free(ids);
    free(scores);
    free(nfound);
    free(tops);
    free(heap_d);
    free(heap_r);
    return rc;
}
