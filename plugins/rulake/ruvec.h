/* FsBackend's files (rulake.md §10.2): our ruvec2 (written and read) and
 * ruvector's ruvec1 (read only). Files live in one root directory, are
 * named by ruvector's filename rules and opened with
 * openat(root_fd, name, O_NOFOLLOW). Readers never write. */
#ifndef RULAKE_RUVEC_H
#define RULAKE_RUVEC_H

#include <stddef.h>
#include <stdint.h>

#define RUV_LAKE_RUVEC2_HEADER_BYTES 128u
#define RUV_LAKE_RUVEC1_HEADER_BYTES 24u
#define RUV_LAKE_RUVEC_MAX_COUNT 100000000u
#define RUV_LAKE_RUVEC_MAX_DIM 8192u
#define RUV_LAKE_RUVEC_MAX_VECTOR_BYTES (UINT64_C(16) << 30) /* count * dim * 4 */
#define RUV_LAKE_RUVEC_GEN_MAX 128 /* "stat1:..." or 32 hex digits, with NUL */

/* What describe learns from a header (and fstat). */
struct ruv__lake_ruvec_info {
    int version; /* 1 or 2 */
    uint64_t count;
    uint32_t dim;
    uint64_t file_size;
    /* ruvec2 only: */
    uint64_t ids_offset, vectors_offset;
    uint8_t write_token[16];
    uint8_t content_digest[32];
    int has_digest; /* 1 for ruvec2 */
    /* The opaque generation: hex(write_token) for ruvec2, the best-effort
     * "stat1:<dev>:<ino>:<size>:<mtime_ns>:<ctime_ns>" for ruvec1. */
    char generation[RUV_LAKE_RUVEC_GEN_MAX];
};

/* Rows of a pull, sorted by id (strictly ascending, all floats finite).
 * ids and vectors are malloc'd; release with ruv__lake_ruvec_rows_free. */
struct ruv__lake_ruvec_rows {
    uint64_t n;
    uint32_t dim;
    uint64_t *ids;
    float *vectors; /* n * dim, row-major */
};
void ruv__lake_ruvec_rows_free(struct ruv__lake_ruvec_rows *rows);

/* ruvector's filename rules: non-empty, at most 255 bytes, not "." or "..",
 * no byte below 0x20 or equal to 0x7F, no '/', '\\' or ':'. Returns RUV_OK
 * or RUV_E_INVAL saying which rule the name breaks. */
int ruv__lake_fs_name_check(const char *name);

/* Opens dirfd/name read-only without following a symlink (RUV_E_CORRUPT)
 * or hanging on a FIFO; a missing file is RUV_E_NOTFOUND, another failure
 * RUV_E_IO, each detail starting with name. Does not apply the filename
 * rules. The caller closes *fd. */
int ruv__lake_open_read_at(int dirfd, const char *name, int *fd);

/* Decodes and checks a ruvec2 header (magic, header_size, flags, caps,
 * offsets, reserved bytes, header check). Does not know the file size. */
int ruv__lake_ruvec2_header_decode(const uint8_t h[RUV_LAKE_RUVEC2_HEADER_BYTES],
                                   struct ruv__lake_ruvec_info *out);

/* describe: reads only the header of an open file (either version, by its
 * magic) and checks it against fstat. */
int ruv__lake_ruvec_describe_fd(int fd, struct ruv__lake_ruvec_info *out);

/* pull: reads the whole file (either version). ruvec2: size = file_size
 * checked by fstat before reading, ids strictly ascending, zero padding,
 * the content digest recomputed. ruvec1: size exactly 24 + count * (8 + 4 *
 * dim), rows sorted by id, duplicates and non-finite floats refused. info
 * may be NULL. Errors: RUV_E_CORRUPT (structure), RUV_E_INTEGRITY
 * (header check, content digest), RUV_E_IO, RUV_E_NOMEM. */
int ruv__lake_ruvec_read_fd(int fd, struct ruv__lake_ruvec_info *info,
                            struct ruv__lake_ruvec_rows *out);

/* The same on root_fd/name, after the filename rules, opened O_NOFOLLOW
 * (a symlink is refused). Details start with the name. RUV_E_NOTFOUND when
 * the file does not exist. */
int ruv__lake_ruvec_describe_at(int root_fd, const char *name, struct ruv__lake_ruvec_info *out);
int ruv__lake_ruvec_read_at(int root_fd, const char *name, struct ruv__lake_ruvec_info *info,
                            struct ruv__lake_ruvec_rows *out);

/* Writes root_fd/name as ruvec2 from n rows in any order (sorted by id on
 * the way out; duplicate ids and non-finite floats refused), with a fresh
 * random write_token. info (may be NULL) receives the header written. */
int ruv__lake_ruvec2_write_at(int root_fd, const char *name, const uint64_t *ids,
                              const float *vectors, uint64_t n, uint32_t dim,
                              struct ruv__lake_ruvec_info *info);

/* A permutation sorting ids ascending (malloc'd, n entries; NULL when
 * n = 0), for hashing rows in id order without moving them. */
int ruv__lake_sort_order(const uint64_t *ids, uint64_t n, uint64_t **order);

#endif
