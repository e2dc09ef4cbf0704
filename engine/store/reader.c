/* The container's reader: the whole file is validated (header, table,
 * every CRC, every padding byte) before a section is handed out; read into
 * memory or mapped (store/container.h has the layout). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ruvector/error.h>

#include "base/error.h"
#include "base/util.h"
#include "store/container.h"
#include "store/persist.h"

/* Read-mode buffers from this size on are aligned for huge pages, which a
 * kernel with THP "always" then uses when it has them free. */
#define HUGE_MIN ((size_t)4 << 20)
#define HUGE_ALIGN ((size_t)2 << 20)

/* ---------------------------------------------------------------------- */
/* reader                                                                 */

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
            return ruv__file_fail(RUV_E_CORRUPT, path,
                         "truncated: file has %zu bytes, less than the %u-byte header", avail,
                         HDR);
        return ruv__file_fail(RUV_E_CORRUPT, path, "not a ruvector index file (%s)",
                     avail ? "bad magic" : "empty file");
    }
    if (memcmp(h, RUV__FILE_MAGIC, RUV__FILE_MAGIC_LEN) != 0)
        return ruv__file_fail(RUV_E_CORRUPT, path, "not a ruvector index file (bad magic)");
    if (avail < 12)
        return ruv__file_fail(RUV_E_CORRUPT, path,
                     "truncated: file has %zu bytes, less than the %u-byte header", avail, HDR);
    /* The version comes before anything else about the layout: a newer
     * file's header may differ, so only the version is trusted. */
    uint32_t version = ruv__load_u32(h + 8);
    if (version > RUV__FILE_VERSION)
        return ruv__file_fail(RUV_E_CORRUPT, path, "format version %u is newer than this library's %u",
                     version, RUV__FILE_VERSION);
    if (version == 0)
        return ruv__file_fail(RUV_E_CORRUPT, path, "invalid format version 0");
    if (avail < HDR)
        return ruv__file_fail(RUV_E_CORRUPT, path,
                     "truncated: file has %zu bytes, less than the %u-byte header", avail, HDR);

    unsigned char copy[HDR];
    memcpy(copy, h, HDR);
    memset(copy + 44, 0, 4);
    uint32_t stored = ruv__load_u32(h + 44), computed = ruv__crc32c(0, copy, HDR);
    if (ruv__crc_differs(stored, computed))
        return ruv__file_fail(RUV_E_CORRUPT, path,
                     "header checksum mismatch (stored 0x%08x, computed 0x%08x)", stored,
                     computed);

    uint32_t hsize = ruv__load_u32(h + 12), flags = ruv__load_u32(h + 16);
    uint64_t fsize = ruv__load_u64(h + 24);
    if (hsize != HDR)
        return ruv__file_fail(RUV_E_CORRUPT, path, "header size %u, expected %u", hsize, HDR);
    if (flags != 0)
        return ruv__file_fail(RUV_E_CORRUPT, path, "unknown header flags 0x%08x", flags);
    if (memcmp(h + 48, ruv__zero_pad, HDR - 48) != 0)
        return ruv__file_fail(RUV_E_CORRUPT, path, "reserved header bytes are not zero");
    if (fsize > actual)
        return ruv__file_fail(RUV_E_CORRUPT, path, "truncated: header says %llu bytes, file has %llu",
                     (unsigned long long)fsize, (unsigned long long)actual);
    if (fsize < actual)
        return ruv__file_fail(RUV_E_CORRUPT, path,
                     "trailing bytes: header says %llu bytes, file has %llu",
                     (unsigned long long)fsize, (unsigned long long)actual);

    uint32_t n = ruv__load_u32(h + 20);
    uint64_t toff = ruv__load_u64(h + 32);
    if (n > RUV__FILE_MAX_SECTIONS)
        return ruv__file_fail(RUV_E_CORRUPT, path, "%u sections, more than the limit %u", n,
                     RUV__FILE_MAX_SECTIONS);
    /* The table is the last thing in the file: its size fixes its offset,
     * and n * ENT cannot overflow after the limit above. */
    uint64_t tbytes = (uint64_t)n * ENT;
    if (tbytes > fsize - HDR || toff != fsize - tbytes || toff % ALIGN != 0)
        return ruv__file_fail(RUV_E_CORRUPT, path,
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
    if (ruv__crc_differs(tcrc, computed))
        return ruv__file_fail(RUV_E_CORRUPT, r->path,
                     "section table checksum mismatch (stored 0x%08x, computed 0x%08x)", tcrc,
                     computed);

    /* Structure first (cheap), checksums after, so a broken table is
     * reported as such rather than as a checksum failure. */
    uint64_t end = HDR; /* end of the previous payload */
    for (uint32_t i = 0; i < n; i++) {
        const unsigned char *e = table + (size_t)i * ENT;
        if (!ruv__tag_valid((const char *)e))
            return ruv__file_fail(RUV_E_CORRUPT, r->path,
                         "section table entry %u has an invalid tag (0x%02x%02x%02x%02x)", i,
                         e[0], e[1], e[2], e[3]);
        uint32_t flags = ruv__load_u32(e + 4), reserved = ruv__load_u32(e + 28);
        uint64_t off = ruv__load_u64(e + 8), slen = ruv__load_u64(e + 16);
        if (flags != 0 || reserved != 0)
            return ruv__file_fail(RUV_E_CORRUPT, r->path,
                         "section '%.4s': unknown flags 0x%08x or reserved field 0x%08x",
                         (const char *)e, flags, reserved);
        uint64_t expect = ruv__align_up(end);
        if (off != expect)
            return ruv__file_fail(RUV_E_CORRUPT, r->path,
                         "section '%.4s' at offset %llu, expected %llu (sections are "
                         "contiguous, in order, 64-byte aligned)",
                         (const char *)e, (unsigned long long)off, (unsigned long long)expect);
        if (off > toff || slen > toff - off)
            return ruv__file_fail(RUV_E_CORRUPT, r->path,
                         "section '%.4s' (offset %llu, %llu bytes) runs past the section "
                         "table at %llu",
                         (const char *)e, (unsigned long long)off, (unsigned long long)slen,
                         (unsigned long long)toff);
        if (memcmp(b + end, ruv__zero_pad, (size_t)(off - end)) != 0)
            return ruv__file_fail(RUV_E_CORRUPT, r->path, "nonzero padding before section '%.4s'",
                         (const char *)e);
        for (uint32_t j = 0; j < i; j++)
            if (memcmp(table + (size_t)j * ENT, e, 4) == 0)
                return ruv__file_fail(RUV_E_CORRUPT, r->path, "duplicate section '%.4s'",
                             (const char *)e);
        end = off + slen;
    }
    if (ruv__align_up(end) != toff)
        return ruv__file_fail(RUV_E_CORRUPT, r->path,
                     "%llu unaccounted bytes between the last section and the section table",
                     (unsigned long long)(toff - end));
    if (memcmp(b + end, ruv__zero_pad, (size_t)(toff - end)) != 0)
        return ruv__file_fail(RUV_E_CORRUPT, r->path, "nonzero padding before the section table");

    for (uint32_t i = 0; i < n; i++) {
        const unsigned char *e = table + (size_t)i * ENT;
        uint64_t off = ruv__load_u64(e + 8), slen = ruv__load_u64(e + 16);
        uint32_t stored = ruv__load_u32(e + 24);
        computed = ruv__crc32c(0, b + off, (size_t)slen);
        if (ruv__crc_differs(stored, computed))
            return ruv__file_fail(RUV_E_CORRUPT, r->path,
                         "section '%.4s' checksum mismatch (stored 0x%08x, computed 0x%08x)",
                         (const char *)e, stored, computed);
    }
    r->table = table;
    r->nsections = n;
    r->version = ruv__load_u32(b + 8);
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

static void file_stamp(const struct stat *st, struct ruv__mapped_file *f)
{
    f->size = (uint64_t)st->st_size;
    f->mtime_sec = (int64_t)st->st_mtim.tv_sec;
    f->mtime_nsec = (int64_t)st->st_mtim.tv_nsec;
}

int ruv__mapping_check(const struct ruv__mapped_file *f, const char *path)
{
    if (!f || f->fd < 0)
        return RUV_OK;
    struct stat st;
    if (fstat(f->fd, &st))
        return ruv__file_fail(RUV_E_IO, path, "fstat of the mapped file failed: %s",
                              strerror(errno));
    struct ruv__mapped_file now;
    file_stamp(&st, &now);
    if (now.size != f->size)
        return ruv__file_fail(RUV_E_IO, path,
                              "the mapped index file changed size since it was loaded (%llu -> "
                              "%llu bytes); load it again (replace index files by rename, "
                              "never in place)",
                              (unsigned long long)f->size, (unsigned long long)now.size);
    if (now.mtime_sec != f->mtime_sec || now.mtime_nsec != f->mtime_nsec)
        return ruv__file_fail(RUV_E_IO, path,
                              "the mapped index file was modified since it was loaded; load it "
                              "again (replace index files by rename, never in place)");
    return RUV_OK;
}

void ruv__mapped_file_close(struct ruv__mapped_file *f)
{
    if (f && f->fd >= 0) {
        close(f->fd);
        f->fd = -1;
    }
}

void ruv__reader_detach_file(struct ruv__reader *r, struct ruv__mapped_file *f)
{
    *f = r->file;
    r->file.fd = -1;
}

void ruv__reader_close(struct ruv__reader *r)
{
    if (!r)
        return;
    ruv__mapped_file_close(&r->file);
    if (r->owned)
        ruv__mapping_release((void *)(uintptr_t)r->base, r->len, r->is_mmap);
    free(r->path);
    memset(r, 0, sizeof *r);
}

int ruv__reader_open_mem(struct ruv__reader *r, const void *buf, size_t len, const char *name)
{
    memset(r, 0, sizeof *r);
    r->file.fd = -1;
    if (!buf && len)
        return ruv__set_error(RUV_E_INVAL, "index image: NULL buffer of %zu bytes", len);
    if (name && !(r->path = ruv__strdup(name)))
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
    r->file.fd = -1;
    if (!path || !*path)
        return ruv__set_error(RUV_E_INVAL, "cannot load index: empty path");
    if (!(r->path = ruv__strdup(path)))
        return ruv__set_error(RUV_E_NOMEM, "out of memory");

    /* O_NONBLOCK: opening a FIFO (or a device) for reading would otherwise
     * wait for a writer forever; it is refused below as not a regular file,
     * and cleared for the reads of a regular one. */
    int fd, rc;
    do
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        int e = errno;
        rc = ruv__file_fail(e == ENOENT ? RUV_E_NOTFOUND : RUV_E_IO, path, "open failed: %s", strerror(e));
        goto fail;
    }
    struct stat st;
    if (fstat(fd, &st)) {
        int e = errno;
        rc = ruv__file_fail(RUV_E_IO, path, "fstat failed: %s", strerror(e));
        goto fail_fd;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = ruv__file_fail(RUV_E_IO, path, "not a regular file (%s)",
                            S_ISFIFO(st.st_mode)   ? "a FIFO"
                            : S_ISDIR(st.st_mode)  ? "a directory"
                            : S_ISSOCK(st.st_mode) ? "a socket"
                            : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                                                                         : "special file");
        goto fail_fd;
    }
    {
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
            int e = errno;
            rc = ruv__file_fail(RUV_E_IO, path, "fcntl failed: %s", strerror(e));
            goto fail_fd;
        }
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > SIZE_MAX / 2) {
        rc = ruv__file_fail(RUV_E_IO, path, "file too large for this address space");
        goto fail_fd;
    }
    size_t len = (size_t)st.st_size;

    /* Header first: refuses a wrong file before mapping or allocating it. */
    unsigned char h[HDR];
    size_t want = len < HDR ? len : HDR;
    ssize_t got = ruv__pread_full(fd, h, want, 0);
    if (got < 0) {
        int e = errno;
        rc = ruv__file_fail(RUV_E_IO, path, "read failed: %s", strerror(e));
        goto fail_fd;
    }
    if ((size_t)got != want) {
        rc = ruv__file_fail(RUV_E_IO, path, "file shrank while being read");
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
            rc = ruv__file_fail(RUV_E_IO, path, "mmap of %zu bytes failed: %s", len, strerror(e));
            goto fail_fd;
        }
        /* Validation reads the whole file once, front to back. */
        madvise(m, len, MADV_SEQUENTIAL);
        r->base = m;
        r->is_mmap = 1;
    } else {
        void *m = NULL;
        /* Big images get 2 MiB alignment but no MADV_HUGEPAGE: under THP
         * defrag "madvise" (the default) a fault in such a region compacts
         * memory synchronously once page cache fills RAM (as reading the
         * file itself does). Opening a 700 MB index took 0.7-1.1 s with the
         * hint when huge pages were free and 2.2-5.5 s in half the runs
         * when they were not; without it 0.9-1.6 s every time, and the
         * flat scan over the image ran as fast (docs/benchmarks-flat.md
         * found no scan gain from huge pages either). */
        size_t al = len >= HUGE_MIN ? HUGE_ALIGN : ALIGN;
        if (posix_memalign(&m, al, len)) {
            rc = ruv__file_fail(RUV_E_NOMEM, path, "cannot allocate %zu bytes to read it", len);
            goto fail_fd;
        }
        r->base = m;
        got = ruv__pread_full(fd, m, len, 0);
        if (got < 0 || (size_t)got != len) {
            int e = errno;
            free(m);
            r->base = NULL;
            rc = got < 0 ? ruv__file_fail(RUV_E_IO, path, "read failed: %s", strerror(e))
                         : ruv__file_fail(RUV_E_IO, path, "file shrank while being read");
            goto fail_fd;
        }
    }
    r->len = len;
    r->owned = 1;
    if (r->is_mmap) {
        r->file.fd = fd; /* kept: ruv__mapping_check looks at it before use */
        file_stamp(&st, &r->file);
    } else {
        close(fd);
    }
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
        return ruv__file_fail(RUV_E_CORRUPT, r->path, "missing section '%.4s'", tag);
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
