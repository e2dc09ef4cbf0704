/* AVX-512 fast Walsh-Hadamard transform (design notes: impl.h). */
#include "impl.h"

/* -------------------------------------------------------------- FHT --- */

/* Butterfly of the lanes h apart inside a vector, given those lanes swapped
 * (s) and the sign pattern (+1 on the lower lane of each pair): the lower
 * lane gets x + s, the upper s - x. Multiplying by +-1 is exact, so each lane
 * is rounded once, exactly as the scalar a + b / a - b. */
RUV_INLINE __m512 fly(__m512 x, __m512 swapped, __m512 sign)
{
    return _mm512_fmadd_ps(x, sign, swapped);
}

/* 128-bit lanes [1, 0, 3, 2]: the h = 4 partner of every float. */
RUV_INLINE __m512 swap_lane_pairs(__m512 v)
{
    __m512i i = _mm512_castps_si512(v);
    return _mm512_castsi512_ps(_mm512_shuffle_i32x4(i, i, 0xB1));
}

/* 128-bit lanes [2, 3, 0, 1]: the h = 8 partner of every float. */
RUV_INLINE __m512 swap_halves(__m512 v)
{
    __m512i i = _mm512_castps_si512(v);
    return _mm512_castsi512_ps(_mm512_shuffle_i32x4(i, i, 0x4E));
}

/* Levels h = 1, 2, 4, 8 of every 16-float group, in registers. */
static void fht_levels_1_to_8(float *x, size_t n)
{
    const __m512 s1 = _mm512_setr_ps(1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1);
    const __m512 s2 = _mm512_setr_ps(1, 1, -1, -1, 1, 1, -1, -1, 1, 1, -1, -1, 1, 1, -1, -1);
    const __m512 s4 = _mm512_setr_ps(1, 1, 1, 1, -1, -1, -1, -1, 1, 1, 1, 1, -1, -1, -1, -1);
    const __m512 s8 = _mm512_setr_ps(1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1, -1);
    for (size_t i = 0; i < n; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        v = fly(v, _mm512_shuffle_ps(v, v, 0xB1), s1);
        v = fly(v, _mm512_shuffle_ps(v, v, 0x4E), s2);
        v = fly(v, swap_lane_pairs(v), s4);
        v = fly(v, swap_halves(v), s8);
        _mm512_storeu_ps(x + i, v);
    }
}

/* n = 8: levels h = 1, 2, 4 in one ymm. */
static void fht_8(float *x)
{
    const __m256 s1 = _mm256_setr_ps(1, -1, 1, -1, 1, -1, 1, -1);
    const __m256 s2 = _mm256_setr_ps(1, 1, -1, -1, 1, 1, -1, -1);
    const __m256 s4 = _mm256_setr_ps(1, 1, 1, 1, -1, -1, -1, -1);
    __m256 v = _mm256_loadu_ps(x);
    v = _mm256_fmadd_ps(v, s1, _mm256_permute_ps(v, 0xB1));
    v = _mm256_fmadd_ps(v, s2, _mm256_permute_ps(v, 0x4E));
    v = _mm256_fmadd_ps(v, s4, _mm256_permute2f128_ps(v, v, 0x01));
    _mm256_storeu_ps(x, v);
}

/* Levels h and 2h in one pass over memory (h >= 16, 4h <= n). */
static void fht_radix4(float *x, size_t n, size_t h)
{
    for (size_t i = 0; i < n; i += 4 * h) {
        for (size_t j = i; j < i + h; j += 16) {
            __m512 a = _mm512_loadu_ps(x + j), b = _mm512_loadu_ps(x + j + h);
            __m512 c = _mm512_loadu_ps(x + j + 2 * h), d = _mm512_loadu_ps(x + j + 3 * h);
            __m512 ab = _mm512_add_ps(a, b), amb = _mm512_sub_ps(a, b);
            __m512 cd = _mm512_add_ps(c, d), cmd = _mm512_sub_ps(c, d);
            _mm512_storeu_ps(x + j, _mm512_add_ps(ab, cd));
            _mm512_storeu_ps(x + j + 2 * h, _mm512_sub_ps(ab, cd));
            _mm512_storeu_ps(x + j + h, _mm512_add_ps(amb, cmd));
            _mm512_storeu_ps(x + j + 3 * h, _mm512_sub_ps(amb, cmd));
        }
    }
}

/* One level h (h >= 16, 2h <= n). */
static void fht_radix2(float *x, size_t n, size_t h)
{
    for (size_t i = 0; i < n; i += 2 * h) {
        for (size_t j = i; j < i + h; j += 16) {
            __m512 a = _mm512_loadu_ps(x + j), b = _mm512_loadu_ps(x + j + h);
            _mm512_storeu_ps(x + j, _mm512_add_ps(a, b));
            _mm512_storeu_ps(x + j + h, _mm512_sub_ps(a, b));
        }
    }
}

static void fht_scalar(float *x, size_t n)
{
    for (size_t h = 1; h < n; h *= 2)
        for (size_t i = 0; i < n; i += 2 * h)
            for (size_t j = i; j < i + h; j++) {
                float a = x[j], b = x[j + h];
                x[j] = a + b;
                x[j + h] = a - b;
            }
}

void ruv__avx512_fht_f32(float *x, size_t n)
{
    if (n < 8) {
        fht_scalar(x, n);
        return;
    }
    if (n == 8) {
        fht_8(x);
        return;
    }
    fht_levels_1_to_8(x, n);
    size_t h = 16;
    for (; 4 * h <= n; h *= 4)
        fht_radix4(x, n, h);
    if (h < n)
        fht_radix2(x, n, h);
}
