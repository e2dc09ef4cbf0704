/* ruvector bench: the measurements of one setting (nprobe, rerank) on a
 * loaded index: recall against the cut-offs, the single-query loop and
 * batch QPS. Timings: a warm-up pass, then the median of --repeats runs. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include "bench.h"
#include "cli_cancel.h"
#include "cli_util.h"
#include "results.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return (v[(n - 1) / 2] + v[n / 2]) / 2;
}

/* Nearest-rank percentile of sorted values. */
static double percentile(const double *sorted, size_t n, double p)
{
    size_t rank = (size_t)ceil(p * (double)n);
    return sorted[rank > 0 ? rank - 1 : 0];
}

static double per_second(size_t count, double seconds)
{
    return (double)count / (seconds > 1e-9 ? seconds : 1e-9);
}

static void search_params_for(const struct bench_result *res, uint32_t k, ruv_search_params *sp)
{
    (void)ruv_search_params_init(sp, k); /* cannot fail: k >= 1 */
    sp->nprobe = res->nprobe;
    if (res->rerank >= 0)
        sp->rerank_factor = res->rerank;
}

static int setting_error(const struct bench_result *res, int rc, const char *what)
{
    return lib_error("bench", rc, "%s (nprobe %u, rerank %" PRId32 ")", what, res->nprobe,
                     res->rerank);
}

int measure_recall(struct bench *b, const ruv_index *idx, struct bench_result *res)
{
    size_t nq = b->queries.n;
    for (size_t ki = 0; ki < NRECALL; ki++) {
        if (!b->cutoff[ki])
            continue;
        uint32_t k = recall_ks[ki];
        size_t kk = k < b->base.n ? k : b->base.n;
        struct results r;
        ruv_search_params sp;
        search_params_for(res, k, &sp);
        if (results_alloc(&r, nq, k) != 0) {
            results_free(&r);
            return say_error(1, "bench", "out of memory");
        }
        int rc = ruv_index_search_batch(idx, b->queries.data, nq, &sp, r.ids, r.scores, r.nfound);
        double sum = 0;
        for (size_t q = 0; rc == RUV_OK && q < nq; q++)
            sum += (double)bench_count_hits(b, q, r.ids + q * k, r.nfound[q], b->cutoff[ki][q]) /
                   (double)kk;
        results_free(&r);
        if (rc != RUV_OK)
            return setting_error(res, rc, "recall search");
        res->recall[ki] = sum / (double)nq;
        res->has_recall[ki] = 1;
    }
    return 0;
}

/* One pass of the single-query loop; latencies (seconds) into lat. */
static int single_pass(const struct bench *b, const ruv_index *idx, const ruv_search_params *sp,
                       struct results *r, double *lat, double *seconds)
{
    double start = now_seconds();
    for (size_t q = 0; q < b->queries.n; q++) {
        if (cli_interrupted()) /* single searches are too short to look at the token */
            return RUV_E_CANCELED;
        double t0 = now_seconds();
        int rc = ruv_index_search(idx, b->queries.data + q * b->queries.dim, sp, r->ids,
                                  r->scores, r->nfound);
        if (lat)
            lat[q] = now_seconds() - t0;
        if (rc != RUV_OK)
            return rc;
    }
    *seconds = now_seconds() - start;
    return RUV_OK;
}

int measure_single(struct bench *b, const ruv_index *idx, struct bench_result *res)
{
    size_t nq = b->queries.n, reps = b->o.repeats;
    struct results r;
    ruv_search_params sp;
    search_params_for(res, b->o.k, &sp);
    double *lat = alloc_array(nq * reps, sizeof *lat);
    double qps[100], seconds;
    if (results_alloc(&r, 1, b->o.k) != 0 || !lat) {
        results_free(&r);
        free(lat);
        return say_error(1, "bench", "out of memory");
    }
    int rc = single_pass(b, idx, &sp, &r, NULL, &seconds); /* warm-up */
    for (size_t i = 0; rc == RUV_OK && i < reps; i++) {
        rc = single_pass(b, idx, &sp, &r, lat + i * nq, &seconds);
        qps[i] = per_second(nq, seconds);
    }
    if (rc == RUV_OK) {
        res->qps_single = median(qps, reps);
        qsort(lat, nq * reps, sizeof *lat, cmp_double);
        res->p50_us = percentile(lat, nq * reps, 0.50) * 1e6;
        res->p99_us = percentile(lat, nq * reps, 0.99) * 1e6;
    }
    results_free(&r);
    free(lat);
    return rc == RUV_OK ? 0 : setting_error(res, rc, "single-query search");
}

int measure_batch(struct bench *b, const ruv_index *idx, struct bench_result *res,
                         double *qps_out)
{
    size_t nq = b->queries.n;
    struct results r;
    ruv_search_params sp;
    search_params_for(res, b->o.k, &sp);
    double qps[100];
    if (results_alloc(&r, nq, b->o.k) != 0) {
        results_free(&r);
        return say_error(1, "bench", "out of memory");
    }
    int rc = RUV_OK;
    for (size_t i = 0; rc == RUV_OK && i <= b->o.repeats; i++) { /* i == 0: warm-up */
        double t0 = now_seconds();
        rc = ruv_index_search_batch(idx, b->queries.data, nq, &sp, r.ids, r.scores, r.nfound);
        if (i > 0)
            qps[i - 1] = per_second(nq, now_seconds() - t0);
    }
    results_free(&r);
    if (rc != RUV_OK)
        return setting_error(res, rc, "batch search");
    *qps_out = median(qps, b->o.repeats);
    return 0;
}
