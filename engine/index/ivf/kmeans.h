/* k-means for IVF coarse quantizers, and nearest-centroid search.
 *
 * ruv__kmeans:
 *  1. Sample: `sample` rows (0: ruv__kmeans_default_sample; clamped to
 *     [nlist, n]) drawn without replacement by selection sampling (Knuth's
 *     algorithm S) from a splitmix64 stream seeded with `seed`. All rows are
 *     used as they are when the sample is n.
 *  2. Initialise by greedy k-means++ on a sub-sample of min(sample,
 *     8 * nlist) rows drawn the same way: each round draws 2 + ln(nlist)
 *     candidates with probability proportional to their squared distance to
 *     the nearest centre so far and keeps the one that lowers the total the
 *     most. Random init puts two seeds in one true cluster and none in
 *     another, a local optimum Lloyd never leaves; plain k-means++ still
 *     does that near its end. On the 100k demo set at nlist 100 the final
 *     mean squared distance was 49-52 (greedy) against 63-66 (plain) and
 *     56-71 (random), the true clusters' being about 46. Running it on all
 *     of the sample would cost as much as several Lloyd rounds, serially;
 *     8 candidates per centroid keep it to a few % of the training time.
 *     (2 + 3 ln(nlist) trials cut the excess SSE on hard synthetic data
 *     about in half again, but doubled the init cost, ~10 % of training at
 *     nlist 1000 on 100k rows, for no gain there.) Each round skips the
 *     candidates a trial provably cannot move closer (Elkan's triangle
 *     bound against their nearest centre, with a margin above rounding),
 *     which leaves the chosen centres as they would be without the skip.
 *  3. Lloyd iterations (iters; 0 means RUV__KMEANS_DEFAULT_ITERS), stopping
 *     early once no assignment changes, or once fewer than 1 in 1000 of the
 *     sample rows changed centroid in an iteration after the first (with a
 *     sample under 1000 rows only the first rule applies). The assignment step is
 *     argmin_j ||c'_j||^2 + 2 <mu, c'_j> - 2 <x, c'_j> with c'_j = c_j - mu
 *     (mu the sample mean, so the rounding follows the spread of the data,
 *     not its distance from 0), the inner products computed by
 *     ruv__sgemm_nt over tiles of rows x centroids sized to stay in L2.
 *     Each centroid becomes the mean of its members, summed in double in
 *     increasing row order.
 *  4. An empty cluster is re-seeded by splitting the largest cluster (most
 *     members, lowest index on ties) whose members are not all equal: both
 *     centroids move by +-delta from its centre, |delta| = its rms radius /
 *     64, along a seeded random sign pattern; the next assignment divides
 *     its members between them. Clusters stay empty only when no cluster
 *     can be split (fewer distinct rows than nlist).
 *
 * Determinism: the result is a function of (data, n, dim, nlist, sample,
 * iters, seed, the kernel table, and whether a BLAS is loaded), never of
 * `threads`. Work is cut into fixed tiles that do not depend on the thread
 * count, every per-row value is computed by the same call whichever thread
 * runs it, and every sum is taken in a fixed order (per centroid over its
 * members in row order; k-means++ potentials per fixed chunk of rows, then
 * chunk by chunk), never as per-thread partial sums. BLAS and
 * kernel tables round differently, so switching them may change results.
 *
 * Threads: `threads` (0 counts as 1) workers including the caller, for the
 * duration of the call only. If a thread cannot be created the call goes on
 * with fewer, with the same result.
 */
#ifndef RUV_ENGINE_KMEANS_H
#define RUV_ENGINE_KMEANS_H

#include <stddef.h>
#include <stdint.h>

#include <ruvector/kernel.h>

#define RUV__KMEANS_DEFAULT_ITERS 20u

/* The sample ruv__kmeans takes when `sample` is 0:
 * min(n, 256 * nlist, max(65536, 64 * nlist)), i.e. 256 rows per centroid
 * (FAISS's default budget) while that is at most 65,536 rows, then 65,536,
 * and from nlist 1024 on 64 per centroid (what the peer benchmark gives
 * FAISS and rabitqlib). Lloyd's cost is sample x nlist
 * per iteration, so at large nlist the per-centroid budget is what bounds
 * it: at n = 1M, nlist 4000 the old 256 per centroid meant training on
 * every row, 4x the work of the 64 per centroid FAISS is given, for a
 * mean squared distance of all rows 1-2 % lower on the 1M test sets
 * (recall at fixed nprobe: docs/benchmarks.md, IVF build time). */
size_t ruv__kmeans_default_sample(size_t n, size_t nlist);

/* Trains nlist centroids on n rows of dim floats (row-major, contiguous) and
 * writes them to centroids (nlist * dim floats). Returns RUV_OK,
 * RUV_E_INVAL (NULL pointer, nlist == 0, nlist > n, nlist > UINT32_MAX,
 * dim == 0; the detail names the argument) or RUV_E_NOMEM. On failure
 * centroids is unspecified. */
int ruv__kmeans(const struct ruv_kernel_ops *k, const float *data, size_t n, size_t dim,
                size_t nlist, size_t sample, unsigned iters, uint64_t seed, unsigned threads,
                float *centroids);

/* assign[i] = index of the centroid nearest to row i (squared L2; on exact
 * ties the lowest index; rows within rounding of a tie may go either way),
 * for n rows. dist, if not NULL, receives the squared distance to it,
 * computed directly (not through the GEMM identity, which loses precision
 * when ||x|| is large next to the distance). The ranking uses the identity
 * with the centroids centred on their mean, as in ruv__kmeans. n may be 0.
 * Returns RUV_OK,
 * RUV_E_INVAL (NULL pointer, nlist == 0, nlist > UINT32_MAX, dim == 0) or
 * RUV_E_NOMEM. The result does not depend on threads. */
int ruv__kmeans_assign(const struct ruv_kernel_ops *k, const float *data, size_t n, size_t dim,
                       const float *centroids, size_t nlist, unsigned threads, uint32_t *assign,
                       float *dist);

/* mu[i] = mean of column i of x (n x dim, n >= 1), summed in double in row
 * order. RUV_OK or RUV_E_NOMEM. */
int ruv__column_mean(const float *x, size_t n, size_t dim, float *mu);

/* Search time: the IVF probe. A copy of the centroids made for ranking
 * them against a query: centred on their mean (so that the ranking score
 * below does not lose a large common offset to float cancellation), scaled
 * by a power of two into binary16's range, stored as binary16 (half the
 * bytes of f32: the probe streams every centroid from L2/L3 on every query,
 * and at nlist 1000, D 128 it was the largest single cost of a query), with
 * the squared norms of the stored rows. */
struct ruv__probe {
    uint16_t *c;   /* nlist x dim */
    float *norm;   /* nlist */
    float *mean;   /* dim */
    float scale;
    size_t nlist, dim;
};
/* RUV_E_NOMEM, or RUV_OK with p filled; centroids finite. */
int ruv__probe_init(struct ruv__probe *p, const float *centroids, size_t nlist, size_t dim);
void ruv__probe_free(struct ruv__probe *p);
size_t ruv__probe_bytes(const struct ruv__probe *p);
/* The min(nprobe, nlist) centroids nearest to q, nearest first (ties by
 * lower index), to out, their scores |c|^2 - 2 <q, c> over the stored rows
 * to out_score (both hold min(nprobe, nlist) entries). One k->dot_f16_1xN
 * pass in stack-sized blocks feeding a bounded max-heap, so centroids within
 * binary16 rounding of each other may swap places. work holds dim floats.
 * Allocation-free and never fails. */
void ruv__probe_nearest(const struct ruv_kernel_ops *k, const struct ruv__probe *p, const float *q,
                        float *work, size_t nprobe, uint32_t *out, float *out_score);
/* ruv__probe_nearest, and also every centroid's score to all_dist (nlist
 * floats, by centroid) and |q'|^2 of the scaled, centred query to *qq, so
 * that (score + *qq) / scale^2 is |q - c|^2 to binary16 precision. */
void ruv__probe_nearest_all(const struct ruv_kernel_ops *k, const struct ruv__probe *p,
                            const float *q, float *work, size_t nprobe, uint32_t *out,
                            float *out_score, float *all_dist, float *qq);

#endif
