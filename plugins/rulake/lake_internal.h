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
    /* A name warm_from_dir installed entries under before any backend of
     * that name was registered: its describe and pull fail, saying the
     * backend is needed. register_backend replaces it (same index); the
     * replaced one stays on the lake's retired list until close, as a
     * search may still hold it. */
    int absent;
    struct lake_backend *retired_next;
};

struct lake_entry {
    atomic_uint refs;
    uint8_t v1[32], v2[32];
    uint32_t dim;
    uint64_t count;
    struct ruv_lake_desc desc; /* the rows' own description (a cache directory saves it) */
    uint8_t digest[32];        /* content digest of the rows (§6.2) */
    char params[RUV_LAKE_PARAMS_MAX]; /* the §6.3 string P of this entry's index (what v2 covers) */
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
    /* coherence.c (and warm_from_dir, from the checked sidecar), under mu:
     * the witnesses of the last description checked (a FRESH hit whose
     * description did not change hashes nothing). */
    int wit_ok;
    struct ruv_lake_desc wit_desc;
    uint8_t wit_v1[32];
    struct lake_counters c;
};

struct ruv_lake {
    const struct ruv_host *host;
    struct ruv_lake_config cfg; /* cfg.public_keys points at keys */
    uint8_t (*keys)[32];
    char params[RUV_LAKE_PARAMS_MAX]; /* the §6.3 parameter string P; "" when planned */
    pthread_rwlock_t backends_lock;
    struct lake_backend *backends[LAKE_MAX_BACKENDS];
    unsigned nbackends;
    struct lake_backend *retired; /* replaced absent backends (freed at close) */
    pthread_rwlock_t table_lock;
    struct lake_slot *buckets[LAKE_BUCKETS];
    pthread_mutex_t cache_mu;
    struct lake_entry *lru; /* linked entries (any order: victims by last_used) */
    uint64_t bytes, reserved, nentries;
    struct lake_build *builds; /* builds in progress (cache.c), under cache_mu */
    pthread_cond_t built;      /* a build finished */
    atomic_uint_fast64_t tick;
    /* submit.c: queued and running requests (close cancels the queued and
     * waits for all of them). */
    pthread_mutex_t tasks_mu;
    pthread_cond_t tasks_idle;
    struct lake_task *tasks;
    uint64_t next_ticket;
    unsigned ntasks;
    /* Calls in progress through the ops table (ruv__lake_enter/leave):
     * close refuses new ones and waits for these. */
    atomic_uint calls;
    atomic_int closing;
    pthread_mutex_t calls_mu;
    pthread_cond_t calls_idle;
};

/* "l2", "ip", "cosine" for a ruv_metric; NULL for another value. */
static inline const char *ruv__lake_metric_text(uint32_t metric)
{
    return metric == RUV_METRIC_L2 ? "l2"
           : metric == RUV_METRIC_IP ? "ip"
           : metric == RUV_METRIC_COSINE ? "cosine" : NULL;
}

/* Whether the engine's plan chooses bits or nlist per collection
 * (RUV_INDEX_AUTO): each entry's P is then known only after its build. */
static inline int ruv__lake_planned(const struct ruv_lake_config *c)
{
    return c->bits == RUV_INDEX_AUTO || c->nlist == RUV_INDEX_AUTO;
}

/* Around every call of the ops table on an open lake: enter returns
 * RUV_E_STATE once close has begun (then leave must not be called); close
 * waits until every entered call has left. */
int ruv__lake_enter(struct ruv_lake *lake);
void ruv__lake_leave(struct ruv_lake *lake);

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
/* The key's slot for warm_from_dir, which needs no backend: a backend name
 * not registered gets an absent backend (see struct lake_backend). */
int ruv__lake_warm_slot(struct ruv_lake *lake, const struct ruv_lake_target *key,
                        struct lake_slot **slot);
uint64_t ruv__lake_now_ns(void);

/* The §6.3 string P of an index the lake built (NULL: an empty
 * collection, whose P has the lake's values, a planned one bits 1 nlist 0). */
int ruv__lake_entry_params(const struct ruv_lake *lake, const ruv_index *idx,
                           char out[RUV_LAKE_PARAMS_MAX]);

/* ---- cache.c ---- */
struct lake_entry *ruv__lake_entry_retain(struct lake_entry *e);
void ruv__lake_entry_release(struct ruv_lake *lake, struct lake_entry *e);
/* Returns the allocator's free pages to the system (glibc: malloc_trim;
 * elsewhere nothing): after an index is dropped or built, so that the
 * process keeps resident what the cache counts and not its freed memory. */
void ruv__lake_heap_return(void);
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
/* Builds are single-flight per v2 (rulake.md §7): a prime that has the
 * rows' v1 and content digest (which, with the lake's parameters, make v2)
 * calls claim before building. When an entry with v2 is linked (v2 given;
 * NULL while the plan has not chosen P) or another prime is building the
 * same rows, claim waits for that build and returns its entry, retained,
 * in *have; when that build failed it tries again. Else the caller leads:
 * *claim is set and the caller must pass it to finish once it installed
 * its entry (installed, or NULL when it failed). A prime nested in the
 * leader's own build on its thread (the pool runs queued work while it
 * waits) builds on its own: *have and *claim both NULL. */
struct lake_build;
int ruv__lake_build_claim(struct ruv_lake *lake, const uint8_t v1[32], const uint8_t digest[32],
                          const uint8_t *v2, struct lake_entry **have, struct lake_build **claim);
void ruv__lake_build_finish(struct ruv_lake *lake, struct lake_build *claim,
                            struct lake_entry *installed);
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
/* What one call brings to a target's coherence step besides the query
 * (submit, submit_supplied): when the call arrived, and what the host
 * obtained itself. */
struct lake_call {
    int has_arrival;
    uint64_t arrival; /* the key's describes begun when the call arrived (rulake.md §5 step 3) */
    struct ruv_lake_supply *supply; /* NULL: the lake describes and pulls itself */
};
/* The coherence step of rulake.md §5 for one key: returns in *out a
 * retained entry valid for a query of qdim floats. flags: RUV_LAKE_NO_PRIME. */
int ruv__lake_acquire(struct ruv_lake *lake, unsigned backend, const char *collection,
                      uint32_t qdim, unsigned flags, struct lake_entry **out);
/* The same for a call that arrived earlier or brings a supply (may be NULL). */
int ruv__lake_acquire_call(struct ruv_lake *lake, unsigned backend, const char *collection,
                           uint32_t qdim, unsigned flags, const struct lake_call *call,
                           struct lake_entry **out);
/* RUV_LAKE_WARMUP_DESCRIBE: the key's backend described once as a check
 * would (through the shared describe; the witness memo compared), the
 * answer dropped, nothing counted; best effort (a failure leaves only the
 * thread's detail). Nothing for a backend only warmed (absent). */
void ruv__lake_warm_describe(struct ruv_lake *lake, unsigned backend, const char *collection);
/* The backend's describe of collection now (serialised for a backend
 * without THREADSAFE; its failure wrapped as the search path wraps it). */
int ruv__lake_describe(struct ruv_lake *lake, unsigned backend, const char *collection,
                       struct ruv_lake_desc *out);

/* ---- cachedir.c: cache directories and bundles (rulake.md §9) ---- */
int ruv__lake_save_cache(struct ruv_lake *lake, const struct ruv_lake_target *key,
                         const char *dir, char w2[65]);
/* Writes entry e of key (whose backend is named backend) into dir as a
 * cache directory: index file (none for an empty collection when
 * allow_empty), then the sidecar (signed with the lake's signing key),
 * whose rename commits; then drops index files it does not name. */
int ruv__lake_save_entry(struct ruv_lake *lake, const struct ruv_lake_target *key,
                         const char *backend, const struct lake_entry *e, const char *dir,
                         int allow_empty, char w2[65]);
/* bundle.c: publish_bundle (rulake.md §9). */
int ruv__lake_publish(struct ruv_lake *lake, const struct ruv_lake_target *key, const char *dir,
                      char w2[65]);
int ruv__lake_warm(struct ruv_lake *lake, const struct ruv_lake_target *key, const char *dir,
                   uint64_t *n);
int ruv__lake_refresh(struct ruv_lake *lake, const struct ruv_lake_target *key, const char *dir,
                      int *result);

/* ---- submit.c: requests on the engine's pool ---- */
struct lake_task;
int ruv__lake_submit(struct ruv_lake *lake, const struct ruv_lake_query *q,
                     void (*done)(void *ctx, int status), void *ctx, uint64_t *ticket);
int ruv__lake_submit_supplied(struct ruv_lake *lake, const struct ruv_lake_query *q,
                              struct ruv_lake_supply *supply,
                              void (*done)(void *ctx, int status), void *ctx, uint64_t *ticket);
int ruv__lake_cancel(struct ruv_lake *lake, uint64_t ticket);
/* At close: cancels queued requests and waits until none runs. */
void ruv__lake_tasks_drain(struct ruv_lake *lake);
/* Around each coherence step on this thread. A pool thread waiting for
 * helpers (a build, a digest) runs queued work: a submitted search handed
 * to a thread inside a step waits until its outermost step ends (it may
 * need the very prime the thread leads, and waiting for it there would
 * wait for itself). leave returns st, keeping its detail. */
void ruv__lake_step_enter(void);
int ruv__lake_step_leave(int st);

/* ---- search.c ---- */
int ruv__lake_search(struct ruv_lake *lake, const struct ruv_lake_query *q);
/* calls: one per target, or NULL (a blocking search). */
int ruv__lake_search_call(struct ruv_lake *lake, const struct ruv_lake_query *q,
                          const struct lake_call *calls);

#endif
