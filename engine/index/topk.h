/* Engine-private: bounded top-k (index/topk.c). */
#ifndef RUV_ENGINE_INDEX_TOPK_H
#define RUV_ENGINE_INDEX_TOPK_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* A max-heap on distance; lower distance is better. */
struct ruv__topk {
    size_t k, n;
    float *dist;
    uint32_t *row;
};
void ruv__topk_init(struct ruv__topk *t, size_t k, float *dist, uint32_t *row);
static inline float ruv__topk_threshold(const struct ruv__topk *t)
{
    return t->n < t->k ? INFINITY : t->dist[0];
}
void ruv__topk_push(struct ruv__topk *t, float d, uint32_t row);
/* Sorts in place, best first (ties by row, so results are deterministic). */
void ruv__topk_sort(struct ruv__topk *t);

#endif
