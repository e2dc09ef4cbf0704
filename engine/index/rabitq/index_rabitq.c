/* RabitqIndex, RabitqPlusIndex and RabitqAsymIndex: one implementation.
 *
 * Storage: a seeded orthogonal rotation; nlist_eff >= 1 centroids (k-means
 * for IVF, else the build data's mean); per list, SoA arrays of 1-bit codes,
 * their popcounts and the estimator factors (plus ex codes and factors for
 * 2..8 bits). Rows (the common layer's insertion order) map to (list, pos)
 * so a removal moves one entry inside one list.
 *
 * Search: rotate the query once; per probed list, the kernel's bit-plane
 * scan (4-bit query, RABITQ/PLUS) or an exact byte-LUT sum (f32 query, ASYM)
 * gives <b, q>, then the unbiased estimate and its bounds.
 *  - RABITQ/ASYM push the estimate (refined with ex bits for lanes whose
 *    lower bound beats the current k-th estimate).
 *  - PLUS keeps every candidate whose lower bound is below the k-th smallest
 *    upper bound seen, then re-ranks exactly in order of lower bound and
 *    stops once the next lower bound exceeds the k-th exact distance: the
 *    error bound decides how many to re-rank; rerank_factor only caps it. */
#include "config.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/error.h>
#include <ruvector/index.h>

#include "base/error.h"
#include "base/log.h"
#include "exec/cancel.h"
#include "exec/pool.h"
#include "exec/progress.h"
#include "index/cal_truth.h"
#include "index/common.h"
#include "index/ivf/kmeans.h"
#include "index/rabitq/rabitq.h"
#include "index/rabitq/rotation.h"
#include "index/rabitq/rq.h"
#include "index/rabitq/rq_pass.h"

static int rq_init(struct ruv_index *idx)
{
    struct rq *r = calloc(1, sizeof *r);
    if (!r)
        return ruv__set_error(RUV_E_NOMEM, "out of memory");
    idx->impl = r;
    int rc = ruv__rotation_init(&r->rot, idx->p.dim, idx->p.seed);
    if (rc)
        return rc;
    r->dim_pad = r->rot.dim_pad;
    r->words = (uint32_t)ruv__rabitq_words(r->dim_pad);
    r->nsub = (uint32_t)ruv__rabitq_nsub(r->dim_pad);
    r->block_bytes = (size_t)r->nsub * 16;
    r->metric = idx->p.metric == RUV_METRIC_L2 ? RUV__RABITQ_L2 : RUV__RABITQ_IP;
    r->nlist = idx->p.nlist ? idx->p.nlist : 1;
    r->centroids = calloc((size_t)r->nlist * idx->p.dim, sizeof(float));
    r->centroids_rot = calloc((size_t)r->nlist * r->dim_pad, sizeof(float));
    r->cnorm = calloc(r->nlist, sizeof(float));
    r->lists = calloc(r->nlist, sizeof *r->lists);
    if (!r->centroids || !r->centroids_rot || !r->cnorm || !r->lists)
        return ruv__set_error(RUV_E_NOMEM, "out of memory for %u lists", r->nlist);
    r->radii = 1; /* every put keeps them; a load without LRAD clears this */
    /* No training data yet: the origin is the centroid until train runs. */
    return RUV_OK;
}

static void list_free(struct rq_list *l)
{
    free(l->rows);
    free(l->fs);
    free(l->f_add);
    free(l->f_rescale);
    free(l->f_error);
    free(l->ucode);
    free(l->x_add);
    free(l->x_rescale);
    free(l->x_error);
}

static void rq_free(struct ruv_index *idx)
{
    struct rq *r = idx->impl;
    for (uint32_t i = 0; r->lists && i < r->nlist; i++)
        list_free(&r->lists[i]);
    free(r->lists);
    free(r->centroids);
    free(r->centroids_rot);
    free(r->cnorm);
    free(r->origin);
    ruv__probe_free(&r->probe);
    free(r->row_list);
    free(r->row_pos);
    ruv__rotation_free(&r->rot);
    free(r);
    idx->impl = NULL;
}

/* x - origin into tmp (dim floats), or x itself without an origin. */
const float *ruv__rq_in_frame(const struct rq *r, const float *x, size_t dim, float *tmp)
{
    if (!r->origin)
        return x;
    for (size_t i = 0; i < dim; i++)
        tmp[i] = x[i] - r->origin[i];
    return tmp;
}

/* What search reads besides the centroids: their rotations in the codes'
 * frame (residuals are encoded in the rotated space) and, with IVF, the
 * probe table. */
int ruv__rq_derive_centroid_tables(const struct ruv_index *idx, struct rq *r)
{
    const size_t dim = idx->p.dim;
    float *tmp = malloc((dim ? dim : 1) * sizeof *tmp);
    if (!tmp)
        return ruv__set_error(RUV_E_NOMEM, "out of memory");
    for (uint32_t c = 0; c < r->nlist; c++) {
        const float *cv = r->centroids + (size_t)c * dim;
        ruv__rotation_apply(&r->rot, idx->k, ruv__rq_in_frame(r, cv, dim, tmp),
                            r->centroids_rot + (size_t)c * r->dim_pad);
        r->cnorm[c] = idx->k->dot_f32(cv, cv, dim);
    }
    free(tmp);
    ruv__probe_free(&r->probe);
    return r->nlist > 1 ? ruv__probe_init(&r->probe, r->centroids, r->nlist, idx->p.dim) : RUV_OK;
}

static int rq_train(struct ruv_index *idx, const float *data, size_t n)
{
    struct rq *r = idx->impl;
    const size_t dim = idx->p.dim;
    if (idx->p.nlist > 0) {
        ruv__progress(idx->eng, "k-means", 0, 1);
        int rc = ruv__kmeans(idx->k, data, n, dim, r->nlist, idx->p.train_size,
                             idx->p.kmeans_iters ? idx->p.kmeans_iters : 10, idx->p.seed,
                             idx->threads, r->centroids);
        if (rc)
            return rc;
        ruv__progress(idx->eng, "k-means", 1, 1);
    } else {
        int rc = ruv__column_mean(data, n, dim, r->centroids);
        if (rc)
            return rc;
    }
    if (r->metric == RUV__RABITQ_L2) {
        free(r->origin);
        r->origin = malloc((dim ? dim : 1) * sizeof *r->origin);
        if (!r->origin)
            return ruv__set_error(RUV_E_NOMEM, "out of memory");
        int rc = ruv__column_mean(r->centroids, r->nlist, dim, r->origin);
        if (rc)
            return rc;
    }
    return ruv__rq_derive_centroid_tables(idx, r);
}

/* ---- encoding (parallel) then appending (serial) ---- */

struct encode_ctx {
    const struct ruv_index *idx;
    const float *data;
    const uint32_t *assign; /* list per row (NULL: one list) */
    struct encoded *enc;
    uint64_t *codes; /* n x words */
    uint8_t *ex;     /* n x dim_pad or NULL */
    float *scratch;  /* per worker: dim_pad + ex scratch */
    size_t scratch_floats;
    size_t n;
    float t_const; /* > 0: every row's extended code at this scale (planned bits) */
    atomic_size_t done;
    int failed;
};

/* |x - c| for the list radius (LRAD). In double with a plain loop, not the
 * kernel table's l2sq: kernels round differently, and the radius is written
 * to the file, which must be the same bytes whichever kernel built it. */
static float dist_exact(const float *x, const float *c, uint32_t dim)
{
    double s = 0.0;
    for (uint32_t j = 0; j < dim; j++) {
        double d = (double)x[j] - (double)c[j];
        s += d * d;
    }
    return (float)sqrt(s);
}

static void encode_range(void *vctx, size_t b, size_t e, unsigned worker)
{
    struct encode_ctx *c = vctx;
    const struct ruv_index *idx = c->idx;
    const struct rq *r = idx->impl;
    float *xr = c->scratch + worker * c->scratch_floats;
    float *xf = xr + r->dim_pad; /* x in the codes' frame */
    void *exs = xf + r->dim_pad;
    for (size_t i = b; i < e; i++) {
        const float *x = c->data + i * idx->p.dim;
        uint32_t list = c->assign ? c->assign[i] : 0;
        ruv__rotation_apply(&r->rot, idx->k, ruv__rq_in_frame(r, x, idx->p.dim, xf), xr);
        const float *cr = r->centroids_rot + (size_t)list * r->dim_pad;
        uint64_t *code = c->codes + i * r->words;
        struct encoded *en = &c->enc[i];
        en->list = list;
        en->dist = dist_exact(x, r->centroids + (size_t)list * idx->p.dim, idx->p.dim);
        if (idx->p.bits > 1) {
            if (ruv__rabitq_encode_ex(xr, cr, r->dim_pad, idx->p.bits, r->metric, idx->p.epsilon,
                                      c->t_const, exs, code, c->ex + i * ruv__rq_ex_bytes(r), &en->f,
                                      &en->fx) != RUV_OK)
                c->failed = 1;
        } else {
            ruv__rabitq_encode(xr, cr, r->dim_pad, r->metric, idx->p.epsilon, code, &en->f);
        }
    }
    size_t done = atomic_fetch_add(&c->done, e - b) + (e - b);
    if (worker == 0) /* progress only from the caller's thread */
        ruv__progress(idx->eng, "encoding", done, c->n);
}

int ruv__rq_list_reserve(const struct ruv_index *idx, const struct rq *r, struct rq_list *l,
                        size_t more)
{
    if (l->n + more <= l->cap)
        return RUV_OK;
    size_t cap = l->cap ? l->cap : l->n + more; /* first sizing (build) is exact */
    while (cap < l->n + more)
        cap *= 2;
    cap = (cap + 31) / 32 * 32; /* whole FastScan blocks */
    int rc = ruv__grow((void **)&l->rows, l->n, cap, sizeof *l->rows);
    if (!rc) rc = ruv__grow((void **)&l->fs, (l->n + 31) / 32, cap / 32, r->block_bytes);
    /* New blocks start zeroed: the lanes past n are scanned with the rest
     * of their block, and a lane's 4-bit codes share bytes with its
     * neighbours', so garbage there would make real lanes' sums depend on
     * uninitialised memory (valgrind) even though they are discarded. */
    if (!rc)
        memset(l->fs + (l->n + 31) / 32 * r->block_bytes, 0,
               (cap / 32 - (l->n + 31) / 32) * r->block_bytes);
    if (!rc) rc = ruv__grow((void **)&l->f_add, l->n, cap, sizeof(float));
    if (!rc) rc = ruv__grow((void **)&l->f_rescale, l->n, cap, sizeof(float));
    if (!rc) rc = ruv__grow((void **)&l->f_error, l->n, cap, sizeof(float));
    if (!rc && idx->p.bits > 1) {
        rc = ruv__grow((void **)&l->ucode, l->n, cap, ruv__rq_ucode_bytes(r, &idx->p));
        if (!rc) rc = ruv__grow((void **)&l->x_add, l->n, cap, sizeof(float));
        if (!rc) rc = ruv__grow((void **)&l->x_rescale, l->n, cap, sizeof(float));
        if (!rc) rc = ruv__grow((void **)&l->x_error, l->n, cap, sizeof(float));
    }
    if (!rc)
        l->cap = cap;
    return rc;
}

static int rows_reserve(struct rq *r, size_t rows)
{
    if (!r->row_list || rows <= r->row_cap)
        return RUV_OK;
    size_t cap = r->row_cap ? r->row_cap : rows;
    while (cap < rows)
        cap = cap + cap / 2 + 1;
    int rc = ruv__grow((void **)&r->row_list, r->row_cap, cap, sizeof(uint32_t));
    if (!rc)
        rc = ruv__grow((void **)&r->row_pos, r->row_cap, cap, sizeof(uint32_t));
    if (!rc)
        r->row_cap = cap;
    return rc;
}

/* One lane of a list's FastScan blocks <-> a plain 1-bit code (ruv__rabitq_
 * encode's layout: bit i of word i / 64 is dimension i). Lane j sits in block
 * j / 32; its sub-code m is the low (j % 32 < 16) or high nibble of byte
 * m * 16 + j % 16. The scan reads blocks; these serve add, remove, save and
 * the float-query paths, which touch one code at a time. */
static void lane_put(const struct rq *r, struct rq_list *l, size_t j, const uint64_t *code)
{
    uint8_t *b = l->fs + (j / 32) * r->block_bytes + (j % 16);
    const unsigned shift = (j % 32) < 16 ? 0u : 4u;
    const uint8_t keep = (uint8_t)(0xf0u >> shift);
    for (size_t m = 0; m < r->nsub; m++) {
        unsigned nib = (unsigned)(code[m / 16] >> (4 * (m % 16))) & 0xfu;
        b[m * 16] = (uint8_t)((b[m * 16] & keep) | (nib << shift));
    }
}

void ruv__rq_lane_get(const struct rq *r, const struct rq_list *l, size_t j, uint64_t *code)
{
    const uint8_t *b = l->fs + (j / 32) * r->block_bytes + (j % 16);
    const unsigned shift = (j % 32) < 16 ? 0u : 4u;
    memset(code, 0, r->words * sizeof(uint64_t));
    for (size_t m = 0; m < r->nsub; m++)
        code[m / 16] |= (uint64_t)((b[m * 16] >> shift) & 0xfu) << (4 * (m % 16));
}

/* u[i] = sign bit i << (bits - 1) | ex[i], eight dimensions at a time: each
 * code byte spreads to eight bytes of 0/1 (bit i of the byte -> byte i). */
static void whole_code(uint8_t *u, const uint64_t *code, const uint8_t *ex, size_t dim_pad,
                       unsigned bits)
{
    for (size_t i = 0; i < dim_pad; i += 8) {
        uint64_t byte = code[i / 64] >> (i % 64) & 0xffu;
        /* the multiply spreads 7 bits without carries; bit 7 goes by hand */
        uint64_t spread = ((byte & 0x7fu) * UINT64_C(0x0002040810204081) &
                           UINT64_C(0x0101010101010101)) |
                          (byte >> 7) << 56;
        uint64_t e;
        memcpy(&e, ex + i, 8);
        e |= spread << (bits - 1);
        memcpy(u + i, &e, 8);
    }
}

void ruv__rq_list_put(const struct ruv_index *idx, struct rq *r, struct rq_list *l, uint32_t row,
                     const uint64_t *code, const uint8_t *ex, const struct encoded *en)
{
    size_t p = l->n++;
    l->rows[p] = row;
    lane_put(r, l, p, code);
    l->f_add[p] = en->f.f_add;
    l->f_rescale[p] = en->f.f_rescale;
    l->f_error[p] = en->f.f_error;
    if (idx->p.bits > 1) {
        uint8_t *u = l->ucode + p * ruv__rq_ucode_bytes(r, &idx->p);
        if (ruv__rq_packed(&idx->p)) {
            uint8_t block[64];
            for (size_t d = 0; d < r->dim_pad; d += 64) {
                whole_code(block, code + d / 64, ex + d, 64, idx->p.bits);
                ruv__rq_pack_u4(block, 64, u + d / 2);
            }
        } else {
            whole_code(u, code, ex, r->dim_pad, idx->p.bits);
        }
        l->x_add[p] = en->fx.f_add;
        l->x_rescale[p] = en->fx.f_rescale;
        l->x_error[p] = en->fx.f_error;
    }
    if (r->row_list) {
        r->row_list[row] = (uint32_t)(l - r->lists);
        r->row_pos[row] = (uint32_t)p;
    }
    if (l->n > r->max_list)
        r->max_list = l->n;
    if (en->dist > l->radius)
        l->radius = en->dist;
}

/* k-means splits empty clusters while it can; lists left empty after a
 * build mean fewer distinct vectors (or tight clusters) than nlist. Search
 * stays complete (it probes past empty lists), but the user should hear
 * that nlist is too large for this data: at verbose level 1. */
static void note_empty_lists(const struct ruv_index *idx, const struct rq *r)
{
    const char *v = NULL;
    if (r->nlist < 2 || ruv_engine_setting(idx->eng, "verbose", &v, NULL) || !v || atoi(v) < 1)
        return;
    uint32_t empty = 0;
    for (uint32_t l = 0; l < r->nlist; l++)
        empty += r->lists[l].n == 0;
    if (empty)
        ruv__log(atoi(v), 1,
                 "IVF: %u of %u lists are empty after k-means: the data has fewer distinct "
                 "vectors (or tight clusters) than nlist; searches probe past empty lists, a "
                 "smaller nlist would serve the same data faster",
                 empty, r->nlist);
}

static int rq_add(struct ruv_index *idx, const float *data, size_t n, size_t first)
{
    struct rq *r = idx->impl;
    unsigned threads = idx->threads ? idx->threads : 1;
    size_t exs = (ruv__rabitq_ex_scratch_bytes(r->dim_pad) + sizeof(float) - 1) / sizeof(float);
    struct encode_ctx c = {.idx = idx, .data = data, .scratch_floats = 2 * r->dim_pad + exs + 16,
                           .n = n};
    atomic_init(&c.done, 0);
    c.enc = malloc(n * sizeof *c.enc);
    c.codes = ruv__alloc(n * r->words * sizeof(uint64_t));
    c.ex = idx->p.bits > 1 ? ruv__alloc(n * ruv__rq_ex_bytes(r)) : NULL;
    c.scratch = ruv__alloc(threads * c.scratch_floats * sizeof(float));
    uint32_t *assign = r->nlist > 1 ? malloc(n * sizeof *assign) : NULL;
    int rc = (!c.enc || !c.codes || !c.scratch || (idx->p.bits > 1 && !c.ex) ||
              (r->nlist > 1 && !assign))
                 ? ruv__set_error(RUV_E_NOMEM, "out of memory encoding %zu vectors", n)
                 : rows_reserve(r, first + n);
    /* nearest list for every row at once: GEMM tiles, not n separate scans */
    if (!rc && assign)
        rc = ruv__kmeans_assign(idx->k, data, n, idx->p.dim, r->centroids, r->nlist, threads,
                                assign, NULL);
    c.assign = assign;
    /* rabitq_plus with planned bits: one scale for every row's extended
     * code (the "faster" quantizer of extended RaBitQ) instead of each
     * row's best (best_t, a third of a planned 4-bit build's CPU on the
     * 100k demo set). The
     * factors still come from each row's own code, so the error bounds
     * hold; the codes are a little coarser, which calibration and the
     * exact re-rank absorb (docs/indexes.md, "Build time of the plan").
     * The PLAN section keeps the flag, so rows added after a load are
     * encoded the same way; explicit bits, and the codes-only types (which
     * answer from the codes alone), keep the per-row search. */
    if (!rc && idx->p.type == RUV_INDEX_RABITQ_PLUS && idx->p.bits > 1 &&
        (idx->p.planned & RUV_PLANNED_BITS))
        c.t_const = ruv__rabitq_ex_const_t(r->dim_pad, idx->p.bits,
                                           c.scratch + 2 * r->dim_pad);
    if (!rc && ruv__parallel_for(threads, n, 256, encode_range, &c))
        rc = ruv__cancel_check("encoding");
    if (!rc) {
        ruv__progress(idx->eng, "encoding", n, n);
        rc = ruv__cancel_check("encoding"); /* the host may cancel from its callback */
        if (!rc && c.failed)
            rc = ruv__set_error(RUV_E_INVAL, "extended RaBitQ encoding failed");
    }
    /* Reserve every list first so appending cannot fail half-way. */
    size_t *per = rc ? NULL : calloc(r->nlist, sizeof *per);
    if (!rc && !per)
        rc = ruv__set_error(RUV_E_NOMEM, "out of memory");
    for (size_t i = 0; !rc && i < n; i++)
        per[c.enc[i].list]++;
    for (uint32_t l = 0; !rc && l < r->nlist; l++)
        rc = ruv__rq_list_reserve(idx, r, &r->lists[l], per[l]);
    for (size_t i = 0; !rc && i < n; i++)
        ruv__rq_list_put(idx, r, &r->lists[c.enc[i].list], (uint32_t)(first + i),
                 c.codes + i * r->words, c.ex ? c.ex + i * ruv__rq_ex_bytes(r) : NULL, &c.enc[i]);
    free(per);
    free(assign);
    free(c.enc);
    free(c.codes);
    free(c.ex);
    free(c.scratch);
    if (!rc && first == 0)
        note_empty_lists(idx, r);
    return rc;
}

static void list_move(const struct rq *r, struct rq_list *l, size_t to, size_t from, int ex,
                      size_t ucode_bytes)
{
    l->rows[to] = l->rows[from];
    uint64_t code[MAX_WORDS];
    ruv__rq_lane_get(r, l, from, code);
    lane_put(r, l, to, code);
    l->f_add[to] = l->f_add[from];
    l->f_rescale[to] = l->f_rescale[from];
    l->f_error[to] = l->f_error[from];
    if (ex) {
        memcpy(l->ucode + to * ucode_bytes, l->ucode + from * ucode_bytes, ucode_bytes);
        l->x_add[to] = l->x_add[from];
        l->x_rescale[to] = l->x_rescale[from];
        l->x_error[to] = l->x_error[from];
    }
}

static int rq_prepare_remove(struct ruv_index *idx)
{
    struct rq *r = idx->impl;
    if (r->row_list)
        return RUV_OK;
    size_t cap = idx->n ? idx->n : 1;
    r->row_list = malloc(cap * sizeof *r->row_list);
    r->row_pos = malloc(cap * sizeof *r->row_pos);
    if (!r->row_list || !r->row_pos) {
        free(r->row_list);
        free(r->row_pos);
        r->row_list = r->row_pos = NULL;
        return ruv__set_error(RUV_E_NOMEM, "out of memory for the row index of %zu vectors",
                              idx->n);
    }
    r->row_cap = cap;
    for (uint32_t i = 0; i < r->nlist; i++)
        for (size_t p = 0; p < r->lists[i].n; p++) {
            r->row_list[r->lists[i].rows[p]] = i;
            r->row_pos[r->lists[i].rows[p]] = (uint32_t)p;
        }
    return RUV_OK;
}

static void rq_remove_row(struct ruv_index *idx, size_t row, size_t last)
{
    struct rq *r = idx->impl;
    int ex = idx->p.bits > 1;
    /* drop `row` from its list: the list's last entry fills the hole */
    struct rq_list *l = &r->lists[r->row_list[row]];
    size_t pos = r->row_pos[row], end = l->n - 1;
    if (pos != end) {
        list_move(r, l, pos, end, ex, ruv__rq_ucode_bytes(r, &idx->p));
        r->row_pos[l->rows[pos]] = (uint32_t)pos;
    }
    l->n--;
    /* the global last row becomes `row` */
    if (row != last) {
        struct rq_list *ll = &r->lists[r->row_list[last]];
        size_t lp = r->row_pos[last];
        ll->rows[lp] = (uint32_t)row;
        r->row_list[row] = r->row_list[last];
        r->row_pos[row] = (uint32_t)lp;
    }
}

/* The IVF's lists for the calibration's truth (cal_truth.h). */
static int rq_cal_lists(const struct ruv_index *idx, uint32_t *row_list, struct ruv__cal_lists *out)
{
    const struct rq *r = idx->impl;
    if (!r || r->nlist < 2 || !r->centroids || !r->lists)
        return ruv__set_error(RUV_E_INVAL, "no IVF lists");
    size_t seen = 0;
    for (uint32_t l = 0; l < r->nlist; l++)
        for (size_t j = 0; j < r->lists[l].n; j++) {
            const uint32_t row = r->lists[l].rows[j];
            if (row >= idx->n)
                return ruv__set_error(RUV_E_INVAL, "IVF list row %u out of range", row);
            row_list[row] = l;
            seen++;
        }
    if (seen != idx->n)
        return ruv__set_error(RUV_E_INVAL, "IVF lists hold %zu of %zu rows", seen, idx->n);
    out->nlist = r->nlist;
    out->centroids = r->centroids;
    out->row_list = row_list;
    return RUV_OK;
}

const struct ruv__index_vt ruv__rabitq_vt = {
    .init = rq_init,
    .train = rq_train,
    .add = rq_add,
    .remove_row = rq_remove_row,
    .search = ruv__rq_search,
    .scratch_bytes = ruv__rq_scratch_bytes,
    .search_batch = NULL,
    .prepare_remove = rq_prepare_remove,
    .memory = ruv__rq_memory,
    .estimate = ruv__rq_estimate,
    .save = ruv__rq_save,
    .load = ruv__rq_load,
    .free = rq_free,
    .probing = ruv__rq_probing,
    .cal_lists = rq_cal_lists,
    .cal_search = ruv__rq_cal_search,
    .cal_search_free = ruv__rq_cal_search_free,
};
