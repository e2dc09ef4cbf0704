/* Engine-private: parallel loops (exec/parallel.c). */
#ifndef RUV_ENGINE_EXEC_PARALLEL_H
#define RUV_ENGINE_EXEC_PARALLEL_H

#include <stddef.h>

/* Parallel for over [0, n) in chunks of grain; fn(ctx, begin, end, worker). */
typedef void (*ruv__range_fn)(void *ctx, size_t begin, size_t end, unsigned worker);
int ruv__parallel_for(unsigned threads, size_t n, size_t grain, ruv__range_fn fn, void *ctx);

#endif
