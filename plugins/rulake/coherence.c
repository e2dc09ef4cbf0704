/* The coherence step of rulake.md §5 for one key, and the single-flight
 * prime of §7: decide from the consistency mode whether to ask the
 * backend, compare its description's witness with the entry's, and on a
 * mismatch let one leader pull, check, hash and build while the other
 * callers wait on the key's latch and get the same entry or the same
 * error. A failed prime leaves the key as it was. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/error.h>

#include "digest_pool.h"
#include "lake_backends.h"
#include "lake_error.h"
#include "lake_internal.h"
#include "ruvec.h"

/* A backend's failure as the lake reports it: the backend's own detail
 * behind its name and the collection's. */
static int backend_fail(struct ruv_lake *lake, const struct lake_backend *lb, const char *coll,
                        int st, const char *what)
{
    char detail[768];
    const char *d = lb->b.last_error ? lb->b.last_error(lb->b.state) : lake->host->last_error();
    snprintf(detail, sizeof detail, "%s", d && *d ? d : "(no detail)");
    int out = (st == RUV_E_NOTFOUND || st == RUV_E_INTEGRITY || st == RUV_E_DIM ||
               st == RUV_E_NOMEM)
                  ? st
                  : RUV_E_BACKEND;
    return ruv__detail_set(out, "backend '%s' collection '%.200s': %s: %s", lb->name, coll, what,
                           detail);
}

static int desc_check(const struct lake_backend *lb, const char *coll,
                      const struct ruv_lake_desc *d)
{
    const char *bad = d->dim < 1                           ? "dim 0"
                      : d->data_ref_len >= sizeof d->data_ref ? "data_ref too long"
                      : d->gen_len >= sizeof d->gen_opaque    ? "generation too long"
                      : d->gen_is_opaque > 1                  ? "gen_is_opaque not 0 or 1"
                      : d->has_digest > 1                     ? "has_digest not 0 or 1"
                                                              : NULL;
    if (bad)
        return ruv__detail_set(RUV_E_BACKEND, "backend '%s' collection '%.200s': bad "
                                              "description: %s", lb->name, coll, bad);
    return RUV_OK;
}

static int call_describe(struct ruv_lake *lake, struct lake_backend *lb, const char *coll,
                         struct ruv_lake_desc *d)
{
    memset(d, 0, sizeof *d);
    d->struct_size = sizeof *d;
    int serial = !(lb->b.flags & RUV_LAKE_BACKEND_THREADSAFE);
    if (serial)
        pthread_mutex_lock(&lb->serial);
    ruv__lake_pool_set(lake->host);
    int st = lb->b.describe(lb->b.state, coll, d);
    ruv__lake_pool_set(NULL);
    if (serial)
        pthread_mutex_unlock(&lb->serial);
    if (st != RUV_OK)
        return backend_fail(lake, lb, coll, st, "describe");
    return desc_check(lb, coll, d);
}

static int desc_witnesses(const struct ruv_lake *lake, const struct ruv_lake_desc *d,
                          const uint8_t *digest, uint8_t v1[32], uint8_t v2[32])
{
    const struct ruv__lake_gen g = {(int)d->gen_is_opaque, d->gen_num, d->gen_opaque,
                                    d->gen_len};
    int st = ruv__lake_witness_v1(d->data_ref, d->data_ref_len, d->dim, lake->cfg.rotation_seed,
                                  lake->cfg.rerank_factor, &g, v1);
    if (st == RUV_OK && digest)
        st = ruv__lake_witness_v2(v1, lake->params, strlen(lake->params), digest, v2);
    return st;
}

/* Whether two descriptions give the same witnesses: every field v1 and
 * v2 read (the lake's seed, rerank and parameters are fixed). */
static int same_source(const struct ruv_lake_desc *a, const struct ruv_lake_desc *b)
{
    if (a->dim != b->dim || a->data_ref_len != b->data_ref_len ||
        a->gen_is_opaque != b->gen_is_opaque || a->has_digest != b->has_digest ||
        memcmp(a->data_ref, b->data_ref, a->data_ref_len) != 0)
        return 0;
    if (a->gen_is_opaque ? a->gen_len != b->gen_len ||
                               memcmp(a->gen_opaque, b->gen_opaque, a->gen_len) != 0
                         : a->gen_num != b->gen_num)
        return 0;
    return !a->has_digest || memcmp(a->content_digest, b->content_digest, 32) == 0;
}

/* v1 of a description, remembered per key for its last description, so a
 * FRESH hit on an unchanged source hashes nothing. (v2 is not remembered:
 * it covers each entry's own planned parameters, and the check compares v1
 * and the content digest, which together name the same rows.) */
static int slot_witness_v1(struct ruv_lake *lake, struct lake_slot *s,
                           const struct ruv_lake_desc *d, uint8_t v1[32])
{
    pthread_mutex_lock(&s->mu);
    int known = s->wit_ok && same_source(&s->wit_desc, d);
    if (known)
        memcpy(v1, s->wit_v1, 32);
    pthread_mutex_unlock(&s->mu);
    if (known)
        return RUV_OK;
    uint8_t unused[32];
    int st = desc_witnesses(lake, d, NULL, v1, unused);
    if (st == RUV_OK) {
        pthread_mutex_lock(&s->mu);
        s->wit_desc = *d;
        memcpy(s->wit_v1, v1, 32);
        s->wit_ok = 1;
        pthread_mutex_unlock(&s->mu);
    }
    return st;
}

static int dim_mismatch(const struct lake_backend *lb, const char *coll, uint32_t qdim,
                        uint32_t dim)
{
    return ruv__detail_set(RUV_E_DIM, "dimension mismatch: backend '%s' collection '%.200s' has "
                                      "dim %u, the query has %u", lb->name, coll, dim, qdim);
}

static void touch(struct ruv_lake *lake, struct lake_entry *e)
{
    atomic_store_explicit(&e->last_used,
                          atomic_fetch_add_explicit(&lake->tick, 1, memory_order_relaxed),
                          memory_order_relaxed);
}

static int ids_ascending(const uint64_t *ids, uint64_t n)
{
    for (uint64_t i = 1; i < n; i++)
        if (ids[i] <= ids[i - 1])
            return 0;
    return 1;
}

/* Pull, check, hash and build one entry (no lock held). *out is a new
 * entry, or an existing one with the same v2 (*shared set). *claim: the
 * build this call leads (ruv__lake_build_claim), for the caller to finish
 * after installing *out (also when prime fails), or NULL. */
static int prime(struct ruv_lake *lake, struct lake_backend *lb, const char *coll,
                 uint32_t qdim, const struct ruv_lake_batch *supplied, struct lake_entry **out,
                 int *shared, struct lake_build **claim)
{
    const struct ruv_host *host = lake->host;
    struct ruv_lake_batch bt;
    int st;
    if (supplied) { /* the host pulled: its rows stay its own until its request is done */
        bt = *supplied;
        bt.release = NULL;
    } else {
        memset(&bt, 0, sizeof bt);
        bt.struct_size = sizeof bt;
        bt.desc.struct_size = sizeof bt.desc;
        int serial = !(lb->b.flags & RUV_LAKE_BACKEND_THREADSAFE);
        if (serial)
            pthread_mutex_lock(&lb->serial);
        ruv__lake_pool_set(host);
        st = lb->b.pull(lb->b.state, coll, &bt);
        ruv__lake_pool_set(NULL);
        if (serial)
            pthread_mutex_unlock(&lb->serial);
        if (st != RUV_OK)
            return backend_fail(lake, lb, coll, st, "pull");
    }
    uint64_t *order = NULL, *ids = NULL;
    float *rows = NULL;
    uint8_t digest[32], v1[32], v2[32];
    ruv_index *idx = NULL;
    uint64_t n = bt.n, est = 0;
    int reserved = 0, built = 0;
    if ((st = desc_check(lb, coll, &bt.desc)) != RUV_OK)
        goto done;
    if (bt.dim != bt.desc.dim || (n && (!bt.ids || !bt.vectors))) {
        st = ruv__detail_set(RUV_E_BACKEND, "backend '%s' collection '%.200s': the pull's "
                                            "rows (dim %u) disagree with its description "
                                            "(dim %u) or lack ids or vectors",
                             lb->name, coll, bt.dim, bt.desc.dim);
        goto done;
    }
    if (bt.dim != qdim) {
        st = dim_mismatch(lb, coll, qdim, bt.dim);
        goto done;
    }
    if (bt.desc.has_digest && bt.desc.count != n) {
        st = ruv__detail_set(RUV_E_INTEGRITY, "backend '%s' collection '%.200s': the pull has "
                                              "%llu rows, its description claims %llu",
                             lb->name, coll, (unsigned long long)n,
                             (unsigned long long)bt.desc.count);
        goto done;
    }
    if ((ruv__lake_local_is(&lb->b) || ruv__lake_fs_is(&lb->b)) && bt.desc.has_digest) {
        /* Our LocalBackend or FsBackend: rows checked (when put, or by the
         * file reader), in id order, and the digest the description carries
         * computed from these very rows (or the file's, checked against
         * them as they were read). */
        memcpy(digest, bt.desc.content_digest, 32);
    } else if ((!ids_ascending(bt.ids, n) &&
                (st = ruv__lake_sort_order(bt.ids, n, &order)) != RUV_OK) ||
               (st = ruv__lake_digest_pooled(host, bt.ids, bt.vectors, order, n, bt.dim, 1,
                                             digest)) != RUV_OK) {
        st = ruv__detail_prefix(st == RUV_E_NOMEM ? st : RUV_E_BACKEND,
                                "backend '%s' collection '%.200s': pulled rows", lb->name, coll);
        goto done;
    }
    if (bt.desc.has_digest && memcmp(digest, bt.desc.content_digest, 32) != 0) {
        st = ruv__detail_set(RUV_E_INTEGRITY, "backend '%s' collection '%.200s': the pulled "
                                              "rows do not match the content digest the "
                                              "backend claimed", lb->name, coll);
        goto done;
    }
    /* Planned parameters: v2 (which covers them) is known after the build. */
    int planned = ruv__lake_planned(&lake->cfg);
    if ((st = desc_witnesses(lake, &bt.desc, planned ? NULL : digest, v1, v2)) != RUV_OK)
        goto done;
    struct lake_entry *have = NULL;
    if ((st = ruv__lake_build_claim(lake, v1, digest, planned ? NULL : v2, &have, claim)) !=
        RUV_OK)
        goto done;
    if (have) {
        *out = have;
        *shared = 1;
        goto done;
    }
    ruv_index_params p;
    if ((st = host->index->params_init(&p, RUV_INDEX_RABITQ_PLUS, (int)lake->cfg.metric,
                                       bt.dim)) != RUV_OK)
        goto done;
    p.bits = lake->cfg.bits;
    p.nlist = lake->cfg.nlist;
    p.seed = lake->cfg.rotation_seed;
    p.rerank_factor = lake->cfg.rerank_factor;
    if (n && (st = host->index->estimate_bytes(host, &p, n, &est)) != RUV_OK)
        goto done;
    est += sizeof(struct lake_entry);
    if ((st = ruv__lake_cache_reserve(lake, est)) != RUV_OK) {
        st = ruv__detail_prefix(st, "backend '%s' collection '%.200s'", lb->name, coll);
        goto done;
    }
    reserved = 1;
    built = n != 0;
    if (n && !order) {
        /* Already in id order: the build reads the pulled rows themselves. */
        st = host->index->build(host, &p, bt.vectors, n, bt.ids, lake->cfg.threads, &idx);
        if (st != RUV_OK) {
            st = ruv__detail_set(st, "backend '%s' collection '%.200s': index build: %s",
                                 lb->name, coll, host->last_error());
            goto done;
        }
    } else if (n) {
        /* Rows in id order: the build is deterministic given its rows. */
        ids = malloc(n * sizeof *ids);
        rows = malloc(n * bt.dim * sizeof *rows);
        if (!ids || !rows) {
            st = ruv__detail_set(RUV_E_NOMEM, "out of memory copying %llu rows",
                                 (unsigned long long)n);
            goto done;
        }
        for (uint64_t i = 0; i < n; i++) {
            ids[i] = bt.ids[order[i]];
            memcpy(rows + i * bt.dim, bt.vectors + order[i] * bt.dim, bt.dim * sizeof *rows);
        }
        if (bt.release)
            bt.release(bt.owner);
        bt.release = NULL;
        st = host->index->build(host, &p, rows, n, ids, lake->cfg.threads, &idx);
        if (st != RUV_OK) {
            st = ruv__detail_set(st, "backend '%s' collection '%.200s': index build: %s",
                                 lb->name, coll, host->last_error());
            goto done;
        }
    }
    char params[RUV_LAKE_PARAMS_MAX];
    if ((st = ruv__lake_entry_params(lake, idx, params)) != RUV_OK)
        goto done;
    if (planned) {
        if ((st = ruv__lake_witness_v2(v1, params, strlen(params), digest, v2)) != RUV_OK)
            goto done;
        if ((have = ruv__lake_cache_find(lake, v2)) != NULL) {
            *out = have; /* built, but another key linked these rows first */
            goto done;
        }
    }
    struct lake_entry *e = calloc(1, sizeof *e);
    if (!e) {
        st = ruv__detail_set(RUV_E_NOMEM, "out of memory for a cache entry");
        goto done;
    }
    atomic_init(&e->refs, 1);
    memcpy(e->params, params, sizeof e->params);
    memcpy(e->v1, v1, 32);
    memcpy(e->v2, v2, 32);
    e->dim = bt.dim;
    e->count = n;
    e->desc = bt.desc;
    memcpy(e->digest, digest, 32);
    e->idx = idx;
    idx = NULL;
    e->bytes = (e->idx ? host->index->memory_bytes(e->idx) : 0) + sizeof *e;
    *out = e;
done:
    if (reserved)
        ruv__lake_cache_unreserve(lake, est);
    if (idx)
        host->index->release(idx);
    if (bt.release)
        bt.release(bt.owner);
    free(order);
    free(ids);
    free(rows);
    if (built) /* the build's temporaries and our copies, freed above */
        ruv__lake_heap_return();
    return st;
}

/* describe for one key, shared (rulake.md §5 step 3): callers that arrive
 * while a describe runs wait for the next one, which began after them, and
 * all of them take its answer; so N concurrent FRESH checks cost about two
 * backend calls, and each still sees a state no older than its arrival. */
/* The slot whose describe this thread is running. The describe may hash on
 * the pool, and a thread waiting there for its helpers runs queued work:
 * a queued search of the same key then runs inside that describe, and
 * waiting for it would wait for itself. */
static _Thread_local const struct lake_slot *tl_describing;

static int shared_describe(struct ruv_lake *lake, struct lake_backend *lb, struct lake_slot *s,
                           const char *coll, const struct lake_call *call,
                           struct ruv_lake_desc *d)
{
    pthread_mutex_lock(&s->mu);
    if (s->describing && tl_describing == s) { /* nested in our own describe */
        pthread_mutex_unlock(&s->mu);
        return call_describe(lake, lb, coll, d);
    }
    /* A submitted request arrived when it was submitted, not when a pool
     * thread took it: requests queued behind a running describe share the
     * next one. */
    uint64_t arrived = call && call->has_arrival ? call->arrival : s->desc_started;
    for (;;) {
        if (s->desc_finished > arrived) { /* began after this caller arrived */
            int st = s->desc_status;
            char detail[sizeof s->desc_detail];
            if (st == RUV_OK)
                *d = s->desc;
            else
                memcpy(detail, s->desc_detail, sizeof detail);
            pthread_mutex_unlock(&s->mu);
            return st == RUV_OK ? st : ruv__detail_set(st, "%s", detail);
        }
        if (!s->describing)
            break;
        pthread_cond_wait(&s->described, &s->mu);
    }
    s->describing = 1;
    uint64_t mine = ++s->desc_started;
    pthread_mutex_unlock(&s->mu);
    const struct lake_slot *outer = tl_describing;
    tl_describing = s;
    int st = call_describe(lake, lb, coll, d);
    tl_describing = outer;
    pthread_mutex_lock(&s->mu);
    s->desc_status = st;
    if (st == RUV_OK)
        s->desc = *d;
    else
        snprintf(s->desc_detail, sizeof s->desc_detail, "%s", ruv__detail_get());
    s->desc_finished = mine;
    s->describing = 0;
    pthread_cond_broadcast(&s->described);
    pthread_mutex_unlock(&s->mu);
    return st;
}

/* The mode lets a cached entry be used without asking the backend. */
static int check_skipped(const struct ruv_lake *lake, const struct lake_slot *s)
{
    if (lake->cfg.consistency == RUV_LAKE_STALE)
        return 1;
    if (lake->cfg.consistency == RUV_LAKE_EVENTUAL && lake->cfg.ttl_ms)
        return ruv__lake_now_ns() - s->last_checked_ns < lake->cfg.ttl_ms * 1000000u;
    return 0;
}

/* Under s->mu: the slot's entry, dropping one evicted under it. */
static struct lake_entry *live_entry(struct ruv_lake *lake, struct lake_slot *s,
                                     struct lake_entry **dropped)
{
    if (s->entry && atomic_load(&s->entry->evicted)) {
        *dropped = ruv__lake_slot_drop(lake, s);
        s->last_checked_ns = 0;
        atomic_fetch_add(&s->c.evictions, 1);
    }
    return s->entry;
}

/* The host's own description of a target (struct ruv_lake_supply), or
 * RUV_E_MISS with needs set when it describes and gave none; *used 0 when
 * the lake must describe itself. */
static int supplied_desc(const struct lake_backend *lb, const char *coll,
                         const struct lake_call *call, struct ruv_lake_desc *d, int *used)
{
    struct ruv_lake_supply *sup = call ? call->supply : NULL;
    *used = sup && (sup->desc || (sup->flags & RUV_LAKE_SUPPLY_DESCRIBE));
    if (!*used)
        return RUV_OK;
    if (!sup->desc) {
        sup->needs |= RUV_LAKE_SUPPLY_DESCRIBE;
        return ruv__detail_set(RUV_E_MISS, "backend '%s' collection '%.200s': the host describes "
                                           "this collection and gave no description",
                               lb->name, coll);
    }
    *d = *sup->desc;
    return desc_check(lb, coll, d);
}

int ruv__lake_acquire(struct ruv_lake *lake, unsigned backend, const char *coll, uint32_t qdim,
                      unsigned flags, struct lake_entry **out)
{
    return ruv__lake_acquire_call(lake, backend, coll, qdim, flags, NULL, out);
}

static int acquire_step(struct ruv_lake *lake, unsigned backend, const char *coll,
                        uint32_t qdim, unsigned flags, const struct lake_call *call,
                        struct lake_entry **out);

int ruv__lake_acquire_call(struct ruv_lake *lake, unsigned backend, const char *coll,
                           uint32_t qdim, unsigned flags, const struct lake_call *call,
                           struct lake_entry **out)
{
    ruv__lake_step_enter();
    return ruv__lake_step_leave(acquire_step(lake, backend, coll, qdim, flags, call, out));
}

static int acquire_step(struct ruv_lake *lake, unsigned backend, const char *coll,
                        uint32_t qdim, unsigned flags, const struct lake_call *call,
                        struct lake_entry **out)
{
    struct lake_backend *lb = ruv__lake_backend_at(lake, backend);
    struct lake_slot *s = ruv__lake_slot(lake, backend, coll, 1);
    if (!s)
        return RUV_E_NOMEM;
    for (;;) {
        struct lake_entry *dropped = NULL, *e;
        pthread_mutex_lock(&s->mu);
        e = live_entry(lake, s, &dropped);
        if (e && check_skipped(lake, s)) {
            int st = e->dim == qdim ? RUV_OK : dim_mismatch(lb, coll, qdim, e->dim);
            if (st == RUV_OK) {
                *out = ruv__lake_entry_retain(e);
                touch(lake, e);
                atomic_fetch_add(&s->c.hits, 1);
                atomic_fetch_add(&s->c.skipped, 1);
            }
            pthread_mutex_unlock(&s->mu);
            ruv__lake_entry_release(lake, dropped);
            return st;
        }
        pthread_mutex_unlock(&s->mu);
        ruv__lake_entry_release(lake, dropped);
        dropped = NULL;

        struct ruv_lake_desc d;
        uint8_t v1[32];
        int host_described;
        int st = supplied_desc(lb, coll, call, &d, &host_described);
        if (!host_described)
            st = shared_describe(lake, lb, s, coll, call, &d);
        else if (!call->supply->desc)
            return st; /* RUV_E_MISS: the host describes and gave nothing to check */
        atomic_fetch_add(&s->c.checks, 1);
        if (st == RUV_OK && d.dim != qdim)
            st = dim_mismatch(lb, coll, qdim, d.dim);
        if (st == RUV_OK)
            st = slot_witness_v1(lake, s, &d, v1);
        if (st != RUV_OK)
            return st;

        pthread_mutex_lock(&s->mu);
        e = live_entry(lake, s, &dropped);
        /* With a digest, v2 equal <=> v1 and digest equal (P is the entry's
         * own: the same rows plan the same parameters). */
        if (e && memcmp(e->v1, v1, 32) == 0 &&
            (!d.has_digest || memcmp(e->digest, d.content_digest, 32) == 0)) {
            s->last_checked_ns = ruv__lake_now_ns();
            *out = ruv__lake_entry_retain(e);
            touch(lake, e);
            atomic_fetch_add(&s->c.hits, 1);
            pthread_mutex_unlock(&s->mu);
            ruv__lake_entry_release(lake, dropped);
            return RUV_OK;
        }
        if (flags & RUV_LAKE_NO_PRIME) {
            pthread_mutex_unlock(&s->mu);
            ruv__lake_entry_release(lake, dropped);
            return ruv__detail_set(RUV_E_MISS, "backend '%s' collection '%.200s' is not cached "
                                               "(or changed) and priming was not allowed",
                                   lb->name, coll);
        }
        if (s->priming) {
            /* Single-flight: wait for the leader's result. */
            uint64_t seq = s->prime_seq;
            while (s->priming && s->prime_seq == seq)
                pthread_cond_wait(&s->primed, &s->mu);
            int pst = s->prime_status;
            e = live_entry(lake, s, &dropped);
            if (pst == RUV_OK && e && e->dim == qdim) {
                *out = ruv__lake_entry_retain(e);
                touch(lake, e);
                atomic_fetch_add(&s->c.hits, 1);
                pthread_mutex_unlock(&s->mu);
                ruv__lake_entry_release(lake, dropped);
                return RUV_OK;
            }
            char detail[sizeof s->prime_detail];
            memcpy(detail, s->prime_detail, sizeof detail);
            pthread_mutex_unlock(&s->mu);
            ruv__lake_entry_release(lake, dropped);
            if (pst != RUV_OK)
                return ruv__detail_set(pst, "%s", detail);
            continue; /* primed, then evicted or changed under us: check again */
        }
        const struct ruv_lake_batch *rows = call && call->supply ? call->supply->batch : NULL;
        if (!rows && call && call->supply && (call->supply->flags & RUV_LAKE_SUPPLY_PULL)) {
            pthread_mutex_unlock(&s->mu);
            ruv__lake_entry_release(lake, dropped);
            call->supply->needs |= RUV_LAKE_SUPPLY_PULL;
            return ruv__detail_set(RUV_E_MISS, "backend '%s' collection '%.200s' is not cached "
                                               "(or changed) and the host pulls it itself",
                                   lb->name, coll);
        }
        s->priming = 1;
        pthread_mutex_unlock(&s->mu);
        ruv__lake_entry_release(lake, dropped);

        atomic_fetch_add(&s->c.misses, 1);
        uint64_t t0 = ruv__lake_now_ns();
        struct lake_entry *fresh = NULL, *victims = NULL, *installed = NULL;
        struct lake_build *claim = NULL;
        int shared = 0, shared_install = 0;
        char failed[sizeof s->prime_detail];
        st = prime(lake, lb, coll, qdim, rows, &fresh, &shared, &claim);
        pthread_mutex_lock(&s->mu);
        if (st == RUV_OK) {
            installed = ruv__lake_cache_install(lake, s, fresh, &shared_install, &victims);
            s->last_checked_ns = ruv__lake_now_ns();
            s->prime_detail[0] = '\0';
        } else {
            snprintf(failed, sizeof failed, "%s", ruv__detail_get());
            memcpy(s->prime_detail, failed, sizeof failed);
        }
        s->priming = 0;
        s->prime_status = st;
        s->prime_seq++;
        pthread_cond_broadcast(&s->primed);
        pthread_mutex_unlock(&s->mu);
        ruv__lake_build_finish(lake, claim, installed);
        ruv__lake_cache_evict_finish(lake, victims);
        if (st != RUV_OK) {
            atomic_fetch_add(&s->c.prime_failures, 1);
            return ruv__detail_set(st, "%s", failed);
        }
        ruv__lake_entry_release(lake, fresh);
        /* A build whose entry another key linked meanwhile (shared_install
         * alone) still counts as a prime: primes counts index builds. */
        (void)shared_install;
        if (shared) {
            atomic_fetch_add(&s->c.shared_hits, 1);
        } else {
            uint64_t dt = ruv__lake_now_ns() - t0;
            atomic_fetch_add(&s->c.primes, 1);
            atomic_fetch_add(&s->c.total_prime_ns, dt);
            atomic_store(&s->c.last_prime_ns, dt);
        }
        *out = installed;
        return RUV_OK;
    }
}

void ruv__lake_warm_describe(struct ruv_lake *lake, unsigned backend, const char *coll)
{
    struct lake_backend *lb = ruv__lake_backend_at(lake, backend);
    struct lake_slot *s = ruv__lake_slot(lake, backend, coll, 0);
    if (!s || lb->absent)
        return;
    struct ruv_lake_desc d; /* on the stack, as in acquire_step */
    uint8_t v1[32];
    ruv__lake_step_enter();
    int st = shared_describe(lake, lb, s, coll, NULL, &d);
    if (st == RUV_OK)
        st = slot_witness_v1(lake, s, &d, v1);
    (void)ruv__lake_step_leave(st);
}

int ruv__lake_describe(struct ruv_lake *lake, unsigned backend, const char *collection,
                       struct ruv_lake_desc *out)
{
    return call_describe(lake, ruv__lake_backend_at(lake, backend), collection, out);
}
