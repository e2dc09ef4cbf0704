/* Kernel conformance check (see conform.h). Deterministic: the same inputs on
 * every run, so a failure reproduces. */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/kernel.h>

#include "base/error.h"
#include "plugin/conform.h"
#include "plugin/half.h"

#ifndef RUV_THREAD_LOCAL
#define RUV_THREAD_LOCAL _Thread_local
#endif

static RUV_THREAD_LOCAL unsigned slots_checked;

unsigned ruv__conform_slots_checked(void) { return slots_checked; }

/* xorshift64*: small, deterministic, good enough for test data. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * UINT64_C(0x2545F4914F6CDD1D);
}

static float rng_float(uint64_t *s) /* uniform in [-2, 2) */
{
    return (float)((double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0) * 4.0 - 2.0);
}

static int fail(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (why && whylen)
        vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return -1;
}

#define HAS(ops, slot) \
    (offsetof(struct ruv_kernel_ops, slot) + sizeof((ops)->slot) <= (ops)->struct_size && (ops)->slot)

static const size_t SIZES[] = {0, 1, 7, 8, 9, 31, 33, 1000};
#define NSIZES (sizeof SIZES / sizeof SIZES[0])
#define MAXN 1000

/* Buffers: one element past a 64-byte boundary, so no kernel sees vector alignment. */
struct bufs {
    float *a, *b;          /* MAXN floats each */
    float *rows;           /* 40 rows of up to MAXN + 3 floats */
    float *out, *out2;     /* 64 floats */
    uint32_t *idx, *u32a, *u32b;
    uint64_t *q64, *codes; /* planes (16 x 16 words) / codes (40 x 16 words) */
    uint8_t *fs_codes, *lut;
    uint16_t *fs_a, *fs_b;
    float *fht;            /* 1024 floats */
    uint8_t *u8;           /* MAXN_I16 bytes */
    int16_t *i16;          /* MAXN_I16 int16 */
    void *mem[20];
    int nmem, failed;
};

static void *grab(struct bufs *B, size_t bytes, size_t skew)
{
    size_t total = (bytes + 64 + 63) / 64 * 64; /* aligned_alloc wants a multiple */
    unsigned char *p = aligned_alloc(64, total);
    if (!p) {
        B->failed = 1;
        return NULL;
    }
    memset(p, 0, total);
    B->mem[B->nmem++] = p;
    return p + skew;
}

static void release(struct bufs *B)
{
    for (int i = 0; i < B->nmem; i++)
        free(B->mem[i]);
}

#define NROWS 40
#define MAXWORDS 16

static int check_f32_pair(const struct ruv_kernel_ops *ops, struct bufs *B, uint64_t *rng,
                          char *why, size_t whylen)
{
    for (size_t k = 0; k < NSIZES; k++) {
        size_t n = SIZES[k];
        for (size_t i = 0; i < n; i++) {
            B->a[i] = rng_float(rng);
            B->b[i] = rng_float(rng);
        }
        double dot = 0, l2 = 0, aa = 0, bb = 0, absdot = 0, absl2 = 0;
        for (size_t i = 0; i < n; i++) {
            double x = B->a[i], y = B->b[i];
            dot += x * y;
            absdot += fabs(x * y);
            l2 += (x - y) * (x - y);
            absl2 += (x - y) * (x - y);
            aa += x * x;
            bb += y * y;
        }
        double tol_dot = (double)(n + 2) * FLT_EPSILON * absdot + 1e-30;
        double tol_l2 = (double)(n + 2) * FLT_EPSILON * absl2 * 2 + 1e-30;
        if (HAS(ops, dot_f32)) {
            double got = ops->dot_f32(B->a, B->b, n);
            if (fabs(got - dot) > tol_dot)
                return fail(why, whylen, "dot_f32: n=%zu: got %.9g, want %.9g (tol %.3g)", n, got,
                            dot, tol_dot);
        }
        if (HAS(ops, l2sq_f32)) {
            double got = ops->l2sq_f32(B->a, B->b, n);
            if (fabs(got - l2) > tol_l2)
                return fail(why, whylen, "l2sq_f32: n=%zu: got %.9g, want %.9g (tol %.3g)", n, got,
                            l2, tol_l2);
        }
        if (HAS(ops, cos_f32)) {
            double got = ops->cos_f32(B->a, B->b, n);
            double want = (aa == 0 || bb == 0) ? 0.0 : dot / sqrt(aa * bb);
            double tol = (aa == 0 || bb == 0)
                             ? 0.0
                             : (double)(n + 4) * FLT_EPSILON * (absdot / sqrt(aa * bb) + 2.0);
            if (fabs(got - want) > tol || got != got)
                return fail(why, whylen, "cos_f32: n=%zu: got %.9g, want %.9g (tol %.3g)", n, got,
                            want, tol);
        }
    }
    /* cosine of a zero vector is defined as 0, not NaN */
    if (HAS(ops, cos_f32)) {
        memset(B->b, 0, 33 * sizeof(float));
        float got = ops->cos_f32(B->a, B->b, 33);
        if (got != 0.0f)
            return fail(why, whylen, "cos_f32: zero vector: got %.9g, want 0", (double)got);
    }
    return 0;
}

/* A fused scan + threshold (l2sq_f32_1xN_below, or with above set
 * dot_f32_1xN_above) against the exact scores want[] (tolerance tol[]), at
 * three thresholds: nothing passes, the median passes, everything passes.
 * Rows within tolerance of the threshold may go either way; the rest must
 * be reported exactly when they pass, in increasing order, with their score. */
typedef size_t (*threshold_scan_fn)(const float *, const float *, size_t, size_t, size_t, float,
                                    uint32_t *, float *);

static int check_threshold_scan(threshold_scan_fn scan, const char *name, int above,
                                struct bufs *B, size_t dim, size_t stride, size_t n,
                                const double *want, const double *tol, char *why, size_t whylen)
{
    double sorted[NROWS], med = 0;
    memcpy(sorted, want, n * sizeof *want);
    if (n) {
        for (size_t i = 1; i < n; i++) /* insertion sort, n <= 40 */
            for (size_t j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
                double tmp = sorted[j];
                sorted[j] = sorted[j - 1];
                sorted[j - 1] = tmp;
            }
        med = sorted[n / 2];
    }
    /* passing means below the threshold, or above it: flip signs for above */
    const double sign = above ? -1.0 : 1.0;
    float ths[3] = {above ? INFINITY : -1.0f, (float)med, above ? -INFINITY : INFINITY};
    for (int h = 0; h < 3; h++) {
        size_t m = scan(B->a, B->rows, dim, stride, n, ths[h], B->idx, B->out);
        if (m > n)
            return fail(why, whylen, "%s: returned %zu > n=%zu", name, m, n);
        size_t j = 0;
        for (size_t r = 0; r < n; r++) {
            double w = sign * want[r], t = sign * (double)ths[h];
            int must = w < t - tol[r];
            int may = w < t + tol[r];
            int got = j < m && B->idx[j] == r;
            if ((must && !got) || (got && !may))
                return fail(why, whylen, "%s: dim=%zu n=%zu threshold=%.9g: row %zu (score %.9g) %s",
                            name, dim, n, (double)ths[h], r, want[r],
                            got ? "reported but should not pass" : "missing");
            if (got) {
                if (fabs(B->out[j] - want[r]) > tol[r])
                    return fail(why, whylen, "%s: dim=%zu row %zu: score %.9g, want %.9g", name,
                                dim, r, (double)B->out[j], want[r]);
                j++;
            }
        }
        if (j != m)
            return fail(why, whylen, "%s: dim=%zu n=%zu: %zu results out of order or out of range",
                        name, dim, n, m - j);
    }
    return 0;
}

static int check_f32_1xN(const struct ruv_kernel_ops *ops, struct bufs *B, uint64_t *rng,
                         char *why, size_t whylen)
{
    static const size_t NS[] = {0, 1, 7, 9, 33, NROWS};
    for (size_t k = 0; k < NSIZES; k++) {
        size_t dim = SIZES[k];
        size_t stride = dim + (k % 3); /* padded and unpadded rows */
        for (size_t i = 0; i < dim; i++)
            B->a[i] = rng_float(rng);
        for (size_t i = 0; i < NROWS * stride; i++)
            B->rows[i] = rng_float(rng);
        double want_dot[NROWS], want_l2[NROWS], tol_dot[NROWS], tol_l2[NROWS];
        for (size_t r = 0; r < NROWS; r++) {
            double d = 0, ad = 0, l = 0;
            for (size_t i = 0; i < dim; i++) {
                double x = B->a[i], y = B->rows[r * stride + i];
                d += x * y;
                ad += fabs(x * y);
                l += (x - y) * (x - y);
            }
            want_dot[r] = d;
            want_l2[r] = l;
            tol_dot[r] = (double)(dim + 2) * FLT_EPSILON * ad + 1e-30;
            tol_l2[r] = (double)(dim + 2) * FLT_EPSILON * l * 2 + 1e-30;
        }
        for (size_t t = 0; t < sizeof NS / sizeof NS[0]; t++) {
            size_t n = NS[t];
            if (HAS(ops, dot_f32_1xN)) {
                ops->dot_f32_1xN(B->a, B->rows, dim, stride, n, B->out);
                for (size_t r = 0; r < n; r++)
                    if (fabs(B->out[r] - want_dot[r]) > tol_dot[r])
                        return fail(why, whylen,
                                    "dot_f32_1xN: dim=%zu stride=%zu n=%zu row %zu: got %.9g, "
                                    "want %.9g",
                                    dim, stride, n, r, (double)B->out[r], want_dot[r]);
            }
            if (HAS(ops, l2sq_f32_1xN)) {
                ops->l2sq_f32_1xN(B->a, B->rows, dim, stride, n, B->out);
                for (size_t r = 0; r < n; r++)
                    if (fabs(B->out[r] - want_l2[r]) > tol_l2[r])
                        return fail(why, whylen,
                                    "l2sq_f32_1xN: dim=%zu stride=%zu n=%zu row %zu: got %.9g, "
                                    "want %.9g",
                                    dim, stride, n, r, (double)B->out[r], want_l2[r]);
            }
            if (HAS(ops, l2sq_f32_1xN_below) &&
                check_threshold_scan(ops->l2sq_f32_1xN_below, "l2sq_f32_1xN_below", 0, B, dim,
                                     stride, n, want_l2, tol_l2, why, whylen))
                return -1;
            if (HAS(ops, dot_f32_1xN_above) &&
                check_threshold_scan(ops->dot_f32_1xN_above, "dot_f32_1xN_above", 1, B, dim,
                                     stride, n, want_dot, tol_dot, why, whylen))
                return -1;
        }
    }
    return 0;
}

static int check_bits(const struct ruv_kernel_ops *ops, const struct ruv_kernel_ops *ref,
                      struct bufs *B, uint64_t *rng, char *why, size_t whylen)
{
    static const size_t WORDS[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 16};
    static const size_t NS[] = {0, 1, 7, 8, 9, 31, 33, NROWS};
    for (size_t w = 0; w < sizeof WORDS / sizeof WORDS[0]; w++) {
        size_t words = WORDS[w];
        for (size_t i = 0; i < 16 * MAXWORDS; i++)
            B->q64[i] = rng_next(rng);
        for (size_t i = 0; i < NROWS * MAXWORDS; i++)
            B->codes[i] = rng_next(rng);
        B->codes[0] = ~UINT64_C(0); /* all-ones words catch 8/16-bit counter overflow */
        for (size_t t = 0; t < sizeof NS / sizeof NS[0]; t++) {
            size_t n = NS[t];
            if (HAS(ops, xor_popcnt_1xN)) {
                ops->xor_popcnt_1xN(B->q64, B->codes, words, n, B->u32a);
                ref->xor_popcnt_1xN(B->q64, B->codes, words, n, B->u32b);
                for (size_t r = 0; r < n; r++)
                    if (B->u32a[r] != B->u32b[r])
                        return fail(why, whylen,
                                    "xor_popcnt_1xN: words=%zu n=%zu row %zu: got %u, want %u",
                                    words, n, r, B->u32a[r], B->u32b[r]);
            }
            if (HAS(ops, bitplane_dot_1xN)) {
                static const unsigned PL[] = {1, 2, 4, 8, 16};
                for (size_t p = 0; p < sizeof PL / sizeof PL[0]; p++) {
                    ops->bitplane_dot_1xN(B->q64, PL[p], B->codes, words, n, B->u32a);
                    ref->bitplane_dot_1xN(B->q64, PL[p], B->codes, words, n, B->u32b);
                    for (size_t r = 0; r < n; r++)
                        if (B->u32a[r] != B->u32b[r])
                            return fail(why, whylen,
                                        "bitplane_dot_1xN: words=%zu planes=%u n=%zu row %zu: "
                                        "got %u, want %u",
                                        words, PL[p], n, r, B->u32a[r], B->u32b[r]);
                }
            }
        }
        if (HAS(ops, popcnt_u64)) {
            for (size_t r = 0; r < 3; r++) {
                uint64_t got = ops->popcnt_u64(B->codes + r * MAXWORDS, words);
                uint64_t want = ref->popcnt_u64(B->codes + r * MAXWORDS, words);
                if (got != want)
                    return fail(why, whylen, "popcnt_u64: words=%zu: got %llu, want %llu", words,
                                (unsigned long long)got, (unsigned long long)want);
            }
        }
    }
    return 0;
}

static int check_fastscan(const struct ruv_kernel_ops *ops, const struct ruv_kernel_ops *ref,
                          struct bufs *B, uint64_t *rng, char *why, size_t whylen)
{
    static const size_t NSUB[] = {1, 2, 3, 4, 7, 8, 9, 16, 31, 32, 33, 64, 255, 256};
    static const size_t NB[] = {0, 1, 3};
    if (!HAS(ops, fastscan_u8))
        return 0;
    for (size_t s = 0; s < sizeof NSUB / sizeof NSUB[0]; s++) {
        size_t nsub = NSUB[s];
        for (size_t i = 0; i < 3 * 256 * 16; i++)
            B->fs_codes[i] = (uint8_t)rng_next(rng);
        for (size_t i = 0; i < 256 * 16; i++)
            B->lut[i] = (uint8_t)rng_next(rng);
        if (s == sizeof NSUB / sizeof NSUB[0] - 1) /* the overflow edge: every entry 255 */
            memset(B->lut, 255, 256 * 16);
        for (size_t t = 0; t < sizeof NB / sizeof NB[0]; t++) {
            size_t nb = NB[t];
            ops->fastscan_u8(B->fs_codes, nsub, nb, B->lut, B->fs_a);
            ref->fastscan_u8(B->fs_codes, nsub, nb, B->lut, B->fs_b);
            for (size_t j = 0; j < nb * RUV_FASTSCAN_BLOCK; j++)
                if (B->fs_a[j] != B->fs_b[j])
                    return fail(why, whylen,
                                "fastscan_u8: nsub=%zu nblocks=%zu lane %zu: got %u, want %u",
                                nsub, nb, j, B->fs_a[j], B->fs_b[j]);
        }
    }
    return 0;
}

static int check_u8(const struct ruv_kernel_ops *ops, struct bufs *B, uint64_t *rng, char *why,
                    size_t whylen)
{
    if (!HAS(ops, dot_u8_f32))
        return 0;
    uint8_t *a = (uint8_t *)B->fs_codes; /* >= 1000 bytes, one byte past alignment */
    for (size_t k = 0; k < NSIZES; k++) {
        size_t n = SIZES[k];
        double want = 0, abs = 0;
        for (size_t i = 0; i < n; i++) {
            a[i] = (uint8_t)rng_next(rng);
            B->b[i] = rng_float(rng);
            want += (double)a[i] * B->b[i];
            abs += fabs((double)a[i] * B->b[i]);
        }
        double got = ops->dot_u8_f32(a, B->b, n);
        double tol = (double)(n + 2) * FLT_EPSILON * abs + 1e-30;
        if (fabs(got - want) > tol)
            return fail(why, whylen, "dot_u8_f32: n=%zu: got %.9g, want %.9g (tol %.3g)", n, got,
                        want, tol);
    }
    return 0;
}

/* Past 2,048 elements, kernels that sum in int32 lanes widen to int64
 * (kernel.h): lengths on both sides of one and two such stretches. */
#define MAXN_I16 4200
static const size_t SIZES_I16[] = {0,  1,  7,  8,   9,    15,   16,   17,   31,   32,  33,
                                   63, 64, 65, 384, 1000, 2047, 2048, 2049, 4097, 4113};

/* The integer whole-code dot must be exact: random values over the whole
 * range of both types, then the overflow edges (every code 255 against
 * every query value 32767, or -32768, or both alternating). */
static int check_u8_i16(const struct ruv_kernel_ops *ops, struct bufs *B, uint64_t *rng,
                        char *why, size_t whylen)
{
    if (!HAS(ops, dot_u8_i16))
        return 0;
    static const char *const pattern[] = {"random", "255 x 32767", "255 x -32768",
                                          "255 x alternating extremes", "random x -32768"};
    for (size_t t = 0; t < sizeof pattern / sizeof pattern[0]; t++)
        for (size_t k = 0; k < sizeof SIZES_I16 / sizeof SIZES_I16[0]; k++) {
            const size_t n = SIZES_I16[k];
            int64_t want = 0;
            for (size_t i = 0; i < n; i++) {
                uint64_t r = rng_next(rng);
                B->u8[i] = t == 0 || t == 4 ? (uint8_t)r : 255;
                B->i16[i] = t == 0   ? (int16_t)(uint16_t)(r >> 32)
                            : t == 1 ? INT16_MAX
                            : t == 3 ? (i % 2 ? INT16_MIN : INT16_MAX)
                                     : INT16_MIN;
                want += (int64_t)B->u8[i] * B->i16[i];
            }
            int64_t got = ops->dot_u8_i16(B->u8, B->i16, n);
            if (got != want)
                return fail(why, whylen, "dot_u8_i16: %s, n=%zu: got %lld, want %lld", pattern[t],
                            n, (long long)got, (long long)want);
        }
    return 0;
}

/* The packed form: lengths in whole blocks of 32 (its contract), on both
 * sides of the 2,048-element stretches, random nibbles and queries, then
 * every nibble 15 against the extreme query values. */
static int check_u4_i16(const struct ruv_kernel_ops *ops, struct bufs *B, uint64_t *rng,
                        char *why, size_t whylen)
{
    if (!HAS(ops, dot_u4_i16))
        return 0;
    static const size_t NS[] = {0, 32, 64, 96, 384, 1024, 2016, 2048, 2080, 4096, 4160};
    for (size_t t = 0; t < 4; t++)
        for (size_t k = 0; k < sizeof NS / sizeof NS[0]; k++) {
            const size_t n = NS[k];
            for (size_t i = 0; i < n / 2; i++)
                B->u8[i] = t == 0 ? (uint8_t)rng_next(rng) : 0xff;
            int64_t want = 0;
            for (size_t i = 0; i < n; i++) {
                uint64_t r = rng_next(rng);
                B->i16[i] = t == 0   ? (int16_t)(uint16_t)(r >> 32)
                            : t == 1 ? INT16_MAX
                            : t == 2 ? INT16_MIN
                                     : (i % 2 ? INT16_MIN : INT16_MAX);
                const uint8_t byte = B->u8[i / 32 * 16 + i % 16];
                want += (int64_t)(i % 32 < 16 ? byte & 0x0fu : byte >> 4) * B->i16[i];
            }
            int64_t got = ops->dot_u4_i16(B->u8, B->i16, n);
            if (got != want)
                return fail(why, whylen, "dot_u4_i16: pattern %zu, n=%zu: got %lld, want %lld", t,
                            n, (long long)got, (long long)want);
        }
    return 0;
}

/* Rows of binary16 values from every range the probe meets: normal, large
 * (up to ~32,000) and subnormal; rows start 2 bytes past a float boundary. */
static int check_f16(const struct ruv_kernel_ops *ops, struct bufs *B, uint64_t *rng, char *why,
                     size_t whylen)
{
    if (!HAS(ops, dot_f16_1xN))
        return 0;
    static const size_t NS[] = {0, 1, 3, 5, 9, NROWS};
    uint16_t *rows = (uint16_t *)B->rows + 1;
    for (size_t k = 0; k < NSIZES; k++) {
        size_t dim = SIZES[k], stride = dim + (k % 3);
        for (size_t i = 0; i < dim; i++)
            B->a[i] = rng_float(rng);
        for (size_t i = 0; i < NROWS * stride; i++) {
            float v = rng_float(rng);
            v *= i % 7 == 3 ? 0x1p-20f : i % 11 == 5 ? 16000.0f : 1.0f;
            rows[i] = ruv__float_to_half(v);
        }
        for (size_t t = 0; t < sizeof NS / sizeof NS[0]; t++) {
            size_t n = NS[t];
            ops->dot_f16_1xN(B->a, rows, dim, stride, n, B->out);
            for (size_t r = 0; r < n; r++) {
                double want = 0, abs = 0;
                for (size_t i = 0; i < dim; i++) {
                    double x = (double)B->a[i] * ruv__half_to_float(rows[r * stride + i]);
                    want += x;
                    abs += fabs(x);
                }
                double tol = (double)(dim + 2) * FLT_EPSILON * abs + 1e-30;
                if (fabs(B->out[r] - want) > tol)
                    return fail(why, whylen,
                                "dot_f16_1xN: dim=%zu stride=%zu n=%zu row %zu: got %.9g, want "
                                "%.9g",
                                dim, stride, n, r, (double)B->out[r], want);
            }
        }
    }
    return 0;
}

static int check_fht(const struct ruv_kernel_ops *ops, struct bufs *B, uint64_t *rng, char *why,
                     size_t whylen)
{
    if (!HAS(ops, fht_f32))
        return 0;
    double want[1024];
    for (size_t n = 1, lg = 0; n <= 1024; n *= 2, lg++) {
        double abssum = 0;
        for (size_t i = 0; i < n; i++) {
            B->fht[i] = rng_float(rng);
            abssum += fabs(B->fht[i]);
        }
        /* exact transform in double: want[i] = sum_j (-1)^popcount(i&j) x_j */
        for (size_t i = 0; i < n; i++) {
            double s = 0;
            for (size_t j = 0; j < n; j++) {
                size_t v = i & j;
                unsigned par = 0;
                while (v) {
                    par ^= 1u;
                    v &= v - 1;
                }
                s += par ? -(double)B->fht[j] : (double)B->fht[j];
            }
            want[i] = s;
        }
        ops->fht_f32(B->fht, n);
        double tol = (double)(lg + 2) * FLT_EPSILON * abssum + 1e-30;
        for (size_t i = 0; i < n; i++)
            if (fabs(B->fht[i] - want[i]) > tol)
                return fail(why, whylen, "fht_f32: n=%zu element %zu: got %.9g, want %.9g", n, i,
                            (double)B->fht[i], want[i]);
    }
    return 0;
}

int ruv__conform_check(const struct ruv_kernel_ops *ops, const struct ruv_kernel_ops *ref,
                       char *why, size_t whylen)
{
    struct bufs B;
    memset(&B, 0, sizeof B);
    int rc = -1;
    slots_checked = 0;
    if (!ops || !ref)
        return fail(why, whylen, "no kernel table");
    if (ops->struct_size < offsetof(struct ruv_kernel_ops, dot_f32))
        return fail(why, whylen, "kernel table struct_size %u too small", ops->struct_size);
    B.a = grab(&B, MAXN * sizeof(float), sizeof(float));
    B.b = grab(&B, MAXN * sizeof(float), sizeof(float));
    B.rows = grab(&B, NROWS * (MAXN + 3) * sizeof(float), sizeof(float));
    B.out = grab(&B, 64 * sizeof(float), sizeof(float));
    B.idx = grab(&B, 64 * sizeof(uint32_t), sizeof(uint32_t));
    B.u32a = grab(&B, 64 * sizeof(uint32_t), sizeof(uint32_t));
    B.u32b = grab(&B, 64 * sizeof(uint32_t), sizeof(uint32_t));
    B.q64 = grab(&B, 16 * MAXWORDS * sizeof(uint64_t), sizeof(uint64_t));
    B.codes = grab(&B, NROWS * MAXWORDS * sizeof(uint64_t), sizeof(uint64_t));
    B.fs_codes = grab(&B, 3 * 256 * 16, 1);
    B.lut = grab(&B, 256 * 16, 1);
    B.fs_a = grab(&B, 3 * RUV_FASTSCAN_BLOCK * sizeof(uint16_t), sizeof(uint16_t));
    B.fs_b = grab(&B, 3 * RUV_FASTSCAN_BLOCK * sizeof(uint16_t), sizeof(uint16_t));
    B.fht = grab(&B, 1024 * sizeof(float), sizeof(float));
    B.u8 = grab(&B, MAXN_I16, 1);
    B.i16 = grab(&B, MAXN_I16 * sizeof(int16_t), sizeof(int16_t));
    if (B.failed) {
        fail(why, whylen, "out of memory");
        goto out;
    }
    uint64_t rng = UINT64_C(0x9E3779B97F4A7C15);
    if (check_f32_pair(ops, &B, &rng, why, whylen) || check_f32_1xN(ops, &B, &rng, why, whylen) ||
        check_bits(ops, ref, &B, &rng, why, whylen) ||
        check_fastscan(ops, ref, &B, &rng, why, whylen) || check_fht(ops, &B, &rng, why, whylen) ||
        check_u8(ops, &B, &rng, why, whylen) || check_f16(ops, &B, &rng, why, whylen) ||
        check_u8_i16(ops, &B, &rng, why, whylen) || check_u4_i16(ops, &B, &rng, why, whylen))
        goto out;
    rc = 0;
    {
        unsigned c = 0;
        c += HAS(ops, dot_f32) ? 1 : 0;
        c += HAS(ops, l2sq_f32) ? 1 : 0;
        c += HAS(ops, cos_f32) ? 1 : 0;
        c += HAS(ops, dot_f32_1xN) ? 1 : 0;
        c += HAS(ops, l2sq_f32_1xN) ? 1 : 0;
        c += HAS(ops, l2sq_f32_1xN_below) ? 1 : 0;
        c += HAS(ops, xor_popcnt_1xN) ? 1 : 0;
        c += HAS(ops, bitplane_dot_1xN) ? 1 : 0;
        c += HAS(ops, popcnt_u64) ? 1 : 0;
        c += HAS(ops, fastscan_u8) ? 1 : 0;
        c += HAS(ops, fht_f32) ? 1 : 0;
        c += HAS(ops, dot_u8_f32) ? 1 : 0;
        c += HAS(ops, dot_f16_1xN) ? 1 : 0;
        c += HAS(ops, dot_f32_1xN_above) ? 1 : 0;
        c += HAS(ops, dot_u8_i16) ? 1 : 0;
        c += HAS(ops, dot_u4_i16) ? 1 : 0;
        slots_checked = c;
    }
out:
    release(&B);
    return rc;
}
