/* ruvector/kernel.h — the kernel table: the hot loops every index calls.
 *
 * One table per instruction set (scalar reference in the engine, avx2, avx512
 * and neon as plugins). The engine selects one at open and fills every slot a
 * plugin leaves NULL (or that lies beyond its struct_size) with the scalar
 * reference, so a caller of ruv_engine_kernel() may call every slot.
 *
 * Contracts shared by all slots:
 *  - Kernels never fail and never allocate; the caller validates inputs.
 *  - Pointers need only their element type's alignment (never 16/32/64-byte
 *    alignment). n, dim and words may be 0.
 *  - Inputs are finite (the engine rejects NaN/Inf before they reach a kernel).
 *  - Floating-point results may differ from the scalar reference by rounding
 *    only: for a sum of m products, |got - exact| <= (m + 2) * FLT_EPSILON *
 *    sum|a_i b_i|. Integer results are exact.
 *  - Kernels are reentrant and keep no state.
 */
#ifndef RUVECTOR_KERNEL_H
#define RUVECTOR_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Codes per FastScan block, and bytes per block: nsub * RUV_FASTSCAN_BLOCK / 2. */
#define RUV_FASTSCAN_BLOCK 32u
/* Largest nsub per fastscan call: 256 * 255 still fits the uint16 accumulators. */
#define RUV_FASTSCAN_MAX_NSUB 256u

struct ruv_kernel_ops {
    uint32_t struct_size; /* sizeof(struct ruv_kernel_ops) as the provider compiled it */
    uint32_t reserved;    /* 0 */

    /* ---- f32, one pair ---- */
    /* sum a_i b_i */
    float (*dot_f32)(const float *a, const float *b, size_t n);
    /* sum (a_i - b_i)^2 */
    float (*l2sq_f32)(const float *a, const float *b, size_t n);
    /* cosine similarity <a,b> / (|a| |b|); 0 when either vector is all zeros. */
    float (*cos_f32)(const float *a, const float *b, size_t n);

    /* ---- f32, one query against n rows; row i starts at base + i*stride ---- */
    /* out[i] = dot(q, row i) */
    void (*dot_f32_1xN)(const float *q, const float *base, size_t dim, size_t stride,
                        size_t n, float *out);
    /* out[i] = l2sq(q, row i) */
    void (*l2sq_f32_1xN)(const float *q, const float *base, size_t dim, size_t stride,
                         size_t n, float *out);
    /* Fused scan + threshold for top-k: for every row i with l2sq(q, row i) <
     * threshold, in increasing i, writes i to idx_out and the distance to
     * dist_out; returns how many were written (<= n). The caller keeps a
     * top-k heap and passes its current k-th distance, block by block. Rows
     * within rounding of the threshold may go either way. */
    size_t (*l2sq_f32_1xN_below)(const float *q, const float *base, size_t dim, size_t stride,
                                 size_t n, float threshold, uint32_t *idx_out, float *dist_out);

    /* ---- 1-bit codes: code i is words uint64 at codes + i*words, bit d of the
     * code is bit (d % 64) of word d / 64; unused tail bits must be zero ---- */
    /* out[i] = popcount(q XOR code i), the Hamming distance */
    void (*xor_popcnt_1xN)(const uint64_t *q, const uint64_t *codes, size_t words, size_t n,
                           uint32_t *out);
    /* Query in bit-planes against 1-bit codes (RaBitQ's asymmetric inner
     * product): plane j (j < nplanes <= 16) is words uint64 at planes + j*words;
     * out[i] = sum_j 2^j * popcount(plane_j AND code i). */
    void (*bitplane_dot_1xN)(const uint64_t *planes, unsigned nplanes, const uint64_t *codes,
                             size_t words, size_t n, uint32_t *out);
    /* popcount of a bit string of words uint64 */
    uint64_t (*popcnt_u64)(const uint64_t *x, size_t words);

    /* ---- FastScan: 4-bit sub-codes through 16-entry uint8 look-up tables ----
     * A block holds 32 vectors, each with nsub 4-bit sub-codes
     * (1 <= nsub <= RUV_FASTSCAN_MAX_NSUB). Block b starts at
     * codes + b * nsub * 16; within it, sub-code m occupies 16 bytes at m*16,
     * and byte j holds vector j's sub-code in its low nibble and vector
     * j+16's in its high nibble. lut holds nsub tables of 16 bytes: lut[m*16+v].
     * out[b*32 + j] = sum_m lut[m*16 + subcode_m(vector j of block b)]. */
    void (*fastscan_u8)(const uint8_t *codes, size_t nsub, size_t nblocks, const uint8_t *lut,
                        uint16_t *out);

    /* ---- rotation ---- */
    /* In-place unnormalised fast Walsh-Hadamard transform of n floats, n a
     * power of two (n = 1 is the identity). Applying it twice multiplies by n. */
    void (*fht_f32)(float *x, size_t n);

    /* ---- appended after the first layout (slots past a plugin's
     * struct_size fall back to the scalar reference) ---- */
    /* sum a_i * b_i with a as unsigned bytes: Extended RaBitQ's extra-bit
     * codes against the float query. */
    float (*dot_u8_f32)(const uint8_t *a, const float *b, size_t n);
    /* out[i] = sum_j q_j * half(row i)_j, rows of IEEE binary16 values (bit
     * patterns in uint16_t, finite), widened exactly to f32: a probe over a
     * half-size copy of the IVF centroids. */
    void (*dot_f16_1xN)(const float *q, const uint16_t *base, size_t dim, size_t stride,
                        size_t n, float *out);
    /* The inner-product form of l2sq_f32_1xN_below (FlatF32Index's exact
     * scan for inner product and cosine): for every row i with
     * dot(q, row i) > threshold, in increasing i, writes i to idx_out and the
     * dot product to dot_out; returns how many were written (<= n). Rows
     * within rounding of the threshold may go either way. */
    size_t (*dot_f32_1xN_above)(const float *q, const float *base, size_t dim, size_t stride,
                                size_t n, float threshold, uint32_t *idx_out, float *dot_out);
    /* sum a_i * b_i, exactly, with a as unsigned bytes and b as signed
     * 16-bit integers: Extended RaBitQ's whole codes against the query
     * quantised to int16 once per search (engine/index/rabitq). Exact for
     * every n: each term is within 255 * 32768 in magnitude, so the sum
     * fits int64 for n < 2^39 (kernels that sum in int32 lanes widen
     * them to int64 often enough that no lane overflows). */
    int64_t (*dot_u8_i16)(const uint8_t *a, const int16_t *b, size_t n);
    /* The same over codes of at most 4 bits packed two to a byte, half the
     * bytes to read: n is a multiple of 32 (0 allowed), and each block of
     * 32 elements is 16 bytes at a + 16 * block, whose byte j holds element
     * 32 * block + j in its low nibble and element 32 * block + 16 + j in
     * its high nibble. Exact, as dot_u8_i16. */
    int64_t (*dot_u4_i16)(const uint8_t *a, const int16_t *b, size_t n);
};

/* Size of the first published layout; tables shorter than this are rejected. */
#define RUV_KERNEL_OPS_SIZE_V1 (offsetof(struct ruv_kernel_ops, fht_f32) + sizeof(void (*)(void)))

#ifdef __cplusplus
}
#endif
#endif
