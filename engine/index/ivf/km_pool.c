/* k-means' numbered tasks on the engine's thread pool (km_pool.h). */
#include "config.h"

#include "exec/pool.h"
#include "index/ivf/km_pool.h"

struct km_step {
    ruv__km_task_fn fn;
    void *ctx;
};

static void run_range(void *vctx, size_t begin, size_t end, unsigned worker)
{
    const struct km_step *s = vctx;
    for (size_t t = begin; t < end; t++)
        s->fn(s->ctx, t, worker);
}

int ruv__km_run(unsigned threads, ruv__km_task_fn fn, void *ctx, size_t ntasks)
{
    struct km_step s = {fn, ctx};
    return ruv__parallel_for(threads, ntasks, 1, run_range, &s);
}
