/* Engine-private to index/ivf: k-means' parallel steps as numbered tasks on
 * the engine's one thread pool (exec/pool.h). */
#ifndef RUV_ENGINE_INDEX_IVF_KM_POOL_H
#define RUV_ENGINE_INDEX_IVF_KM_POOL_H

#include <stddef.h>

/* A step is ntasks independent tasks; the threads (the caller is worker 0)
 * take task numbers in turn. Which worker runs a task never changes what
 * the task computes, only the per-worker scratch it uses. */
typedef void (*ruv__km_task_fn)(void *ctx, size_t task, unsigned worker);

/* Runs fn for tasks 0 .. ntasks - 1 on up to `threads` threads and returns
 * when all are done; worker < threads. RUV_E_CANCELED (no detail) when the
 * caller's cancel token was raised: tasks were skipped, the step's output is
 * incomplete (exec/cancel.h). */
int ruv__km_run(unsigned threads, ruv__km_task_fn fn, void *ctx, size_t ntasks);

#endif
