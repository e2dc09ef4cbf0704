/* Engine-private to index/rabitq: the RaBitQ index's state (struct rq) and
 * the functions its files share. index_rabitq.c: life cycle, training,
 * adding and removing; rq_search.c: search (rq_rerank.c its exact re-rank;
 * rq_ladder.c the calibration's searches, rq_pass.h); rq_persist.c: save and load. */
#ifndef RUV_ENGINE_INDEX_RABITQ_RQ_H
#define RUV_ENGINE_INDEX_RABITQ_RQ_H

#include <stddef.h>
#include <stdint.h>

#include <ruvector/index.h>

#include "index/ivf/kmeans.h"
#include "index/rabitq/rabitq.h"
#include "index/rabitq/rotation.h"
#include "index/topk.h"

struct rq_list {
    size_t n, cap;
    uint32_t *rows;
    uint8_t *fs;     /* 1-bit codes in FastScan blocks of 32 (kernel.h layout),
                      * cap / 32 blocks of block_bytes; lanes past n are junk */
    float *f_add, *f_rescale, *f_error;
    uint8_t *ucode;  /* n x ruv__rq_ucode_bytes, bits > 1: the whole B-bit code
                      * (sign bit on top of the ex bits), one byte per dimension,
                      * or for bits <= 4 two per byte in dot_u4_i16's layout, so
                      * that <u, q> is a single kernel call; files store ex only */
    float *x_add, *x_rescale, *x_error;
    /* max |x - centroid| over every vector ever put here (original space;
     * removals leave it an upper bound): what adaptive probing bounds an
     * unprobed list's distances with (rq_search.c) */
    float radius;
};

struct rq {
    struct ruv__rotation rot;
    uint32_t dim_pad, words, nlist;
    uint32_t nsub;        /* 4-bit sub-codes per code: dim_pad / 4 */
    size_t block_bytes;   /* one FastScan block: nsub * 16 */
    enum ruv__rabitq_metric metric;
    float *centroids;     /* nlist x dim (original space) */
    /* L2: the codes' frame origin, dim floats (original space): vectors,
     * centroids and queries are encoded as x - origin, so that data far from
     * 0 keeps its precision (the query tables quantise <q, .> over the
     * query's range, which a common offset would dominate; the factors hold
     * <r, c> terms that would cancel). The mean of the centroids; NULL (0)
     * for inner product and cosine, whose estimator is not shift-invariant,
     * and in version 1 files. */
    float *origin;
    float *centroids_rot; /* nlist x dim_pad */
    float *cnorm;         /* nlist: |c|^2 (inner product: a list's bound, rq_search.c) */
    struct ruv__probe probe; /* binary16 copy for the IVF probe (nlist > 1) */
    struct rq_list *lists;
    /* row -> (list, pos), built on the first remove and kept from then on:
     * an index that is only built and searched does not pay 8 B a vector */
    uint32_t *row_list, *row_pos;
    size_t row_cap;
    size_t max_list;
    /* lists[].radius holds: built or added by this version, or read from
     * an LRAD section; files without one (older) probe as they did */
    int radii;
};

/* Bytes of one row's ex code (as files store it). */
static inline size_t ruv__rq_ex_bytes(const struct rq *r) { return r->dim_pad; }

/* Whole codes of at most 4 bits are kept two to a byte: the look at them
 * waits on memory, so half the bytes is most of its time (rq_search.c).
 * Not for RabitqAsym, whose look takes the float query (dot_u8_f32). */
static inline int ruv__rq_packed(const ruv_index_params *p)
{
    return p->bits <= 4 && p->type != RUV_INDEX_RABITQ_ASYM;
}

/* Bytes of one row's whole code in memory. */
static inline size_t ruv__rq_ucode_bytes(const struct rq *r, const ruv_index_params *p)
{
    return ruv__rq_packed(p) ? r->dim_pad / 2 : r->dim_pad;
}

/* The whole code u (dim_pad bytes, one per dimension) packed as
 * dot_u4_i16 reads it: per 32 dimensions 16 bytes, byte j = u[j] | u[j + 16] << 4. */
static inline void ruv__rq_pack_u4(const uint8_t *u, size_t dim_pad, uint8_t *out)
{
    for (size_t b = 0; b < dim_pad / 32; b++, u += 32, out += 16)
        for (size_t j = 0; j < 16; j++)
            out[j] = (uint8_t)(u[j] | u[j + 16] << 4);
}

/* Words of the largest code (dimension 65,536): a one-code stack buffer. */
enum { MAX_WORDS = 65536 / 64 };

/* One encoded row: its list and estimator factors (1-bit and ex). */
struct encoded {
    uint32_t list;
    struct ruv__rabitq_factors f, fx;
    float dist; /* |x - centroid| */
};

/* ---- index_rabitq.c ---- */
/* x - origin into tmp (dim floats), or x itself without an origin. */
const float *ruv__rq_in_frame(const struct rq *r, const float *x, size_t dim, float *tmp);
/* Rotated centroids in the codes' frame and, with IVF, the probe table. */
int ruv__rq_derive_centroid_tables(const struct ruv_index *idx, struct rq *r);
int ruv__rq_list_reserve(const struct ruv_index *idx, const struct rq *r, struct rq_list *l,
                         size_t want);
void ruv__rq_lane_get(const struct rq *r, const struct rq_list *l, size_t j, uint64_t *code);
void ruv__rq_list_put(const struct ruv_index *idx, struct rq *r, struct rq_list *l, uint32_t row,
                      const uint64_t *code, const uint8_t *ex, const struct encoded *en);

/* ---- rq_search.c ---- */
struct ruv__probing;
size_t ruv__rq_scratch_bytes(const struct ruv_index *idx, const ruv_search_params *sp);
int ruv__rq_search(const struct ruv_index *idx, const float *q, const ruv_search_params *sp,
                   const uint8_t *allow, struct ruv__topk *out, void *scratch);
size_t ruv__rq_memory(const struct ruv_index *idx);
void ruv__rq_probing(const struct ruv_index *idx, struct ruv__probing *out);
uint64_t ruv__rq_estimate(const struct ruv_index *idx, uint64_t n);

/* ---- rq_persist.c ---- */
struct ruv__writer;
struct ruv__reader;
int ruv__rq_save(const struct ruv_index *idx, struct ruv__writer *w);
int ruv__rq_load(struct ruv_index *idx, const struct ruv__reader *rd);

#endif
