/* The plan: what a build chooses when the caller leaves bits and nlist to
 * it (RUV_INDEX_AUTO) and gives a recall target instead, how a search turns
 * a per-call recall into a probe count, and the PLAN section that carries
 * the calibration in the file. The rules' measurements are in
 * docs/indexes.md ("Defaults: a recall target"). */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <ruvector/error.h>
#include <ruvector/index.h>

#include "base/error.h"
#include "index/common.h"
#include "store/persist.h"

/* Small indexes must never lose to a flat scan. rabitq_plus keeps the
 * originals: while they fit in 1 MiB (a core's L2 cache) it scans them
 * exactly, in tens of microseconds; past that, IVF with a calibrated nprobe
 * was 2-5x faster than the flat scan from n = 2,000 on (docs/indexes.md).
 * Codes-only types scan every code below PLAN_IVF_MIN_N. */
#define PLAN_EXACT_MAX_BYTES (1u << 20)
#define PLAN_IVF_MIN_N 20000u
#define PLAN_IVF_MIN_N_PLUS 1000u /* fewer, in any dimension: an exact scan */

static int plan_exact(uint32_t dim, uint64_t n)
{
    return n < PLAN_IVF_MIN_N_PLUS || n * dim * sizeof(float) <= PLAN_EXACT_MAX_BYTES;
}
/* PLAN payload version (independent of the container's). Version 2 adds
 * the lower confidence bounds (calibrate.c's CAL_Z): the chosen nprobe's
 * and one per curve point. A plan without them (a version 1 file, loaded)
 * is written as version 1 again, byte for byte. */
#define PLAN_VERSION_MEANS 1u
#define PLAN_VERSION 2u

static uint32_t plan_bits(uint32_t type)
{
    /* rabitq_plus: 4-bit bounds leave ~30x fewer candidates than 1-bit ones
     * for the exact re-rank (docs/indexes.md); codes-only types answer from
     * the codes, which need 8 bits to come near recall@10 0.95. */
    return type == RUV_INDEX_RABITQ_PLUS ? 4u : 8u;
}

static uint32_t plan_nlist(uint32_t type, uint64_t n)
{
    if (n < (type == RUV_INDEX_RABITQ_PLUS ? PLAN_IVF_MIN_N_PLUS : PLAN_IVF_MIN_N))
        return 0;
    /* About sqrt(n) lists: k-means and the probe cost O(nlist) per query,
     * the scan O(n / nlist * nprobe); the sum is flat around sqrt(n). */
    double s = floor(sqrt((double)n) + 0.5);
    return (uint32_t)(s > 65536.0 ? 65536.0 : s);
}

/* The k-means sample when the plan chose nlist and the caller left
 * train_size at 0: 64 rows per list (at least 4,096 rows), where the
 * engine's own default takes 256 per list up to 65,536 rows. k-means was
 * about half of a planned build's CPU time on the 100k demo set (nlist
 * 316: 65,536 rows x 316 centroids x 10 iterations); at 64 per list
 * (20,224 rows) the build took a third less CPU (2.7 -> 1.8 s), with the
 * same calibrated nprobe and recall@10 (docs/indexes.md, "Build time of
 * the plan"): calibration and adaptive probing absorb the slightly
 * coarser lists. FAISS warns only below 39 rows per centroid. An explicit
 * train_size, or an explicit nlist, keeps the engine's rule. */
#define PLAN_TRAIN_PER_LIST 64u
#define PLAN_TRAIN_MIN 4096u
/* From PLAN_TRAIN_HIGH_D dimensions on, 40 rows per list (just above
 * FAISS's 39; the floor above still applies). On embed-ip-d1024-10k
 * (nlist 100: 6,400 -> 4,096 rows) Lloyd's GEMM was the largest part of
 * the build, the only issue set whose build missed 1/10 of hnswlib's;
 * the smaller sample cut the build's CPU time by ~20 % with the same
 * calibrated nprobe and recall in/OOD within noise over seven index
 * seeds (docs/indexes.md, "Build time of the plan"). Below 512
 * dimensions it was not measured, so the 64 stays. */
#define PLAN_TRAIN_HIGH_D 512u
#define PLAN_TRAIN_PER_LIST_HIGH_D 40u

/* Lloyd iterations when kmeans_iters is 0: the engine's 10, and 4 when the
 * plan chose a RabitqPlus index's nlist from PLAN_TRAIN_HIGH_D dimensions
 * on (the codes-only types, which answer from their codes, were not
 * measured and keep 10). There Lloyd's GEMM was still the largest part of
 * the build, and embed-ip-d1024-10k's build the only issue set over 1/10
 * of hnswlib's on a Zen 4 machine (0.13). 4 against 10 iterations (docs/
 * indexes.md, "Build time of the plan"): over seven index seeds of that
 * set, recall@10 in 0.969-0.984 against 0.960-0.985 and OOD 0.950-0.966
 * against 0.943-0.965; on four more generated shapes from D = 512 to
 * 1,024, two seeds each, in -0.006..+0.001, OOD -0.000..+0.006; QPS within
 * +-4 %, build CPU -8..-22 % (clustered data converged early either way). */
#define PLAN_KMEANS_ITERS 10u
#define PLAN_KMEANS_ITERS_HIGH_D 4u

static uint32_t plan_train_size(uint32_t nlist, uint64_t n, uint32_t dim)
{
    const uint64_t per = dim >= PLAN_TRAIN_HIGH_D ? PLAN_TRAIN_PER_LIST_HIGH_D
                                                  : PLAN_TRAIN_PER_LIST;
    uint64_t s = per * nlist;
    if (s < PLAN_TRAIN_MIN)
        s = PLAN_TRAIN_MIN;
    if (s > n)
        s = n;
    return s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

int ruv__plan_resolve(const ruv_index_params *in, uint64_t n, int may_grow,
                      ruv_index_params *out)
{
    if (!in)
        return ruv__set_error(RUV_E_INVAL, "index parameters are NULL");
    if (in->struct_size < offsetof(ruv_index_params, target_recall))
        return ruv__set_error(RUV_E_INVAL,
                              "index parameters struct_size %u: call ruv_index_params_init",
                              in->struct_size);
    if (in->struct_size < sizeof(ruv_index_params)) {
        /* a caller built with an older header: its fields, zeros for the
         * rest (before plans: no plan) */
        memset(out, 0, sizeof *out);
        memcpy(out, in, in->struct_size);
    } else {
        *out = *in;
    }
    out->struct_size = sizeof *out;
    out->calibrated_recall = 0.0f;
    out->calibrated_lower = 0.0f;
    out->calibration_queries = 0;
    out->planned = 0;
    in = out; /* the full struct from here on */
    if (!(in->target_recall >= 0.0f && in->target_recall <= 1.0f))
        return ruv__set_error(RUV_E_INVAL, "target_recall must be in 0..1 (0 = no plan), got %g",
                              (double)in->target_recall);
    const int plan = in->type != RUV_INDEX_FLAT_F32 && in->target_recall > 0.0f;
    if (!plan)
        out->target_recall = 0.0f;
    const int exact = plan && in->type == RUV_INDEX_RABITQ_PLUS &&
                      in->nlist == RUV_INDEX_AUTO && !may_grow && plan_exact(in->dim, n);
    if (out->bits == RUV_INDEX_AUTO) {
        /* an exact scan never reads the codes: the cheapest ones */
        out->bits = plan ? (exact ? 1u : plan_bits(in->type)) : 1u;
        out->planned |= plan ? RUV_PLANNED_BITS : 0u;
    }
    if (out->nlist == RUV_INDEX_AUTO) {
        out->nlist = plan && !exact ? plan_nlist(in->type, n) : 0u;
        out->planned |= plan ? RUV_PLANNED_NLIST : 0u;
        out->planned |= exact ? RUV_PLANNED_EXACT : 0u;
        /* nlist 1 trains nothing (one mean); 0 (n unknown yet, may_grow)
         * leaves the sample to the engine's rule at train time */
        if (plan && out->nlist > 1 && out->train_size == 0 && n > 0)
            out->train_size = plan_train_size(out->nlist, n, in->dim);
    }
    if (out->kmeans_iters == 0)
        out->kmeans_iters = plan && in->type == RUV_INDEX_RABITQ_PLUS &&
                                    (out->planned & RUV_PLANNED_NLIST) &&
                                    in->dim >= PLAN_TRAIN_HIGH_D
                                ? PLAN_KMEANS_ITERS_HIGH_D
                                : PLAN_KMEANS_ITERS;
    return RUV_OK;
}

uint32_t ruv__plan_nprobe(const struct ruv_index *idx, const ruv_search_params *sp)
{
    const struct ruv__plan_curve *c = &idx->curve;
    const uint32_t dflt = idx->p.nprobe;
    if (!(sp->recall > 0.0f) || c->n == 0)
        return dflt;
    /* The bound, as the default nprobe was chosen: the mean of 200 rows
     * crosses R about as often as not at an nprobe whose recall is just
     * under R. A plan from before the bounds reads the means, as it did. */
    const float *compared = c->bounded ? c->lower : c->recall;
    uint32_t np = c->nprobe[c->n - 1];
    for (uint32_t i = 0; i < c->n; i++)
        if (compared[i] >= sp->recall) {
            np = c->nprobe[i];
            break;
        }
    if (compared[c->n - 1] < sp->recall)
        np = idx->p.nlist; /* more than was ever measured: every list */
    /* Keep the answer monotone in recall around the default, which the
     * calibration refined between curve points. */
    if (dflt && sp->recall <= idx->p.target_recall)
        return np < dflt ? np : dflt;
    return np > dflt ? np : dflt;
}

/* ---- the PLAN section ----
 * u32 version, f32 target_recall, u32 nprobe, f32 calibrated_recall,
 * u32 calibration_queries, u32 planned, [version 2: f32 calibrated_lower,]
 * u32 points, then per point u32 nprobe, f32 recall [, version 2: f32
 * lower bound]. */

int ruv__plan_save(const struct ruv_index *idx, struct ruv__writer *w)
{
    /* Without a plan the file is laid out as before plans (version 2) */
    if (idx->p.type == RUV_INDEX_FLAT_F32 || (idx->p.target_recall <= 0.0f && !idx->p.nprobe))
        return RUV_OK;
    unsigned char buf[32 + RUV__PLAN_POINTS * 12], *q = buf;
    const ruv_index_params *p = &idx->p;
    const int bounded = idx->curve.bounded;
    q = ruv__put_u32(q, bounded ? PLAN_VERSION : PLAN_VERSION_MEANS);
    q = ruv__put_f32(q, p->target_recall);
    q = ruv__put_u32(q, p->nprobe);
    q = ruv__put_f32(q, p->calibrated_recall);
    q = ruv__put_u32(q, p->calibration_queries);
    q = ruv__put_u32(q, p->planned);
    if (bounded)
        q = ruv__put_f32(q, p->calibrated_lower);
    q = ruv__put_u32(q, idx->curve.n);
    for (uint32_t i = 0; i < idx->curve.n; i++) {
        q = ruv__put_u32(q, idx->curve.nprobe[i]);
        q = ruv__put_f32(q, idx->curve.recall[i]);
        if (bounded)
            q = ruv__put_f32(q, idx->curve.lower[i]);
    }
    return ruv__writer_section(w, "PLAN", buf, (size_t)(q - buf));
}

static int bad_plan(const char *what) { return ruv__set_error(RUV_E_CORRUPT, "PLAN: %s", what); }

static int unit(float v) { return v >= 0.0f && v <= 1.0f; }

int ruv__plan_load(struct ruv_index *idx, const struct ruv__reader *rd)
{
    ruv_index_params *p = &idx->p;
    memset(&idx->curve, 0, sizeof idx->curve);
    p->nprobe = 0;
    p->calibrated_recall = 0.0f;
    p->calibrated_lower = 0.0f;
    p->calibration_queries = 0;
    p->planned = 0;
    if (!ruv__reader_has(rd, "PLAN")) { /* a file from before plans: as it was */
        p->target_recall = 0.0f;
        return RUV_OK;
    }
    if (p->type == RUV_INDEX_FLAT_F32)
        return bad_plan("section in a flat_f32 index");
    struct ruv__cursor c;
    uint32_t version, nprobe, queries, planned, points;
    float target, calibrated, lower = 0.0f;
    int rc = ruv__reader_cursor(rd, "PLAN", &c);
    if (!rc && !(rc = ruv__get_u32(&c, &version)) && version != PLAN_VERSION &&
        version != PLAN_VERSION_MEANS)
        return ruv__set_error(RUV_E_CORRUPT, "PLAN version %u is not %u or %u", version,
                              PLAN_VERSION_MEANS, PLAN_VERSION);
    const int bounded = version == PLAN_VERSION;
    if (rc || (rc = ruv__get_f32(&c, &target)) || (rc = ruv__get_u32(&c, &nprobe)) ||
        (rc = ruv__get_f32(&c, &calibrated)) || (rc = ruv__get_u32(&c, &queries)) ||
        (rc = ruv__get_u32(&c, &planned)) || (bounded && (rc = ruv__get_f32(&c, &lower))) ||
        (rc = ruv__get_u32(&c, &points)))
        return rc;
    const uint32_t nlist = p->nlist ? p->nlist : 1;
    if (!unit(target) || !unit(calibrated) || !unit(lower))
        return bad_plan("a recall outside 0..1");
    if (lower > calibrated)
        return bad_plan("a lower bound above its recall");
    if (nprobe > nlist || planned & ~15u || points > RUV__PLAN_POINTS)
        return bad_plan("nprobe, flags or point count out of range");
    if (target == 0.0f && nprobe == 0) /* ruv__plan_save writes none then */
        return bad_plan("neither a target nor an nprobe: nothing to plan");
    uint32_t prev = 0;
    float prev_recall = 0.0f, prev_lower = 0.0f;
    for (uint32_t i = 0; i < points; i++) {
        uint32_t np;
        float r, lb = 0.0f;
        if ((rc = ruv__get_u32(&c, &np)) || (rc = ruv__get_f32(&c, &r)) ||
            (bounded && (rc = ruv__get_f32(&c, &lb))))
            return rc;
        if (np <= prev || np > nlist || !unit(r) || r < prev_recall)
            return bad_plan("curve points must rise in nprobe (1..nlist) and recall (0..1)");
        if (!unit(lb) || lb < prev_lower || lb > r)
            return bad_plan("curve bounds must be non-decreasing, in 0..1 and at most the "
                            "point's recall");
        idx->curve.nprobe[i] = prev = np;
        idx->curve.recall[i] = prev_recall = r;
        idx->curve.lower[i] = prev_lower = lb;
    }
    if ((rc = ruv__cursor_end(&c)))
        return rc;
    idx->curve.n = points;
    idx->curve.bounded = bounded;
    p->target_recall = target;
    p->nprobe = nprobe;
    p->calibrated_recall = calibrated;
    p->calibrated_lower = lower;
    p->calibration_queries = queries;
    p->planned = planned;
    return RUV_OK;
}

/* ---- describing it ---- */

static size_t add(char *buf, size_t len, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static size_t add(char *buf, size_t len, size_t at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(at < len ? buf + at : NULL, at < len ? len - at : 0, fmt, ap);
    va_end(ap);
    return at + (w > 0 ? (size_t)w : 0);
}

/* rq_search.c's nprobe when neither the call nor the build gave one. */
static uint32_t fixed_rule(uint32_t nlist)
{
    return nlist <= 16 ? nlist : (nlist / 16 > 1 ? nlist / 16 : 1);
}

static int probing_of(const ruv_index *idx, struct ruv__probing *pr);

/* "; probing adaptive (...)" after the plan: the one-line summary of
 * ruv_index_describe_probing. */
static size_t add_probing_short(const ruv_index *idx, char *buf, size_t len, size_t at)
{
    struct ruv__probing pr;
    if (!probing_of(idx, &pr))
        return at;
    if (!pr.adaptive)
        return add(buf, len, at, "; probing fixed (%s)",
                   pr.radii ? "no recall target" : "no list radii in the file");
    return add(buf, len, at, "; probing adaptive (from nprobe %u, on while a list's radius "
               "bound, reach %.2f, can beat the k-th candidate)",
               idx->p.nprobe ? idx->p.nprobe : fixed_rule(idx->p.nlist),
               (double)pr.reach);
}

/* Both describers: an empty string in a caller's buffer, and no room
 * at all without one (they then only count). */
static size_t start_text(char *buf, size_t len)
{
    if (buf && len)
        buf[0] = '\0';
    return buf ? len : 0;
}

size_t ruv_index_describe_plan(const ruv_index *idx, char *buf, size_t len)
{
    len = start_text(buf, len);
    if (!idx)
        return add(buf, len, 0, "(no index)");
    const ruv_index_params *p = &idx->p;
    if (p->type == RUV_INDEX_FLAT_F32)
        return add(buf, len, 0, "exact scan of the float vectors (nothing to plan)");
    size_t at = 0;
    if (p->planned & RUV_PLANNED_EXACT)
        return add(buf, len, 0, "exact scan of the original vectors (planned: they fit in "
                   "1 MiB, or n < %u; recall 1 by construction)", PLAN_IVF_MIN_N_PLUS);
    const char *how = p->planned & RUV_PLANNED_NLIST ? "planned" : "not planned";
    if (p->nlist <= 1)
        at = add(buf, len, at, "exhaustive scan of the codes (%s%s)", how,
                 p->planned & RUV_PLANNED_NLIST ? ": n < 20000" : "");
    else
        at = add(buf, len, at, "IVF nlist %u (%s%s)", p->nlist, how,
                 p->planned & RUV_PLANNED_NLIST ? ": ~sqrt(n)" : "");
    at = add(buf, len, at, ", bits %u (%s)", p->bits,
             p->planned & RUV_PLANNED_BITS ? "planned" : "not planned");
    if (p->target_recall <= 0.0f)
        return add_probing_short(idx, buf, len,
                                 add(buf, len, at, ", no recall target (nprobe %s)",
                                     p->nprobe ? "given" : "by the fixed rule"));
    if (p->nlist > 1)
        at = add(buf, len, at, ", nprobe %u (%s)", p->nprobe,
                 p->planned & RUV_PLANNED_NPROBE ? "calibrated" : "given");
    if (!p->calibration_queries)
        return add_probing_short(idx, buf, len,
                                 add(buf, len, at, ", target recall@10 %.3g (not measured)",
                                     (double)p->target_recall));
    at = add(buf, len, at, ": recall@10 %.3f measured on %u of its own rows",
             (double)p->calibrated_recall, p->calibration_queries);
    /* what was compared with the target: the bound, or (a file from before
     * it) the mean */
    const float reached = idx->curve.bounded ? p->calibrated_lower : p->calibrated_recall;
    if (idx->curve.bounded)
        at = add(buf, len, at, " (95 %% lower bound %.3f)", (double)p->calibrated_lower);
    at = add(buf, len, at, ", target %.3g", (double)p->target_recall);
    if (reached < p->target_recall)
        at = add(buf, len, at, " NOT reached%s",
                 p->type == RUV_INDEX_RABITQ_PLUS
                     ? ""
                     : " (codes alone cannot: use rabitq_plus, or more bits)");
    return add_probing_short(idx, buf, len, at);
}

size_t ruv_index_calibration_curve(const ruv_index *idx, uint32_t *nprobe, float *recall,
                                   float *lower, size_t cap)
{
    if (!idx)
        return 0;
    const struct ruv__plan_curve *c = &idx->curve;
    for (size_t i = 0; i < c->n && i < cap; i++) {
        if (nprobe)
            nprobe[i] = c->nprobe[i];
        if (recall)
            recall[i] = c->recall[i];
        if (lower)
            lower[i] = c->bounded ? c->lower[i] : -1.0f;
    }
    return c->n;
}

static int probing_of(const ruv_index *idx, struct ruv__probing *pr)
{
    *pr = (struct ruv__probing){0};
    if (!idx->vt || !idx->vt->probing || idx->p.nlist <= 1 || idx->p.planned & RUV_PLANNED_EXACT)
        return 0;
    idx->vt->probing(idx, pr);
    return 1;
}

size_t ruv_index_describe_probing(const ruv_index *idx, char *buf, size_t len)
{
    len = start_text(buf, len);
    if (!idx)
        return add(buf, len, 0, "(no index)");
    const ruv_index_params *p = &idx->p;
    struct ruv__probing pr;
    if (!probing_of(idx, &pr)) {
        if (p->type == RUV_INDEX_FLAT_F32 || p->planned & RUV_PLANNED_EXACT)
            return add(buf, len, 0, "none: exact scan of every vector");
        return add(buf, len, 0, "none: one list, every code scanned");
    }
    if (!pr.adaptive)
        return add(buf, len, 0,
                   "fixed: nprobe %u of %u lists (%s), nearest centroids first; no probing "
                   "past them",
                   p->nprobe ? p->nprobe : fixed_rule(p->nlist),
                   p->nlist,
                   p->target_recall <= 0.0f ? (p->nprobe ? "given" : "the fixed rule nlist/16")
                   : "no list radii: a file from before adaptive probing");
    const int l2 = p->metric == RUV_METRIC_L2;
    return add(buf, len, 0,
               "adaptive: starts at the floor nprobe %u (%s) of %u lists, then probes the "
               "other lists in order of a lower bound on their distances, %s (R = the list's "
               "radius, the largest |x - c| of its rows; reach %.3f = %.2f sqrt(2 ln(n/nlist) / "
               "D)), and stops when no unprobed list's bound can beat the k-th candidate%s; an "
               "explicit nprobe turns it off",
               p->nprobe ? p->nprobe : fixed_rule(p->nlist),
               p->planned & RUV_PLANNED_NPROBE ? "calibrated" : (p->nprobe ? "given" : "nlist/16"),
               p->nlist,
               l2 ? "(|q - c| - reach R)^2" : "-<q, c> - |q| reach R", (double)pr.reach,
               (double)pr.reach_scale,
               p->type == RUV_INDEX_RABITQ_PLUS ? " (the k-th upper bound of the estimator)"
                                                 : " (the k-th estimate)");
}
