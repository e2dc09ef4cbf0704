/* Run-time BLAS: sgemm from a library found when the process runs, never
 * linked at build time (ARCHITECTURE.md: the Python wheel must not vendor
 * OpenBLAS), with a cache-blocked fallback on the kernel table.
 *
 * Search order of ruv__blas_load (first library that has a usable sgemm wins):
 *   1. hint_path: a shared library file, or a directory holding
 *      libscipy_openblas.so / libopenblas.so.0 / libopenblas.so (the lib/
 *      directory of the PyPI scipy-openblas32 wheel is such a directory);
 *   2. libopenblas.so.0, libopenblas.so, libcblas.so.3, libblas.so.3
 *      (bare names: the dynamic linker's usual search).
 * In each library the symbol cblas_sgemm is tried, then scipy-openblas32's
 * prefixed scipy_cblas_sgemm. The optional thread setter
 * (openblas_set_num_threads / scipy_openblas_set_num_threads) is called with
 * 1: the engine parallelises across its own threads, and OpenBLAS's pool on
 * top of ours oversubscribes the cores (rabitq.md §3.4). Note this setting is
 * process-wide for that library, so a host already using the same
 * libopenblas.so.0 sees it too.
 * An OpenBLAS built with 64-bit integers (openblas_get_config() mentions
 * USE64BITINT) is rejected: its cblas_sgemm takes 64-bit sizes.
 *
 * A hint_path that cannot be used is an error (RUV_E_NOTFOUND "BLAS '<hint>'
 * cannot be used: <why>"): the system names are then not tried, so that a
 * wrong explicit path is never hidden by another library.
 * A library, once loaded, stays loaded and selected for the life of the
 * process (OpenBLAS keeps threads and buffers that do not survive dlclose).
 * A failed search of the system names is remembered; a hint is tried on
 * every call until one loads.
 */
#ifndef RUV_ENGINE_BLAS_H
#define RUV_ENGINE_BLAS_H

#include <stddef.h>

#include <ruvector/kernel.h>

/* Finds and loads a BLAS (see above). Thread-safe; cheap after the first
 * call. hint_path may be NULL. Returns RUV_OK when a BLAS is loaded (now or
 * before), RUV_E_NOTFOUND when none was found (the detail names every
 * candidate and why it was skipped); the engine then uses its own kernels,
 * so callers may treat RUV_E_NOTFOUND as informational. */
int ruv__blas_load(const char *hint_path);

/* 1 if a BLAS sgemm is loaded and ruv__sgemm_nt will use it, else 0. */
int ruv__blas_available(void);

/* What was chosen, for the engine's report: e.g.
 * "libopenblas.so.0 (cblas_sgemm, 1 thread)" or
 * "none: own kernels (libopenblas.so.0: not found; ...)", or
 * "not searched" before the first ruv__blas_load. Static storage; valid until
 * the next ruv__blas_load call that retries a failed search. */
const char *ruv__blas_describe(void);

/* C[i*ldc + j] = dot(A row i, B row j) for i < m, j < n, over d floats:
 * A is m x d (queries), B is n x d (database rows), both row-major with
 * leading dimensions lda >= d, ldb >= d; C is m x n with ldc >= n. C is only
 * written, never read. Any of m, n, d may be 0 (d == 0 gives zeros).
 * Uses the loaded BLAS (row-major, NoTrans x Trans) if ruv__blas_load
 * succeeded earlier, else ruv__sgemm_nt_own. Never fails, never allocates. */
void ruv__sgemm_nt(const struct ruv_kernel_ops *k, size_t m, size_t n, size_t d, const float *A,
                   size_t lda, const float *B, size_t ldb, float *C, size_t ldc);

/* C[i*ldc + j] += alpha * dot(A row i, B row j): as ruv__sgemm_nt with
 * beta = 1, so C is read. Lets a caller start C at a value it needs anyway
 * (the flat index's squared norms) instead of the BLAS zeroing it first,
 * which OpenBLAS does in a separate pass (8 % of a flat batch). */
void ruv__sgemm_nt_acc(const struct ruv_kernel_ops *k, size_t m, size_t n, size_t d, float alpha,
                       const float *A, size_t lda, const float *B, size_t ldb, float *C,
                       size_t ldc);

/* The fallback alone (same contract), built on k->dot_f32_1xN: B is cut into
 * blocks of rows that fit in L1 (16 KiB), and every query row runs over a
 * block while it is cache-resident. Exposed for tests and benchmarks. For
 * fixed (n, d) the value of C[i][j] does not depend on m or on which rows A
 * holds. */
void ruv__sgemm_nt_own(const struct ruv_kernel_ops *k, size_t m, size_t n, size_t d,
                       const float *A, size_t lda, const float *B, size_t ldb, float *C,
                       size_t ldc);

#endif
