/* A minimal parallel-for: the caller's thread plus threads - 1 workers pull
 * chunks from an atomic counter, so uneven chunks balance themselves.
 * Threads are created per call: the calls that use it (build, batch search,
 * k-means) run for milliseconds or more, so ~20 us of creation is noise. */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include <ruvector/error.h>

#include "exec/parallel.h"

struct job {
    ruv__range_fn fn;
    void *ctx;
    size_t n, grain;
    atomic_size_t next;
};

struct worker {
    struct job *job;
    unsigned id;
    pthread_t tid;
};

static void run(struct job *j, unsigned id)
{
    for (;;) {
        size_t b = atomic_fetch_add(&j->next, j->grain);
        if (b >= j->n)
            return;
        size_t e = b + j->grain < j->n ? b + j->grain : j->n;
        j->fn(j->ctx, b, e, id);
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    run(w->job, w->id);
    return NULL;
}

int ruv__parallel_for(unsigned threads, size_t n, size_t grain, ruv__range_fn fn, void *ctx)
{
    if (n == 0)
        return RUV_OK;
    if (grain == 0)
        grain = 1;
    size_t chunks = (n + grain - 1) / grain;
    if (threads > chunks)
        threads = (unsigned)chunks;
    struct job j = {.fn = fn, .ctx = ctx, .n = n, .grain = grain};
    atomic_init(&j.next, 0);
    if (threads <= 1) {
        run(&j, 0);
        return RUV_OK;
    }
    struct worker *ws = calloc(threads - 1, sizeof *ws);
    unsigned started = 0;
    for (unsigned i = 0; ws && i < threads - 1; i++) {
        ws[i].job = &j;
        ws[i].id = i + 1;
        if (pthread_create(&ws[i].tid, NULL, worker_main, &ws[i]) != 0)
            break; /* run with fewer threads rather than fail */
        started++;
    }
    run(&j, 0);
    for (unsigned i = 0; i < started; i++)
        pthread_join(ws[i].tid, NULL);
    free(ws);
    return RUV_OK;
}
