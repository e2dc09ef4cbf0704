/* FlatF32Index: exact search over the stored vectors.
 * Single query: the kernel's fused scan + threshold streams the rows once and
 * hands back only rows that beat the current k-th distance.
 * Batches: tiles of queries x rows through sgemm (BLAS found at run time, our
 * kernels otherwise) with precomputed squared norms, then the winners'
 * distances are recomputed exactly so batch and single searches agree. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "index_internal.h"

#define SCAN_BLOCK 1024 /* rows per fused-scan call: 512 KiB at D=128, stays in L2 */
#define TILE_Q 64       /* queries per GEMM tile */
#define TILE_N 1024     /* rows per GEMM tile */

struct flat {
    float *norms; /* squared norms, for the GEMM form of L2 */
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
    for (size_t i = 0; i < n; i++)
        f->norms[first + i] = idx->k->dot_f32(data + i * idx->p.dim, data + i * idx->p.dim,
                                               idx->p.dim);
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

static int allowed(const uint8_t *allow, size_t row)
{
    return !allow || (allow[row / 8] >> (row % 8)) & 1;
}

static int flat_search(const struct ruv_index *idx, const float *q, const ruv_search_params *sp,
                       const uint8_t *allow, struct ruv__topk *out, void *scratch)
{
    (void)sp;
    const struct ruv_kernel_ops *k = idx->k;
    const size_t dim = idx->p.dim;
    float *dist = scratch;
    uint32_t *rows = (uint32_t *)(dist + SCAN_BLOCK);
    for (size_t b = 0; b < idx->n; b += SCAN_BLOCK) {
        size_t cnt = idx->n - b < SCAN_BLOCK ? idx->n - b : SCAN_BLOCK;
        const float *base = idx->vecs + b * dim;
        if (idx->p.metric == RUV_METRIC_L2) {
            size_t m = k->l2sq_f32_1xN_below(q, base, dim, dim, cnt, ruv__topk_threshold(out),
                                             rows, dist);
            for (size_t j = 0; j < m; j++)
                if (allowed(allow, b + rows[j]))
                    ruv__topk_push(out, dist[j], (uint32_t)(b + rows[j]));
        } else {
            k->dot_f32_1xN(q, base, dim, dim, cnt, dist);
            for (size_t j = 0; j < cnt; j++)
                if (allowed(allow, b + j))
                    ruv__topk_push(out, -dist[j], (uint32_t)(b + j));
        }
    }
    return RUV_OK;
}

/* ---- batches through GEMM tiles ---- */

struct flat_batch {
    const struct ruv_index *idx;
    const float *queries;
    size_t nq, k;
    uint64_t *ids;
    float *scores;
    size_t *nfound;
    int failed;
};

static void batch_tile(void *vctx, size_t qb, size_t qe, unsigned worker)
{
    (void)worker;
    struct flat_batch *c = vctx;
    const struct ruv_index *idx = c->idx;
    const struct flat *f = idx->impl;
    const size_t dim = idx->p.dim, nq = qe - qb, k = c->k;
    int l2 = idx->p.metric == RUV_METRIC_L2;
    float *qn = NULL, *tile = ruv__alloc(TILE_Q * TILE_N * sizeof(float));
    float *hd = malloc((nq + 1) * k * sizeof(float)); /* last k: exact re-scoring */
    uint32_t *hr = malloc((nq + 1) * k * sizeof(uint32_t));
    struct ruv__topk *tops = malloc(nq * sizeof *tops);
    const float *Q = c->queries + qb * dim;
    if (idx->p.metric == RUV_METRIC_COSINE) {
        qn = ruv__alloc(nq * dim * sizeof(float));
        if (qn)
            for (size_t i = 0; i < nq; i++)
                ruv__normalize(idx->k, Q + i * dim, qn + i * dim, dim);
        Q = qn;
    }
    if (!tile || !hd || !hr || !tops || !Q) {
        c->failed = 1;
        goto out;
    }
    for (size_t i = 0; i < nq; i++)
        ruv__topk_init(&tops[i], k, hd + i * k, hr + i * k);
    for (size_t rb = 0; rb < idx->n; rb += TILE_N) {
        size_t rn = idx->n - rb < TILE_N ? idx->n - rb : TILE_N;
        ruv__sgemm_nt(idx->k, nq, rn, dim, Q, dim, idx->vecs + rb * dim, dim, tile, TILE_N);
        for (size_t i = 0; i < nq; i++) {
            const float *t = tile + i * TILE_N;
            struct ruv__topk *top = &tops[i];
            for (size_t j = 0; j < rn; j++) {
                /* |q|^2 is the same for every row of a query: ranking without it */
                float d = l2 ? f->norms[rb + j] - 2.0f * t[j] : -t[j];
                if (d <= ruv__topk_threshold(top))
                    ruv__topk_push(top, d, (uint32_t)(rb + j));
            }
        }
    }
    for (size_t i = 0; i < nq; i++) {
        struct ruv__topk *top = &tops[i];
        const float *q = Q + i * dim;
        /* exact distances for the winners, so scores match single search */
        struct ruv__topk exact;
        ruv__topk_init(&exact, k, hd + nq * k, hr + nq * k);
        for (size_t j = 0; j < top->n; j++) {
            const float *x = idx->vecs + (size_t)top->row[j] * dim;
            float d = l2 ? idx->k->l2sq_f32(q, x, dim) : -idx->k->dot_f32(q, x, dim);
            ruv__topk_push(&exact, d, top->row[j]);
        }
        size_t qi = qb + i;
        ruv__index_emit(idx, &exact, c->ids + qi * k, c->scores + qi * k, &c->nfound[qi]);
    }
out:
    free(tile);
    free(hd);
    free(hr);
    free(tops);
    free(qn);
}

static int flat_search_batch(const struct ruv_index *idx, const float *queries, size_t nq,
                             const ruv_search_params *sp, uint64_t *ids, float *scores,
                             size_t *nfound)
{
    struct flat_batch c = {idx, queries, nq, sp->k, ids, scores, nfound, 0};
    ruv__parallel_for(idx->threads, nq, TILE_Q, batch_tile, &c);
    return c.failed ? ruv__set_error(RUV_E_NOMEM, "out of memory in batch search") : RUV_OK;
}

static size_t flat_memory(const struct ruv_index *idx)
{
    const struct flat *f = idx->impl;
    return sizeof *f + f->cap * sizeof(float);
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
    .save = flat_save,
    .load = flat_load,
    .free = flat_free,
};
