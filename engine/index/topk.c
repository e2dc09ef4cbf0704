/* Bounded top-k as a max-heap on distance: the root is the current k-th
 * best, so a candidate is rejected with one compare. */
#include "config.h"

#include "index/topk.h"

void ruv__topk_init(struct ruv__topk *t, size_t k, float *dist, uint32_t *row)
{
    t->k = k;
    t->n = 0;
    t->dist = dist;
    t->row = row;
}

/* a ranks after b: larger distance, or equal distance and larger row */
static int after(float da, uint32_t ra, float db, uint32_t rb)
{
    return da > db || (da == db && ra > rb);
}

static void sift_down(float *d, uint32_t *r, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && after(d[l], r[l], d[m], r[m]))
            m = l;
        if (l + 1 < n && after(d[l + 1], r[l + 1], d[m], r[m]))
            m = l + 1;
        if (m == i)
            return;
        float td = d[i];
        d[i] = d[m];
        d[m] = td;
        uint32_t tr = r[i];
        r[i] = r[m];
        r[m] = tr;
        i = m;
    }
}

void ruv__topk_push(struct ruv__topk *t, float d, uint32_t row)
{
    if (t->k == 0)
        return;
    if (t->n < t->k) {
        size_t i = t->n++;
        t->dist[i] = d;
        t->row[i] = row;
        while (i > 0) { /* sift up */
            size_t p = (i - 1) / 2;
            if (!after(t->dist[i], t->row[i], t->dist[p], t->row[p]))
                break;
            float td = t->dist[i];
            t->dist[i] = t->dist[p];
            t->dist[p] = td;
            uint32_t tr = t->row[i];
            t->row[i] = t->row[p];
            t->row[p] = tr;
            i = p;
        }
        return;
    }
    if (!after(t->dist[0], t->row[0], d, row))
        return;
    t->dist[0] = d;
    t->row[0] = row;
    sift_down(t->dist, t->row, t->n, 0);
}

void ruv__topk_sort(struct ruv__topk *t)
{
    /* heap sort: repeatedly move the worst to the end */
    for (size_t end = t->n; end > 1; end--) {
        float td = t->dist[0];
        t->dist[0] = t->dist[end - 1];
        t->dist[end - 1] = td;
        uint32_t tr = t->row[0];
        t->row[0] = t->row[end - 1];
        t->row[end - 1] = tr;
        sift_down(t->dist, t->row, end - 1, 0);
    }
}
