/* The lake's entries and their byte budget (rulake.md §7): reference
 * counting, sharing by v2, install into a key's slot, and LRU eviction by
 * bytes (index memory_bytes plus bookkeeping, plus reservations of primes
 * in progress) and by entry count. Eviction unlinks victims under cache_mu
 * and then sweeps the slots that still point at them; a search holding a
 * reference keeps its entry alive until it finishes. */
#include "config.h"

#include <stdlib.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <string.h>

#include <ruvector/error.h>

#include "lake_error.h"
#include "lake_internal.h"

struct lake_entry *ruv__lake_entry_retain(struct lake_entry *e)
{
    atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
    return e;
}

void ruv__lake_entry_release(struct ruv_lake *lake, struct lake_entry *e)
{
    if (!e || atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) != 1)
        return;
    int had_index = e->idx != NULL;
    if (e->idx)
        lake->host->index->release(e->idx);
    free(e);
    if (had_index)
        ruv__lake_heap_return();
}

void ruv__lake_heap_return(void)
{
#if defined(__GLIBC__)
    /* After the first big block freed, glibc raises its mmap threshold (up
     * to 32 MiB), so an index's arrays and a build's temporaries live in
     * the heap, and free() keeps their pages resident: the RSS that
     * max_cache_bytes is meant to bound (rulake.md §12 T6) would carry an
     * evicted entry, or ~2 MB of a build's freed buffers per prime. This
     * gives the free pages of every arena back (a heap walk, ~0.3 ms with
     * a 100 MB heap), once per dropped or built index. */
    malloc_trim(0);
#endif
}

static void unlink_entry(struct ruv_lake *lake, struct lake_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        lake->lru = e->next;
    if (e->next)
        e->next->prev = e->prev;
    e->prev = e->next = NULL;
    e->linked = 0;
    lake->bytes -= e->bytes;
    lake->nentries--;
    atomic_store(&e->evicted, 1);
}

static int over_budget(const struct ruv_lake *lake)
{
    if (lake->bytes + lake->reserved > lake->cfg.max_bytes)
        return 1;
    return lake->cfg.max_entries && lake->nentries > lake->cfg.max_entries;
}

/* Under cache_mu: unlinks least-recently-used entries other than keep
 * until the cache fits, chaining them through ->next into *victims (their
 * list references go with them). */
static unsigned collect_victims(struct ruv_lake *lake, const struct lake_entry *keep,
                                struct lake_entry **victims)
{
    unsigned n = 0;
    while (over_budget(lake)) {
        struct lake_entry *oldest = NULL;
        for (struct lake_entry *e = lake->lru; e; e = e->next)
            if (e != keep && (!oldest || atomic_load_explicit(&e->last_used,
                                                              memory_order_relaxed) <
                                             atomic_load_explicit(&oldest->last_used,
                                                                  memory_order_relaxed)))
                oldest = e;
        if (!oldest)
            break;
        unlink_entry(lake, oldest);
        oldest->next = *victims;
        *victims = oldest;
        n++;
    }
    return n;
}

/* Outside every lock: clears the slots that point at victims, then drops
 * the cache's references. */
void ruv__lake_cache_evict_finish(struct ruv_lake *lake, struct lake_entry *victims)
{
    if (!victims)
        return;
    ruv__lake_cache_sweep(lake);
    while (victims) {
        struct lake_entry *next = victims->next;
        victims->next = NULL;
        ruv__lake_entry_release(lake, victims);
        victims = next;
    }
}

int ruv__lake_cache_reserve(struct ruv_lake *lake, uint64_t bytes)
{
    if (bytes > lake->cfg.max_bytes)
        return ruv__detail_set(RUV_E_NOMEM,
                               "the collection needs %llu bytes of cache, over the whole "
                               "budget of %llu bytes (max_cache_bytes)",
                               (unsigned long long)bytes,
                               (unsigned long long)lake->cfg.max_bytes);
    struct lake_entry *victims = NULL;
    pthread_mutex_lock(&lake->cache_mu);
    lake->reserved += bytes;
    collect_victims(lake, NULL, &victims);
    pthread_mutex_unlock(&lake->cache_mu);
    ruv__lake_cache_evict_finish(lake, victims);
    return RUV_OK;
}

void ruv__lake_cache_unreserve(struct ruv_lake *lake, uint64_t bytes)
{
    pthread_mutex_lock(&lake->cache_mu);
    lake->reserved -= bytes;
    pthread_mutex_unlock(&lake->cache_mu);
}

static struct lake_entry *find_locked(struct ruv_lake *lake, const uint8_t v2[32])
{
    for (struct lake_entry *e = lake->lru; e; e = e->next)
        if (memcmp(e->v2, v2, 32) == 0)
            return e;
    return NULL;
}

struct lake_entry *ruv__lake_cache_find(struct ruv_lake *lake, const uint8_t v2[32])
{
    pthread_mutex_lock(&lake->cache_mu);
    struct lake_entry *e = find_locked(lake, v2);
    if (e)
        ruv__lake_entry_retain(e);
    pthread_mutex_unlock(&lake->cache_mu);
    return e;
}

/* Under cache_mu: the slot no longer points at e. An entry no key points
 * at leaves the cache (nothing could find it again but a prime of the same
 * v2, which builds it anew); returns it for release if so. */
static struct lake_entry *unpoint_locked(struct ruv_lake *lake, struct lake_entry *e)
{
    if (e->nslots > 0)
        e->nslots--;
    if (e->nslots == 0 && e->linked) {
        unlink_entry(lake, e);
        return e; /* the cache's reference */
    }
    return NULL;
}

struct lake_entry *ruv__lake_cache_install(struct ruv_lake *lake, struct lake_slot *slot,
                                           struct lake_entry *e, int *shared,
                                           struct lake_entry **victims_out)
{
    struct lake_entry *victims = NULL, *installed = e, *dropped_list_ref = NULL;
    struct lake_entry *old = slot->entry;
    *shared = 0;
    pthread_mutex_lock(&lake->cache_mu);
    struct lake_entry *have = find_locked(lake, e->v2);
    if (have) {
        installed = have;
        *shared = have != old;
    } else {
        e->linked = 1;
        e->next = lake->lru;
        if (lake->lru)
            lake->lru->prev = e;
        lake->lru = e;
        lake->bytes += e->bytes;
        lake->nentries++;
        ruv__lake_entry_retain(e); /* the cache's reference */
    }
    atomic_store_explicit(&installed->last_used,
                          atomic_fetch_add_explicit(&lake->tick, 1, memory_order_relaxed),
                          memory_order_relaxed);
    if (old != installed) {
        /* The new reference first, then the old one goes. */
        ruv__lake_entry_retain(installed);
        installed->nslots++;
        slot->entry = installed;
        if (old)
            dropped_list_ref = unpoint_locked(lake, old);
    }
    collect_victims(lake, installed, &victims);
    pthread_mutex_unlock(&lake->cache_mu);
    if (old && old != installed) {
        atomic_fetch_add(&slot->c.superseded, 1);
        ruv__lake_entry_release(lake, old); /* the slot's reference */
    }
    ruv__lake_entry_release(lake, dropped_list_ref);
    *victims_out = victims;
    return ruv__lake_entry_retain(installed);
}

struct lake_entry *ruv__lake_slot_drop(struct ruv_lake *lake, struct lake_slot *slot)
{
    struct lake_entry *e = slot->entry, *list_ref = NULL;
    if (!e)
        return NULL;
    slot->entry = NULL;
    pthread_mutex_lock(&lake->cache_mu);
    list_ref = unpoint_locked(lake, e);
    pthread_mutex_unlock(&lake->cache_mu);
    if (list_ref)
        ruv__lake_entry_release(lake, list_ref);
    return e;
}

void ruv__lake_cache_sweep(struct ruv_lake *lake)
{
    pthread_rwlock_rdlock(&lake->table_lock);
    for (unsigned b = 0; b < LAKE_BUCKETS; b++)
        for (struct lake_slot *s = lake->buckets[b]; s; s = s->next) {
            pthread_mutex_lock(&s->mu);
            struct lake_entry *e = s->entry;
            if (e && atomic_load(&e->evicted)) {
                s->entry = NULL;
                s->last_checked_ns = 0;
                atomic_fetch_add(&s->c.evictions, 1);
            } else {
                e = NULL;
            }
            pthread_mutex_unlock(&s->mu);
            ruv__lake_entry_release(lake, e);
        }
    pthread_rwlock_unlock(&lake->table_lock);
}

void ruv__lake_cache_clear(struct ruv_lake *lake)
{
    pthread_mutex_lock(&lake->cache_mu);
    struct lake_entry *all = lake->lru;
    lake->lru = NULL;
    lake->bytes = lake->nentries = 0;
    pthread_mutex_unlock(&lake->cache_mu);
    while (all) {
        struct lake_entry *next = all->next;
        all->linked = 0;
        ruv__lake_entry_release(lake, all);
        all = next;
    }
}

struct lake_build {
    struct lake_build *next;
    uint8_t v1[32], digest[32];
    pthread_t leader;
    unsigned refs;            /* the leader's and each waiter's */
    int done;
    struct lake_entry *entry; /* the leader's installed entry (a reference), or NULL */
};

/* Under cache_mu: drops one reference; returns the entry reference to
 * release after unlocking when it was the last. */
static struct lake_entry *build_unref_locked(struct lake_build *b)
{
    if (--b->refs)
        return NULL;
    struct lake_entry *e = b->entry;
    free(b);
    return e;
}

int ruv__lake_build_claim(struct ruv_lake *lake, const uint8_t v1[32], const uint8_t digest[32],
                          const uint8_t *v2, struct lake_entry **have, struct lake_build **claim)
{
    *have = NULL;
    *claim = NULL;
    struct lake_entry *drop = NULL;
    pthread_mutex_lock(&lake->cache_mu);
    for (;;) {
        struct lake_entry *e = NULL;
        if (v2)
            e = find_locked(lake, v2);
        else /* P still to be planned: the same rows plan the same P, so
              * v1 and digest equal mean v2 equal (as a hit's check says) */
            for (e = lake->lru; e; e = e->next)
                if (memcmp(e->v1, v1, 32) == 0 && memcmp(e->digest, digest, 32) == 0)
                    break;
        if (e) {
            *have = ruv__lake_entry_retain(e);
            break;
        }
        struct lake_build *b = lake->builds;
        while (b && (memcmp(b->v1, v1, 32) != 0 || memcmp(b->digest, digest, 32) != 0))
            b = b->next;
        if (b && pthread_equal(b->leader, pthread_self()))
            break; /* nested in our own build: waiting would wait for ourselves */
        if (b) {
            b->refs++;
            while (!b->done)
                pthread_cond_wait(&lake->built, &lake->cache_mu);
            if (b->entry && !atomic_load(&b->entry->evicted))
                *have = ruv__lake_entry_retain(b->entry);
            drop = build_unref_locked(b); /* NULL unless *have is set */
            if (*have)
                break;
            continue; /* that build failed: look again, maybe lead */
        }
        if (!(b = calloc(1, sizeof *b))) {
            pthread_mutex_unlock(&lake->cache_mu);
            return ruv__detail_set(RUV_E_NOMEM, "out of memory for a build record");
        }
        memcpy(b->v1, v1, 32);
        memcpy(b->digest, digest, 32);
        b->leader = pthread_self();
        b->refs = 1;
        b->next = lake->builds;
        lake->builds = b;
        *claim = b;
        break;
    }
    pthread_mutex_unlock(&lake->cache_mu);
    ruv__lake_entry_release(lake, drop);
    return RUV_OK;
}

void ruv__lake_build_finish(struct ruv_lake *lake, struct lake_build *claim,
                            struct lake_entry *installed)
{
    if (!claim)
        return;
    pthread_mutex_lock(&lake->cache_mu);
    for (struct lake_build **p = &lake->builds; *p; p = &(*p)->next)
        if (*p == claim) {
            *p = claim->next;
            break;
        }
    claim->entry = installed ? ruv__lake_entry_retain(installed) : NULL;
    claim->done = 1;
    pthread_cond_broadcast(&lake->built);
    struct lake_entry *drop = build_unref_locked(claim);
    pthread_mutex_unlock(&lake->cache_mu);
    ruv__lake_entry_release(lake, drop);
}
