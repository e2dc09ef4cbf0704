/* The calibration's measuring searches (calibrate.c) at nprobe 1, 2, 3, ...
 * without starting each query over at every step.
 *
 * A default search at nprobe np scans the np nearest lists in the probe's
 * order, then probes on (adaptive probing) and re-ranks. The probe's order
 * is a total order on (score, list), so the np nearest lists are the first
 * np of every list in that order, and the heap and candidates after them
 * are the same whatever np the search was asked for. So each query keeps
 * its state after the lists scanned so far; a call at a larger np scans
 * only the lists it adds, then finishes a copy of the state the way
 * ruv__rq_search does (probe on, re-rank). The re-rank remembers the exact
 * distances it computed for the query. Every call of the kernels is the
 * one the ordinary search makes on the same inputs, so the results are the
 * same bits (tests/test_cal_ladder.c compares them). A call at an nprobe
 * below the state's, a query whose probe scores are not all numbers, and
 * index types or searches this does not cover go the ordinary way. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/error.h>
#include <ruvector/index.h>

#include "base/error.h"
#include "exec/cancel.h"
#include "exec/pool.h"
#include "index/common.h"
#include "index/rabitq/rq.h"
#include "index/rabitq/rq_pass.h"
#include "index/scratch.h"
#include "index/topk.h"

struct ladder_query {
    float *qn;       /* the query as searched (cosine: normalised) */
    float *qr;       /* rotated */
    int16_t *qi;     /* rotated, as integers (multi-bit codes) */
    struct ruv__rabitq_qint qz;
    uint8_t *lut;    /* FastScan tables */
    struct ruv__rabitq_lutq lq;
    struct ruv__rabitq_query qc;
    uint32_t *order; /* order[0..sorted): the first lists in the probe's order */
    uint32_t sorted;
    float *all_dist; /* the probe's score of every list */
    float qq;
    struct ruv__topk gate; /* after order[0..done) */
    struct ruv__rq_cands cs;
    size_t seen;
    uint32_t done;
    int ready, plain;
    struct ruv__rq_memo memo;
};

struct ladder {
    size_t nq;
    uint32_t k;
    struct ladder_query *q;
    void *arena;
    size_t per; /* arena bytes per query */
};

static size_t up64(size_t b) { return (b + 63) / 64 * 64; }

void ruv__rq_cal_search_free(void *state)
{
    struct ladder *L = state;
    if (!L)
        return;
    for (size_t i = 0; i < L->nq; i++) {
        free(L->q[i].cs.v);
        ruv__rq_memo_free(&L->q[i].memo);
    }
    free(L->q);
    free(L->arena);
    free(L);
}

static struct ladder *ladder_new(const struct ruv_index *idx, size_t nq, uint32_t k)
{
    const struct rq *r = idx->impl;
    const size_t dim = idx->p.dim;
    struct ladder *L = calloc(1, sizeof *L);
    if (!L)
        return NULL;
    L->nq = nq;
    L->k = k;
    L->per = up64(dim * sizeof(float)) + up64(r->dim_pad * sizeof(float)) +
             up64(r->dim_pad * sizeof(int16_t)) + up64(r->block_bytes) +
             up64(r->nlist * sizeof(uint32_t)) + up64(r->nlist * sizeof(float)) +
             up64(k * sizeof(float)) + up64(k * sizeof(uint32_t));
    L->q = calloc(nq, sizeof *L->q);
    L->arena = L->q ? aligned_alloc(64, nq * L->per) : NULL;
    if (!L->arena) {
        ruv__rq_cal_search_free(L);
        return NULL;
    }
    for (size_t i = 0; i < nq; i++) {
        char *p = (char *)L->arena + i * L->per;
        struct ladder_query *s = &L->q[i];
        s->qn = (float *)p;
        p += up64(dim * sizeof(float));
        s->qr = (float *)p;
        p += up64(r->dim_pad * sizeof(float));
        s->qi = (int16_t *)p;
        p += up64(r->dim_pad * sizeof(int16_t));
        s->lut = (uint8_t *)p;
        p += up64(r->block_bytes);
        s->order = (uint32_t *)p;
        p += up64(r->nlist * sizeof(uint32_t));
        s->all_dist = (float *)p;
        p += up64(r->nlist * sizeof(float));
        float *gd = (float *)p;
        p += up64(k * sizeof(float));
        ruv__topk_init(&s->gate, k, gd, (uint32_t *)p);
    }
    return L;
}

struct ladder_ctx {
    const struct ruv_index *idx;
    struct ladder *L;
    const float *queries;
    const ruv_search_params *sp;
    uint32_t np;
    uint64_t *ids;
    float *scores;
    size_t *nfound;
    size_t scratch_bytes;
    int *status; /* per worker */
    char (*detail)[512];
};

/* The query's rotation, tables and probe order, once. */
static void query_open(const struct ruv_index *idx, struct ladder_query *s, const float *query,
                       struct ruv__rq_pass *p)
{
    const struct rq *r = idx->impl;
    if (idx->p.metric == RUV_METRIC_COSINE)
        ruv__normalize(idx->k, query, s->qn, idx->p.dim);
    else
        memcpy(s->qn, query, idx->p.dim * sizeof(float));
    p->s.qr = s->qr;
    p->s.qi = s->qi;
    p->s.lut = s->lut;
    ruv__rq_prepare(p, s->qn);
    s->lq = p->lq;
    s->qc = p->qc;
    s->qz = p->qz;
    ruv__probe_nearest_all(idx->k, &r->probe, s->qn, p->s.qwork, 1, s->order, p->s.probe_dist,
                           s->all_dist, &s->qq);
    s->sorted = 1;
    for (uint32_t j = 0; j < r->nlist; j++)
        if (isnan(s->all_dist[j]))
            s->plain = 1; /* (score, list) would not order the lists totally */
    s->ready = 1;
}

/* The probe's order (ivf/probe.c): by score, ties by list number. */
static int before(float da, uint32_t ia, float db, uint32_t ib)
{
    return da < db || (da == db && ia < ib);
}

static void sift_down(uint32_t *id, float *d, size_t h, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < h && before(d[m], id[m], d[l], id[l]))
            m = l;
        if (l + 1 < h && before(d[m], id[m], d[l + 1], id[l + 1]))
            m = l + 1;
        if (m == i)
            return;
        float td = d[i];
        uint32_t ti = id[i];
        d[i] = d[m];
        id[i] = id[m];
        d[m] = td;
        id[m] = ti;
        i = m;
    }
}

/* Makes order[0..want) the first want lists in the probe's order, from the
 * probe's scores (the order the probe gives to a search at nprobe want: the
 * first want of one total order). Grows by at least doubling, so a ladder
 * of nprobes sorts each query O(log nlist) times. d: nlist floats. */
static void order_extend(struct ladder_query *s, uint32_t nlist, uint32_t want, float *d)
{
    if (want <= s->sorted)
        return;
    uint32_t P = 2 * s->sorted > want ? 2 * s->sorted : want;
    P = P < nlist ? P : nlist;
    uint32_t *id = s->order;
    size_t h = 0;
    for (uint32_t j = 0; j < nlist; j++) { /* a max-heap of the P first: root sorts last */
        const float dj = s->all_dist[j];
        if (h < P) {
            size_t i = h++;
            while (i > 0 && before(d[(i - 1) / 2], id[(i - 1) / 2], dj, j)) {
                d[i] = d[(i - 1) / 2];
                id[i] = id[(i - 1) / 2];
                i = (i - 1) / 2;
            }
            d[i] = dj;
            id[i] = j;
        } else if (before(dj, j, d[0], id[0])) {
            d[0] = dj;
            id[0] = j;
            sift_down(id, d, h, 0);
        }
    }
    for (size_t end = h - 1; end > 0; end--) {
        float td = d[0];
        uint32_t ti = id[0];
        d[0] = d[end];
        id[0] = id[end];
        d[end] = td;
        id[end] = ti;
        sift_down(id, d, end, 0);
    }
    s->sorted = P;
}

/* A copy of from (n entries) into to's storage. */
static void topk_copy(struct ruv__topk *to, const struct ruv__topk *from)
{
    to->n = from->n;
    memcpy(to->dist, from->dist, from->n * sizeof *to->dist);
    memcpy(to->row, from->row, from->n * sizeof *to->row);
}

static int query_search(struct ladder_ctx *c, size_t qi, struct ruv__scratch *b,
                        struct ruv__rq_cands *fork)
{
    const struct ruv_index *idx = c->idx;
    const struct rq *r = idx->impl;
    const uint32_t k = c->L->k;
    struct ladder_query *s = &c->L->q[qi];
    /* the ladder covers adaptive searches only (ruv__rq_cal_search) */
    struct ruv__rq_pass p = {.idx = idx, .r = r, .screened = 1};
    ruv__rq_scratch_layout(idx, c->sp, b->scratch, &p.s);
    if (!s->ready)
        query_open(idx, s, c->queries + qi * idx->p.dim, &p);
    struct ruv__topk out;
    ruv__topk_init(&out, k, b->hd, b->hr);
    int rc = RUV_OK;
    if (s->plain || c->np < s->done) { /* the ordinary search */
        rc = idx->vt->search(idx, s->qn, c->sp, NULL, &out, b->scratch);
        if (!rc)
            ruv__index_emit(idx, &out, c->ids + qi * k, c->scores + qi * k, &c->nfound[qi]);
        return rc;
    }
    const int plus = idx->p.type == RUV_INDEX_RABITQ_PLUS;
    p.s.qr = s->qr;
    p.s.qi = s->qi;
    p.s.lut = s->lut;
    p.lq = s->lq;
    p.qc = s->qc;
    p.qz = s->qz;
    order_extend(s, r->nlist, c->np, p.s.probe_dist);
    /* the lists this np adds to the shared prefix */
    p.gate = &s->gate;
    p.cs = &s->cs;
    p.seen = s->seen;
    for (; s->done < c->np && !rc; s->done++)
        rc = ruv__rq_scan(&p, s->order[s->done]);
    s->seen = p.seen;
    if (rc) {
        s->plain = 1; /* a scan stopped half-way: the state is not a prefix's */
        return rc;
    }
    /* finish a copy as ruv__rq_search does */
    struct ruv__topk ub;
    ruv__topk_init(&ub, k, p.s.ubh, p.s.ubr);
    struct ruv__topk *gate = plus ? &ub : &out;
    topk_copy(gate, &s->gate);
    if (fork->cap < s->cs.n) {
        struct ruv__rq_cand *v = realloc(fork->v, s->cs.n * sizeof *v);
        if (!v)
            return ruv__set_error(RUV_E_NOMEM, "out of memory for calibration candidates");
        fork->v = v;
        fork->cap = s->cs.n;
    }
    if (s->cs.n)
        memcpy(fork->v, s->cs.v, s->cs.n * sizeof *fork->v);
    fork->n = s->cs.n;
    p.gate = gate;
    p.cs = fork;
    memcpy(p.s.all_dist, s->all_dist, r->nlist * sizeof *p.s.all_dist);
    rc = ruv__rq_probe_on(&p, s->qn, s->qq, s->order, c->np);
    if (rc)
        return rc;
    if (plus)
        ruv__rq_rerank(idx, s->qn, c->sp, &ub, fork, &out, &s->memo);
    ruv__index_emit(idx, &out, c->ids + qi * k, c->scores + qi * k, &c->nfound[qi]);
    return RUV_OK;
}

static void ladder_range(void *vctx, size_t begin, size_t end, unsigned worker)
{
    struct ladder_ctx *c = vctx;
    if (c->status[worker])
        return;
    struct ruv__scratch b;
    int rc = ruv__scratch_take(c->scratch_bytes, c->idx->p.dim, c->L->k, &b);
    if (rc) {
        snprintf(c->detail[worker], sizeof c->detail[worker], "%s", ruv_last_error());
        c->status[worker] = rc;
        return;
    }
    struct ruv__rq_cands fork = {0};
    for (size_t q = begin; q < end && !rc && !ruv__cancel_pending(); q++)
        if ((rc = query_search(c, q, &b, &fork)))
            snprintf(c->detail[worker], sizeof c->detail[worker], "calibration query %zu: %s", q,
                     ruv_last_error());
    free(fork.v);
    ruv__scratch_give(&b);
    c->status[worker] = rc;
}

int ruv__rq_cal_search(const struct ruv_index *idx, void **state, const float *queries, size_t nq,
                       const ruv_search_params *sp, uint64_t *ids, float *scores, size_t *nfound)
{
    const struct rq *r = idx->impl;
    const int covered = r && r->nlist > 1 && idx->p.type != RUV_INDEX_RABITQ_ASYM &&
                        !(idx->p.planned & RUV_PLANNED_EXACT) && ruv__rq_adaptive(idx, sp) &&
                        !sp->allow && sp->struct_size >= sizeof *sp && sp->recall == 0.0f;
    if (!covered || nq == 0)
        return ruv_index_search_batch(idx, queries, nq, sp, ids, scores, nfound);
    struct ladder *L = *state;
    if (!L) {
        if (!(L = ladder_new(idx, nq, sp->k)))
            return ruv__set_error(RUV_E_NOMEM, "out of memory for calibration");
        *state = L;
    }
    if (L->nq != nq || L->k != sp->k)
        return ruv__set_error(RUV_E_INVAL, "calibration search: %zu queries, k %u on a state of "
                                           "%zu, k %u", nq, sp->k, L->nq, L->k);
    unsigned threads = idx->threads ? idx->threads : 1;
    int *status = calloc(threads, sizeof *status);
    char (*detail)[512] = calloc(threads, sizeof *detail);
    int rc = RUV_OK;
    if (!status || !detail)
        rc = ruv__set_error(RUV_E_NOMEM, "out of memory for calibration");
    if (!rc) {
        struct ladder_ctx c = {idx, L, queries, sp, ruv__rq_nprobe(idx, sp), ids, scores, nfound,
                               idx->vt->scratch_bytes(idx, sp), status, detail};
        if (ruv__parallel_for(threads, nq, 8, ladder_range, &c))
            rc = ruv__cancel_check("calibration");
        for (unsigned t = 0; t < threads && !rc; t++)
            if (status[t])
                rc = ruv__set_error(status[t], "%s", detail[t]);
    }
    free(status);
    free(detail);
    return rc;
}
