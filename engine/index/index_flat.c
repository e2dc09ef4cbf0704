/* FlatF32Index: exact search over the stored vectors.
 * Single query: from DRAM, the kernel's fused scan + threshold
 * (l2sq_f32_1xN_below, or dot_f32_1xN_above for inner product and cosine)
 * streams the rows once and hands back only rows that beat the current k-th
 * distance; an inner-product index that stays in cache is scored four rows
 * at a time.
 * Batches: tiles of queries x rows through sgemm (BLAS found at run time, our
 * kernels otherwise) with precomputed squared norms; every row the GEMM
 * scores cannot rule out (within their error bound) is re-scored exactly,
 * so batch and single searches agree. */
#include "config.h"

#include <float.h>
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
#include "index/common.h"
#include "index/topk.h"
#include "store/persist.h"

#define SCAN_BLOCK 1024 /* rows per fused-scan call: 512 KiB at D=128, stays in L2 */
#define TILE_Q 256       /* queries per GEMM tile */
#define TILE_N 512      /* rows per GEMM tile: 256 x 512 scores (512 KiB) stay in L2 */
#define SURVIVORS_CAP 4096 /* per query and segment, before the exact scan takes over */

struct flat {
    float *norms;   /* squared norms, for the GEMM form of L2 */
    float max_norm; /* the largest ever added (removals keep it: a bound) */
    size_t cap;
};

static int flat_init(struct ruv_index *idx)
{
    idx->impl = calloc(1, sizeof(struct flat));
    return idx->impl ? RUV_OK : ruv__set_error(RUV_E_NOMEM, "out of memory");
}

static void flat_free(struct ruv_index *idx)
{
    struct flat *f = idx->impl;
    free(f->norms);
    free(f);
    idx->impl = NULL;
}

static int flat_add(struct ruv_index *idx, const float *data, size_t n, size_t first)
{
    struct flat *f = idx->impl;
    if (first + n > f->cap) {
        size_t cap = idx->cap > first + n ? idx->cap : first + n;
        int rc = ruv__grow((void **)&f->norms, first, cap, sizeof(float));
        if (rc)
            return rc;
        f->cap = cap;
    }
    for (size_t i = 0; i < n; i++) {
        f->norms[first + i] = idx->k->dot_f32(data + i * idx->p.dim, data + i * idx->p.dim,
                                               idx->p.dim);
        if (f->norms[first + i] > f->max_norm)
            f->max_norm = f->norms[first + i];
    }
    return RUV_OK;
}

static void flat_remove_row(struct ruv_index *idx, size_t row, size_t last)
{
    struct flat *f = idx->impl;
    f->norms[row] = f->norms[last];
}

static size_t flat_scratch(const struct ruv_index *idx, const ruv_search_params *sp)
{
    (void)idx;
    (void)sp;
    return SCAN_BLOCK * (sizeof(float) + sizeof(uint32_t));
}

/* Inner product: below this many bytes of rows the index is taken to stay
 * in cache between queries (the L2 or a share of the L3). There the
 * four-rows-side-by-side dot_f32_1xN, which shares each query load between
 * four rows, scores faster than the fused row-sequential scan built for DRAM:
 * on a shared Zen 3 EPYC (AVX2) the fused scan took 1.1-1.4x its time from 1
 * to 4 MiB of rows, and 0.54-0.9x from 30 MiB up (kernel timings); a
 * rabitq_plus index small enough for an exact scan (1 MiB, plan.c) is
 * always on this side. L2 keeps the fused scan at every size: with the
 * threshold loop below, the four-row form measured 0.85x at 4 MiB and even
 * at 1 MiB end to end (one query at a time through Python). */
#define IP_CACHE_RESIDENT_BYTES ((size_t)4 << 20)

/* Rows of one block whose engine distances -dot[j] beat the current k-th,
 * into the top-k (rows in increasing order: a later row loses a tie). */
static void push_above(struct ruv__topk *out, const float *dot, size_t cnt, size_t first,
                       const uint8_t *allow)
{
    float th = ruv__topk_threshold(out);
    for (size_t j = 0; j < cnt; j++)
        if (-dot[j] < th && ruv__row_allowed(allow, first + j)) {
            ruv__topk_push(out, -dot[j], (uint32_t)(first + j));
            th = ruv__topk_threshold(out);
        }
}

static int flat_search(const struct ruv_index *idx, const float *q, const ruv_search_params *sp,
                       const uint8_t *allow, struct ruv__topk *out, void *scratch)
{
    (void)sp;
    const struct ruv_kernel_ops *k = idx->k;
    const size_t dim = idx->p.dim;
    const int l2 = idx->p.metric == RUV_METRIC_L2;
    const int resident = !l2 && idx->n * dim * sizeof(float) <= IP_CACHE_RESIDENT_BYTES;
    float *dist = scratch;
    uint32_t *rows = (uint32_t *)(dist + SCAN_BLOCK);
    for (size_t b = 0; b < idx->n; b += SCAN_BLOCK) {
        size_t cnt = idx->n - b < SCAN_BLOCK ? idx->n - b : SCAN_BLOCK;
        const float *base = idx->vecs + b * dim;
        if (resident) {
            k->dot_f32_1xN(q, base, dim, dim, cnt, dist);
            push_above(out, dist, cnt, b, allow);
            continue;
        }
        const float th = ruv__topk_threshold(out);
        /* engine distance -<q, x> for IP: rows whose dot beats -threshold */
        size_t m = l2 ? k->l2sq_f32_1xN_below(q, base, dim, dim, cnt, th, rows, dist)
                      : k->dot_f32_1xN_above(q, base, dim, dim, cnt, -th, rows, dist);
        for (size_t j = 0; j < m; j++)
            if (ruv__row_allowed(allow, b + rows[j]))
                ruv__topk_push(out, l2 ? dist[j] : -dist[j], (uint32_t)(b + rows[j]));
    }
    return RUV_OK;
}

/* ---- batches through GEMM tiles ----
 * Work is split into (query tile x database segment) tasks. Segments exist
 * so that a batch smaller than one tile still uses every thread.
 *
 * The GEMM form |x|^2 - 2 <q, x> is not the distance the single-query scan
 * computes: its rounding error grows with |x|^2 and |q| |x|, not with the
 * distance, and data far from 0 (a common offset of 100x the spread) made
 * it pick the wrong rows. So each task keeps, per query, its k best GEMM
 * scores (for the threshold) and every row within 2E of the k-th, where E
 * bounds the GEMM score's error for that query; the merge re-scores the
 * survivors exactly. For typical data E is tiny and the survivors are the
 * rows that entered the top-k. A query whose survivors pass SURVIVORS_CAP
 * in a segment (E too large to screen with) is answered by the exact scan. */

struct survivors {
    float *d;
    uint32_t *row;
    size_t n, cap;
    int overflow;
};

struct flat_batch {
    const struct ruv_index *idx;
    const float *Q;     /* queries, normalised for cosine */
    const float *margin; /* per query: 2E */
    size_t nq, k, nseg, seg_rows, cap;
    float *cd;          /* per task, per query: its k best GEMM scores */
    uint32_t *cr;       /* ... and rows */
    size_t *cn;         /* per task, per query: how many */
    struct survivors *sv; /* per task, per query */
    int failed;
};

/* Appends (d, row); when full, first drops what the threshold now excludes. */
static int survivor_add(struct survivors *s, float d, uint32_t row, float limit, size_t cap)
{
    if (s->n == s->cap) {
        size_t kept = 0;
        for (size_t i = 0; i < s->n; i++)
            if (s->d[i] <= limit) {
                s->d[kept] = s->d[i];
                s->row[kept++] = s->row[i];
            }
        s->n = kept;
    }
    if (s->n == s->cap) {
        if (s->cap >= cap) {
            s->overflow = 1;
            return RUV_OK;
        }
        size_t nc = s->cap ? s->cap * 2 : 64;
        float *nd = realloc(s->d, nc * sizeof *nd);
        if (nd)
            s->d = nd;
        uint32_t *nr = nd ? realloc(s->row, nc * sizeof *nr) : NULL;
        if (!nr)
            return RUV_E_NOMEM;
        s->row = nr;
        s->cap = nc;
    }
    s->d[s->n] = d;
    s->row[s->n++] = row;
    return RUV_OK;
}

/* One query's row of GEMM scores into its top-k and survivors. |q|^2 is
 * the same for every row of a query, so L2 ranks by |x|^2 - 2 <q, x> and
 * inner product by -<q, x> (the tile holds these already). Once the heap
 * is warm almost nothing comes near it: blocks of SCREEN scores are tested
 * in a loop the compiler vectorises, and only a block with a survivor is
 * walked (the top-k pass was 27 % of a 1,000-query batch at 100k x 128 one
 * row at a time, 6-8 % like this). */
enum { SCREEN = 64 };

static int screen_tile(const float *d, size_t rn, size_t first, float margin, size_t cap,
                       struct ruv__topk *top, struct survivors *sv)
{
    for (size_t j0 = 0; j0 < rn && !sv->overflow; j0 += SCREEN, d += SCREEN) {
        const size_t m = rn - j0 < SCREEN ? rn - j0 : SCREEN;
        const float lim = ruv__topk_threshold(top) + margin;
        int any = 0;
        if (m == SCREEN) {
            for (size_t j = 0; j < SCREEN; j++)
                any |= d[j] <= lim;
        } else {
            for (size_t j = 0; j < m; j++)
                any |= d[j] <= lim;
        }
        if (!any)
            continue;
        for (size_t j = 0; j < m; j++) {
            float th = ruv__topk_threshold(top);
            if (!(d[j] <= th + margin))
                continue;
            uint32_t row = (uint32_t)(first + j0 + j);
            if (d[j] <= th)
                ruv__topk_push(top, d[j], row);
            if (survivor_add(sv, d[j], row, ruv__topk_threshold(top) + margin, cap))
                return RUV_E_NOMEM;
        }
    }
    return RUV_OK;
}

static void batch_task(void *vctx, size_t tb, size_t te, unsigned worker)
{
    (void)worker;
    struct flat_batch *c = vctx;
    const struct ruv_index *idx = c->idx;
    const struct flat *f = idx->impl;
    const size_t dim = idx->p.dim, k = c->k;
    const int l2 = idx->p.metric == RUV_METRIC_L2;
    float *tile = ruv__alloc((size_t)TILE_Q * TILE_N * sizeof(float));
    struct ruv__topk *tops = malloc(TILE_Q * sizeof *tops);
    if (!tile || !tops) {
        c->failed = 1;
        goto out;
    }
    for (size_t t = tb; t < te && !c->failed; t++) {
        size_t qt = t / c->nseg, seg = t % c->nseg;
        size_t qb = qt * TILE_Q, nq = c->nq - qb < TILE_Q ? c->nq - qb : TILE_Q;
        size_t r0 = seg * c->seg_rows, r1 = r0 + c->seg_rows < idx->n ? r0 + c->seg_rows : idx->n;
        for (size_t i = 0; i < nq; i++)
            ruv__topk_init(&tops[i], k, c->cd + ((qb + i) * c->nseg + seg) * k,
                           c->cr + ((qb + i) * c->nseg + seg) * k);
        for (size_t rb = r0; rb < r1 && !ruv__cancel_pending(); rb += TILE_N) {
            size_t rn = r1 - rb < TILE_N ? r1 - rb : TILE_N;
            /* scores straight from the GEMM: C starts at |x|^2 (or 0) and
             * takes -2 <q, x> (or -<q, x>), so the BLAS skips zeroing C */
            for (size_t i = 0; i < nq; i++) {
                if (l2)
                    memcpy(tile + i * TILE_N, f->norms + rb, rn * sizeof(float));
                else
                    memset(tile + i * TILE_N, 0, rn * sizeof(float));
            }
            ruv__sgemm_nt_acc(idx->k, nq, rn, dim, l2 ? -2.0f : -1.0f, c->Q + qb * dim, dim,
                              idx->vecs + rb * dim, dim, tile, TILE_N);
            /* The next tile's rows come from DRAM, and the BLAS packs them
             * without prefetching: ask for them while this tile is screened. */
            const char *next = (const char *)(idx->vecs + (rb + rn) * dim);
            size_t next_bytes = rb + rn < r1 ? (r1 - rb - rn < TILE_N ? r1 - rb - rn : TILE_N) *
                                                   dim * sizeof(float)
                                             : 0;
            size_t per_row = (next_bytes / 64 + nq) / nq * 64, ahead = 0;
            for (size_t i = 0; i < nq; i++) {
                for (size_t b = 0; b < per_row && ahead < next_bytes; b += 64, ahead += 64)
                    __builtin_prefetch(next + ahead, 0, 2);
                if (screen_tile(tile + i * TILE_N, rn, rb, c->margin[qb + i], c->cap, &tops[i],
                                &c->sv[(qb + i) * c->nseg + seg]))
                    c->failed = 1;
            }
        }
        for (size_t i = 0; i < nq; i++)
            c->cn[(qb + i) * c->nseg + seg] = tops[i].n;
    }
out:
    free(tile);
    free(tops);
}

/* 2E for each query: the GEMM score |x|^2 - 2 <q, x> (or -<q, x>) is within
 * E = gamma (max|x|^2 + 2 |q| max|x|) of its exact value, gamma covering a
 * dot product of dim terms in any summation order plus the final
 * subtraction. */
static void score_margins(const struct ruv_index *idx, const float *Q, size_t nq, float *margin)
{
    const struct flat *f = idx->impl;
    const size_t dim = idx->p.dim;
    const double gamma = (double)(dim + 4) * FLT_EPSILON;
    const int l2 = idx->p.metric == RUV_METRIC_L2;
    const double xmax = sqrt((double)f->max_norm);
    for (size_t q = 0; q < nq; q++) {
        double qn = sqrt((double)idx->k->dot_f32(Q + q * dim, Q + q * dim, dim));
        double e = gamma * ((l2 ? (double)f->max_norm + 2.0 * qn * xmax : qn * xmax) + 1.0);
        margin[q] = (float)(2.0 * e * (1.0 + 1e-3));
    }
}

static int flat_search_batch(const struct ruv_index *idx, const float *queries, size_t nq,
                             const ruv_search_params *sp, uint64_t *ids, float *scores,
                             size_t *nfound)
{
    const size_t dim = idx->p.dim, k = sp->k;
    unsigned threads = idx->threads ? idx->threads : 1;
    size_t qtiles = (nq + TILE_Q - 1) / TILE_Q;
    size_t nseg = qtiles >= threads ? 1 : (threads + qtiles - 1) / qtiles;
    if (nseg > (idx->n + TILE_N - 1) / TILE_N)
        nseg = (idx->n + TILE_N - 1) / TILE_N;
    if (nseg == 0)
        nseg = 1;
    struct flat_batch c = {.idx = idx, .Q = queries, .nq = nq, .k = k, .nseg = nseg};
    c.seg_rows = (idx->n + nseg - 1) / nseg;
    c.cap = SURVIVORS_CAP + 64 * k;
    float *qn = NULL;
    if (idx->p.metric == RUV_METRIC_COSINE) {
        qn = ruv__alloc(nq * dim * sizeof(float));
        if (qn)
            for (size_t i = 0; i < nq; i++)
                ruv__normalize(idx->k, queries + i * dim, qn + i * dim, dim);
        c.Q = qn;
    }
    float *margin = malloc(nq * sizeof *margin);
    c.margin = margin;
    c.cd = malloc(nq * nseg * k * sizeof(float));
    c.cr = malloc(nq * nseg * k * sizeof(uint32_t));
    c.cn = calloc(nq * nseg, sizeof(size_t));
    c.sv = calloc(nq * nseg, sizeof *c.sv);
    float *ed = malloc(k * sizeof(float)), *gd = malloc(k * sizeof(float));
    uint32_t *er = malloc(k * sizeof(uint32_t)), *gr = malloc(k * sizeof(uint32_t));
    void *scan = malloc(flat_scratch(idx, sp));
    int rc = RUV_OK;
    if (!c.Q || !margin || !c.cd || !c.cr || !c.cn || !c.sv || !ed || !er || !gd || !gr || !scan)
        rc = ruv__set_error(RUV_E_NOMEM, "out of memory in batch search (%zu queries)", nq);
    if (!rc) {
        score_margins(idx, c.Q, nq, margin);
        if (ruv__parallel_for(threads, qtiles * nseg, 1, batch_task, &c))
            rc = ruv__cancel_check("batch search");
        else if (c.failed)
            rc = ruv__set_error(RUV_E_NOMEM, "out of memory in batch search");
    }
    for (size_t q = 0; !rc && q < nq; q++) {
        const float *qv = c.Q + q * dim;
        struct ruv__topk exact;
        ruv__topk_init(&exact, k, ed, er);
        /* the k-th best GEMM score over all segments bounds the survivors */
        int overflow = 0;
        struct ruv__topk gk;
        ruv__topk_init(&gk, k, gd, gr);
        for (size_t seg = 0; seg < nseg; seg++)
            for (size_t j = 0; j < c.cn[q * nseg + seg]; j++)
                ruv__topk_push(&gk, c.cd[(q * nseg + seg) * k + j], c.cr[(q * nseg + seg) * k + j]);
        const float lim = ruv__topk_threshold(&gk) + margin[q];
        for (size_t seg = 0; seg < nseg; seg++)
            overflow |= c.sv[q * nseg + seg].overflow;
        if (overflow) {
            flat_search(idx, qv, sp, NULL, &exact, scan);
        } else {
            for (size_t seg = 0; seg < nseg; seg++) {
                const struct survivors *s = &c.sv[q * nseg + seg];
                for (size_t j = 0; j < s->n; j++) {
                    if (!(s->d[j] <= lim))
                        continue;
                    const float *x = idx->vecs + (size_t)s->row[j] * dim;
                    ruv__topk_push(&exact, ruv__exact_dist(idx, qv, x), s->row[j]);
                }
            }
        }
        ruv__index_emit(idx, &exact, ids + q * k, scores + q * k, &nfound[q]);
    }
    for (size_t i = 0; c.sv && i < nq * nseg; i++) {
        free(c.sv[i].d);
        free(c.sv[i].row);
    }
    free(c.sv);
    free(scan);
    free(margin);
    free(qn);
    free(c.cd);
    free(c.cr);
    free(c.cn);
    free(ed);
    free(er);
    free(gd);
    free(gr);
    return rc;
}

static size_t flat_memory(const struct ruv_index *idx)
{
    const struct flat *f = idx->impl;
    return sizeof *f + f->cap * sizeof(float);
}

static uint64_t flat_estimate(const struct ruv_index *idx, uint64_t n)
{
    (void)idx;
    return sizeof(struct flat) + n * sizeof(float); /* one norm a row */
}

static int flat_save(const struct ruv_index *idx, struct ruv__writer *w)
{
    (void)idx;
    (void)w;
    return RUV_OK; /* ids and vectors are written by the common layer; norms are recomputed */
}

static int flat_load(struct ruv_index *idx, const struct ruv__reader *r)
{
    (void)r;
    return flat_add(idx, idx->vecs, idx->n, 0);
}

const struct ruv__index_vt ruv__flat_vt = {
    .init = flat_init,
    .train = NULL,
    .add = flat_add,
    .remove_row = flat_remove_row,
    .search = flat_search,
    .scratch_bytes = flat_scratch,
    .search_batch = flat_search_batch,
    .memory = flat_memory,
    .estimate = flat_estimate,
    .save = flat_save,
    .load = flat_load,
    .free = flat_free,
};
