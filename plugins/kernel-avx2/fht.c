/* AVX2 fast Walsh-Hadamard transform (design notes: impl.h). */
#include "impl.h"

/* -------------------------------------------------------------- FHT --- */

/* Butterfly of the lanes h apart inside a vector, given those lanes swapped
 * (s) and the sign pattern (+1 on the lower lane of each pair): the lower
 * lane gets x + s, the upper s - x. Multiplying by +-1 is exact, so each lane
 * is rounded once, exactly as the scalar a + b / a - b. */
RUV_INLINE __m256 fly(__m256 x, __m256 swapped, __m256 sign)
{
    return _mm256_fmadd_ps(x, sign, swapped);
}

/* Levels h = 1, 2, 4 of every 8-float group, in registers. */
static void fht_levels_1_2_4(float *x, size_t n)
{
    const __m256 s1 = _mm256_setr_ps(1, -1, 1, -1, 1, -1, 1, -1);
    const __m256 s2 = _mm256_setr_ps(1, 1, -1, -1, 1, 1, -1, -1);
    const __m256 s4 = _mm256_setr_ps(1, 1, 1, 1, -1, -1, -1, -1);
    for (size_t i = 0; i < n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        v = fly(v, _mm256_permute_ps(v, 0xB1), s1);
        v = fly(v, _mm256_permute_ps(v, 0x4E), s2);
        v = fly(v, _mm256_permute2f128_ps(v, v, 0x01), s4);
        _mm256_storeu_ps(x + i, v);
    }
}

/* Levels h and 2h in one pass over memory (h >= 8, 4h <= n). */
static void fht_radix4(float *x, size_t n, size_t h)
{
    for (size_t i = 0; i < n; i += 4 * h) {
        for (size_t j = i; j < i + h; j += 8) {
            __m256 a = _mm256_loadu_ps(x + j), b = _mm256_loadu_ps(x + j + h);
            __m256 c = _mm256_loadu_ps(x + j + 2 * h), d = _mm256_loadu_ps(x + j + 3 * h);
            __m256 ab = _mm256_add_ps(a, b), amb = _mm256_sub_ps(a, b);
            __m256 cd = _mm256_add_ps(c, d), cmd = _mm256_sub_ps(c, d);
            _mm256_storeu_ps(x + j, _mm256_add_ps(ab, cd));
            _mm256_storeu_ps(x + j + 2 * h, _mm256_sub_ps(ab, cd));
            _mm256_storeu_ps(x + j + h, _mm256_add_ps(amb, cmd));
            _mm256_storeu_ps(x + j + 3 * h, _mm256_sub_ps(amb, cmd));
        }
    }
}

/* One level h (h >= 8, 2h <= n). */
static void fht_radix2(float *x, size_t n, size_t h)
{
    for (size_t i = 0; i < n; i += 2 * h) {
        for (size_t j = i; j < i + h; j += 8) {
            __m256 a = _mm256_loadu_ps(x + j), b = _mm256_loadu_ps(x + j + h);
            _mm256_storeu_ps(x + j, _mm256_add_ps(a, b));
            _mm256_storeu_ps(x + j + h, _mm256_sub_ps(a, b));
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

void ruv__avx2_fht_f32(float *x, size_t n)
{
    if (n < 8) {
        fht_scalar(x, n);
        return;
    }
    fht_levels_1_2_4(x, n);
    size_t h = 8;
    for (; 4 * h <= n; h *= 4)
        fht_radix4(x, n, h);
    if (h < n)
        fht_radix2(x, n, h);
}
