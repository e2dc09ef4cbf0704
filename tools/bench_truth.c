/* ruvector bench: the ground truth and what recall is measured against.
 *
 * Computed, it is an exact flat_f32 search. Read from --gt, it is checked
 * before any recall is reported: one row per query, row numbers of the base,
 * and on a sample of queries each listed row must be as near as the true
 * neighbour at its rank, by distances computed here from the base. A file
 * made for another base or query set fails that check and is refused by
 * name, instead of giving a recall that means nothing.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "cli_util.h"
#include "results.h"

#define GT_DEPTH 100        /* ground truth computed to this depth */
#define TIE_TOLERANCE 1e-6  /* relative slack on the k-th ground-truth distance */
#define GT_CHECK_QUERIES 16 /* queries of a --gt file checked against exact distances */
#define GT_CHECK_SLACK 1e-3 /* relative slack for distances computed elsewhere (float32) */

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

/* The natural value of a badness for messages: squared L2 distance, inner
 * product or cosine, with its name. */
static double natural_value(int metric, double badness, const char **what)
{
    *what = metric == RUV_METRIC_L2 ? "squared distance"
            : metric == RUV_METRIC_IP ? "inner product" : "cosine";
    return metric == RUV_METRIC_L2 ? badness : -badness;
}

/* The `depth` smallest exact badness values of query q over the whole base,
 * ascending, into best[0..depth); depth <= base rows. */
static void true_nearest(const struct bench *b, size_t q, size_t depth, double *best)
{
    size_t have = 0;
    for (size_t row = 0; row < b->base.n; row++) {
        double d = badness_of_row(b, q, row);
        if (have == depth && d >= best[depth - 1])
            continue;
        size_t at = have < depth ? have++ : depth - 1;
        for (; at > 0 && best[at - 1] > d; at--)
            best[at] = best[at - 1];
        best[at] = d;
    }
}

/* The first wrong entry a check found, for the message. */
struct gt_mismatch {
    int found;
    size_t query, rank, row, dup_rank;
    double got, want;
};

/* Query q's first `cols` ground-truth rows against the true neighbours:
 * returns how many are farther than the true neighbour of the same rank
 * (beyond a slack for distances computed in float32 elsewhere) or repeat an
 * earlier row; the first one goes to *first unless it holds one already. */
static size_t check_query(const struct bench *b, size_t q, size_t cols, double *best,
                          struct gt_mismatch *first)
{
    true_nearest(b, q, cols, best);
    double lo = best[0], hi = best[cols - 1];
    double scale = fmax(fmax(fabs(lo), fabs(hi)), hi - lo);
    double slack = GT_CHECK_SLACK * scale;
    const int64_t *gt = b->gt.data + q * b->gt.dim;
    size_t bad = 0;
    for (size_t j = 0; j < cols; j++) {
        size_t row = (size_t)gt[j], dup = j;
        for (size_t i = 0; i < j && dup == j; i++)
            dup = gt[i] == gt[j] ? i : j;
        double d = badness_of_row(b, q, row);
        if (dup == j && d <= best[j] + slack)
            continue;
        if (!first->found)
            *first = (struct gt_mismatch){1, q, j, row, dup, d, best[j]};
        bad++;
    }
    return bad;
}

/* A --gt file must be the ground truth of these base and query files: on up
 * to GT_CHECK_QUERIES queries spread over the file, every listed row is
 * checked against distances computed here. More than 1% wrong entries (float
 * noise and ties stay far below) and the file is refused. */
static int verify_ground_truth(struct bench *b, size_t cols)
{
    size_t nq = b->queries.n, nsample = nq < GT_CHECK_QUERIES ? nq : GT_CHECK_QUERIES;
    progress(&b->pr, "checking %s against exact distances on %zu queries...", b->o.gt, nsample);
    double *best = alloc_array(cols, sizeof *best);
    if (!best)
        return say_error(1, "bench", "out of memory");
    struct gt_mismatch first = {0};
    size_t bad = 0, checked = nsample * cols;
    for (size_t i = 0; i < nsample; i++)
        bad += check_query(b, i * nq / nsample, cols, best, &first);
    free(best);
    if (bad * 100 <= checked)
        return 0;
    const char *what;
    char detail[256];
    if (first.dup_rank != first.rank) {
        snprintf(detail, sizeof detail, "row %zu lists row %zu of %s at ranks %zu and %zu",
                 first.query, first.row, b->o.base, first.dup_rank, first.rank);
    } else {
        double got = natural_value(b->o.idx.metric, first.got, &what);
        double want = natural_value(b->o.idx.metric, first.want, &what);
        snprintf(detail, sizeof detail, "for query %zu, rank %zu lists row %zu of %s at %s %.6g, "
                 "but the exact neighbour at that rank is at %.6g", first.query, first.rank,
                 first.row, b->o.base, what, got, want);
    }
    return say_error(1, "bench", "%s is not the ground truth of %s and %s (--metric %s): %zu of "
                     "%zu entries checked on %zu queries are wrong; first: %s. Is it the ground "
                     "truth of another base or query file, or of another metric?", b->o.gt,
                     b->o.base, b->o.queries, metric_name(b->o.idx.metric), bad, checked,
                     nsample, detail);
}

static int load_ground_truth(struct bench *b)
{
    char err[1024];
    progress(&b->pr, "reading ground truth %s...", b->o.gt);
    if (data_read_ids(b->o.gt, &b->gt, err, sizeof err) != RUV_OK)
        return say_error(1, "bench", "%s", err);
    if (b->gt.n != b->queries.n)
        return say_error(1, "bench", "%s has %zu rows, %s has %zu queries (a ground truth has "
                         "one row per query)", b->o.gt, b->gt.n, b->o.queries, b->queries.n);
    size_t cols = b->gt.dim < gt_depth_needed(b) ? b->gt.dim : gt_depth_needed(b);
    for (size_t q = 0; q < b->gt.n; q++)
        for (size_t j = 0; j < cols; j++) {
            int64_t id = b->gt.data[q * b->gt.dim + j];
            if (id < 0 || (uint64_t)id >= b->base.n)
                return say_error(1, "bench", "%s: row %zu, column %zu: %" PRId64 " is not a row "
                                 "of %s (0..%zu)", b->o.gt, q, j, id, b->o.base, b->base.n - 1);
        }
    return verify_ground_truth(b, cols);
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
