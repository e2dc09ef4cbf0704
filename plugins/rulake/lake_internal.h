/* The lake's private state, shared by lake.c (open, backends, keys,
 * invalidate, stats), cache.c (entries, byte budget, LRU eviction),
 * coherence.c (describe, single-flight prime) and search.c (search and
 * federation).
 *
 * Locks, always taken in this order: table_lock (read to find a slot,
 * write to add one; slots are never removed before close) -> a slot's mu
 * -> cache_mu. No backend call and no index build runs under any of
 * them. References: the cache list holds one on each linked entry, each
 * slot pointing at an entry one, each running search one. */
#ifndef RULAKE_LAKE_INTERNAL_H
#define RULAKE_LAKE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <ruvector/feature-lake.h>
#include <ruvector/index.h>
#include <ruvector/plugin.h>

#include "witness.h"

#define LAKE_MAX_BACKENDS 64
#define LAKE_BUCKETS 256
#define LAKE_NAME_MAX 64

struct lake_backend {
    char name[LAKE_NAME_MAX + 1];
    struct ruv_lake_backend b;
    pthread_mutex_t serial; /* held around calls of a backend without THREADSAFE */
};

struct lake_entry {
    atomic_uint refs;
    uint8_t v1[32], v2[32];
    uint32_t dim;
    uint64_t count;
    struct ruv_lake_desc desc; /* the rows' own description (a cache directory saves it) */
    uint8_t digest[32];        /* content digest of the rows (§6.2) */
    ruv_index *idx;        /* NULL for an empty collection */
    uint64_t bytes;        /* index memory_bytes + bookkeeping */
    atomic_uint_fast64_t last_used; /* lake tick of the last search */
    atomic_int evicted;    /* unlinked from the cache: slots drop it on sight */
    /* Under cache_mu: */
    int linked;
    unsigned nslots;
    struct lake_entry *prev, *next;
};

/* Counters of one key (rulake.md §7). */
struct lake_counters {
    atomic_uint_fast64_t hits, skipped, misses, prime_failures, checks, primes, shared_hits;
    atomic_uint_fast64_t invalidations, evictions, superseded, total_prime_ns, last_prime_ns;
    atomic_uint_fast64_t warm_installs;
};

struct lake_slot {
    struct lake_slot *next; /* hash chain */
    unsigned backend;       /* index into lake->backends */
    char *collection;
    pthread_mutex_t mu;
    pthread_cond_t primed;
    pthread_cond_t described;
    /* Under mu: */
    struct lake_entry *entry;
    uint64_t last_checked_ns;
    int priming;
    uint64_t prime_seq;
    int prime_status;
    char prime_detail[512];
    /* Shared describes (rulake.md §5 step 3), under mu: describes begun and
     * the sequence number of the last finished one, with its result. */
    int describing;
    uint64_t desc_started, desc_finished;
    int desc_status;
    struct ruv_lake_desc desc;
    char desc_detail[512];
    /* coherence.c, under mu: the witnesses of the last description checked
     * (a FRESH hit whose description did not change hashes nothing). */
    int wit_ok;
    struct ruv_lake_desc wit_desc;
    uint8_t wit_v1[32], wit_v2[32];
    struct lake_counters c;
};

struct ruv_lake {
    const struct ruv_host *host;
    struct ruv_lake_config cfg; /* cfg.public_keys points at keys */
    uint8_t (*keys)[32];
    char params[RUV_LAKE_PARAMS_MAX]; /* the §6.3 parameter string P */
    pthread_rwlock_t backends_lock;
    struct lake_backend *backends[LAKE_MAX_BACKENDS];
    unsigned nbackends;
    pthread_rwlock_t table_lock;
    struct lake_slot *buckets[LAKE_BUCKETS];
    pthread_mutex_t cache_mu;
    struct lake_entry *lru; /* linked entries (any order: victims by last_used) */
    uint64_t bytes, reserved, nentries;
    atomic_uint_fast64_t tick;
    /* submit.c: queued and running requests (close cancels the queued and
     * waits for all of them). */
    pthread_mutex_t tasks_mu;
    pthread_cond_t tasks_idle;
    struct lake_task *tasks;
    uint64_t next_ticket;
    unsigned ntasks;
};

/* "l2", "ip", "cosine" for a ruv_metric; NULL for another value. */
static inline const char *ruv__lake_metric_text(uint32_t metric)
{
    return metric == RUV_METRIC_L2 ? "l2"
           : metric == RUV_METRIC_IP ? "ip"
           : metric == RUV_METRIC_COSINE ? "cosine" : NULL;
}

/* ---- lake.c: the ops of feature-lake.h version 2 that plugin.c forwards ---- */
int ruv__lake_config_init(const struct ruv_host *host, struct ruv_lake_config *cfg);
int ruv__lake_open(const struct ruv_host *host, const struct ruv_lake_config *cfg,
                   struct ruv_lake **out);
void ruv__lake_close(struct ruv_lake *lake);
int ruv__lake_register(struct ruv_lake *lake, const struct ruv_lake_backend *b);
int ruv__lake_invalidate(struct ruv_lake *lake, const struct ruv_lake_target *key,
                         int *was_cached);
int ruv__lake_witness_of(struct ruv_lake *lake, const struct ruv_lake_target *key, int version,
                         char hex[65]);
int ruv__lake_stats(struct ruv_lake *lake, const struct ruv_lake_target *filter,
                    struct ruv_lake_stats *out);
/* The key's backend index and slot (created when create is set; else
 * *slot may be NULL). RUV_E_INVAL / RUV_E_NOTFOUND naming what is wrong. */
int ruv__lake_key_slot(struct ruv_lake *lake, const struct ruv_lake_target *key, int create,
                       unsigned *backend, struct lake_slot **slot);
/* Backend and collection names: [A-Za-z0-9._-]{1,64}; what names the kind. */
int ruv__lake_name_check(const char *what, const char *name);
/* The key's slot, created when create is set (else NULL when absent). */
struct lake_slot *ruv__lake_slot(struct ruv_lake *lake, unsigned backend, const char *collection,
                                 int create);
/* Resolves a target's backend name (NULL: the only backend) to its index;
 * RUV_E_NOTFOUND / RUV_E_INVAL naming it. */
int ruv__lake_backend_index(struct ruv_lake *lake, const char *name, unsigned *out);
struct lake_backend *ruv__lake_backend_at(struct ruv_lake *lake, unsigned i);
uint64_t ruv__lake_now_ns(void);

/* ---- cache.c ---- */
struct lake_entry *ruv__lake_entry_retain(struct lake_entry *e);
void ruv__lake_entry_release(struct ruv_lake *lake, struct lake_entry *e);
/* Reserves bytes for a prime in progress, evicting to make room;
 * RUV_E_NOMEM naming both sizes when bytes exceed the whole budget. */
int ruv__lake_cache_reserve(struct ruv_lake *lake, uint64_t bytes);
void ruv__lake_cache_unreserve(struct ruv_lake *lake, uint64_t bytes);
/* A linked entry with this v2, retained, or NULL. */
struct lake_entry *ruv__lake_cache_find(struct ruv_lake *lake, const uint8_t v2[32]);
/* Links e (one reference taken by the cache) unless an entry with its v2
 * is linked already (then that one is used: *shared is 1 when it was not
 * the slot's already); points slot at the result (installing what the
 * slot holds is a no-op; the new reference is taken before the old is
 * dropped). Call with slot->mu held. Returns the installed entry with a
 * reference for the caller, and in *victims the entries unlinked to fit
 * the budget: pass them to ruv__lake_cache_evict_finish after unlocking. */
struct lake_entry *ruv__lake_cache_install(struct ruv_lake *lake, struct lake_slot *slot,
                                           struct lake_entry *e, int *shared,
                                           struct lake_entry **victims);
/* Clears the slots that point at victims and drops the cache's references.
 * Takes table and slot locks: call with none held. */
void ruv__lake_cache_evict_finish(struct ruv_lake *lake, struct lake_entry *victims);
/* Drops slot's pointer (slot->mu held); returns the dropped entry for the
 * caller to release after unlocking, or NULL. */
struct lake_entry *ruv__lake_slot_drop(struct ruv_lake *lake, struct lake_slot *slot);
/* Walks every slot clearing pointers to evicted entries. */
void ruv__lake_cache_sweep(struct ruv_lake *lake);
/* Frees every linked entry (close). */
void ruv__lake_cache_clear(struct ruv_lake *lake);

/* ---- coherence.c ---- */
/* The coherence step of rulake.md §5 for one key: returns in *out a
 * retained entry valid for a query of qdim floats. flags: RUV_LAKE_NO_PRIME. */
int ruv__lake_acquire(struct ruv_lake *lake, unsigned backend, const char *collection,
                      uint32_t qdim, unsigned flags, struct lake_entry **out);

/* ---- cachedir.c: cache directories and bundles (rulake.md §9) ---- */
int ruv__lake_save_cache(struct ruv_lake *lake, const struct ruv_lake_target *key,
                         const char *dir, char w2[65]);
int ruv__lake_warm(struct ruv_lake *lake, const struct ruv_lake_target *key, const char *dir,
                   uint64_t *n);
int ruv__lake_refresh(struct ruv_lake *lake, const struct ruv_lake_target *key, const char *dir,
                      int *result);

/* ---- submit.c: requests on the engine's pool ---- */
struct lake_task;
int ruv__lake_submit(struct ruv_lake *lake, const struct ruv_lake_query *q,
                     void (*done)(void *ctx, int status), void *ctx, uint64_t *ticket);
int ruv__lake_cancel(struct ruv_lake *lake, uint64_t ticket);
/* At close: cancels queued requests and waits until none runs. */
void ruv__lake_tasks_drain(struct ruv_lake *lake);

/* ---- search.c ---- */
int ruv__lake_search(struct ruv_lake *lake, const struct ruv_lake_query *q);

#endif
