/* Engine-private to store/: the container layout and the helpers the
 * writer (writer.c), the reader (reader.c) and section cursors (cursor.c)
 * share (container.c).
 *
 * Header (64 bytes, little-endian):
 *    0  magic "RUVIDX\0\1"     8
 *    8  format version u32     (2; 1 is still read)
 *   12  header size u32        (64)
 *   16  flags u32              (0)
 *   20  section count u32
 *   24  file size u64          (must equal the real size)
 *   32  section-table offset u64
 *   40  CRC-32C of the section table u32
 *   44  CRC-32C of the header with this field zeroed u32
 *   48  reserved, zero        16
 * Section table entry (32 bytes): tag[4], flags u32 (0), offset u64,
 * length u64, CRC-32C of the payload u32, reserved u32 (0).
 *
 * The reader accepts exactly what the writer produces: sections in file
 * order, each at the first 64-byte boundary after the previous one (the
 * first right after the header), the table at the first boundary after the
 * last payload, the file ending with the table. Then every byte of the file
 * is either checksummed or zero padding that the reader checks, so any
 * corruption anywhere is detected rather than silently loaded. */
#ifndef RUV_ENGINE_STORE_CONTAINER_H
#define RUV_ENGINE_STORE_CONTAINER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "store/persist.h"

#define HDR RUV__FILE_HEADER_SIZE
#define ENT RUV__FILE_ENTRY_SIZE
#define ALIGN RUV__FILE_ALIGN

/* ALIGN zero bytes: the padding between sections. */
extern const unsigned char ruv__zero_pad[ALIGN];

/* In a fuzzing build checksum mismatches are not fatal, so the fuzzer gets
 * past the CRCs and exercises the structural checks, which must be safe on
 * their own (the CRCs are still computed over the same ranges). */
static inline int ruv__crc_differs(uint32_t stored, uint32_t computed)
{
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    (void)stored;
    (void)computed;
    return 0;
#else
    return stored != computed;
#endif
}

static inline uint64_t ruv__align_up(uint64_t v)
{
    return (v + (ALIGN - 1)) & ~(uint64_t)(ALIGN - 1);
}

/* Tags are printed in messages and documented as names: [A-Za-z0-9_]{4}. */
int ruv__tag_valid(const char *tag);

/* Whole-buffer I/O that retries short transfers and EINTR; 0 or -1 (errno). */
int ruv__write_all(int fd, const unsigned char *p, size_t n);
int ruv__pwrite_all(int fd, const unsigned char *p, size_t n, off_t off);
/* Fills n bytes; returns the count read (< n only at end of file) or -1. */
ssize_t ruv__pread_full(int fd, unsigned char *p, size_t n, off_t off);

/* Sets "index file '<path>': <message>" (path NULL: "<memory>"); returns status. */
int ruv__file_fail(int status, const char *path, const char *fmt, ...) RUV_PRINTF(3, 4);

#endif
