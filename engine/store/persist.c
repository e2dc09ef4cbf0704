/* The index file container: atomic writer, validating reader, LE scalars.
 * Layout and guarantees: docs/file-format.md; API: persist.h.
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
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ruvector/error.h>

#include "base/error.h"
#include "store/persist.h"

#define HDR RUV__FILE_HEADER_SIZE
#define ENT RUV__FILE_ENTRY_SIZE
#define ALIGN RUV__FILE_ALIGN

/* Small appends collect here so a META of a few scalars or a section built
 * from many rows costs few system calls; big arrays bypass it. */
#define WBUF_SIZE ((size_t)256 * 1024)
/* Large appends are checksummed and written in slices of this size so each
 * slice is still in cache when write() copies it. */
#define CRC_SLICE ((size_t)1024 * 1024)
/* Read-mode buffers from this size on are aligned for huge pages. */
#define HUGE_MIN ((size_t)4 << 20)
#define HUGE_ALIGN ((size_t)2 << 20)
/* Linux transfers at most ~2 GiB per call; ask for less and loop. */
#define IO_CHUNK ((size_t)1 << 30)

static const unsigned char zeros[ALIGN];

/* In a fuzzing build checksum mismatches are not fatal, so the fuzzer gets
 * past the CRCs and exercises the structural checks, which must be safe on
 * their own (the CRCs are still computed over the same ranges). */
static int crc_differs(uint32_t stored, uint32_t computed)
{
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    (void)stored;
    (void)computed;
    return 0;
#else
    return stored != computed;
#endif
}

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

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* Tags are printed in messages and documented as names: keep them plain. */
static int tag_valid(const char *tag)
{
    for (int i = 0; i < 4; i++) {
        unsigned char c = (unsigned char)tag[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return 0;
    }
    return 1;
}

static uint64_t align_up(uint64_t v)
{
    return (v + (ALIGN - 1)) & ~(uint64_t)(ALIGN - 1);
}

static int write_all(int fd, const unsigned char *p, size_t n)
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

static int pwrite_all(int fd, const unsigned char *p, size_t n, off_t off)
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
static ssize_t pread_full(int fd, unsigned char *p, size_t n, off_t off)
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

/* ---------------------------------------------------------------------- */
/* writer                                                                 */

/* Closes and removes the temporary file and frees everything; keeps the
 * status and the error detail. errno is not preserved. */
static void writer_release(struct ruv__writer *w)
{
    if (w->fd >= 0) {
        close(w->fd);
        w->fd = -1;
    }
    if (w->tmp) {
        unlinkat(w->dirfd, w->tmp + w->dirlen, 0);
        free(w->tmp);
        w->tmp = NULL;
    }
    if (w->dirfd >= 0) {
        close(w->dirfd);
        w->dirfd = -1;
    }
    free(w->buf);
    w->buf = NULL;
    w->buflen = 0;
    free(w->secs);
    w->secs = NULL;
    w->nsecs = w->capsecs = 0;
    free(w->path);
    w->path = NULL;
    w->in_section = 0;
}

/* Every failure goes through here: detail first (the arguments may name
 * w->path), then cleanup, then the sticky status. */
static int wfail(struct ruv__writer *w, int status, const char *fmt, ...) RUV_PRINTF(3, 4);
static int wfail(struct ruv__writer *w, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ruv__set_errorv(status, fmt, ap);
    va_end(ap);
    writer_release(w);
    w->status = status;
    return status;
}

static int wfail_io(struct ruv__writer *w, const char *call)
{
    int e = errno;
    return wfail(w, RUV_E_IO, "cannot save '%s': %s of temporary file '%s' failed: %s", w->path,
                 call, w->tmp, strerror(e));
}

static int wcheck(struct ruv__writer *w)
{
    if (w->status)
        return w->status; /* the first failure's detail is still current */
    if (w->fd < 0)
        return ruv__set_error(RUV_E_STATE, "index file writer is not open");
    return RUV_OK;
}

static int flush_buf(struct ruv__writer *w)
{
    if (w->buflen && write_all(w->fd, w->buf, w->buflen))
        return wfail_io(w, "write");
    w->buflen = 0;
    return RUV_OK;
}

static int emit(struct ruv__writer *w, const void *data, size_t len)
{
    if (len == 0)
        return RUV_OK;
    /* off_t positions: refuse before wrapping rather than write garbage. */
    if ((uint64_t)len > (uint64_t)INT64_MAX - w->pos) {
        errno = EFBIG;
        return wfail_io(w, "write");
    }
    if (len <= WBUF_SIZE - w->buflen) {
        memcpy(w->buf + w->buflen, data, len);
        w->buflen += len;
    } else {
        int rc = flush_buf(w);
        if (rc)
            return rc;
        if (len >= WBUF_SIZE) {
            if (write_all(w->fd, data, len))
                return wfail_io(w, "write");
        } else {
            memcpy(w->buf, data, len);
            w->buflen = len;
        }
    }
    w->pos += len;
    return RUV_OK;
}

static int pad_to_align(struct ruv__writer *w)
{
    uint64_t target = align_up(w->pos);
    return emit(w, zeros, (size_t)(target - w->pos));
}

/* Temporary names must not collide with a concurrent saver of the same
 * path (another thread or process); O_EXCL settles it, these bits make a
 * retry rare. */
static atomic_uint_least64_t tmp_counter;

static uint64_t mix64(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

int ruv__writer_open(struct ruv__writer *w, const char *path)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    memset(w, 0, sizeof *w);
    w->fd = -1;
    w->dirfd = -1;
    if (!path || !*path) {
        w->status = RUV_E_INVAL;
        return ruv__set_error(RUV_E_INVAL, "cannot save index: empty path");
    }
    size_t plen = strlen(path);
    if (path[plen - 1] == '/') {
        w->status = RUV_E_INVAL;
        return ruv__set_error(RUV_E_INVAL, "cannot save index: '%s' names a directory", path);
    }
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0; /* keeps the '/' */
    const char *base = path + dirlen;
    size_t baselen = plen - dirlen;
    /* "<dir>/.<base>.tmp.XXXXXX" */
    size_t tmpsize = dirlen + 1 + baselen + 5 + 6 + 1;
    char *tmp = malloc(tmpsize); /* also holds the directory name first */
    w->path = dup_str(path);
    w->buf = malloc(WBUF_SIZE);
    if (!tmp || !w->path || !w->buf) {
        free(tmp);
        return wfail(w, RUV_E_NOMEM, "cannot save '%s': out of memory", path);
    }

    /* The directory is opened once: its fsync makes the rename durable. */
    if (dirlen) {
        memcpy(tmp, path, dirlen);
        tmp[dirlen] = '\0';
    } else {
        memcpy(tmp, ".", 2);
    }
    do
        w->dirfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    while (w->dirfd < 0 && errno == EINTR);
    if (w->dirfd < 0) {
        int e = errno;
        int rc = wfail(w, e == ENOENT ? RUV_E_NOTFOUND : RUV_E_IO,
                       "cannot save '%s': open of directory '%s' failed: %s", path, tmp,
                       strerror(e));
        free(tmp);
        return rc;
    }

    uint64_t seed = ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)w ^
                    atomic_fetch_add_explicit(&tmp_counter, 1, memory_order_relaxed) *
                        UINT64_C(0x9e3779b97f4a7c15);
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) == 0)
        seed ^= (uint64_t)ts.tv_sec * UINT64_C(1000000007) ^ (uint64_t)ts.tv_nsec;
    int fd = -1, err = 0;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        char *q = tmp;
        memcpy(q, path, dirlen);
        q += dirlen;
        *q++ = '.';
        memcpy(q, base, baselen);
        q += baselen;
        memcpy(q, ".tmp.", 5);
        q += 5;
        seed = mix64(seed);
        for (int i = 0; i < 6; i++)
            *q++ = alphabet[(seed >> (8 * i)) % (sizeof alphabet - 1)];
        *q = '\0';
        /* 0666 so the umask decides the mode, like any newly created file. */
        fd = openat(w->dirfd, tmp + dirlen, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0) {
            err = errno;
            if (err != EEXIST && err != EINTR)
                break;
        }
    }
    if (fd < 0) {
        int rc = wfail(w, RUV_E_IO, "cannot save '%s': creating temporary file '%s' failed: %s",
                       path, tmp, strerror(err));
        free(tmp); /* never created by us: nothing to unlink */
        return rc;
    }
    w->fd = fd;
    w->tmp = tmp;
    w->dirlen = dirlen;
    /* Room for the header, written last once sizes and CRCs are known. */
    return emit(w, zeros, HDR);
}

int ruv__writer_section_begin(struct ruv__writer *w, const char tag[4])
{
    int rc = wcheck(w);
    if (rc)
        return rc;
    if (w->in_section)
        return wfail(w, RUV_E_STATE, "cannot save '%s': section '%.4s' is still open", w->path,
                     w->secs[w->nsecs].tag);
    if (!tag || !tag_valid(tag))
        return wfail(w, RUV_E_INVAL,
                     "cannot save '%s': invalid section tag (four of A-Z a-z 0-9 _)", w->path);
    for (size_t i = 0; i < w->nsecs; i++)
        if (memcmp(w->secs[i].tag, tag, 4) == 0)
            return wfail(w, RUV_E_INVAL, "cannot save '%s': duplicate section '%.4s'", w->path,
                         tag);
    if (w->nsecs >= RUV__FILE_MAX_SECTIONS)
        return wfail(w, RUV_E_INVAL, "cannot save '%s': more than %u sections", w->path,
                     RUV__FILE_MAX_SECTIONS);
    if (w->nsecs == w->capsecs) {
        size_t cap = w->capsecs ? w->capsecs * 2 : 16;
        struct ruv__wsection *s = realloc(w->secs, cap * sizeof *s);
        if (!s)
            return wfail(w, RUV_E_NOMEM, "cannot save '%s': out of memory", w->path);
        w->secs = s;
        w->capsecs = cap;
    }
    if ((rc = pad_to_align(w)))
        return rc;
    struct ruv__wsection *s = &w->secs[w->nsecs];
    memcpy(s->tag, tag, 4);
    s->offset = w->pos;
    s->length = 0;
    s->crc = 0;
    w->crc = 0;
    w->in_section = 1;
    return RUV_OK;
}

int ruv__writer_section_append(struct ruv__writer *w, const void *data, size_t len)
{
    int rc = wcheck(w);
    if (rc)
        return rc;
    if (!w->in_section)
        return wfail(w, RUV_E_STATE, "cannot save '%s': append outside a section", w->path);
    if (len && !data)
        return wfail(w, RUV_E_INVAL, "cannot save '%s': NULL data for %zu bytes", w->path, len);
    const unsigned char *p = data;
    while (len) {
        size_t n = len < CRC_SLICE ? len : CRC_SLICE;
        w->crc = ruv__crc32c(w->crc, p, n);
        if ((rc = emit(w, p, n)))
            return rc;
        p += n;
        len -= n;
    }
    return RUV_OK;
}

int ruv__writer_section_end(struct ruv__writer *w)
{
    int rc = wcheck(w);
    if (rc)
        return rc;
    if (!w->in_section)
        return wfail(w, RUV_E_STATE, "cannot save '%s': no section to end", w->path);
    struct ruv__wsection *s = &w->secs[w->nsecs++];
    s->length = w->pos - s->offset;
    s->crc = w->crc;
    w->in_section = 0;
    return RUV_OK;
}

int ruv__writer_section(struct ruv__writer *w, const char tag[4], const void *data, size_t len)
{
    int rc = ruv__writer_section_begin(w, tag);
    if (!rc)
        rc = ruv__writer_section_append(w, data, len);
    if (!rc)
        rc = ruv__writer_section_end(w);
    return rc;
}

int ruv__writer_commit(struct ruv__writer *w)
{
    int rc = wcheck(w);
    if (rc)
        return rc;
    if (w->in_section)
        return wfail(w, RUV_E_STATE, "cannot save '%s': section '%.4s' was not ended", w->path,
                     w->secs[w->nsecs].tag);
    if ((rc = pad_to_align(w)))
        return rc;
    uint64_t table_off = w->pos;
    uint32_t table_crc = 0;
    for (size_t i = 0; i < w->nsecs; i++) {
        unsigned char e[ENT], *q = e;
        memcpy(q, w->secs[i].tag, 4);
        q = ruv__put_u32(q + 4, 0);
        q = ruv__put_u64(q, w->secs[i].offset);
        q = ruv__put_u64(q, w->secs[i].length);
        q = ruv__put_u32(q, w->secs[i].crc);
        ruv__put_u32(q, 0);
        table_crc = ruv__crc32c(table_crc, e, ENT);
        if ((rc = emit(w, e, ENT)))
            return rc;
    }
    if ((rc = flush_buf(w)))
        return rc;

    unsigned char h[HDR] = {0}, *q = h;
    memcpy(q, RUV__FILE_MAGIC, RUV__FILE_MAGIC_LEN);
    q = ruv__put_u32(q + RUV__FILE_MAGIC_LEN, RUV__FILE_VERSION);
    q = ruv__put_u32(q, HDR);
    q = ruv__put_u32(q, 0);
    q = ruv__put_u32(q, (uint32_t)w->nsecs);
    q = ruv__put_u64(q, w->pos);
    q = ruv__put_u64(q, table_off);
    ruv__put_u32(q, table_crc);
    ruv__put_u32(h + 44, ruv__crc32c(0, h, HDR)); /* computed with its own field zero */
    if (pwrite_all(w->fd, h, HDR, 0))
        return wfail_io(w, "write");

    /* Data and size on disk before the name points at them: otherwise a
     * crash after the rename could leave an empty or partial file. */
    int r;
    do
        r = fsync(w->fd);
    while (r && errno == EINTR);
    if (r)
        return wfail_io(w, "fsync");
    r = close(w->fd);
    w->fd = -1;
    /* After fsync, EINTR from close (the descriptor is gone on Linux) loses
     * nothing; other errors (e.g. NFS) mean the data may not be there. */
    if (r && errno != EINTR)
        return wfail_io(w, "close");

    /* Names relative to the directory opened at the start, so a chdir()
     * in between cannot send the file elsewhere. */
    if (renameat(w->dirfd, w->tmp + w->dirlen, w->dirfd, w->path + w->dirlen)) {
        int e = errno;
        return wfail(w, RUV_E_IO, "cannot save '%s': rename of '%s' over it failed: %s",
                     w->path, w->tmp, strerror(e));
    }
    free(w->tmp); /* the name now belongs to the destination */
    w->tmp = NULL;

    /* Makes the rename itself durable. Some file systems cannot fsync a
     * directory (EINVAL): nothing more can be done there. */
    do
        r = fsync(w->dirfd);
    while (r && errno == EINTR);
    if (r && errno != EINVAL && errno != ENOTSUP) {
        int e = errno;
        return wfail(w, RUV_E_IO,
                     "saved '%s', but fsync of its directory failed: %s (the new file may not "
                     "survive a crash)",
                     w->path, strerror(e));
    }
    writer_release(w);
    return RUV_OK;
}

void ruv__writer_abort(struct ruv__writer *w)
{
    if (w)
        writer_release(w);
}

/* ---------------------------------------------------------------------- */
/* reader                                                                 */

static const char *rname(const char *path)
{
    return path ? path : "<memory>";
}

static int rfail(int status, const char *path, const char *fmt, ...) RUV_PRINTF(3, 4);
static int rfail(int status, const char *path, const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ruv__set_error(status, "index file '%s': %s", rname(path), msg);
}

/* Checks the header alone. avail bytes of it are present (fewer than 64
 * when the file is shorter); actual is the real file size. Done before the
 * whole file is mapped or read, so a wrong or damaged file is refused
 * without allocating its size. */
static int check_header(const char *path, const unsigned char *h, size_t avail, uint64_t actual,
                        uint64_t *table_off, uint32_t *count, uint32_t *table_crc)
{
    if (avail < RUV__FILE_MAGIC_LEN) {
        /* A prefix of our magic is most likely a cut-short index file. */
        if (avail && memcmp(h, RUV__FILE_MAGIC, avail) == 0)
            return rfail(RUV_E_CORRUPT, path,
                         "truncated: file has %zu bytes, less than the %u-byte header", avail,
                         HDR);
        return rfail(RUV_E_CORRUPT, path, "not a ruvector index file (%s)",
                     avail ? "bad magic" : "empty file");
    }
    if (memcmp(h, RUV__FILE_MAGIC, RUV__FILE_MAGIC_LEN) != 0)
        return rfail(RUV_E_CORRUPT, path, "not a ruvector index file (bad magic)");
    if (avail < 12)
        return rfail(RUV_E_CORRUPT, path,
                     "truncated: file has %zu bytes, less than the %u-byte header", avail, HDR);
    /* The version comes before anything else about the layout: a newer
     * file's header may differ, so only the version is trusted. */
    uint32_t version = ruv__load_u32(h + 8);
    if (version > RUV__FILE_VERSION)
        return rfail(RUV_E_CORRUPT, path, "format version %u is newer than this library's %u",
                     version, RUV__FILE_VERSION);
    if (version == 0)
        return rfail(RUV_E_CORRUPT, path, "invalid format version 0");
    if (avail < HDR)
        return rfail(RUV_E_CORRUPT, path,
                     "truncated: file has %zu bytes, less than the %u-byte header", avail, HDR);

    unsigned char copy[HDR];
    memcpy(copy, h, HDR);
    memset(copy + 44, 0, 4);
    uint32_t stored = ruv__load_u32(h + 44), computed = ruv__crc32c(0, copy, HDR);
    if (crc_differs(stored, computed))
        return rfail(RUV_E_CORRUPT, path,
                     "header checksum mismatch (stored 0x%08x, computed 0x%08x)", stored,
                     computed);

    uint32_t hsize = ruv__load_u32(h + 12), flags = ruv__load_u32(h + 16);
    uint64_t fsize = ruv__load_u64(h + 24);
    if (hsize != HDR)
        return rfail(RUV_E_CORRUPT, path, "header size %u, expected %u", hsize, HDR);
    if (flags != 0)
        return rfail(RUV_E_CORRUPT, path, "unknown header flags 0x%08x", flags);
    if (memcmp(h + 48, zeros, HDR - 48) != 0)
        return rfail(RUV_E_CORRUPT, path, "reserved header bytes are not zero");
    if (fsize > actual)
        return rfail(RUV_E_CORRUPT, path, "truncated: header says %llu bytes, file has %llu",
                     (unsigned long long)fsize, (unsigned long long)actual);
    if (fsize < actual)
        return rfail(RUV_E_CORRUPT, path,
                     "trailing bytes: header says %llu bytes, file has %llu",
                     (unsigned long long)fsize, (unsigned long long)actual);

    uint32_t n = ruv__load_u32(h + 20);
    uint64_t toff = ruv__load_u64(h + 32);
    if (n > RUV__FILE_MAX_SECTIONS)
        return rfail(RUV_E_CORRUPT, path, "%u sections, more than the limit %u", n,
                     RUV__FILE_MAX_SECTIONS);
    /* The table is the last thing in the file: its size fixes its offset,
     * and n * ENT cannot overflow after the limit above. */
    uint64_t tbytes = (uint64_t)n * ENT;
    if (tbytes > fsize - HDR || toff != fsize - tbytes || toff % ALIGN != 0)
        return rfail(RUV_E_CORRUPT, path,
                     "section table (offset %llu, %u entries) does not end the %llu-byte file "
                     "on a %u-byte boundary",
                     (unsigned long long)toff, n, (unsigned long long)fsize, ALIGN);
    *table_off = toff;
    *count = n;
    *table_crc = ruv__load_u32(h + 40);
    return RUV_OK;
}

/* Validates a complete image; on success fills r->table and r->nsections. */
static int validate(struct ruv__reader *r)
{
    const unsigned char *b = r->base;
    size_t len = r->len;
    uint64_t toff;
    uint32_t n, tcrc;
    int rc = check_header(r->path, b, len < HDR ? len : HDR, len, &toff, &n, &tcrc);
    if (rc)
        return rc;
    const unsigned char *table = b + toff;
    uint32_t computed = ruv__crc32c(0, table, (size_t)n * ENT);
    if (crc_differs(tcrc, computed))
        return rfail(RUV_E_CORRUPT, r->path,
                     "section table checksum mismatch (stored 0x%08x, computed 0x%08x)", tcrc,
                     computed);

    /* Structure first (cheap), checksums after, so a broken table is
     * reported as such rather than as a checksum failure. */
    uint64_t end = HDR; /* end of the previous payload */
    for (uint32_t i = 0; i < n; i++) {
        const unsigned char *e = table + (size_t)i * ENT;
        if (!tag_valid((const char *)e))
            return rfail(RUV_E_CORRUPT, r->path,
                         "section table entry %u has an invalid tag (0x%02x%02x%02x%02x)", i,
                         e[0], e[1], e[2], e[3]);
        uint32_t flags = ruv__load_u32(e + 4), reserved = ruv__load_u32(e + 28);
        uint64_t off = ruv__load_u64(e + 8), slen = ruv__load_u64(e + 16);
        if (flags != 0 || reserved != 0)
            return rfail(RUV_E_CORRUPT, r->path,
                         "section '%.4s': unknown flags 0x%08x or reserved field 0x%08x",
                         (const char *)e, flags, reserved);
        uint64_t expect = align_up(end);
        if (off != expect)
            return rfail(RUV_E_CORRUPT, r->path,
                         "section '%.4s' at offset %llu, expected %llu (sections are "
                         "contiguous, in order, 64-byte aligned)",
                         (const char *)e, (unsigned long long)off, (unsigned long long)expect);
        if (off > toff || slen > toff - off)
            return rfail(RUV_E_CORRUPT, r->path,
                         "section '%.4s' (offset %llu, %llu bytes) runs past the section "
                         "table at %llu",
                         (const char *)e, (unsigned long long)off, (unsigned long long)slen,
                         (unsigned long long)toff);
        if (memcmp(b + end, zeros, (size_t)(off - end)) != 0)
            return rfail(RUV_E_CORRUPT, r->path, "nonzero padding before section '%.4s'",
                         (const char *)e);
        for (uint32_t j = 0; j < i; j++)
            if (memcmp(table + (size_t)j * ENT, e, 4) == 0)
                return rfail(RUV_E_CORRUPT, r->path, "duplicate section '%.4s'",
                             (const char *)e);
        end = off + slen;
    }
    if (align_up(end) != toff)
        return rfail(RUV_E_CORRUPT, r->path,
                     "%llu unaccounted bytes between the last section and the section table",
                     (unsigned long long)(toff - end));
    if (memcmp(b + end, zeros, (size_t)(toff - end)) != 0)
        return rfail(RUV_E_CORRUPT, r->path, "nonzero padding before the section table");

    for (uint32_t i = 0; i < n; i++) {
        const unsigned char *e = table + (size_t)i * ENT;
        uint64_t off = ruv__load_u64(e + 8), slen = ruv__load_u64(e + 16);
        uint32_t stored = ruv__load_u32(e + 24);
        computed = ruv__crc32c(0, b + off, (size_t)slen);
        if (crc_differs(stored, computed))
            return rfail(RUV_E_CORRUPT, r->path,
                         "section '%.4s' checksum mismatch (stored 0x%08x, computed 0x%08x)",
                         (const char *)e, stored, computed);
    }
    r->table = table;
    r->nsections = n;
    return RUV_OK;
}

void ruv__mapping_release(void *base, size_t len, int is_mmap)
{
    if (!base)
        return;
    if (is_mmap)
        munmap(base, len);
    else
        free(base);
}

void ruv__reader_close(struct ruv__reader *r)
{
    if (!r)
        return;
    if (r->owned)
        ruv__mapping_release((void *)(uintptr_t)r->base, r->len, r->is_mmap);
    free(r->path);
    memset(r, 0, sizeof *r);
}

int ruv__reader_open_mem(struct ruv__reader *r, const void *buf, size_t len, const char *name)
{
    memset(r, 0, sizeof *r);
    if (!buf && len)
        return ruv__set_error(RUV_E_INVAL, "index image: NULL buffer of %zu bytes", len);
    if (name && !(r->path = dup_str(name)))
        return ruv__set_error(RUV_E_NOMEM, "out of memory");
    r->base = buf;
    r->len = len;
    int rc = validate(r);
    if (rc)
        ruv__reader_close(r);
    return rc;
}

int ruv__reader_open(struct ruv__reader *r, const char *path, int use_mmap)
{
    memset(r, 0, sizeof *r);
    if (!path || !*path)
        return ruv__set_error(RUV_E_INVAL, "cannot load index: empty path");
    if (!(r->path = dup_str(path)))
        return ruv__set_error(RUV_E_NOMEM, "out of memory");

    int fd, rc;
    do
        fd = open(path, O_RDONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        int e = errno;
        rc = rfail(e == ENOENT ? RUV_E_NOTFOUND : RUV_E_IO, path, "open failed: %s", strerror(e));
        goto fail;
    }
    struct stat st;
    if (fstat(fd, &st)) {
        int e = errno;
        rc = rfail(RUV_E_IO, path, "fstat failed: %s", strerror(e));
        goto fail_fd;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = rfail(RUV_E_IO, path, "not a regular file");
        goto fail_fd;
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > SIZE_MAX / 2) {
        rc = rfail(RUV_E_IO, path, "file too large for this address space");
        goto fail_fd;
    }
    size_t len = (size_t)st.st_size;

    /* Header first: refuses a wrong file before mapping or allocating it. */
    unsigned char h[HDR];
    size_t want = len < HDR ? len : HDR;
    ssize_t got = pread_full(fd, h, want, 0);
    if (got < 0) {
        int e = errno;
        rc = rfail(RUV_E_IO, path, "read failed: %s", strerror(e));
        goto fail_fd;
    }
    if ((size_t)got != want) {
        rc = rfail(RUV_E_IO, path, "file shrank while being read");
        goto fail_fd;
    }
    {
        uint64_t toff;
        uint32_t n, tcrc;
        if ((rc = check_header(path, h, want, len, &toff, &n, &tcrc)))
            goto fail_fd;
    }

    if (use_mmap) {
        void *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            int e = errno;
            rc = rfail(RUV_E_IO, path, "mmap of %zu bytes failed: %s", len, strerror(e));
            goto fail_fd;
        }
        /* Validation reads the whole file once, front to back. */
        madvise(m, len, MADV_SEQUENTIAL);
        r->base = m;
        r->is_mmap = 1;
    } else {
        void *m = NULL;
        /* Big images get 2 MiB alignment and transparent huge pages: the
         * copy then takes a few hundred page faults instead of ~250 per MiB
         * (measured about 2x faster to open at 512 MiB). */
        size_t al = len >= HUGE_MIN ? HUGE_ALIGN : ALIGN;
        if (posix_memalign(&m, al, len)) {
            rc = rfail(RUV_E_NOMEM, path, "cannot allocate %zu bytes to read it", len);
            goto fail_fd;
        }
#ifdef MADV_HUGEPAGE
        if (al == HUGE_ALIGN)
            madvise(m, len & ~(HUGE_ALIGN - 1), MADV_HUGEPAGE); /* a hint; may be refused */
#endif
        r->base = m;
        got = pread_full(fd, m, len, 0);
        if (got < 0 || (size_t)got != len) {
            int e = errno;
            free(m);
            r->base = NULL;
            rc = got < 0 ? rfail(RUV_E_IO, path, "read failed: %s", strerror(e))
                         : rfail(RUV_E_IO, path, "file shrank while being read");
            goto fail_fd;
        }
    }
    r->len = len;
    r->owned = 1;
    close(fd);
    if ((rc = validate(r)))
        goto fail;
    if (r->is_mmap) /* back to normal read-ahead for the index's access pattern */
        madvise((void *)(uintptr_t)r->base, len, MADV_NORMAL);
    return RUV_OK;

fail_fd:
    close(fd);
fail:
    ruv__reader_close(r);
    return rc;
}

static const unsigned char *find_entry(const struct ruv__reader *r, const char tag[4])
{
    for (uint32_t i = 0; i < r->nsections; i++) {
        const unsigned char *e = r->table + (size_t)i * ENT;
        if (memcmp(e, tag, 4) == 0)
            return e;
    }
    return NULL;
}

int ruv__reader_has(const struct ruv__reader *r, const char tag[4])
{
    return r && tag && find_entry(r, tag) != NULL;
}

int ruv__reader_section(const struct ruv__reader *r, const char tag[4], const void **data,
                        size_t *len)
{
    if (!tag)
        return ruv__set_error(RUV_E_INVAL, "index file section lookup: NULL tag");
    if (!r || !r->base)
        return ruv__set_error(RUV_E_STATE, "index file reader is not open");
    const unsigned char *e = find_entry(r, tag);
    if (!e)
        return rfail(RUV_E_CORRUPT, r->path, "missing section '%.4s'", tag);
    if (data)
        *data = r->base + ruv__load_u64(e + 8);
    if (len)
        *len = (size_t)ruv__load_u64(e + 16);
    return RUV_OK;
}

int ruv__reader_entry(const struct ruv__reader *r, uint32_t i, char tag[5], const void **data,
                      size_t *len)
{
    if (!r || !r->base)
        return ruv__set_error(RUV_E_STATE, "index file reader is not open");
    if (i >= r->nsections)
        return ruv__set_error(RUV_E_INVAL, "section index %u out of range (%u sections)", i,
                              r->nsections);
    const unsigned char *e = r->table + (size_t)i * ENT;
    if (tag) {
        memcpy(tag, e, 4);
        tag[4] = '\0';
    }
    if (data)
        *data = r->base + ruv__load_u64(e + 8);
    if (len)
        *len = (size_t)ruv__load_u64(e + 16);
    return RUV_OK;
}

int ruv__reader_detach(struct ruv__reader *r, void **base, size_t *len)
{
    int is_mmap = r->is_mmap;
    if (r->owned) {
        *base = (void *)(uintptr_t)r->base;
        *len = r->len;
        r->owned = 0;
    } else {
        *base = NULL;
        *len = 0;
    }
    return is_mmap;
}

/* ---------------------------------------------------------------------- */
/* cursor                                                                 */

void ruv__cursor_init(struct ruv__cursor *c, const void *data, size_t len, const char *path,
                      const char tag[4])
{
    c->p = data;
    c->len = data ? len : 0;
    c->pos = 0;
    c->path = path;
    if (tag) {
        memcpy(c->tag, tag, 4);
        c->tag[4] = '\0';
    } else {
        memcpy(c->tag, "?", 2);
    }
}

int ruv__reader_cursor(const struct ruv__reader *r, const char tag[4], struct ruv__cursor *c)
{
    const void *data = NULL;
    size_t len = 0;
    int rc = ruv__reader_section(r, tag, &data, &len);
    ruv__cursor_init(c, rc ? NULL : data, len, r ? r->path : NULL, tag);
    return rc;
}

static int take(struct ruv__cursor *c, size_t n, const unsigned char **p)
{
    if (n > c->len - c->pos)
        return rfail(RUV_E_CORRUPT, c->path,
                     "section '%s' is truncated: needs %zu bytes at offset %zu, has %zu", c->tag,
                     n, c->pos, c->len - c->pos);
    *p = c->p + c->pos;
    c->pos += n;
    return RUV_OK;
}

int ruv__get_u32(struct ruv__cursor *c, uint32_t *v)
{
    const unsigned char *p = NULL;
    int rc = take(c, 4, &p);
    if (!rc)
        *v = ruv__load_u32(p);
    return rc;
}

int ruv__get_u64(struct ruv__cursor *c, uint64_t *v)
{
    const unsigned char *p = NULL;
    int rc = take(c, 8, &p);
    if (!rc)
        *v = ruv__load_u64(p);
    return rc;
}

int ruv__get_f32(struct ruv__cursor *c, float *v)
{
    const unsigned char *p = NULL;
    int rc = take(c, 4, &p);
    if (!rc)
        *v = ruv__load_f32(p);
    return rc;
}

int ruv__get_bytes(struct ruv__cursor *c, void *out, size_t n)
{
    const unsigned char *p = NULL;
    int rc = take(c, n, &p);
    if (!rc && n)
        memcpy(out, p, n);
    return rc;
}

int ruv__cursor_end(const struct ruv__cursor *c)
{
    if (c->pos != c->len)
        return rfail(RUV_E_CORRUPT, c->path, "section '%s' has %zu unexpected trailing bytes",
                     c->tag, c->len - c->pos);
    return RUV_OK;
}
