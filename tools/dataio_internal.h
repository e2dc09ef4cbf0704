/* tools/dataio_internal.h — what the parts of the data file reader and
 * writer share; not for the commands (they use dataio.h).
 *
 *   dataio.c          file access (mapping), format from the extension
 *   dataio_parse.c    .[fbi]vecs row walking, conversion into the result
 *   dataio_npy.c      the .npy preamble and header dict
 *   dataio_write.c    the writers
 *
 * Values are assembled byte by byte as little-endian, which makes the code
 * independent of host byte order and alignment (.npy data need not be
 * 4-byte aligned); compilers turn these loads into plain moves on
 * little-endian hosts.
 */
#ifndef RUV_TOOLS_DATAIO_INTERNAL_H
#define RUV_TOOLS_DATAIO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dataio.h"

#if defined(__GNUC__) || defined(__clang__)
#define DATA_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define DATA_PRINTF(f, a)
#endif

/* ------------------------------------------------------------------ */
/* diagnostics                                                          */

/* Where a message goes and what it is about (the path). */
struct diag {
    const char *name;
    char *err;
    size_t errlen;
};

/* Writes "<name>: <message>" into d's buffer (if any); returns status. */
DATA_PRINTF(3, 4)
int dataio__fail(const struct diag *d, int status, const char *fmt, ...);

/* ------------------------------------------------------------------ */
/* little-endian byte access                                            */

static inline uint16_t load_le16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }

static inline uint32_t load_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t load_le64(const unsigned char *p)
{
    return (uint64_t)load_le32(p) | (uint64_t)load_le32(p + 4) << 32;
}

static inline void store_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static inline void store_le64(unsigned char *p, uint64_t v)
{
    store_le32(p, (uint32_t)v);
    store_le32(p + 4, (uint32_t)(v >> 32));
}

/* Two's-complement reinterpretation without implementation-defined casts. */
static inline int64_t int32_from_bits(uint32_t u)
{
    return u <= INT32_MAX ? (int64_t)u : (int64_t)u - (INT64_C(1) << 32);
}

static inline int64_t int64_from_bits(uint64_t u)
{
    return u <= INT64_MAX ? (int64_t)u : -(int64_t)(~u) - 1;
}

static inline float float_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline double double_from_bits(uint64_t u)
{
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

/* ------------------------------------------------------------------ */
/* layouts: where the values of each row are                            */

enum elem_type { ELEM_F32, ELEM_F64, ELEM_U8, ELEM_I32, ELEM_I64 };

/* What the caller wants out of the file; decides which element types fit. */
enum target { TARGET_VECTORS, TARGET_IDS };

static inline size_t elem_size(enum elem_type e)
{
    switch (e) {
    case ELEM_F64:
    case ELEM_I64:
        return 8;
    case ELEM_U8:
        return 1;
    default:
        return 4;
    }
}

struct layout {
    size_t n, dim;
    size_t first;  /* byte offset of row 0's first value */
    size_t stride; /* bytes from one row's first value to the next row's */
    enum elem_type elem;
};

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6

static inline int looks_like_npy(const unsigned char *buf, size_t len)
{
    return len >= NPY_MAGIC_LEN && memcmp(buf, NPY_MAGIC, NPY_MAGIC_LEN) == 0;
}

/* Where the rows of a .npy buffer are (a layout for target t); fails with a
 * message on a malformed header or a dtype t does not take. */
int dataio__probe_npy(const unsigned char *buf, size_t len, enum target t, struct layout *lo,
                      const struct diag *d);

/* The parsers behind data_parse_vectors() and data_parse_ids(), reporting
 * through d. On failure *out is untouched. */
int dataio__parse_vectors(const unsigned char *buf, size_t len, enum data_format fmt,
                          struct data_matrix *out, const struct diag *d);
int dataio__parse_ids(const unsigned char *buf, size_t len, enum data_format fmt,
                      struct data_ids *out, const struct diag *d);

#endif
