/* ruvector bench: builds an index over a base file and measures, for every
 * combination of --nprobe and --rerank values, recall@1/10/100 (each
 * searched at that k, never truncated from a larger k; a hit is a result
 * whose exact distance is within the k-th ground-truth distance x (1 +
 * 1e-6), so ties count), single-query latency and QPS on 1 thread, batch QPS
 * on each thread count, build time, memory and file bytes. */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cli_engine.h"
#include "cli_util.h"
#include "commands.h"

static const char bench_help[] =
    "usage: ruvector bench <base> <queries> [options]\n"
    "Builds an index over <base> (ids = row numbers) and measures, for every\n"
    "combination of --nprobe and --rerank values:\n"
    "  recall@1, @10, @100, each from a search at that k (never truncated from a\n"
    "    larger k); a result is a hit if its exact distance is within the k-th\n"
    "    ground-truth distance x (1 + 1e-6), so ties count;\n"
    "  QPS and p50/p99 latency of a single-query loop on 1 thread (at -k);\n"
    "  QPS of one batch of all queries on each --threads count (at -k);\n"
    "and build time, memory and file bytes per vector. Timings: a warm-up pass,\n"
    "then the median of --repeats runs.\n"
    "\n"
    "  --gt FILE           ground truth (.ivecs/.npy row numbers of <base>, nearest\n"
    "                      first), checked against exact distances on 16 queries;\n"
    "                      default: computed with an exact flat_f32 index\n"
    "  --type T            flat_f32 | rabitq | rabitq_plus (default) | rabitq_asym\n"
    "  --metric M          l2 (default) | ip | cosine\n"
    "  --bits N            RaBitQ code bits, 1..8     --nlist N   IVF lists\n"
    "  --train-size N      k-means sample rows        --kmeans-iters N  iterations\n"
    "  --seed N            rotation and k-means seed\n"
    "  --target-recall R   recall@10 the build plans for (default 0.95; 0: no plan)\n"
    "  --epsilon E         RaBitQ error-bound multiplier (default 2.6)\n"
    "  --query-bits N      RaBitQ query quantisation: bits per FastScan table entry,\n"
    "                      1..8 (default 8)\n"
    "  --nprobe N[,N...]   IVF lists to scan (0 = index default)\n"
    "  --rerank N[,N...]   RABITQ_PLUS rerank factors (default: the index's)\n"
    "  -k N                k for the QPS and latency runs (default 10)\n"
    "  --threads N[,N...]  batch thread counts (default 1,2); the build uses the\n"
    "                      largest\n"
    "  --repeats N         timed repeats, median reported (default 3)\n"
    "  --json              one JSON object on stdout instead of the table\n"
    "  --kernel NAME       force a kernel\n";


static const struct opt_spec bench_specs[] = {
    INDEX_OPT_SPECS,   {"gt", 0, 1},      {"nprobe", 0, 1},  {"rerank", 0, 1},
    {"k", 'k', 1},     {"threads", 0, 1}, {"repeats", 0, 1}, {"json", 0, 0},
    {"help", 'h', 0}};

static int bench_option(struct bench_opts *o, const char *name, const char *v)
{
    int rc = index_option("bench", name, v, &o->idx);
    if (rc >= 0)
        return rc;
    if (!strcmp(name, "gt")) {
        o->gt = v;
        return 0;
    }
    if (!strcmp(name, "json")) {
        o->json = 1;
        return 0;
    }
    if (!strcmp(name, "k"))
        return parse_u32("bench", "-k", v, 1, MAX_K, &o->k);
    if (!strcmp(name, "repeats"))
        return parse_u32("bench", "--repeats", v, 1, 100, &o->repeats);
    if (!strcmp(name, "nprobe"))
        return parse_list("bench", "--nprobe", v, 0, UINT32_MAX, &o->nprobe);
    if (!strcmp(name, "threads"))
        return parse_list("bench", "--threads", v, 0, MAX_THREADS, &o->threads);
    if (!strcmp(name, "rerank")) {
        o->has_rerank = 1;
        return parse_list("bench", "--rerank", v, 0, INT32_MAX, &o->rerank);
    }
    return say_error(EXIT_USAGE, "bench", "option --%s is not handled", name);
}

static int bench_parse(int argc, char **argv, struct bench_opts *o)
{
    memset(o, 0, sizeof *o);
    index_opts_init(&o->idx);
    o->k = 10;
    o->repeats = 3;
    o->nprobe.n = 1; /* {0}: the index default */
    o->threads.v[0] = 1;
    o->threads.v[1] = 2;
    o->threads.n = 2;
    struct opt_iter it = {"bench", argc, argv, 1, 0};
    const char *v;
    int s;
    while ((s = opt_next(&it, bench_specs, sizeof bench_specs / sizeof bench_specs[0], &v)) !=
           OPT_END) {
        if (s == OPT_BAD)
            return EXIT_USAGE;
        if (s == OPT_POSITIONAL) {
            if (o->queries)
                return say_error(EXIT_USAGE, "bench", "unexpected argument '%s'", v);
            *(o->base ? &o->queries : &o->base) = v;
            continue;
        }
        if (!strcmp(bench_specs[s].name, "help")) {
            print_help(bench_help);
            return 0;
        }
        if (bench_option(o, bench_specs[s].name, v) != 0)
            return EXIT_USAGE;
    }
    if (!o->queries)
        return say_error(EXIT_USAGE, "bench", "expected <base> <queries> (see --help)");
    return -1;
}
/* ---- phases ---- */

static int bench_read(struct bench *b)
{
    char err[1024];
    progress(&b->pr, "reading %s...", b->o.base);
    if (data_read_vectors(b->o.base, &b->base, err, sizeof err) != RUV_OK)
        return say_error(1, "bench", "%s", err);
    progress(&b->pr, "reading %s...", b->o.queries);
    if (data_read_vectors(b->o.queries, &b->queries, err, sizeof err) != RUV_OK)
        return say_error(1, "bench", "%s", err);
    if (b->queries.dim != b->base.dim)
        return say_error(1, "bench", "%s has dimension %zu, %s has %zu", b->o.queries,
                         b->queries.dim, b->o.base, b->base.dim);
    return 0;
}

/* The build uses the largest --threads value (0, one per core, counts as
 * the largest). */
static long build_thread_count(const struct uint_list *threads)
{
    uint64_t most = 0;
    for (size_t i = 0; i < threads->n; i++) {
        if (threads->v[i] == 0)
            return 0;
        most = threads->v[i] > most ? threads->v[i] : most;
    }
    return (long)most;
}

static int make_temp_dir(struct bench *b)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(b->tmpdir, sizeof b->tmpdir, "%s/ruvector-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(b->tmpdir)) {
        int code = say_error(1, "bench", "cannot create a temporary directory %s", b->tmpdir);
        b->tmpdir[0] = '\0';
        return code;
    }
    snprintf(b->index_path, sizeof b->index_path, "%s/index.ruv", b->tmpdir);
    return 0;
}

static int build_and_save(struct bench *b, ruv_engine *eng)
{
    ruv_index_params p;
    ruv_index *idx = NULL;
    if (make_params("bench", &b->o.idx, b->o.idx.type, b->base.dim, &p) != 0)
        return 1;
    progress(&b->pr, "building %s index of %zu x %zu...", type_name(b->o.idx.type), b->base.n,
             b->base.dim);
    double t0 = now_seconds(), c0 = cpu_seconds();
    int rc = ruv_index_build(eng, &p, b->base.data, b->base.n, NULL, &idx);
    b->build_seconds = now_seconds() - t0;
    b->build_cpu_seconds = cpu_seconds() - c0;
    if (rc != RUV_OK)
        return lib_error("bench", rc, "building from %s", b->o.base);
    b->memory_bytes = ruv_index_memory_bytes(idx);
    int code = make_temp_dir(b);
    if (code == 0 && (rc = ruv_index_save(idx, b->index_path)) != RUV_OK)
        code = lib_error("bench", rc, "saving to %s", b->index_path);
    if (code == 0 && file_size(b->index_path, &b->file_bytes) != 0)
        code = say_error(1, "bench", "%s: cannot stat the saved index", b->index_path);
    ruv_index_free(idx);
    return code;
}

/* Build (timed), save (file size), ground truth: all on one engine with the
 * build's thread count. */
static int bench_prepare(struct bench *b)
{
    ruv_engine *eng = NULL;
    long threads = build_thread_count(&b->o.threads);
    int code = cli_open_index_engine("bench", b->o.idx.kernel, threads, &eng);
    if (code != 0)
        return code;
    b->build_threads = ruv_engine_threads(eng);
    snprintf(b->kernel, sizeof b->kernel, "%s", ruv_engine_kernel_name(eng));
    code = build_and_save(b, eng);
    if (code == 0)
        code = bench_ground_truth(b, eng);
    ruv_engine_close(eng);
    return code;
}

/* Loads the saved index into an engine of `threads` threads. */
static int load_on(struct bench *b, long threads, ruv_engine **eng, ruv_index **idx)
{
    *idx = NULL;
    int code = cli_open_index_engine("bench", b->o.idx.kernel, threads, eng);
    if (code != 0)
        return code;
    int rc = ruv_index_load(*eng, b->index_path, idx);
    if (rc != RUV_OK) {
        ruv_engine_close(*eng);
        *eng = NULL;
        return lib_error("bench", rc, "loading the saved index %s", b->index_path);
    }
    return 0;
}

static void unload(ruv_engine *eng, ruv_index *idx)
{
    if (idx)
        ruv_index_free(idx);
    ruv_engine_close(eng);
}

static int bench_settings_init(struct bench *b)
{
    size_t nr = b->o.has_rerank ? b->o.rerank.n : 1;
    b->nresults = b->o.nprobe.n * nr;
    b->results = alloc_array(b->nresults, sizeof *b->results);
    if (!b->results)
        return say_error(1, "bench", "out of memory");
    for (size_t i = 0; i < b->nresults; i++) {
        b->results[i].nprobe = (uint32_t)b->o.nprobe.v[i / nr];
        b->results[i].rerank = b->o.has_rerank ? (int32_t)b->o.rerank.v[i % nr] : -1;
    }
    return 0;
}

/* Recall and the single-query loop, on a 1-thread engine. */
static int bench_single_thread(struct bench *b)
{
    ruv_engine *eng;
    ruv_index *idx;
    int code = load_on(b, 1, &eng, &idx);
    if (code != 0)
        return code;
    for (size_t i = 0; code == 0 && i < b->nresults; i++) {
        struct bench_result *res = &b->results[i];
        progress(&b->pr, "recall and single-query loop: nprobe %u, rerank %" PRId32 "...",
                 res->nprobe, res->rerank);
        code = measure_recall(b, idx, res);
        if (code == 0)
            code = measure_single(b, idx, res);
    }
    unload(eng, idx);
    return code;
}

static int bench_batches(struct bench *b)
{
    for (size_t t = 0; t < b->o.threads.n; t++) {
        ruv_engine *eng;
        ruv_index *idx;
        int code = load_on(b, (long)b->o.threads.v[t], &eng, &idx);
        if (code != 0)
            return code;
        b->batch_threads[t] = ruv_engine_threads(eng);
        for (size_t i = 0; code == 0 && i < b->nresults; i++) {
            progress(&b->pr, "batch, %u threads: nprobe %u, rerank %" PRId32 "...",
                     b->batch_threads[t], b->results[i].nprobe, b->results[i].rerank);
            code = measure_batch(b, idx, &b->results[i], &b->results[i].qps_batch[t]);
        }
        unload(eng, idx);
        if (code != 0)
            return code;
    }
    return 0;
}

static void bench_cleanup(struct bench *b)
{
    if (b->tmpdir[0]) {
        remove(b->index_path);
        remove(b->tmpdir);
    }
    for (size_t ki = 0; ki < NRECALL; ki++)
        free(b->cutoff[ki]);
    free(b->results);
    data_ids_free(&b->gt);
    data_matrix_free(&b->queries);
    data_matrix_free(&b->base);
}

int cmd_bench(int argc, char **argv)
{
    struct bench *b = calloc(1, sizeof *b);
    if (!b)
        return say_error(1, "bench", "out of memory");
    int code = bench_parse(argc, argv, &b->o);
    if (code < 0) {
        progress_init(&b->pr, "bench");
        code = bench_read(b);
        if (code == 0)
            code = bench_settings_init(b);
        if (code == 0)
            code = bench_prepare(b);
        if (code == 0)
            code = bench_single_thread(b);
        if (code == 0)
            code = bench_batches(b);
        if (code == 0 && b->o.json)
            bench_print_json(b);
        else if (code == 0)
            bench_print_table(b);
    }
    bench_cleanup(b);
    free(b);
    return code;
}
