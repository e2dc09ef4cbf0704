/* ruvector's ruvec1 file, read for compatibility (rulake.md §10.2):
 * "ruvec1\0\0", u64 count, u32 dim, u32 reserved, then count rows of
 * u64 id + dim f32, all little-endian. It carries no checksum and no
 * generation, so its generation is built from fstat: a best effort that
 * exact change detection (ruvec2's write_token) does not need. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "lake_error.h"
#include "ruvec_internal.h"
#include "witness.h"

#define HDR RUV_LAKE_RUVEC1_HEADER_BYTES
#define CHUNK_BYTES (1u << 20) /* rows are read about 1 MiB at a time */

static int64_t ns_of(const struct timespec *t)
{
    return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

int ruv__lake_ruvec1_describe(int fd, const struct stat *st, struct ruv__lake_ruvec_info *out)
{
    uint8_t h[HDR];
    memset(out, 0, sizeof *out);
    if ((uint64_t)st->st_size < HDR)
        return ruv__detail_set(RUV_E_CORRUPT, "%lld bytes: truncated in the 24-byte header",
                               (long long)st->st_size);
    int rc = ruv__lake_pread_all(fd, h, HDR, 0, "the header");
    if (rc != RUV_OK)
        return rc;
    out->version = 1;
    out->count = ruv__lake_get_u64le(h + 8);
    out->dim = ruv__lake_get_u32le(h + 16);
    if (ruv__lake_get_u32le(h + 20) != 0)
        return ruv__detail_set(RUV_E_CORRUPT, "reserved header field is not zero");
    if ((rc = ruv__lake_ruvec_caps(out->count, out->dim, RUV_E_CORRUPT)) != RUV_OK)
        return rc;
    out->file_size = HDR + out->count * (8 + 4 * (uint64_t)out->dim); /* capped: no overflow */
    if ((uint64_t)st->st_size != out->file_size)
        return ruv__detail_set(RUV_E_CORRUPT, "file is %lld bytes; count %" PRIu64
                               " and dim %u need exactly %" PRIu64, (long long)st->st_size,
                               out->count, out->dim, out->file_size);
    snprintf(out->generation, sizeof out->generation,
             "stat1:%ju:%ju:%lld:%lld:%lld", (uintmax_t)st->st_dev, (uintmax_t)st->st_ino,
             (long long)st->st_size, (long long)ns_of(&st->st_mtim),
             (long long)ns_of(&st->st_ctim));
    return RUV_OK;
}

int ruv__lake_ruvec1_read(int fd, const struct stat *st, struct ruv__lake_ruvec_info *info,
                          struct ruv__lake_ruvec_rows *out)
{
    int rc = ruv__lake_ruvec1_describe(fd, st, info);
    if (rc != RUV_OK)
        return rc;
    uint64_t n = info->count;
    uint32_t dim = info->dim;
    size_t row = 8 + 4 * (size_t)dim;
    uint64_t chunk_rows = CHUNK_BYTES / row ? CHUNK_BYTES / row : 1;
    uint64_t *ids = malloc(n ? (size_t)n * 8 : 1);
    float *vec = malloc(n ? (size_t)n * dim * 4 : 1);
    uint8_t *chunk = malloc((size_t)chunk_rows * row);
    uint64_t *order = NULL;
    if (!ids || !vec || !chunk) {
        rc = ruv__detail_set(RUV_E_NOMEM, "out of memory for %" PRIu64 " rows of dim %u", n, dim);
        goto done;
    }
    for (uint64_t first = 0; first < n; first += chunk_rows) {
        uint64_t k = n - first < chunk_rows ? n - first : chunk_rows;
        if ((rc = ruv__lake_pread_all(fd, chunk, (size_t)k * row, HDR + first * row,
                                      "the rows")) != RUV_OK)
            goto done;
        for (uint64_t i = 0; i < k; i++) {
            const uint8_t *r = chunk + i * row;
            ids[first + i] = ruv__lake_get_u64le(r);
            for (uint32_t c = 0; c < dim; c++) {
                uint32_t u = ruv__lake_get_u32le(r + 8 + 4 * (size_t)c);
                memcpy(&vec[(first + i) * dim + c], &u, 4);
            }
        }
    }
    /* ruvec1 rows come in any order; a pull hands them on sorted by id. */
    if ((rc = ruv__lake_sort_order(ids, n, &order)) != RUV_OK)
        goto done;
    if ((rc = ruv__lake_rows_check(ids, vec, order, n, dim)) != RUV_OK) {
        rc = ruv__detail_prefix(RUV_E_CORRUPT, "rows");
        goto done;
    }
    out->n = n;
    out->dim = dim;
    out->ids = malloc(n ? (size_t)n * 8 : 1);
    out->vectors = malloc(n ? (size_t)n * dim * 4 : 1);
    if (!out->ids || !out->vectors) {
        rc = ruv__detail_set(RUV_E_NOMEM, "out of memory for %" PRIu64 " rows of dim %u", n, dim);
        goto done;
    }
    for (uint64_t i = 0; i < n; i++) {
        out->ids[i] = ids[order[i]];
        memcpy(out->vectors + i * dim, vec + order[i] * dim, (size_t)dim * 4);
    }
done:
    free(ids);
    free(vec);
    free(chunk);
    free(order);
    return rc;
}
