/* Engine-private to index/ivf: what k-means training (kmeans.c) and the
 * assignment (assign.c) share: the assignment job and its tiles, memory
 * and thread-count helpers. */
#ifndef RUV_ENGINE_INDEX_IVF_IVF_H
#define RUV_ENGINE_INDEX_IVF_IVF_H

#include <stddef.h>
#include <stdint.h>

#include <ruvector/kernel.h>

/* One job shape serves Lloyd's assignment step and ruv__kmeans_assign. */
struct ruv__ivf_assign_job {
    const struct ruv_kernel_ops *k;
    const float *x; /* nrows rows, stride dim */
    size_t nrows, dim;
    const float *c;     /* nlist x dim, centred: c_j - mu (ruv__ivf_center_centroids) */
    const float *cnorm; /* ||c_j - mu||^2 + 2 <mu, c_j - mu> */
    const float *c_raw; /* the centroids themselves, for exact distances */
    const float *mu;    /* dim */
    size_t nlist;
    size_t tile_rows, cblock;
    float *dots;      /* per worker: tile_rows * cblock */
    float *best;      /* per worker: tile_rows */
    uint32_t *bestid; /* per worker: tile_rows */
    uint32_t *assign; /* nrows; on entry the previous assignment when changed != NULL */
    float *dist;      /* nrows, or NULL */
    int exact_dist;   /* dist = l2sq(x, c) instead of the GEMM identity */
    /* With the identity: nrows values of ||x - mu||^2, which do not change
     * between Lloyd's passes, written on the first pass (xmu_ready 0) and
     * read after; or NULL to compute them each time. */
    float *xmu;
    int xmu_ready;
    size_t *changed;  /* per tile: rows whose assignment changed; or NULL */
};

/* 64-byte aligned count * size bytes (free with free()); NULL on overflow
 * or when out of memory. */
void *ruv__ivf_alloc_array(size_t count, size_t size);
/* threads clamped to 1 .. 256 and to the number of tasks. */
unsigned ruv__ivf_clamp_threads(unsigned threads, size_t ntasks);
static inline size_t ruv__ivf_div_up(size_t a, size_t b) { return a / b + (a % b != 0); }

/* Tile shape from nlist alone, never from the thread count (kmeans.h). */
void ruv__ivf_tile_geometry(size_t nlist, size_t *tile_rows, size_t *cblock);
/* One tile of rows of a struct ruv__ivf_assign_job (a pool task). */
void ruv__ivf_assign_task(void *ctx, size_t tile, unsigned worker);
/* acc[d] += x[d] for d < dim, in double, in the same order as the plain
 * loop (so the same bits); next is a row read soon after (prefetched; may
 * be x itself). */
void ruv__ivf_add_row(double *acc, const float *x, const float *next, size_t dim);
/* The assignment's centroids: cc = c - mu and their score offsets. */
void ruv__ivf_center_centroids(const struct ruv_kernel_ops *k, const float *c, const float *mu,
                               size_t nlist, size_t dim, float *cc, float *cnorm);

#endif
