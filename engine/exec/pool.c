/* The process-wide thread pool (contract in pool.h).
 *
 * One queue of nodes under one mutex. A node is either a submitted task
 * (heap, freed after it runs) or a helper slot of a parallel_for (inside the
 * caller's job, on its stack): a thread that takes a helper joins the job's
 * chunk loop. One condition variable, broadcast whenever a node is queued
 * or a job's last running helper leaves, serves both idle workers and
 * callers waiting for their helpers, so a waiting caller also picks up
 * queued work. */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include <ruvector/engine.h>
#include <ruvector/error.h>

#include "exec/cancel.h"
#include "exec/pool.h"

/* Enough for any machine this engine meets; ruv_config_set_threads caps a
 * call at 4,096 threads too. */
#define MAX_WORKERS 4095u

struct node {
    struct node *prev, *next;
    struct job *job; /* NULL: a submitted task */
    ruv__task_fn fn;
    void *ctx;
};

struct job {
    ruv__range_fn fn;
    void *ctx;
    size_t n, grain;
    atomic_size_t next;
    atomic_uint next_worker;
    ruv_cancel *cancel; /* the caller's bound token: checked before each chunk */
    unsigned running; /* helpers inside the chunk loop (under the pool mutex) */
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t changed;
    struct node queue; /* circular list sentinel */
    pthread_t *tids;
    unsigned nworkers, captids;
    unsigned idle;
    unsigned standins; /* callers sleeping in ruv_cancel_run while a worker runs their call */
    int stopping;
} P = {.mu = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static unsigned default_workers = 1; /* set once, in setup() */

static void queue_init(void) { P.queue.next = P.queue.prev = &P.queue; }

static int queue_empty(void) { return P.queue.next == &P.queue; }

static void queue_push(struct node *n)
{
    n->next = &P.queue;
    n->prev = P.queue.prev;
    P.queue.prev->next = n;
    P.queue.prev = n;
}

static void unlink_node(struct node *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->next = n->prev = NULL;
}

/* A helper runs the chunks with the caller's token bound, so the checks
 * inside fn (and loops nested in it) see the same token. Once it is raised
 * the remaining chunks are skipped: the caller checks after the loop. */
static void run_chunks(struct job *j, unsigned worker)
{
    ruv_cancel *prev = ruv_cancel_bind(j->cancel);
    for (;;) {
        if (ruv_cancel_requested(j->cancel))
            break;
        size_t b = atomic_fetch_add_explicit(&j->next, j->grain, memory_order_relaxed);
        if (b >= j->n)
            break;
        size_t e = j->n - b > j->grain ? b + j->grain : j->n;
        j->fn(j->ctx, b, e, worker);
    }
    ruv_cancel_bind(prev);
}

/* Takes the first queued node and runs it; called and returns with the
 * mutex held, releases it while the node runs. */
static void run_one_locked(void)
{
    struct node *n = P.queue.next;
    unlink_node(n);
    struct job *j = n->job;
    if (j) {
        j->running++;
        pthread_mutex_unlock(&P.mu);
        unsigned worker = atomic_fetch_add_explicit(&j->next_worker, 1, memory_order_relaxed);
        run_chunks(j, worker);
        pthread_mutex_lock(&P.mu);
        if (--j->running == 0)
            pthread_cond_broadcast(&P.changed);
    } else {
        /* Freed before it runs: a fork during the task must not leave the
         * child holding a node only the parent's thread knew about. */
        ruv__task_fn fn = n->fn;
        void *ctx = n->ctx;
        free(n);
        pthread_mutex_unlock(&P.mu);
        fn(ctx);
        pthread_mutex_lock(&P.mu);
    }
}

static void *worker_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&P.mu);
    while (!P.stopping) {
        if (!queue_empty()) {
            run_one_locked();
            continue;
        }
        P.idle++;
        pthread_cond_wait(&P.changed, &P.mu);
        P.idle--;
    }
    pthread_mutex_unlock(&P.mu);
    return NULL;
}

/* Starts workers until there are `want` (mutex held). A worker that cannot
 * be started is not an error: callers run what no worker takes. */
static void grow_locked(unsigned want)
{
    if (want > MAX_WORKERS)
        want = MAX_WORKERS;
    if (want <= P.nworkers || P.stopping)
        return;
    if (want > P.captids) {
        unsigned cap = P.captids ? P.captids : 4;
        while (cap < want)
            cap *= 2;
        pthread_t *t = realloc(P.tids, cap * sizeof *t);
        if (!t)
            return;
        P.tids = t;
        P.captids = cap;
    }
    while (P.nworkers < want) {
        if (pthread_create(&P.tids[P.nworkers], NULL, worker_main, NULL) != 0)
            return;
        P.nworkers++;
    }
}

static unsigned topology_workers(void)
{
    ruv_topology t;
    unsigned cores = 1;
    if (ruv_topology_get(&t) == RUV_OK)
        cores = t.cores ? t.cores : (t.pus ? t.pus : 1);
    return cores > 1 ? cores - 1 : 1;
}

/* The child of a fork has none of the parent's threads: forget them (their
 * queued tasks belonged to the parent) and start again on first use. */
static void atfork_prepare(void) { pthread_mutex_lock(&P.mu); }
static void atfork_parent(void) { pthread_mutex_unlock(&P.mu); }
static void atfork_child(void)
{
    pthread_mutex_init(&P.mu, NULL);
    pthread_cond_init(&P.changed, NULL);
    queue_init();
    free(P.tids);
    P.tids = NULL;
    P.nworkers = P.captids = P.idle = P.standins = 0;
}

/* Joins the workers when libruvector is unloaded or the process exits, so
 * no thread runs code from an unmapped library. */
__attribute__((destructor)) static void pool_stop(void)
{
    if (!P.queue.next) /* never used */
        return;
    pthread_mutex_lock(&P.mu);
    P.stopping = 1;
    pthread_cond_broadcast(&P.changed);
    unsigned n = P.nworkers;
    pthread_mutex_unlock(&P.mu);
    for (unsigned i = 0; i < n; i++)
        pthread_join(P.tids[i], NULL);
    pthread_mutex_lock(&P.mu);
    while (!queue_empty()) { /* tasks submitted but never run: only at exit */
        struct node *q = P.queue.next;
        unlink_node(q);
        if (!q->job)
            free(q);
    }
    free(P.tids);
    P.tids = NULL;
    P.nworkers = P.captids = 0;
    pthread_mutex_unlock(&P.mu);
}

static void setup(void)
{
    default_workers = topology_workers();
    queue_init();
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

int ruv__parallel_for(unsigned threads, size_t n, size_t grain, ruv__range_fn fn, void *ctx)
{
    if (n == 0)
        return RUV_OK;
    if (grain == 0)
        grain = 1;
    struct job j = {.fn = fn, .ctx = ctx, .n = n, .grain = grain, .cancel = ruv_cancel_bound()};
    atomic_init(&j.next, 0);
    atomic_init(&j.next_worker, 1);
    size_t chunks = (n - 1) / grain + 1;
    unsigned helpers = threads > 1 ? threads - 1 : 0;
    if (helpers > chunks - 1)
        helpers = (unsigned)(chunks - 1);
    if (helpers > MAX_WORKERS)
        helpers = MAX_WORKERS;
    if (helpers == 0) {
        run_chunks(&j, 0);
        return ruv_cancel_requested(j.cancel) ? RUV_E_CANCELED : RUV_OK;
    }
    struct node *slots = calloc(helpers, sizeof *slots);
    if (!slots) { /* run alone rather than fail */
        run_chunks(&j, 0);
        return ruv_cancel_requested(j.cancel) ? RUV_E_CANCELED : RUV_OK;
    }
    pthread_once(&once, setup);
    pthread_mutex_lock(&P.mu);
    grow_locked(helpers > default_workers ? helpers : default_workers);
    for (unsigned i = 0; i < helpers; i++) {
        slots[i].job = &j;
        queue_push(&slots[i]);
    }
    pthread_cond_broadcast(&P.changed);
    pthread_mutex_unlock(&P.mu);

    run_chunks(&j, 0);

    pthread_mutex_lock(&P.mu);
    for (unsigned i = 0; i < helpers; i++)
        if (slots[i].next) /* still queued: nobody took it, nobody will */
            unlink_node(&slots[i]);
    while (j.running) {
        if (!queue_empty())
            run_one_locked();
        else
            pthread_cond_wait(&P.changed, &P.mu);
    }
    pthread_mutex_unlock(&P.mu);
    free(slots);
    return ruv_cancel_requested(j.cancel) ? RUV_E_CANCELED : RUV_OK;
}

int ruv__pool_submit(ruv__task_fn fn, void *ctx)
{
    struct node *n = calloc(1, sizeof *n);
    if (!n)
        return RUV_E_NOMEM;
    n->fn = fn;
    n->ctx = ctx;
    pthread_once(&once, setup);
    pthread_mutex_lock(&P.mu);
    grow_locked(default_workers);
    if (P.nworkers == 0 || P.stopping) {
        pthread_mutex_unlock(&P.mu);
        free(n);
        fn(ctx);
        return RUV_OK;
    }
    queue_push(n);
    pthread_cond_broadcast(&P.changed);
    pthread_mutex_unlock(&P.mu);
    return RUV_OK;
}

void ruv__pool_standin(int delta)
{
    pthread_once(&once, setup);
    pthread_mutex_lock(&P.mu);
    if (delta < 0 && P.standins > 0)
        P.standins--;
    else if (delta > 0)
        P.standins++;
    grow_locked(default_workers + P.standins);
    pthread_mutex_unlock(&P.mu);
}

unsigned ruv__pool_default_workers(void)
{
    pthread_once(&once, setup);
    return default_workers;
}

unsigned ruv__pool_workers(void)
{
    pthread_mutex_lock(&P.mu);
    unsigned n = P.nworkers;
    pthread_mutex_unlock(&P.mu);
    return n;
}
