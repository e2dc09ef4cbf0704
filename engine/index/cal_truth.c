/* The calibration's truth pruned with the IVF lists (cal_truth.h).
 *
 * At D = 1,024 the truth's GEMM screen (every sample query against every
 * row) was ~10 % of a build. Most (query, list) pairs cannot hold a
 * neighbour: a row x of list l with centre c and radius R (max |x - c|) has
 *   L2: |q - x| >= |q - c| - R;   inner product: <q, x> <= <q, c> + |q| R,
 * so a list whose bound is above an upper bound U of the query's kk-th
 * distance is skipped, GEMM and all. Every bound here is a proven one: the
 * float values it starts from (kernel dot products and squared distances,
 * whose rounding is at most ~D * 2^-24 of the sum of their |terms|) are
 * widened by RUV__CAL_MARGIN * D of that sum, ~30x the rounding, and
 * composed in double. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/error.h>
#include <ruvector/index.h>
#include <ruvector/kernel.h>

#include "base/error.h"
#include "exec/blas.h"
#include "exec/cancel.h"
#include "exec/pool.h"
#include "index/cal_truth.h"
#include "index/common.h"

/* Absolute slack for underflow: a float sum of D products loses at most
 * D * 2^-149 to subnormal rounding; D <= 65,536 keeps that below 1e-39. */
#define TINY 1e-30
/* Rows of its own list a query bounds its kk-th distance with: the whole
 * list (~100 rows) left 37 % of the (query, list) pairs at D = 1,024, 32
 * rows 44 % and four times the rows to score exactly. */
#define UPPER_ROWS 256u

void ruv__cal_exact_rows(const struct ruv_index *idx, const float *data, const float *qv,
                         const float *base, size_t first, size_t s0, size_t e, float *d,
                         struct ruv__topk *top)
{
    const size_t dim = idx->p.dim;
    if (idx->p.metric == RUV_METRIC_L2) {
        idx->k->l2sq_f32_1xN(qv, base + s0 * dim, dim, dim, e - s0, d + s0);
    } else {
        idx->k->dot_f32_1xN(qv, base + s0 * dim, dim, dim, e - s0, d + s0);
        for (size_t i = s0; i < e; i++)
            d[i] = -d[i];
    }
    const size_t own = (size_t)(qv - data) / dim;
    for (size_t i = s0; i < e; i++)
        if (first + i != own && d[i] < ruv__topk_threshold(top))
            ruv__topk_push(top, d[i], (uint32_t)(first + i));
}

struct prune {
    const struct ruv_index *idx;
    const float *data;
    size_t n, dim;
    int l2;
    double gamma; /* RUV__CAL_MARGIN * dim: relative widening of a float value */
    const uint32_t *sample;
    const float *queries;
    uint32_t m, kk;
    const struct ruv__cal_lists *lists;
    uint32_t *start;  /* nlist + 1: CSR of the lists' rows, ascending */
    uint32_t *rows;   /* n */
    float *xx;        /* n: dot(x, x) */
    float *r2;        /* n: l2sq(x, its centre) */
    double *radius;   /* nlist: >= max |x - c| over the list; INFINITY unknown */
    double *cnorm;    /* nlist: >= |c| */
    float *qc;        /* m x nlist: <q, c> (GEMM), or l2sq(q, c) */
    double *qnorm;    /* m: >= |q| */
    float *upper;     /* m: U, >= the kk-th exact distance */
    uint8_t *need;    /* m x nlist: the list may hold a row at or below U */
    uint32_t *tasks;  /* per task: (list, first index into rows) */
    size_t ntasks;
    size_t ngroups, words; /* RUV__CAL_GROUP-row groups; 64-bit words per query */
    uint64_t *marks;       /* per worker: m x words; a group to score exactly */
    float *rowbuf;         /* per worker: RUV__CAL_TILE x dim */
    float *qbuf;           /* per worker: m x dim */
    uint32_t *qidx;        /* per worker: m */
    float *gbuf;           /* per worker: m x RUV__CAL_TILE */
    float *dbuf;           /* per worker: RUV__CAL_TILE */
    unsigned threads;
    struct ruv__topk *tops;
    float *thr;
};

static void norms_task(void *vctx, size_t begin, size_t end, unsigned worker)
{
    (void)worker;
    struct prune *c = vctx;
    const struct ruv_kernel_ops *k = c->idx->k;
    for (size_t i = begin; i < end; i++) {
        const float *x = c->data + i * c->dim;
        c->xx[i] = k->dot_f32(x, x, c->dim);
        c->r2[i] = k->l2sq_f32(x, c->lists->centroids + (size_t)c->lists->row_list[i] * c->dim,
                               c->dim);
    }
}

/* A proven upper bound on the exact kernel value of query q's distance to
 * row i, computed here as d (another kernel call may round differently). */
static double dist_upper(const struct prune *c, uint32_t q, size_t i, float d)
{
    if (c->l2)
        return (double)d * (1.0 + c->gamma) + TINY;
    const double xn = sqrt((double)c->xx[i] * (1.0 + c->gamma) + TINY);
    return (double)d + c->gamma * c->qnorm[q] * xn + TINY;
}

/* U for each query from up to a tile of its own list's rows (topped up
 * with the first rows when the list is small), then which lists it needs. */
static void upper_task(void *vctx, size_t begin, size_t end, unsigned worker)
{
    struct prune *c = vctx;
    const struct ruv_index *idx = c->idx;
    const uint32_t nlist = c->lists->nlist;
    float hd[64];
    uint32_t hr[64];
    (void)worker;
    for (size_t q = begin; q < end && !ruv__cancel_pending(); q++) {
        const float *qv = c->queries + q * c->dim;
        const uint32_t self = c->sample[q];
        const uint32_t own = c->lists->row_list[self];
        const float qq = idx->k->dot_f32(qv, qv, c->dim);
        c->qnorm[q] = isfinite(qq) ? sqrt((double)qq * (1.0 + c->gamma) + TINY) : INFINITY;
        if (c->l2)
            for (uint32_t l = 0; l < nlist; l++)
                c->qc[q * nlist + l] =
                    idx->k->l2sq_f32(qv, c->lists->centroids + (size_t)l * c->dim, c->dim);
        struct ruv__topk top;
        ruv__topk_init(&top, c->kk, hd, hr);
        size_t taken = 0;
        for (uint32_t j = c->start[own]; j < c->start[own + 1] && taken < UPPER_ROWS; j++) {
            const uint32_t i = c->rows[j];
            if (i == self)
                continue;
            float d = ruv__exact_dist(idx, qv, c->data + (size_t)i * c->dim);
            double u = dist_upper(c, (uint32_t)q, i, d);
            if (u == u) /* a NaN proves nothing */
                ruv__topk_push(&top, (float)u < u ? nextafterf((float)u, INFINITY) : (float)u, i);
            taken++;
        }
        for (size_t i = 0; i < c->n && top.n < top.k; i++) {
            if (i == self || c->lists->row_list[i] == own)
                continue;
            float d = ruv__exact_dist(idx, qv, c->data + i * c->dim);
            double u = dist_upper(c, (uint32_t)q, i, d);
            if (u == u)
                ruv__topk_push(&top, (float)u < u ? nextafterf((float)u, INFINITY) : (float)u,
                               (uint32_t)i);
        }
        const float U = ruv__topk_threshold(&top);
        c->upper[q] = U;
        const double qn = c->qnorm[q];
        for (uint32_t l = 0; l < nlist; l++) {
            uint8_t need = 1;
            const double R = c->radius[l];
            const float g = c->qc[q * nlist + l];
            if (c->start[l] == c->start[l + 1]) {
                need = 0;
            } else if (U < INFINITY && R < INFINITY && isfinite(g)) {
                double lb;
                if (c->l2) { /* |q - x| >= |q - c| - R; kernel |q - x|^2 >= that^2 (1 - gamma) */
                    double qcd = sqrt(fmax((double)g / (1.0 + c->gamma) - TINY, 0.0)) - R;
                    lb = qcd > 0.0 ? qcd * qcd * (1.0 - c->gamma) - TINY : -INFINITY;
                } else { /* -<q, x> >= -(<q, c> + |q| R), less the kernel's rounding */
                    const double cn = c->cnorm[l];
                    double dot_up = (double)g + c->gamma * qn * cn + TINY;
                    lb = -(dot_up + qn * R) - c->gamma * qn * (cn + R) - TINY;
                }
                need = !(lb > (double)U);
            }
            c->need[q * nlist + l] = need;
        }
    }
}

/* One chunk of one list's rows: a GEMM against the queries that need the
 * list, and the rows that may be at or below a query's U are marked. */
static void screen_task(void *vctx, size_t begin, size_t end, unsigned worker)
{
    struct prune *c = vctx;
    const size_t dim = c->dim;
    const uint32_t nlist = c->lists->nlist;
    float *rb = c->rowbuf + (size_t)worker * RUV__CAL_TILE * dim;
    float *qb = c->qbuf + (size_t)worker * c->m * dim;
    uint32_t *qi = c->qidx + (size_t)worker * c->m;
    float *g = c->gbuf + (size_t)worker * c->m * RUV__CAL_TILE;
    uint64_t *marks = c->marks + (size_t)worker * c->m * c->words;
    const float unit = RUV__CAL_MARGIN * (float)dim;
    for (size_t t = begin; t < end && !ruv__cancel_pending(); t++) {
        const uint32_t l = c->tasks[2 * t], j0 = c->tasks[2 * t + 1];
        const uint32_t j1 = c->start[l + 1] - j0 < RUV__CAL_TILE ? c->start[l + 1]
                                                                 : j0 + RUV__CAL_TILE;
        uint32_t nq = 0;
        for (uint32_t q = 0; q < c->m; q++)
            if (c->need[(size_t)q * nlist + l]) {
                memcpy(qb + (size_t)nq * dim, c->queries + (size_t)q * dim, dim * sizeof *qb);
                qi[nq++] = q;
            }
        if (!nq)
            continue;
        const size_t nr = j1 - j0;
        for (size_t j = 0; j < nr; j++)
            memcpy(rb + j * dim, c->data + (size_t)c->rows[j0 + j] * dim, dim * sizeof *rb);
        ruv__sgemm_nt(c->idx->k, nq, nr, dim, qb, dim, rb, dim, g, RUV__CAL_TILE);
        for (uint32_t a = 0; a < nq; a++) {
            const uint32_t q = qi[a];
            const float *qv = c->queries + (size_t)q * dim;
            const float qq = c->idx->k->dot_f32(qv, qv, dim);
            const float U = c->upper[q];
            uint64_t *mq = marks + (size_t)q * c->words;
            const float *gq = g + (size_t)a * RUV__CAL_TILE;
            for (size_t j = 0; j < nr; j++) {
                const uint32_t i = c->rows[j0 + j];
                const float xx = c->xx[i];
                /* the GEMM screen's bound (ruv__cal_tile_may_enter) against
                 * U: a row is dropped only when provably above U */
                const float approx = c->l2 ? qq + xx - 2.0f * gq[j] : -gq[j];
                if (!(approx - unit * (qq + xx) > U)) {
                    const size_t grp = i / RUV__CAL_GROUP;
                    mq[grp / 64] |= (uint64_t)1 << (grp % 64);
                }
            }
        }
    }
}

/* The marked groups of each query scored exactly, in row order, tile by
 * tile as the unpruned truth cuts them. */
static int marked(const struct prune *c, size_t q, size_t grp)
{
    for (unsigned w = 0; w < c->threads; w++)
        if (c->marks[((size_t)w * c->m + q) * c->words + grp / 64] >> (grp % 64) & 1)
            return 1;
    return 0;
}

static void exact_task(void *vctx, size_t begin, size_t end, unsigned worker)
{
    struct prune *c = vctx;
    const size_t dim = c->dim;
    float *d = c->dbuf + (size_t)worker * RUV__CAL_TILE;
    /* tile by tile, each against every query of the range: a tile's rows
     * come from memory once per worker, not once per query (row by row
     * per query, this pass cost as much as the GEMM it follows) */
    for (size_t first = 0; first < c->n && !ruv__cancel_pending(); first += RUV__CAL_TILE) {
        const size_t rows = c->n - first < RUV__CAL_TILE ? c->n - first : RUV__CAL_TILE;
        const float *base = c->data + first * dim;
        for (size_t q = begin; q < end; q++) {
            const float *qv = c->data + (size_t)c->sample[q] * dim;
            for (size_t s0 = 0; s0 < rows;) {
                size_t e = s0;
                while (e < rows && marked(c, q, (first + e) / RUV__CAL_GROUP))
                    e = e + RUV__CAL_GROUP < rows ? e + RUV__CAL_GROUP : rows;
                if (e > s0)
                    ruv__cal_exact_rows(c->idx, c->data, qv, base, first, s0, e, d, &c->tops[q]);
                s0 = e + RUV__CAL_GROUP < rows ? e + RUV__CAL_GROUP : rows;
            }
        }
    }
    for (size_t q = begin; q < end; q++) /* max-heap: the root is the kk-th */
        c->thr[q] = c->tops[q].n ? c->tops[q].dist[0] : INFINITY;
}

static int free_all(struct prune *c, int rc)
{
    free(c->start);
    free(c->rows);
    free(c->xx);
    free(c->r2);
    free(c->radius);
    free(c->cnorm);
    free(c->qc);
    free(c->qnorm);
    free(c->upper);
    free(c->need);
    free(c->marks);
    free(c->rowbuf);
    free(c->qbuf);
    free(c->qidx);
    free(c->gbuf);
    free(c->dbuf);
    free(c->tasks);
    return rc;
}

int ruv__cal_truth_pruned(const struct ruv_index *idx, const float *data, size_t n,
                          const uint32_t *sample, const float *queries, uint32_t m, uint32_t kk,
                          const struct ruv__cal_lists *lists, struct ruv__topk *tops, float *thr)
{
    const size_t dim = idx->p.dim;
    const uint32_t nlist = lists->nlist;
    unsigned threads = idx->threads ? idx->threads : 1;
    struct prune c = {
        .idx = idx, .data = data, .n = n, .dim = dim, .l2 = idx->p.metric == RUV_METRIC_L2,
        .gamma = (double)RUV__CAL_MARGIN * (double)dim, .sample = sample, .queries = queries,
        .m = m, .kk = kk, .lists = lists, .threads = threads, .tops = tops, .thr = thr,
    };
    c.ngroups = (n + RUV__CAL_GROUP - 1) / RUV__CAL_GROUP;
    c.words = (c.ngroups + 63) / 64;
    c.start = calloc((size_t)nlist + 1, sizeof *c.start);
    c.rows = malloc(n * sizeof *c.rows);
    c.xx = malloc(n * sizeof *c.xx);
    c.r2 = malloc(n * sizeof *c.r2);
    c.radius = malloc(((size_t)nlist + 1) * sizeof *c.radius);
    c.cnorm = malloc(((size_t)nlist + 1) * sizeof *c.cnorm);
    c.qc = malloc(((size_t)m * nlist + 1) * sizeof *c.qc);
    c.qnorm = malloc(m * sizeof *c.qnorm);
    c.upper = malloc(m * sizeof *c.upper);
    c.need = malloc((size_t)m * nlist + 1);
    c.marks = calloc((size_t)threads * m * c.words, sizeof *c.marks);
    c.rowbuf = malloc((size_t)threads * RUV__CAL_TILE * dim * sizeof *c.rowbuf);
    c.qbuf = malloc((size_t)threads * m * dim * sizeof *c.qbuf);
    c.qidx = malloc((size_t)threads * m * sizeof *c.qidx);
    c.gbuf = malloc((size_t)threads * m * RUV__CAL_TILE * sizeof *c.gbuf);
    c.dbuf = malloc((size_t)threads * RUV__CAL_TILE * sizeof *c.dbuf);
    int rc = RUV_OK;
    if (!c.start || !c.rows || !c.xx || !c.r2 || !c.radius || !c.cnorm || !c.qc || !c.qnorm ||
        !c.upper || !c.need || !c.marks || !c.rowbuf || !c.qbuf || !c.qidx || !c.gbuf || !c.dbuf)
        rc = ruv__set_error(RUV_E_NOMEM, "out of memory for the calibration's truth");
    if (!rc) { /* the lists' rows in ascending order (a counting sort) */
        for (size_t i = 0; i < n; i++)
            c.start[lists->row_list[i] + 1]++;
        for (uint32_t l = 0; l < nlist; l++)
            c.start[l + 1] += c.start[l];
        uint32_t *fill = malloc(((size_t)nlist + 1) * sizeof *fill);
        if (!fill)
            return free_all(&c, ruv__set_error(RUV_E_NOMEM, "out of memory for the calibration"));
        memcpy(fill, c.start, ((size_t)nlist + 1) * sizeof *fill);
        for (size_t i = 0; i < n; i++)
            c.rows[fill[lists->row_list[i]]++] = (uint32_t)i;
        free(fill);
        c.ntasks = 0;
        for (uint32_t l = 0; l < nlist; l++)
            c.ntasks += (c.start[l + 1] - c.start[l] + RUV__CAL_TILE - 1) / RUV__CAL_TILE;
        c.tasks = malloc((c.ntasks ? c.ntasks : 1) * 2 * sizeof *c.tasks);
        if (!c.tasks)
            rc = ruv__set_error(RUV_E_NOMEM, "out of memory for the calibration's truth");
        size_t t = 0;
        for (uint32_t l = 0; !rc && l < nlist; l++)
            for (uint32_t j = c.start[l]; j < c.start[l + 1]; j += RUV__CAL_TILE) {
                c.tasks[2 * t] = l;
                c.tasks[2 * t + 1] = j;
                t++;
            }
    }
    if (!rc && ruv__parallel_for(threads, n, RUV__CAL_TILE, norms_task, &c))
        rc = ruv__cancel_check("calibration");
    if (!rc) {
        for (uint32_t l = 0; l < nlist; l++)
            c.radius[l] = 0.0;
        for (size_t i = 0; i < n; i++) {
            const uint32_t l = lists->row_list[i];
            const double r = isfinite(c.r2[i]) ? (double)c.r2[i] : INFINITY;
            if (!(r <= c.radius[l])) /* NaN/INFINITY stay INFINITY: no bound */
                c.radius[l] = r;
        }
        for (uint32_t l = 0; l < nlist; l++) {
            const float *cv = lists->centroids + (size_t)l * dim;
            const float cc = idx->k->dot_f32(cv, cv, dim);
            c.radius[l] = sqrt(c.radius[l] * (1.0 + c.gamma) + TINY);
            c.cnorm[l] = isfinite(cc) ? sqrt((double)cc * (1.0 + c.gamma) + TINY) : INFINITY;
        }
        if (!c.l2)
            ruv__sgemm_nt(idx->k, m, nlist, dim, queries, dim, lists->centroids, dim, c.qc, nlist);
    }
    if (!rc && ruv__parallel_for(threads, m, 1, upper_task, &c))
        rc = ruv__cancel_check("calibration");
    if (!rc && ruv__parallel_for(threads, c.ntasks, 1, screen_task, &c))
        rc = ruv__cancel_check("calibration");
    if (!rc && ruv__parallel_for(threads, m, (m + threads - 1) / threads, exact_task, &c))
        rc = ruv__cancel_check("calibration");
    return free_all(&c, rc);
}
