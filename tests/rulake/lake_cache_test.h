/* What the lake tests (test_lake_cache.c, test_lake_evict.c) share: an
 * engine with the `rulake` plugin loaded and its version-2 ops, rows,
 * a backend that counts its calls (and can fail or hold its pulls), and
 * small wrappers. Each test program includes this once. */
#ifndef RULAKE_LAKE_CACHE_TEST_H
#define RULAKE_LAKE_CACHE_TEST_H

#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ruvector/engine.h>
#include <ruvector/error.h>
#include <ruvector/feature-lake.h>
#include <ruvector/index.h>

#include "lake_test.h"

#define assert_lake(expr, want, fragment)                                                     \
    check_status((expr), (want), (fragment), #expr, ruv_last_error)

static ruv_engine *eng;
static const struct ruv_lake_ops *ops;
static void *ps; /* the plugin's state */
static char dir[] = "/tmp/rulake-cache-XXXXXX";

static inline int setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir) || ruv_engine_open(NULL, &eng) != RUV_OK ||
        ruv_engine_load_plugin(eng, "rulake") != RUV_OK)
        return -1;
    const void *o = NULL;
    if (ruv_engine_feature_get(eng, "rulake", RUV_FEATURE_LAKE, RUV_LAKE_OPS_SIZE_V2, &o, &ps) !=
        RUV_OK)
        return -1;
    ops = o;
    return 0;
}

static inline int teardown(void **state)
{
    (void)state;
    ruv_engine_close(eng);
    char cmd[80];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- data ---- */

/* dir/leaf in one of four rotating buffers: up to four live at once. */
static inline char *path_in(const char *leaf)
{
    static char buf[4][128];
    static int i;
    char *p = buf[i++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", dir, leaf);
    return p;
}

static inline float frand(uint64_t *s)
{
    *s = *s * 6364136223846793005u + 1442695040888963407u;
    return (float)((*s >> 40) & 0xffff) / 65536.0f - 0.5f;
}

struct rows {
    uint64_t n;
    uint32_t dim;
    uint64_t *ids;
    float *v;
};

static inline struct rows make_rows(uint64_t n, uint32_t dim, uint64_t seed, uint64_t id0,
                             uint64_t step)
{
    struct rows r = {n, dim, malloc(n * sizeof(uint64_t)), malloc(n * dim * sizeof(float))};
    for (uint64_t i = 0; i < n; i++) {
        r.ids[i] = id0 + i * step;
        for (uint32_t d = 0; d < dim; d++)
            r.v[i * dim + d] = frand(&seed);
    }
    return r;
}

static inline void free_rows(struct rows *r)
{
    free(r->ids);
    free(r->v);
}

/* ---- a backend that counts calls, can fail and can hold pulls ---- */

struct counting {
    struct ruv_lake_local *lb;
    struct ruv_lake_backend inner;
    atomic_int describes, pulls, fail;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int gate_closed, waiting;
    int describe_gate_closed, describe_waiting; /* the same, for describe */
    int owns_lb; /* lb came from local_new here (else borrowed: counting_over) */
};

static inline int c_describe(void *st, const char *c, struct ruv_lake_desc *d)
{
    struct counting *b = st;
    atomic_fetch_add(&b->describes, 1);
    pthread_mutex_lock(&b->mu);
    b->describe_waiting++;
    pthread_cond_broadcast(&b->cv);
    while (b->describe_gate_closed)
        pthread_cond_wait(&b->cv, &b->mu);
    pthread_mutex_unlock(&b->mu);
    return b->inner.describe(b->inner.state, c, d);
}

static inline int c_pull(void *st, const char *c, struct ruv_lake_batch *out)
{
    struct counting *b = st;
    atomic_fetch_add(&b->pulls, 1);
    pthread_mutex_lock(&b->mu);
    b->waiting++;
    pthread_cond_broadcast(&b->cv);
    while (b->gate_closed)
        pthread_cond_wait(&b->cv, &b->mu);
    pthread_mutex_unlock(&b->mu);
    if (atomic_load(&b->fail))
        return RUV_E_IO;
    return b->inner.pull(b->inner.state, c, out);
}

static inline void c_destroy(void *st)
{
    struct counting *b = st;
    b->inner.destroy(b->inner.state);
    if (b->owns_lb)
        ops->local_release(b->lb);
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
    free(b);
}

/* Registers a LocalBackend over lb in lake (the backend takes its own
 * reference to lb; the caller keeps its one). */
static inline void register_local(struct ruv_lake *lake, struct ruv_lake_local *lb)
{
    struct ruv_lake_backend b;
    assert_lake(ops->local_backend(lb, &b), RUV_OK, NULL);
    assert_lake(ops->register_backend(lake, &b), RUV_OK, NULL);
}

/* Registers an FsBackend over fs in lake, as register_local does for lb. */
static inline void register_fs(struct ruv_lake *lake, struct ruv_lake_fs *fs)
{
    struct ruv_lake_backend b;
    assert_lake(ops->fs_backend(fs, &b), RUV_OK, NULL);
    assert_lake(ops->register_backend(lake, &b), RUV_OK, NULL);
}

/* A counting backend over lb (borrowed: the caller keeps its reference;
 * NULL: a new LocalBackend the counter owns), registered in lake. */
static inline struct counting *counting_over(struct ruv_lake *lake, const char *name,
                                             struct ruv_lake_local *lb)
{
    struct counting *b = calloc(1, sizeof *b);
    b->owns_lb = lb == NULL;
    if (lb)
        b->lb = lb;
    else
        assert_lake(ops->local_new(ps, name, &b->lb), RUV_OK, NULL);
    assert_lake(ops->local_backend(b->lb, &b->inner), RUV_OK, NULL);
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    struct ruv_lake_backend w = {.struct_size = sizeof w, .flags = RUV_LAKE_BACKEND_THREADSAFE,
                                 .name = name, .state = b, .describe = c_describe,
                                 .pull = c_pull, .destroy = c_destroy};
    assert_lake(ops->register_backend(lake, &w), RUV_OK, NULL);
    return b;
}

static inline struct counting *counting_new(struct ruv_lake *lake, const char *name)
{
    return counting_over(lake, name, NULL);
}

static inline struct ruv_lake *open_lake(uint32_t mode, uint64_t ttl_ms, uint64_t max_bytes)
{
    struct ruv_lake_config cfg;
    struct ruv_lake *lake = NULL;
    assert_lake(ops->config_init(ps, &cfg), RUV_OK, NULL);
    cfg.consistency = mode;
    cfg.ttl_ms = ttl_ms;
    if (max_bytes)
        cfg.max_bytes = max_bytes;
    assert_lake(ops->open(ps, &cfg, &lake), RUV_OK, NULL);
    return lake;
}

/* search_one on (backend, coll) with k hits into h; returns the status. */
static inline int search1(struct ruv_lake *lake, const char *backend, const char *coll,
                   const float *q, uint32_t dim, uint32_t k, struct ruv_lake_hit *h,
                   uint32_t *nh)
{
    const struct ruv_lake_target t = {backend, coll};
    const struct ruv_lake_query qq = {.struct_size = sizeof qq, .targets = &t, .ntargets = 1,
                                      .queries = q, .nq = 1, .dim = dim, .k = k, .hits = h,
                                      .nhits = nh};
    return ops->search(lake, &qq);
}

static inline struct ruv_lake_stats stats_of(struct ruv_lake *lake, const char *b, const char *c)
{
    struct ruv_lake_stats s;
    const struct ruv_lake_target t = {b, c};
    assert_lake(ops->stats(lake, b ? &t : NULL, &s), RUV_OK, NULL);
    return s;
}

#endif
