/* IVF assignment: every row to its nearest centroid through GEMM tiles
 * (Lloyd's assignment step and ruv__kmeans_assign), and column means. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <ruvector/error.h>
#include <ruvector/kernel.h>

#include "base/error.h"
#include "exec/blas.h"
#include "exec/cancel.h"
#include "index/ivf/ivf.h"
#include "index/ivf/km_pool.h"
#include "index/ivf/kmeans.h"

/* ------------------------------------------------------------ tuning --- */

/* Bytes of one distance tile (rows x centroid block), written by the GEMM
 * and scanned right after, so it should sit in L2 (512 KiB on Zen 3, 2 MiB
 * on Sapphire Rapids). Smaller tiles cost OpenBLAS efficiency, since it
 * re-packs the centroid block for every tile: at nlist 1000, d 128 on Zen 3,
 * 256 KiB to 2 MiB tiles measured within 10 % of each other, 64 KiB 25 %
 * slower. Overridable for tuning. */
#ifndef TILE_BYTES
#define TILE_BYTES (512u * 1024u)
#endif
/* Centroids per block: all of them up to this many, so the argmin of a row
 * sees every centroid in one tile; larger nlist is walked in blocks of
 * CBLOCK. OpenBLAS packs the centroid block once per call, i.e. once per
 * tile of rows: 256-centroid blocks let a tile hold 512 rows instead of
 * 128, and at nlist 4000 (Zen 3, 300k rows) the assignment took 7 % less
 * CPU than with 1024-centroid blocks, with the same result. */
#define MAX_CBLOCK 2048u
#define CBLOCK 256u
#define ALIGN 64u

/* ------------------------------------------------------------ memory --- */

void *ruv__ivf_alloc_array(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    size_t bytes = count * size;
    void *p = NULL;
    /* 64-byte aligned so row addresses, and with them any alignment-dependent
     * kernel path, are the same from run to run. */
    if (posix_memalign(&p, ALIGN, bytes ? bytes : 1) != 0)
        return NULL;
    return p;
}

unsigned ruv__ivf_clamp_threads(unsigned threads, size_t ntasks)
{
    if (threads == 0)
        threads = 1;
    if (threads > 256)
        threads = 256;
    if ((size_t)threads > ntasks)
        threads = ntasks ? (unsigned)ntasks : 1;
    return threads;
}

/* ------------------------------------------------------ assignment --- */

/* Tile shape from nlist alone, never from the thread count (kmeans.h). */
void ruv__ivf_tile_geometry(size_t nlist, size_t *tile_rows, size_t *cblock)
{
    size_t cb = nlist <= MAX_CBLOCK ? nlist : CBLOCK;
    size_t t = TILE_BYTES / (cb * sizeof(float));
    t = t < 16 ? 16 : t > 1024 ? 1024 : t;
    *tile_rows = t & ~(size_t)15;
    *cblock = cb;
}

/* The first j with cn[j] - 2 row[j] < *b and lowest among them (strict:
 * the lowest index wins a tie, NaN never wins), updating *b; SIZE_MAX if
 * none. The scan was ~13 % of a k-means profile at nlist 4000 as a plain
 * loop. With GCC/Clang vector types (no ISA flags: SSE2 on x86-64, NEON
 * on aarch64) blocks of SCAN_BLOCK values are reduced to their minimum 8
 * lanes at a time and only the block holding a new best is searched again
 * with the plain loop, 2-3x faster. That block's minimum is the row's
 * (later blocks did not go below it), and the plain loop over it from the
 * best before it gives the same index and value as a plain loop over the
 * whole row would. */
#define SCAN_BLOCK 64u
#if defined(__GNUC__) || defined(__clang__)
typedef float scan_v4 __attribute__((vector_size(16)));
typedef int32_t scan_m4 __attribute__((vector_size(16)));

static scan_v4 scan_vmin(scan_v4 a, scan_v4 m)
{
    scan_m4 lt = a < m; /* per lane: a < m ? a : m */
    return (scan_v4)(((scan_m4)a & lt) | ((scan_m4)m & ~lt));
}
#endif

static size_t scan_plain(const float *row, const float *cn, size_t j0, size_t j1, float *b_io,
                         size_t bj)
{
    float b = *b_io;
    for (size_t j = j0; j < j1; j++) {
        float v = cn[j] - 2.0f * row[j];
        if (v < b) {
            b = v;
            bj = j;
        }
    }
    *b_io = b;
    return bj;
}

static size_t scan_min(const float *row, const float *cn, size_t nb, float *b_io)
{
    float b = *b_io;
    size_t bj = SIZE_MAX, j = 0;
#if defined(__GNUC__) || defined(__clang__)
    size_t blk = SIZE_MAX;
    float before = b;
    for (; j + SCAN_BLOCK <= nb; j += SCAN_BLOCK) {
        const scan_v4 inf = {INFINITY, INFINITY, INFINITY, INFINITY};
        scan_v4 m0 = inf, m1 = inf;
        for (size_t l = j; l < j + SCAN_BLOCK; l += 8) {
            scan_v4 c0, c1, r0, r1;
            memcpy(&c0, cn + l, sizeof c0);
            memcpy(&c1, cn + l + 4, sizeof c1);
            memcpy(&r0, row + l, sizeof r0);
            memcpy(&r1, row + l + 4, sizeof r1);
            m0 = scan_vmin(c0 - 2.0f * r0, m0);
            m1 = scan_vmin(c1 - 2.0f * r1, m1);
        }
        m0 = scan_vmin(m1, m0);
        float lo = m0[0] < m0[1] ? m0[0] : m0[1], hi = m0[2] < m0[3] ? m0[2] : m0[3];
        lo = hi < lo ? hi : lo;
        if (lo < b) {
            before = b;
            b = lo;
            blk = j;
        }
    }
    if (blk != SIZE_MAX) { /* the last block that lowered b: search it again */
        b = before;
        bj = scan_plain(row, cn, blk, blk + SCAN_BLOCK, &b, bj);
    }
#endif
    bj = scan_plain(row, cn, j, nb, &b, bj);
    *b_io = b;
    return bj;
}

void ruv__ivf_assign_task(void *ctx, size_t tile, unsigned worker)
{
    const struct ruv__ivf_assign_job *J = ctx;
    const size_t dim = J->dim, T = J->tile_rows;
    const size_t r0 = tile * T;
    const size_t rows = J->nrows - r0 < T ? J->nrows - r0 : T;
    const float *x = J->x + r0 * dim;
    float *dots = J->dots + (size_t)worker * T * J->cblock;
    float *best = J->best + (size_t)worker * T;
    uint32_t *bid = J->bestid + (size_t)worker * T;

    for (size_t i = 0; i < rows; i++) {
        best[i] = INFINITY;
        bid[i] = 0; /* kept if every score is NaN or +inf (overflowing input) */
    }
    /* With c' = c - mu: ||x - c||^2 = ||x - mu||^2 + (||c'||^2 + 2 <mu, c'>)
     * - 2 <x, c'>. The argmin needs only the last two terms, the inner
     * products are one GEMM per block, and their rounding grows with |x| |c'|
     * rather than |x| |c| (with ||x||^2 - 2 <x, c> + ||c||^2, data whose
     * common offset was 1000x its spread was assigned at random). */
    for (size_t c0 = 0; c0 < J->nlist; c0 += J->cblock) {
        size_t nb = J->nlist - c0 < J->cblock ? J->nlist - c0 : J->cblock;
        ruv__sgemm_nt(J->k, rows, nb, dim, x, dim, J->c + c0 * dim, dim, dots, nb);
        const float *cn = J->cnorm + c0;
        for (size_t i = 0; i < rows; i++) {
            float b = best[i];
            size_t bj = scan_min(dots + i * nb, cn, nb, &b);
            if (bj != SIZE_MAX) {
                best[i] = b;
                bid[i] = (uint32_t)(c0 + bj);
            }
        }
    }

    size_t changed = 0;
    for (size_t i = 0; i < rows; i++) {
        uint32_t id = bid[i];
        if (J->changed)
            changed += J->assign[r0 + i] != id;
        J->assign[r0 + i] = id;
        if (!J->dist)
            continue;
        const float *xi = x + i * dim;
        if (J->exact_dist) {
            J->dist[r0 + i] = J->k->l2sq_f32(xi, J->c_raw + (size_t)id * dim, dim);
        } else {
            float xm;
            if (J->xmu && J->xmu_ready) {
                xm = J->xmu[r0 + i];
            } else {
                xm = J->k->l2sq_f32(xi, J->mu, dim);
                if (J->xmu)
                    J->xmu[r0 + i] = xm;
            }
            float d = xm + best[i];
            J->dist[r0 + i] = d > 0.0f ? d : 0.0f; /* cancellation can dip below 0 */
        }
    }
    if (J->changed)
        J->changed[tile] = changed;
}

/* The assignment's centroids: cc = c - mu and their score offsets. */
void ruv__ivf_center_centroids(const struct ruv_kernel_ops *k, const float *c, const float *mu,
                             size_t nlist, size_t dim, float *cc, float *cnorm)
{
    for (size_t j = 0; j < nlist; j++) {
        float *cj = cc + j * dim;
        for (size_t i = 0; i < dim; i++)
            cj[i] = c[j * dim + i] - mu[i];
        cnorm[j] = k->dot_f32(cj, cj, dim) + 2.0f * k->dot_f32(mu, cj, dim);
    }
}

/* acc[d] += x[d] for d < dim, in double (ivf.h). Each coordinate is one addition
 * of the float widened to double, whatever the form, so the sums are the
 * same bit for bit. GCC 12 at -O2 left the plain loop scalar (a conversion
 * and an addition per coordinate: ~8 % of a 1,024-D planned build's CPU,
 * in k-means' update);
 * with SSE2 (the x86-64 baseline) four coordinates go at a time. */
void ruv__ivf_add_row(double *acc, const float *x, const float *next, size_t dim)
{
    size_t d = 0;
#if defined(__SSE2__)
    for (; d + 4 <= dim; d += 4) {
        if (d % 16 == 0) /* the next member's row, a line ahead of use */
            _mm_prefetch((const char *)(next + d), _MM_HINT_T0);
        __m128 v = _mm_loadu_ps(x + d);
        __m128d lo = _mm_add_pd(_mm_loadu_pd(acc + d), _mm_cvtps_pd(v));
        __m128d hi = _mm_add_pd(_mm_loadu_pd(acc + d + 2), _mm_cvtps_pd(_mm_movehl_ps(v, v)));
        _mm_storeu_pd(acc + d, lo);
        _mm_storeu_pd(acc + d + 2, hi);
    }
#endif
    for (; d < dim; d++)
        acc[d] += x[d];
}

int ruv__column_mean(const float *x, size_t n, size_t dim, float *mu)
{
    double *sum = calloc(dim ? dim : 1, sizeof *sum);
    if (!sum)
        return ruv__set_error(RUV_E_NOMEM, "out of memory for a mean of %zu columns", dim);
    for (size_t r = 0; r < n; r++)
        ruv__ivf_add_row(sum, x + r * dim, x + (r + 1 < n ? r + 1 : r) * dim, dim);
    for (size_t i = 0; i < dim; i++)
        mu[i] = (float)(sum[i] / (double)n);
    free(sum);
    return RUV_OK;
}

int ruv__kmeans_assign(const struct ruv_kernel_ops *k, const float *data, size_t n, size_t dim,
                       const float *centroids, size_t nlist, unsigned threads, uint32_t *assign,
                       float *dist)
{
    if (!k)
        return ruv__set_error(RUV_E_INVAL, "k-means assign: kernel table is NULL");
    if (!centroids)
        return ruv__set_error(RUV_E_INVAL, "k-means assign: centroids is NULL");
    if (dim == 0)
        return ruv__set_error(RUV_E_INVAL, "k-means assign: dim must be at least 1");
    if (nlist == 0)
        return ruv__set_error(RUV_E_INVAL, "k-means assign: nlist must be at least 1");
    if (nlist > UINT32_MAX)
        return ruv__set_error(RUV_E_INVAL, "k-means assign: nlist (%zu) exceeds %u", nlist,
                              UINT32_MAX);
    if (n == 0)
        return RUV_OK;
    if (!data)
        return ruv__set_error(RUV_E_INVAL, "k-means assign: data is NULL");
    if (!assign)
        return ruv__set_error(RUV_E_INVAL, "k-means assign: assign is NULL");

    size_t T, CB;
    ruv__ivf_tile_geometry(nlist, &T, &CB);
    const size_t ntiles = ruv__ivf_div_up(n, T);
    threads = ruv__ivf_clamp_threads(threads, ntiles);

    float *cnorm = ruv__ivf_alloc_array(nlist, sizeof *cnorm);
    float *cc = ruv__ivf_alloc_array(nlist * dim, sizeof *cc), *mu = ruv__ivf_alloc_array(dim, sizeof *mu);
    float *dots = ruv__ivf_alloc_array((size_t)threads * T * CB, sizeof *dots);
    float *best = ruv__ivf_alloc_array((size_t)threads * T, sizeof *best);
    uint32_t *bestid = ruv__ivf_alloc_array((size_t)threads * T, sizeof *bestid);
    int st = RUV_OK;
    if (!cnorm || !cc || !mu || !dots || !best || !bestid ||
        ruv__column_mean(centroids, nlist, dim, mu)) {
        st = ruv__set_error(RUV_E_NOMEM, "k-means assign: out of memory (nlist %zu, dim %zu)",
                            nlist, dim);
    } else {
        ruv__ivf_center_centroids(k, centroids, mu, nlist, dim, cc, cnorm);
        struct ruv__ivf_assign_job J = {.k = k, .x = data, .nrows = n, .dim = dim, .c = cc,
                               .cnorm = cnorm, .c_raw = centroids, .mu = mu, .nlist = nlist,
                               .tile_rows = T, .cblock = CB,
                               .dots = dots, .best = best, .bestid = bestid, .assign = assign,
                               .dist = dist, .exact_dist = 1, .changed = NULL};
        if (ruv__km_run(threads, ruv__ivf_assign_task, &J, ntiles))
            st = ruv__cancel_check("IVF assignment");
    }
    free(cnorm);
    free(cc);
    free(mu);
    free(dots);
    free(best);
    free(bestid);
    return st;
}
