/* The engine's one thread pool: process-wide, started lazily, sized from the
 * topology (cores - 1 workers beside the calling thread) and grown only when
 * a call asks for more threads than that. Every parallel loop of the engine
 * (index build and batch search, k-means) and every feature plugin (through
 * the host table) runs on it; no thread is created per call.
 *
 * Nesting is safe: a parallel_for's caller runs chunks itself, and when its
 * chunks are gone it withdraws the helpers nobody picked up and, while it
 * waits for the helpers already running, runs other queued work. So a task
 * that starts a parallel build inside a fan-out never deadlocks, whatever
 * the pool size. After fork() the child starts with no workers and makes
 * new ones on first use. */
#ifndef RUV_EXEC_POOL_H
#define RUV_EXEC_POOL_H

#include <stddef.h>

/* fn(ctx, begin, end, worker): worker is in [0, threads) and unique among
 * the threads running one call at the same time (0 is the caller). */
typedef void (*ruv__range_fn)(void *ctx, size_t begin, size_t end, unsigned worker);
typedef void (*ruv__task_fn)(void *ctx);

/* Runs fn over [0, n) in chunks of grain (0 means 1) on up to threads
 * threads, the caller included, and returns when every chunk has run.
 * Without workers the caller runs every chunk. The one failure: when the
 * cancel token bound to the caller (<ruvector/cancel.h>) is raised, chunks
 * not yet started are skipped and RUV_E_CANCELED is returned (no detail
 * set); fn runs with that token bound on every thread. */
int ruv__parallel_for(unsigned threads, size_t n, size_t grain, ruv__range_fn fn, void *ctx);

/* Queues fn(ctx) to run once on a pool thread and returns at once.
 * RUV_E_NOMEM if the task cannot be queued (fn will not run); if no worker
 * thread can be started, fn runs on the caller before this returns. */
int ruv__pool_submit(ruv__task_fn fn, void *ctx);

/* A caller that sleeps while a pool thread runs its call (ruv_cancel_run)
 * adds 1 before submitting and -1 after: the pool keeps default + standins
 * workers, so that call's own parallel loops are not a thread short. */
void ruv__pool_standin(int delta);

/* Worker threads started so far, and the size the topology suggests. */
unsigned ruv__pool_workers(void);
unsigned ruv__pool_default_workers(void);

#endif
