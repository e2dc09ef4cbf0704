/* Software prefetch for the f32 row scans, shared by the x86 kernel plugins
 * (ISA-neutral: __builtin_prefetch compiles to prefetcht0 on x86 and prfm on
 * ARM). Plugin-private: never installed, never included by the engine. */
#ifndef RUV_PLUGINS_COMMON_PREFETCH_H
#define RUV_PLUGINS_COMMON_PREFETCH_H

#include <stddef.h>

/* Rows this far ahead (in bytes) are prefetched while the current ones are
 * scored: measured on the AVX2 build, the hardware prefetchers alone left a
 * DRAM-resident scan at about 70 % of streaming bandwidth, and 4-16 KiB of
 * look-ahead brought it to 85-90 %. */
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
