/* RaBitQ index search: rotate the query once; per probed list, a bit-plane
 * or byte-LUT scan gives <b, q>, then the estimate and its error bounds
 * decide what is pushed, refined with ex bits, or re-ranked exactly (see
 * index_rabitq.c). */
#include "config.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <ruvector/error.h>
#include <ruvector/index.h>
#include <ruvector/kernel.h>

#include "base/error.h"
#include "index/common.h"
#include "index/ivf/kmeans.h"
#include "index/rabitq/rabitq.h"
#include "index/rabitq/rotation.h"
#include "index/rabitq/rq.h"
#include "index/rabitq/rq_pass.h"
#include "index/topk.h"

/* ---- search ---- */

/* Only RabitqAsym reads the float byte LUT (32 floats per dimension): the
 * others need not allocate it on every search. */
static size_t blut_bytes(const struct ruv_index *idx)
{
    const struct rq *r = idx->impl;
    return idx->p.type == RUV_INDEX_RABITQ_ASYM
               ? ruv__rabitq_byte_lut_len(r->dim_pad) * sizeof(float)
               : 0;
}

/* A rabitq_plus index the plan made small enough for an exact scan of its
 * originals (plan.c): the flat index's scan answers, exactly. */
static int exact_scan(const struct ruv_index *idx)
{
    return (idx->p.planned & RUV_PLANNED_EXACT) && idx->keeps_vectors;
}

size_t ruv__rq_scratch_bytes(const struct ruv_index *idx, const ruv_search_params *sp)
{
    const struct rq *r = idx->impl;
    size_t m = (r->max_list + 32) / 32 * 32;
    if (exact_scan(idx))
        return ruv__flat_vt.scratch_bytes(idx, sp);
    return 64 * 17 + (r->dim_pad + idx->p.dim) * sizeof(float) + r->block_bytes +
           r->dim_pad * sizeof(int16_t) +
           m * sizeof(uint16_t) +
           m * 4 * sizeof(float) +
           blut_bytes(idx) +
           (size_t)r->nlist * (3 * sizeof(float) + sizeof(struct ruv__rq_list_bound)) +
           (size_t)sp->k * 2 * sizeof(float);
}

static void *carve(char **p, size_t bytes)
{
    void *out = *p;
    *p += (bytes + 63) / 64 * 64;
    return out;
}

void ruv__rq_scratch_layout(const struct ruv_index *idx, const ruv_search_params *sp, void *mem,
                            struct ruv__rq_scratch *s)
{
    const struct rq *r = idx->impl;
    size_t m = (r->max_list + 32) / 32 * 32;
    char *p = mem;
    s->qr = carve(&p, r->dim_pad * sizeof(float));
    s->qwork = carve(&p, idx->p.dim * sizeof(float));
    s->qi = carve(&p, r->dim_pad * sizeof(int16_t));
    s->lut = carve(&p, r->block_bytes);
    s->acc = carve(&p, m * sizeof(uint16_t));
    s->ip = carve(&p, m * sizeof(float));
    s->est = carve(&p, m * sizeof(float));
    s->lb = carve(&p, m * sizeof(float));
    s->sel = carve(&p, m * sizeof(uint32_t));
    s->blut = carve(&p, blut_bytes(idx));
    s->probe = carve(&p, r->nlist * sizeof(uint32_t));
    s->probe_dist = carve(&p, r->nlist * sizeof(float));
    s->ubh = carve(&p, sp->k * sizeof(float));
    s->ubr = carve(&p, sp->k * sizeof(uint32_t));
    s->all_dist = carve(&p, r->nlist * sizeof(float));
    s->pending = carve(&p, r->nlist * sizeof(struct ruv__rq_list_bound));
}

uint32_t ruv__rq_nprobe(const struct ruv_index *idx, const ruv_search_params *sp)
{
    const struct rq *r = idx->impl;
    if (r->nlist == 1)
        return 1;
    uint32_t np = sp->nprobe;
    if (np == 0)
        np = ruv__plan_nprobe(idx, sp);
    if (np == 0)
        np = r->nlist <= 16 ? r->nlist : (r->nlist / 16 > 1 ? r->nlist / 16 : 1);
    return np > r->nlist ? r->nlist : np;
}

/* ---- adaptive probing ----
 * A fixed nprobe, calibrated on the index's own rows, is too few for a
 * query unlike the data: far from every centroid, its neighbours spread
 * over many lists (recall@10 0.53 on uniform queries against embedding-like
 * data at the calibrated nprobe). With a plan, the calibrated nprobe is
 * where a search starts: it then probes on while some unprobed list can
 * still hold a vector nearer than the k-th candidate. Every vector x of a
 * list lies within its radius R of the centroid c (lists[].radius), so
 *   L2:  |q - x| >= |q - c| - R
 *   IP:  -<q, x> >= -<q, c> - |q| R
 * and the lists go in order of that bound, against the k-th upper bound of
 * the estimator (rabitq_plus) or the k-th estimate (codes only).
 *
 * Taken at face value (x anywhere in the ball) the bound probes nearly every
 * list in 100+ dimensions: the vectors of a list lie near its sphere, but
 * hardly any of them toward the query. Of m directions at random in D
 * dimensions, the one nearest to a given direction has a cosine of about
 * sqrt(2 ln m / D); so the bound counts a fraction of R, the reach, that
 * follows it, with m the mean list length. Measured (docs/indexes.md,
 * "Queries unlike the data") with 10 % out-of-distribution queries: a fixed
 * reach of 0.2 took their recall@10 from 0.09-0.77 to 0.93-1.00 on sets of
 * D 96 to 256, but to 0.73 for inner product at D = 61, and 0.25 gave 0.84
 * for cosine at D = 48; this rule at 0.75 (reach 0.15 to 0.35 on those
 * sets) reached 0.97-1.00 on every one.
 *
 * For L2 the scale is 0.5. The premise "no vector of the list has a cosine
 * above the reach toward the query" gives the inner-product bound exactly,
 * but for L2 it gives more than (|q - c| - reach R)^2: such a vector at
 * radius r is at least |q - c|^2 - 2 |q - c| reach r + r^2 away, and the
 * bound takes r^2 as (reach R)^2 although the vectors of a list lie near
 * its sphere. So at one reach the L2 bound probes further than the
 * inner-product one. (The exact consequence of the premise, with r^2 in,
 * probes too little: out-of-distribution recall 0.70 on 1M x 32.) Measured
 * on bench/defaults.py's sets (session 10, docs/benchmarks-defaults.md):
 * at 0.5 every L2 set keeps its calibrated nprobe and OOD recall 0.97-1.00
 * while 1M x 32 spends 2.5x less on an OOD query; for inner product and
 * cosine 0.6 already takes OOD recall to 0.84-0.94. */
#define REACH_SCALE_L2 0.5
#define REACH_SCALE_IP 0.75

static double reach_scale(const struct rq *r)
{
    return r->metric == RUV__RABITQ_L2 ? REACH_SCALE_L2 : REACH_SCALE_IP;
}

static float reach(const struct ruv_index *idx, const struct rq *r)
{
    const double m = (double)idx->n / r->nlist, d = idx->p.dim ? idx->p.dim : 1;
    const double f = reach_scale(r) * sqrt(2.0 * log(m > 2.0 ? m : 2.0) / d);
    return f < 1.0 ? (float)f : 1.0f;
}

int ruv__rq_adaptive(const struct ruv_index *idx, const ruv_search_params *sp)
{
    const struct rq *r = idx->impl;
    return r->radii && r->nlist > 1 && sp->nprobe == 0 && idx->p.target_recall > 0.0f;
}

void ruv__rq_probing(const struct ruv_index *idx, struct ruv__probing *out)
{
    const struct rq *r = idx->impl;
    const ruv_search_params defaults = {0};
    out->adaptive = ruv__rq_adaptive(idx, &defaults);
    out->radii = r->radii;
    out->reach = r->nlist > 1 ? reach(idx, r) : 0.0f;
    out->reach_scale = (float)reach_scale(r);
}

static void pending_down(struct ruv__rq_list_bound *v, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && (v[l].lb < v[m].lb || (v[l].lb == v[m].lb && v[l].list < v[m].list)))
            m = l;
        if (l + 1 < n &&
            (v[l + 1].lb < v[m].lb || (v[l + 1].lb == v[m].lb && v[l + 1].list < v[m].list)))
            m = l + 1;
        if (m == i)
            return;
        struct ruv__rq_list_bound t = v[i];
        v[i] = v[m];
        v[m] = t;
        i = m;
    }
}

/* The non-empty lists not among probed[0..np), each with its bound, as a
 * min-heap in v; returns their number. all_dist and qq: the probe's scores
 * of every centroid and |q'|^2 (ruv__probe_nearest_all); all_dist is
 * consumed (probed lists are marked in it). */
size_t ruv__rq_pending_init(const struct ruv_index *idx, const float *q, float qq,
                            const uint32_t *probed, uint32_t np, float *all_dist, float threshold,
                            struct ruv__rq_list_bound *v)
{
    const struct rq *r = idx->impl;
    const float inv = 1.0f / (r->probe.scale * r->probe.scale);
    const float alpha = reach(idx, r);
    const int l2 = r->metric == RUV__RABITQ_L2;
    const float qn2 = l2 ? 0.0f : idx->k->dot_f32(q, q, idx->p.dim);
    const float qn = sqrtf(qn2);
    for (uint32_t i = 0; i < np; i++)
        all_dist[probed[i]] = INFINITY;
    size_t n = 0;
    for (uint32_t j = 0; j < r->nlist; j++) {
        if (all_dist[j] == INFINITY || r->lists[j].n == 0)
            continue;
        float d2 = (all_dist[j] + qq) * inv; /* |q - c|^2 */
        d2 = d2 > 0.0f ? d2 : 0.0f;
        const float rad = alpha * r->lists[j].radius;
        float lb;
        if (l2) {
            float g = sqrtf(d2) - rad;
            lb = g > 0.0f ? g * g : 0.0f;
        } else { /* <q, c> = (|q|^2 + |c|^2 - |q - c|^2) / 2 */
            lb = -0.5f * (qn2 + r->cnorm[j] - d2) - qn * rad;
        }
        /* the threshold only falls: a list above it now is never probed,
         * and (lb, list) orders the heap totally, so leaving such lists out
         * changes nothing but the heap's size (at nlist 1,000 building the
         * whole heap was ~7 % of an in-distribution query's CPU) */
        if (!(lb > threshold))
            v[n++] = (struct ruv__rq_list_bound){lb, j};
    }
    for (size_t i = n / 2; i-- > 0;)
        pending_down(v, n, i);
    return n;
}

uint32_t ruv__rq_pending_pop(struct ruv__rq_list_bound *v, size_t *n)
{
    uint32_t list = v[0].list;
    v[0] = v[--*n];
    pending_down(v, *n, 0);
    return list;
}

static int cands_push(struct ruv__rq_cands *c, float lb, float est, uint32_t row)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        struct ruv__rq_cand *nv = realloc(c->v, cap * sizeof *nv);
        if (!nv)
            return ruv__set_error(RUV_E_NOMEM, "out of memory for re-rank candidates");
        c->v = nv;
        c->cap = cap;
    }
    c->v[c->n++] = (struct ruv__rq_cand){lb, est, row};
    return RUV_OK;
}

/* <b, q> of every lane of list l through the FastScan kernel: returns the
 * kernel's sums (s->acc) for ruv__rabitq_est_fastscan_n, or NULL when it
 * wrote <b, q> itself to s->ip. */
static const uint16_t *scan_list(const struct ruv_index *idx, const struct rq_list *l,
                                 const struct ruv__rq_scratch *s, const struct ruv__rabitq_lutq *lq)
{
    const struct rq *r = idx->impl;
    const size_t nblocks = (l->n + 31) / 32;
    if (r->nsub <= RUV_FASTSCAN_MAX_NSUB) {
        idx->k->fastscan_u8(l->fs, r->nsub, nblocks, s->lut, s->acc);
        return s->acc;
    }
    /* Past 256 sub-codes (dimension > 1024) the kernel's uint16 sums could
     * overflow: each block goes chunk by chunk, summed in uint32. */
    for (size_t b = 0; b < nblocks; b++) {
        uint32_t sum[32] = {0};
        for (size_t c0 = 0; c0 < r->nsub; c0 += RUV_FASTSCAN_MAX_NSUB) {
            size_t cn = r->nsub - c0 < RUV_FASTSCAN_MAX_NSUB ? r->nsub - c0 : RUV_FASTSCAN_MAX_NSUB;
            uint16_t part[32];
            idx->k->fastscan_u8(l->fs + b * r->block_bytes + c0 * 16, cn, 1, s->lut + c0 * 16,
                                part);
            for (size_t t = 0; t < 32; t++)
                sum[t] += part[t];
        }
        for (size_t t = 0; t < 32 && b * 32 + t < l->n; t++)
            s->ip[b * 32 + t] = ruv__rabitq_ip_fastscan(lq, sum[t]);
    }
    return NULL;
}

/* The 1-bit estimate (and with lb, its lower bound) of lanes [j0, j0 + n)
 * of list l, from the FastScan sums acc or, without them, from <b, q> in ip. */
static void lane_bounds(const struct rq_list *l, const uint16_t *acc, const float *ip,
                        const struct ruv__rabitq_lutq *lq, const struct ruv__rabitq_query *qc,
                        size_t j0, size_t n, float *est, float *lb)
{
    if (acc)
        ruv__rabitq_est_fastscan_n(lq, acc + j0, n, l->f_add + j0, l->f_rescale + j0,
                                   l->f_error + j0, qc, est, lb);
    else
        ruv__rabitq_est_n(ip + j0, n, l->f_add + j0, l->f_rescale + j0, l->f_error + j0, qc, 1,
                          est, lb);
}

/* <b, q> with the float query for every lane of list l: the byte LUT of
 * ruv__rabitq_byte_lut, read straight from the FastScan blocks. Code byte p
 * of a lane is its sub-codes 2p (low nibble) and 2p + 1 (high nibble): for
 * lanes 0..15 the low nibbles of rows 2p and 2p + 1, for lanes 16..31 the
 * high ones. */
static void scan_list_exact(const struct rq *r, const struct rq_list *l, const float *blut,
                            float *ip)
{
    const size_t nblocks = (l->n + 31) / 32;
    for (size_t b = 0; b < nblocks; b++) {
        const uint8_t *blk = l->fs + b * r->block_bytes;
        float lo[16] = {0}, hi[16] = {0};
        for (size_t p = 0; p < r->nsub / 2; p++) {
            const uint8_t *r0 = blk + 2 * p * 16, *r1 = r0 + 16;
            const float *t = blut + p * 256;
            for (size_t j = 0; j < 16; j++) {
                lo[j] += t[(r0[j] & 0x0fu) | ((r1[j] & 0x0fu) << 4)];
                hi[j] += t[(r0[j] >> 4) | (r1[j] & 0xf0u)];
            }
        }
        size_t base = b * 32;
        for (size_t j = 0; j < 16 && base + j < l->n; j++)
            ip[base + j] = lo[j];
        for (size_t j = 0; j < 16 && base + 16 + j < l->n; j++)
            ip[base + 16 + j] = hi[j];
    }
}

/* The lanes j < n with lb[j] <= th, into sel; returns their number.
 * Branch-free (about a quarter pass, unpredictably), and a function of its
 * own: inlined into the search, the compiler kept its pointers on the stack
 * and reloaded them on every lane (~15 % of a query's CPU at 1M x 32). */
__attribute__((noinline)) static size_t select_at_most(const float *restrict lb, size_t n,
                                                       float th, uint32_t *restrict sel)
{
    size_t m = 0;
    for (size_t j = 0; j < n; j++) {
        sel[m] = (uint32_t)j;
        m += lb[j] <= th;
    }
    return m;
}

/* Bit j set for the lanes j < n (n <= 64) a 1-bit list scan looks at:
 * v[j] <= th, or with nan_passes !(v[j] > th), the per-lane tests of the
 * loop this replaced (a test and branch for every lane, over whole-list
 * arrays: with its two unvectorised passes before it, ~60 % of a 1-bit flat
 * search's CPU at 50k x 128). The caller tests each picked lane again: th
 * only falls. */
static uint64_t lanes_at_most(const float *v, size_t n, float th, int nan_passes)
{
    uint64_t m = 0;
    size_t j = 0;
#if defined(__SSE2__)
    const __m128 t = _mm_set1_ps(th);
    for (; j + 4 <= n; j += 4) {
        const __m128 x = _mm_loadu_ps(v + j);
        const __m128 c = nan_passes ? _mm_cmpngt_ps(x, t) : _mm_cmple_ps(x, t);
        m |= (uint64_t)_mm_movemask_ps(c) << j;
    }
#endif
    for (; j < n; j++)
        m |= (uint64_t)(nan_passes ? !(v[j] > th) : v[j] <= th) << j;
    return m;
}

void ruv__rq_prepare(struct ruv__rq_pass *p, const float *q)
{
    const struct ruv_index *idx = p->idx;
    const struct rq *r = p->r;
    const struct ruv_kernel_ops *k = idx->k;
    ruv__rotation_apply(&r->rot, k, ruv__rq_in_frame(r, q, idx->p.dim, p->s.qwork), p->s.qr);
    p->lq = (struct ruv__rabitq_lutq){0};
    if (idx->p.type == RUV_INDEX_RABITQ_ASYM)
        ruv__rabitq_byte_lut(p->s.qr, r->dim_pad, p->s.blut);
    else
        ruv__rabitq_fastscan_lut(p->s.qr, r->dim_pad, idx->p.query_bits, p->s.lut, &p->lq);
    ruv__rabitq_query_init(k, p->s.qr, r->centroids_rot, r->dim_pad, r->metric, &p->qc);
    p->qz = (struct ruv__rabitq_qint){0};
    if (idx->p.bits > 1 && idx->p.type != RUV_INDEX_RABITQ_ASYM)
        ruv__rabitq_query_int16(p->s.qr, r->dim_pad, idx->p.bits, p->s.qi, &p->qz);
}

/* How a whole code meets the query: RabitqAsym's contract is the
 * unquantised float query (dot_u8_f32); the others go through the integer
 * query (dot_u8_i16, or dot_u4_i16 on codes packed two to a byte: about
 * half the instructions of the float form; its error, at most p->qz.err,
 * widens the bounds in ruv__rq_scan). Chosen once per list, not per lane. */
enum whole_form { WHOLE_F32, WHOLE_U8, WHOLE_U4 };

static enum whole_form whole_form_of(const struct ruv_index *idx)
{
    if (idx->p.type == RUV_INDEX_RABITQ_ASYM) /* never packed (rq.h) */
        return WHOLE_F32;
    return ruv__rq_packed(&idx->p) ? WHOLE_U4 : WHOLE_U8;
}

/* <u, q> of a whole code. */
static inline float whole_code_ip(const struct ruv__rq_pass *p, enum whole_form form,
                                  const uint8_t *code)
{
    const struct ruv_kernel_ops *k = p->idx->k;
    if (form == WHOLE_F32)
        return k->dot_u8_f32(code, p->s.qr, p->r->dim_pad);
    const int64_t dot = form == WHOLE_U4 ? k->dot_u4_i16(code, p->s.qi, p->r->dim_pad)
                                         : k->dot_u8_i16(code, p->s.qi, p->r->dim_pad);
    return ruv__rabitq_ip_int(&p->qz, dot);
}

/* The 1-bit screen of multi-bit RabitqPlus lists in a planned search
 * (adaptive probing on: build(x) and search(q, k), or recall=): a lane gets
 * the look at its whole code (the <u, q> dot product, a quarter of a
 * default query's CPU on embed384-100k) only when its 1-bit estimate less
 * RQ_SCREEN_SCALE times its error bound can beat the k-th upper bound so
 * far. An explicit nprobe (a tuned search) keeps the full bound, so what
 * it returns is what it returned before: at nprobe 16 on demo-100k the
 * screen caps recall@10 at 0.998 where the full bound reaches 1.000. The
 * bound's eps0 (2.6, about 99 % of pairs inside; rabitq.h) is what the
 * whole-code bounds keep, for the pruning and the stop of adaptive probing;
 * the screen only decides which lanes are worth the look, so it takes ~1.56
 * standard deviations (0.6 x 2.6, ~94 % of pairs one-sided). A neighbour is lost
 * only when its 1-bit estimate errs that far upward while it is already
 * near the k-th, and calibration measures the search with the screen, so
 * the default nprobe still reaches the target. Measured on the eight issue
 * sets and embed384-100k (docs/indexes.md, "The 1-bit screen"): whole-code
 * looks 568 -> 298 a query on embed384-100k, single-query CPU 1.04-1.22x
 * less, recall@10 in distribution 0.000..-0.004, OOD 0.000..-0.013. */
#define RQ_SCREEN_SCALE 0.6f

int ruv__rq_scan(struct ruv__rq_pass *p, uint32_t list)
{
    const struct ruv_index *idx = p->idx;
    const struct rq *r = p->r;
    const struct ruv_kernel_ops *k = idx->k;
    struct ruv__rq_scratch *s = &p->s;
    const uint8_t *allow = p->allow;
    const int plus = idx->p.type == RUV_INDEX_RABITQ_PLUS;
    const int asym = idx->p.type == RUV_INDEX_RABITQ_ASYM;
    const int ex = idx->p.bits > 1;
    const unsigned bits = idx->p.bits;
    struct ruv__topk *gate = p->gate;
    int rc = RUV_OK;
    const struct rq_list *l = &r->lists[list];
    if (l->n == 0)
        return RUV_OK;
    if (!allow) {
        p->seen += l->n;
    } else {
        for (size_t j = 0; j < l->n; j++)
            p->seen += ruv__row_allowed(allow, l->rows[j]);
    }
    ruv__rabitq_query_centroid(k, s->qr, r->centroids_rot + (size_t)list * r->dim_pad, r->dim_pad,
                               r->metric, &p->qc);
    const uint16_t *acc = NULL;
    if (asym)
        scan_list_exact(r, l, s->blut, s->ip);
    else
        acc = scan_list(idx, l, s, &p->lq);
    if (!ex) {
        /* 1-bit codes: a block of lanes at a time, while its estimates
         * are in L1; most lanes lose to the k-th upper bound (PLUS) or
         * estimate (codes only) and are never looked at one by one */
        enum { LANES = 64 };
        float est[LANES], lb[LANES];
        for (size_t j0 = 0; j0 < l->n && !rc; j0 += LANES) {
            const size_t cnt = l->n - j0 < LANES ? l->n - j0 : LANES;
            lane_bounds(l, acc, s->ip, &p->lq, &p->qc, j0, cnt, est, plus ? lb : NULL);
            uint64_t pick = plus ? lanes_at_most(lb, cnt, ruv__topk_threshold(gate), 1)
                                 : lanes_at_most(est, cnt, ruv__topk_threshold(gate), 0);
            while (pick && !rc) {
                const unsigned t = (unsigned)__builtin_ctzll(pick);
                pick &= pick - 1;
                const uint32_t row = l->rows[j0 + t];
                if (!ruv__row_allowed(allow, row))
                    continue;
                if (!plus) {
                    if (est[t] <= ruv__topk_threshold(gate))
                        ruv__topk_push(gate, est[t], row);
                    continue;
                }
                if (lb[t] > ruv__topk_threshold(gate))
                    continue;
                ruv__topk_push(gate, 2.0f * est[t] - lb[t], row);
                rc = cands_push(p->cs, lb[t], est[t], row);
            }
        }
        return rc;
    }
    /* a planned RabitqPlus search screens with a narrower 1-bit bound than
     * it prunes with (RQ_SCREEN_SCALE); an explicit nprobe's search, and the
     * codes-only types, with the bound itself */
    struct ruv__rabitq_query screen = p->qc;
    if (plus && p->screened)
        screen.g_error *= RQ_SCREEN_SCALE;
    lane_bounds(l, acc, s->ip, &p->lq, &screen, 0, l->n, s->est, s->lb);
    /* Multi-bit codes: the 1-bit bound picks the lanes worth a look at
     * their whole code. Select first (against the threshold as it stands;
     * it only falls, and each lane is checked again), so the whole codes
     * of the lanes ahead can be prefetched: they are sparse reads that
     * the hardware prefetcher does not foresee. */
    size_t m = 0;
    float th = ruv__topk_threshold(gate);
    if (allow) {
        for (size_t j = 0; j < l->n; j++)
            if (s->lb[j] <= th && ruv__row_allowed(allow, l->rows[j]))
                s->sel[m++] = (uint32_t)j;
    } else {
        m = select_at_most(s->lb, l->n, th, s->sel);
    }
    enum { AHEAD = 8 };
    const size_t ucb = ruv__rq_ucode_bytes(r, &idx->p);
    const enum whole_form form = whole_form_of(idx);
    for (size_t i = 0; i < m && i < AHEAD; i++)
        ruv__rq_prefetch_bytes(l->ucode + s->sel[i] * ucb, ucb);
    for (size_t i = 0; i < m && !rc; i++) {
        if (i + AHEAD < m)
            ruv__rq_prefetch_bytes(l->ucode + s->sel[i + AHEAD] * ucb, ucb);
        uint32_t j = s->sel[i];
        if (s->lb[j] > ruv__topk_threshold(gate))
            continue;
        float ipu = whole_code_ip(p, form, l->ucode + j * ucb);
        struct ruv__rabitq_factors fx = {l->x_add[j], l->x_rescale[j], l->x_error[j]};
        uint32_t row = l->rows[j];
        if (!plus) {
            ruv__topk_push(gate, ruv__rabitq_est(&fx, &p->qc, ipu, bits), row);
            continue;
        }
        float est, lb, ubv;
        ruv__rabitq_est_bounds_err(&fx, &p->qc, ipu, p->qz.err, bits, &est, &lb, &ubv);
        if (lb > ruv__topk_threshold(gate))
            continue;
        ruv__topk_push(gate, ubv, row);
        rc = cands_push(p->cs, lb, est, row);
    }
    return rc;
}

int ruv__rq_probe_on(struct ruv__rq_pass *p, const float *q, float qq, const uint32_t *probed,
                     uint32_t np)
{
    size_t npending = ruv__rq_pending_init(p->idx, q, qq, probed, np, p->s.all_dist,
                                           ruv__topk_threshold(p->gate), p->s.pending);
    int rc = RUV_OK;
    while (!rc && npending > 0 && !(p->s.pending[0].lb > ruv__topk_threshold(p->gate)))
        rc = ruv__rq_scan(p, ruv__rq_pending_pop(p->s.pending, &npending));
    return rc;
}

int ruv__rq_search(const struct ruv_index *idx, const float *q, const ruv_search_params *sp,
                     const uint8_t *allow, struct ruv__topk *out, void *mem)
{
    if (exact_scan(idx))
        return ruv__flat_vt.search(idx, q, sp, allow, out, mem);
    const struct rq *r = idx->impl;
    const int plus = idx->p.type == RUV_INDEX_RABITQ_PLUS;
    struct ruv__rq_pass p = {.idx = idx, .r = r, .allow = allow};
    ruv__rq_scratch_layout(idx, sp, mem, &p.s);
    ruv__rq_prepare(&p, q);

    uint32_t np = ruv__rq_nprobe(idx, sp);
    const int adapt = ruv__rq_adaptive(idx, sp);
    p.screened = adapt;
    float qq = 0.0f;
    if (r->nlist > 1)
        ruv__probe_nearest_all(idx->k, &r->probe, q, p.s.qwork, np, p.s.probe, p.s.probe_dist,
                               adapt ? p.s.all_dist : NULL, adapt ? &qq : NULL);
    else
        p.s.probe[0] = 0;

    struct ruv__topk ub; /* PLUS: k smallest upper bounds, the pruning threshold */
    ruv__topk_init(&ub, sp->k, p.s.ubh, p.s.ubr);
    struct ruv__rq_cands cs = {0};
    p.gate = plus ? &ub : out;
    p.cs = &cs;
    int rc = RUV_OK;
    for (uint32_t pi = 0; pi < np && !rc; pi++)
        rc = ruv__rq_scan(&p, p.s.probe[pi]);
    if (!rc && adapt) {
        rc = ruv__rq_probe_on(&p, q, qq, p.s.probe, np);
    } else if (!rc) {
        /* Completeness: nprobe lists that are empty or short (duplicates,
         * more lists than distinct vectors, a narrow allow-list) must not
         * leave fewer than k results while rows remain: probe on in
         * order of distance until k rows have been seen or every list. */
        for (uint32_t pi = np; !rc && p.seen < sp->k && pi < r->nlist; pi++) {
            if (pi == np) /* the first np entries stay as they were: ties go by id */
                ruv__probe_nearest(idx->k, &r->probe, q, p.s.qwork, r->nlist, p.s.probe,
                                   p.s.probe_dist);
            rc = ruv__rq_scan(&p, p.s.probe[pi]);
        }
    }
    if (plus && !rc)
        ruv__rq_rerank(idx, q, sp, &ub, &cs, out, NULL);
    free(cs.v);
    return rc;
}

/* Bytes one list entry takes: row number, FastScan lanes, three factors,
 * and for multi-bit codes the ex code and its three factors. */
static size_t entry_bytes(const struct ruv_index *idx, const struct rq *r)
{
    size_t per = sizeof(uint32_t) + r->block_bytes / 32 + 3 * sizeof(float);
    if (idx->p.bits > 1)
        per += ruv__rq_ucode_bytes(r, &idx->p) + 3 * sizeof(float);
    return per;
}

uint64_t ruv__rq_estimate(const struct ruv_index *idx, uint64_t n)
{
    const struct rq *r = idx->impl;
    const uint64_t dim = idx->p.dim, nlist = r->nlist;
    uint64_t b = sizeof *r + r->rot.rounds * (r->dim_pad / 64) * sizeof(uint64_t) +
                 nlist * (dim + r->dim_pad + 1) * sizeof(float) + nlist * sizeof(struct rq_list);
    if (nlist > 1) /* the probe's binary16 centroids, norms and mean */
        b += nlist * (dim * sizeof(uint16_t) + sizeof(float)) + dim * sizeof(float);
    if (r->metric == RUV__RABITQ_L2 && n)
        b += dim * sizeof(float); /* the frame origin */
    /* each list is sized exactly at build, then rounded up to whole blocks
     * of 32 entries: at most 31 spare entries a non-empty list */
    uint64_t entries = n ? n + 31 * (n < nlist ? n : nlist) : 0;
    return b + entries * entry_bytes(idx, r);
}

size_t ruv__rq_memory(const struct ruv_index *idx)
{
    const struct rq *r = idx->impl;
    size_t b = sizeof *r + r->rot.rounds * (r->dim_pad / 64) * sizeof(uint64_t) +
               (size_t)r->nlist * (idx->p.dim + r->dim_pad + 1) * sizeof(float) +
               r->row_cap * 2 * sizeof(uint32_t) + r->nlist * sizeof(struct rq_list) +
               ruv__probe_bytes(&r->probe) + (r->origin ? idx->p.dim * sizeof(float) : 0);
    size_t per = entry_bytes(idx, r);
    for (uint32_t i = 0; i < r->nlist; i++)
        b += r->lists[i].cap * per;
    return b;
}
