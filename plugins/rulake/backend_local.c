/* LocalBackend (rulake.md §4, §10.2): in-memory collections of rows kept
 * sorted by id. Every change bumps the collection's numeric generation
 * (1 after the first put): the lake compares v2, so a counter that starts
 * again at 1 cannot make stale rows look fresh.
 *
 * The content digest (§6.2) is computed when rows are put, not when the
 * lake first describes them: a prime then costs the index build and no
 * hash (rulake.md §12 T5). Its leaves (runs of L rows in id order) are
 * kept with the rows (local_rows.h), and a change re-hashes only the
 * leaves whose bytes it changed: rows it added, replaced by other values
 * or moved; the others keep their digests. Rows nobody else holds are
 * edited in place, so a stream of small batches neither copies nor
 * re-faults the whole collection each time. */
#include "config.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/error.h>

#include "lake_backends.h"
#include "lake_error.h"
#include "lake_internal.h"
#include "ruvec.h"
#include "digest_pool.h"
#include "local_rows.h"
#include "witness.h"

struct lcoll {
    struct lcoll *next;
    char *name;
    uint32_t dim;
    uint64_t gen;
    struct lrows *rows; /* NULL when the collection has no rows */
    int digest_ok;
    uint8_t digest[32];
};

static uint64_t coll_n(const struct lcoll *c) { return c->rows ? c->rows->n : 0; }

struct ruv_lake_local {
    atomic_uint refs;
    const struct ruv_host *host; /* its pool hashes rows as they are put; may be NULL */
    char name[LAKE_NAME_MAX + 1];
    pthread_mutex_t mu;
    struct lcoll *colls;
};

int ruv__lake_local_new(const char *name, const struct ruv_host *host,
                        struct ruv_lake_local **out)
{
    if (!out)
        return ruv__detail_set(RUV_E_INVAL, "local_new: out is NULL");
    *out = NULL;
    int st = ruv__lake_name_check("backend", name);
    if (st != RUV_OK)
        return st;
    struct ruv_lake_local *lb = calloc(1, sizeof *lb);
    if (!lb)
        return ruv__detail_set(RUV_E_NOMEM, "out of memory for a LocalBackend");
    atomic_init(&lb->refs, 1);
    lb->host = host;
    strcpy(lb->name, name);
    pthread_mutex_init(&lb->mu, NULL);
    *out = lb;
    return RUV_OK;
}

static void coll_free(struct lcoll *c)
{
    free(c->name);
    ruv__lrows_release(c->rows);
    free(c);
}

void ruv__lake_local_release(struct ruv_lake_local *lb)
{
    if (!lb || atomic_fetch_sub(&lb->refs, 1) != 1)
        return;
    for (struct lcoll *c = lb->colls, *next; c; c = next) {
        next = c->next;
        coll_free(c);
    }
    pthread_mutex_destroy(&lb->mu);
    free(lb);
}

static struct lcoll *find(struct ruv_lake_local *lb, const char *name)
{
    for (struct lcoll *c = lb->colls; c; c = c->next)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

static int rows_args(const char *coll, const uint64_t *ids, const float *vectors, uint64_t n,
                     uint32_t dim)
{
    if (!coll || !*coll)
        return ruv__detail_set(RUV_E_INVAL, "collection name is NULL or empty");
    if (dim < 1 || dim > RUV_LAKE_RUVEC_MAX_DIM)
        return ruv__detail_set(RUV_E_INVAL, "dim %u is outside 1..%u", dim,
                               RUV_LAKE_RUVEC_MAX_DIM);
    if (n && (!ids || !vectors))
        return ruv__detail_set(RUV_E_INVAL, "%llu rows but ids or vectors is NULL",
                               (unsigned long long)n);
    if (n > RUV_LAKE_RUVEC_MAX_COUNT)
        return ruv__detail_set(RUV_E_INVAL, "%llu rows, over %u", (unsigned long long)n,
                               RUV_LAKE_RUVEC_MAX_COUNT);
    return RUV_OK;
}

/* Whether ids[0..n) ascend strictly (the usual batch): no sort then. */
static int ascending(const uint64_t *ids, uint64_t n)
{
    for (uint64_t i = 1; i < n; i++)
        if (ids[i] <= ids[i - 1])
            return 0;
    return 1;
}

static struct lcoll *digested(struct ruv_lake_local *lb, const char *coll,
                              const struct ruv_host *pool, int defer_tail, int *st);

static int put(struct ruv_lake_local *lb, const char *coll, const uint64_t *ids,
               const float *vectors, uint64_t n, uint32_t dim, int replace)
{
    if (!lb)
        return ruv__detail_set(RUV_E_INVAL, "LocalBackend is NULL");
    int st = rows_args(coll, ids, vectors, n, dim);
    uint64_t *order = NULL;
    if (st == RUV_OK && !ascending(ids, n))
        st = ruv__lake_sort_order(ids, n, &order);
    if (st == RUV_OK)
        st = ruv__lake_rows_check(ids, vectors, order, n, dim);
    if (st != RUV_OK) {
        free(order);
        return ruv__detail_prefix(st, "LocalBackend '%s' collection '%.200s'",
                                  lb ? lb->name : "?", coll ? coll : "");
    }
    pthread_mutex_lock(&lb->mu);
    struct lcoll *c = find(lb, coll);
    if (c && !replace && c->dim != dim) {
        st = ruv__detail_set(RUV_E_DIM, "LocalBackend '%s' collection '%.200s' has dim %u, the "
                                        "rows have %u", lb->name, coll, c->dim, dim);
    } else if (!c) {
        c = calloc(1, sizeof *c);
        if (!c || !(c->name = strdup(coll))) {
            free(c);
            c = NULL;
            st = ruv__detail_set(RUV_E_NOMEM, "out of memory for a collection");
        } else {
            c->next = lb->colls;
            lb->colls = c;
        }
    }
    if (st == RUV_OK) {
        st = replace ? ruv__lrows_replace(&c->rows, dim, ids, vectors, order, n)
                     : ruv__lrows_upsert(&c->rows, dim, ids, vectors, order, n);
        if (st == RUV_OK)
            c->dim = dim;
        if (st == RUV_OK) {
            c->gen++;
            c->digest_ok = 0;
            /* The digest now, on the pool of the engine that made lb. A
             * failure here (out of memory) leaves the rows put and the
             * missing leaves to the next describe, which reports it. */
            int hs;
            digested(lb, coll, lb->host, 1, &hs);
        }
    }
    pthread_mutex_unlock(&lb->mu);
    free(order);
    return st;
}

int ruv__lake_local_upsert(struct ruv_lake_local *lb, const char *coll, const uint64_t *ids,
                           const float *vectors, uint64_t n, uint32_t dim)
{
    return put(lb, coll, ids, vectors, n, dim, 0);
}

int ruv__lake_local_put_collection(struct ruv_lake_local *lb, const char *coll,
                                   const uint64_t *ids, const float *vectors, uint64_t n,
                                   uint32_t dim)
{
    return put(lb, coll, ids, vectors, n, dim, 1);
}

int ruv__lake_local_delete(struct ruv_lake_local *lb, const char *coll, const uint64_t *ids,
                           uint64_t n, uint64_t *removed)
{
    if (removed)
        *removed = 0;
    if (!lb || !coll || (n && !ids))
        return ruv__detail_set(RUV_E_INVAL, "local_delete: backend, collection or ids is NULL");
    int st = RUV_OK;
    pthread_mutex_lock(&lb->mu);
    struct lcoll *c = find(lb, coll);
    if (!c) {
        st = ruv__detail_set(RUV_E_NOTFOUND, "unknown collection '%.200s'", coll);
    } else {
        /* Absent ids and repeats are no error: *removed says what went. */
        uint64_t gone = 0;
        st = ruv__lrows_delete(&c->rows, ids, n, &gone);
        if (gone) {
            c->gen++;
            c->digest_ok = 0;
            int hs;
            digested(lb, coll, lb->host, 1, &hs);
        }
        if (removed)
            *removed = gone;
    }
    pthread_mutex_unlock(&lb->mu);
    return st;
}

int ruv__lake_local_drop(struct ruv_lake_local *lb, const char *coll)
{
    if (!lb || !coll)
        return ruv__detail_set(RUV_E_INVAL, "local_drop_collection: NULL argument");
    int st = ruv__detail_set(RUV_E_NOTFOUND, "unknown collection '%.200s'", coll);
    pthread_mutex_lock(&lb->mu);
    for (struct lcoll **p = &lb->colls; *p; p = &(*p)->next)
        if (strcmp((*p)->name, coll) == 0) {
            struct lcoll *c = *p;
            *p = c->next;
            coll_free(c);
            st = RUV_OK;
            break;
        }
    pthread_mutex_unlock(&lb->mu);
    return st;
}

/* Under lb->mu: the collection, its digest computed for its current rows;
 * NULL (status in *st) when it is gone. The leaves the rows lack are hashed
 * with lb->mu released (a reference keeps them, and rows someone else holds
 * are never edited in place: local_rows.h) on the pool's threads: a pool
 * thread that waits for its helpers may pick up a queued request for this
 * backend, which must not find the lock held. Two callers may hash the same
 * leaves at once; both store the same bytes.
 *
 * A writer passes defer_tail: a partial last leaf (fewer than L rows, the
 * one an append grows) is left to the next describe or pull, so a stream of
 * small appends hashes it once per reader, not once per batch; the digest
 * then stays incomplete (digest_ok 0) and the call returns the collection. */
static struct lcoll *digested(struct ruv_lake_local *lb, const char *coll,
                              const struct ruv_host *pool, int defer_tail, int *st)
{
    for (;;) {
        struct lcoll *c = find(lb, coll);
        if (!c) {
            *st = ruv__detail_set(RUV_E_NOTFOUND, "unknown collection '%.200s'", coll);
            return NULL;
        }
        struct lrows *r = c->rows;
        if (!c->digest_ok && !r) {
            if ((*st = ruv__lake_content_hash(NULL, NULL, NULL, 0, c->dim, c->digest)) != RUV_OK)
                return NULL;
            c->digest_ok = 1;
        }
        if (!c->digest_ok && r->root_ok) {
            memcpy(c->digest, r->root, 32);
            c->digest_ok = 1;
        }
        if (c->digest_ok) {
            *st = RUV_OK;
            return c;
        }
        uint64_t n = r->n, nl = r->nleaves, nmiss = 0;
        uint32_t dim = c->dim;
        uint64_t *which = malloc(nl ? nl * sizeof *which : 1);
        uint8_t *leaves = malloc(nl ? nl * 32 : 1), root[32];
        if (!which || !leaves) {
            free(which);
            free(leaves);
            *st = ruv__detail_set(RUV_E_NOMEM, "out of memory for %llu leaf digests",
                                  (unsigned long long)nl);
            return NULL;
        }
        uint64_t tail = nl; /* nl: no leaf deferred */
        if (defer_tail && nl && !r->leaf_ok[nl - 1] && n % RUV_LAKE_CONTENT_LEAF_ROWS)
            tail = nl - 1;
        for (uint64_t j = 0; j < nl; j++)
            if (r->leaf_ok[j])
                memcpy(leaves + j * 32, r->leaves + j * 32, 32);
            else if (j != tail)
                which[nmiss++] = j;
        if (tail != nl && nmiss == 0) {
            free(which);
            free(leaves);
            *st = RUV_OK;
            return c;
        }
        atomic_fetch_add(&r->refs, 1);
        pthread_mutex_unlock(&lb->mu);
        int hs = ruv__lake_leaves_pooled(pool, r->ids, r->vecs, n, dim, which, nmiss, leaves);
        if (hs == RUV_OK && tail == nl)
            hs = ruv__lake_content_root(n, dim, leaves, nl, root);
        pthread_mutex_lock(&lb->mu);
        if (hs == RUV_OK) { /* the rows' own: right even if c changed meanwhile */
            for (uint64_t k = 0; k < nmiss; k++) {
                memcpy(r->leaves + which[k] * 32, leaves + which[k] * 32, 32);
                r->leaf_ok[which[k]] = 1;
            }
            if (tail == nl) {
                memcpy(r->root, root, 32);
                r->root_ok = 1;
            }
        }
        ruv__lrows_release(r);
        free(which);
        free(leaves);
        if (hs != RUV_OK) {
            *st = hs;
            return NULL;
        }
        if (tail != nl) { /* the tail is the next reader's */
            *st = RUV_OK;
            return find(lb, coll);
        }
    }
}

/* Under lb->mu, for a collection whose digest is current. */
static int fill_desc(struct ruv_lake_local *lb, struct lcoll *c, struct ruv_lake_desc *d)
{
    /* "local://<backend>/<collection>", put together by hand: snprintf
     * was most of a FRESH check's cost on this backend. */
    static const char scheme[] = "local://";
    const size_t ls = sizeof scheme - 1, lb_n = strlen(lb->name), lc = strlen(c->name);
    const size_t len = ls + lb_n + 1 + lc;
    if (len >= sizeof d->data_ref)
        return ruv__detail_set(RUV_E_INVAL, "collection name too long for a data_ref");
    memcpy(d->data_ref, scheme, ls);
    memcpy(d->data_ref + ls, lb->name, lb_n);
    d->data_ref[ls + lb_n] = '/';
    memcpy(d->data_ref + ls + lb_n + 1, c->name, lc + 1); /* with its NUL */
    d->data_ref_len = (uint32_t)len;
    d->dim = c->dim;
    d->gen_is_opaque = 0;
    d->gen_num = c->gen;
    d->count = coll_n(c);
    d->has_digest = 1;
    memcpy(d->content_digest, c->digest, 32);
    return RUV_OK;
}

static int local_describe(void *state, const char *coll, struct ruv_lake_desc *d)
{
    struct ruv_lake_local *lb = state;
    int st;
    pthread_mutex_lock(&lb->mu);
    struct lcoll *c = digested(lb, coll, ruv__lake_pool_get(), 0, &st);
    if (c)
        st = fill_desc(lb, c, d);
    pthread_mutex_unlock(&lb->mu);
    return st;
}

/* Shares the current rows (a reference the lake drops through release):
 * the rows a pull returns are exactly those the description's digest was
 * computed from, and nothing is copied. */
static int local_pull(void *state, const char *coll, struct ruv_lake_batch *out)
{
    struct ruv_lake_local *lb = state;
    int st = RUV_OK;
    pthread_mutex_lock(&lb->mu);
    struct lcoll *c = digested(lb, coll, ruv__lake_pool_get(), 0, &st);
    if (c)
        st = fill_desc(lb, c, &out->desc);
    if (st == RUV_OK) {
        out->dim = c->dim;
        out->n = coll_n(c);
        out->ids = c->rows ? c->rows->ids : NULL;
        out->vectors = c->rows ? c->rows->vecs : NULL;
        out->owner = c->rows;
        out->release = c->rows ? ruv__lrows_release : NULL;
        if (c->rows)
            atomic_fetch_add(&c->rows->refs, 1);
    }
    pthread_mutex_unlock(&lb->mu);
    return st;
}

int ruv__lake_local_is(const struct ruv_lake_backend *b)
{
    return b && b->pull == local_pull && b->describe == local_describe;
}

static int local_list(void *state, int (*emit)(void *ctx, const char *c), void *ctx)
{
    struct ruv_lake_local *lb = state;
    int st = RUV_OK;
    pthread_mutex_lock(&lb->mu);
    for (struct lcoll *c = lb->colls; c && st == RUV_OK; c = c->next)
        st = emit(ctx, c->name);
    pthread_mutex_unlock(&lb->mu);
    return st;
}

static void local_destroy(void *state) { ruv__lake_local_release(state); }

int ruv__lake_local_backend(struct ruv_lake_local *lb, struct ruv_lake_backend *out)
{
    if (!lb || !out)
        return ruv__detail_set(RUV_E_INVAL, "local_backend: NULL argument");
    atomic_fetch_add(&lb->refs, 1);
    *out = (struct ruv_lake_backend){.struct_size = sizeof *out,
                                     .flags = RUV_LAKE_BACKEND_THREADSAFE,
                                     .name = lb->name,
                                     .state = lb,
                                     .describe = local_describe,
                                     .pull = local_pull,
                                     .list_collections = local_list,
                                     .destroy = local_destroy};
    return RUV_OK;
}
