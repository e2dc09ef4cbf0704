/* ruvector bench: the ground truth and what recall is measured against.
 * Computed, it is an exact flat_f32 search; read from --gt, it must have
 * one row per query of row numbers of the base. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include "bench.h"
#include "cli_util.h"
#include "results.h"

#define GT_DEPTH 100        /* ground truth computed to this depth */
#define TIE_TOLERANCE 1e-6  /* relative slack on the k-th ground-truth distance */

const uint32_t recall_ks[NRECALL] = {1, 10, 100};

/* ---- exact distances (double precision), as "badness": lower is better ---- */

static double exact_badness(int metric, const float *q, const float *x, size_t dim)
{
    double dot = 0, qq = 0, xx = 0, l2 = 0;
    for (size_t i = 0; i < dim; i++) {
        double a = q[i], b = x[i];
        dot += a * b;
        qq += a * a;
        xx += b * b;
        l2 += (a - b) * (a - b);
    }
    if (metric == RUV_METRIC_L2)
        return l2;
    if (metric == RUV_METRIC_IP)
        return -dot;
    return qq > 0 && xx > 0 ? -dot / sqrt(qq * xx) : 0.0;
}

static double badness_of_row(const struct bench *b, size_t q, size_t row)
{
    return exact_badness(b->o.idx.metric, b->queries.data + q * b->queries.dim,
                         b->base.data + row * b->base.dim, b->base.dim);
}

/* ---- ground truth ---- */

static size_t gt_depth_needed(const struct bench *b)
{
    return b->base.n < GT_DEPTH ? b->base.n : GT_DEPTH;
}

/* Exact top-depth rows of every query, from a flat_f32 index. */
static int exact_search(struct bench *b, ruv_engine *eng, size_t depth, struct results *r)
{
    ruv_index_params p;
    if (make_params("bench", &b->o.idx, RUV_INDEX_FLAT_F32, b->base.dim, &p) != 0)
        return 1;
    p.nlist = 0;
    ruv_index *flat = NULL;
    int rc = ruv_index_build(eng, &p, b->base.data, b->base.n, NULL, &flat);
    if (rc != RUV_OK)
        return lib_error("bench", rc, "building the exact index for ground truth");
    ruv_search_params sp;
    rc = ruv_search_params_init(&sp, (uint32_t)depth);
    if (rc == RUV_OK)
        rc = ruv_index_search_batch(flat, b->queries.data, b->queries.n, &sp, r->ids, r->scores,
                                    r->nfound);
    int code = rc == RUV_OK ? 0 : lib_error("bench", rc, "exact search for ground truth");
    ruv_index_free(flat);
    return code;
}

static int compute_ground_truth(struct bench *b, ruv_engine *eng)
{
    size_t depth = gt_depth_needed(b), nq = b->queries.n;
    progress(&b->pr, "ground truth: exact flat_f32 search, top %zu...", depth);
    struct results r;
    int code = results_alloc(&r, nq, depth) == 0 ? 0 : say_error(1, "bench", "out of memory");
    if (code == 0)
        code = exact_search(b, eng, depth, &r);
    if (code == 0 && !(b->gt.data = alloc_array(nq * depth, sizeof *b->gt.data)))
        code = say_error(1, "bench", "out of memory");
    b->gt.n = nq;
    b->gt.dim = depth;
    for (size_t q = 0; code == 0 && q < nq; q++) {
        if (r.nfound[q] != depth)
            code = say_error(1, "bench", "exact search returned %zu of %zu results for query %zu",
                             r.nfound[q], depth, q);
        for (size_t j = 0; code == 0 && j < depth; j++)
            b->gt.data[q * depth + j] = (int64_t)r.ids[q * depth + j];
    }
    results_free(&r);
    return code;
}

static int load_ground_truth(struct bench *b)
{
    char err[1024];
    progress(&b->pr, "reading ground truth %s...", b->o.gt);
    if (data_read_ids(b->o.gt, &b->gt, err, sizeof err) != RUV_OK)
        return say_error(1, "bench", "%s", err);
    if (b->gt.n != b->queries.n)
        return say_error(1, "bench", "%s has %zu rows, %s has %zu queries", b->o.gt, b->gt.n,
                         b->o.queries, b->queries.n);
    size_t cols = b->gt.dim < gt_depth_needed(b) ? b->gt.dim : gt_depth_needed(b);
    for (size_t q = 0; q < b->gt.n; q++)
        for (size_t j = 0; j < cols; j++) {
            int64_t id = b->gt.data[q * b->gt.dim + j];
            if (id < 0 || (uint64_t)id >= b->base.n)
                return say_error(1, "bench", "%s: row %zu, column %zu: %" PRId64 " is not a row "
                                 "of %s (0..%zu)", b->o.gt, q, j, id, b->o.base, b->base.n - 1);
        }
    return 0;
}

/* Per query, the cut-off for recall@k: the largest exact distance among the
 * first min(k, n) ground-truth rows (the k-th distance when the ground truth
 * is exact) plus the relative tie tolerance. */
static int make_cutoffs(struct bench *b)
{
    for (size_t ki = 0; ki < NRECALL; ki++) {
        size_t kk = recall_ks[ki] < b->base.n ? recall_ks[ki] : b->base.n;
        if (kk > b->gt.dim)
            continue; /* ground truth too shallow: recall@k not reported */
        b->cutoff[ki] = alloc_array(b->queries.n, sizeof(double));
        if (!b->cutoff[ki])
            return say_error(1, "bench", "out of memory");
        for (size_t q = 0; q < b->queries.n; q++) {
            double worst = -INFINITY;
            for (size_t j = 0; j < kk; j++) {
                double d = badness_of_row(b, q, (size_t)b->gt.data[q * b->gt.dim + j]);
                worst = d > worst ? d : worst;
            }
            b->cutoff[ki][q] = worst + TIE_TOLERANCE * fabs(worst);
        }
    }
    return 0;
}

size_t bench_count_hits(const struct bench *b, size_t q, const uint64_t *ids, size_t nfound,
                        double cutoff)
{
    size_t hits = 0;
    for (size_t j = 0; j < nfound; j++) {
        if (ids[j] >= b->base.n)
            continue;
        int seen = 0;
        for (size_t i = 0; i < j && !seen; i++)
            seen = ids[i] == ids[j];
        if (!seen && badness_of_row(b, q, (size_t)ids[j]) <= cutoff)
            hits++;
    }
    return hits;
}

int bench_ground_truth(struct bench *b, ruv_engine *eng)
{
    int code = b->o.gt ? load_ground_truth(b) : compute_ground_truth(b, eng);
    return code == 0 ? make_cutoffs(b) : code;
}
