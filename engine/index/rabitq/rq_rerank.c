/* The re-rank of rabitq_plus: candidates in lower-bound order against the
 * originals (rq_search.c collects them), and the memo of exact distances
 * the calibration's ladder (rq_ladder.c) keeps per query across nprobes. */
#include "config.h"

#include <stdlib.h>

#include <ruvector/error.h>
#include <ruvector/index.h>

#include "index/common.h"
#include "index/rabitq/rq_pass.h"
#include "index/topk.h"

/* Min-heap on lb: the re-rank consumes candidates in lower-bound order and
 * usually stops after a small fraction, so a full sort would be wasted. */
static void heap_down(struct ruv__rq_cand *v, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && v[l].lb < v[m].lb)
            m = l;
        if (l + 1 < n && v[l + 1].lb < v[m].lb)
            m = l + 1;
        if (m == i)
            return;
        struct ruv__rq_cand t = v[i];
        v[i] = v[m];
        v[m] = t;
        i = m;
    }
}

static void heapify(struct ruv__rq_cand *v, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        heap_down(v, n, i);
}

static struct ruv__rq_cand heap_pop(struct ruv__rq_cand *v, size_t *n)
{
    struct ruv__rq_cand top = v[0];
    v[0] = v[--*n];
    heap_down(v, *n, 0);
    return top;
}

/* ---- the re-rank's memo (open addressing on row + 1) ---- */

static size_t memo_slot(const struct ruv__rq_memo *m, uint32_t row)
{
    return (size_t)(((uint64_t)(row + 1u) * 0x9E3779B97F4A7C15ull) >> 32) & (m->cap - 1);
}

static int memo_get(const struct ruv__rq_memo *m, uint32_t row, float *out)
{
    if (!m->cap)
        return 0;
    for (size_t i = memo_slot(m, row);; i = (i + 1) & (m->cap - 1)) {
        if (m->key[i] == 0)
            return 0;
        if (m->key[i] == row + 1u) {
            *out = m->val[i];
            return 1;
        }
    }
}

static void memo_insert(struct ruv__rq_memo *m, uint32_t row, float d)
{
    size_t i = memo_slot(m, row);
    while (m->key[i] != 0)
        i = (i + 1) & (m->cap - 1);
    m->key[i] = row + 1u;
    m->val[i] = d;
    m->n++;
}

/* Remembers row's distance (not yet there); without memory, forgets nothing
 * and remembers nothing more. */
static void memo_put(struct ruv__rq_memo *m, uint32_t row, float d)
{
    if (2 * (m->n + 1) > m->cap) { /* at most half full: short probe runs */
        struct ruv__rq_memo g = {0};
        g.cap = m->cap ? 2 * m->cap : 64;
        g.key = calloc(g.cap, sizeof *g.key);
        g.val = malloc(g.cap * sizeof *g.val);
        if (!g.key || !g.val) {
            free(g.key);
            free(g.val);
            return;
        }
        for (size_t i = 0; i < m->cap; i++)
            if (m->key[i])
                memo_insert(&g, m->key[i] - 1u, m->val[i]);
        ruv__rq_memo_free(m);
        *m = g;
    }
    memo_insert(m, row, d);
}

void ruv__rq_memo_free(struct ruv__rq_memo *m)
{
    free(m->key);
    free(m->val);
    *m = (struct ruv__rq_memo){0};
}

void ruv__rq_rerank(const struct ruv_index *idx, const float *q, const ruv_search_params *sp,
                    const struct ruv__topk *ub, struct ruv__rq_cands *cs, struct ruv__topk *out,
                    struct ruv__rq_memo *memo)
{
    /* Exact re-rank in lower-bound order; stop when no remaining
     * candidate can beat the k-th exact distance. */
    int32_t f = sp->rerank_factor >= 0 ? sp->rerank_factor : (int32_t)idx->p.rerank_factor;
    size_t cap = f > 0 ? (size_t)f * sp->k : cs->n;
    if (cap < sp->k)
        cap = sp->k;
    /* the k-th upper bound only fell while scanning: drop what it now excludes */
    float ubk = ruv__topk_threshold(ub);
    size_t kept = 0;
    for (size_t i = 0; i < cs->n; i++)
        if (cs->v[i].lb <= ubk)
            cs->v[kept++] = cs->v[i];
    cs->n = kept;
    heapify(cs->v, cs->n);
    /* Pop a few candidates at a time and prefetch all their rows before
     * computing any: the re-rank reads originals from DRAM, and several
     * misses in flight cost little more than one. Checking the threshold
     * once per batch may add a re-rank, never skip a needed one. */
    enum { BATCH = 8 };
    size_t done = 0;
    while (cs->n > 0 && done < cap && cs->v[0].lb <= ruv__topk_threshold(out)) {
        uint32_t rows[BATCH];
        float dist[BATCH];
        int known[BATCH];
        size_t m = 0;
        float th = ruv__topk_threshold(out);
        while (m < BATCH && cs->n > 0 && done + m < cap && cs->v[0].lb <= th) {
            rows[m] = heap_pop(cs->v, &cs->n).row;
            known[m] = memo && memo_get(memo, rows[m], &dist[m]);
            if (!known[m])
                ruv__rq_prefetch_bytes(idx->vecs + (size_t)rows[m] * idx->p.dim,
                               idx->p.dim * sizeof(float));
            m++;
        }
        for (size_t i = 0; i < m; i++) {
            if (!known[i]) {
                dist[i] = ruv__exact_dist(idx, q, idx->vecs + (size_t)rows[i] * idx->p.dim);
                if (memo)
                    memo_put(memo, rows[i], dist[i]);
            }
            ruv__topk_push(out, dist[i], rows[i]);
        }
        done += m;
    }
}

