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

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/error.h>
#include <ruvector/index.h>
#include <ruvector/kernel.h>

#include "base/error.h"
#include "exec/parallel.h"
#include "exec/progress.h"
#include "index/common.h"
#include "index/ivf/kmeans.h"
#include "index/rabitq/rabitq.h"
#include "index/rabitq/rotation.h"
#include "index/topk.h"
#include "store/persist.h"

struct rq_list {
    size_t n, cap;
    uint32_t *rows;
    uint8_t *fs;     /* 1-bit codes in FastScan blocks of 32 (kernel.h layout),
                      * cap / 32 blocks of block_bytes; lanes past n are junk */
    float *f_add, *f_rescale, *f_error;
    uint8_t *ucode;  /* n x dim_pad, bits > 1: the whole B-bit code, one byte per
                      * dimension (sign bit on top of the ex bits), so that
                      * <u, q> is a single dot_u8_f32 call; files store ex only */
    float *x_add, *x_rescale, *x_error;
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
    struct ruv__probe probe; /* binary16 copy for the IVF probe (nlist > 1) */
    struct rq_list *lists;
    /* row -> (list, pos), built on the first remove and kept from then on:
     * an index that is only built and searched does not pay 8 B a vector */
    uint32_t *row_list, *row_pos;
    size_t row_cap;
    size_t max_list;
};

static size_t ex_bytes(const struct rq *r) { return r->dim_pad; }

/* Words of the largest code (dimension 65,536): a one-code stack buffer. */
enum { MAX_WORDS = 65536 / 64 };

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
    r->lists = calloc(r->nlist, sizeof *r->lists);
    if (!r->centroids || !r->centroids_rot || !r->lists)
        return ruv__set_error(RUV_E_NOMEM, "out of memory for %u lists", r->nlist);
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
    free(r->origin);
    ruv__probe_free(&r->probe);
    free(r->row_list);
    free(r->row_pos);
    ruv__rotation_free(&r->rot);
    free(r);
    idx->impl = NULL;
}

/* x - origin into tmp (dim floats), or x itself without an origin. */
static const float *in_frame(const struct rq *r, const float *x, size_t dim, float *tmp)
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
static int derive_centroid_tables(const struct ruv_index *idx, struct rq *r)
{
    const size_t dim = idx->p.dim;
    float *tmp = malloc((dim ? dim : 1) * sizeof *tmp);
    if (!tmp)
        return ruv__set_error(RUV_E_NOMEM, "out of memory");
    for (uint32_t c = 0; c < r->nlist; c++)
        ruv__rotation_apply(&r->rot, idx->k, in_frame(r, r->centroids + (size_t)c * dim, dim, tmp),
                            r->centroids_rot + (size_t)c * r->dim_pad);
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
    return derive_centroid_tables(idx, r);
}

/* ---- encoding (parallel) then appending (serial) ---- */

struct encoded {
    uint32_t list;
    struct ruv__rabitq_factors f, fx;
};

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
    atomic_size_t done;
    int failed;
};

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
        ruv__rotation_apply(&r->rot, idx->k, in_frame(r, x, idx->p.dim, xf), xr);
        const float *cr = r->centroids_rot + (size_t)list * r->dim_pad;
        uint64_t *code = c->codes + i * r->words;
        struct encoded *en = &c->enc[i];
        en->list = list;
        if (idx->p.bits > 1) {
            if (ruv__rabitq_encode_ex(xr, cr, r->dim_pad, idx->p.bits, r->metric, idx->p.epsilon,
                                      0.0f, exs, code, c->ex + i * ex_bytes(r), &en->f,
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

static int list_reserve(const struct ruv_index *idx, const struct rq *r, struct rq_list *l,
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
    if (!rc) rc = ruv__grow((void **)&l->f_add, l->n, cap, sizeof(float));
    if (!rc) rc = ruv__grow((void **)&l->f_rescale, l->n, cap, sizeof(float));
    if (!rc) rc = ruv__grow((void **)&l->f_error, l->n, cap, sizeof(float));
    if (!rc && idx->p.bits > 1) {
        rc = ruv__grow((void **)&l->ucode, l->n, cap, ex_bytes(r));
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

static void lane_get(const struct rq *r, const struct rq_list *l, size_t j, uint64_t *code)
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

static void list_put(const struct ruv_index *idx, struct rq *r, struct rq_list *l, uint32_t row,
                     const uint64_t *code, const uint8_t *ex, const struct encoded *en)
{
    size_t p = l->n++;
    l->rows[p] = row;
    lane_put(r, l, p, code);
    l->f_add[p] = en->f.f_add;
    l->f_rescale[p] = en->f.f_rescale;
    l->f_error[p] = en->f.f_error;
    if (idx->p.bits > 1) {
        whole_code(l->ucode + p * ex_bytes(r), code, ex, r->dim_pad, idx->p.bits);
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
    c.ex = idx->p.bits > 1 ? ruv__alloc(n * ex_bytes(r)) : NULL;
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
    if (!rc) {
        ruv__parallel_for(threads, n, 256, encode_range, &c);
        ruv__progress(idx->eng, "encoding", n, n);
        if (c.failed)
            rc = ruv__set_error(RUV_E_INVAL, "extended RaBitQ encoding failed");
    }
    /* Reserve every list first so appending cannot fail half-way. */
    size_t *per = rc ? NULL : calloc(r->nlist, sizeof *per);
    if (!rc && !per)
        rc = ruv__set_error(RUV_E_NOMEM, "out of memory");
    for (size_t i = 0; !rc && i < n; i++)
        per[c.enc[i].list]++;
    for (uint32_t l = 0; !rc && l < r->nlist; l++)
        rc = list_reserve(idx, r, &r->lists[l], per[l]);
    for (size_t i = 0; !rc && i < n; i++)
        list_put(idx, r, &r->lists[c.enc[i].list], (uint32_t)(first + i),
                 c.codes + i * r->words, c.ex ? c.ex + i * ex_bytes(r) : NULL, &c.enc[i]);
    free(per);
    free(assign);
    free(c.enc);
    free(c.codes);
    free(c.ex);
    free(c.scratch);
    return rc;
}

static void list_move(const struct rq *r, struct rq_list *l, size_t to, size_t from, int ex)
{
    l->rows[to] = l->rows[from];
    uint64_t code[MAX_WORDS];
    lane_get(r, l, from, code);
    lane_put(r, l, to, code);
    l->f_add[to] = l->f_add[from];
    l->f_rescale[to] = l->f_rescale[from];
    l->f_error[to] = l->f_error[from];
    if (ex) {
        memcpy(l->ucode + to * ex_bytes(r), l->ucode + from * ex_bytes(r), ex_bytes(r));
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
        list_move(r, l, pos, end, ex);
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

/* ---- search ---- */

struct cand {
    float lb, est;
    uint32_t row;
};

struct rq_scratch {
    float *qr;          /* rotated query, dim_pad */
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
};

/* Only RabitqAsym reads the float byte LUT (32 floats per dimension): the
 * others need not allocate it on every search. */
static size_t blut_bytes(const struct ruv_index *idx)
{
    const struct rq *r = idx->impl;
    return idx->p.type == RUV_INDEX_RABITQ_ASYM
               ? ruv__rabitq_byte_lut_len(r->dim_pad) * sizeof(float)
               : 0;
}

static size_t rq_scratch_bytes(const struct ruv_index *idx, const ruv_search_params *sp)
{
    const struct rq *r = idx->impl;
    size_t m = (r->max_list + 32) / 32 * 32;
    return 64 * 14 + (r->dim_pad + idx->p.dim) * sizeof(float) + r->block_bytes +
           m * sizeof(uint16_t) +
           m * 4 * sizeof(float) +
           blut_bytes(idx) +
           (size_t)r->nlist * 2 * sizeof(float) + (size_t)sp->k * 2 * sizeof(float);
}

static void *carve(char **p, size_t bytes)
{
    void *out = *p;
    *p += (bytes + 63) / 64 * 64;
    return out;
}

static void scratch_layout(const struct ruv_index *idx, const ruv_search_params *sp, void *mem,
                           struct rq_scratch *s)
{
    const struct rq *r = idx->impl;
    size_t m = (r->max_list + 32) / 32 * 32;
    char *p = mem;
    s->qr = carve(&p, r->dim_pad * sizeof(float));
    s->qwork = carve(&p, idx->p.dim * sizeof(float));
    s->lut = carve(&p, r->block_bytes);
    s->acc = carve(&p, m * sizeof(uint16_t));
    s->ip = carve(&p, m * sizeof(float));
    s->est = carve(&p, m * sizeof(float));
    s->lb = carve(&p, m * sizeof(float));
    s->sel = carve(&p, m * sizeof(uint32_t));
    s->blut = carve(&p, blut_bytes(idx));
    s->probe = carve(&p, r->nlist * sizeof(uint32_t));
    s->probe_dist = carve(&p, r->nlist * sizeof(float));
    s->ubh = carve(&p, sp->k * sizeof(float));
    s->ubr = carve(&p, sp->k * sizeof(uint32_t));
}

static uint32_t nprobe_for(const struct rq *r, const ruv_search_params *sp)
{
    if (r->nlist == 1)
        return 1;
    uint32_t np = sp->nprobe;
    if (np == 0)
        np = r->nlist <= 16 ? r->nlist : (r->nlist / 16 > 1 ? r->nlist / 16 : 1);
    return np > r->nlist ? r->nlist : np;
}

static int allowed(const uint8_t *allow, uint32_t row)
{
    return !allow || (allow[row / 8] >> (row % 8)) & 1;
}

struct cands {
    struct cand *v;
    size_t n, cap;
};

static int cands_push(struct cands *c, float lb, float est, uint32_t row)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        struct cand *nv = realloc(c->v, cap * sizeof *nv);
        if (!nv)
            return ruv__set_error(RUV_E_NOMEM, "out of memory for re-rank candidates");
        c->v = nv;
        c->cap = cap;
    }
    c->v[c->n++] = (struct cand){lb, est, row};
    return RUV_OK;
}

/* Min-heap on lb: the re-rank consumes candidates in lower-bound order and
 * usually stops after a small fraction, so a full sort would be wasted. */
static void heap_down(struct cand *v, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && v[l].lb < v[m].lb)
            m = l;
        if (l + 1 < n && v[l + 1].lb < v[m].lb)
            m = l + 1;
        if (m == i)
            return;
        struct cand t = v[i];
        v[i] = v[m];
        v[m] = t;
        i = m;
    }
}

static void heapify(struct cand *v, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        heap_down(v, n, i);
}

static struct cand heap_pop(struct cand *v, size_t *n)
{
    struct cand top = v[0];
    v[0] = v[--*n];
    heap_down(v, *n, 0);
    return top;
}

static void prefetch_bytes(const void *p, size_t bytes)
{
    for (size_t b = 0; b < bytes; b += 64)
        __builtin_prefetch((const char *)p + b);
    __builtin_prefetch((const char *)p + bytes - 1); /* when p is not line-aligned */
}

/* <b, q> of every lane of list l through the FastScan kernel. */
static void scan_list(const struct ruv_index *idx, const struct rq_list *l,
                      const struct rq_scratch *s, const struct ruv__rabitq_lutq *lq)
{
    const struct rq *r = idx->impl;
    const size_t nblocks = (l->n + 31) / 32;
    if (r->nsub <= RUV_FASTSCAN_MAX_NSUB) {
        idx->k->fastscan_u8(l->fs, r->nsub, nblocks, s->lut, s->acc);
        ruv__rabitq_ip_fastscan_n(lq, s->acc, l->n, s->ip);
        return;
    }
    /* Past 256 sub-codes (dimension > 1024) the kernel's uint16 sums could
     * overflow: each block goes chunk by chunk, summed in uint32. */
    for (size_t b = 0; b < nblocks; b++) {
        uint32_t sum[32] = {0};
        for (size_t c0 = 0; c0 < r->nsub; c0 += RUV_FASTSCAN_MAX_NSUB) {
            size_t cn = r->nsub - c0 < RUV_FASTSCAN_MAX_NSUB ? r->nsub - c0 : RUV_FASTSCAN_MAX_NSUB;
            uint16_t part[32];
            idx->k->fastscan_u8(l->fs + b * r->block_bytes + c0 * 16, cn, 1, s->lut + c0 * 16,
                                part);
            for (size_t t = 0; t < 32; t++)
                sum[t] += part[t];
        }
        for (size_t t = 0; t < 32 && b * 32 + t < l->n; t++)
            s->ip[b * 32 + t] = ruv__rabitq_ip_fastscan(lq, sum[t]);
    }
}

/* <b, q> with the float query for every lane of list l: the byte LUT of
 * ruv__rabitq_byte_lut, read straight from the FastScan blocks. Code byte p
 * of a lane is its sub-codes 2p (low nibble) and 2p + 1 (high nibble): for
 * lanes 0..15 the low nibbles of rows 2p and 2p + 1, for lanes 16..31 the
 * high ones. */
static void scan_list_exact(const struct rq *r, const struct rq_list *l, const float *blut,
                            float *ip)
{
    const size_t nblocks = (l->n + 31) / 32;
    for (size_t b = 0; b < nblocks; b++) {
        const uint8_t *blk = l->fs + b * r->block_bytes;
        float lo[16] = {0}, hi[16] = {0};
        for (size_t p = 0; p < r->nsub / 2; p++) {
            const uint8_t *r0 = blk + 2 * p * 16, *r1 = r0 + 16;
            const float *t = blut + p * 256;
            for (size_t j = 0; j < 16; j++) {
                lo[j] += t[(r0[j] & 0x0fu) | ((r1[j] & 0x0fu) << 4)];
                hi[j] += t[(r0[j] >> 4) | (r1[j] & 0xf0u)];
            }
        }
        size_t base = b * 32;
        for (size_t j = 0; j < 16 && base + j < l->n; j++)
            ip[base + j] = lo[j];
        for (size_t j = 0; j < 16 && base + 16 + j < l->n; j++)
            ip[base + 16 + j] = hi[j];
    }
}

static float exact_dist(const struct ruv_index *idx, const float *q, uint32_t row)
{
    const float *x = idx->vecs + (size_t)row * idx->p.dim;
    return idx->p.metric == RUV_METRIC_L2 ? idx->k->l2sq_f32(q, x, idx->p.dim)
                                          : -idx->k->dot_f32(q, x, idx->p.dim);
}

static int rq_search(const struct ruv_index *idx, const float *q, const ruv_search_params *sp,
                     const uint8_t *allow, struct ruv__topk *out, void *mem)
{
    const struct rq *r = idx->impl;
    const struct ruv_kernel_ops *k = idx->k;
    struct rq_scratch s;
    scratch_layout(idx, sp, mem, &s);
    const int plus = idx->p.type == RUV_INDEX_RABITQ_PLUS;
    const int asym = idx->p.type == RUV_INDEX_RABITQ_ASYM;
    const int ex = idx->p.bits > 1;
    const unsigned bits = idx->p.bits;

    ruv__rotation_apply(&r->rot, k, in_frame(r, q, idx->p.dim, s.qwork), s.qr);
    struct ruv__rabitq_lutq lq = {0};
    if (asym)
        ruv__rabitq_byte_lut(s.qr, r->dim_pad, s.blut);
    else
        ruv__rabitq_fastscan_lut(s.qr, r->dim_pad, idx->p.query_bits, s.lut, &lq);
    struct ruv__rabitq_query qc;
    ruv__rabitq_query_init(k, s.qr, r->centroids_rot, r->dim_pad, r->metric, &qc);

    uint32_t np = nprobe_for(r, sp);
    if (r->nlist > 1)
        ruv__probe_nearest(k, &r->probe, q, s.qwork, np, s.probe, s.probe_dist);
    else
        s.probe[0] = 0;

    struct ruv__topk ub; /* PLUS: k smallest upper bounds, the pruning threshold */
    ruv__topk_init(&ub, sp->k, s.ubh, s.ubr);
    struct cands cs = {0};
    int rc = RUV_OK;
    for (uint32_t pi = 0; pi < np && !rc; pi++) {
        const struct rq_list *l = &r->lists[s.probe[pi]];
        if (l->n == 0)
            continue;
        ruv__rabitq_query_centroid(k, s.qr, r->centroids_rot + (size_t)s.probe[pi] * r->dim_pad,
                                   r->dim_pad, r->metric, &qc);
        if (asym) {
            scan_list_exact(r, l, s.blut, s.ip);
        } else {
            scan_list(idx, l, &s, &lq);
        }
        ruv__rabitq_est_n(s.ip, l->n, l->f_add, l->f_rescale, l->f_error, &qc, 1, s.est, s.lb);
        if (!ex && !plus) {
            /* most lanes lose to the k-th estimate: test inline, push rarely */
            for (size_t j = 0; j < l->n; j++)
                if (s.est[j] <= ruv__topk_threshold(out) && allowed(allow, l->rows[j]))
                    ruv__topk_push(out, s.est[j], l->rows[j]);
            continue;
        }
        if (!ex) {
            for (size_t j = 0; j < l->n && !rc; j++) {
                uint32_t row = l->rows[j];
                if (!allowed(allow, row))
                    continue;
                float lb = s.lb[j];
                if (lb > ruv__topk_threshold(&ub))
                    continue;
                ruv__topk_push(&ub, 2.0f * s.est[j] - lb, row);
                rc = cands_push(&cs, lb, s.est[j], row);
            }
            continue;
        }
        /* Multi-bit codes: the 1-bit bound picks the lanes worth a look at
         * their whole code. Select first (against the threshold as it stands;
         * it only falls, and each lane is checked again), so the whole codes
         * of the lanes ahead can be prefetched: they are sparse reads that
         * the hardware prefetcher does not foresee. */
        struct ruv__topk *gate = plus ? &ub : out;
        size_t m = 0;
        float th = ruv__topk_threshold(gate);
        if (allow) {
            for (size_t j = 0; j < l->n; j++)
                if (s.lb[j] <= th && allowed(allow, l->rows[j]))
                    s.sel[m++] = (uint32_t)j;
        } else { /* branch-free: about a quarter pass, unpredictably */
            uint32_t *restrict sel = s.sel;
            const float *restrict lbs = s.lb;
            for (size_t j = 0; j < l->n; j++) {
                sel[m] = (uint32_t)j;
                m += lbs[j] <= th;
            }
        }
        enum { AHEAD = 8 };
        for (size_t i = 0; i < m && i < AHEAD; i++)
            prefetch_bytes(l->ucode + s.sel[i] * ex_bytes(r), ex_bytes(r));
        for (size_t i = 0; i < m && !rc; i++) {
            if (i + AHEAD < m)
                prefetch_bytes(l->ucode + s.sel[i + AHEAD] * ex_bytes(r), ex_bytes(r));
            uint32_t j = s.sel[i];
            if (s.lb[j] > ruv__topk_threshold(gate))
                continue;
            float ipu = k->dot_u8_f32(l->ucode + j * ex_bytes(r), s.qr, r->dim_pad);
            struct ruv__rabitq_factors fx = {l->x_add[j], l->x_rescale[j], l->x_error[j]};
            uint32_t row = l->rows[j];
            if (!plus) {
                ruv__topk_push(out, ruv__rabitq_est(&fx, &qc, ipu, bits), row);
                continue;
            }
            float est, lb, ubv;
            ruv__rabitq_est_bounds(&fx, &qc, ipu, bits, &est, &lb, &ubv);
            if (lb > ruv__topk_threshold(&ub))
                continue;
            ruv__topk_push(&ub, ubv, row);
            rc = cands_push(&cs, lb, est, row);
        }
    }
    if (plus && !rc) {
        /* Exact re-rank in lower-bound order; stop when no remaining
         * candidate can beat the k-th exact distance. */
        int32_t f = sp->rerank_factor >= 0 ? sp->rerank_factor : (int32_t)idx->p.rerank_factor;
        size_t cap = f > 0 ? (size_t)f * sp->k : cs.n;
        if (cap < sp->k)
            cap = sp->k;
        /* the k-th upper bound only fell while scanning: drop what it now excludes */
        float ubk = ruv__topk_threshold(&ub);
        size_t kept = 0;
        for (size_t i = 0; i < cs.n; i++)
            if (cs.v[i].lb <= ubk)
                cs.v[kept++] = cs.v[i];
        cs.n = kept;
        heapify(cs.v, cs.n);
        /* Pop a few candidates at a time and prefetch all their rows before
         * computing any: the re-rank reads originals from DRAM, and several
         * misses in flight cost little more than one. Checking the threshold
         * once per batch may add a re-rank, never skip a needed one. */
        enum { BATCH = 8 };
        size_t done = 0;
        while (cs.n > 0 && done < cap && cs.v[0].lb <= ruv__topk_threshold(out)) {
            uint32_t rows[BATCH];
            size_t m = 0;
            float th = ruv__topk_threshold(out);
            while (m < BATCH && cs.n > 0 && done + m < cap && cs.v[0].lb <= th) {
                rows[m] = heap_pop(cs.v, &cs.n).row;
                prefetch_bytes(idx->vecs + (size_t)rows[m] * idx->p.dim,
                               idx->p.dim * sizeof(float));
                m++;
            }
            for (size_t i = 0; i < m; i++)
                ruv__topk_push(out, exact_dist(idx, q, rows[i]), rows[i]);
            done += m;
        }
    }
    free(cs.v);
    return rc;
}

static size_t rq_memory(const struct ruv_index *idx)
{
    const struct rq *r = idx->impl;
    size_t b = sizeof *r + r->rot.rounds * (r->dim_pad / 64) * sizeof(uint64_t) +
               (size_t)r->nlist * (idx->p.dim + r->dim_pad) * sizeof(float) +
               r->row_cap * 2 * sizeof(uint32_t) + r->nlist * sizeof(struct rq_list) +
               ruv__probe_bytes(&r->probe) + (r->origin ? idx->p.dim * sizeof(float) : 0);
    size_t per = sizeof(uint32_t) + r->block_bytes / 32 + 3 * sizeof(float);
    if (idx->p.bits > 1)
        per += ex_bytes(r) + 3 * sizeof(float);
    for (uint32_t i = 0; i < r->nlist; i++)
        b += r->lists[i].cap * per;
    return b;
}

/* ---- persistence: centroids and every list, concatenated in list order ---- */

/* Format 1 files keep plain 1-bit codes (CODE), their popcounts (POPC) and
 * the ex bits alone (EXCD); memory keeps FastScan blocks and whole B-bit
 * codes. Each exporter writes list l's n entries of one section to out. */
typedef void (*list_export_fn)(const struct ruv_index *idx, const struct rq_list *l,
                               uint8_t *out);

static void export_codes(const struct ruv_index *idx, const struct rq_list *l, uint8_t *out)
{
    const struct rq *r = idx->impl;
    for (size_t j = 0; j < l->n; j++) {
        uint64_t code[MAX_WORDS];
        lane_get(r, l, j, code);
        memcpy(out + j * r->words * sizeof(uint64_t), code, r->words * sizeof(uint64_t));
    }
}

static void export_popcounts(const struct ruv_index *idx, const struct rq_list *l, uint8_t *out)
{
    const struct rq *r = idx->impl;
    for (size_t j = 0; j < l->n; j++) {
        uint64_t code[MAX_WORDS];
        lane_get(r, l, j, code);
        uint32_t pc = (uint32_t)idx->k->popcnt_u64(code, r->words);
        memcpy(out + j * sizeof pc, &pc, sizeof pc);
    }
}

static void export_ex(const struct ruv_index *idx, const struct rq_list *l, uint8_t *out)
{
    const uint8_t mask = (uint8_t)((1u << (idx->p.bits - 1)) - 1u); /* drop the sign bit */
    const size_t len = l->n * ex_bytes(idx->impl);
    for (size_t b = 0; b < len; b++)
        out[b] = l->ucode[b] & mask;
}

/* One section of per_vector bytes per vector, every list in order, each list
 * converted by fn into a buffer sized for the longest. */
static int save_lists(const struct ruv_index *idx, struct ruv__writer *w, const char *tag,
                      size_t per_vector, list_export_fn fn)
{
    const struct rq *r = idx->impl;
    uint8_t *buf = malloc((r->max_list + 1) * per_vector);
    if (!buf)
        return ruv__set_error(RUV_E_NOMEM, "out of memory");
    int rc = ruv__writer_section_begin(w, tag);
    for (uint32_t i = 0; !rc && i < r->nlist; i++) {
        fn(idx, &r->lists[i], buf);
        rc = ruv__writer_section_append(w, buf, r->lists[i].n * per_vector);
    }
    if (!rc)
        rc = ruv__writer_section_end(w);
    free(buf);
    return rc;
}

static int rq_save(const struct ruv_index *idx, struct ruv__writer *w)
{
    const struct rq *r = idx->impl;
    int rc = ruv__writer_section(w, "CENT", r->centroids,
                                 (size_t)r->nlist * idx->p.dim * sizeof(float));
    if (!rc && r->origin)
        rc = ruv__writer_section(w, "ORIG", r->origin, idx->p.dim * sizeof(float));
    if (rc)
        return rc;
    uint64_t *sizes = malloc(r->nlist * sizeof *sizes);
    if (!sizes)
        return ruv__set_error(RUV_E_NOMEM, "out of memory");
    for (uint32_t i = 0; i < r->nlist; i++)
        sizes[i] = r->lists[i].n;
    rc = ruv__writer_section(w, "LSIZ", sizes, r->nlist * sizeof *sizes);
    free(sizes);
#define LIST_SECTION(tag, field, elem)                                                       \
    if (!rc) {                                                                               \
        rc = ruv__writer_section_begin(w, tag);                                              \
        for (uint32_t i = 0; !rc && i < r->nlist; i++)                                       \
            rc = ruv__writer_section_append(w, r->lists[i].field, r->lists[i].n * (elem));    \
        if (!rc)                                                                             \
            rc = ruv__writer_section_end(w);                                                 \
    }
    LIST_SECTION("LROW", rows, sizeof(uint32_t))
    if (!rc)
        rc = save_lists(idx, w, "CODE", r->words * sizeof(uint64_t), export_codes);
    if (!rc)
        rc = save_lists(idx, w, "POPC", sizeof(uint32_t), export_popcounts);
    LIST_SECTION("FADD", f_add, sizeof(float))
    LIST_SECTION("FRSC", f_rescale, sizeof(float))
    LIST_SECTION("FERR", f_error, sizeof(float))
    if (idx->p.bits > 1) {
        if (!rc)
            rc = save_lists(idx, w, "EXCD", ex_bytes(r), export_ex);
        LIST_SECTION("XADD", x_add, sizeof(float))
        LIST_SECTION("XRSC", x_rescale, sizeof(float))
        LIST_SECTION("XERR", x_error, sizeof(float))
    }
#undef LIST_SECTION
    return rc;
}

static int section_exact(const struct ruv__reader *rd, const char *tag, size_t want,
                         const void **data)
{
    size_t len = 0;
    int rc = ruv__reader_section(rd, tag, data, &len);
    if (rc)
        return rc;
    if (len != want)
        return ruv__set_error(RUV_E_CORRUPT, "section '%.4s' holds %zu bytes, expected %zu", tag,
                              len, want);
    return RUV_OK;
}

static int rq_load(struct ruv_index *idx, const struct ruv__reader *rd)
{
    struct rq *r = idx->impl;
    const void *cent, *sizes_v;
    int rc = section_exact(rd, "CENT", (size_t)r->nlist * idx->p.dim * sizeof(float), &cent);
    if (!rc)
        rc = section_exact(rd, "LSIZ", r->nlist * sizeof(uint64_t), &sizes_v);
    if (rc)
        return rc;
    memcpy(r->centroids, cent, (size_t)r->nlist * idx->p.dim * sizeof(float));
    if ((rc = ruv__check_finite(r->centroids, r->nlist, idx->p.dim, "centroid")))
        return ruv__set_error(RUV_E_CORRUPT, "%s", ruv_last_error());
    if (ruv__reader_has(rd, "ORIG")) { /* absent: version 1, or not L2 */
        const void *orig;
        if (r->metric != RUV__RABITQ_L2)
            return ruv__set_error(RUV_E_CORRUPT, "section 'ORIG' in a %s index",
                                  ruv_metric_name((int)idx->p.metric));
        if ((rc = section_exact(rd, "ORIG", idx->p.dim * sizeof(float), &orig)))
            return rc;
        r->origin = malloc((idx->p.dim ? idx->p.dim : 1) * sizeof *r->origin);
        if (!r->origin)
            return ruv__set_error(RUV_E_NOMEM, "out of memory");
        memcpy(r->origin, orig, idx->p.dim * sizeof(float));
        if ((rc = ruv__check_finite(r->origin, 1, idx->p.dim, "frame origin")))
            return ruv__set_error(RUV_E_CORRUPT, "%s", ruv_last_error());
    }
    if ((rc = derive_centroid_tables(idx, r)))
        return rc;
    const uint64_t *sizes = sizes_v;
    size_t total = 0;
    for (uint32_t i = 0; i < r->nlist; i++) {
        if (sizes[i] > idx->n - total)
            return ruv__set_error(RUV_E_CORRUPT, "list sizes add up to more than %zu vectors",
                                  idx->n);
        total += sizes[i];
    }
    if (total != idx->n)
        return ruv__set_error(RUV_E_CORRUPT, "list sizes add up to %zu, header says %zu", total,
                              idx->n);
    const int ex = idx->p.bits > 1;
    const void *rows, *codes, *pop, *fa, *fr, *fe, *exc = NULL, *xa = NULL, *xr = NULL, *xe = NULL;
    size_t n = idx->n;
    if ((rc = section_exact(rd, "LROW", n * sizeof(uint32_t), &rows)) ||
        (rc = section_exact(rd, "CODE", n * r->words * sizeof(uint64_t), &codes)) ||
        (rc = section_exact(rd, "POPC", n * sizeof(uint32_t), &pop)) ||
        (rc = section_exact(rd, "FADD", n * sizeof(float), &fa)) ||
        (rc = section_exact(rd, "FRSC", n * sizeof(float), &fr)) ||
        (rc = section_exact(rd, "FERR", n * sizeof(float), &fe)))
        return rc;
    if (ex && ((rc = section_exact(rd, "EXCD", n * ex_bytes(r), &exc)) ||
               (rc = section_exact(rd, "XADD", n * sizeof(float), &xa)) ||
               (rc = section_exact(rd, "XRSC", n * sizeof(float), &xr)) ||
               (rc = section_exact(rd, "XERR", n * sizeof(float), &xe))))
        return rc;
    if (ex) { /* each ex byte holds bits - 1 bits; more would corrupt the sign bit */
        const uint8_t *e = exc;
        const uint8_t mask = (uint8_t)((1u << (idx->p.bits - 1)) - 1u);
        uint64_t any = 0; /* OR of every byte, 8 at a time (ex_bytes is a multiple of 64) */
        for (size_t i = 0; i < n * ex_bytes(r); i += 8) {
            uint64_t w8;
            memcpy(&w8, e + i, 8);
            any |= w8;
        }
        any |= any >> 32;
        any |= any >> 16;
        any |= any >> 8;
        for (size_t i = 0; (any & 0xffu & ~mask) && i < n * ex_bytes(r); i++)
            if (e[i] & ~mask)
                return ruv__set_error(RUV_E_CORRUPT,
                                      "ex code byte %zu is %u, out of range for %u-bit codes", i,
                                      e[i], idx->p.bits);
    }
    uint8_t *seen = calloc(n ? n : 1, 1);
    if (!seen)
        return ruv__set_error(RUV_E_NOMEM, "out of memory");
    size_t off = 0;
    for (uint32_t i = 0; i < r->nlist && !rc; i++) {
        struct rq_list *l = &r->lists[i];
        if ((rc = list_reserve(idx, r, l, sizes[i])))
            break;
        for (size_t j = 0; j < sizes[i]; j++, off++) {
            uint32_t row = ((const uint32_t *)rows)[off];
            if (row >= n || seen[row]) {
                rc = ruv__set_error(RUV_E_CORRUPT, "list %u names row %u twice or out of range",
                                    i, row);
                break;
            }
            seen[row] = 1;
            const uint64_t *code = (const uint64_t *)codes + off * r->words;
            uint32_t pc;
            memcpy(&pc, (const uint32_t *)pop + off, sizeof pc);
            if (pc != idx->k->popcnt_u64(code, r->words)) {
                rc = ruv__set_error(RUV_E_CORRUPT, "list %u: code %zu does not match its popcount",
                                    i, j);
                break;
            }
            struct encoded en = {.list = i};
            en.f = (struct ruv__rabitq_factors){((const float *)fa)[off], ((const float *)fr)[off],
                                                ((const float *)fe)[off]};
            if (ex)
                en.fx = (struct ruv__rabitq_factors){((const float *)xa)[off],
                                                     ((const float *)xr)[off],
                                                     ((const float *)xe)[off]};
            list_put(idx, r, l, row, code,
                     ex ? (const uint8_t *)exc + off * ex_bytes(r) : NULL, &en);
        }
    }
    free(seen);
    return rc;
}

const struct ruv__index_vt ruv__rabitq_vt = {
    .init = rq_init,
    .train = rq_train,
    .add = rq_add,
    .remove_row = rq_remove_row,
    .search = rq_search,
    .scratch_bytes = rq_scratch_bytes,
    .search_batch = NULL,
    .prepare_remove = rq_prepare_remove,
    .memory = rq_memory,
    .save = rq_save,
    .load = rq_load,
    .free = rq_free,
};
