/* Search through the common layer: argument checks, allow-lists, scratch,
 * one query or a batch split over threads; each type scans through
 * struct ruv__index_vt. */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/error.h>
#include <ruvector/index.h>

#include "base/error.h"
#include "base/util.h"
#include "exec/cancel.h"
#include "exec/pool.h"
#include "index/common.h"
#include "index/idmap.h"
#include "index/scratch.h"
#include "index/topk.h"

/* ---- search ---- */

int ruv_search_params_init(ruv_search_params *sp, uint32_t k)
{
    if (!sp)
        return ruv__set_error(RUV_E_INVAL, "ruv_search_params_init: sp is NULL");
    memset(sp, 0, sizeof *sp);
    sp->struct_size = sizeof *sp;
    sp->k = k;
    sp->rerank_factor = -1;
    return RUV_OK;
}

/* Callers built before ruv_search_params.recall pass a shorter struct:
 * *full gets their fields and zeros (the defaults) for the rest. */
static int check_search(const struct ruv_index *idx, const ruv_search_params **sp,
                        ruv_search_params *full)
{
    if (!idx || !*sp)
        return ruv__set_error(RUV_E_INVAL, "search: NULL argument");
    if ((*sp)->struct_size < offsetof(ruv_search_params, recall))
        return ruv__set_error(RUV_E_INVAL, "search parameters struct_size %u: call "
                                           "ruv_search_params_init", (*sp)->struct_size);
    if ((*sp)->struct_size < sizeof(ruv_search_params)) {
        memset(full, 0, sizeof *full);
        memcpy(full, *sp, (*sp)->struct_size);
        full->struct_size = sizeof *full;
        *sp = full;
    }
    const ruv_search_params *q = *sp;
    if (!(q->recall >= 0.0f && q->recall <= 1.0f))
        return ruv__set_error(RUV_E_INVAL, "search recall must be in 0..1 (0: the index's "
                                           "default), got %g", (double)q->recall);
    if (q->k < 1)
        return ruv__set_error(RUV_E_INVAL, "k must be at least 1 (got %u)", q->k);
    if (q->nallow && !q->allow)
        return ruv__set_error(RUV_E_INVAL, "allow-list of %zu ids is NULL", q->nallow);
    if (idx->n == 0)
        return ruv__set_error(RUV_E_EMPTY, "search on an empty index");
    return ruv__index_check_file(idx);
}

/* Row bitmap of the allowed ids present in the index; *count how many. */
static int allow_bitmap(const struct ruv_index *idx, const ruv_search_params *sp, uint8_t **out,
                        size_t *count)
{
    *out = NULL;
    *count = idx->n;
    if (!sp->allow)
        return RUV_OK;
    *out = calloc((idx->n + 7) / 8, 1);
    if (!*out)
        return ruv__set_error(RUV_E_NOMEM, "out of memory for the allow-list");
    size_t c = 0;
    for (size_t i = 0; i < sp->nallow; i++) {
        uint32_t row;
        if (ruv__idmap_get(&idx->map, idx->ids, sp->allow[i], &row) &&
            !((*out)[row / 8] & (1u << (row % 8)))) {
            (*out)[row / 8] |= (uint8_t)(1u << (row % 8));
            c++;
        }
    }
    *count = c;
    return RUV_OK;
}

/* One query into ids/scores; the caller has checked arguments and the
 * query's values (a batch checks all its queries once, up front). */
static int search_one(const struct ruv_index *idx, const float *query, const ruv_search_params *sp,
                      const uint8_t *allow, void *scratch, float *qbuf, float *hd, uint32_t *hr,
                      uint64_t *ids, float *scores, size_t *nfound)
{
    const float *q = query;
    if (idx->p.metric == RUV_METRIC_COSINE) {
        ruv__normalize(idx->k, query, qbuf, idx->p.dim);
        q = qbuf;
    }
    struct ruv__topk top;
    ruv__topk_init(&top, sp->k, hd, hr);
    int rc = idx->vt->search(idx, q, sp, allow, &top, scratch);
    if (rc)
        return rc;
    ruv__index_emit(idx, &top, ids, scores, nfound);
    return RUV_OK;
}

void ruv__index_emit(const struct ruv_index *idx, struct ruv__topk *top, uint64_t *ids,
                     float *scores, size_t *nfound)
{
    ruv__topk_sort(top);
    for (size_t i = 0; i < top->n; i++) {
        ids[i] = idx->ids[top->row[i]];
        scores[i] = ruv__score_from_dist(idx, top->dist[i]);
    }
    for (size_t i = top->n; i < top->k; i++) {
        ids[i] = UINT64_MAX;
        scores[i] = NAN;
    }
    *nfound = top->n;
}

int ruv_index_search(const ruv_index *idx, const float *query, const ruv_search_params *sp,
                     uint64_t *ids, float *scores, size_t *nfound)
{
    ruv_search_params full;
    int rc = check_search(idx, &sp, &full);
    if (rc)
        return rc;
    if (!query || !ids || !scores || !nfound)
        return ruv__set_error(RUV_E_INVAL, "ruv_index_search: NULL argument");
    *nfound = 0;
    if ((rc = ruv__check_values(idx, query, 1, "query")))
        return rc;
    uint8_t *allow = NULL;
    size_t allowed;
    struct ruv__scratch b = {0};
    rc = allow_bitmap(idx, sp, &allow, &allowed);
    if (!rc)
        rc = ruv__scratch_take(idx->vt->scratch_bytes(idx, sp), idx->p.dim, sp->k, &b);
    if (!rc)
        rc = search_one(idx, query, sp, allow, b.scratch, b.qbuf, b.hd, b.hr, ids, scores, nfound);
    ruv__scratch_give(&b);
    free(allow);
    return rc;
}

/* A worker's failure: set on a pool thread, read by the caller. */
struct worker_err {
    int status;
    char detail[512];
};

struct batch_ctx {
    const struct ruv_index *idx;
    const float *queries;
    const ruv_search_params *sp;
    const uint8_t *allow;
    uint64_t *ids;
    float *scores;
    size_t *nfound;
    size_t scratch_bytes;
    struct worker_err *errs; /* one per worker */
};

static void batch_range(void *vctx, size_t begin, size_t end, unsigned worker)
{
    struct batch_ctx *c = vctx;
    struct worker_err *e = &c->errs[worker];
    size_t k = c->sp->k, dim = c->idx->p.dim;
    if (e->status)
        return;
    /* the thread's own area, held for this chunk only: a pool thread that
     * runs queued work between chunks finds it free */
    struct ruv__scratch b;
    int rc = ruv__scratch_take(c->scratch_bytes, dim, c->sp->k, &b);
    if (rc) {
        snprintf(e->detail, sizeof e->detail, "%s", ruv_last_error());
        e->status = rc;
        return;
    }
    for (size_t q = begin; q < end && !rc && !ruv__cancel_pending(); q++)
        if ((rc = search_one(c->idx, c->queries + q * dim, c->sp, c->allow, b.scratch, b.qbuf,
                             b.hd, b.hr, c->ids + q * k, c->scores + q * k, &c->nfound[q])))
            snprintf(e->detail, sizeof e->detail, "query %zu: %s", q, ruv_last_error());
    ruv__scratch_give(&b);
    e->status = rc;
}

int ruv__check_batch_output(size_t nq, uint32_t k)
{
    /* ids (8 B) and scores (4 B) per slot: the caller's arrays, touched as
     * they fill, so an output larger than the machine would be OOM-killed
     * half-way instead of failing here. Overflow-safe: nq <= SIZE_MAX. */
    const uint64_t mem = ruv__physical_memory();
    const double bytes = (double)nq * (double)k * 12.0;
    if (mem && bytes > (double)mem)
        return ruv__set_error(RUV_E_NOMEM,
                              "search_batch output of %zu queries x k %u needs %.3g bytes of ids "
                              "and scores, more than this machine's %llu bytes of memory; search "
                              "in smaller batches",
                              nq, k, bytes, (unsigned long long)mem);
    return RUV_OK;
}

int ruv_index_search_batch(const ruv_index *idx, const float *queries, size_t nq,
                           const ruv_search_params *sp, uint64_t *ids, float *scores,
                           size_t *nfound)
{
    ruv_search_params full;
    int rc = check_search(idx, &sp, &full);
    if (rc)
        return rc;
    if (nq && (!queries || !ids || !scores || !nfound))
        return ruv__set_error(RUV_E_INVAL, "ruv_index_search_batch: NULL argument");
    if (nq == 0)
        return RUV_OK;
    if ((rc = ruv__check_batch_output(nq, sp->k)))
        return rc;
    /* Every query is checked before any is searched, on every path. */
    if ((rc = ruv__check_values(idx, queries, nq, "query")))
        return rc;
    if (idx->vt->search_batch && !sp->allow)
        return idx->vt->search_batch(idx, queries, nq, sp, ids, scores, nfound);
    unsigned threads = idx->threads ? idx->threads : 1;
    uint8_t *allow = NULL;
    size_t allowed;
    struct worker_err *errs = calloc(threads, sizeof *errs);
    if (!errs)
        rc = ruv__set_error(RUV_E_NOMEM, "out of memory");
    if (!rc)
        rc = allow_bitmap(idx, sp, &allow, &allowed);
    if (!rc) {
        struct batch_ctx c = {idx, queries, sp, allow, ids, scores, nfound,
                              idx->vt->scratch_bytes(idx, sp), errs};
        if (ruv__parallel_for(threads, nq, 8, batch_range, &c))
            rc = ruv__cancel_check("batch search");
        for (unsigned t = 0; t < threads; t++)
            if (errs[t].status && !rc)
                rc = ruv__set_error(errs[t].status, "%s", errs[t].detail);
    }
    free(errs);
    free(allow);
    return rc;
}
