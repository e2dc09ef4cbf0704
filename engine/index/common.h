/* Engine-private: the index object and the common layer every index type
 * plugs into (index.c, index_persist.c). */
#ifndef RUV_ENGINE_INDEX_COMMON_H
#define RUV_ENGINE_INDEX_COMMON_H

#include <math.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <ruvector/engine.h>
#include <ruvector/index.h>
#include <ruvector/kernel.h>

#include "index/idmap.h"
#include "index/topk.h"
#include "store/persist.h"

struct ruv__writer;
struct ruv__reader;

/* The calibration's measurements: recall@10 at increasing nprobe (recall
 * made non-decreasing), for search(..., recall=), and at each point the
 * one-sided 95 % lower confidence bound of that recall (also
 * non-decreasing), which is what search(..., recall=) reads when present.
 * Empty without IVF calibration (and for files from before plans); PLAN
 * version 1 files carry no bounds (bounded 0: the means are read, as
 * before). */
#define RUV__PLAN_POINTS 32
struct ruv__plan_curve {
    uint32_t n;
    uint32_t nprobe[RUV__PLAN_POINTS];
    float recall[RUV__PLAN_POINTS];
    float lower[RUV__PLAN_POINTS];
    int bounded; /* lower[] and p.calibrated_lower were measured (built, or PLAN v2) */
};

/* ---- the index object ---- */
/* How an IVF index probes (plan.c describes it, the index type fills it). */
struct ruv__probing {
    int adaptive; /* a default search probes on past nprobe (rq_search.c) */
    int radii;    /* the lists' radii are known (built here, or an LRAD section) */
    float reach;  /* the fraction of a list's radius its lower bound counts */
    float reach_scale; /* reach = reach_scale sqrt(2 ln(n / nlist) / D), capped at 1 */
};

struct ruv__cal_lists;
struct ruv__index_vt {
    /* Allocates impl for an empty index (params validated). */
    int (*init)(struct ruv_index *idx);
    /* Optional: learns centroids etc. from the build data (already validated
     * and, for cosine, normalised). */
    int (*train)(struct ruv_index *idx, const float *data, size_t n);
    /* Encodes rows [first, first + n) whose vectors are `data`; ids and
     * originals are already stored by the common layer. On failure the
     * common layer drops the rows again. */
    int (*add)(struct ruv_index *idx, const float *data, size_t n, size_t first);
    /* Optional: whatever remove_row needs and may fail to allocate; called
     * before the first row of a remove moves. */
    int (*prepare_remove)(struct ruv_index *idx);
    /* Row `last` (the final row) moves into `row`; drop the old `row`. */
    void (*remove_row)(struct ruv_index *idx, size_t row, size_t last);
    /* Pushes candidate rows into out (distances: lower is better). allow is
     * NULL or a bitmap over rows. scratch holds scratch_bytes(idx, sp). */
    int (*search)(const struct ruv_index *idx, const float *q, const ruv_search_params *sp,
                  const uint8_t *allow, struct ruv__topk *out, void *scratch);
    size_t (*scratch_bytes)(const struct ruv_index *idx, const ruv_search_params *sp);
    /* Optional batch path (flat: GEMM tiles) used when there is no
     * allow-list; writes final results like ruv_index_search_batch. Queries
     * are checked finite; cosine queries are not yet normalised. */
    int (*search_batch)(const struct ruv_index *idx, const float *queries, size_t nq,
                        const ruv_search_params *sp, uint64_t *ids, float *scores, size_t *nfound);
    size_t (*memory)(const struct ruv_index *idx);
    /* What memory() will say once n rows are built into this index, which
     * has been through init only (an upper bound where sizes round up). */
    uint64_t (*estimate)(const struct ruv_index *idx, uint64_t n);
    int (*save)(const struct ruv_index *idx, struct ruv__writer *w);
    int (*load)(struct ruv_index *idx, const struct ruv__reader *r);
    void (*free)(struct ruv_index *idx);
    /* Optional (IVF types): how a search with no explicit nprobe chooses
     * its lists, for ruv_index_describe_probing. */
    void (*probing)(const struct ruv_index *idx, struct ruv__probing *out);
    /* Optional (IVF types): the lists of the idx->n rows for calibration's
     * truth (index/cal_truth.h): row_list (n, caller's) filled, out's
     * centroids borrowed from the index. RUV_OK, or an error: no lists. */
    int (*cal_lists)(const struct ruv_index *idx, uint32_t *row_list,
                     struct ruv__cal_lists *out);
    /* Optional (IVF types): calibration's measuring searches. Writes what
     * ruv_index_search_batch(idx, queries, nq, sp, ...) would at the index's
     * nprobe as it stands; *state (NULL before the first call) keeps work
     * per query for later calls with the same queries and k, and is the
     * caller's to end with cal_search_free (NULL: nothing). Queries are
     * checked finite by the caller; cosine queries are not yet normalised. */
    int (*cal_search)(const struct ruv_index *idx, void **state, const float *queries, size_t nq,
                      const ruv_search_params *sp, uint64_t *ids, float *scores, size_t *nfound);
    void (*cal_search_free)(void *state);
};

struct ruv_index {
    ruv_index_params p;
    const struct ruv__index_vt *vt;
    ruv_engine *eng;
    const struct ruv_kernel_ops *k;
    unsigned threads;
    size_t n, cap;
    uint64_t *ids;          /* row -> id */
    struct ruv__idmap map;  /* id -> row */
    float *vecs;            /* originals (n x dim), NULL for codes-only types */
    int keeps_vectors;
    void *impl;
    /* When loaded through mmap, arrays may point into the mapping; the first
     * add/remove copies them out (ruv__index_own). */
    void *mapping;
    size_t mapping_len;
    int mapping_is_mmap;
    /* RUV_INDEX_LOAD_MMAP only: the mapped file, checked before each use so
     * that a truncated or rewritten file is an error, not SIGBUS. */
    struct ruv__mapped_file mapped;
    char *mapped_path;
    int borrowed;           /* ids/vecs point into the mapping */
    atomic_uint refs;       /* ruv_index_retain / ruv_index_free */
    struct ruv__plan_curve curve; /* plan.c, calibrate.c */
};

extern const struct ruv__index_vt ruv__flat_vt;
extern const struct ruv__index_vt ruv__rabitq_vt;

/* Distances inside the engine: lower is better. L2: squared distance; IP and
 * cosine (on normalised vectors): -<q, x>. */
static inline float ruv__score_from_dist(const struct ruv_index *idx, float d)
{
    return idx->p.metric == RUV_METRIC_L2 ? d : -d;
}

/* The exact engine distance between q and x (dim floats each). */
static inline float ruv__exact_dist(const struct ruv_index *idx, const float *q, const float *x)
{
    return idx->p.metric == RUV_METRIC_L2 ? idx->k->l2sq_f32(q, x, idx->p.dim)
                                          : -idx->k->dot_f32(q, x, idx->p.dim);
}

/* Whether row passes a search's allow bitmap (NULL: every row does). */
static inline int ruv__row_allowed(const uint8_t *allow, size_t row)
{
    return !allow || (allow[row / 8] >> (row % 8)) & 1;
}

/* ---- calibrate.c ---- */
/* 1 if some row of a tile may enter a query's top k: its distance from the
 * GEMM identity (l2: qq + xx[i] - 2 g[i], else -g[i]; g[i] = <q, x_i> from a
 * GEMM, xx[i] = |x_i|^2, qq = |q|^2), less a margin above every rounding
 * involved, is below threshold (the current k-th exact distance). A tile it
 * rejects holds no row whose exact distance is below threshold, so the
 * calibration's truth is the same, bit for bit, as without the screen. NaN
 * passes. */
int ruv__cal_tile_may_enter(int l2, float qq, const float *g, const float *xx, size_t rows,
                            size_t dim, float threshold);

/* ---- plan.c: the defaults planned from a recall target ---- */
/* out = in with RUV_INDEX_AUTO bits/nlist resolved for n vectors and the
 * output fields cleared; RUV_E_INVAL for a bad target_recall. may_grow: an
 * empty index that adds will fill, so no exact scan (its size is unknown). */
int ruv__plan_resolve(const ruv_index_params *in, uint64_t n, int may_grow,
                      ruv_index_params *out);
/* The default nprobe a search uses (sp->nprobe 0): from sp->recall through
 * the curve, else the calibrated one; 0 = the fixed rule. */
uint32_t ruv__plan_nprobe(const struct ruv_index *idx, const ruv_search_params *sp);
/* The PLAN section (absent: no plan, the behaviour of older files). */
int ruv__plan_save(const struct ruv_index *idx, struct ruv__writer *w);
int ruv__plan_load(struct ruv_index *idx, const struct ruv__reader *rd);
/* ---- calibrate.c ---- */
/* Measures the built index on a seeded sample of its own rows (data: the
 * build rows in row order, normalised for cosine), sets p.nprobe (when 0),
 * p.calibrated_recall, p.calibrated_lower, p.calibration_queries and the
 * curve (bounded). */
int ruv__calibrate(struct ruv_index *idx, const float *data, size_t n);
/* RUV_OK, or RUV_E_IO when the file of a mapped index has changed under it
 * (store/persist.h, ruv__mapping_check). */
static inline int ruv__index_check_file(const struct ruv_index *idx)
{
    return idx->mapped.fd < 0 ? RUV_OK : ruv__mapping_check(&idx->mapped, idx->mapped_path);
}

/* RUV_E_NOMEM naming the sizes when nq x k results (12 bytes each) exceed
 * the machine's physical memory: checked before a batch fills them. */
int ruv__check_batch_output(size_t nq, uint32_t k);

/* Allocates an index object for validated params (no type state yet). */
int ruv__index_alloc(ruv_engine *eng, const ruv_index_params *p, ruv_index **out);
/* Sorts top and writes ids/scores (k slots; unused: UINT64_MAX / NaN). */
void ruv__index_emit(const struct ruv_index *idx, struct ruv__topk *top, uint64_t *ids,
                     float *scores, size_t *nfound);

/* Checks finiteness; names the first bad row and column. */
/* Largest |value| accepted in vectors and queries: (2e16)^2 * 65,536 stays
 * below FLT_MAX, so every distance and inner product is finite. */
#define RUV__MAX_ABS_VALUE 1e16f
/* RUV_E_INVAL naming the row and column of the first NaN, infinity or value
 * beyond RUV__MAX_ABS_VALUE. */
int ruv__check_finite(const float *data, size_t n, size_t dim, const char *what);
/* Smallest largest-|value| of a nonzero vector under L2 and IP: (1e-15)^2
 * stays far above FLT_MIN (1.2e-38), so scores of such vectors are normal
 * floats, never flushed to 0. */
#define RUV__MIN_ABS_VALUE 1e-15f
/* Below this float32 ||x||^2, ruv__normalize computes the norm in double. */
#define RUV__NORMALIZE_F32_MIN 1e-30f
/* ruv__check_finite, then, for L2 and IP, RUV_E_INVAL naming the first
 * nonzero row whose values all lie below RUV__MIN_ABS_VALUE. */
int ruv__check_values(const struct ruv_index *idx, const float *data, size_t n, const char *what);
/* Normalises dim floats from src to dst (may alias); zero vectors stay zero;
 * tiny ones (down to subnormals) are normalised exactly, in double. */
void ruv__normalize(const struct ruv_kernel_ops *k, const float *src, float *dst, size_t dim);
/* Aligned allocation (64 bytes); release with free(). */
void *ruv__alloc(size_t bytes);
/* Grows a 64-byte aligned array to hold cap elements of size elem, keeping n. */
int ruv__grow(void **p, size_t n, size_t cap, size_t elem);

#endif
