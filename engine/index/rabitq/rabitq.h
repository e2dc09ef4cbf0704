/* RaBitQ quantizer and estimators (rabitq.md §2.1-§2.5): metric-independent
 * math over plain arrays, shared by every RaBitQ index.
 *
 * Everything here works in the rotated space: o, c and q are rotated vectors
 * of length dim (normally ruv__rotation's dim_pad; any dim >= 1 works). Notation:
 *   r = o - c (residual), b = [r > 0] (the 1-bit code), ex = extra bits,
 *   u = (b << ex_bits) + ex_code (the unsigned B-bit code, B = 1 + ex_bits),
 *   c_B = -(2^B - 1) / 2, y = u + c_B (the unnormalised codeword; y_i has the
 *   sign of r_i and magnitude ex_i + 1/2).
 * The estimator (§2.1 "Library packing", generalised to B bits) is
 *   <r, q - c> ~= |r|^2 <y, q - c> / <y, r>,
 * which gives, per vector and per query,
 *   est = f_add + g_add + f_rescale * (<u, q> + c_B * sum_i q_i)
 *   lb  = est - f_error * g_error,  ub = est + f_error * g_error
 * with
 *   L2: f_rescale = -2 |r|^2 / <y,r>,  f_add = |r|^2 - f_rescale <y,c>,
 *       g_add = |q - c|^2                          (est of |o - q|^2)
 *   IP: f_rescale = -|r|^2 / <y,r>,    f_add = -<r,c> - f_rescale <y,c>,
 *       g_add = -<q,c>                             (est of -<o,q>)
 *   f_error = 2 |r| sqrt(1 - rho^2) / rho * eps0 / sqrt(dim - 1) (L2; half for IP),
 *   rho = <y,r> / (|y| |r|) = <o_bar, o>, g_error = |q - c|.
 * q is the raw rotated query: the centroid enters through f_add, so one
 * query preparation serves every IVF list (only g_add/g_error change). Pass
 * c = NULL for a zero centroid, e.g. to encode residuals against the origin.
 * For B > 1 the bound uses the multi-bit codeword's rho, which is the same
 * concentration argument as for 1 bit (the error is the component of o_bar
 * orthogonal to o, projected on a random direction).
 *
 * What eps0 buys: the error of <o, q^> is close to Gaussian with sd
 * sqrt(1 - rho^2) / rho * sqrt(1 - <o,q^>^2) / sqrt(dim - 1), so the bound is
 * about eps0 standard deviations. At eps0 = 1.9 about 94 % of random pairs
 * fall inside [lb, ub] (97 % have lb <= true); eps0 = 2.6 gives 99 %.
 * Error-bound rerank only loses a neighbour whose lb exceeds the k-th
 * distance, which is rarer still (tests/test_rabitq.c measures all three).
 * A quantised query (bit-planes, FastScan LUT) adds error the bound does
 * not model; at Bq = 4 coverage drops by about 2 points.
 *
 * Corner cases: a zero residual (o == c) gets f_rescale = f_error = 0 and
 * f_add = 0 (L2 and IP), so est = g_add = |q - c|^2 exactly. If <y,r> <= 0
 * or a factor is not finite (|r| so small it underflows), f_rescale = 0,
 * f_add = |r|^2 (L2) / -<r,c> (IP) and f_error = 2|r| (L2) / |r| (IP): the
 * Cauchy-Schwarz bound on the dropped term, so lb <= true <= ub still holds.
 *
 * Code layout: 1-bit codes are ruv__rabitq_words(dim) uint64 words, bit d is
 * bit d % 64 of word d / 64 (kernel.h), unused tail bits zero. Extended codes
 * are stored as one uint8 per dimension holding ex_code (already bit-flipped
 * for negative coordinates, so u = (b << ex_bits) + ex_code); a denser
 * packing can come later without changing the math.
 *
 * Nothing here allocates; callers pass scratch where one is needed.
 */
#ifndef RUV_ENGINE_RABITQ_H
#define RUV_ENGINE_RABITQ_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include <ruvector/kernel.h>

enum ruv__rabitq_metric {
    RUV__RABITQ_L2 = 0, /* estimates |o - q|^2 */
    RUV__RABITQ_IP = 1  /* estimates -<o, q> (callers add their own constant) */
};

#define RUV__RABITQ_EPS0 1.9f  /* the paper's "nearly perfect confidence" */
#define RUV__RABITQ_MAX_BITS 8u
#define RUV__RABITQ_MAX_QBITS 16u /* bitplane_dot_1xN accepts <= 16 planes */

/* Per-vector factors (store as SoA in an index). */
struct ruv__rabitq_factors {
    float f_add;
    float f_rescale;
    float f_error;
};

/* Per-query constants; g_add and g_error change per centroid (IVF). */
struct ruv__rabitq_query {
    float g_add;   /* L2: |q - c|^2; IP: -<q, c> */
    float g_error; /* |q - c| */
    float sum_q;   /* sum_i q_i (the rotated raw query) */
};

/* Bit-plane query: q_i ~= delta * qu_i + vl, qu_i in [0, 2^nplanes - 1]. */
struct ruv__rabitq_qbits {
    float delta;
    float vl;
    unsigned nplanes;
};

/* FastScan LUT dequantisation: sum of the float tables ~= delta * acc + offset. */
struct ruv__rabitq_lutq {
    float delta;
    float offset;
};

/* Integer query for the whole-code dot (kernel slot dot_u8_i16): q_i ~=
 * scale * qi_i, qi_i in [-32767, 32767], built once per search. For every
 * B-bit code u (0 <= u_i <= 2^B - 1),
 *   |<u, q> - ruv__rabitq_ip_int(qz, dot_u8_i16(u, qi))| <= err,
 * a deterministic bound, not a probable one (ruv__rabitq_query_int16). */
struct ruv__rabitq_qint {
    float scale;
    double shift; /* (2^B - 1) / 2 * sum_i (q_i - scale qi_i) */
    float err;
};

/* ---- sizes ---- */
size_t ruv__rabitq_words(size_t dim);          /* ceil(dim / 64) */
size_t ruv__rabitq_nsub(size_t dim);           /* FastScan sub-codes: ceil(dim / 4) */
size_t ruv__rabitq_ex_scratch_bytes(size_t dim); /* scratch for the ex encoder */
size_t ruv__rabitq_byte_lut_len(size_t dim);   /* floats in a byte LUT: 256 * ceil(dim / 8) */

/* c_B = -(2^bits - 1) / 2 */
static inline float ruv__rabitq_cb(unsigned bits)
{
    return -0.5f * (float)((1u << bits) - 1u);
}

/* ---- encoding ---- */
/* 1-bit code of o against c (c may be NULL = origin) and its factors. */
void ruv__rabitq_encode(const float *o, const float *c, size_t dim, enum ruv__rabitq_metric metric,
                        float eps0, uint64_t *code, struct ruv__rabitq_factors *f);

/* Extended code with bits = 2..8 in total: the 1-bit code, ex (dim bytes),
 * the 1-bit factors f1 (may be NULL; equal to ruv__rabitq_encode's) and the
 * B-bit factors fex. t_const > 0 uses that scaling (the "faster" mode, see
 * ruv__rabitq_ex_const_t); otherwise the critical-point search of §2.5 picks
 * t per vector. scratch holds ruv__rabitq_ex_scratch_bytes(dim) bytes,
 * aligned for float. Returns RUV_OK or RUV_E_INVAL (bits out of range). */
int ruv__rabitq_encode_ex(const float *o, const float *c, size_t dim, unsigned bits,
                          enum ruv__rabitq_metric metric, float eps0, float t_const, void *scratch,
                          uint64_t *code, uint8_t *ex, struct ruv__rabitq_factors *f1,
                          struct ruv__rabitq_factors *fex);

/* Constant t for the faster ex encoder: the mean of the searched t over 100
 * unit Gaussian vectors drawn from splitmix64(seed 42) + Box-Muller. Returns
 * 0 for bits outside 2..8. scratch as for ruv__rabitq_encode_ex. */
float ruv__rabitq_ex_const_t(size_t dim, unsigned bits, void *scratch);

/* sum_i ex_i * q_i: the ex part of <u, q>. */
float ruv__rabitq_ex_dot(const uint8_t *ex, const float *q, size_t dim);

/* ---- query preparation ---- */
/* g_add, g_error for centroid c (NULL = origin); leaves sum_q alone. */
void ruv__rabitq_query_centroid(const struct ruv_kernel_ops *k, const float *q, const float *c,
                                size_t dim, enum ruv__rabitq_metric metric,
                                struct ruv__rabitq_query *qc);

/* All of *qc: sum_q plus ruv__rabitq_query_centroid. */
void ruv__rabitq_query_init(const struct ruv_kernel_ops *k, const float *q, const float *c,
                            size_t dim, enum ruv__rabitq_metric metric, struct ruv__rabitq_query *qc);

/* Deterministic scalar quantisation of q to nplanes bits (1..16), written as
 * nplanes bit-planes of ruv__rabitq_words(dim) words each (plane j at
 * planes + j * words, bit i of plane j = bit j of qu_i) for bitplane_dot_1xN.
 * Returns RUV_E_INVAL if nplanes is out of range or (2^nplanes - 1) * dim
 * does not fit the kernel's uint32 result. */
int ruv__rabitq_query_bitplanes(const float *q, size_t dim, unsigned nplanes, uint64_t *planes,
                                struct ruv__rabitq_qbits *qb);

/* The integer query of q (dim floats) for codes of `bits` bits (1..8) into
 * qi (dim int16) and *qz. An all-zero q gives scale 0, qi 0 and err 0. */
void ruv__rabitq_query_int16(const float *q, size_t dim, unsigned bits, int16_t *qi,
                             struct ruv__rabitq_qint *qz);
/* <u, q> from the kernel's exact integer dot (within qz->err). Inline,
 * as are the estimators below: called once per lane that survives the
 * 1-bit bound, a call each was ~7 % of a search's CPU at D = 384. */
static inline float ruv__rabitq_ip_int(const struct ruv__rabitq_qint *qz, int64_t dot)
{
    return (float)((double)qz->scale * (double)dot + qz->shift);
}

/* FastScan LUTs: nsub = ruv__rabitq_nsub(dim) tables of 16 bytes, table m
 * entry `mask` ~ sum_{t in mask} q_{4m+t} (coordinates >= dim count as 0),
 * quantised to 2^bits - 1 levels (bits 1..8, clamped) with one global delta
 * and per-table minima folded into one offset. A kernel call covers at most RUV_FASTSCAN_MAX_NSUB tables, so for
 * nsub > 256 the caller splits into chunks (ruv__rabitq_fastscan_pack with
 * sub_begin) and adds the chunks' sums in uint32 before dequantising.
 * Dequantisation error: |ip_fastscan - <b, q>| <= nsub * delta / 2. */
void ruv__rabitq_fastscan_lut(const float *q, size_t dim, unsigned bits, uint8_t *lut,
                              struct ruv__rabitq_lutq *lq);
/* The same, portable = 1: the scalar tables only (the test of the SIMD
 * path compares the two byte for byte). */
void ruv__rabitq_fastscan_lut_ref(const float *q, size_t dim, unsigned bits, uint8_t *lut,
                                  struct ruv__rabitq_lutq *lq, int portable);

/* Packs up to 32 1-bit codes (n <= 32, code i at codes + i * words) into one
 * FastScan block of nsub * 16 bytes (kernel.h layout) holding sub-codes
 * [sub_begin, sub_begin + nsub): byte j of sub-code m has vector j's nibble
 * in its low half and vector j + 16's in its high half; nibble m of a code is
 * dims 4m..4m+3 with bit t = dim 4m + t. Missing vectors (i >= n) pack as 0. */
void ruv__rabitq_fastscan_pack(const uint64_t *codes, size_t words, size_t n, size_t sub_begin,
                               size_t nsub, uint8_t *block);

/* Exact f32-query inner product <b, q> = sum_{b_i = 1} q_i ("RabitqAsym"). */
float ruv__rabitq_masked_sum(const uint64_t *code, const float *q, size_t dim);
/* Faster exact form for scanning many codes with one query: a per-query
 * table of 256 partial sums per code byte, then ceil(dim/8) look-ups per code. */
void ruv__rabitq_byte_lut(const float *q, size_t dim, float *lut);
float ruv__rabitq_ip_byte_lut(const float *lut, const uint64_t *code, size_t dim);

/* ---- from kernel results to <b, q> ---- */
/* dot = bitplane_dot_1xN result, popcnt = popcount of the code. */
float ruv__rabitq_ip_bitplane(const struct ruv__rabitq_qbits *qb, uint32_t dot, uint32_t popcnt);
void ruv__rabitq_ip_bitplane_n(const struct ruv__rabitq_qbits *qb, const uint32_t *dot,
                               const uint32_t *popcnt, size_t n, float *ip);
/* acc = fastscan_u8 output (summed over chunks when nsub > 256). */
float ruv__rabitq_ip_fastscan(const struct ruv__rabitq_lutq *lq, uint32_t acc);
void ruv__rabitq_ip_fastscan_n(const struct ruv__rabitq_lutq *lq, const uint16_t *acc, size_t n,
                               float *ip);

/* ---- estimators ---- */
/* <u, q> for a B-bit code from <b, q> (any path) and <ex_code, q>. */
float ruv__rabitq_ip_code(float ip_bin, float ip_ex, unsigned bits);

/* est for one vector; ip_code = <u, q> (= <b, q> when bits = 1). */
static inline float ruv__rabitq_est(const struct ruv__rabitq_factors *f,
                                    const struct ruv__rabitq_query *qc, float ip_code,
                                    unsigned bits)
{
    return f->f_add + qc->g_add + f->f_rescale * (ip_code + ruv__rabitq_cb(bits) * qc->sum_q);
}
/* est, lb and ub for one vector (any output pointer may be NULL). */
void ruv__rabitq_est_bounds(const struct ruv__rabitq_factors *f, const struct ruv__rabitq_query *qc,
                            float ip_code, unsigned bits, float *est, float *lb, float *ub);
/* The same when ip_code is known only within ip_err (the integer query):
 * the bounds widen by |f_rescale| * ip_err, what that error moves est by,
 * so a vector's true distance stays inside them whenever the exact <u, q>
 * would have kept it inside. ip_err = 0 is ruv__rabitq_est_bounds. */
static inline void ruv__rabitq_est_bounds_err(const struct ruv__rabitq_factors *f,
                                              const struct ruv__rabitq_query *qc, float ip_code,
                                              float ip_err, unsigned bits, float *est, float *lb,
                                              float *ub)
{
    float e = ruv__rabitq_est(f, qc, ip_code, bits);
    float d = f->f_error * qc->g_error + fabsf(f->f_rescale) * ip_err;
    if (est)
        *est = e;
    if (lb)
        *lb = e - d;
    if (ub)
        *ub = e + d;
}
/* SoA batch: est[i] and (if lb != NULL) lb[i] for n vectors; f_error may be
 * NULL when lb is NULL. */
void ruv__rabitq_est_n(const float *ip_code, size_t n, const float *f_add, const float *f_rescale,
                       const float *f_error, const struct ruv__rabitq_query *qc, unsigned bits,
                       float *est, float *lb);
/* The same for 1-bit codes straight from FastScan sums: bit for bit
 * ruv__rabitq_ip_fastscan_n then ruv__rabitq_est_n with bits 1, in one
 * pass. */
void ruv__rabitq_est_fastscan_n(const struct ruv__rabitq_lutq *lq, const uint16_t *acc, size_t n,
                                const float *f_add, const float *f_rescale, const float *f_error,
                                const struct ruv__rabitq_query *qc, float *est, float *lb);

#endif
