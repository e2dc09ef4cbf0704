/* Seeded, exactly orthogonal fast rotation ("FhtKac", rabitq.md §2.6, §7.3).
 *
 * Padding: dim_pad = 64 * ceil(dim / 64) for every dim >= 1, so a rotated
 * vector fills whole 64-bit code words (RaBitQ codes cost one word at
 * dim < 64 anyway, and more rotated coordinates only lower the estimator's
 * variance). The input is zero-filled to dim_pad and then rotated.
 *
 * The map is Q = prod over rounds r = 0..R-1 (applied in order) of
 *     K * H_r * S_r
 * where S_r flips the signs of the coordinates whose bit is set in round r,
 * H_r is the orthonormal Walsh-Hadamard transform (k->fht_f32 scaled by
 * 1/sqrt(n)) on the first (r even) or last (r odd) n coordinates, n being the
 * largest power of two <= dim_pad, and K is the orthonormal Kac butterfly
 * (x_i, x_{i+h}) -> ((x_i + x_{i+h}), (x_i - x_{i+h})) / sqrt(2), h = dim_pad/2,
 * present only when dim_pad is not a power of two. Every factor is symmetric
 * and orthogonal, so Q^T applies the same factors in reverse order.
 *
 * Sign bits: a splitmix64 stream seeded with `seed` (state += 0x9e3779b97f4a7c15,
 * then the splitmix64 finaliser) fills words 0, 1, 2, ... of `signs`; round r
 * uses words [r * dim_pad/64, (r+1) * dim_pad/64) and bit i % 64 of word
 * i / 64 negates coordinate i. The same (dim, seed) gives bit-identical signs
 * on every platform, so an index needs to persist only (dim, seed).
 */
#ifndef RUV_ENGINE_ROTATION_H
#define RUV_ENGINE_ROTATION_H

#include <stddef.h>
#include <stdint.h>

#include <ruvector/kernel.h>

#define RUV__ROTATION_ROUNDS 4u

struct ruv__rotation {
    uint32_t dim;     /* input dimension, >= 1 */
    uint32_t dim_pad; /* 64 * ceil(dim / 64) */
    uint32_t rounds;  /* RUV__ROTATION_ROUNDS */
    uint32_t fht_n;   /* largest power of two <= dim_pad */
    uint64_t seed;
    uint64_t *signs;  /* rounds * dim_pad / 64 words, owned */
};


/* Padded dimension for dim (0 if dim is 0 or the padding overflows uint32). */
uint32_t ruv__rotation_dim_pad(uint32_t dim);

/* Fills *r for dim >= 1. Returns RUV_OK, RUV_E_INVAL (dim 0 or too large) or
 * RUV_E_NOMEM; on failure *r is zeroed and needs no free. */
int ruv__rotation_init(struct ruv__rotation *r, uint32_t dim, uint64_t seed);

/* Releases r->signs and zeroes *r. Safe on a zeroed struct. */
void ruv__rotation_free(struct ruv__rotation *r);

/* out[0..dim_pad) = Q * (in[0..dim) zero-filled to dim_pad). in may equal out
 * (then out must hold dim_pad floats). */
void ruv__rotation_apply(const struct ruv__rotation *r, const struct ruv_kernel_ops *k,
                         const float *in, float *out);

/* out[0..dim_pad) = Q^T * in[0..dim_pad), the inverse. in may equal out. The
 * original vector is out[0..dim); out[dim..dim_pad) is ~0 for a vector that
 * came from ruv__rotation_apply. */
void ruv__rotation_apply_inverse(const struct ruv__rotation *r, const struct ruv_kernel_ops *k,
                                 const float *in, float *out);

/* The sign pass of a round: x_i *= (bit i of bits set ? -s : s) for i in
 * [lo, hi), whole 64-coordinate words. portable = 1 takes the scalar form
 * (the test of the SSE2 form compares the two bit for bit). */
void ruv__rotation_sign_scale(float *x, const uint64_t *bits, uint32_t lo, uint32_t hi, float s,
                              int portable);

#endif
