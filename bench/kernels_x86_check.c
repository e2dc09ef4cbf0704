/* Standalone timing of the x86 kernel tables against the scalar reference.
 * Not part of the build. The reference must be compiled with baseline flags
 * (as libruvector is), the plugin kernels with their own ISA flags:
 *
 *   gcc -std=c11 -O2 -Iinclude -Iengine -I<dir with ruvector/version.h> \
 *       -c engine/plugin/kernel_scalar.c -o /tmp/ks.o
 *   for f in f32 bits fht ops; do gcc -std=c11 -O2 -Iinclude -mavx2 -mfma -mpopcnt \
 *       -mf16c -c plugins/kernel-avx2/$f.c -o /tmp/avx2-$f.o; done
 *   gcc -std=c11 -O2 -Iinclude -Iengine -I<...> -mavx2 -mfma \
 *       bench/kernels_x86_check.c /tmp/ks.o /tmp/avx2-*.o -lm -o /tmp/kbench
 *   taskset -c 0 /tmp/kbench
 *
 * Every figure is the best of several runs. */
#define _POSIX_C_SOURCE 200809L
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ruvector/kernel.h>

extern const struct ruv_kernel_ops ruv__kernel_scalar_ops;
extern const struct ruv_kernel_ops ruv_avx2_ops;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t rng = 0x9E3779B97F4A7C15u;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void *big(size_t bytes)
{
    void *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p) {
        perror("aligned_alloc");
        exit(1);
    }
    return p;
}

static volatile float sink_f;
static volatile uint32_t sink_u;

/* Streaming read bandwidth: the sum of a float array, eight chains of ymm. */
static float sum_stream(const float *x, size_t n)
{
    __m256 s[8];
    for (int k = 0; k < 8; k++)
        s[k] = _mm256_setzero_ps();
    for (size_t i = 0; i + 64 <= n; i += 64)
        for (int k = 0; k < 8; k++)
            s[k] = _mm256_add_ps(s[k], _mm256_load_ps(x + i + 8 * k));
    for (int k = 1; k < 8; k++)
        s[0] = _mm256_add_ps(s[0], s[k]);
    float o[8];
    _mm256_storeu_ps(o, s[0]);
    return o[0] + o[1] + o[2] + o[3] + o[4] + o[5] + o[6] + o[7];
}

/* Best time of `runs` runs, each repeating the call `reps` times. */
#define BEST(runs, reps, call)                                                                     \
    ({                                                                                             \
        double best_ = 1e30;                                                                       \
        for (int r_ = 0; r_ < (runs); r_++) {                                                      \
            double t0_ = now();                                                                    \
            for (int k_ = 0; k_ < (reps); k_++) {                                                  \
                call;                                                                              \
            }                                                                                      \
            double t_ = (now() - t0_) / (reps);                                                    \
            if (t_ < best_)                                                                        \
                best_ = t_;                                                                        \
        }                                                                                          \
        best_;                                                                                     \
    })

static const struct {
    const char *name;
    const struct ruv_kernel_ops *ops;
} TABLES[] = {{"scalar", &ruv__kernel_scalar_ops}, {"avx2", &ruv_avx2_ops}};
#define NT 2

int main(void)
{
    /* ---- streaming read bandwidth, 256 MiB ---- */
    size_t nbw = (size_t)256 << 20 >> 2;
    float *bw = big(nbw * 4);
    for (size_t i = 0; i < nbw; i++)
        bw[i] = (float)(i & 1023);
    double t = BEST(7, 1, sink_f = sum_stream(bw, nbw));
    printf("stream read 256 MiB: %.2f GB/s\n", (double)nbw * 4 / t / 1e9);
    free(bw);

    /* ---- f32 l2sq 1xN, D = 128 ---- */
    const size_t D = 128;
    size_t nmax = (size_t)1 << 20;
    float *base = big(nmax * D * 4), *q = big(D * 4), *out = big(nmax * 4);
    uint32_t *idx = big(nmax * 4);
    for (size_t i = 0; i < nmax * D; i++)
        base[i] = (float)((int)(next() % 2001) - 1000) / 1000.0f;
    for (size_t i = 0; i < D; i++)
        q[i] = (float)((int)(next() % 2001) - 1000) / 1000.0f;
    static const size_t NF[] = {(size_t)1 << 20, 2048};
    for (int s = 0; s < 2; s++) {
        size_t n = NF[s];
        int reps = n > 100000 ? 1 : 200;
        for (int k = 0; k < NT; k++) {
            const struct ruv_kernel_ops *o = TABLES[k].ops;
            t = BEST(7, reps, o->l2sq_f32_1xN(q, base, D, D, n, out));
            printf("l2sq_f32_1xN     %-6s n=%-8zu D=128: %7.3f ms  %6.2f GB/s\n", TABLES[k].name, n,
                   t * 1e3, (double)n * D * 4 / t / 1e9);
        }
        for (int k = 0; k < NT; k++) {
            const struct ruv_kernel_ops *o = TABLES[k].ops;
            /* a top-10-like threshold: the 10th smallest of the first 1000 rows */
            o->l2sq_f32_1xN(q, base, D, D, 1000, out);
            float th = 1e30f;
            for (int pass = 0; pass < 10; pass++) {
                float m = 1e30f, lo = pass ? th : -1.0f;
                for (size_t i = 0; i < 1000; i++)
                    if (out[i] > lo && out[i] < m)
                        m = out[i];
                th = m;
            }
            t = BEST(7, reps, o->l2sq_f32_1xN_below(q, base, D, D, n, th, idx, out));
            printf("l2sq_1xN_below   %-6s n=%-8zu D=128: %7.3f ms  %6.2f GB/s\n", TABLES[k].name, n,
                   t * 1e3, (double)n * D * 4 / t / 1e9);
        }
    }
    free(base);
    free(out);
    free(idx);
    free(q);

    /* ---- 1-bit codes, words = 2 (D = 128) ---- */
    uint64_t *codes = big(nmax * 2 * 8), *planes = big(16 * 2 * 8);
    uint32_t *res = big(nmax * 4);
    for (size_t i = 0; i < nmax * 2; i++)
        codes[i] = next();
    for (size_t i = 0; i < 32; i++)
        planes[i] = next();
    static const size_t NB[] = {10000, (size_t)1 << 20};
    for (int s = 0; s < 2; s++) {
        size_t n = NB[s];
        int reps = n > 100000 ? 3 : 300;
        for (int k = 0; k < NT; k++) {
            const struct ruv_kernel_ops *o = TABLES[k].ops;
            t = BEST(9, reps, o->xor_popcnt_1xN(planes, codes, 2, n, res));
            printf("xor_popcnt_1xN   %-6s n=%-8zu words=2: %8.1f M codes/s\n", TABLES[k].name, n,
                   (double)n / t / 1e6);
        }
        for (int k = 0; k < NT; k++) {
            const struct ruv_kernel_ops *o = TABLES[k].ops;
            t = BEST(9, reps, o->bitplane_dot_1xN(planes, 4, codes, 2, n, res));
            printf("bitplane_dot_1xN %-6s n=%-8zu words=2 planes=4: %8.1f M codes/s\n",
                   TABLES[k].name, n, (double)n / t / 1e6);
        }
    }
    sink_u = res[0];

    /* ---- FastScan, nsub = 32 (D = 128, 4-bit sub-codes over 4 dims) ---- */
    const size_t nsub = 32;
    uint8_t *fs = (uint8_t *)codes; /* 16 MiB of random bytes: 32768 blocks */
    uint8_t *lut = big(nsub * 16);
    uint16_t *fo = big(nmax * 2);
    for (size_t i = 0; i < nsub * 16; i++)
        lut[i] = (uint8_t)next();
    static const size_t NBL[] = {313, 32768}; /* 10k and 1M codes */
    for (int s = 0; s < 2; s++) {
        size_t nb = NBL[s];
        int reps = nb > 1000 ? 3 : 300;
        for (int k = 0; k < NT; k++) {
            const struct ruv_kernel_ops *o = TABLES[k].ops;
            t = BEST(9, reps, o->fastscan_u8(fs, nsub, nb, lut, fo));
            printf("fastscan_u8      %-6s n=%-8zu nsub=32: %8.1f M codes/s\n", TABLES[k].name,
                   nb * 32, (double)nb * 32 / t / 1e6);
        }
    }

    /* ---- popcnt_u64 and FHT ---- */
    for (int k = 0; k < NT; k++) {
        const struct ruv_kernel_ops *o = TABLES[k].ops;
        volatile uint64_t pcs = 0;
        t = BEST(9, 100, pcs += o->popcnt_u64(codes, 16384));
        printf("popcnt_u64       %-6s words=16384: %6.2f GB/s\n", TABLES[k].name,
               16384.0 * 8 / t / 1e9);
    }
    float *x = big(4096 * 4);
    for (size_t i = 0; i < 4096; i++)
        x[i] = 1e-3f * (float)(i % 7);
    static const size_t NH[] = {128, 1024, 4096};
    for (int s = 0; s < 3; s++)
        for (int k = 0; k < NT; k++) {
            const struct ruv_kernel_ops *o = TABLES[k].ops;
            t = BEST(9, 2000, o->fht_f32(x, NH[s]));
            printf("fht_f32          %-6s n=%-5zu: %8.1f ns\n", TABLES[k].name, NH[s], t * 1e9);
        }
    free(x);
    free(codes);
    free(planes);
    free(res);
    free(lut);
    free(fo);
    return 0;
}
