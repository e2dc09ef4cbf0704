/* k-means for IVF (contract and method in kmeans.h). */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/error.h>
#include <ruvector/kernel.h>

#include "base/error.h"
#include "exec/blas.h"
#include "index/ivf/kmeans.h"
#include "plugin/half.h"

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
/* k-means++: candidate rows per centroid (kmeans.h), rows per task, and the
 * most trials per round (2 + ln(nlist) reaches it at nlist ~ 1.2 million). */
#define KPP_PER_CENTROID 8u
#define KPP_CHUNK 256u
#define KPP_MAX_TRIALS 16u
/* Below this many floats per k-means++ round the pool hand-off costs more
 * than the work it would split. */
#define KPP_PARALLEL_MIN (64u * 1024u)
/* Default sample (kmeans.h): rows per centroid at most and at least, and
 * the total up to which the larger budget applies. */
#define SAMPLE_MAX_PER 256u
#define SAMPLE_MIN_PER 64u
#define SAMPLE_FLOOR 65536u
/* Lloyd stops once fewer than 1 in STOP_CHANGED sample rows changed
 * centroid in an iteration (kmeans.h). */
#define STOP_CHANGED 1000u
/* Centroids per update task. */
#define UPD_BLOCK 8u
#define ALIGN 64u

/* ------------------------------------------------------------- PRNG --- */

/* splitmix64 (Steele, Lea, Flood 2014): tiny, seedable with any value, and
 * identical on every platform, which the determinism contract needs. */
static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 53 random bits. */
static double uniform01(uint64_t *state)
{
    return (double)(splitmix64(state) >> 11) * (1.0 / 9007199254740992.0);
}

static size_t rand_below(uint64_t *state, size_t n)
{
    size_t r = (size_t)(uniform01(state) * (double)n);
    return r < n ? r : n - 1;
}

/* Knuth's algorithm S: `want` of `n` indices without replacement, written in
 * increasing order (so the copy that follows reads memory forwards). */
static void select_sample(uint64_t *state, size_t n, size_t want, size_t *out)
{
    size_t got = 0;
    for (size_t i = 0; i < n && got < want; i++)
        if ((double)(n - i) * uniform01(state) < (double)(want - got))
            out[got++] = i;
}

/* ------------------------------------------------------------ memory --- */

static void *alloc_array(size_t count, size_t size)
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

/* -------------------------------------------------------- thread pool --- */

/* A job is ntasks independent tasks; workers (and the caller, as worker 0)
 * take task numbers from a shared counter. Which worker runs a task never
 * changes what the task computes, only the per-worker scratch it uses. */
typedef void (*task_fn)(void *ctx, size_t task, unsigned worker);

struct pool;
struct pool_worker {
    struct pool *p;
    unsigned id;
    pthread_t tid;
};

struct pool {
    unsigned nworkers; /* threads besides the caller */
    struct pool_worker *w;
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    unsigned long gen; /* bumped per job */
    unsigned running;  /* workers not yet finished with the current job */
    int quit;
    task_fn fn;
    void *ctx;
    size_t ntasks;
    atomic_size_t next;
};

static void pool_drain(struct pool *p, unsigned id)
{
    for (;;) {
        size_t t = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
        if (t >= p->ntasks)
            return;
        p->fn(p->ctx, t, id);
    }
}

static void *pool_main(void *arg)
{
    struct pool_worker *w = arg;
    struct pool *p = w->p;
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->gen == seen && !p->quit)
            pthread_cond_wait(&p->go, &p->mu);
        if (p->quit)
            break;
        seen = p->gen;
        pthread_mutex_unlock(&p->mu);
        pool_drain(p, w->id);
        pthread_mutex_lock(&p->mu);
        if (--p->running == 0)
            pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Starts up to threads - 1 workers. Failing to start one is not an error:
 * the results do not depend on how many run. */
static void pool_start(struct pool *p, unsigned threads)
{
    memset(p, 0, sizeof *p);
    atomic_init(&p->next, 0);
    if (threads <= 1)
        return;
    if (pthread_mutex_init(&p->mu, NULL) != 0)
        return;
    if (pthread_cond_init(&p->go, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        return;
    }
    if (pthread_cond_init(&p->done, NULL) != 0) {
        pthread_cond_destroy(&p->go);
        pthread_mutex_destroy(&p->mu);
        return;
    }
    p->w = calloc(threads - 1, sizeof *p->w);
    if (p->w) {
        for (unsigned i = 0; i < threads - 1; i++) {
            p->w[i].p = p;
            p->w[i].id = i + 1;
            if (pthread_create(&p->w[i].tid, NULL, pool_main, &p->w[i]) != 0)
                break;
            p->nworkers++;
        }
    }
    if (p->nworkers == 0) {
        free(p->w);
        p->w = NULL;
        pthread_cond_destroy(&p->done);
        pthread_cond_destroy(&p->go);
        pthread_mutex_destroy(&p->mu);
    }
}

static void pool_run(struct pool *p, task_fn fn, void *ctx, size_t ntasks)
{
    if (p->nworkers == 0 || ntasks <= 1) {
        for (size_t t = 0; t < ntasks; t++)
            fn(ctx, t, 0);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->ntasks = ntasks;
    atomic_store_explicit(&p->next, 0, memory_order_relaxed);
    p->running = p->nworkers;
    p->gen++;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    pool_drain(p, 0);
    pthread_mutex_lock(&p->mu);
    while (p->running)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

static void pool_stop(struct pool *p)
{
    if (p->nworkers == 0)
        return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->nworkers; i++)
        pthread_join(p->w[i].tid, NULL);
    free(p->w);
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->go);
    pthread_mutex_destroy(&p->mu);
}

/* ------------------------------------------------------ assignment --- */

/* One job shape serves Lloyd's assignment step and ruv__kmeans_assign. */
struct assign_job {
    const struct ruv_kernel_ops *k;
    const float *x; /* nrows rows, stride dim */
    size_t nrows, dim;
    const float *c;     /* nlist x dim, centred: c_j - mu (center_centroids) */
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
    size_t *changed;  /* per tile: rows whose assignment changed; or NULL */
};

/* Tile shape from nlist alone, never from the thread count (kmeans.h). */
static void tile_geometry(size_t nlist, size_t *tile_rows, size_t *cblock)
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

static void assign_task(void *ctx, size_t tile, unsigned worker)
{
    const struct assign_job *J = ctx;
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
            float d = J->k->l2sq_f32(xi, J->mu, dim) + best[i];
            J->dist[r0 + i] = d > 0.0f ? d : 0.0f; /* cancellation can dip below 0 */
        }
    }
    if (J->changed)
        J->changed[tile] = changed;
}

static size_t div_up(size_t a, size_t b) { return a / b + (a % b != 0); }

/* The assignment's centroids: cc = c - mu and their score offsets. */
static void center_centroids(const struct ruv_kernel_ops *k, const float *c, const float *mu,
                             size_t nlist, size_t dim, float *cc, float *cnorm)
{
    for (size_t j = 0; j < nlist; j++) {
        float *cj = cc + j * dim;
        for (size_t i = 0; i < dim; i++)
            cj[i] = c[j * dim + i] - mu[i];
        cnorm[j] = k->dot_f32(cj, cj, dim) + 2.0f * k->dot_f32(mu, cj, dim);
    }
}

int ruv__column_mean(const float *x, size_t n, size_t dim, float *mu)
{
    double *sum = calloc(dim ? dim : 1, sizeof *sum);
    if (!sum)
        return ruv__set_error(RUV_E_NOMEM, "out of memory for a mean of %zu columns", dim);
    for (size_t r = 0; r < n; r++)
        for (size_t i = 0; i < dim; i++)
            sum[i] += x[r * dim + i];
    for (size_t i = 0; i < dim; i++)
        mu[i] = (float)(sum[i] / (double)n);
    free(sum);
    return RUV_OK;
}

/* ----------------------------------------------------------- k-means --- */

struct km {
    const struct ruv_kernel_ops *k;
    const float *x; /* s sample rows, stride dim */
    size_t s, dim, nlist;
    float *c; /* nlist x dim, the working centroids */
    /* update step */
    const size_t *start; /* nlist + 1: members of j are perm[start[j] .. start[j+1]) */
    const size_t *perm;  /* sample rows grouped by centroid, ascending within a group */
    const float *dist;   /* s: squared distance of each row to its centroid */
    double *acc;         /* per worker: dim */
    double *sse;         /* nlist: sum of member distances */
    /* k-means++ */
    const float *y; /* npp candidate rows, stride dim */
    size_t npp;
    float *D;       /* npp: squared distance to the nearest chosen centre */
    double *P;      /* npp: prefix sums of D, for the D^2 draws */
    size_t ntry;    /* trials this round (<= KPP_MAX_TRIALS) */
    size_t try_row[KPP_MAX_TRIALS]; /* candidate row of each trial */
    uint32_t *near; /* npp: index of that nearest centre */
    size_t nc;      /* centres chosen so far */
    float *tc;      /* KPP_MAX_TRIALS x nlist: distance of each trial to each centre */
    float *tdist;   /* KPP_MAX_TRIALS x npp: distance of every row to each trial
                     * (+inf where the bound shows it cannot lower D) */
    double *tsum;   /* nchunks x KPP_MAX_TRIALS: per-chunk sum of min(D, tdist) */
};

/* Centroids [task * UPD_BLOCK, ...) become the means of their members. Each
 * sum runs over one centroid's members in row order, so its rounding is the
 * same whichever worker runs it and however many there are. */
static void update_task(void *ctx, size_t task, unsigned worker)
{
    struct km *K = ctx;
    const size_t dim = K->dim;
    double *acc = K->acc + (size_t)worker * dim;
    size_t j1 = (task + 1) * UPD_BLOCK < K->nlist ? (task + 1) * UPD_BLOCK : K->nlist;
    for (size_t j = task * UPD_BLOCK; j < j1; j++) {
        size_t a = K->start[j], b = K->start[j + 1];
        if (a == b) {
            K->sse[j] = 0.0;
            continue; /* empty: re-seeded afterwards */
        }
        memset(acc, 0, dim * sizeof *acc);
        double e = 0.0;
        for (size_t p = a; p < b; p++) {
            size_t r = K->perm[p];
            const float *xr = K->x + r * dim;
            for (size_t d = 0; d < dim; d++)
                acc[d] += xr[d];
            e += K->dist[r];
        }
        float *cj = K->c + j * dim;
        double cnt = (double)(b - a);
        for (size_t d = 0; d < dim; d++)
            cj[d] = (float)(acc[d] / cnt);
        K->sse[j] = e;
    }
}

/* Distances from trial t's row to every centre chosen so far (one call
 * over all of them, so each value is the same whichever worker runs it). */
static void kpp_centre_task(void *ctx, size_t t, unsigned worker)
{
    (void)worker;
    struct km *K = ctx;
    K->k->l2sq_f32_1xN(K->y + K->try_row[t] * K->dim, K->c, K->dim, K->dim, K->nc,
                       K->tc + t * K->nlist);
}

/* For one fixed chunk of candidate rows and every trial t: the distances to
 * trial t's row, and the chunk's part of the potential that choosing it
 * would leave, sum min(D, distance), in double and row order.
 *
 * Rows the trial cannot win are skipped (Elkan 2003's bound): with c the
 * row's nearest centre, ||x - t|| >= ||t - c|| - ||x - c||, so
 * ||t - c||^2 >= 4 D means ||x - t||^2 >= D and min(D, .) stays D. The
 * bound is taken with a 1e-3 margin, far above the float rounding of
 * either side (~dim * 2^-24 relative), so a skipped row is one whose
 * computed distance would not have been below D either: the sums and the
 * chosen centres are those of computing every distance. At nlist 4000 on
 * the 1M clustered set 83 % of the distances were skipped and k-means++
 * took ~1.7x less CPU time (the bound checks and the one-row calls cost
 * more per distance than l2sq_f32_1xN). Each kept distance is one l2sq_f32
 * call on that row alone, so its value does not depend on which other rows
 * are kept. */
static void kpp_task(void *ctx, size_t chunk, unsigned worker)
{
    (void)worker;
    struct km *K = ctx;
    const size_t dim = K->dim;
    const size_t r0 = chunk * KPP_CHUNK;
    const size_t rows = K->npp - r0 < KPP_CHUNK ? K->npp - r0 : KPP_CHUNK;
    const float *D = K->D + r0;
    const uint32_t *near = K->near + r0;
    double sum[KPP_MAX_TRIALS];
    if (K->nc == 0) {
        for (size_t t = 0; t < K->ntry; t++) {
            float *td = K->tdist + t * K->npp + r0;
            K->k->l2sq_f32_1xN(K->y + K->try_row[t] * dim, K->y + r0 * dim, dim, dim, rows, td);
            sum[t] = 0.0;
            for (size_t i = 0; i < rows; i++)
                sum[t] += td[i] < D[i] ? td[i] : D[i];
        }
    } else {
        /* Row by row, every trial: the row stays in L1 for all of them, and
         * each trial's sum still runs in row order. */
        for (size_t t = 0; t < K->ntry; t++)
            sum[t] = 0.0;
        for (size_t i = 0; i < rows; i++) {
            const float *yi = K->y + (r0 + i) * dim;
            const float bound = 4.004f * D[i];
            const float *tc = K->tc + near[i];
            float *td = K->tdist + r0 + i;
            for (size_t t = 0; t < K->ntry; t++, tc += K->nlist, td += K->npp) {
                if (*tc > bound) {
                    *td = INFINITY;
                    sum[t] += D[i];
                } else {
                    *td = K->k->l2sq_f32(K->y + K->try_row[t] * dim, yi, dim);
                    sum[t] += *td < D[i] ? *td : D[i];
                }
            }
        }
    }
    for (size_t t = 0; t < K->ntry; t++)
        K->tsum[chunk * KPP_MAX_TRIALS + t] = sum[t];
}

/* A D^2 draw: the first row whose prefix sum exceeds u * total, i.e. row i
 * with probability D[i] / total. */
static size_t d2_draw(const struct km *K, uint64_t *rng)
{
    const double total = K->P[K->npp - 1];
    const double target = uniform01(rng) * total;
    size_t lo = 0, hi = K->npp; /* first i in [lo, hi) with P[i] > target */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (K->P[mid] > target)
            hi = mid;
        else
            lo = mid + 1;
    }
    if (lo == K->npp) { /* rounding: target reached total; take the last row with D > 0 */
        lo = K->npp - 1;
        while (lo > 0 && !(K->D[lo] > 0.0f))
            lo--;
    }
    return lo;
}

/* Greedy k-means++ (Arthur & Vassilvitskii 2007; the variant scikit-learn
 * uses; why greedy: kmeans.h). Draws are serial; the distances run over
 * fixed chunks, and each trial's potential adds the chunks' sums in chunk
 * order, so the choice does not depend on the thread count. */
static void kmeans_pp(struct km *K, struct pool *pool, uint64_t *rng)
{
    const size_t dim = K->dim, npp = K->npp;
    const size_t nchunks = div_up(npp, KPP_CHUNK);
    size_t trials = 2 + (size_t)log((double)K->nlist);
    if (trials > KPP_MAX_TRIALS)
        trials = KPP_MAX_TRIALS;
    const int parallel = npp * dim * trials >= KPP_PARALLEL_MIN;
    for (size_t i = 0; i < npp; i++) {
        K->D[i] = INFINITY;
        K->near[i] = 0;
    }
    for (size_t ci = 0; ci < K->nlist; ci++) {
        double total = 0.0;
        for (size_t i = 0; ci > 0 && i < npp; i++) {
            total += K->D[i];
            K->P[i] = total;
        }
        if (ci == 0 || !(total > 0.0) || !isfinite(total)) {
            /* The first centre, or every candidate already coincides with a
             * centre (duplicates): one uniform draw. */
            K->ntry = 1;
            K->try_row[0] = rand_below(rng, npp);
        } else {
            K->ntry = trials;
            for (size_t t = 0; t < trials; t++)
                K->try_row[t] = d2_draw(K, rng);
        }
        K->nc = ci;
        if (parallel) {
            if (ci > 0)
                pool_run(pool, kpp_centre_task, K, K->ntry);
            pool_run(pool, kpp_task, K, nchunks);
        } else {
            for (size_t t = 0; ci > 0 && t < K->ntry; t++)
                kpp_centre_task(K, t, 0);
            for (size_t c = 0; c < nchunks; c++)
                kpp_task(K, c, 0);
        }
        size_t best = 0;
        double best_pot = INFINITY;
        for (size_t t = 0; t < K->ntry; t++) {
            double pot = 0.0;
            for (size_t c = 0; c < nchunks; c++)
                pot += K->tsum[c * KPP_MAX_TRIALS + t];
            if (pot < best_pot) {
                best_pot = pot;
                best = t;
            }
        }
        memcpy(K->c + ci * dim, K->y + K->try_row[best] * dim, dim * sizeof(float));
        const float *td = K->tdist + best * npp;
        for (size_t i = 0; i < npp; i++)
            if (td[i] < K->D[i]) {
                K->D[i] = td[i];
                K->near[i] = (uint32_t)ci;
            }
    }
}

/* Re-seeds empty clusters by splitting the largest (kmeans.h). Returns 1 if
 * any centroid moved. cnt is scratch (nlist). */
static int split_empty(struct km *K, size_t *cnt, uint64_t *rng)
{
    const size_t dim = K->dim, nlist = K->nlist;
    int moved = 0;
    for (size_t j = 0; j < nlist; j++)
        cnt[j] = K->start[j + 1] - K->start[j];
    for (size_t j = 0; j < nlist; j++) {
        if (cnt[j] != 0)
            continue;
        /* The largest cluster that can be split: a pile of identical
         * points cannot, however large. None left: later empties cannot be
         * helped either. */
        size_t L = SIZE_MAX;
        for (size_t i = 0; i < nlist; i++)
            if (cnt[i] >= 2 && K->sse[i] > 0.0 && (L == SIZE_MAX || cnt[i] > cnt[L]))
                L = i;
        if (L == SIZE_MAX)
            break;
        double rms = sqrt(K->sse[L] / (double)cnt[L]);
        float step = (float)(rms / 64.0 / sqrt((double)dim));
        float *cj = K->c + j * dim, *cl = K->c + L * dim;
        uint64_t bits = 0;
        for (size_t d = 0; d < dim; d++) {
            if (d % 64 == 0)
                bits = splitmix64(rng);
            /* At least a few ulps of the coordinate, so the two centroids
             * differ even when the cluster is tiny next to its offset. */
            float mag = fmaxf(step, fabsf(cl[d]) * (8.0f * 1.1920929e-7f));
            float delta = (bits >> (d % 64)) & 1u ? mag : -mag;
            cj[d] = cl[d] + delta;
            cl[d] -= delta;
        }
        cnt[j] = cnt[L] / 2;
        cnt[L] -= cnt[j];
        K->sse[j] = K->sse[L] / 2.0;
        K->sse[L] -= K->sse[j];
        moved = 1;
    }
    return moved;
}

/* Computed without overflow: 256 rows per centroid up to SAMPLE_FLOOR rows
 * in all, then never fewer than 64 per centroid. */
size_t ruv__kmeans_default_sample(size_t n, size_t nlist)
{
    size_t s = nlist <= SAMPLE_FLOOR / SAMPLE_MAX_PER ? SAMPLE_MAX_PER * nlist : SAMPLE_FLOOR;
    if (nlist > SAMPLE_FLOOR / SAMPLE_MIN_PER)
        s = nlist <= SIZE_MAX / SAMPLE_MIN_PER ? SAMPLE_MIN_PER * nlist : SIZE_MAX;
    return s < n ? s : n;
}

static unsigned clamp_threads(unsigned threads, size_t ntasks)
{
    if (threads == 0)
        threads = 1;
    if (threads > 256)
        threads = 256;
    if ((size_t)threads > ntasks)
        threads = ntasks ? (unsigned)ntasks : 1;
    return threads;
}

int ruv__kmeans(const struct ruv_kernel_ops *k, const float *data, size_t n, size_t dim,
                size_t nlist, size_t sample, unsigned iters, uint64_t seed, unsigned threads,
                float *centroids)
{
    if (!k)
        return ruv__set_error(RUV_E_INVAL, "k-means: kernel table is NULL");
    if (!data)
        return ruv__set_error(RUV_E_INVAL, "k-means: data is NULL");
    if (!centroids)
        return ruv__set_error(RUV_E_INVAL, "k-means: centroids is NULL");
    if (dim == 0)
        return ruv__set_error(RUV_E_INVAL, "k-means: dim must be at least 1");
    if (nlist == 0)
        return ruv__set_error(RUV_E_INVAL, "k-means: nlist must be at least 1");
    if (nlist > n)
        return ruv__set_error(RUV_E_INVAL,
                              "k-means: nlist (%zu) exceeds the number of rows n (%zu)", nlist, n);
    if (nlist > UINT32_MAX)
        return ruv__set_error(RUV_E_INVAL, "k-means: nlist (%zu) exceeds %u", nlist, UINT32_MAX);
    if (n > SIZE_MAX / dim / sizeof(float))
        return ruv__set_error(RUV_E_INVAL, "k-means: n * dim (%zu * %zu) overflows", n, dim);

    size_t s = sample ? sample : ruv__kmeans_default_sample(n, nlist);
    s = s > n ? n : s < nlist ? nlist : s;
    if (iters == 0)
        iters = RUV__KMEANS_DEFAULT_ITERS;
    size_t npp = nlist <= s / KPP_PER_CENTROID ? KPP_PER_CENTROID * nlist : s;

    size_t T, CB;
    tile_geometry(nlist, &T, &CB);
    const size_t ntiles = div_up(s, T);
    threads = clamp_threads(threads, ntiles);

    int st = RUV_E_NOMEM;
    uint64_t rng = seed;
    struct pool pool;
    int pool_started = 0;
    size_t *idx = NULL, *perm = NULL, *start = NULL, *cnt = NULL, *changed = NULL;
    float *xs = NULL, *ys = NULL, *D = NULL, *tdist = NULL, *tc = NULL, *c = NULL, *cnorm = NULL;
    float *cc = NULL, *mu = NULL;
    float *dist = NULL, *dots = NULL, *best = NULL;
    uint32_t *assign = NULL, *bestid = NULL, *near = NULL;
    double *P = NULL, *tsum = NULL, *acc = NULL, *sse = NULL;

    /* 1. the sample */
    const float *x = data;
    if (s < n) {
        idx = alloc_array(s, sizeof *idx);
        xs = alloc_array(s * dim, sizeof *xs);
        if (!idx || !xs)
            goto fail;
        select_sample(&rng, n, s, idx);
        for (size_t i = 0; i < s; i++)
            memcpy(xs + i * dim, data + idx[i] * dim, dim * sizeof *xs);
        free(idx);
        idx = NULL;
        x = xs;
    }

    /* 2. k-means++ on the candidate sub-sample */
    c = alloc_array(nlist * dim, sizeof *c);
    D = alloc_array(npp, sizeof *D);
    P = alloc_array(npp, sizeof *P);
    tdist = alloc_array(npp, KPP_MAX_TRIALS * sizeof *tdist);
    near = alloc_array(npp, sizeof *near);
    tc = alloc_array(nlist, KPP_MAX_TRIALS * sizeof *tc);
    tsum = alloc_array(div_up(npp, KPP_CHUNK), KPP_MAX_TRIALS * sizeof *tsum);
    if (!c || !D || !P || !tdist || !tsum || !near || !tc)
        goto fail;
    const float *y = x;
    if (npp < s) {
        idx = alloc_array(npp, sizeof *idx);
        ys = alloc_array(npp * dim, sizeof *ys);
        if (!idx || !ys)
            goto fail;
        select_sample(&rng, s, npp, idx);
        for (size_t i = 0; i < npp; i++)
            memcpy(ys + i * dim, x + idx[i] * dim, dim * sizeof *ys);
        free(idx);
        idx = NULL;
        y = ys;
    }
    pool_start(&pool, threads);
    pool_started = 1;
    struct km K = {.k = k, .x = x, .s = s, .dim = dim, .nlist = nlist, .c = c,
                   .y = y, .npp = npp, .D = D, .P = P, .near = near, .tc = tc,
                   .tdist = tdist, .tsum = tsum};
    kmeans_pp(&K, &pool, &rng);
    free(ys);
    free(D);
    free(P);
    free(tdist);
    free(tsum);
    free(near);
    free(tc);
    near = NULL;
    ys = D = tdist = tc = NULL;
    P = tsum = NULL;

    /* 3. Lloyd */
    cnorm = alloc_array(nlist, sizeof *cnorm);
    cc = alloc_array(nlist * dim, sizeof *cc);
    mu = alloc_array(dim, sizeof *mu);
    dist = alloc_array(s, sizeof *dist);
    assign = alloc_array(s, sizeof *assign);
    perm = alloc_array(s, sizeof *perm);
    start = alloc_array(nlist + 1, sizeof *start);
    cnt = alloc_array(nlist, sizeof *cnt);
    sse = alloc_array(nlist, sizeof *sse);
    changed = alloc_array(ntiles, sizeof *changed);
    acc = alloc_array((size_t)threads * dim, sizeof *acc);
    dots = alloc_array((size_t)threads * T * CB, sizeof *dots);
    best = alloc_array((size_t)threads * T, sizeof *best);
    bestid = alloc_array((size_t)threads * T, sizeof *bestid);
    if (!cnorm || !cc || !mu || !dist || !assign || !perm || !start || !cnt || !sse || !changed ||
        !acc || !dots || !best || !bestid || ruv__column_mean(x, s, dim, mu))
        goto fail;
    memset(assign, 0xff, s * sizeof *assign); /* no row starts assigned */

    struct assign_job J = {.k = k, .x = x, .nrows = s, .dim = dim, .c = cc, .cnorm = cnorm,
                           .c_raw = c, .mu = mu, .nlist = nlist, .tile_rows = T, .cblock = CB,
                           .dots = dots,
                           .best = best, .bestid = bestid, .assign = assign, .dist = dist,
                           .exact_dist = 0, .changed = changed};
    K.start = start;
    K.perm = perm;
    K.dist = dist;
    K.acc = acc;
    K.sse = sse;
    int moved = 0;
    for (unsigned it = 0; it < iters; it++) {
        center_centroids(k, c, mu, nlist, dim, cc, cnorm);
        pool_run(&pool, assign_task, &J, ntiles);
        size_t nchanged = 0;
        for (size_t t = 0; t < ntiles; t++)
            nchanged += changed[t];
        /* Unchanged assignments mean the centroids already are their means,
         * unless a split just moved some. */
        if (nchanged == 0 && !moved)
            break;
        /* Nearly converged: the rows still moving sit on boundaries and
         * barely move the means. On the 1M clustered set at nlist 1000
         * (256k sample) this stopped after 4 of 10 iterations with the
         * sample's mean squared distance 0.05 % above the 10-iteration
         * value. Never on the first pass, where every row counts. */
        if (it > 0 && nchanged < s / STOP_CHANGED && !moved)
            break;

        /* Stable counting sort of rows by centroid (ascending row order within
         * a centroid, which fixes the order of every sum). */
        memset(cnt, 0, nlist * sizeof *cnt);
        for (size_t r = 0; r < s; r++)
            cnt[assign[r]]++;
        start[0] = 0;
        for (size_t j = 0; j < nlist; j++) {
            start[j + 1] = start[j] + cnt[j];
            cnt[j] = start[j];
        }
        for (size_t r = 0; r < s; r++)
            perm[cnt[assign[r]]++] = r;

        pool_run(&pool, update_task, &K, div_up(nlist, UPD_BLOCK));
        moved = split_empty(&K, cnt, &rng);
    }
    memcpy(centroids, c, nlist * dim * sizeof *c);
    st = RUV_OK;

fail:
    if (pool_started)
        pool_stop(&pool);
    free(idx);
    free(xs);
    free(ys);
    free(D);
    free(P);
    free(tdist);
    free(tsum);
    free(near);
    free(tc);
    free(c);
    free(cnorm);
    free(cc);
    free(mu);
    free(dist);
    free(assign);
    free(perm);
    free(start);
    free(cnt);
    free(sse);
    free(changed);
    free(acc);
    free(dots);
    free(best);
    free(bestid);
    if (st == RUV_E_NOMEM)
        return ruv__set_error(st, "k-means: out of memory (n %zu, dim %zu, nlist %zu, sample %zu)",
                              n, dim, nlist, s);
    return st;
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
    tile_geometry(nlist, &T, &CB);
    const size_t ntiles = div_up(n, T);
    threads = clamp_threads(threads, ntiles);

    float *cnorm = alloc_array(nlist, sizeof *cnorm);
    float *cc = alloc_array(nlist * dim, sizeof *cc), *mu = alloc_array(dim, sizeof *mu);
    float *dots = alloc_array((size_t)threads * T * CB, sizeof *dots);
    float *best = alloc_array((size_t)threads * T, sizeof *best);
    uint32_t *bestid = alloc_array((size_t)threads * T, sizeof *bestid);
    int st = RUV_OK;
    if (!cnorm || !cc || !mu || !dots || !best || !bestid ||
        ruv__column_mean(centroids, nlist, dim, mu)) {
        st = ruv__set_error(RUV_E_NOMEM, "k-means assign: out of memory (nlist %zu, dim %zu)",
                            nlist, dim);
    } else {
        center_centroids(k, centroids, mu, nlist, dim, cc, cnorm);
        struct assign_job J = {.k = k, .x = data, .nrows = n, .dim = dim, .c = cc,
                               .cnorm = cnorm, .c_raw = centroids, .mu = mu, .nlist = nlist,
                               .tile_rows = T, .cblock = CB,
                               .dots = dots, .best = best, .bestid = bestid, .assign = assign,
                               .dist = dist, .exact_dist = 1, .changed = NULL};
        struct pool pool;
        pool_start(&pool, threads);
        pool_run(&pool, assign_task, &J, ntiles);
        pool_stop(&pool);
    }
    free(cnorm);
    free(cc);
    free(mu);
    free(dots);
    free(best);
    free(bestid);
    return st;
}

/* ------------------------------------------------ nearest centroids --- */

/* Orders (distance, id) pairs: nearer first, then lower id. */
static int before(float da, uint32_t ia, float db, uint32_t ib)
{
    return da < db || (da == db && ia < ib);
}

/* Restores the max-heap property below position i of a heap of h entries
 * (the root is the entry that sorts last). */
static void sift_down(uint32_t *id, float *d, size_t h, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, top = i;
        if (l < h && before(d[top], id[top], d[l], id[l]))
            top = l;
        if (l + 1 < h && before(d[top], id[top], d[l + 1], id[l + 1]))
            top = l + 1;
        if (top == i)
            return;
        float td = d[i];
        uint32_t ti = id[i];
        d[i] = d[top];
        id[i] = id[top];
        d[top] = td;
        id[top] = ti;
        i = top;
    }
}

#define NEAREST_BLOCK 256u

int ruv__probe_init(struct ruv__probe *p, const float *centroids, size_t nlist, size_t dim)
{
    memset(p, 0, sizeof *p);
    p->c = malloc(nlist * dim * sizeof *p->c);
    p->norm = malloc(nlist * sizeof *p->norm);
    p->mean = calloc(dim ? dim : 1, sizeof *p->mean);
    if (!p->c || !p->norm || !p->mean || ruv__column_mean(centroids, nlist, dim, p->mean)) {
        ruv__probe_free(p);
        return ruv__set_error(RUV_E_NOMEM, "out of memory for the probe table of %zu centroids",
                              nlist);
    }
    p->nlist = nlist;
    p->dim = dim;
    float m = 0.0f;
    for (size_t i = 0; i < nlist * dim; i++) {
        float v = fabsf(centroids[i] - p->mean[i % dim]);
        m = v > m ? v : m;
    }
    /* the largest |coordinate| into [8192, 16384): far from binary16's
     * 65504, and its smallest normal (2^-14) is 2^-27 of it */
    int e = 13 - (m > 0.0f ? ilogbf(m) : 0);
    e = e < -100 ? -100 : e > 24 ? 24 : e;
    p->scale = ldexpf(1.0f, e);
    for (size_t i = 0; i < nlist; i++) {
        double nn = 0;
        for (size_t j = 0; j < dim; j++) {
            uint16_t h = ruv__float_to_half((centroids[i * dim + j] - p->mean[j]) * p->scale);
            p->c[i * dim + j] = h;
            double v = ruv__half_to_float(h);
            nn += v * v;
        }
        p->norm[i] = (float)nn;
    }
    return RUV_OK;
}

void ruv__probe_free(struct ruv__probe *p)
{
    free(p->c);
    free(p->norm);
    free(p->mean);
    memset(p, 0, sizeof *p);
}

size_t ruv__probe_bytes(const struct ruv__probe *p)
{
    return p->nlist * (p->dim * sizeof *p->c + sizeof *p->norm) + p->dim * sizeof *p->mean;
}

void ruv__probe_nearest(const struct ruv_kernel_ops *k, const struct ruv__probe *p, const float *q,
                        float *work, size_t nprobe, uint32_t *out, float *out_score)
{
    const size_t nlist = p->nlist, dim = p->dim;
    if (nprobe > nlist)
        nprobe = nlist;
    if (nprobe == 0)
        return;
    for (size_t j = 0; j < dim; j++)
        work[j] = (q[j] - p->mean[j]) * p->scale;
    float buf[NEAREST_BLOCK];
    size_t h = 0;
    for (size_t c0 = 0; c0 < nlist; c0 += NEAREST_BLOCK) {
        size_t nb = nlist - c0 < NEAREST_BLOCK ? nlist - c0 : NEAREST_BLOCK;
        k->dot_f16_1xN(work, p->c + c0 * dim, dim, dim, nb, buf);
        for (size_t j = 0; j < nb; j++) {
            float d = p->norm[c0 + j] - 2.0f * buf[j];
            uint32_t id = (uint32_t)(c0 + j);
            if (h < nprobe) {
                /* sift up */
                size_t i = h++;
                while (i > 0) {
                    size_t up = (i - 1) / 2;
                    if (!before(out_score[up], out[up], d, id))
                        break;
                    out_score[i] = out_score[up];
                    out[i] = out[up];
                    i = up;
                }
                out_score[i] = d;
                out[i] = id;
            } else if (before(d, id, out_score[0], out[0])) {
                out_score[0] = d;
                out[0] = id;
                sift_down(out, out_score, h, 0);
            }
        }
    }
    /* Heap sort in place: repeatedly move the last-sorting entry to the end. */
    for (size_t end = h - 1; end > 0; end--) {
        float td = out_score[0];
        uint32_t ti = out[0];
        out_score[0] = out_score[end];
        out[0] = out[end];
        out_score[end] = td;
        out[end] = ti;
        sift_down(out, out_score, end, 0);
    }
}
