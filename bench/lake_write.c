/* LocalBackend write costs (docs/benchmarks-rulake.md, "Session 8:
 * LocalBackend writes"): upsert, put_collection and delete of 100k x 128
 * rows through the loaded rulake plugin, in process CPU time (the engine
 * pool's threads included) and wall time, each the median of --reps runs.
 * Built by `make bench/lake_write`, never by `make check`; run with
 * RUVECTOR_PLUGIN_PATH pointing at plugins/rulake (the build tree's). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ruvector/engine.h>
#include <ruvector/error.h>
#include <ruvector/feature-lake.h>

static const struct ruv_lake_ops *ops;
static void *ps;

static double now(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static uint64_t rng = 0x9e3779b97f4a7c15u;
static float frand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)(rng >> 40) / (float)(1u << 24) - 0.5f;
}

static void must(int st, const char *what)
{
    if (st != RUV_OK) {
        fprintf(stderr, "%s: %s\n", what, ruv_last_error());
        exit(1);
    }
}

enum { N = 100000, DIM = 128 };

struct timing {
    double cpu[64], wall[64];
    int n;
};

static void start(double *c, double *w)
{
    *c = now(CLOCK_PROCESS_CPUTIME_ID);
    *w = now(CLOCK_MONOTONIC);
}

static void stop(struct timing *t, double c, double w)
{
    t->cpu[t->n] = now(CLOCK_PROCESS_CPUTIME_ID) - c;
    t->wall[t->n] = now(CLOCK_MONOTONIC) - w;
    t->n++;
}

static void report(const char *what, struct timing *t)
{
    qsort(t->cpu, (size_t)t->n, sizeof(double), cmp_double);
    qsort(t->wall, (size_t)t->n, sizeof(double), cmp_double);
    printf("%-44s CPU ms %8.2f (min %7.2f)  wall ms %8.2f\n", what, t->cpu[t->n / 2], t->cpu[0],
           t->wall[t->n / 2]);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 5;
    if (reps < 1 || reps > 64)
        reps = 5;
    ruv_engine *eng;
    must(ruv_engine_open(NULL, &eng), "engine_open");
    must(ruv_engine_load_plugin(eng, "rulake"), "load_plugin");
    const void *o;
    must(ruv_engine_feature_get(eng, "rulake", RUV_FEATURE_LAKE, RUV_LAKE_OPS_SIZE_V2, &o, &ps),
         "feature_get");
    ops = o;
    uint64_t *ids = malloc(N * sizeof *ids), *del = malloc(N * sizeof *del);
    float *v = malloc((size_t)N * DIM * sizeof *v);
    for (uint64_t i = 0; i < N; i++)
        ids[i] = 2 * i + 2; /* even: odd ids insert between */
    float *v2 = malloc((size_t)N * DIM * sizeof *v2);
    for (size_t i = 0; i < (size_t)N * DIM; i++) {
        v[i] = frand();
        v2[i] = frand();
    }
    /* Shuffled order for the "unsorted" upsert. */
    uint64_t *shuf = malloc(N * sizeof *shuf);
    float *shv = malloc((size_t)N * DIM * sizeof *shv);
    for (uint64_t i = 0; i < N; i++)
        shuf[i] = i;
    for (uint64_t i = N - 1; i > 0; i--) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        uint64_t j = rng % (i + 1), x = shuf[i];
        shuf[i] = shuf[j];
        shuf[j] = x;
    }
    uint64_t *sids = malloc(N * sizeof *sids);
    for (uint64_t i = 0; i < N; i++) {
        sids[i] = ids[shuf[i]];
        memcpy(shv + i * DIM, v + shuf[i] * DIM, DIM * sizeof *v);
    }

    struct ruv_lake_local *lb;
    must(ops->local_new(ps, "w", &lb), "local_new");
    double c, w;
    struct timing t;

    memset(&t, 0, sizeof t);
    for (int r = 0; r < reps; r++) {
        ops->local_drop_collection(lb, "c");
        start(&c, &w);
        must(ops->local_upsert(lb, "c", ids, v, N, DIM), "upsert");
        stop(&t, c, w);
    }
    report("upsert 100k x 128 into empty (ids sorted)", &t);

    memset(&t, 0, sizeof t);
    for (int r = 0; r < reps; r++) {
        ops->local_drop_collection(lb, "c");
        start(&c, &w);
        must(ops->local_upsert(lb, "c", sids, shv, N, DIM), "upsert");
        stop(&t, c, w);
    }
    report("upsert 100k x 128 into empty (ids shuffled)", &t);

    memset(&t, 0, sizeof t);
    for (int r = 0; r < reps; r++) {
        must(ops->local_put_collection(lb, "c", ids, v, N, DIM), "put_collection");
        start(&c, &w);
        must(ops->local_put_collection(lb, "c", ids, v2, N, DIM), "put_collection");
        stop(&t, c, w);
    }
    report("put_collection of other 100k rows over 100k", &t);

    memset(&t, 0, sizeof t);
    for (int r = 0; r < reps; r++) {
        start(&c, &w);
        must(ops->local_put_collection(lb, "c", ids, v, N, DIM), "put_collection");
        stop(&t, c, w);
    }
    report("put_collection of the same 100k rows", &t);

    memset(&t, 0, sizeof t);
    for (int r = 0; r < reps; r++) {
        start(&c, &w);
        must(ops->local_upsert(lb, "c", ids, v, N, DIM), "upsert");
        stop(&t, c, w);
    }
    report("upsert the same 100k rows again", &t);

    /* A stream of small batches: 100 rows each, appended past the end,
     * and 100 rows each replacing rows in the middle. */
    enum { B = 100, BATCHES = 50 };
    uint64_t bid[B];
    memset(&t, 0, sizeof t);
    uint64_t next = 2 * (uint64_t)N + 10;
    for (int r = 0; r < reps; r++) {
        must(ops->local_put_collection(lb, "c", ids, v, N, DIM), "put_collection");
        start(&c, &w);
        for (int b = 0; b < BATCHES; b++) {
            for (int i = 0; i < B; i++)
                bid[i] = next++;
            must(ops->local_upsert(lb, "c", bid, v, B, DIM), "upsert");
        }
        stop(&t, c, w);
        t.cpu[t.n - 1] /= BATCHES;
        t.wall[t.n - 1] /= BATCHES;
    }
    report("append 100 rows to ~100k (per batch)", &t);

    /* The same with a describe after each batch (a FRESH lake searching
     * between writes): the partial last leaf is hashed for each reader. */
    struct ruv_lake_backend be;
    must(ops->local_backend(lb, &be), "local_backend");
    memset(&t, 0, sizeof t);
    for (int r = 0; r < reps; r++) {
        must(ops->local_put_collection(lb, "c", ids, v, N, DIM), "put_collection");
        start(&c, &w);
        for (int b = 0; b < BATCHES; b++) {
            for (int i = 0; i < B; i++)
                bid[i] = next++;
            must(ops->local_upsert(lb, "c", bid, v, B, DIM), "upsert");
            struct ruv_lake_desc d;
            memset(&d, 0, sizeof d);
            d.struct_size = sizeof d;
            must(be.describe(be.state, "c", &d), "describe");
        }
        stop(&t, c, w);
        t.cpu[t.n - 1] /= BATCHES;
        t.wall[t.n - 1] /= BATCHES;
    }
    be.destroy(be.state);
    report("append 100 rows + describe (per batch)", &t);

    memset(&t, 0, sizeof t);
    for (int r = 0; r < reps; r++) {
        must(ops->local_put_collection(lb, "c", ids, v, N, DIM), "put_collection");
        start(&c, &w);
        for (int b = 0; b < BATCHES; b++) {
            for (int i = 0; i < B; i++)
                bid[i] = ids[(uint64_t)(b * 1931 + i * 7) % N];
            must(ops->local_upsert(lb, "c", bid, v + (size_t)b * DIM, B, DIM), "upsert");
        }
        stop(&t, c, w);
        t.cpu[t.n - 1] /= BATCHES;
        t.wall[t.n - 1] /= BATCHES;
    }
    report("replace 100 scattered rows of 100k (per batch)", &t);

    memset(&t, 0, sizeof t);
    for (int r = 0; r < reps; r++) {
        must(ops->local_put_collection(lb, "c", ids, v, N, DIM), "put_collection");
        start(&c, &w);
        for (int b = 0; b < BATCHES; b++) {
            for (int i = 0; i < B; i++)
                bid[i] = ids[(uint64_t)(b * 1931 + i * 7) % N] + 1; /* odd: new, in between */
            must(ops->local_upsert(lb, "c", bid, v + (size_t)b * DIM, B, DIM), "upsert");
        }
        stop(&t, c, w);
        t.cpu[t.n - 1] /= BATCHES;
        t.wall[t.n - 1] /= BATCHES;
    }
    report("insert 100 scattered rows into 100k (per batch)", &t);

    static const uint64_t dels[] = {1000, 50000};
    for (size_t k = 0; k < 2; k++) {
        uint64_t m = dels[k];
        for (uint64_t i = 0; i < m; i++)
            del[i] = ids[(i * (N / m)) % N];
        memset(&t, 0, sizeof t);
        int dreps = m > 10000 && reps > 3 ? 3 : reps;
        for (int r = 0; r < dreps; r++) {
            must(ops->local_put_collection(lb, "c", ids, v, N, DIM), "put_collection");
            uint64_t removed = 0;
            start(&c, &w);
            must(ops->local_delete(lb, "c", del, m, &removed), "delete");
            stop(&t, c, w);
            if (removed != m) {
                fprintf(stderr, "removed %llu of %llu\n", (unsigned long long)removed,
                        (unsigned long long)m);
                return 1;
            }
        }
        char what[64];
        snprintf(what, sizeof what, "delete %llu spread ids of 100k", (unsigned long long)m);
        report(what, &t);
    }
    ops->local_release(lb);
    ruv_engine_close(eng);
    free(ids);
    free(del);
    free(v);
    free(v2);
    free(shuf);
    free(shv);
    free(sids);
    return 0;
}
