/* A LocalBackend collection's rows and their leaf digests (contract in
 * local_rows.h). The changes find their places by binary search and move
 * rows in runs (memmove), so a batch of m rows into n costs O(m log n) plus
 * the rows that shift; a delete tests each row once against a hash set of
 * the ids to delete, O(n + m). Nothing here hashes: the backend re-hashes
 * the leaves left without a digest, on the engine's pool. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <ruvector/error.h>

#include "lake_error.h"
#include "local_rows.h"
#include "witness.h"

#define L RUV_LAKE_CONTENT_LEAF_ROWS

static uint64_t leaves_of(uint64_t n) { return (n + L - 1) / L; }

static uint64_t leaf_rows(uint64_t n, uint64_t j)
{
    uint64_t rows = n - j * L;
    return rows < L ? rows : L;
}

static uint64_t row_of(const uint64_t *order, uint64_t k) { return order ? order[k] : k; }

void ruv__lrows_release(void *owner)
{
    struct lrows *r = owner;
    if (!r || atomic_fetch_sub(&r->refs, 1) != 1)
        return;
    free(r->ids);
    free(r->vecs);
    free(r->leaves);
    free(r->leaf_ok);
    free(r);
}

static struct lrows *lrows_new(uint32_t dim, uint64_t cap)
{
    struct lrows *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    atomic_init(&r->refs, 1);
    r->dim = dim;
    r->cap = cap ? cap : 1;
    r->leaf_cap = leaves_of(r->cap);
    r->ids = malloc(r->cap * sizeof *r->ids);
    r->vecs = malloc(r->cap * dim * sizeof *r->vecs);
    r->leaves = malloc(r->leaf_cap * 32);
    r->leaf_ok = calloc(r->leaf_cap, 1);
    if (!r->ids || !r->vecs || !r->leaves || !r->leaf_ok) {
        ruv__lrows_release(r);
        return NULL;
    }
    return r;
}

/* Room for want rows and their leaves in r (its only holder): grows by half
 * at least, so a stream of appends copies each row O(1) times on average
 * (realloc of a large block remaps pages rather than copying them). */
static int lrows_reserve(struct lrows *r, uint64_t want)
{
    if (want > r->cap) {
        uint64_t cap = r->cap + r->cap / 2;
        if (cap < want)
            cap = want;
        uint64_t *ids = realloc(r->ids, cap * sizeof *ids);
        if (!ids)
            return RUV_E_NOMEM;
        r->ids = ids;
        float *vecs = realloc(r->vecs, cap * r->dim * sizeof *vecs);
        if (!vecs)
            return RUV_E_NOMEM; /* ids has more room than cap says: harmless */
        r->vecs = vecs;
        r->cap = cap;
    }
    uint64_t nl = leaves_of(want);
    if (nl > r->leaf_cap) {
        uint64_t lc = r->leaf_cap + r->leaf_cap / 2;
        if (lc < nl)
            lc = nl;
        uint8_t *leaves = realloc(r->leaves, lc * 32);
        if (!leaves)
            return RUV_E_NOMEM;
        r->leaves = leaves;
        uint8_t *ok = realloc(r->leaf_ok, lc);
        if (!ok)
            return RUV_E_NOMEM;
        memset(ok + r->leaf_cap, 0, lc - r->leaf_cap);
        r->leaf_ok = ok;
        r->leaf_cap = lc;
    }
    return RUV_OK;
}

/* Gives back room a shrunken collection no longer needs (best effort). */
static void lrows_trim(struct lrows *r)
{
    if (r->cap <= 2 * r->n + 1024)
        return;
    uint64_t cap = r->n ? r->n : 1;
    uint64_t *ids = realloc(r->ids, cap * sizeof *ids);
    if (ids)
        r->ids = ids;
    float *vecs = ids ? realloc(r->vecs, cap * r->dim * sizeof *vecs) : NULL;
    if (vecs) {
        r->vecs = vecs;
        r->cap = cap;
    }
}

/* Leaves covering rows [lo, hi) lose their digests. */
static void mark(uint8_t *dirty, uint64_t lo, uint64_t hi)
{
    if (lo >= hi)
        return;
    for (uint64_t j = lo / L; j <= (hi - 1) / L; j++)
        dirty[j] = 1;
}

/* dst now holds n rows that replace src's on rows (dst may be src, edited
 * in place): leaf j keeps src's digest when it holds the same number of
 * rows and no row of it is marked dirty (new, replaced by other bytes, or
 * moved from another position); the root survives when every leaf does. */
static void settle_leaves(struct lrows *dst, uint64_t n, const struct lrows *src, uint64_t on,
                          const uint8_t *dirty)
{
    uint64_t nl = leaves_of(n), onl = src ? leaves_of(on) : 0;
    int all = src && src->root_ok && n == on;
    for (uint64_t j = 0; j < nl; j++) {
        int keep = j < onl && !dirty[j] && src->leaf_ok[j] && leaf_rows(n, j) == leaf_rows(on, j);
        if (keep && dst != src)
            memcpy(dst->leaves + j * 32, src->leaves + j * 32, 32);
        dst->leaf_ok[j] = (uint8_t)keep;
        all &= keep;
    }
    if (all && dst != src)
        memcpy(dst->root, src->root, 32);
    dst->root_ok = all;
    dst->nleaves = nl;
    dst->n = n;
}

/* Under the backend's lock, a count of 1 is the caller's own reference:
 * nobody else can take one without that lock. */
static int only_holder(const struct lrows *r)
{
    return r && atomic_load_explicit(&r->refs, memory_order_acquire) == 1;
}

/* First index in a[lo, hi) whose id is >= x (or > x when after is set). */
static uint64_t search(const uint64_t *a, uint64_t lo, uint64_t hi, uint64_t x, int after)
{
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (a[mid] < x || (after && a[mid] == x))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int ruv__lrows_upsert(struct lrows **rp, uint32_t dim, const uint64_t *ids, const float *vectors,
                      const uint64_t *order, uint64_t m)
{
    struct lrows *src = *rp;
    uint64_t n = src ? src->n : 0;
    if (m == 0 && src)
        return RUV_OK;
    /* How many of the ids are there already (each searched for from where
     * the previous, smaller one was): the new count. */
    uint64_t replaced = 0;
    for (uint64_t k = 0, lo = 0; k < m && n; k++) {
        uint64_t id = ids[row_of(order, k)];
        lo = search(src->ids, lo, n, id, 0);
        replaced += lo < n && src->ids[lo] == id;
    }
    uint64_t nn = n + m - replaced;
    uint8_t *dirty = calloc(leaves_of(nn) ? leaves_of(nn) : 1, 1);
    if (!dirty)
        return ruv__detail_set(RUV_E_NOMEM, "out of memory merging %llu rows",
                               (unsigned long long)m);
    int alias = only_holder(src);
    struct lrows *dst = alias ? src : lrows_new(dim, nn);
    if (!dst || (alias && lrows_reserve(src, nn) != RUV_OK)) {
        free(dirty);
        return ruv__detail_set(RUV_E_NOMEM, "out of memory merging %llu rows into %llu",
                               (unsigned long long)m, (unsigned long long)n);
    }
    const uint64_t *sid = src ? src->ids : NULL;
    const float *sv = src ? src->vecs : NULL;
    size_t rowb = (size_t)dim * sizeof *sv;
    /* From the top down, so that in place no row is overwritten before it
     * moved: old rows [0, i) and output [0, o) are still to be placed. */
    uint64_t i = n, o = nn;
    for (uint64_t j = m; j > 0; j--) {
        uint64_t r = row_of(order, j - 1), id = ids[r];
        const float *nv = vectors + r * dim;
        uint64_t k = search(sid, 0, i, id, 1);
        if (k < i) { /* old rows above id: up by the inserts still to come */
            uint64_t cnt = i - k, to = o - cnt;
            if (to != k || !alias) {
                memmove(dst->ids + to, sid + k, cnt * sizeof *sid);
                memmove(dst->vecs + to * dim, sv + k * dim, cnt * rowb);
            }
            if (to != k)
                mark(dirty, to, o);
            o = to;
            i = k;
        }
        o--;
        if (i > 0 && sid[i - 1] == id) {
            i--;
            if (o != i || memcmp(sv + i * dim, nv, rowb) != 0)
                mark(dirty, o, o + 1);
        } else {
            mark(dirty, o, o + 1);
        }
        dst->ids[o] = id;
        memcpy(dst->vecs + o * dim, nv, rowb);
    }
    if (!alias && i) { /* rows below every new id: where they were (o == i) */
        memcpy(dst->ids, sid, i * sizeof *sid);
        memcpy(dst->vecs, sv, i * rowb);
    }
    settle_leaves(dst, nn, src, n, dirty);
    free(dirty);
    if (!alias) {
        ruv__lrows_release(src);
        *rp = dst;
    }
    return RUV_OK;
}

int ruv__lrows_replace(struct lrows **rp, uint32_t dim, const uint64_t *ids, const float *vectors,
                       const uint64_t *order, uint64_t m)
{
    struct lrows *src = *rp;
    if (m == 0) {
        ruv__lrows_release(src);
        *rp = NULL;
        return RUV_OK;
    }
    const struct lrows *same = src && src->dim == dim ? src : NULL;
    uint64_t n = same ? same->n : 0;
    uint8_t *dirty = calloc(leaves_of(m), 1);
    if (!dirty)
        return ruv__detail_set(RUV_E_NOMEM, "out of memory putting %llu rows",
                               (unsigned long long)m);
    int alias = same && only_holder(src);
    struct lrows *dst = alias ? src : lrows_new(dim, m);
    if (!dst || (alias && lrows_reserve(src, m) != RUV_OK)) {
        free(dirty);
        return ruv__detail_set(RUV_E_NOMEM, "out of memory putting %llu rows",
                               (unsigned long long)m);
    }
    size_t rowb = (size_t)dim * sizeof(float);
    /* Leaf by leaf: compared with the old leaf at the same place (a full
     * put of mostly unchanged rows keeps those leaves' digests), then
     * written; in place a leaf is compared before it is overwritten. */
    for (uint64_t j = 0; j < leaves_of(m); j++) {
        uint64_t first = j * L, rows = leaf_rows(m, j);
        int kept = same && j < leaves_of(n) && leaf_rows(n, j) == rows && same->leaf_ok[j];
        for (uint64_t k = first; k < first + rows; k++) {
            uint64_t r = row_of(order, k);
            if (kept && (same->ids[k] != ids[r] ||
                         memcmp(same->vecs + k * dim, vectors + r * dim, rowb) != 0))
                kept = 0;
            dst->ids[k] = ids[r];
            memcpy(dst->vecs + k * dim, vectors + r * dim, rowb);
        }
        dirty[j] = (uint8_t)!kept;
    }
    settle_leaves(dst, m, same, n, dirty);
    free(dirty);
    if (alias) {
        lrows_trim(dst);
    } else {
        ruv__lrows_release(src);
        *rp = dst;
    }
    return RUV_OK;
}

/* The ids to delete, in an open-addressed table (0 marks a free slot; id 0
 * itself is a flag). */
struct idset {
    uint64_t *slot, mask;
    int has_zero;
};

static uint64_t mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9u;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

static int idset_init(struct idset *s, const uint64_t *ids, uint64_t m)
{
    uint64_t cap = 16;
    while (cap < 2 * m)
        cap *= 2;
    s->slot = calloc(cap, sizeof *s->slot);
    s->mask = cap - 1;
    s->has_zero = 0;
    if (!s->slot)
        return ruv__detail_set(RUV_E_NOMEM, "out of memory for %llu ids to delete",
                               (unsigned long long)m);
    for (uint64_t k = 0; k < m; k++) {
        if (ids[k] == 0) {
            s->has_zero = 1;
            continue;
        }
        uint64_t h = mix(ids[k]) & s->mask;
        while (s->slot[h] && s->slot[h] != ids[k])
            h = (h + 1) & s->mask;
        s->slot[h] = ids[k];
    }
    return RUV_OK;
}

static int idset_has(const struct idset *s, uint64_t id)
{
    if (id == 0)
        return s->has_zero;
    for (uint64_t h = mix(id) & s->mask; s->slot[h]; h = (h + 1) & s->mask)
        if (s->slot[h] == id)
            return 1;
    return 0;
}

int ruv__lrows_delete(struct lrows **rp, const uint64_t *ids, uint64_t m, uint64_t *removed)
{
    *removed = 0;
    struct lrows *src = *rp;
    if (!src || m == 0)
        return RUV_OK;
    struct idset set;
    int st = idset_init(&set, ids, m);
    if (st != RUV_OK)
        return st;
    uint64_t n = src->n, first = n, gone = 0;
    for (uint64_t i = 0; i < n; i++)
        if (idset_has(&set, src->ids[i])) {
            if (!gone++)
                first = i;
        }
    uint64_t nn = n - gone;
    if (!gone || !nn) {
        free(set.slot);
        if (!nn) {
            ruv__lrows_release(src);
            *rp = NULL;
        }
        *removed = gone;
        return RUV_OK;
    }
    uint32_t dim = src->dim;
    size_t rowb = (size_t)dim * sizeof(float);
    int alias = only_holder(src);
    uint8_t *dirty = calloc(leaves_of(n), 1);
    struct lrows *dst = alias ? src : lrows_new(dim, nn);
    if (!dirty || !dst) {
        free(set.slot);
        free(dirty);
        return ruv__detail_set(RUV_E_NOMEM, "out of memory deleting %llu rows",
                               (unsigned long long)gone);
    }
    if (!alias) { /* the rows before the first delete stay where they were */
        memcpy(dst->ids, src->ids, first * sizeof *src->ids);
        memcpy(dst->vecs, src->vecs, first * rowb);
    }
    /* One pass: each run of kept rows moves down in one memmove. */
    uint64_t o = first, run = first + 1;
    for (uint64_t i = first + 1; i <= n; i++)
        if (i == n || idset_has(&set, src->ids[i])) {
            uint64_t cnt = i - run;
            memmove(dst->ids + o, src->ids + run, cnt * sizeof *src->ids);
            memmove(dst->vecs + o * dim, src->vecs + run * dim, cnt * rowb);
            o += cnt;
            run = i + 1;
        }
    free(set.slot);
    mark(dirty, first, nn); /* every row from the first delete on moved */
    settle_leaves(dst, nn, src, n, dirty);
    free(dirty);
    if (alias) {
        lrows_trim(dst);
    } else {
        ruv__lrows_release(src);
        *rp = dst;
    }
    *removed = gone;
    return RUV_OK;
}
