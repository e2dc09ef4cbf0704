/* k-means for IVF (contract and method in kmeans.h). */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/error.h>
#include <ruvector/kernel.h>

#include "base/error.h"
#include "base/splitmix.h"
#include "exec/cancel.h"
#include "index/ivf/ivf.h"
#include "index/ivf/km_pool.h"
#include "index/ivf/kmeans.h"

/* ------------------------------------------------------------ tuning --- */

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

/* ------------------------------------------------------------- PRNG --- */

/* Uniform in [0, 1) with 53 random bits. */
static double uniform01(uint64_t *state)
{
    return (double)(ruv__splitmix64(state) >> 11) * (1.0 / 9007199254740992.0);
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

/* A copy of `want` of the n rows of src (select_sample's choice, in row
 * order); NULL when out of memory. */
static float *gather_sample(uint64_t *state, const float *src, size_t n, size_t want, size_t dim)
{
    size_t *pick = ruv__ivf_alloc_array(want, sizeof *pick);
    float *out = ruv__ivf_alloc_array(want * dim, sizeof *out);
    if (pick && out) {
        select_sample(state, n, want, pick);
        for (size_t i = 0; i < want; i++)
            memcpy(out + i * dim, src + pick[i] * dim, dim * sizeof *out);
    } else {
        free(out);
        out = NULL;
    }
    free(pick);
    return out;
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
            ruv__ivf_add_row(acc, K->x + r * dim, K->x + K->perm[p + 1 < b ? p + 1 : p] * dim, dim);
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
static void kmeans_pp(struct km *K, unsigned threads, uint64_t *rng)
{
    const size_t dim = K->dim, npp = K->npp;
    const size_t nchunks = ruv__ivf_div_up(npp, KPP_CHUNK);
    size_t trials = 2 + (size_t)log((double)K->nlist);
    if (trials > KPP_MAX_TRIALS)
        trials = KPP_MAX_TRIALS;
    const int parallel = npp * dim * trials >= KPP_PARALLEL_MIN;
    for (size_t i = 0; i < npp; i++) {
        K->D[i] = INFINITY;
        K->near[i] = 0;
    }
    for (size_t ci = 0; ci < K->nlist && !ruv__cancel_pending(); ci++) {
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
            if ((ci > 0 && ruv__km_run(threads, kpp_centre_task, K, K->ntry)) ||
                ruv__km_run(threads, kpp_task, K, nchunks))
                return; /* canceled: the caller checks */
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
                bits = ruv__splitmix64(rng);
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
    ruv__ivf_tile_geometry(nlist, &T, &CB);
    const size_t ntiles = ruv__ivf_div_up(s, T);
    threads = ruv__ivf_clamp_threads(threads, ntiles);

    int st = RUV_E_NOMEM;
    uint64_t rng = seed;
    size_t *perm = NULL, *start = NULL, *cnt = NULL, *changed = NULL;
    float *xs = NULL, *ys = NULL, *D = NULL, *tdist = NULL, *tc = NULL, *c = NULL, *cnorm = NULL;
    float *cc = NULL, *mu = NULL;
    float *dist = NULL, *dots = NULL, *best = NULL, *xmu = NULL;
    uint32_t *assign = NULL, *bestid = NULL, *near = NULL;
    double *P = NULL, *tsum = NULL, *acc = NULL, *sse = NULL;

    /* 1. the sample */
    const float *x = data;
    if (s < n) {
        if (!(xs = gather_sample(&rng, data, n, s, dim)))
            goto fail;
        x = xs;
    }

    /* 2. k-means++ on the candidate sub-sample */
    c = ruv__ivf_alloc_array(nlist * dim, sizeof *c);
    D = ruv__ivf_alloc_array(npp, sizeof *D);
    P = ruv__ivf_alloc_array(npp, sizeof *P);
    tdist = ruv__ivf_alloc_array(npp, KPP_MAX_TRIALS * sizeof *tdist);
    near = ruv__ivf_alloc_array(npp, sizeof *near);
    tc = ruv__ivf_alloc_array(nlist, KPP_MAX_TRIALS * sizeof *tc);
    tsum = ruv__ivf_alloc_array(ruv__ivf_div_up(npp, KPP_CHUNK), KPP_MAX_TRIALS * sizeof *tsum);
    if (!c || !D || !P || !tdist || !tsum || !near || !tc)
        goto fail;
    const float *y = x;
    if (npp < s) {
        if (!(ys = gather_sample(&rng, x, s, npp, dim)))
            goto fail;
        y = ys;
    }
    struct km K = {.k = k, .x = x, .s = s, .dim = dim, .nlist = nlist, .c = c,
                   .y = y, .npp = npp, .D = D, .P = P, .near = near, .tc = tc,
                   .tdist = tdist, .tsum = tsum};
    kmeans_pp(&K, threads, &rng);
    if ((st = ruv__cancel_check("k-means")) != RUV_OK)
        goto fail;
    st = RUV_E_NOMEM;
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
    cnorm = ruv__ivf_alloc_array(nlist, sizeof *cnorm);
    cc = ruv__ivf_alloc_array(nlist * dim, sizeof *cc);
    mu = ruv__ivf_alloc_array(dim, sizeof *mu);
    dist = ruv__ivf_alloc_array(s, sizeof *dist);
    xmu = ruv__ivf_alloc_array(s, sizeof *xmu);
    assign = ruv__ivf_alloc_array(s, sizeof *assign);
    perm = ruv__ivf_alloc_array(s, sizeof *perm);
    start = ruv__ivf_alloc_array(nlist + 1, sizeof *start);
    cnt = ruv__ivf_alloc_array(nlist, sizeof *cnt);
    sse = ruv__ivf_alloc_array(nlist, sizeof *sse);
    changed = ruv__ivf_alloc_array(ntiles, sizeof *changed);
    acc = ruv__ivf_alloc_array((size_t)threads * dim, sizeof *acc);
    dots = ruv__ivf_alloc_array((size_t)threads * T * CB, sizeof *dots);
    best = ruv__ivf_alloc_array((size_t)threads * T, sizeof *best);
    bestid = ruv__ivf_alloc_array((size_t)threads * T, sizeof *bestid);
    if (!cnorm || !cc || !mu || !dist || !xmu || !assign || !perm || !start || !cnt || !sse ||
        !changed || !acc || !dots || !best || !bestid || ruv__column_mean(x, s, dim, mu))
        goto fail;
    memset(assign, 0xff, s * sizeof *assign); /* no row starts assigned */

    struct ruv__ivf_assign_job J = {.k = k, .x = x, .nrows = s, .dim = dim, .c = cc, .cnorm = cnorm,
                           .c_raw = c, .mu = mu, .nlist = nlist, .tile_rows = T, .cblock = CB,
                           .dots = dots,
                           .best = best, .bestid = bestid, .assign = assign, .dist = dist,
                           .exact_dist = 0, .changed = changed, .xmu = xmu};
    K.start = start;
    K.perm = perm;
    K.dist = dist;
    K.acc = acc;
    K.sse = sse;
    int moved = 0;
    for (unsigned it = 0; it < iters; it++) {
        ruv__ivf_center_centroids(k, c, mu, nlist, dim, cc, cnorm);
        if (ruv__km_run(threads, ruv__ivf_assign_task, &J, ntiles)) {
            st = ruv__cancel_check("k-means");
            goto fail;
        }
        J.xmu_ready = 1; /* every row's ||x - mu||^2 is in xmu now */
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

        if (ruv__km_run(threads, update_task, &K, ruv__ivf_div_up(nlist, UPD_BLOCK))) {
            st = ruv__cancel_check("k-means");
            goto fail;
        }
        moved = split_empty(&K, cnt, &rng);
    }
    memcpy(centroids, c, nlist * dim * sizeof *c);
    st = RUV_OK;

fail:
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
    free(xmu);
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
