/* Index files: the common sections (META, IDS_, VECS) and the type's own,
 * in the checksummed container of persist.c. Load validates everything
 * before the index is handed out; with mmap, ids and vectors are used in
 * place and copied out only on the first change. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/engine.h>
#include <ruvector/error.h>
#include <ruvector/index.h>

#include "base/error.h"
#include "base/util.h"
#include "index/common.h"
#include "index/idmap.h"
#include "index/scratch.h"
#include "store/persist.h"

#define META_VERSION 1u
#define META_BYTES 80

static void meta_encode(const struct ruv_index *idx, uint8_t *m)
{
    memset(m, 0, META_BYTES);
    const ruv_index_params *p = &idx->p;
    ruv__put_u32(m + 0, META_VERSION);
    ruv__put_u32(m + 4, p->type);
    ruv__put_u32(m + 8, p->metric);
    ruv__put_u32(m + 12, p->dim);
    ruv__put_u32(m + 16, p->bits);
    ruv__put_u32(m + 20, p->nlist);
    ruv__put_u32(m + 24, p->query_bits);
    ruv__put_u32(m + 28, p->rerank_factor);
    ruv__put_u32(m + 32, p->train_size);
    ruv__put_u32(m + 36, p->kmeans_iters);
    ruv__put_u64(m + 40, p->seed);
    ruv__put_f32(m + 48, p->epsilon);
    ruv__put_u64(m + 56, (uint64_t)idx->n);
}

static int meta_decode(const void *m, size_t len, const char *path, ruv_index_params *p,
                       uint64_t *n)
{
    struct ruv__cursor c;
    ruv__cursor_init(&c, m, len, path, "META");
    uint32_t v[10];
    uint64_t seed;
    float eps;
    int rc = RUV_OK;
    for (int i = 0; i < 10 && !rc; i++)
        rc = ruv__get_u32(&c, &v[i]);
    if (!rc)
        rc = ruv__get_u64(&c, &seed);
    if (!rc)
        rc = ruv__get_f32(&c, &eps);
    uint32_t pad;
    if (!rc)
        rc = ruv__get_u32(&c, &pad);
    if (!rc)
        rc = ruv__get_u64(&c, n);
    if (rc)
        return rc;
    if (v[0] != META_VERSION)
        return ruv__set_error(RUV_E_CORRUPT, "META version %u is not %u", v[0], META_VERSION);
    ruv_index_params_init(p, (int)v[1], (int)v[2], v[3]);
    p->bits = v[4];
    p->nlist = v[5];
    p->query_bits = v[6];
    p->rerank_factor = v[7];
    p->train_size = v[8];
    p->kmeans_iters = v[9];
    p->seed = seed;
    p->epsilon = eps;
    return RUV_OK;
}

int ruv_index_save(const ruv_index *idx, const char *path)
{
    if (!idx || !path || !*path)
        return ruv__set_error(RUV_E_INVAL, "ruv_index_save: NULL or empty argument");
    struct ruv__writer w;
    int rc = ruv__index_check_file(idx);
    if (rc)
        return rc;
    rc = ruv__writer_open(&w, path);
    if (rc)
        return rc;
    uint8_t meta[META_BYTES];
    meta_encode(idx, meta);
    rc = ruv__writer_section(&w, "META", meta, sizeof meta);
    if (!rc)
        rc = ruv__writer_section(&w, "IDS_", idx->ids, idx->n * sizeof(uint64_t));
    if (!rc && idx->keeps_vectors)
        rc = ruv__writer_section(&w, "VECS", idx->vecs, idx->n * idx->p.dim * sizeof(float));
    if (!rc)
        rc = idx->vt->save(idx, &w);
    if (!rc)
        rc = ruv__plan_save(idx, &w);
    if (!rc)
        return ruv__writer_commit(&w);
    char detail[1024];
    snprintf(detail, sizeof detail, "%s", ruv_last_error());
    ruv__writer_abort(&w);
    return ruv__set_error(rc, "%s", detail);
}

/* Cosine indexes store their vectors normalised (zero vectors stay zero):
 * a file relabelled from another metric would rank by inner product and
 * call it cosine. */
static int check_unit_rows(const float *vecs, size_t n, uint32_t dim)
{
    for (size_t i = 0; i < n; i++) {
        double nn = 0.0;
        for (uint32_t j = 0; j < dim; j++)
            nn += (double)vecs[i * dim + j] * (double)vecs[i * dim + j];
        if (nn != 0.0 && fabs(nn - 1.0) > 1e-3)
            return ruv__set_error(RUV_E_CORRUPT,
                                  "stored vector %zu has squared norm %g: a cosine index keeps "
                                  "unit vectors (is the metric in META right?)",
                                  i, nn);
    }
    return RUV_OK;
}

static int load_into(ruv_engine *eng, struct ruv__reader *rd, const char *path,
                     ruv_index **out)
{
    const void *data;
    size_t len;
    ruv_index_params p;
    uint64_t n64;
    int rc = ruv__reader_section(rd, "META", &data, &len);
    if (!rc)
        rc = meta_decode(data, len, path, &p, &n64);
    if (rc)
        return rc;
    if (n64 > UINT32_MAX)
        return ruv__set_error(RUV_E_CORRUPT, "vector count %llu is out of range",
                              (unsigned long long)n64);
    struct ruv_index *idx = NULL;
    if ((rc = ruv__index_alloc(eng, &p, &idx)))
        return ruv__set_error(RUV_E_CORRUPT, "invalid parameters: %s", ruv_last_error());
    size_t n = (size_t)n64;
    const void *ids = NULL, *vecs = NULL;
    size_t ids_len = 0, vecs_len = 0;
    rc = ruv__reader_section(rd, "IDS_", &ids, &ids_len);
    if (!rc && ids_len != n * sizeof(uint64_t))
        rc = ruv__set_error(RUV_E_CORRUPT, "IDS_ holds %zu bytes for %zu vectors", ids_len, n);
    if (!rc && !idx->keeps_vectors && ruv__reader_has(rd, "VECS"))
        rc = ruv__set_error(RUV_E_CORRUPT, "section 'VECS' in a %s index, which keeps codes only",
                            ruv_index_type_name((int)p.type));
    if (!rc && idx->keeps_vectors) {
        rc = ruv__reader_section(rd, "VECS", &vecs, &vecs_len);
        if (!rc && vecs_len != n * p.dim * sizeof(float))
            rc = ruv__set_error(RUV_E_CORRUPT, "VECS holds %zu bytes for %zu x %u floats",
                                vecs_len, n, p.dim);
        if (!rc && (rc = ruv__check_finite(vecs, n, p.dim, "stored vector")))
            rc = ruv__set_error(RUV_E_CORRUPT, "%s", ruv_last_error());
        if (!rc && p.metric == RUV_METRIC_COSINE)
            rc = check_unit_rows(vecs, n, p.dim);
    }
    if (!rc && p.type != RUV_INDEX_FLAT_F32) {
        /* RaBitQ's init allocates max(nlist, 1) x dim centroids (twice)
         * before its load reads them: check here that the file holds them,
         * so that a few bytes of META cannot ask for up to 256 GiB. */
        const void *cent;
        size_t cent_len = 0, want = (size_t)(p.nlist ? p.nlist : 1) * p.dim * sizeof(float);
        rc = ruv__reader_section(rd, "CENT", &cent, &cent_len);
        if (!rc && cent_len != want)
            rc = ruv__set_error(RUV_E_CORRUPT, "section 'CENT' holds %zu bytes, expected %zu",
                                cent_len, want);
    }
    const uint64_t *keys = ids;
    int dense = 1;
    for (size_t i = 0; !rc && i < n && dense; i++)
        dense = keys[i] == i;
    if (!rc)
        rc = ruv__idmap_reserve(&idx->map, keys, n, dense);
    for (size_t i = 0; !rc && i < n; i++) {
        if (!dense && ruv__idmap_get(&idx->map, keys, keys[i], NULL))
            rc = ruv__set_error(RUV_E_CORRUPT, "id %llu appears twice",
                                (unsigned long long)keys[i]);
        else
            ruv__idmap_put(&idx->map, keys, (uint32_t)i);
    }
    if (!rc) {
        /* Borrow ids and vectors from the image; it lives as long as the index. */
        idx->ids = (uint64_t *)ids;
        idx->vecs = (float *)vecs;
        idx->n = n;
        idx->cap = n;
        idx->borrowed = 1;
        rc = idx->vt->init(idx);
    }
    if (!rc)
        rc = idx->vt->load(idx, rd);
    if (!rc)
        rc = ruv__plan_load(idx, rd);
    if (rc) {
        idx->borrowed = 1; /* arrays belong to the reader, which the caller closes */
        ruv_index_free(idx);
        return rc;
    }
    idx->mapping_is_mmap = ruv__reader_detach(rd, &idx->mapping, &idx->mapping_len);
    if (idx->mapping_is_mmap) {
        if (!(idx->mapped_path = ruv__strdup(path))) {
            ruv_index_free(idx);
            return ruv__set_error(RUV_E_NOMEM, "out of memory");
        }
        ruv__reader_detach_file(rd, &idx->mapped);
    }
    *out = idx;
    return RUV_OK;
}

int ruv_index_load(ruv_engine *eng, const char *path, ruv_index **out)
{
    return ruv_index_load_ex(eng, path, 0, out);
}

int ruv_index_load_ex(ruv_engine *eng, const char *path, unsigned flags, ruv_index **out)
{
    if (!out)
        return ruv__set_error(RUV_E_INVAL, "ruv_index_load: out is NULL");
    *out = NULL;
    if (!eng || !path || !*path)
        return ruv__set_error(RUV_E_INVAL, "ruv_index_load: NULL or empty argument");
    if (flags & ~(RUV_INDEX_LOAD_POPULATE | RUV_INDEX_LOAD_MMAP))
        return ruv__set_error(RUV_E_INVAL, "ruv_index_load: unknown flags 0x%x", flags);
    if ((flags & RUV_INDEX_LOAD_POPULATE) && (flags & RUV_INDEX_LOAD_MMAP))
        return ruv__set_error(RUV_E_INVAL,
                              "ruv_index_load: RUV_INDEX_LOAD_POPULATE and RUV_INDEX_LOAD_MMAP "
                              "exclude each other");
    struct ruv__reader rd;
    /* By default the file is read into memory: nothing stays mapped that a
     * later truncation or rewrite of the file could pull away (SIGBUS) or
     * change. Mapping is the caller's explicit choice, checked before use. */
    const int use_mmap = (flags & RUV_INDEX_LOAD_MMAP) != 0;
    int rc = ruv__reader_open(&rd, path, use_mmap);
    if (rc)
        return rc;
    rc = load_into(eng, &rd, path, out);
    if (rc) {
        char detail[1024];
        snprintf(detail, sizeof detail, "%s", ruv_last_error());
        ruv__reader_close(&rd);
        /* container messages already name the file; index-level ones do not */
        return strstr(detail, path) ? ruv__set_error(rc, "%s", detail)
                                    : ruv__set_error(rc, "'%s': %s", path, detail);
    }
    ruv__reader_close(&rd); /* detached: closes nothing the index uses */
    if (flags & RUV_INDEX_LOAD_POPULATE) {
        /* populate: this thread's first search finds its scratch resident */
        ruv_search_params sp;
        ruv_search_params_init(&sp, 10);
        ruv__scratch_reserve((*out)->vt->scratch_bytes(*out, &sp), (*out)->p.dim, sp.k);
    }
    return RUV_OK;
}
