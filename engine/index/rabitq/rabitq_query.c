/* RaBitQ at search time: query preparation (bit planes, FastScan and byte
 * LUTs), <b, q> from the kernels' results, and the estimators with their
 * bounds. The math is in rabitq.h. */
#include <math.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <ruvector/error.h>
#include <ruvector/kernel.h>

#include "index/rabitq/rabitq.h"

/* ------------------------------------------------------ query preparation */

void ruv__rabitq_query_centroid(const struct ruv_kernel_ops *k, const float *q, const float *c,
                                size_t dim, enum ruv__rabitq_metric metric,
                                struct ruv__rabitq_query *qc)
{
    float d2 = c ? k->l2sq_f32(q, c, dim) : k->dot_f32(q, q, dim);
    qc->g_error = sqrtf(d2);
    if (metric == RUV__RABITQ_IP)
        qc->g_add = c ? -k->dot_f32(q, c, dim) : 0.0f;
    else
        qc->g_add = d2;
}

void ruv__rabitq_query_init(const struct ruv_kernel_ops *k, const float *q, const float *c,
                            size_t dim, enum ruv__rabitq_metric metric, struct ruv__rabitq_query *qc)
{
    double s = 0.0;
    for (size_t i = 0; i < dim; i++)
        s += q[i];
    qc->sum_q = (float)s;
    ruv__rabitq_query_centroid(k, q, c, dim, metric, qc);
}

int ruv__rabitq_query_bitplanes(const float *q, size_t dim, unsigned nplanes, uint64_t *planes,
                                struct ruv__rabitq_qbits *qb)
{
    if (nplanes < 1 || nplanes > RUV__RABITQ_MAX_QBITS || dim == 0)
        return RUV_E_INVAL;
    const uint32_t levels = (1u << nplanes) - 1u;
    if ((uint64_t)levels * dim > UINT32_MAX)
        return RUV_E_INVAL;
    const size_t words = ruv__rabitq_words(dim);
    float lo = q[0], hi = q[0];
    for (size_t i = 1; i < dim; i++) {
        lo = q[i] < lo ? q[i] : lo;
        hi = q[i] > hi ? q[i] : hi;
    }
    const float delta = (hi - lo) / (float)levels;
    const float inv = delta > 0.0f ? 1.0f / delta : 0.0f;
    memset(planes, 0, (size_t)nplanes * words * sizeof(*planes));
    for (size_t i = 0; i < dim; i++) {
        float v = floorf((q[i] - lo) * inv + 0.5f);
        uint32_t u = v <= 0.0f ? 0u : v >= (float)levels ? levels : (uint32_t)v;
        for (unsigned j = 0; j < nplanes; j++)
            planes[(size_t)j * words + i / 64] |= (uint64_t)((u >> j) & 1u) << (i % 64);
    }
    qb->delta = delta;
    qb->vl = lo;
    qb->nplanes = nplanes;
    return RUV_OK;
}

/* Why an int16 query, and why its error is bounded, not estimated.
 * With e_i = q_i - scale qi_i, D = sum_i u_i qi_i (exact, the kernel's)
 * and c = (2^B - 1) / 2, E = sum_i e_i:
 *   <u, q> = scale D + c E + sum_i (u_i - c) e_i,   |u_i - c| <= c,
 * so ip = scale D + c E is within c sum_i |e_i| of <u, q> for every code.
 * Rounding to nearest keeps |e_i| <= scale / 2; the sum uses the actual
 * e_i (exact in double: q_i and scale qi_i share an exponent range of 40
 * bits), so clamping and a scale that rounded are accounted for too. ip is
 * computed in double and rounded once to float: half an ulp of
 * |ip| <= (2^B - 1) sum_i |q_i| + that bound; err adds 2^-23 of it (twice
 * the half ulp, which also covers the double arithmetic). At D = 384,
 * B = 4 and a unit query err is 0.003-0.005, where |<u - c, q>| reaches
 * ~90: it widens the estimator's own bound by < 1 % (tests/test_rabitq_int.c),
 * so search results hardly move (docs/indexes.md). int8 (pmaddubsw) would
 * make the same bound ~250x wider: no longer small next to the
 * estimator's. */
#define QINT_MAX 32767

void ruv__rabitq_query_int16(const float *q, size_t dim, unsigned bits, int16_t *qi,
                             struct ruv__rabitq_qint *qz)
{
    float m = 0.0f;
    for (size_t i = 0; i < dim; i++)
        m = fabsf(q[i]) > m ? fabsf(q[i]) : m;
    const float scale = (float)((double)m / QINT_MAX);
    const double inv = scale > 0.0f ? 1.0 / (double)scale : 0.0;
    double e_sum = 0.0, e_abs = 0.0, q_abs = 0.0;
    /* adding and taking away 1.5 * 2^52 rounds |v| < 2^51 to the nearest
     * integer (ties to even) in double arithmetic: no libm call per
     * coordinate, as nearbyint is without SSE4.1 */
    const double round = 0x1.8p52;
    for (size_t i = 0; i < dim; i++) {
        double v = (double)q[i] * inv;
        v = v > QINT_MAX ? QINT_MAX : v < -QINT_MAX ? -QINT_MAX : v;
        v = (v + round) - round;
        qi[i] = (int16_t)v;
        const double e = (double)q[i] - (double)scale * v;
        e_sum += e;
        e_abs += fabs(e);
        q_abs += fabs((double)q[i]);
    }
    const double umax = (double)((1u << (bits < 1 ? 1 : bits > 8 ? 8 : bits)) - 1u);
    const double bound = 0.5 * umax * e_abs;
    const double err = bound + 0x1p-23 * (umax * q_abs + bound);
    qz->scale = scale;
    qz->shift = 0.5 * umax * e_sum;
    qz->err = (float)(err * (1.0 + 0x1p-20)); /* rounded to float, never below */
}

static float qcoord(const float *q, size_t dim, size_t i)
{
    return i < dim ? q[i] : 0.0f;
}

/* One table: the 16 subset sums of c[0..3], each the sum in increasing bit
 * order (a missing term adds +0, which changes no sum), less neg, quantised.
 * The scalar form is the reference the SSE2 form must match byte for byte. */
static void lut_table_scalar(const float c[4], float neg, float inv, float top, uint8_t *out)
{
    for (unsigned v = 0; v < 16; v++) {
        float s = (v & 1u ? c[0] : 0.0f);
        s += (v & 2u ? c[1] : 0.0f);
        s += (v & 4u ? c[2] : 0.0f);
        s += (v & 8u ? c[3] : 0.0f);
        float x = (s - neg) * inv + 0.5f;
        x = x < top ? x : top; /* truncating x rounds to nearest: s - neg >= 0 */
        out[v] = (uint8_t)(x > 0.0f ? (unsigned)x : 0u);
    }
}

#if defined(__SSE2__)
/* The same 16 entries four at a time: the selects are bit masks (exact),
 * the arithmetic the scalar form's in the same order, and the float ->
 * int truncation of a value in [0, top] the same. This table is built per
 * query: at D = 1,024 its 4,096 entries were a quarter of a search's CPU
 * time in scalar code (float -> unsigned conversions). */
static void lut_table_sse2(const float c[4], float neg, float inv, float top, uint8_t *out)
{
    static const uint32_t sel[4][16] = {
        {0, ~0u, 0, ~0u, 0, ~0u, 0, ~0u, 0, ~0u, 0, ~0u, 0, ~0u, 0, ~0u},
        {0, 0, ~0u, ~0u, 0, 0, ~0u, ~0u, 0, 0, ~0u, ~0u, 0, 0, ~0u, ~0u},
        {0, 0, 0, 0, ~0u, ~0u, ~0u, ~0u, 0, 0, 0, 0, ~0u, ~0u, ~0u, ~0u},
        {0, 0, 0, 0, 0, 0, 0, 0, ~0u, ~0u, ~0u, ~0u, ~0u, ~0u, ~0u, ~0u},
    };
    const __m128 c0 = _mm_set1_ps(c[0]), c1 = _mm_set1_ps(c[1]), c2 = _mm_set1_ps(c[2]),
                 c3 = _mm_set1_ps(c[3]);
    const __m128 vneg = _mm_set1_ps(neg), vinv = _mm_set1_ps(inv), half = _mm_set1_ps(0.5f),
                 vtop = _mm_set1_ps(top), zero = _mm_setzero_ps();
    __m128i q[4];
    for (unsigned j = 0; j < 4; j++) {
        __m128 m0 = _mm_castsi128_ps(_mm_loadu_si128((const __m128i *)(sel[0] + 4 * j)));
        __m128 m1 = _mm_castsi128_ps(_mm_loadu_si128((const __m128i *)(sel[1] + 4 * j)));
        __m128 m2 = _mm_castsi128_ps(_mm_loadu_si128((const __m128i *)(sel[2] + 4 * j)));
        __m128 m3 = _mm_castsi128_ps(_mm_loadu_si128((const __m128i *)(sel[3] + 4 * j)));
        __m128 s = _mm_and_ps(m0, c0);
        s = _mm_add_ps(s, _mm_and_ps(m1, c1));
        s = _mm_add_ps(s, _mm_and_ps(m2, c2));
        s = _mm_add_ps(s, _mm_and_ps(m3, c3));
        __m128 x = _mm_add_ps(_mm_mul_ps(_mm_sub_ps(s, vneg), vinv), half);
        x = _mm_max_ps(_mm_min_ps(x, vtop), zero);
        q[j] = _mm_cvttps_epi32(x);
    }
    __m128i w = _mm_packus_epi16(_mm_packs_epi32(q[0], q[1]), _mm_packs_epi32(q[2], q[3]));
    _mm_storeu_si128((__m128i *)out, w);
}
#endif

void ruv__rabitq_fastscan_lut_ref(const float *q, size_t dim, unsigned bits, uint8_t *lut,
                                  struct ruv__rabitq_lutq *lq, int portable)
{
    const float levels = (float)((1u << (bits < 1 ? 1 : bits > 8 ? 8 : bits)) - 1u);
    const size_t nsub = ruv__rabitq_nsub(dim);
    /* A table's subset sums span exactly [sum of negatives, sum of positives],
     * so the global step is known before any table is built. */
    float range = 0.0f;
    double offset = 0.0;
    for (size_t m = 0; m < nsub; m++) {
        float neg = 0.0f, pos = 0.0f;
        /* selects, not branches: the signs are random, and a mispredicted
         * branch per coordinate was most of this function's time (the
         * compiler keeps a branch in the scalar form) */
        float nv[4], pv[4];
#if defined(__SSE2__)
        if (!portable && 4 * m + 4 <= dim) {
            const __m128 x = _mm_loadu_ps(q + 4 * m), zero = _mm_setzero_ps();
            _mm_storeu_ps(nv, _mm_min_ps(x, zero)); /* x < 0 ? x : 0 */
            _mm_storeu_ps(pv, _mm_max_ps(x, zero)); /* x > 0 ? x : 0 */
        } else
#endif
        {
            for (unsigned t = 0; t < 4; t++) {
                float v = qcoord(q, dim, 4 * m + t);
                nv[t] = v < 0.0f ? v : 0.0f;
                pv[t] = v > 0.0f ? v : 0.0f;
            }
        }
        for (unsigned t = 0; t < 4; t++) {
            neg += nv[t];
            pos += pv[t];
        }
        range = pos - neg > range ? pos - neg : range;
        offset += neg;
    }
    const float delta = range / levels;
    const float inv = delta > 0.0f ? 1.0f / delta : 0.0f;
    for (size_t m = 0; m < nsub; m++) {
        float c[4], neg = 0.0f;
        for (unsigned t = 0; t < 4; t++) {
            c[t] = qcoord(q, dim, 4 * m + t);
            neg += c[t] < 0.0f ? c[t] : 0.0f;
        }
#if defined(__SSE2__)
        if (!portable) {
            lut_table_sse2(c, neg, inv, levels, lut + m * 16);
            continue;
        }
#endif
        lut_table_scalar(c, neg, inv, levels, lut + m * 16);
    }
    (void)portable;
    lq->delta = delta;
    lq->offset = (float)offset;
}

void ruv__rabitq_fastscan_lut(const float *q, size_t dim, unsigned bits, uint8_t *lut,
                              struct ruv__rabitq_lutq *lq)
{
    ruv__rabitq_fastscan_lut_ref(q, dim, bits, lut, lq, 0);
}

static unsigned nibble(const uint64_t *code, size_t m)
{
    return (unsigned)(code[(4 * m) / 64] >> ((4 * m) % 64)) & 0xfu;
}

void ruv__rabitq_fastscan_pack(const uint64_t *codes, size_t words, size_t n, size_t sub_begin,
                               size_t nsub, uint8_t *block)
{
    for (size_t m = 0; m < nsub; m++) {
        uint8_t *row = block + m * 16;
        for (size_t j = 0; j < 16; j++) {
            unsigned lo = j < n ? nibble(codes + j * words, sub_begin + m) : 0u;
            unsigned hi = j + 16 < n ? nibble(codes + (j + 16) * words, sub_begin + m) : 0u;
            row[j] = (uint8_t)(lo | (hi << 4));
        }
    }
}

float ruv__rabitq_masked_sum(const uint64_t *code, const float *q, size_t dim)
{
    float s = 0.0f;
    for (size_t i = 0; i < dim; i++)
        s += ((code[i / 64] >> (i % 64)) & 1u) ? q[i] : 0.0f;
    return s;
}

void ruv__rabitq_byte_lut(const float *q, size_t dim, float *lut)
{
    const size_t nbytes = (dim + 7) / 8;
    for (size_t p = 0; p < nbytes; p++) {
        /* by doubling: entries with bit t set are those without it plus
         * q[8p + t], so each step is one vectorisable pass */
        float *tab = lut + p * 256;
        tab[0] = 0.0f;
        for (unsigned t = 0; t < 8; t++) {
            const float qt = qcoord(q, dim, 8 * p + t);
            const unsigned half = 1u << t;
            for (unsigned v = 0; v < half; v++)
                tab[half + v] = tab[v] + qt;
        }
    }
}

float ruv__rabitq_ip_byte_lut(const float *lut, const uint64_t *code, size_t dim)
{
    const size_t nbytes = (dim + 7) / 8;
    /* four partial sums: one serial chain of dependent adds would cost the
     * add latency per byte; the summation order is fixed, so results do not
     * depend on the kernel or the machine */
#define BYTE_AT(p) (lut[(p) * 256 + ((code[(p) / 8] >> (8 * ((p) % 8))) & 0xffu)])
    float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
    size_t p = 0;
    for (; p + 4 <= nbytes; p += 4) {
        s0 += BYTE_AT(p);
        s1 += BYTE_AT(p + 1);
        s2 += BYTE_AT(p + 2);
        s3 += BYTE_AT(p + 3);
    }
    for (; p < nbytes; p++)
        s0 += BYTE_AT(p);
#undef BYTE_AT
    return (s0 + s1) + (s2 + s3);
}

/* ------------------------------------------------- kernel results -> <b,q> */

float ruv__rabitq_ip_bitplane(const struct ruv__rabitq_qbits *qb, uint32_t dot, uint32_t popcnt)
{
    /* <b, q> ~= delta * sum_j 2^j popcnt(b & plane_j) + vl * popcnt(b) (§2.2) */
    return qb->delta * (float)dot + qb->vl * (float)popcnt;
}

void ruv__rabitq_ip_bitplane_n(const struct ruv__rabitq_qbits *qb, const uint32_t *dot,
                               const uint32_t *popcnt, size_t n, float *ip)
{
    for (size_t i = 0; i < n; i++)
        ip[i] = qb->delta * (float)dot[i] + qb->vl * (float)popcnt[i];
}

float ruv__rabitq_ip_fastscan(const struct ruv__rabitq_lutq *lq, uint32_t acc)
{
    return lq->delta * (float)acc + lq->offset;
}

void ruv__rabitq_ip_fastscan_n(const struct ruv__rabitq_lutq *lq, const uint16_t *acc, size_t n,
                               float *ip)
{
    for (size_t i = 0; i < n; i++)
        ip[i] = lq->delta * (float)acc[i] + lq->offset;
}

/* ------------------------------------------------------------- estimators */

float ruv__rabitq_ip_code(float ip_bin, float ip_ex, unsigned bits)
{
    return (float)(1u << (bits - 1)) * ip_bin + ip_ex;
}

void ruv__rabitq_est_bounds(const struct ruv__rabitq_factors *f, const struct ruv__rabitq_query *qc,
                            float ip_code, unsigned bits, float *est, float *lb, float *ub)
{
    ruv__rabitq_est_bounds_err(f, qc, ip_code, 0.0f, bits, est, lb, ub);
}

void ruv__rabitq_est_n(const float *ip_code, size_t n, const float *f_add, const float *f_rescale,
                       const float *f_error, const struct ruv__rabitq_query *qc, unsigned bits,
                       float *est, float *lb)
{
    const float kb = ruv__rabitq_cb(bits) * qc->sum_q;
    const float g_add = qc->g_add, g_err = qc->g_error;
    for (size_t i = 0; i < n; i++)
        est[i] = f_add[i] + g_add + f_rescale[i] * (ip_code[i] + kb);
    if (lb)
        for (size_t i = 0; i < n; i++)
            lb[i] = est[i] - f_error[i] * g_err;
}

void ruv__rabitq_est_fastscan_n(const struct ruv__rabitq_lutq *lq, const uint16_t *acc, size_t n,
                                const float *f_add, const float *f_rescale, const float *f_error,
                                const struct ruv__rabitq_query *qc, float *est, float *lb)
{
    const float kb = ruv__rabitq_cb(1) * qc->sum_q;
    const float g_add = qc->g_add, g_err = qc->g_error, delta = lq->delta, off = lq->offset;
    size_t i = 0;
#if defined(__SSE2__)
    /* The scalar tail's operations in its order, four lanes at a time, with
     * no fused multiply-add: the same bits (the compiler vectorised neither
     * loop of the unfused form, and at 50k codes they were most of a 1-bit
     * search's CPU). */
    const __m128 vd = _mm_set1_ps(delta), vo = _mm_set1_ps(off), vkb = _mm_set1_ps(kb),
                 vga = _mm_set1_ps(g_add), vge = _mm_set1_ps(g_err);
    const __m128i zero = _mm_setzero_si128();
    for (; i + 8 <= n; i += 8) {
        const __m128i a = _mm_loadu_si128((const __m128i *)(acc + i));
        for (unsigned h = 0; h < 2; h++) {
            const size_t j = i + 4 * h;
            const __m128i a32 = h ? _mm_unpackhi_epi16(a, zero) : _mm_unpacklo_epi16(a, zero);
            const __m128 ip = _mm_add_ps(_mm_mul_ps(vd, _mm_cvtepi32_ps(a32)), vo);
            const __m128 e = _mm_add_ps(_mm_add_ps(_mm_loadu_ps(f_add + j), vga),
                                        _mm_mul_ps(_mm_loadu_ps(f_rescale + j), _mm_add_ps(ip, vkb)));
            _mm_storeu_ps(est + j, e);
            if (lb)
                _mm_storeu_ps(lb + j, _mm_sub_ps(e, _mm_mul_ps(_mm_loadu_ps(f_error + j), vge)));
        }
    }
#endif
    for (; i < n; i++) {
        const float ip = delta * (float)acc[i] + off;
        est[i] = f_add[i] + g_add + f_rescale[i] * (ip + kb);
        if (lb)
            lb[i] = est[i] - f_error[i] * g_err;
    }
}
