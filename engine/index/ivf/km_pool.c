/* k-means' thread pool (km_pool.h). */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "index/ivf/km_pool.h"

static void km_pool_drain(struct ruv__km_pool *p, unsigned id)
{
    for (;;) {
        size_t t = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
        if (t >= p->ntasks)
            return;
        p->fn(p->ctx, t, id);
    }
}

static void *km_pool_main(void *arg)
{
    struct ruv__km_pool_worker *w = arg;
    struct ruv__km_pool *p = w->p;
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->gen == seen && !p->quit)
            pthread_cond_wait(&p->go, &p->mu);
        if (p->quit)
            break;
        seen = p->gen;
        pthread_mutex_unlock(&p->mu);
        km_pool_drain(p, w->id);
        pthread_mutex_lock(&p->mu);
        if (--p->running == 0)
            pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Starts up to threads - 1 workers. Failing to start one is not an error:
 * the results do not depend on how many run. */
void ruv__km_pool_start(struct ruv__km_pool *p, unsigned threads)
{
    memset(p, 0, sizeof *p);
    atomic_init(&p->next, 0);
    if (threads <= 1)
        return;
    if (pthread_mutex_init(&p->mu, NULL) != 0)
        return;
    if (pthread_cond_init(&p->go, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        return;
    }
    if (pthread_cond_init(&p->done, NULL) != 0) {
        pthread_cond_destroy(&p->go);
        pthread_mutex_destroy(&p->mu);
        return;
    }
    p->w = calloc(threads - 1, sizeof *p->w);
    if (p->w) {
        for (unsigned i = 0; i < threads - 1; i++) {
            p->w[i].p = p;
            p->w[i].id = i + 1;
            if (pthread_create(&p->w[i].tid, NULL, km_pool_main, &p->w[i]) != 0)
                break;
            p->nworkers++;
        }
    }
    if (p->nworkers == 0) {
        free(p->w);
        p->w = NULL;
        pthread_cond_destroy(&p->done);
        pthread_cond_destroy(&p->go);
        pthread_mutex_destroy(&p->mu);
    }
}

void ruv__km_pool_run(struct ruv__km_pool *p, ruv__km_task_fn fn, void *ctx, size_t ntasks)
{
    if (p->nworkers == 0 || ntasks <= 1) {
        for (size_t t = 0; t < ntasks; t++)
            fn(ctx, t, 0);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->ntasks = ntasks;
    atomic_store_explicit(&p->next, 0, memory_order_relaxed);
    p->running = p->nworkers;
    p->gen++;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    km_pool_drain(p, 0);
    pthread_mutex_lock(&p->mu);
    while (p->running)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

void ruv__km_pool_stop(struct ruv__km_pool *p)
{
    if (p->nworkers == 0)
        return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->nworkers; i++)
        pthread_join(p->w[i].tid, NULL);
    free(p->w);
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->go);
    pthread_mutex_destroy(&p->mu);
}
