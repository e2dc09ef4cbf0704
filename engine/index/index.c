/* The index layer every type shares: parameter checks, input validation
 * (dimension, NaN/Inf), cosine normalisation, caller ids (map + swap-remove),
 * atomic add, accessors; search is in index_search.c. Each type supplies
 * its encoding and scan through struct ruv__index_vt. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/engine.h>
#include <ruvector/error.h>
#include <ruvector/index.h>
#include <ruvector/kernel.h>

#include "base/error.h"
#include "exec/cancel.h"
#include "index/build.h"
#include "index/common.h"
#include "index/idmap.h"
#include "store/persist.h"

/* ---- names ---- */

static const char *const type_names[] = {NULL, "flat_f32", "rabitq", "rabitq_plus", "rabitq_asym"};
static const char *const metric_names[] = {NULL, "l2", "ip", "cosine"};

const char *ruv_index_type_name(int type)
{
    return (type >= 1 && type <= 4) ? type_names[type] : NULL;
}

const char *ruv_metric_name(int metric)
{
    return (metric >= 1 && metric <= 3) ? metric_names[metric] : NULL;
}

int ruv_index_type_parse(const char *text, int *type)
{
    for (int t = 1; text && type && t <= 4; t++)
        if (!strcmp(text, type_names[t])) {
            *type = t;
            return RUV_OK;
        }
    return ruv__set_error(RUV_E_INVAL,
                          "unknown index type '%s' (flat_f32, rabitq, rabitq_plus, rabitq_asym)",
                          text ? text : "(null)");
}

int ruv_metric_parse(const char *text, int *metric)
{
    for (int m = 1; text && metric && m <= 3; m++)
        if (!strcmp(text, metric_names[m])) {
            *metric = m;
            return RUV_OK;
        }
    return ruv__set_error(RUV_E_INVAL, "unknown metric '%s' (l2, ip, cosine)",
                          text ? text : "(null)");
}

/* ---- helpers ---- */

void *ruv__alloc(size_t bytes)
{
    void *p = NULL;
    size_t rounded = (bytes + 63) / 64 * 64;
    if (posix_memalign(&p, 64, rounded ? rounded : 64) != 0)
        return NULL;
    return p;
}

int ruv__grow(void **p, size_t n, size_t cap, size_t elem)
{
    if (cap && elem > SIZE_MAX / cap)
        return ruv__set_error(RUV_E_NOMEM, "array of %zu x %zu bytes overflows", cap, elem);
    void *np = ruv__alloc(cap * elem);
    if (!np)
        return ruv__set_error(RUV_E_NOMEM, "out of memory growing an array to %zu bytes",
                              cap * elem);
    if (*p && n)
        memcpy(np, *p, n * elem);
    free(*p);
    *p = np;
    return RUV_OK;
}

/* The error for row i, which holds a value that is not finite or beyond
 * +-RUV__MAX_ABS_VALUE: names its first such column. */
static int bad_row(const float *row, size_t i, size_t dim, const char *what)
{
    for (size_t j = 0; j < dim; j++) {
        float v = row[j];
        if (!isfinite(v))
            return ruv__set_error(RUV_E_INVAL, "%s row %zu, column %zu is %s", what, i, j,
                                  isnan(v) ? "NaN" : "infinite");
        /* Past this, a squared distance or inner product over up to
         * 65,536 dimensions can overflow float32 to infinity, and an
         * infinite score cannot be ranked. */
        if (fabsf(v) > RUV__MAX_ABS_VALUE)
            return ruv__set_error(RUV_E_INVAL,
                                  "%s row %zu, column %zu is %g, beyond +-%g where distances "
                                  "overflow float32",
                                  what, i, j, (double)v, (double)RUV__MAX_ABS_VALUE);
    }
    return RUV_OK; /* not reached for a row the caller found bad */
}

/* Each row's largest |value|, and whether any value is NaN, infinite or
 * beyond +-RUV__MAX_ABS_VALUE (a NaN fails the <=): one branch-free pass a
 * row, where a test and branch per value took ~3 % of a planned build. */
static float row_max_abs(const float *row, size_t dim, int *bad)
{
    float m = 0.0f;
    int b = 0;
    for (size_t j = 0; j < dim; j++) {
        float v = fabsf(row[j]);
        b |= !(v <= RUV__MAX_ABS_VALUE);
        m = v > m ? v : m;
    }
    *bad = b;
    return m;
}

int ruv__check_finite(const float *data, size_t n, size_t dim, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        int bad;
        (void)row_max_abs(data + i * dim, dim, &bad);
        if (bad)
            return bad_row(data + i * dim, i, dim, what);
    }
    return RUV_OK;
}

int ruv__check_values(const struct ruv_index *idx, const float *data, size_t n, const char *what)
{
    const size_t dim = idx->p.dim;
    /* Cosine normalises (in double when needed, ruv__normalize), so scale
     * does not matter; L2 and IP work on the values themselves. A value
     * that is not finite anywhere is reported before a row too small. */
    const int scaled = idx->p.metric != RUV_METRIC_COSINE;
    size_t tiny = n;
    float tiny_max = 0.0f;
    for (size_t i = 0; i < n; i++) {
        int bad;
        float m = row_max_abs(data + i * dim, dim, &bad);
        if (bad)
            return bad_row(data + i * dim, i, dim, what);
        if (scaled && tiny == n && m > 0.0f && m < RUV__MIN_ABS_VALUE) {
            tiny = i;
            tiny_max = m;
        }
    }
    if (tiny < n)
        return ruv__set_error(RUV_E_INVAL,
                              "%s row %zu: its largest |value| is %g, below %g where %s "
                              "scores underflow float32 (every score would read 0); scale "
                              "the data, or use the cosine metric",
                              what, tiny, (double)tiny_max, (double)RUV__MIN_ABS_VALUE,
                              ruv_metric_name((int)idx->p.metric));
    return RUV_OK;
}

void ruv__normalize(const struct ruv_kernel_ops *k, const float *src, float *dst, size_t dim)
{
    float nn = k->dot_f32(src, src, dim);
    if (nn >= RUV__NORMALIZE_F32_MIN) {
        float inv = 1.0f / sqrtf(nn);
        for (size_t i = 0; i < dim; i++)
            dst[i] = src[i] * inv;
        return;
    }
    /* Squares of values below ~1e-19 underflow float32: tiny vectors get
     * their norm in double (1e-45 squared is still a normal double). */
    double dn = 0.0;
    for (size_t i = 0; i < dim; i++)
        dn += (double)src[i] * (double)src[i];
    double inv = dn > 0.0 ? 1.0 / sqrt(dn) : 0.0;
    for (size_t i = 0; i < dim; i++)
        dst[i] = (float)((double)src[i] * inv);
}

int ruv_index_params_init(ruv_index_params *p, int type, int metric, uint32_t dim)
{
    if (!p)
        return ruv__set_error(RUV_E_INVAL, "ruv_index_params_init: p is NULL");
    memset(p, 0, sizeof *p);
    p->struct_size = sizeof *p;
    p->type = (uint32_t)type;
    p->metric = (uint32_t)metric;
    p->dim = dim;
    p->query_bits = 8;
    p->rerank_factor = 0; /* no cap: the error bound decides */
    p->kmeans_iters = 0; /* the index's choice, resolved by the plan (plan.c) */
    p->seed = 42;
    /* The paper's 1.9 covers ~94% of (query, vector) pairs on real data
     * (measured: tests/test_rabitq.c); 2.6 covers ~99%, which error-bound
     * re-ranking needs for recall@10 >= 0.99 (docs/benchmarks.md). */
    p->epsilon = 2.6f;
    /* The plan chooses bits and nlist, and calibrates nprobe, for recall@10
     * 0.95 (plan.c, calibrate.c); explicit values win. */
    p->target_recall = 0.95f;
    p->bits = RUV_INDEX_AUTO;
    p->nlist = RUV_INDEX_AUTO;
    return RUV_OK;
}

static int check_params(const ruv_index_params *p)
{
    if (!p)
        return ruv__set_error(RUV_E_INVAL, "index parameters are NULL");
    if (p->struct_size < sizeof(ruv_index_params))
        return ruv__set_error(RUV_E_INVAL,
                              "index parameters struct_size %u: call ruv_index_params_init",
                              p->struct_size);
    if (!ruv_index_type_name((int)p->type))
        return ruv__set_error(RUV_E_INVAL, "unknown index type %u", p->type);
    if (!ruv_metric_name((int)p->metric))
        return ruv__set_error(RUV_E_INVAL, "unknown metric %u", p->metric);
    if (p->dim < 1 || p->dim > 65536)
        return ruv__set_error(RUV_E_INVAL, "dimension %u is outside 1..65536", p->dim);
    if (p->type != RUV_INDEX_FLAT_F32) {
        if (p->bits < 1 || p->bits > 8)
            return ruv__set_error(RUV_E_INVAL, "bits %u is outside 1..8", p->bits);
        if (p->query_bits < 1 || p->query_bits > 8)
            return ruv__set_error(RUV_E_INVAL, "query_bits %u is outside 1..8", p->query_bits);
        if (!(p->epsilon > 0.0f) || !isfinite(p->epsilon))
            return ruv__set_error(RUV_E_INVAL, "epsilon must be a positive number");
    }
    if (p->nlist > (1u << 20))
        return ruv__set_error(RUV_E_INVAL, "nlist %u is more than 2^20", p->nlist);
    return RUV_OK;
}

static const struct ruv__index_vt *vt_for(uint32_t type)
{
    return type == RUV_INDEX_FLAT_F32 ? &ruv__flat_vt : &ruv__rabitq_vt;
}

int ruv__index_alloc(ruv_engine *eng, const ruv_index_params *p, ruv_index **out)
{
    *out = NULL;
    if (!eng)
        return ruv__set_error(RUV_E_INVAL, "engine is NULL");
    int rc = check_params(p);
    if (rc)
        return rc;
    struct ruv_index *idx = calloc(1, sizeof *idx);
    if (!idx)
        return ruv__set_error(RUV_E_NOMEM, "out of memory");
    idx->p = *p;
    idx->p.struct_size = sizeof idx->p;
    idx->vt = vt_for(p->type);
    idx->eng = eng;
    idx->k = ruv_engine_kernel(eng);
    idx->threads = ruv_engine_threads(eng);
    idx->keeps_vectors = p->type == RUV_INDEX_FLAT_F32 || p->type == RUV_INDEX_RABITQ_PLUS;
    atomic_init(&idx->refs, 1);
    idx->mapped.fd = -1;
    ruv__idmap_init_dense(&idx->map);
    *out = idx;
    return RUV_OK;
}

int ruv_index_new(ruv_engine *eng, const ruv_index_params *p, ruv_index **out)
{
    if (!out)
        return ruv__set_error(RUV_E_INVAL, "ruv_index_new: out is NULL");
    *out = NULL;
    ruv_index_params planned;
    int rc = ruv__plan_resolve(p, 0, 1, &planned);
    if (rc)
        return rc;
    p = &planned;
    rc = ruv__index_alloc(eng, p, out);
    if (rc)
        return rc;
    if (p->nlist > 0 && p->type != RUV_INDEX_FLAT_F32) {
        ruv_index_free(*out);
        *out = NULL;
        return ruv__set_error(RUV_E_INVAL,
                              "nlist %u needs training data: use ruv_index_build for IVF",
                              p->nlist);
    }
    rc = (*out)->vt->init(*out);
    if (rc) {
        ruv_index_free(*out);
        *out = NULL;
    }
    return rc;
}

ruv_index *ruv_index_retain(ruv_index *idx)
{
    if (idx)
        atomic_fetch_add_explicit(&idx->refs, 1, memory_order_relaxed);
    return idx;
}

void ruv_index_free(ruv_index *idx)
{
    if (!idx)
        return;
    /* The last reference frees; the acquire pairs with the releases of the
     * other holders so their reads finish before the memory goes. */
    if (atomic_fetch_sub_explicit(&idx->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (idx->impl)
        idx->vt->free(idx);
    if (!idx->borrowed) {
        free(idx->ids);
        free(idx->vecs);
    }
    ruv__idmap_free(&idx->map);
    if (idx->mapping)
        ruv__mapping_release(idx->mapping, idx->mapping_len, idx->mapping_is_mmap);
    ruv__mapped_file_close(&idx->mapped);
    free(idx->mapped_path);
    free(idx);
}

/* Copies arrays that point into a loaded file's mapping, before a change. */
static int own_arrays(struct ruv_index *idx)
{
    if (!idx->borrowed)
        return RUV_OK;
    uint64_t *ids = NULL;
    float *vecs = NULL;
    size_t cap = idx->n ? idx->n : 1;
    if (ruv__grow((void **)&ids, 0, cap, sizeof *ids))
        return RUV_E_NOMEM;
    memcpy(ids, idx->ids, idx->n * sizeof *ids);
    if (idx->keeps_vectors) {
        if (ruv__grow((void **)&vecs, 0, cap, (size_t)idx->p.dim * sizeof(float))) {
            free(ids);
            return RUV_E_NOMEM;
        }
        memcpy(vecs, idx->vecs, idx->n * idx->p.dim * sizeof(float));
    }
    idx->ids = ids;
    idx->vecs = vecs;
    idx->cap = cap;
    idx->borrowed = 0;
    return RUV_OK;
}

static int reserve_rows(struct ruv_index *idx, size_t more)
{
    if (idx->n + more <= idx->cap)
        return RUV_OK;
    size_t cap = idx->cap ? idx->cap : idx->n + more; /* first sizing (build) is exact */
    while (cap < idx->n + more)
        cap = cap + cap / 2 + 1;
    int rc = ruv__grow((void **)&idx->ids, idx->n, cap, sizeof(uint64_t));
    if (rc == RUV_OK && idx->keeps_vectors)
        rc = ruv__grow((void **)&idx->vecs, idx->n, cap, (size_t)idx->p.dim * sizeof(float));
    if (rc == RUV_OK)
        idx->cap = cap;
    return rc;
}

/* Validated, possibly normalised copy of caller data (or the data itself). */
static int prepare_rows(const struct ruv_index *idx, const float *data, size_t n, float **tmp,
                        const float **use)
{
    *tmp = NULL;
    *use = data;
    int rc = ruv__check_values(idx, data, n, "input");
    if (rc || idx->p.metric != RUV_METRIC_COSINE)
        return rc;
    if (n && (size_t)idx->p.dim > SIZE_MAX / sizeof(float) / n)
        return ruv__set_error(RUV_E_NOMEM, "%zu x %u floats overflow", n, idx->p.dim);
    *tmp = ruv__alloc(n * idx->p.dim * sizeof(float));
    if (!*tmp)
        return ruv__set_error(RUV_E_NOMEM, "out of memory normalising %zu vectors", n);
    for (size_t i = 0; i < n; i++)
        ruv__normalize(idx->k, data + i * idx->p.dim, *tmp + i * idx->p.dim, idx->p.dim);
    *use = *tmp;
    return RUV_OK;
}

static int check_new_ids_table(const struct ruv_index *idx, const uint64_t *ids, size_t n)
{
    struct ruv__idmap seen;
    int rc = ruv__idmap_init(&seen, n);
    for (size_t i = 0; !rc && i < n; i++) {
        uint32_t prev;
        if (ruv__idmap_get(&idx->map, idx->ids, ids[i], NULL))
            rc = ruv__set_error(RUV_E_INVAL, "id %llu (row %zu) is already in the index",
                                (unsigned long long)ids[i], i);
        else if (ruv__idmap_get(&seen, ids, ids[i], &prev))
            rc = ruv__set_error(RUV_E_INVAL, "id %llu appears twice (rows %u and %zu)",
                                (unsigned long long)ids[i], prev, i);
        else
            ruv__idmap_put(&seen, ids, (uint32_t)i);
    }
    ruv__idmap_free(&seen);
    return rc;
}

/* Rejects ids already present or repeated within ids; *dense says whether
 * they keep the map dense (they continue its row numbering: ids[i] == n + i). */
static int check_new_ids(const struct ruv_index *idx, const uint64_t *ids, size_t n, int *dense)
{
    *dense = idx->map.dense;
    for (size_t i = 0; i < n && *dense; i++)
        *dense = ids[i] == idx->n + i;
    return *dense ? RUV_OK : check_new_ids_table(idx, ids, n);
}

/* Appends already validated rows (ids NULL: row numbers, which keeps a dense
 * map dense); on failure the index is unchanged. */
static int append_rows(struct ruv_index *idx, const float *rows, size_t n, const uint64_t *ids,
                       int dense)
{
    if (idx->n + n > UINT32_MAX)
        return ruv__set_error(RUV_E_INVAL, "an index holds at most %u vectors", UINT32_MAX);
    int rc = own_arrays(idx);
    if (!rc)
        rc = reserve_rows(idx, n);
    if (!rc)
        rc = ruv__idmap_reserve(&idx->map, idx->ids, n, dense);
    if (rc)
        return rc;
    size_t first = idx->n;
    for (size_t i = 0; i < n; i++)
        idx->ids[first + i] = ids ? ids[i] : (uint64_t)(first + i);
    if (idx->keeps_vectors)
        memcpy(idx->vecs + first * idx->p.dim, rows, n * idx->p.dim * sizeof(float));
    idx->n += n;
    rc = idx->vt->add(idx, rows, n, first);
    if (rc) {
        idx->n = first;
        return rc;
    }
    for (size_t i = 0; i < n; i++)
        ruv__idmap_put(&idx->map, idx->ids, (uint32_t)(first + i));
    return RUV_OK;
}

int ruv_index_add(ruv_index *idx, const float *data, size_t n, const uint64_t *ids)
{
    if (!idx || (n && (!data || !ids)))
        return ruv__set_error(RUV_E_INVAL, "ruv_index_add: NULL argument");
    if (n == 0)
        return RUV_OK;
    int dense;
    int rc = ruv__index_check_file(idx);
    if (!rc)
        rc = check_new_ids(idx, ids, n, &dense);
    float *tmp = NULL;
    const float *rows = NULL;
    if (!rc)
        rc = prepare_rows(idx, data, n, &tmp, &rows);
    if (!rc)
        rc = ruv__cancel_check("add");
    if (!rc)
        rc = append_rows(idx, rows, n, ids, dense);
    free(tmp);
    return rc;
}

int ruv_index_build(ruv_engine *eng, const ruv_index_params *p, const float *data, size_t n,
                    const uint64_t *ids, ruv_index **out)
{
    return ruv__index_build(eng, p, data, n, ids, 0, out);
}

int ruv__index_build(ruv_engine *eng, const ruv_index_params *p, const float *data, size_t n,
                     const uint64_t *ids, unsigned threads, ruv_index **out)
{
    if (!out)
        return ruv__set_error(RUV_E_INVAL, "ruv_index_build: out is NULL");
    *out = NULL;
    if (n && !data)
        return ruv__set_error(RUV_E_INVAL, "ruv_index_build: data is NULL");
    ruv_index_params planned;
    int rc = ruv__plan_resolve(p, n, 0, &planned);
    if (rc)
        return rc;
    p = &planned;
    struct ruv_index *idx = NULL;
    rc = ruv__index_alloc(eng, p, &idx);
    if (rc)
        return rc;
    if (threads)
        idx->threads = threads;
    int dense = 1;
    if (ids)
        rc = check_new_ids(idx, ids, n, &dense);
    float *tmp = NULL;
    const float *rows = NULL;
    if (!rc)
        rc = prepare_rows(idx, data, n, &tmp, &rows);
    if (!rc)
        rc = ruv__cancel_check("build");
    if (!rc && p->nlist > 0 && p->type != RUV_INDEX_FLAT_F32 && p->nlist > n)
        rc = ruv__set_error(RUV_E_INVAL, "nlist %u is more than the %zu vectors to build from",
                            p->nlist, n);
    if (!rc)
        rc = idx->vt->init(idx);
    if (!rc && idx->vt->train && n)
        rc = idx->vt->train(idx, rows, n);
    if (!rc)
        rc = append_rows(idx, rows, n, ids, dense);
    if (!rc && p->type != RUV_INDEX_FLAT_F32)
        rc = ruv__calibrate(idx, rows, n);
    if (!rc) /* raised during the last serial copy: the caller asked for no index */
        rc = ruv__cancel_check("build");
    free(tmp);
    if (rc) {
        ruv_index_free(idx);
        return rc;
    }
    *out = idx;
    return RUV_OK;
}

int ruv_index_remove(ruv_index *idx, const uint64_t *ids, size_t n, size_t *removed)
{
    if (removed)
        *removed = 0;
    if (!idx || (n && !ids))
        return ruv__set_error(RUV_E_INVAL, "ruv_index_remove: NULL argument");
    int rc = ruv__index_check_file(idx);
    if (!rc)
        rc = own_arrays(idx);
    if (rc)
        return rc;
    /* Everything that can fail happens before the first row moves. */
    int present = 0;
    for (size_t i = 0; i < n && !present; i++)
        present = ruv__idmap_get(&idx->map, idx->ids, ids[i], NULL);
    if (present && idx->map.dense && (rc = ruv__idmap_reserve(&idx->map, idx->ids, 0, 0)))
        return rc;
    if (present && idx->vt->prepare_remove && (rc = idx->vt->prepare_remove(idx)))
        return rc;
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t row;
        if (!ruv__idmap_get(&idx->map, idx->ids, ids[i], &row))
            continue;
        size_t last = idx->n - 1;
        idx->vt->remove_row(idx, row, last);
        ruv__idmap_del(&idx->map, idx->ids, ids[i]);
        if (row != last) {
            ruv__idmap_move(&idx->map, idx->ids, idx->ids[last], row);
            idx->ids[row] = idx->ids[last];
            if (idx->keeps_vectors)
                memcpy(idx->vecs + (size_t)row * idx->p.dim, idx->vecs + last * idx->p.dim,
                       idx->p.dim * sizeof(float));
        }
        idx->n--;
        count++;
    }
    if (removed)
        *removed = count;
    return RUV_OK;
}

/* ---- accessors ---- */

int ruv_index_check_dim(const ruv_index *idx, size_t got, const char *what)
{
    if (!idx)
        return ruv__set_error(RUV_E_INVAL, "ruv_index_check_dim: index is NULL");
    if (got != idx->p.dim)
        return ruv__set_error(RUV_E_DIM, "dimension mismatch: index has %u, %s has %zu",
                              idx->p.dim, what ? what : "input", got);
    return RUV_OK;
}

size_t ruv_index_len(const ruv_index *idx) { return idx ? idx->n : 0; }
uint32_t ruv_index_dim(const ruv_index *idx) { return idx ? idx->p.dim : 0; }
const ruv_index_params *ruv_index_params_get(const ruv_index *idx) { return idx ? &idx->p : NULL; }

size_t ruv_index_memory_bytes(const ruv_index *idx)
{
    if (!idx)
        return 0;
    /* arrays borrowed from a loaded file hold n rows; our own hold cap */
    size_t rows = idx->borrowed ? idx->n : idx->cap;
    size_t b = sizeof *idx + rows * sizeof(uint64_t) + ruv__idmap_bytes(&idx->map);
    if (idx->keeps_vectors)
        b += rows * idx->p.dim * sizeof(float);
    return b + (idx->impl ? idx->vt->memory(idx) : 0);
}

/* RUV_OK when the original vectors can be read: the index keeps them and
 * (mapped) its file is unchanged. */
static int originals_readable(const ruv_index *idx)
{
    int rc = ruv__index_check_file(idx);
    if (rc)
        return rc;
    if (!idx->keeps_vectors)
        return ruv__set_error(RUV_E_UNSUPPORTED,
                              "a %s index keeps codes only, not the original vectors",
                              ruv_index_type_name((int)idx->p.type));
    return RUV_OK;
}

int ruv_index_get(const ruv_index *idx, uint64_t id, float *out)
{
    if (!idx || !out)
        return ruv__set_error(RUV_E_INVAL, "ruv_index_get: NULL argument");
    int frc = originals_readable(idx);
    if (frc)
        return frc;
    uint32_t row;
    if (!ruv__idmap_get(&idx->map, idx->ids, id, &row))
        return ruv__set_error(RUV_E_NOTFOUND, "id %llu is not in the index",
                              (unsigned long long)id);
    memcpy(out, idx->vecs + (size_t)row * idx->p.dim, idx->p.dim * sizeof(float));
    return RUV_OK;
}

int ruv_index_vectors(const ruv_index *idx, const float **vectors, const uint64_t **ids)
{
    if (!idx || !vectors)
        return ruv__set_error(RUV_E_INVAL, "ruv_index_vectors: NULL argument");
    int frc = originals_readable(idx);
    if (frc)
        return frc;
    *vectors = idx->vecs;
    if (ids)
        *ids = idx->ids;
    return RUV_OK;
}
