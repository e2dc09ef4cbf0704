/* Codes-only indexes (rabitq, rabitq_asym) answer from the codes alone, so
 * their recall is bounded by the code width: more bits, more recall, more
 * memory and a slower scan. Given a recall target, the caller wants the
 * narrowest code that reaches it. Each candidate width is built and
 * calibrated as any planned build (calibrate.c: 200 of its own rows as
 * queries, nprobe raised until the target or a plateau), so "reaches" means
 * the same thing as the plan's description says: the sample's 95 % lower
 * confidence bound reaches the target. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <ruvector/error.h>
#include <ruvector/index.h>

#include "base/error.h"
#include "index/common.h"

#define FEWEST_MAX_BITS 8u

static int build_at(ruv_engine *eng, const ruv_index_params *p, uint32_t bits, const float *data,
                    size_t n, const uint64_t *ids, ruv_index **out)
{
    ruv_index_params q = *p;
    q.bits = bits;
    return ruv_index_build(eng, &q, data, n, ids, out);
}

/* As the plan says it (ruv_index_describe_plan): the sample's one-sided
 * 95 % lower bound reaches the target, not only its mean. Where the
 * nprobe ladder stopped at a plateau below the target (bound short), the
 * mean there may still pass it by the sample's luck. */
static int reaches(const ruv_index *idx)
{
    return idx->p.calibrated_lower >= idx->p.target_recall;
}

int ruv_index_build_fewest_bits(ruv_engine *eng, const ruv_index_params *p, const float *data,
                                size_t n, const uint64_t *ids, ruv_index **out)
{
    if (!out)
        return ruv__set_error(RUV_E_INVAL, "ruv_index_build_fewest_bits: out is NULL");
    *out = NULL;
    if (!p)
        return ruv__set_error(RUV_E_INVAL, "index parameters are NULL");
    /* a caller built before calibrated_lower (an output) passes a shorter
     * struct: its fields, the rest zero */
    if (p->struct_size < offsetof(ruv_index_params, calibrated_lower))
        return ruv__set_error(RUV_E_INVAL,
                              "index parameters struct_size %u: call ruv_index_params_init",
                              p->struct_size);
    ruv_index_params full;
    memset(&full, 0, sizeof full);
    memcpy(&full, p, p->struct_size < sizeof full ? p->struct_size : sizeof full);
    full.struct_size = sizeof full;
    p = &full;
    if (p->type != RUV_INDEX_RABITQ && p->type != RUV_INDEX_RABITQ_ASYM)
        return ruv__set_error(RUV_E_INVAL,
                              "the fewest bits for a recall target apply to codes-only types "
                              "(rabitq, rabitq_asym), not %s",
                              ruv_index_type_name((int)p->type));
    if (!(p->target_recall > 0.0f && p->target_recall <= 1.0f))
        return ruv__set_error(RUV_E_INVAL, "the fewest bits need a target_recall in (0, 1], got %g",
                              (double)p->target_recall);
    if (p->bits != RUV_INDEX_AUTO)
        return ruv__set_error(RUV_E_INVAL,
                              "bits %u were given: leave bits to the search (RUV_INDEX_AUTO)",
                              p->bits);
    if (n < 2)
        return ruv__set_error(RUV_E_INVAL,
                              "the fewest bits are measured on the data: %zu vectors are too few",
                              n);
    /* The widest code first: when it cannot reach the target no narrower
     * one can (recall grows with the bits), and the caller learns so after
     * one build. Then bisect (lo fails, hi reaches): three more builds. */
    ruv_index *hi = NULL;
    int rc = build_at(eng, p, FEWEST_MAX_BITS, data, n, ids, &hi);
    if (rc)
        return rc;
    if (!reaches(hi)) {
        const ruv_index_params *h = &hi->p;
        rc = ruv__set_error(RUV_E_UNSUPPORTED,
                            "codes alone cannot reach recall@10 %.3g on this data: with %u bits, "
                            "the most a code has, calibration measured %.3f on %u of its own "
                            "rows, 95 %% lower bound %.3f (%s); use rabitq_plus (it re-ranks "
                            "with the original vectors) or a lower target",
                            (double)h->target_recall, h->bits, (double)h->calibrated_recall,
                            h->calibration_queries, (double)h->calibrated_lower,
                            h->nlist > 1 ? "at the nprobe where it stopped rising"
                                         : "every code scanned");
        ruv_index_free(hi);
        return rc;
    }
    uint32_t lo_bits = 0, hi_bits = FEWEST_MAX_BITS;
    while (hi_bits - lo_bits > 1) {
        const uint32_t mid = lo_bits + (hi_bits - lo_bits) / 2;
        ruv_index *m = NULL;
        rc = build_at(eng, p, mid, data, n, ids, &m);
        if (rc) {
            ruv_index_free(hi);
            return rc;
        }
        if (reaches(m)) {
            ruv_index_free(hi);
            hi = m;
            hi_bits = mid;
        } else {
            ruv_index_free(m);
            lo_bits = mid;
        }
    }
    hi->p.planned |= RUV_PLANNED_BITS;
    *out = hi;
    return RUV_OK;
}
