/* Helpers the container's writer, reader and cursors share: little-endian
 * scalars, whole-buffer I/O, tag and error wording. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "store/container.h"
#include "store/persist.h"

/* Linux transfers at most ~2 GiB per call; ask for less and loop. */
#define IO_CHUNK ((size_t)1 << 30)

const unsigned char ruv__zero_pad[ALIGN];

/* ---------------------------------------------------------------------- */
/* little-endian scalars                                                  */

unsigned char *ruv__put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
    return p + 4;
}

unsigned char *ruv__put_u64(unsigned char *p, uint64_t v)
{
    ruv__put_u32(p, (uint32_t)v);
    return ruv__put_u32(p + 4, (uint32_t)(v >> 32));
}

unsigned char *ruv__put_f32(unsigned char *p, float v)
{
    uint32_t bits;
    memcpy(&bits, &v, 4); /* the IEEE-754 bit pattern, stored little-endian */
    return ruv__put_u32(p, bits);
}

uint32_t ruv__load_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t ruv__load_u64(const unsigned char *p)
{
    return (uint64_t)ruv__load_u32(p) | (uint64_t)ruv__load_u32(p + 4) << 32;
}

float ruv__load_f32(const unsigned char *p)
{
    uint32_t bits = ruv__load_u32(p);
    float v;
    memcpy(&v, &bits, 4);
    return v;
}

/* ---------------------------------------------------------------------- */
/* shared helpers                                                         */

int ruv__tag_valid(const char *tag)
{
    for (int i = 0; i < 4; i++) {
        unsigned char c = (unsigned char)tag[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return 0;
    }
    return 1;
}

int ruv__write_all(int fd, const unsigned char *p, size_t n)
{
    while (n) {
        ssize_t k = write(fd, p, n < IO_CHUNK ? n : IO_CHUNK);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (k == 0) { /* no progress and no errno: do not spin */
            errno = EIO;
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

int ruv__pwrite_all(int fd, const unsigned char *p, size_t n, off_t off)
{
    while (n) {
        ssize_t k = pwrite(fd, p, n < IO_CHUNK ? n : IO_CHUNK, off);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (k == 0) {
            errno = EIO;
            return -1;
        }
        p += k;
        n -= (size_t)k;
        off += k;
    }
    return 0;
}

/* Fills n bytes; returns the count read (< n only at end of file) or -1. */
ssize_t ruv__pread_full(int fd, unsigned char *p, size_t n, off_t off)
{
    size_t got = 0;
    while (got < n) {
        size_t want = n - got;
        ssize_t k = pread(fd, p + got, want < IO_CHUNK ? want : IO_CHUNK, off + (off_t)got);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (k == 0)
            break;
        got += (size_t)k;
    }
    return (ssize_t)got;
}

static const char *rname(const char *path)
{
    return path ? path : "<memory>";
}

int ruv__file_fail(int status, const char *path, const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ruv__set_error(status, "index file '%s': %s", rname(path), msg);
}
