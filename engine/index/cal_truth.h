/* Engine-private: the calibration's truth (calibrate.c, cal_truth.c): the
 * kk-th exact distance from each sample row to the other rows. */
#ifndef RUV_ENGINE_INDEX_CAL_TRUTH_H
#define RUV_ENGINE_INDEX_CAL_TRUTH_H

#include <stddef.h>
#include <stdint.h>

#include "index/topk.h"

struct ruv_index;

#define RUV__CAL_TILE 256u       /* rows per truth tile: 100 KiB at D = 100 */
#define RUV__CAL_GROUP 16u       /* rows a screen passes or drops together */
/* A screen's margin per unit of dimension (see calibrate.c): the rounding
 * of a float dot product of length D is at most ~D * 2^-24 times the sum
 * of its |terms|; 2e-6 is ~30x that, and covers a few such roundings. */
#define RUV__CAL_MARGIN 2e-6f

/* A partition of the rows that bounds the truth: any centres work (the
 * bounds are computed here, from the rows), the IVF's lists make them tight.
 * row_list[i] < nlist for every row i. Borrowed. */
struct ruv__cal_lists {
    uint32_t nlist;
    const float *centroids; /* nlist x dim */
    const uint32_t *row_list;
};

/* Rows [s0, e) of the tile starting at row `first` (base = data + first *
 * dim) scored exactly against qv (one of data's rows) and pushed into top,
 * qv's own row excluded. s0 is a multiple of RUV__CAL_GROUP from the tile's
 * start, and e is too or the tile's end: so every row gets the bits a
 * whole-tile kernel call would give it (the kernels' row groups are 1, 4, 8
 * or 16 wide), whichever rows run with it. d: RUV__CAL_TILE floats. */
void ruv__cal_exact_rows(const struct ruv_index *idx, const float *data, const float *qv,
                         const float *base, size_t first, size_t s0, size_t e, float *d,
                         struct ruv__topk *top);

/* The truth: thr[q] (the kk-th exact distance from row sample[q] to the
 * others) and tops[q] (initialised, empty, kk entries each). lists NULL:
 * every row, screened by a GEMM against the current kk-th distance when a
 * BLAS is loaded; else ruv__cal_truth_pruned. RUV_OK, RUV_E_NOMEM or
 * RUV_E_CANCELED. (calibrate.c) */
int ruv__cal_truth(const struct ruv_index *idx, const float *data, size_t n,
                   const uint32_t *sample, const float *queries, uint32_t m, uint32_t kk,
                   const struct ruv__cal_lists *lists, struct ruv__topk *tops, float *thr);

/* The truth pruned with the lists: per sample query q (row sample[q],
 * vector queries + q * dim), an upper bound U on its kk-th distance from a
 * few rows of its own list; a list whose every row is provably farther
 * than U (triangle inequality for L2, Cauchy-Schwarz for inner product,
 * both with a margin above float rounding) is skipped, and the rows of the
 * others are screened by one GEMM against U. The rows left (a superset of
 * every row at or below the kk-th distance) are scored by
 * ruv__cal_exact_rows in row order, so thr[q] (the kk-th exact distance,
 * INFINITY when fewer than kk rows) is bit for bit the unpruned truth's,
 * and so is the multiset of tops[q]'s distances; which of several rows at
 * exactly thr[q] a top holds may differ. tops: initialised, empty, kk
 * each. RUV_OK, RUV_E_NOMEM or RUV_E_CANCELED. */
int ruv__cal_truth_pruned(const struct ruv_index *idx, const float *data, size_t n,
                          const uint32_t *sample, const float *queries, uint32_t m, uint32_t kk,
                          const struct ruv__cal_lists *lists, struct ruv__topk *tops, float *thr);

#endif
