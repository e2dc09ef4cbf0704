/* Portable reference kernels: the built-in "scalar" kernel and the oracle the
 * conformance check compares every plugin against. Written for clarity and
 * determinism first; compilers may still auto-vectorise them. */
#include <math.h>
#include <string.h>

#include <ruvector/kernel.h>

#include "plugin/half.h"
#include "plugin/kernels.h"

static float dot_f32(const float *a, const float *b, size_t n)
{
    float s = 0.0f;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static float l2sq_f32(const float *a, const float *b, size_t n)
{
    float s = 0.0f;
    for (size_t i = 0; i < n; i++) {
        float d = a[i] - b[i];
        s += d * d;
    }
    return s;
}

static float cos_f32(const float *a, const float *b, size_t n)
{
    float ab = 0.0f, aa = 0.0f, bb = 0.0f;
    for (size_t i = 0; i < n; i++) {
        ab += a[i] * b[i];
        aa += a[i] * a[i];
        bb += b[i] * b[i];
    }
    if (aa == 0.0f || bb == 0.0f)
        return 0.0f;
    return ab / sqrtf(aa * bb);
}

static void dot_f32_1xN(const float *q, const float *base, size_t dim, size_t stride, size_t n,
                        float *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = dot_f32(q, base + i * stride, dim);
}

static void l2sq_f32_1xN(const float *q, const float *base, size_t dim, size_t stride, size_t n,
                         float *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = l2sq_f32(q, base + i * stride, dim);
}

static size_t l2sq_f32_1xN_below(const float *q, const float *base, size_t dim, size_t stride,
                                 size_t n, float threshold, uint32_t *idx_out, float *dist_out)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        float d = l2sq_f32(q, base + i * stride, dim);
        if (d < threshold) {
            idx_out[m] = (uint32_t)i;
            dist_out[m] = d;
            m++;
        }
    }
    return m;
}

static size_t dot_f32_1xN_above(const float *q, const float *base, size_t dim, size_t stride,
                                size_t n, float threshold, uint32_t *idx_out, float *dot_out)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        float d = dot_f32(q, base + i * stride, dim);
        if (d > threshold) {
            idx_out[m] = (uint32_t)i;
            dot_out[m] = d;
            m++;
        }
    }
    return m;
}

/* Portable popcount: the baseline x86-64 target has no POPCNT instruction,
 * and __builtin_popcountll would become a libgcc call. */
static inline unsigned popcount64(uint64_t x)
{
    x = x - ((x >> 1) & UINT64_C(0x5555555555555555));
    x = (x & UINT64_C(0x3333333333333333)) + ((x >> 2) & UINT64_C(0x3333333333333333));
    x = (x + (x >> 4)) & UINT64_C(0x0f0f0f0f0f0f0f0f);
    return (unsigned)((x * UINT64_C(0x0101010101010101)) >> 56);
}

static void xor_popcnt_1xN(const uint64_t *q, const uint64_t *codes, size_t words, size_t n,
                           uint32_t *out)
{
    for (size_t i = 0; i < n; i++) {
        const uint64_t *c = codes + i * words;
        uint32_t s = 0;
        for (size_t w = 0; w < words; w++)
            s += popcount64(q[w] ^ c[w]);
        out[i] = s;
    }
}

static void bitplane_dot_1xN(const uint64_t *planes, unsigned nplanes, const uint64_t *codes,
                             size_t words, size_t n, uint32_t *out)
{
    for (size_t i = 0; i < n; i++) {
        const uint64_t *c = codes + i * words;
        uint32_t s = 0;
        for (unsigned j = 0; j < nplanes; j++) {
            uint32_t pj = 0;
            for (size_t w = 0; w < words; w++)
                pj += popcount64(planes[(size_t)j * words + w] & c[w]);
            s += pj << j;
        }
        out[i] = s;
    }
}

static uint64_t popcnt_u64(const uint64_t *x, size_t words)
{
    uint64_t s = 0;
    for (size_t w = 0; w < words; w++)
        s += popcount64(x[w]);
    return s;
}

static void fastscan_u8(const uint8_t *codes, size_t nsub, size_t nblocks, const uint8_t *lut,
                        uint16_t *out)
{
    for (size_t b = 0; b < nblocks; b++) {
        const uint8_t *blk = codes + b * nsub * 16;
        uint16_t *o = out + b * RUV_FASTSCAN_BLOCK;
        for (unsigned j = 0; j < RUV_FASTSCAN_BLOCK; j++)
            o[j] = 0;
        for (size_t m = 0; m < nsub; m++) {
            const uint8_t *t = lut + m * 16;
            for (unsigned j = 0; j < 16; j++) {
                uint8_t byte = blk[m * 16 + j];
                o[j] = (uint16_t)(o[j] + t[byte & 0x0f]);
                o[j + 16] = (uint16_t)(o[j + 16] + t[byte >> 4]);
            }
        }
    }
}

static void fht_f32(float *x, size_t n)
{
    for (size_t h = 1; h < n; h *= 2) {
        for (size_t i = 0; i < n; i += 2 * h) {
            for (size_t j = i; j < i + h; j++) {
                float a = x[j], b = x[j + h];
                x[j] = a + b;
                x[j + h] = a - b;
            }
        }
    }
}

static float dot_u8_f32(const uint8_t *a, const float *b, size_t n)
{
    float s = 0.0f;
    for (size_t i = 0; i < n; i++)
        s += (float)a[i] * b[i];
    return s;
}

/* Summed in int64 throughout: exact for every n the slot allows. */
static int64_t dot_u8_i16(const uint8_t *a, const int16_t *b, size_t n)
{
    int64_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += (int32_t)a[i] * (int32_t)b[i];
    return s;
}

static int64_t dot_u4_i16(const uint8_t *a, const int16_t *b, size_t n)
{
    int64_t s = 0;
    for (size_t blk = 0; blk < n / 32; blk++, a += 16, b += 32)
        for (size_t j = 0; j < 16; j++)
            s += (int32_t)(a[j] & 0x0fu) * (int32_t)b[j] +
                 (int32_t)(a[j] >> 4) * (int32_t)b[16 + j];
    return s;
}

static void dot_f16_1xN(const float *q, const uint16_t *base, size_t dim, size_t stride,
                        size_t n, float *out)
{
    for (size_t i = 0; i < n; i++, base += stride) {
        float s = 0.0f;
        for (size_t j = 0; j < dim; j++)
            s += q[j] * ruv__half_to_float(base[j]);
        out[i] = s;
    }
}

const struct ruv_kernel_ops ruv__kernel_scalar_ops = {
    .struct_size = sizeof(struct ruv_kernel_ops),
    .reserved = 0,
    .dot_f32 = dot_f32,
    .l2sq_f32 = l2sq_f32,
    .cos_f32 = cos_f32,
    .dot_f32_1xN = dot_f32_1xN,
    .l2sq_f32_1xN = l2sq_f32_1xN,
    .l2sq_f32_1xN_below = l2sq_f32_1xN_below,
    .xor_popcnt_1xN = xor_popcnt_1xN,
    .bitplane_dot_1xN = bitplane_dot_1xN,
    .popcnt_u64 = popcnt_u64,
    .fastscan_u8 = fastscan_u8,
    .fht_f32 = fht_f32,
    .dot_u8_f32 = dot_u8_f32,
    .dot_f16_1xN = dot_f16_1xN,
    .dot_f32_1xN_above = dot_f32_1xN_above,
    .dot_u8_i16 = dot_u8_i16,
    .dot_u4_i16 = dot_u4_i16,
};
