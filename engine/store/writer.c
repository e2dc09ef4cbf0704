/* The container's writer: sections streamed to a temporary file beside the
 * target, the section table and header last, then fsync and an atomic
 * rename (store/container.h has the layout). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ruvector/error.h>

#include "base/error.h"
#include "base/util.h"
#include "store/container.h"
#include "store/persist.h"

/* Small appends collect here so a META of a few scalars or a section built
 * from many rows costs few system calls; big arrays bypass it. */
#define WBUF_SIZE ((size_t)256 * 1024)
/* Large appends are checksummed and written in slices of this size so each
 * slice is still in cache when write() copies it. */
#define CRC_SLICE ((size_t)1024 * 1024)

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
    if (w->buflen && ruv__write_all(w->fd, w->buf, w->buflen))
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
            if (ruv__write_all(w->fd, data, len))
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
    uint64_t target = ruv__align_up(w->pos);
    return emit(w, ruv__zero_pad, (size_t)(target - w->pos));
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
    w->path = ruv__strdup(path);
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
    return emit(w, ruv__zero_pad, HDR);
}

int ruv__writer_section_begin(struct ruv__writer *w, const char tag[4])
{
    int rc = wcheck(w);
    if (rc)
        return rc;
    if (w->in_section)
        return wfail(w, RUV_E_STATE, "cannot save '%s': section '%.4s' is still open", w->path,
                     w->secs[w->nsecs].tag);
    if (!tag || !ruv__tag_valid(tag))
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
    if (ruv__pwrite_all(w->fd, h, HDR, 0))
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
