/* Software prefetch for the f32 row scans, shared by the x86 kernel plugins
 * (ISA-neutral: __builtin_prefetch compiles to prefetcht0 on x86 and prfm on
 * ARM). Plugin-private: never installed, never included by the engine. */
#ifndef RUV_PLUGINS_COMMON_PREFETCH_H
#define RUV_PLUGINS_COMMON_PREFETCH_H

#include <stddef.h>
#include <stdint.h>

/* One line far ahead of a sequential row scan (l2sq_f32_1xN_below, the
 * FlatF32Index scan from DRAM): called for every row, it prefetches once per
 * 512 bytes of rows (every row from D = 128 up), RUV_STREAM_AHEAD_BYTES
 * ahead, which starts the hardware streams and page walks of the next pages
 * early. On a shared Zen 3 EPYC, one thread, 64 KiB measured best
 * (demo-100k and 1M x 128: about 1.3x the scan without it; 16 KiB 1.1-1.2x,
 * 128-256 KiB no better than 64); prefetching every line 2-8 KiB ahead was
 * slower than none, and so was one prefetch per 64 bytes at D = 32. On a
 * Zen 4 EPYC (session 12; avx512 plugin, demo-100k and 1M x 128, against
 * faiss in the same process) no distance from none to 512 KiB won twice:
 * the ratios moved 1.03-1.17x faiss between runs, none first in one run
 * and 256 KiB in the next, so 64 KiB stays (-D overrides it for such
 * sweeps). The address may lie past the end of the array: x86 prefetches
 * never fault, and it is formed as an integer so that no out-of-bounds
 * pointer is computed. */
#ifndef RUV_STREAM_AHEAD_BYTES
#define RUV_STREAM_AHEAD_BYTES 65536u
#endif

static inline void ruv_prefetch_stream(const float *row, size_t row_bytes)
{
    uintptr_t at = (uintptr_t)row;
    if ((at & 511u) < row_bytes)
        __builtin_prefetch((const void *)(at + RUV_STREAM_AHEAD_BYTES), 0, 3);
}

/* Rows this far ahead (in bytes) are prefetched while the current ones are
 * scored: measured on the AVX2 build, the hardware prefetchers alone left a
 * DRAM-resident scan at about 70 % of streaming bandwidth, and 4-16 KiB of
 * look-ahead brought it to 85-90 %. (GCC 12 at -O2 deletes ruv_prefetch4's
 * loops, which hold nothing but prefetches, so GCC builds of score_1xN do
 * not prefetch at all; l2sq_f32_1xN_below uses ruv_prefetch_stream.) */
#define RUV_PREFETCH_BYTES 8192u

/* Look-ahead in rows, a multiple of 4 (the scans score four rows at a time). */
static inline size_t ruv_prefetch_rows(size_t stride)
{
    size_t rows = RUV_PREFETCH_BYTES / (stride * sizeof(float) + 1);
    return rows < 4 ? 4 : rows / 4 * 4;
}

/* Every cache line of four rows starting at r. */
static inline void ruv_prefetch4(const float *r, size_t stride, size_t dim)
{
    for (int k = 0; k < 4; k++, r += stride)
        for (size_t b = 0; b < dim * sizeof(float); b += 64)
            __builtin_prefetch((const char *)r + b, 0, 3);
}

#endif
