/* Run-time BLAS (contract in blas.h). The library is opened with dlopen, not
 * libltdl: it is a system or wheel library found by name, not a ruvector
 * plugin, and RTLD_LOCAL keeps its symbols from interposing on the host's. */
#include "config.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <ruvector/error.h>
#include <ruvector/kernel.h>

#include "base/error.h"
#include "base/util.h"
#include "exec/blas.h"

/* CBLAS enum values, fixed by the CBLAS standard; we do not include cblas.h
 * so the build needs no BLAS headers at all. */
enum { CBLAS_ROW_MAJOR = 101, CBLAS_NO_TRANS = 111, CBLAS_TRANS = 112 };

/* cblas_sgemm with 32-bit integer sizes (LP64 OpenBLAS, scipy-openblas32). */
typedef void (*sgemm_fn)(int order, int transa, int transb, int m, int n, int k, float alpha,
                         const float *a, int lda, const float *b, int ldb, float beta, float *c,
                         int ldc);
typedef void (*set_threads_fn)(int nthreads);
typedef char *(*get_config_fn)(void);

/* Symbol names: the plain CBLAS/OpenBLAS names, then scipy-openblas32's
 * prefixed ones (the wheel renames every symbol so it can coexist with a
 * system OpenBLAS in one process). */
static const char *const sgemm_names[] = {"cblas_sgemm", "scipy_cblas_sgemm"};
static const char *const threads_names[] = {"openblas_set_num_threads",
                                            "scipy_openblas_set_num_threads"};
static const char *const config_names[] = {"openblas_get_config", "scipy_openblas_get_config"};

#if defined(__APPLE__)
static const char *const system_names[] = {"libopenblas.0.dylib", "libopenblas.dylib",
                                           "libcblas.3.dylib", "libblas.3.dylib"};
static const char *const dir_names[] = {"libscipy_openblas.dylib", "libopenblas.0.dylib",
                                        "libopenblas.dylib"};
#else
static const char *const system_names[] = {"libopenblas.so.0", "libopenblas.so", "libcblas.so.3",
                                           "libblas.so.3"};
static const char *const dir_names[] = {"libscipy_openblas.so", "libopenblas.so.0",
                                        "libopenblas.so"};
#endif

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define DESC_SIZE 1024
#define HINT_SIZE 4096

/* Everything below the atomic is written only under blas_mu. The sgemm
 * pointer is published last with release order, so a reader that sees it
 * non-NULL needs no lock (the hot path never takes the mutex). */
static pthread_mutex_t blas_mu = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(sgemm_fn) blas_sgemm;
static int searched;              /* a search ran (and failed, if blas_sgemm is NULL) */
static char desc[DESC_SIZE] = "not searched";

/* dlsym returns an object pointer; POSIX guarantees it converts to a
 * function pointer, and memcpy says so without a pedantic cast warning. */
static void *sym(void *h, const char *const *names, size_t count, const char **found)
{
    for (size_t i = 0; i < count; i++) {
        void *p = dlsym(h, names[i]);
        if (p) {
            if (found)
                *found = names[i];
            return p;
        }
    }
    return NULL;
}

/* Tries one library. On success publishes its sgemm (when publish is set),
 * writes desc and returns 1; otherwise appends "<name>: <why>; " to why and
 * returns 0. Without publish it only checks that the library would do (and
 * stays open: see blas.h on dlclose). */
static int try_lib(const char *path, int verbose_error, int publish, char *why, size_t why_size)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        /* A missing file is the common case and says "not found"; anything
         * else (wrong architecture, broken file, missing dependency) keeps
         * the loader's text, minus the path it repeats. */
        const char *err = dlerror();
        size_t plen = strlen(path);
        if (err && strncmp(err, path, plen) == 0 && strncmp(err + plen, ": ", 2) == 0)
            err += plen + 2;
        if (!err || (!verbose_error && strstr(err, "No such file")))
            err = "not found";
        ruv__append(why, why_size, "%s: %s; ", path, err);
        return 0;
    }

    const char *cfg = NULL;
    void *p = sym(h, config_names, NELEM(config_names), NULL);
    if (p) {
        get_config_fn get_config;
        memcpy(&get_config, &p, sizeof get_config);
        cfg = get_config();
        if (cfg && strstr(cfg, "USE64BITINT")) {
            ruv__append(why, why_size, "%s: 64-bit integer interface; ", path);
            dlclose(h);
            return 0;
        }
    }

    const char *sgemm_name = NULL;
    p = sym(h, sgemm_names, NELEM(sgemm_names), &sgemm_name);
    if (!p) {
        ruv__append(why, why_size, "%s: no cblas_sgemm; ", path);
        dlclose(h);
        return 0;
    }
    sgemm_fn fn;
    memcpy(&fn, &p, sizeof fn);
    if (!publish)
        return 1;

    const char *threads_name = NULL;
    p = sym(h, threads_names, NELEM(threads_names), &threads_name);
    if (p) {
        set_threads_fn set_threads;
        memcpy(&set_threads, &p, sizeof set_threads);
        set_threads(1);
    }

    desc[0] = '\0';
    ruv__append(desc, sizeof desc, "%s (%s%s", path, sgemm_name, threads_name ? ", 1 thread" : "");
    if (cfg)
        ruv__append(desc, sizeof desc, "; %s", cfg);
    ruv__append(desc, sizeof desc, ")");
    /* Never dlclose'd: see blas.h. */
    atomic_store_explicit(&blas_sgemm, fn, memory_order_release);
    return 1;
}

static int try_hint(const char *hint, int publish, char *why, size_t why_size)
{
    struct stat st;
    if (stat(hint, &st) == 0 && S_ISDIR(st.st_mode)) {
        char path[HINT_SIZE + 64];
        int tried = 0;
        for (size_t i = 0; i < NELEM(dir_names); i++) {
            int len = snprintf(path, sizeof path, "%s/%s", hint, dir_names[i]);
            if (len < 0 || (size_t)len >= sizeof path)
                continue;
            if (stat(path, &st) != 0)
                continue; /* only files that exist: no bare-name search from here */
            tried = 1;
            if (try_lib(path, 1, publish, why, why_size))
                return 1;
        }
        if (!tried)
            ruv__append(why, why_size, "%s: no BLAS library in this directory; ", hint);
        return 0;
    }
    return try_lib(hint, 1, publish, why, why_size);
}

int ruv__blas_load(const char *hint_path)
{
    if (hint_path && !*hint_path)
        hint_path = NULL;
    if (!hint_path && atomic_load_explicit(&blas_sgemm, memory_order_acquire))
        return RUV_OK;

    pthread_mutex_lock(&blas_mu);
    int st = RUV_OK;
    /* A BLAS already serves the process: a hint is still checked (a wrong
     * path is an error whichever library runs), but not switched to. */
    const int loaded = atomic_load_explicit(&blas_sgemm, memory_order_relaxed) != NULL;
    if (loaded && !hint_path)
        goto out; /* another thread loaded it meanwhile */
    if (searched && !hint_path) {
        st = ruv__set_error(RUV_E_NOTFOUND, "%s", desc);
        goto out;
    }
    char why[DESC_SIZE - 32] = ""; /* leaves room for the prefix in desc */
    if (hint_path) {
        /* An explicit library is used or refused: never passed over for
         * whatever the system has, which would hide the caller's mistake. */
        if (try_hint(hint_path, !loaded, why, sizeof why))
            goto out;
        size_t wl = strlen(why);
        if (wl >= 2 && why[wl - 2] == ';')
            why[wl - 2] = '\0';
        if (!loaded)
            snprintf(desc, sizeof desc, "none: own kernels (%s)", why);
        st = ruv__set_error(RUV_E_NOTFOUND, "BLAS '%s' cannot be used: %s", hint_path, why);
        goto out;
    }
    searched = 1;
    for (size_t i = 0; i < NELEM(system_names); i++)
        if (try_lib(system_names[i], 0, 1, why, sizeof why))
            goto out;

    size_t len = strlen(why);
    if (len >= 2 && why[len - 2] == ';')
        why[len - 2] = '\0';
    snprintf(desc, sizeof desc, "none: own kernels (%s)", why);
    st = ruv__set_error(RUV_E_NOTFOUND, "%s", desc);
out:
    pthread_mutex_unlock(&blas_mu);
    return st;
}

int ruv__blas_available(void)
{
    return atomic_load_explicit(&blas_sgemm, memory_order_acquire) != NULL;
}

const char *ruv__blas_describe(void)
{
    /* A copy per thread: a retried search may rewrite desc while a caller
     * is still reading what an earlier call returned. */
    static RUV_THREAD_LOCAL char copy[DESC_SIZE];
    pthread_mutex_lock(&blas_mu);
    memcpy(copy, desc, sizeof copy);
    pthread_mutex_unlock(&blas_mu);
    return copy;
}

/* Bytes of B per block in the fallback: half of a 32 KiB L1d, so every query
 * row runs over the block from L1 while the queries stream from L2. The
 * kernel scores one query at a time (no register blocking across queries),
 * which leaves it load-bound; on Zen 3 at d=128, 8-32 KiB blocks measured
 * 10-30 % faster than L2-sized ones (96-384 KiB). Overridable for tuning. */
#ifndef OWN_BLOCK_BYTES
#define OWN_BLOCK_BYTES (16u * 1024u)
#endif

void ruv__sgemm_nt_own(const struct ruv_kernel_ops *k, size_t m, size_t n, size_t d,
                       const float *A, size_t lda, const float *B, size_t ldb, float *C,
                       size_t ldc)
{
    if (m == 0 || n == 0)
        return;
    if (d == 0) {
        for (size_t i = 0; i < m; i++)
            memset(C + i * ldc, 0, n * sizeof *C);
        return;
    }
    /* A multiple of 4 rows: SIMD kernels score rows in fours, so blocks that
     * start on a multiple of 4 keep every row on the same code path. */
    size_t nb = OWN_BLOCK_BYTES / (d * sizeof(float));
    nb = nb < 4 ? 4 : nb & ~(size_t)3;
    for (size_t j0 = 0; j0 < n; j0 += nb) {
        size_t jb = n - j0 < nb ? n - j0 : nb;
        const float *Bj = B + j0 * ldb;
        for (size_t i = 0; i < m; i++)
            k->dot_f32_1xN(A + i * lda, Bj, d, ldb, jb, C + i * ldc + j0);
    }
}

/* Our fallback for C += alpha A B^T: dots of a block into a stack buffer,
 * then added (the block is at most OWN_BLOCK_BYTES / 4 rows for d = 1). */
static void sgemm_nt_acc_own(const struct ruv_kernel_ops *k, size_t m, size_t n, size_t d,
                             float alpha, const float *A, size_t lda, const float *B, size_t ldb,
                             float *C, size_t ldc)
{
    if (m == 0 || n == 0 || d == 0)
        return;
    float tmp[OWN_BLOCK_BYTES / sizeof(float)];
    size_t nb = OWN_BLOCK_BYTES / (d * sizeof(float));
    nb = nb < 4 ? 4 : nb & ~(size_t)3;
    for (size_t j0 = 0; j0 < n; j0 += nb) {
        size_t jb = n - j0 < nb ? n - j0 : nb;
        for (size_t i = 0; i < m; i++) {
            k->dot_f32_1xN(A + i * lda, B + j0 * ldb, d, ldb, jb, tmp);
            float *c = C + i * ldc + j0;
            for (size_t j = 0; j < jb; j++)
                c[j] += alpha * tmp[j];
        }
    }
}

/* One BLAS call per piece below INT_MAX in m and n (its sizes are int);
 * 0 when the arguments must stay off the BLAS path: d == 0 and bad leading
 * dimensions, whose check (xerbla) prints to stderr, which the library must
 * never do. */
static int blas_nt(size_t m, size_t n, size_t d, float alpha, const float *A, size_t lda,
                   const float *B, size_t ldb, float beta, float *C, size_t ldc)
{
    sgemm_fn fn = atomic_load_explicit(&blas_sgemm, memory_order_acquire);
    if (!fn || m == 0 || n == 0 || d == 0 || d > INT_MAX || lda > INT_MAX || ldb > INT_MAX ||
        ldc > INT_MAX || lda < d || ldb < d || ldc < n)
        return 0;
    const size_t cap = (size_t)INT_MAX;
    for (size_t i0 = 0; i0 < m; i0 += cap) {
        size_t mi = m - i0 < cap ? m - i0 : cap;
        for (size_t j0 = 0; j0 < n; j0 += cap) {
            size_t nj = n - j0 < cap ? n - j0 : cap;
            fn(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_TRANS, (int)mi, (int)nj, (int)d, alpha,
               A + i0 * lda, (int)lda, B + j0 * ldb, (int)ldb, beta, C + i0 * ldc + j0,
               (int)ldc);
        }
    }
    return 1;
}

void ruv__sgemm_nt_acc(const struct ruv_kernel_ops *k, size_t m, size_t n, size_t d, float alpha,
                       const float *A, size_t lda, const float *B, size_t ldb, float *C,
                       size_t ldc)
{
    if (!blas_nt(m, n, d, alpha, A, lda, B, ldb, 1.0f, C, ldc))
        sgemm_nt_acc_own(k, m, n, d, alpha, A, lda, B, ldb, C, ldc);
}

void ruv__sgemm_nt(const struct ruv_kernel_ops *k, size_t m, size_t n, size_t d, const float *A,
                   size_t lda, const float *B, size_t ldb, float *C, size_t ldc)
{
    if (!blas_nt(m, n, d, 1.0f, A, lda, B, ldb, 0.0f, C, ldc))
        ruv__sgemm_nt_own(k, m, n, d, A, lda, B, ldb, C, ldc);
}
