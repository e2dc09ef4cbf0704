/* The ruvec2 file (rulake.md §10.2): a 128-byte checked header, sorted u64
 * ids, zero padding, then 64-byte-aligned f32 rows (mmap-able). Contracts
 * in ruvec.h. */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "crypto.h"
#include "digest_pool.h"
#include "lake_error.h"
#include "lake_write.h"
#include "ruvec_internal.h"
#include "witness.h"

#define HDR RUV_LAKE_RUVEC2_HEADER_BYTES
#define CHECKED_BYTES 120 /* the header check covers bytes 0..119 */

static uint64_t vectors_offset_for(uint64_t count) { return (HDR + 8 * count + 63) / 64 * 64; }

static int header_check(const uint8_t *h, uint8_t out[8])
{
    uint8_t d[32];
    const struct ruv__lake_span span = {h, CHECKED_BYTES};
    int st = ruv__lake_shake256(&span, 1, d, 32);
    memcpy(out, d, 8);
    return st;
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

int ruv__lake_ruvec2_header_decode(const uint8_t h[HDR], struct ruv__lake_ruvec_info *out)
{
    memset(out, 0, sizeof *out);
    if (memcmp(h, "ruvec2\0\0", 8) != 0)
        return ruv__detail_set(RUV_E_CORRUPT, "not a ruvec2 file (bad magic)");
    uint8_t check[8];
    int st = header_check(h, check);
    if (st != RUV_OK)
        return st;
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION /* lets mutations reach the field checks */
    if (memcmp(check, h + CHECKED_BYTES, 8) != 0)
        return ruv__detail_set(RUV_E_INTEGRITY, "ruvec2 header check does not match");
#endif
    uint32_t header_size = ruv__lake_get_u32le(h + 8), flags = ruv__lake_get_u32le(h + 12);
    if (header_size != HDR)
        return ruv__detail_set(RUV_E_CORRUPT, "header_size %u, expected %u", header_size, HDR);
    if (flags != 0)
        return ruv__detail_set(RUV_E_CORRUPT, "unknown must-understand flags 0x%08x", flags);
    if (ruv__lake_get_u32le(h + 28) != 0 || !all_zero(h + 104, 16))
        return ruv__detail_set(RUV_E_CORRUPT, "reserved header bytes are not zero");
    out->version = 2;
    out->count = ruv__lake_get_u64le(h + 16);
    out->dim = ruv__lake_get_u32le(h + 24);
    if ((st = ruv__lake_ruvec_caps(out->count, out->dim, RUV_E_CORRUPT)) != RUV_OK)
        return st;
    out->ids_offset = ruv__lake_get_u64le(h + 32);
    out->vectors_offset = ruv__lake_get_u64le(h + 40);
    out->file_size = ruv__lake_get_u64le(h + 48);
    if (out->ids_offset != HDR)
        return ruv__detail_set(RUV_E_CORRUPT, "ids_offset %" PRIu64 ", expected %u",
                               out->ids_offset, HDR);
    uint64_t vo = vectors_offset_for(out->count);
    if (out->vectors_offset != vo)
        return ruv__detail_set(RUV_E_CORRUPT, "vectors_offset %" PRIu64 ", expected %" PRIu64,
                               out->vectors_offset, vo);
    uint64_t fs = vo + 4 * out->count * out->dim;
    if (out->file_size != fs)
        return ruv__detail_set(RUV_E_CORRUPT, "file_size %" PRIu64 ", expected %" PRIu64,
                               out->file_size, fs);
    memcpy(out->write_token, h + 56, 16);
    memcpy(out->content_digest, h + 72, 32);
    out->has_digest = 1;
    ruv__lake_hex(out->write_token, 16, out->generation);
    return RUV_OK;
}

int ruv__lake_ruvec2_describe(int fd, const struct stat *st, struct ruv__lake_ruvec_info *out)
{
    uint8_t h[HDR];
    if ((uint64_t)st->st_size < HDR)
        return ruv__detail_set(RUV_E_CORRUPT, "%lld bytes: truncated in the 128-byte header",
                               (long long)st->st_size);
    int rc = ruv__lake_pread_all(fd, h, HDR, 0, "the header");
    if (rc == RUV_OK)
        rc = ruv__lake_ruvec2_header_decode(h, out);
    if (rc == RUV_OK && (uint64_t)st->st_size != out->file_size)
        rc = ruv__detail_set(RUV_E_CORRUPT, "file is %lld bytes, header says %" PRIu64
                             " (truncated or appended to)", (long long)st->st_size,
                             out->file_size);
    return rc;
}

/* Little-endian file → host order, in place (nothing to do on LE hosts). */
static void from_le(uint64_t *ids, uint64_t n, float *v, uint64_t nf)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    (void)ids, (void)n, (void)v, (void)nf;
#else
    for (uint64_t i = 0; i < n; i++)
        ids[i] = ruv__lake_get_u64le((const uint8_t *)&ids[i]);
    for (uint64_t i = 0; i < nf; i++) {
        uint32_t u = ruv__lake_get_u32le((const uint8_t *)&v[i]);
        memcpy(&v[i], &u, 4);
    }
#endif
}

int ruv__lake_ruvec2_read(int fd, const struct stat *st, struct ruv__lake_ruvec_info *info,
                          struct ruv__lake_ruvec_rows *out)
{
    int rc = ruv__lake_ruvec2_describe(fd, st, info);
    if (rc != RUV_OK)
        return rc;
    uint64_t n = info->count, nf = n * info->dim;
    uint64_t pad = info->vectors_offset - HDR - 8 * n;
    uint8_t zeros[64];
    out->n = n;
    out->dim = info->dim;
    out->ids = malloc(n ? (size_t)n * 8 : 1);
    out->vectors = malloc(nf ? (size_t)nf * 4 : 1);
    if (!out->ids || !out->vectors)
        return ruv__detail_set(RUV_E_NOMEM, "out of memory for %" PRIu64 " rows of dim %u", n,
                               info->dim);
    if ((rc = ruv__lake_pread_all(fd, out->ids, (size_t)n * 8, HDR, "the ids")) != RUV_OK ||
        (rc = ruv__lake_pread_all(fd, zeros, (size_t)pad, HDR + 8 * n, "the padding")) !=
            RUV_OK ||
        (rc = ruv__lake_pread_all(fd, out->vectors, (size_t)nf * 4, info->vectors_offset,
                                  "the vectors")) != RUV_OK)
        return rc;
    if (!all_zero(zeros, (size_t)pad))
        return ruv__detail_set(RUV_E_CORRUPT, "padding between ids and vectors is not zero");
    from_le(out->ids, n, out->vectors, nf);
    /* Ascending ids and finite floats are structure (CORRUPT); a body that
     * is well formed but not the one the header names is INTEGRITY. */
    if ((rc = ruv__lake_rows_check(out->ids, out->vectors, NULL, n, info->dim)) != RUV_OK)
        return ruv__detail_prefix(RUV_E_CORRUPT, "body");
    uint8_t d[32];
    /* Leaves on the pool the lake lends to a pull (serial elsewhere). */
    if ((rc = ruv__lake_digest_pooled(ruv__lake_pool_get(), out->ids, out->vectors, NULL, n,
                                      info->dim, 0, d)) != RUV_OK)
        return rc;
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    if (memcmp(d, info->content_digest, 32) != 0)
        return ruv__detail_set(RUV_E_INTEGRITY,
                               "content digest does not match the header (body changed)");
#endif
    return RUV_OK;
}

/* ---- writing ---- */

struct out_buf {
    struct ruv__lake_out *out;
    size_t len;
    int st;
    uint8_t b[1 << 16];
};

static void emit(struct out_buf *o, const void *p, size_t n)
{
    const uint8_t *s = p;
    while (o->st == RUV_OK && n > 0) {
        size_t room = sizeof o->b - o->len, k = n < room ? n : room;
        memcpy(o->b + o->len, s, k);
        o->len += k;
        s += k;
        n -= k;
        if (o->len == sizeof o->b) {
            o->st = ruv__lake_out_write(o->out, o->b, o->len, "a ruvec2 file");
            o->len = 0;
        }
    }
}

struct v2_job {
    const uint64_t *ids;
    const float *vectors;
    const uint64_t *order;
    uint64_t n;
    uint32_t dim;
    const uint8_t *header;
    uint64_t pad;
};

static int fill_v2(struct ruv__lake_out *out, void *ctx)
{
    const struct v2_job *j = ctx;
    struct out_buf *o = malloc(sizeof *o);
    if (!o)
        return ruv__detail_set(RUV_E_NOMEM, "out of memory for a write buffer");
    o->out = out;
    o->len = 0;
    o->st = RUV_OK;
    emit(o, j->header, HDR);
    for (uint64_t i = 0; i < j->n; i++) {
        uint8_t le[8];
        ruv__lake_put_u64le(le, j->ids[j->order[i]]);
        emit(o, le, 8);
    }
    static const uint8_t zeros[64];
    emit(o, zeros, (size_t)j->pad);
    for (uint64_t i = 0; i < j->n; i++) {
        const float *v = j->vectors + j->order[i] * j->dim;
        for (uint32_t c = 0; c < j->dim; c++) {
            uint8_t le[4];
            ruv__lake_put_u32le(le, ruv__lake_f32_bits(v[c]));
            emit(o, le, 4);
        }
    }
    if (o->st == RUV_OK && o->len)
        o->st = ruv__lake_out_write(out, o->b, o->len, "a ruvec2 file");
    int st = o->st;
    free(o);
    return st;
}

int ruv__lake_ruvec2_write_at(int root_fd, const char *name, const uint64_t *ids,
                              const float *vectors, uint64_t n, uint32_t dim,
                              struct ruv__lake_ruvec_info *info)
{
    int st = ruv__lake_fs_name_check(name);
    if (st == RUV_OK)
        st = ruv__lake_ruvec_caps(n, dim, RUV_E_INVAL);
    if (st != RUV_OK)
        return st;
    uint64_t *order;
    if ((st = ruv__lake_sort_order(ids, n, &order)) != RUV_OK)
        return st;
    uint8_t h[HDR] = {0}, digest[32];
    if ((st = ruv__lake_content_digest(ids, vectors, order, n, dim, digest)) != RUV_OK) {
        free(order);
        return st;
    }
    uint64_t vo = vectors_offset_for(n);
    memcpy(h, "ruvec2\0\0", 8);
    ruv__lake_put_u32le(h + 8, HDR);
    ruv__lake_put_u64le(h + 16, n);
    ruv__lake_put_u32le(h + 24, dim);
    ruv__lake_put_u64le(h + 32, HDR);
    ruv__lake_put_u64le(h + 40, vo);
    ruv__lake_put_u64le(h + 48, vo + 4 * n * dim);
    memcpy(h + 72, digest, 32);
    if ((st = ruv__lake_random(h + 56, 16)) == RUV_OK) /* a new write_token every write */
        st = header_check(h, h + CHECKED_BYTES);
    if (st == RUV_OK) {
        struct v2_job job = {ids, vectors, order, n, dim, h, vo - HDR - 8 * n};
        st = ruv__lake_write_at(root_fd, name, fill_v2, &job);
    }
    free(order);
    if (st == RUV_OK && info)
        st = ruv__lake_ruvec2_header_decode(h, info);
    return st;
}
