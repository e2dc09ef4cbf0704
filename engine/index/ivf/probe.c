/* The IVF probe: the nearest centroids of a query over a binary16 copy of
 * them (contract in kmeans.h). */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/error.h>
#include <ruvector/kernel.h>

#include "base/error.h"
#include "index/ivf/kmeans.h"
#include "plugin/half.h"

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
    ruv__probe_nearest_all(k, p, q, work, nprobe, out, out_score, NULL, NULL);
}

void ruv__probe_nearest_all(const struct ruv_kernel_ops *k, const struct ruv__probe *p,
                            const float *q, float *work, size_t nprobe, uint32_t *out,
                            float *out_score, float *all_dist, float *qq)
{
    const size_t nlist = p->nlist, dim = p->dim;
    if (nprobe > nlist)
        nprobe = nlist;
    if (nprobe == 0)
        return;
    for (size_t j = 0; j < dim; j++)
        work[j] = (q[j] - p->mean[j]) * p->scale;
    if (qq) {
        double s = 0.0;
        for (size_t j = 0; j < dim; j++)
            s += (double)work[j] * work[j];
        *qq = (float)s;
    }
    float buf[NEAREST_BLOCK];
    size_t h = 0;
    for (size_t c0 = 0; c0 < nlist; c0 += NEAREST_BLOCK) {
        size_t nb = nlist - c0 < NEAREST_BLOCK ? nlist - c0 : NEAREST_BLOCK;
        k->dot_f16_1xN(work, p->c + c0 * dim, dim, dim, nb, buf);
        for (size_t j = 0; j < nb; j++) {
            float d = p->norm[c0 + j] - 2.0f * buf[j];
            uint32_t id = (uint32_t)(c0 + j);
            if (all_dist)
                all_dist[id] = d;
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
