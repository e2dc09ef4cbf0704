/* The state of one `ruvector bench` run, shared by its parts:
 *   cmd_bench.c      options, the phases (read, build, load per thread count)
 *   bench_truth.c    ground truth (computed or read and checked), recall cut-offs
 *   bench_measure.c  recall, single-query latency and batch QPS of one setting
 *   bench_report.c   the table or the JSON object on stdout
 */
#ifndef RUV_TOOLS_BENCH_H
#define RUV_TOOLS_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include <ruvector/ruvector.h>
#include <ruvector/index.h>

#include "cli_messages.h"
#include "cli_options.h"
#include "dataio.h"
#include "index_opts.h"

#define NRECALL 3
/* recall@1, @10, @100 */
extern const uint32_t recall_ks[NRECALL];

struct bench_opts {
    const char *base, *queries, *gt;
    struct index_opts idx;
    struct uint_list nprobe, rerank, threads;
    int has_rerank, json;
    uint32_t k, repeats;
};

struct bench_result {
    uint32_t nprobe;
    int32_t rerank; /* < 0: the index default */
    double recall[NRECALL];
    int has_recall[NRECALL];
    double qps_single, p50_us, p99_us;
    double qps_batch[MAX_LIST];
};

struct bench {
    struct bench_opts o;
    struct progress pr;
    struct data_matrix base, queries;
    struct data_ids gt;           /* nq x depth row numbers, nearest first */
    double *cutoff[NRECALL];      /* per query: hit if exact badness <= this; NULL: n/a */
    double build_seconds, build_cpu_seconds;
    unsigned build_threads;
    unsigned batch_threads[MAX_LIST]; /* actual engine threads per --threads value */
    char kernel[64];
    size_t memory_bytes;
    uint64_t file_bytes;
    char tmpdir[512], index_path[600];
    struct bench_result *results;
    size_t nresults;
};

/* Each returns 0 or the exit status after reporting (1). */

/* The ground truth of every query into b->gt: read from --gt (and checked
 * against the base and queries) or computed by an exact flat_f32 search on
 * eng; then the per-query recall cut-offs. */
int bench_ground_truth(struct bench *b, ruv_engine *eng);

/* Distinct returned rows of query q whose exact distance makes the cut. */
size_t bench_count_hits(const struct bench *b, size_t q, const uint64_t *ids, size_t nfound,
                        double cutoff);

/* Recall@1/10/100 of res's setting, each from its own batch search at that k. */
int measure_recall(struct bench *b, const ruv_index *idx, struct bench_result *res);
/* QPS and p50/p99 latency of the single-query loop, at -k. */
int measure_single(struct bench *b, const ruv_index *idx, struct bench_result *res);
/* QPS of one batch of every query, at -k (median of --repeats). */
int measure_batch(struct bench *b, const ruv_index *idx, struct bench_result *res,
                  double *qps_out);

/* The results, as one JSON object or as a table, on stdout. */
void bench_print_json(const struct bench *b);
void bench_print_table(const struct bench *b);

#endif
