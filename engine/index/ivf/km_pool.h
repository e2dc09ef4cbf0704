/* Engine-private to index/ivf: k-means' persistent thread pool (km_pool.c),
 * started once per ruv__kmeans or ruv__kmeans_assign call and reused by
 * every parallel step of it. */
#ifndef RUV_ENGINE_INDEX_IVF_KM_POOL_H
#define RUV_ENGINE_INDEX_IVF_KM_POOL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

/* A job is ntasks independent tasks; workers (and the caller, as worker 0)
 * take task numbers from a shared counter. Which worker runs a task never
 * changes what the task computes, only the per-worker scratch it uses. */
typedef void (*ruv__km_task_fn)(void *ctx, size_t task, unsigned worker);

struct ruv__km_pool;
struct ruv__km_pool_worker {
    struct ruv__km_pool *p;
    unsigned id;
    pthread_t tid;
};

struct ruv__km_pool {
    unsigned nworkers; /* threads besides the caller */
    struct ruv__km_pool_worker *w;
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    unsigned long gen; /* bumped per job */
    unsigned running;  /* workers not yet finished with the current job */
    int quit;
    ruv__km_task_fn fn;
    void *ctx;
    size_t ntasks;
    atomic_size_t next;
};

/* Starts threads - 1 workers (fewer if creation fails: the caller still
 * runs every task as worker 0). */
void ruv__km_pool_start(struct ruv__km_pool *p, unsigned threads);
/* Runs fn for tasks 0 .. ntasks - 1 and returns when all are done. */
void ruv__km_pool_run(struct ruv__km_pool *p, ruv__km_task_fn fn, void *ctx, size_t ntasks);
void ruv__km_pool_stop(struct ruv__km_pool *p);

#endif
