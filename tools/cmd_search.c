/* ruvector search: loads an index and answers a file of queries in one
 * batch; prints the first results or writes ids and scores to files. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/ruvector.h>
#include <ruvector/index.h>

#include "cli_engine.h"
#include "cli_messages.h"
#include "cli_options.h"
#include "cli_util.h"
#include "commands.h"
#include "dataio.h"
#include "results.h"

#define SHOW_QUERIES 10 /* printed unless --all */

static const char search_help[] =
    "usage: ruvector search <index-file> <queries> [options]\n"
    "Loads an index and searches every query (.fvecs, .bvecs or .npy) in one batch.\n"
    "Prints ids and scores of the first queries, or writes them to files.\n"
    "\n"
    "  -k N                results per query (default 10)\n"
    "  --nprobe N          IVF lists to scan (default: the index's)\n"
    "  --rerank N          RABITQ_PLUS rerank factor, 0 = error bound alone\n"
    "                      (default: the index's)\n"
    "  --out FILE          write ids, nq x k, to .ivecs or .npy (-1: no result)\n"
    "  --scores FILE       write scores, nq x k, to .fvecs or .npy (NaN: no result)\n"
    "  --all               print every query, not the first 10\n"
    "  --threads N         worker threads (default: one per core)\n"
    "  --kernel NAME       force a kernel\n"
    "Scores: squared L2 distance (ascending), inner product or cosine (descending).\n";

struct search_opts {
    const char *index, *queries, *out, *scores, *kernel;
    uint32_t k, nprobe, rerank;
    int has_rerank, all;
    long threads;
};

static const struct opt_spec search_specs[] = {
    {"k", 'k', 1},      {"nprobe", 0, 1},  {"rerank", 0, 1}, {"out", 0, 1},   {"scores", 0, 1},
    {"all", 0, 0},      {"threads", 0, 1}, {"kernel", 0, 1}, {"help", 'h', 0}};

static int search_option(struct search_opts *o, const char *name, const char *v)
{
    uint64_t t;
    if (!strcmp(name, "k"))
        return parse_u32("search", "-k", v, 1, MAX_K, &o->k);
    if (!strcmp(name, "nprobe"))
        return parse_u32("search", "--nprobe", v, 0, UINT32_MAX, &o->nprobe);
    if (!strcmp(name, "rerank")) {
        o->has_rerank = 1;
        return parse_u32("search", "--rerank", v, 0, INT32_MAX, &o->rerank);
    }
    if (!strcmp(name, "threads")) {
        if (parse_uint("search", "--threads", v, 0, MAX_THREADS, &t) != 0)
            return EXIT_USAGE;
        o->threads = (long)t;
        return 0;
    }
    if (!strcmp(name, "out"))
        o->out = v;
    else if (!strcmp(name, "scores"))
        o->scores = v;
    else if (!strcmp(name, "kernel"))
        o->kernel = v;
    else if (!strcmp(name, "all"))
        o->all = 1;
    return 0;
}

static int search_parse(int argc, char **argv, struct search_opts *o)
{
    memset(o, 0, sizeof *o);
    o->k = 10;
    o->threads = -1;
    struct opt_iter it = {"search", argc, argv, 1, 0};
    const char *v;
    int s;
    while ((s = opt_next(&it, search_specs, sizeof search_specs / sizeof search_specs[0], &v)) !=
           OPT_END) {
        if (s == OPT_BAD)
            return EXIT_USAGE;
        if (s == OPT_POSITIONAL) {
            if (o->queries)
                return say_error(EXIT_USAGE, "search", "unexpected argument '%s'", v);
            *(o->index ? &o->queries : &o->index) = v;
            continue;
        }
        if (!strcmp(search_specs[s].name, "help")) {
            print_help(search_help);
            return 0;
        }
        if (search_option(o, search_specs[s].name, v) != 0)
            return EXIT_USAGE;
    }
    if (!o->queries)
        return say_error(EXIT_USAGE, "search", "expected <index-file> <queries> (see --help)");
    enum data_format f;
    if (o->out && (f = data_format_from_path(o->out)) != DATA_FORMAT_IVECS && f != DATA_FORMAT_NPY)
        return say_error(EXIT_USAGE, "search", "--out %s: ids go to .ivecs or .npy", o->out);
    if (o->scores && (f = data_format_from_path(o->scores)) != DATA_FORMAT_FVECS &&
        f != DATA_FORMAT_NPY)
        return say_error(EXIT_USAGE, "search", "--scores %s: scores go to .fvecs or .npy",
                         o->scores);
    return -1;
}

static void print_results(const struct results *r, size_t show)
{
    for (size_t q = 0; q < show; q++) {
        printf("query %zu:", q);
        for (size_t j = 0; j < r->nfound[q]; j++)
            printf(" %" PRIu64 ":%.6g", r->ids[q * r->k + j], (double)r->scores[q * r->k + j]);
        putchar('\n');
    }
    if (show < r->nq)
        printf("... %zu more queries (--all prints them, --out writes them)\n", r->nq - show);
}

/* ids as int64 for the writers; -1 where a query found fewer than k. An id
 * past INT64_MAX (ids are u64) has no int64 spelling and would read as -1:
 * refused by name rather than written wrong. */
static int write_ids(const struct results *r, const char *path, char *err, size_t errlen)
{
    for (size_t q = 0; q < r->nq; q++)
        for (size_t j = 0; j < r->nfound[q]; j++)
            if (r->ids[q * r->k + j] > INT64_MAX) {
                snprintf(err, errlen,
                         "%s: query %zu's result %zu has id %" PRIu64 ", past 2^63-1: ids files "
                         "hold signed integers (-1 = no result); print the results instead "
                         "(without --out)",
                         path, q, j, r->ids[q * r->k + j]);
                return RUV_E_INVAL;
            }
    int64_t *out = alloc_array(r->nq * r->k, sizeof *out);
    if (!out) {
        snprintf(err, errlen, "%s: out of memory", path);
        return RUV_E_NOMEM;
    }
    for (size_t q = 0; q < r->nq; q++)
        for (size_t j = 0; j < r->k; j++)
            out[q * r->k + j] = j < r->nfound[q] ? (int64_t)r->ids[q * r->k + j] : -1;
    int rc = data_write_ids(path, out, r->nq, r->k, err, errlen);
    free(out);
    return rc;
}

static int search_write(const struct search_opts *o, const struct results *r)
{
    char err[1024];
    if (o->out && write_ids(r, o->out, err, sizeof err) != RUV_OK)
        return say_error(1, "search", "%s", err);
    if (o->scores && data_write_vectors(o->scores, r->scores, r->nq, r->k, err, sizeof err) !=
                         RUV_OK)
        return say_error(1, "search", "%s", err);
    return 0;
}

static int search_batch(const struct search_opts *o, const ruv_index *idx, const ruv_engine *eng,
                        const struct data_matrix *q)
{
    ruv_search_params sp;
    int rc = ruv_search_params_init(&sp, o->k);
    if (rc != RUV_OK)
        return lib_error("search", rc, "search parameters");
    sp.nprobe = o->nprobe;
    if (o->has_rerank)
        sp.rerank_factor = (int32_t)o->rerank;
    struct results r;
    if (results_alloc(&r, q->n, o->k) != 0) {
        results_free(&r);
        return say_error(1, "search", "out of memory for %zu x %u results", q->n, o->k);
    }
    double t0 = now_seconds();
    rc = ruv_index_search_batch(idx, q->data, q->n, &sp, r.ids, r.scores, r.nfound);
    double seconds = now_seconds() - t0;
    int code = 0;
    if (rc != RUV_OK) {
        code = lib_error("search", rc, "searching %s", o->queries);
    } else if (o->out || o->scores) {
        code = search_write(o, &r);
    } else {
        print_results(&r, o->all || r.nq < SHOW_QUERIES ? r.nq : SHOW_QUERIES);
    }
    if (code == 0)
        printf("%zu queries, k=%u, %.4f s (%.0f QPS on %u thread%s, kernel %s)%s%s\n", r.nq,
               o->k, seconds, (double)r.nq / (seconds > 0 ? seconds : 1e-9),
               ruv_engine_threads(eng), plural(ruv_engine_threads(eng)),
               ruv_engine_kernel_name(eng), o->out ? "; ids in " : "", o->out ? o->out : "");
    results_free(&r);
    return code;
}

static int search_run(const struct search_opts *o)
{
    struct progress pr;
    progress_init(&pr, "search");
    ruv_engine *eng = NULL;
    ruv_index *idx = NULL;
    struct data_matrix q = {NULL, 0, 0};
    char err[1024];
    int code = cli_open_index_engine("search", o->kernel, o->threads, &eng);
    if (code == 0) {
        progress(&pr, "loading %s...", o->index);
        int rc = ruv_index_load(eng, o->index, &idx);
        if (rc != RUV_OK)
            code = lib_error("search", rc, "loading %s", o->index);
    }
    if (code == 0) {
        progress(&pr, "reading %s...", o->queries);
        if (data_read_vectors(o->queries, &q, err, sizeof err) != RUV_OK)
            code = say_error(1, "search", "%s", err);
        else if (q.dim != ruv_index_dim(idx))
            code = say_error(1, "search", "%s has dimension %zu, the index %s has %u",
                             o->queries, q.dim, o->index, ruv_index_dim(idx));
    }
    if (code == 0) {
        progress(&pr, "searching %zu queries...", q.n);
        code = search_batch(o, idx, eng, &q);
    }
    data_matrix_free(&q);
    if (idx)
        ruv_index_free(idx);
    ruv_engine_close(eng);
    return code;
}

int cmd_search(int argc, char **argv)
{
    struct search_opts o;
    int code = search_parse(argc, argv, &o);
    return code >= 0 ? code : search_run(&o);
}
