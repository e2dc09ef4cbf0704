/* A lake's life and bookkeeping: config defaults, open and close, backend
 * registration, the key table (backend, collection) -> slot, invalidate,
 * witness_of and statistics (rulake.md §3, §7, §9). */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ruvector/error.h>

#include "bytes.h"
#include "lake_error.h"
#include "lake_internal.h"

uint64_t ruv__lake_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int ruv__lake_config_init(const struct ruv_host *host, struct ruv_lake_config *cfg)
{
    if (!cfg)
        return ruv__detail_set(RUV_E_INVAL, "config_init: cfg is NULL");
    memset(cfg, 0, sizeof *cfg);
    cfg->struct_size = sizeof *cfg;
    cfg->consistency = RUV_LAKE_FRESH;
    cfg->rerank_factor = 20;
    cfg->metric = RUV_METRIC_L2;
    /* The engine's plan chooses bits and nlist per collection (from its n
     * and dim, for recall@10 0.95): the spec's bits 1 / nlist 0 reach
     * recall 0.67 on demo-100k at rerank 20 (docs/rulake.md, "Defaults"). */
    cfg->bits = RUV_INDEX_AUTO;
    cfg->nlist = RUV_INDEX_AUTO;
    cfg->rotation_seed = 42;
    uint64_t phys = host->physical_memory();
    cfg->max_bytes = phys ? phys / 2 : (UINT64_C(1) << 30);
    return RUV_OK;
}

static int config_check(const struct ruv_lake_config *c)
{
    if (!c || c->struct_size < sizeof *c)
        return ruv__detail_set(RUV_E_INVAL, "lake config is NULL or older than this plugin "
                                            "(fill it with config_init)");
    if (c->consistency > RUV_LAKE_STALE)
        return ruv__detail_set(RUV_E_INVAL, "consistency %u is not FRESH, EVENTUAL or STALE",
                               c->consistency);
    if (c->ttl_ms && c->consistency != RUV_LAKE_EVENTUAL)
        return ruv__detail_set(RUV_E_INVAL, "ttl_ms is valid only with EVENTUAL consistency");
    if (c->ttl_ms > UINT64_MAX / 1000000u)
        return ruv__detail_set(RUV_E_INVAL, "ttl_ms %llu is too large",
                               (unsigned long long)c->ttl_ms);
    if (c->rerank_factor < 1)
        return ruv__detail_set(RUV_E_INVAL, "rerank_factor must be >= 1");
    if (c->rotation_seed >= (UINT64_C(1) << 63))
        return ruv__detail_set(RUV_E_INVAL, "rotation_seed must be below 2^63");
    if (c->npublic_keys && !c->public_keys)
        return ruv__detail_set(RUV_E_INVAL, "npublic_keys is %u but public_keys is NULL",
                               c->npublic_keys);
    if (c->npublic_keys > 64)
        return ruv__detail_set(RUV_E_INVAL, "at most 64 public keys, not %u", c->npublic_keys);
    if (c->has_signing_key > 1)
        return ruv__detail_set(RUV_E_INVAL, "has_signing_key must be 0 or 1");
    if (c->max_bytes == 0)
        return ruv__detail_set(RUV_E_INVAL, "max_bytes must be >= 1");
    if (!ruv__lake_metric_text(c->metric))
        return ruv__detail_set(RUV_E_INVAL, "metric %u is not l2, ip or cosine", c->metric);
    return RUV_OK;
}

int ruv__lake_open(const struct ruv_host *host, const struct ruv_lake_config *cfg,
                   struct ruv_lake **out)
{
    if (!out)
        return ruv__detail_set(RUV_E_INVAL, "open: out is NULL");
    *out = NULL;
    int st = config_check(cfg);
    if (st != RUV_OK)
        return st;
    struct ruv_lake *lake = calloc(1, sizeof *lake);
    if (!lake)
        return ruv__detail_set(RUV_E_NOMEM, "out of memory for a lake");
    lake->host = host;
    lake->cfg = *cfg;
    lake->cfg.struct_size = sizeof lake->cfg;
    lake->cfg.public_keys = NULL;
    if (cfg->npublic_keys) {
        if (!(lake->keys = malloc(cfg->npublic_keys * sizeof *lake->keys))) {
            free(lake);
            return ruv__detail_set(RUV_E_NOMEM, "out of memory for public keys");
        }
        memcpy(lake->keys, cfg->public_keys, cfg->npublic_keys * sizeof *lake->keys);
        lake->cfg.public_keys = (const uint8_t(*)[32])lake->keys;
    }
    /* Planned parameters are known once a collection is built: each entry
     * then records its own (lake->params stays "" and names no entry). */
    st = ruv__lake_entry_params(lake, NULL, lake->params); /* checks metric and bits */
    if (ruv__lake_planned(&lake->cfg))
        lake->params[0] = '\0';
    if (st != RUV_OK) {
        free(lake->keys);
        free(lake);
        return st;
    }
    pthread_rwlock_init(&lake->backends_lock, NULL);
    pthread_rwlock_init(&lake->table_lock, NULL);
    pthread_mutex_init(&lake->cache_mu, NULL);
    pthread_cond_init(&lake->built, NULL);
    pthread_mutex_init(&lake->tasks_mu, NULL);
    pthread_cond_init(&lake->tasks_idle, NULL);
    pthread_mutex_init(&lake->calls_mu, NULL);
    pthread_cond_init(&lake->calls_idle, NULL);
    lake->next_ticket = 1;
    *out = lake;
    return RUV_OK;
}

int ruv__lake_enter(struct ruv_lake *lake)
{
    if (!lake)
        return ruv__detail_set(RUV_E_INVAL, "the lake is NULL");
    atomic_fetch_add(&lake->calls, 1);
    if (atomic_load(&lake->closing)) {
        ruv__lake_leave(lake);
        return ruv__detail_set(RUV_E_STATE, "the lake is closing");
    }
    return RUV_OK;
}

void ruv__lake_leave(struct ruv_lake *lake)
{
    /* The last call out wakes a waiting close (under the mutex, so the
     * wake-up cannot fall between close's check and its wait). */
    if (atomic_fetch_sub(&lake->calls, 1) == 1 && atomic_load(&lake->closing)) {
        pthread_mutex_lock(&lake->calls_mu);
        pthread_cond_broadcast(&lake->calls_idle);
        pthread_mutex_unlock(&lake->calls_mu);
    }
}

void ruv__lake_close(struct ruv_lake *lake)
{
    if (!lake)
        return;
    /* Synchronous calls still running (a search in its pull, a save) end
     * first; calls made from now on get RUV_E_STATE. */
    atomic_store(&lake->closing, 1);
    pthread_mutex_lock(&lake->calls_mu);
    while (atomic_load(&lake->calls) > 0)
        pthread_cond_wait(&lake->calls_idle, &lake->calls_mu);
    pthread_mutex_unlock(&lake->calls_mu);
    ruv__lake_tasks_drain(lake);
    for (unsigned b = 0; b < LAKE_BUCKETS; b++) {
        struct lake_slot *s = lake->buckets[b];
        while (s) {
            struct lake_slot *next = s->next;
            struct lake_entry *e = ruv__lake_slot_drop(lake, s);
            ruv__lake_entry_release(lake, e);
            pthread_mutex_destroy(&s->mu);
            pthread_cond_destroy(&s->primed);
            pthread_cond_destroy(&s->described);
            free(s->collection);
            free(s);
            s = next;
        }
    }
    ruv__lake_cache_clear(lake);
    for (unsigned i = 0; i < lake->nbackends; i++) {
        struct lake_backend *lb = lake->backends[i];
        if (lb->b.destroy)
            lb->b.destroy(lb->b.state);
        pthread_mutex_destroy(&lb->serial);
        free(lb);
    }
    while (lake->retired) {
        struct lake_backend *lb = lake->retired;
        lake->retired = lb->retired_next;
        pthread_mutex_destroy(&lb->serial);
        free(lb);
    }
    pthread_rwlock_destroy(&lake->backends_lock);
    pthread_rwlock_destroy(&lake->table_lock);
    pthread_mutex_destroy(&lake->cache_mu);
    pthread_cond_destroy(&lake->built);
    pthread_mutex_destroy(&lake->tasks_mu);
    pthread_cond_destroy(&lake->tasks_idle);
    pthread_mutex_destroy(&lake->calls_mu);
    pthread_cond_destroy(&lake->calls_idle);
    free(lake->keys);
    volatile uint8_t *secret = lake->cfg.signing_key; /* not left in freed memory */
    for (size_t i = 0; i < sizeof lake->cfg.signing_key; i++)
        secret[i] = 0;
    free(lake);
}

int ruv__lake_entry_params(const struct ruv_lake *lake, const ruv_index *idx,
                           char out[RUV_LAKE_PARAMS_MAX])
{
    const struct ruv_lake_config *c = &lake->cfg;
    const ruv_index_params *p = idx ? lake->host->index->params(idx) : NULL;
    unsigned bits = p ? p->bits : c->bits == RUV_INDEX_AUTO ? 1 : c->bits;
    uint64_t nlist = p ? p->nlist : c->nlist == RUV_INDEX_AUTO ? 0 : c->nlist;
    return ruv__lake_index_params(out, RUV_LAKE_PARAMS_MAX, ruv__lake_metric_text(c->metric),
                                  bits, nlist);
}

int ruv__lake_name_check(const char *what, const char *name)
{
    if (!name)
        return ruv__detail_set(RUV_E_INVAL, "%s name is NULL", what);
    size_t n = strlen(name);
    if (n < 1 || n > LAKE_NAME_MAX)
        return ruv__detail_set(RUV_E_INVAL, "%s name '%.80s' must be 1..64 characters", what,
                               name);
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return ruv__detail_set(RUV_E_INVAL, "%s name '%s' has a character outside "
                                                "[A-Za-z0-9._-]", what, name);
    }
    return RUV_OK;
}

int ruv__lake_register(struct ruv_lake *lake, const struct ruv_lake_backend *b)
{
    if (!lake || !b || b->struct_size < offsetof(struct ruv_lake_backend, last_error))
        return ruv__detail_set(RUV_E_INVAL, "register_backend: lake or backend is NULL, or the "
                                            "backend struct is older than this plugin");
    int st = ruv__lake_name_check("backend", b->name);
    if (st != RUV_OK)
        return st;
    if (!b->describe || !b->pull)
        return ruv__detail_set(RUV_E_INVAL, "backend '%s' lacks describe or pull", b->name);
    struct lake_backend *lb = calloc(1, sizeof *lb);
    if (!lb)
        return ruv__detail_set(RUV_E_NOMEM, "out of memory for backend '%s'", b->name);
    strcpy(lb->name, b->name);
    /* A host compiled before the last_error slot passes a shorter struct. */
    memcpy(&lb->b, b, b->struct_size < sizeof lb->b ? b->struct_size : sizeof lb->b);
    lb->b.name = lb->name;
    pthread_mutex_init(&lb->serial, NULL);
    pthread_rwlock_wrlock(&lake->backends_lock);
    st = RUV_OK;
    int replaced = 0;
    for (unsigned i = 0; i < lake->nbackends && st == RUV_OK && !replaced; i++) {
        struct lake_backend *old = lake->backends[i];
        if (strcmp(old->name, b->name) != 0)
            continue;
        if (old->absent) { /* warm entries waiting for this backend: keep index i */
            old->retired_next = lake->retired;
            lake->retired = old;
            lake->backends[i] = lb;
            replaced = 1;
        } else {
            st = ruv__detail_set(RUV_E_INVAL, "a backend named '%s' is already registered",
                                 b->name);
        }
    }
    if (st == RUV_OK && !replaced && lake->nbackends == LAKE_MAX_BACKENDS)
        st = ruv__detail_set(RUV_E_INVAL, "a lake holds at most %d backends", LAKE_MAX_BACKENDS);
    if (st == RUV_OK && !replaced)
        lake->backends[lake->nbackends++] = lb;
    pthread_rwlock_unlock(&lake->backends_lock);
    if (st != RUV_OK) {
        pthread_mutex_destroy(&lb->serial);
        free(lb);
    }
    return st;
}

int ruv__lake_backend_index(struct ruv_lake *lake, const char *name, unsigned *out)
{
    int st = RUV_OK;
    pthread_rwlock_rdlock(&lake->backends_lock);
    if (!name) {
        if (lake->nbackends == 1)
            *out = 0;
        else
            st = ruv__detail_set(RUV_E_INVAL, "no backend named and %u are registered (name "
                                              "one)", lake->nbackends);
    } else {
        /* The detail is written only on a miss: formatting it first cost
         * every search two vsnprintf calls (the plugin's and the host's). */
        unsigned i = 0;
        while (i < lake->nbackends && strcmp(lake->backends[i]->name, name) != 0)
            i++;
        if (i < lake->nbackends)
            *out = i;
        else
            st = ruv__detail_set(RUV_E_NOTFOUND, "unknown backend '%.80s'", name);
    }
    pthread_rwlock_unlock(&lake->backends_lock);
    return st;
}

struct lake_backend *ruv__lake_backend_at(struct ruv_lake *lake, unsigned i)
{
    /* Backends are only appended and live until close: no lock needed to
     * use one found by index. */
    pthread_rwlock_rdlock(&lake->backends_lock);
    struct lake_backend *lb = lake->backends[i];
    pthread_rwlock_unlock(&lake->backends_lock);
    return lb;
}

/* describe and pull of an absent backend (struct lake_backend). STALE
 * describes only a key without entry; the other modes also to check one. */
static int absent_pull(void *state, const char *collection, struct ruv_lake_batch *out)
{
    (void)state;
    (void)out;
    return ruv__detail_set(RUV_E_STATE,
                           "the backend is not registered: '%.200s' has no warm entry (never "
                           "warmed, invalidated or evicted) and only the backend can supply it",
                           collection);
}

static int absent_describe(void *state, const char *collection, struct ruv_lake_desc *out)
{
    const struct ruv_lake *lake = state;
    if (lake->cfg.consistency == RUV_LAKE_STALE)
        return absent_pull(state, collection, NULL);
    (void)out;
    return ruv__detail_set(RUV_E_STATE,
                           "the backend is not registered: %s consistency checks with the "
                           "backend that the warm entry of '%.200s' is still current "
                           "(register the backend, or open the lake with STALE consistency "
                           "to search a warm cache without it)",
                           lake->cfg.consistency == RUV_LAKE_EVENTUAL ? "EVENTUAL" : "FRESH",
                           collection);
}

int ruv__lake_warm_slot(struct ruv_lake *lake, const struct ruv_lake_target *key,
                        struct lake_slot **slot)
{
    if (!lake || !key || !key->collection)
        return ruv__detail_set(RUV_E_INVAL, "lake, key or collection is NULL");
    unsigned b;
    int st = ruv__lake_backend_index(lake, key->backend, &b);
    if (st == RUV_E_NOTFOUND && key->backend) {
        if ((st = ruv__lake_name_check("backend", key->backend)) != RUV_OK)
            return st;
        struct lake_backend *lb = calloc(1, sizeof *lb);
        if (!lb)
            return ruv__detail_set(RUV_E_NOMEM, "out of memory for backend '%s'", key->backend);
        strcpy(lb->name, key->backend);
        lb->absent = 1;
        lb->b = (struct ruv_lake_backend){.struct_size = sizeof lb->b,
                                          .flags = RUV_LAKE_BACKEND_THREADSAFE,
                                          .name = lb->name, .state = lake,
                                          .describe = absent_describe, .pull = absent_pull};
        pthread_mutex_init(&lb->serial, NULL);
        pthread_rwlock_wrlock(&lake->backends_lock);
        st = RUV_OK;
        int there = 0;
        for (unsigned i = 0; i < lake->nbackends && !there; i++)
            if (strcmp(lake->backends[i]->name, lb->name) == 0) { /* raced: it is there now */
                b = i;
                there = 1;
            }
        if (!there && lake->nbackends == LAKE_MAX_BACKENDS)
            st = ruv__detail_set(RUV_E_INVAL, "a lake holds at most %d backends",
                                 LAKE_MAX_BACKENDS);
        if (!there && st == RUV_OK) {
            b = lake->nbackends;
            lake->backends[lake->nbackends++] = lb;
        }
        pthread_rwlock_unlock(&lake->backends_lock);
        if (there || st != RUV_OK) {
            pthread_mutex_destroy(&lb->serial);
            free(lb);
        }
    }
    if (st != RUV_OK)
        return st;
    *slot = ruv__lake_slot(lake, b, key->collection, 1);
    return *slot ? RUV_OK : RUV_E_NOMEM;
}

static unsigned slot_hash(unsigned backend, const char *c)
{
    uint64_t h = 1469598103934665603u ^ backend;
    for (; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211u;
    return (unsigned)(h % LAKE_BUCKETS);
}

static struct lake_slot *find_slot(struct ruv_lake *lake, unsigned h, unsigned backend,
                                   const char *collection)
{
    for (struct lake_slot *s = lake->buckets[h]; s; s = s->next)
        if (s->backend == backend && strcmp(s->collection, collection) == 0)
            return s;
    return NULL;
}

struct lake_slot *ruv__lake_slot(struct ruv_lake *lake, unsigned backend, const char *collection,
                                 int create)
{
    unsigned h = slot_hash(backend, collection);
    pthread_rwlock_rdlock(&lake->table_lock);
    struct lake_slot *s = find_slot(lake, h, backend, collection);
    pthread_rwlock_unlock(&lake->table_lock);
    if (s || !create)
        return s;
    pthread_rwlock_wrlock(&lake->table_lock);
    s = find_slot(lake, h, backend, collection);
    if (!s && (s = calloc(1, sizeof *s)) != NULL) {
        s->backend = backend;
        s->collection = strdup(collection);
        if (!s->collection) {
            free(s);
            s = NULL;
        } else {
            pthread_mutex_init(&s->mu, NULL);
            pthread_cond_init(&s->primed, NULL);
            pthread_cond_init(&s->described, NULL);
            s->next = lake->buckets[h];
            lake->buckets[h] = s;
        }
    }
    pthread_rwlock_unlock(&lake->table_lock);
    if (!s)
        ruv__detail_set(RUV_E_NOMEM, "out of memory for a cache key");
    return s;
}

int ruv__lake_key_slot(struct ruv_lake *lake, const struct ruv_lake_target *key, int create,
                       unsigned *backend, struct lake_slot **slot)
{
    if (!lake || !key || !key->collection)
        return ruv__detail_set(RUV_E_INVAL, "lake, key or collection is NULL");
    unsigned b;
    int st = ruv__lake_backend_index(lake, key->backend, &b);
    if (st != RUV_OK)
        return st;
    *slot = ruv__lake_slot(lake, b, key->collection, create);
    if (create && !*slot)
        return RUV_E_NOMEM;
    if (backend)
        *backend = b;
    return RUV_OK;
}

static int key_slot(struct ruv_lake *lake, const struct ruv_lake_target *key,
                    struct lake_slot **out)
{
    return ruv__lake_key_slot(lake, key, 0, NULL, out);
}

int ruv__lake_invalidate(struct ruv_lake *lake, const struct ruv_lake_target *key,
                         int *was_cached)
{
    struct lake_slot *s = NULL;
    int st = key_slot(lake, key, &s);
    if (was_cached)
        *was_cached = 0;
    if (st != RUV_OK || !s)
        return st;
    pthread_mutex_lock(&s->mu);
    if (was_cached)
        *was_cached = s->entry && !atomic_load(&s->entry->evicted);
    struct lake_entry *e = ruv__lake_slot_drop(lake, s);
    s->last_checked_ns = 0;
    atomic_fetch_add(&s->c.invalidations, 1);
    pthread_mutex_unlock(&s->mu);
    ruv__lake_entry_release(lake, e);
    return RUV_OK;
}

int ruv__lake_witness_of(struct ruv_lake *lake, const struct ruv_lake_target *key, int version,
                         char hex[65])
{
    if (version != 1 && version != 2)
        return ruv__detail_set(RUV_E_INVAL, "witness version %d is not 1 or 2", version);
    if (!hex)
        return ruv__detail_set(RUV_E_INVAL, "witness_of: hex is NULL");
    struct lake_slot *s = NULL;
    int st = key_slot(lake, key, &s);
    if (st != RUV_OK)
        return st;
    st = ruv__detail_set(RUV_E_NOTFOUND, "collection '%.200s' is not cached", key->collection);
    if (!s)
        return st;
    pthread_mutex_lock(&s->mu);
    struct lake_entry *e = s->entry;
    if (e && !atomic_load(&e->evicted)) {
        ruv__lake_hex(version == 1 ? e->v1 : e->v2, 32, hex);
        st = RUV_OK;
    }
    pthread_mutex_unlock(&s->mu);
    return st;
}

static void add_counters(struct ruv_lake_stats *o, struct lake_slot *s)
{
    const struct lake_counters *c = &s->c;
    o->hits += atomic_load(&c->hits);
    o->skipped += atomic_load(&c->skipped);
    o->misses += atomic_load(&c->misses);
    o->prime_failures += atomic_load(&c->prime_failures);
    o->checks += atomic_load(&c->checks);
    o->primes += atomic_load(&c->primes);
    o->shared_hits += atomic_load(&c->shared_hits);
    o->invalidations += atomic_load(&c->invalidations);
    o->evictions += atomic_load(&c->evictions);
    o->superseded += atomic_load(&c->superseded);
    o->warm_installs += atomic_load(&c->warm_installs);
    o->total_prime_ns += atomic_load(&c->total_prime_ns);
    uint64_t last = atomic_load(&c->last_prime_ns);
    if (last)
        o->last_prime_ns = last;
}

int ruv__lake_stats(struct ruv_lake *lake, const struct ruv_lake_target *filter,
                    struct ruv_lake_stats *out)
{
    if (!lake || !out)
        return ruv__detail_set(RUV_E_INVAL, "stats: lake or out is NULL");
    unsigned b = 0;
    if (filter) {
        int st = ruv__lake_backend_index(lake, filter->backend, &b);
        if (st != RUV_OK)
            return st;
    }
    memset(out, 0, sizeof *out);
    out->struct_size = sizeof *out;
    pthread_rwlock_rdlock(&lake->table_lock);
    for (unsigned h = 0; h < LAKE_BUCKETS; h++)
        for (struct lake_slot *s = lake->buckets[h]; s; s = s->next) {
            if (filter && (s->backend != b ||
                           (filter->collection && strcmp(filter->collection, s->collection))))
                continue;
            add_counters(out, s);
            if (!filter)
                continue;
            pthread_mutex_lock(&s->mu);
            if (s->entry && !atomic_load(&s->entry->evicted)) {
                out->entries++;
                out->bytes += s->entry->bytes;
            }
            pthread_mutex_unlock(&s->mu);
        }
    pthread_rwlock_unlock(&lake->table_lock);
    if (!filter) {
        pthread_mutex_lock(&lake->cache_mu);
        out->entries = lake->nentries;
        out->bytes = lake->bytes;
        pthread_mutex_unlock(&lake->cache_mu);
    }
    return RUV_OK;
}
