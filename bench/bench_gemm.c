/* bench_gemm: ruv__sgemm_nt (run-time BLAS vs our fallback) and ruv__kmeans
 * on the demo dataset. Not part of the build or of CI; for people.
 *
 * Build by hand from the top of the tree, against a configured build B:
 *   gcc -std=c11 -O2 -D_GNU_SOURCE -IB -Iinclude -IB/include -Iengine \
 *       bench/bench_gemm.c B/engine/.libs/libruvector_core.a -lltdl -ldl -lm -pthread \
 *       -o bench_gemm
 * Run (the plugin path lets the engine select the best kernel):
 *   ./bench_gemm --plugins B/plugins/kernel-avx2 \
 *       [--blas HINT | --no-blas] [--data base.fvecs] [--threads N] [--nlist 100,1000]
 * Prints the engine report first, so every number names its kernel and CPU.
 * Until the avx2 plugin can be loaded, add -DRUV_BENCH_LINKED_AVX2 and
 * plugins/kernel-avx2/{f32,bits,fht,ops}.c (compiled with -mavx2 -mfma -mpopcnt
 * -mf16c) to use its table linked in; the CPU must have AVX2+FMA+POPCNT+F16C.
 */
#include <ruvector/ruvector.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exec/blas.h"
#include "index/ivf/kmeans.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* fvecs: per row an int32 dimension, then that many floats. */
static float *read_fvecs(const char *path, size_t *n_out, size_t *dim_out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    int32_t d = 0;
    if (fread(&d, sizeof d, 1, f) != 1 || d <= 0) {
        fclose(f);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    size_t row = sizeof(int32_t) + (size_t)d * sizeof(float);
    size_t n = (size_t)bytes / row;
    float *x = malloc(n * (size_t)d * sizeof *x);
    for (size_t i = 0; x && i < n; i++) {
        int32_t di;
        if (fread(&di, sizeof di, 1, f) != 1 || di != d ||
            fread(x + i * (size_t)d, sizeof *x, (size_t)d, f) != (size_t)d) {
            free(x);
            x = NULL;
        }
    }
    fclose(f);
    *n_out = n;
    *dim_out = (size_t)d;
    return x;
}

typedef void (*gemm_fn)(const struct ruv_kernel_ops *, size_t, size_t, size_t, const float *,
                        size_t, const float *, size_t, float *, size_t);

static double time_gemm(gemm_fn fn, const struct ruv_kernel_ops *k, size_t m, size_t n, size_t d,
                        const float *A, const float *B, float *C)
{
    double best = 1e30;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now();
        fn(k, m, n, d, A, d, B, d, C, n);
        double t = now() - t0;
        best = t < best ? t : best;
    }
    return best;
}

int main(int argc, char **argv)
{
    const char *data = "/work/shared/datasets/ruvector-demo-100k/base.fvecs";
    const char *plugins = NULL, *hint = NULL, *kernel = NULL;
    const char *nlists = "100,1000";
    int no_blas = 0;
    unsigned threads_max = 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--no-blas"))
            no_blas = 1;
        else if (!strcmp(argv[i], "--blas") && i + 1 < argc)
            hint = argv[++i];
        else if (!strcmp(argv[i], "--data") && i + 1 < argc)
            data = argv[++i];
        else if (!strcmp(argv[i], "--plugins") && i + 1 < argc)
            plugins = argv[++i];
        else if (!strcmp(argv[i], "--kernel") && i + 1 < argc)
            kernel = argv[++i];
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads_max = (unsigned)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--nlist") && i + 1 < argc)
            nlists = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--plugins DIR] [--kernel NAME] [--blas HINT | --no-blas] "
                            "[--data FILE] [--threads N] [--nlist A,B]\n", argv[0]);
            return 2;
        }
    }

    ruv_config *cfg = NULL;
    ruv_engine *eng = NULL;
    if (ruv_config_new(&cfg) != RUV_OK)
        return 1;
    if (plugins)
        ruv_config_set_plugin_path(cfg, plugins);
    if (kernel)
        ruv_config_set_kernel(cfg, kernel);
    int st = ruv_engine_open(cfg, &eng);
    ruv_config_free(cfg);
    if (st != RUV_OK) {
        fprintf(stderr, "%s: %s\n", ruv_status_name(st), ruv_last_error());
        return 1;
    }
    char *json = NULL;
    if (ruv_engine_report(eng, &json) == RUV_OK) {
        printf("%s\n", json);
        ruv_free(json);
    }
    const struct ruv_kernel_ops *k = ruv_engine_kernel(eng);
    const char *kname = ruv_engine_kernel_name(eng);
#ifdef RUV_BENCH_LINKED_AVX2
    extern const struct ruv_kernel_ops ruv_avx2_ops;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        k = &ruv_avx2_ops;
        kname = "avx2 (linked into the benchmark)";
    }
#endif
    if (!no_blas)
        ruv__blas_load(hint);
    printf("kernel: %s\nblas: %s\n", kname, ruv__blas_describe());

    size_t n, dim;
    float *x = read_fvecs(data, &n, &dim);
    if (!x) {
        fprintf(stderr, "cannot read %s\n", data);
        return 1;
    }
    printf("data: %s (%zu x %zu)\n", data, n, dim);

    /* sgemm: 200 queries (the first rows) against every row. */
    size_t m = 200;
    float *C = malloc(m * n * sizeof *C);
    if (!C)
        return 1;
    double flop = 2.0 * (double)m * (double)n * (double)dim;
    double t_own = time_gemm(ruv__sgemm_nt_own, k, m, n, dim, x, x, C);
    printf("sgemm_nt m=%zu n=%zu d=%zu  own kernels: %.1f ms, %.1f GFLOP/s\n", m, n, dim,
           t_own * 1e3, flop / t_own * 1e-9);
    if (ruv__blas_available()) {
        double t_blas = time_gemm(ruv__sgemm_nt, k, m, n, dim, x, x, C);
        printf("sgemm_nt m=%zu n=%zu d=%zu  BLAS:        %.1f ms, %.1f GFLOP/s\n", m, n, dim,
               t_blas * 1e3, flop / t_blas * 1e-9);
    }
    free(C);

    /* k-means: default sample (all rows up to 256 per centroid) and iterations. */
    for (const char *p = nlists; *p;) {
        size_t nlist = strtoul(p, (char **)&p, 10);
        if (*p == ',')
            p++;
        if (nlist == 0 || nlist > n)
            continue;
        float *cent = malloc(nlist * dim * sizeof *cent);
        uint32_t *asg = malloc(n * sizeof *asg);
        float *dist = malloc(n * sizeof *dist);
        for (unsigned th = 1; th <= threads_max; th++) {
            double t0 = now();
            st = ruv__kmeans(k, x, n, dim, nlist, 0, 0, 1, th, cent);
            double t = now() - t0;
            if (st != RUV_OK) {
                fprintf(stderr, "%s: %s\n", ruv_status_name(st), ruv_last_error());
                return 1;
            }
            double t1 = now();
            ruv__kmeans_assign(k, x, n, dim, cent, nlist, th, asg, dist);
            double ta = now() - t1;
            double sse = 0.0;
            for (size_t i = 0; i < n; i++)
                sse += dist[i];
            printf("kmeans n=%zu d=%zu nlist=%zu threads=%u: %.2f s (assign all rows %.3f s), "
                   "mean sq. distance %.3f\n", n, dim, nlist, th, t, ta, sse / (double)n);
        }
        free(cent);
        free(asg);
        free(dist);
    }
    free(x);
    ruv_engine_close(eng);
    return 0;
}
