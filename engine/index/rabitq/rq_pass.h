/* Engine-private to index/rabitq: one query's search in pieces
 * (rq_search.c), so that the calibration's ladder (rq_ladder.c) can scan the
 * lists every nprobe shares once and finish the search at each nprobe with
 * the same calls, in the same order, as ruv__rq_search makes. */
#ifndef RUV_ENGINE_INDEX_RABITQ_RQ_PASS_H
#define RUV_ENGINE_INDEX_RABITQ_RQ_PASS_H

#include <stddef.h>
#include <stdint.h>

#include <ruvector/index.h>

#include "index/rabitq/rabitq.h"
#include "index/rabitq/rq.h"
#include "index/topk.h"

/* A re-rank candidate: the estimate's lower bound, the estimate, the row. */
struct ruv__rq_cand {
    float lb, est;
    uint32_t row;
};

struct ruv__rq_cands {
    struct ruv__rq_cand *v;
    size_t n, cap;
};

/* An unprobed list and the least distance any of its vectors can have. */
struct ruv__rq_list_bound {
    float lb;
    uint32_t list;
};

struct ruv__rq_scratch {
    float *qr;          /* rotated query, dim_pad */
    int16_t *qi;        /* qr as integers (multi-bit codes): dim_pad */
    float *qwork;       /* the probe's centred, scaled query, dim */
    uint8_t *lut;       /* FastScan tables: nsub x 16 */
    uint16_t *acc;      /* FastScan sums, whole blocks of the longest list */
    float *ip, *est, *lb;
    uint32_t *sel;      /* lanes of one list picked for a whole-code look */
    float *blut;        /* byte LUT for exact <b,q>: 256 * dim_pad / 8 */
    uint32_t *probe;    /* nlist */
    float *probe_dist;
    float *ubh;         /* k upper bounds (PLUS) */
    uint32_t *ubr;
    float *all_dist;    /* nlist: every centroid's probe score (adaptive probing) */
    struct ruv__rq_list_bound *pending; /* nlist: min-heap of unprobed lists (adaptive) */
};

/* Exact distances already computed for one query (row -> distance), so a
 * search repeated at another nprobe need not read the same originals again.
 * The kernel call is the same, so a remembered value is the same bits. */
struct ruv__rq_memo {
    uint32_t *key; /* row + 1; 0: empty slot */
    float *val;
    size_t n, cap; /* cap: 0 or a power of two */
};

/* One query's search in progress. gate is the heap scans prune against:
 * the k smallest upper bounds (rabitq_plus, whose candidates go to cs) or
 * the result itself (codes only). */
struct ruv__rq_pass {
    const struct ruv_index *idx;
    const struct rq *r;
    struct ruv__rq_scratch s;
    struct ruv__rabitq_lutq lq;
    struct ruv__rabitq_query qc;
    struct ruv__rabitq_qint qz; /* s.qi's scale and error bound */
    const uint8_t *allow;
    struct ruv__topk *gate;
    struct ruv__rq_cands *cs;
    size_t seen; /* allowed rows in the lists scanned so far */
    /* RabitqPlus's planned search (adaptive probing on): multi-bit lanes
     * screened by the narrower 1-bit bound (rq_search.c, RQ_SCREEN_SCALE);
     * 0, an explicit nprobe's search, screens with the pruning bound */
    int screened;
};

/* Hints the cache lines of [p, p + bytes) in. */
static inline void ruv__rq_prefetch_bytes(const void *p, size_t bytes)
{
    for (size_t b = 0; b < bytes; b += 64)
        __builtin_prefetch((const char *)p + b);
    __builtin_prefetch((const char *)p + bytes - 1); /* when p is not line-aligned */
}

/* Carves mem (ruv__rq_scratch_bytes of it) into s. */
void ruv__rq_scratch_layout(const struct ruv_index *idx, const ruv_search_params *sp, void *mem,
                            struct ruv__rq_scratch *s);
/* Rotates q (the query as searched: normalised for cosine) into p->s.qr and
 * builds the scan tables and p->lq, p->qc. */
void ruv__rq_prepare(struct ruv__rq_pass *p, const float *q);
/* Scans list `list` into p->gate (and p->cs). RUV_E_NOMEM only. */
int ruv__rq_scan(struct ruv__rq_pass *p, uint32_t list);
/* 1 if a search with sp probes on past its nprobe (adaptive probing). */
int ruv__rq_adaptive(const struct ruv_index *idx, const ruv_search_params *sp);
/* The nprobe a search with sp starts from. */
uint32_t ruv__rq_nprobe(const struct ruv_index *idx, const ruv_search_params *sp);
/* The unprobed lists (not in probed[0..np)) that may hold a vector below
 * threshold, as a min-heap in v; returns their number. all_dist (the probe's
 * scores of every centroid) is consumed; qq: |q'|^2 from the probe. */
size_t ruv__rq_pending_init(const struct ruv_index *idx, const float *q, float qq,
                            const uint32_t *probed, uint32_t np, float *all_dist, float threshold,
                            struct ruv__rq_list_bound *v);
uint32_t ruv__rq_pending_pop(struct ruv__rq_list_bound *v, size_t *n);
/* Adaptive probing after the first np lists: pops pending lists while one
 * may still hold a vector below the gate's threshold. */
int ruv__rq_probe_on(struct ruv__rq_pass *p, const float *q, float qq, const uint32_t *probed,
                     uint32_t np);
/* rabitq_plus: exact re-rank of cs (consumed: filtered and heap-ordered)
 * into out, against the upper bounds ub. memo: NULL, or exact distances of
 * this query remembered across calls (grown here; no memory: not grown). */
void ruv__rq_rerank(const struct ruv_index *idx, const float *q, const ruv_search_params *sp,
                    const struct ruv__topk *ub, struct ruv__rq_cands *cs, struct ruv__topk *out,
                    struct ruv__rq_memo *memo);
void ruv__rq_memo_free(struct ruv__rq_memo *m);

/* ---- rq_ladder.c: the index type's cal_search hook (common.h) ---- */
int ruv__rq_cal_search(const struct ruv_index *idx, void **state, const float *queries, size_t nq,
                       const ruv_search_params *sp, uint64_t *ids, float *scores,
                       size_t *nfound);
void ruv__rq_cal_search_free(void *state);

#endif
