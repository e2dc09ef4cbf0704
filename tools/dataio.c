/* tools/dataio.c — data files for the CLI: the format from a file's
 * extension, and the readers, which map a file read-only and hand it to the
 * parsers (dataio_parse.c) in place, so the only allocation is the n x dim
 * result. See dataio.h for the formats and dataio_internal.h for the parts.
 *
 * Input is untrusted: every size is checked against the buffer before it is
 * used, and products are checked for overflow before any allocation, so a
 * header cannot make us allocate more than its data could fill.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ruvector/error.h>

#include "dataio_internal.h"

int dataio__fail(const struct diag *d, int status, const char *fmt, ...)
{
    if (!d->err || d->errlen == 0)
        return status;
    int used = snprintf(d->err, d->errlen, "%s: ", d->name ? d->name : "(buffer)");
    if (used >= 0 && (size_t)used < d->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->err + used, d->errlen - (size_t)used, fmt, ap);
        va_end(ap);
    }
    return status;
}

enum data_format data_format_from_path(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash + 1 : path, '.');
    if (!dot)
        return DATA_FORMAT_UNKNOWN;
    static const struct {
        const char *ext;
        enum data_format fmt;
    } exts[] = {{".fvecs", DATA_FORMAT_FVECS},
                {".bvecs", DATA_FORMAT_BVECS},
                {".ivecs", DATA_FORMAT_IVECS},
                {".npy", DATA_FORMAT_NPY}};
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (!strcasecmp(dot, exts[i].ext))
            return exts[i].fmt;
    return DATA_FORMAT_UNKNOWN;
}

/* A read-only private mapping of a whole regular file. (A file truncated by
 * someone else while mapped raises SIGBUS; acceptable for a CLI.) */
struct mapping {
    void *addr;
    size_t len;
};

static int map_file(const char *path, struct mapping *m, const struct diag *d)
{
    m->addr = NULL;
    m->len = 0;
    /* O_NONBLOCK: opening a FIFO must not hang; it is rejected below. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return dataio__fail(d, errno == ENOENT ? RUV_E_NOTFOUND : RUV_E_IO, "cannot open: %s",
                            strerror(errno));
    struct stat st;
    int rc = RUV_OK;
    if (fstat(fd, &st) != 0)
        rc = dataio__fail(d, RUV_E_IO, "cannot stat: %s", strerror(errno));
    else if (S_ISDIR(st.st_mode))
        rc = dataio__fail(d, RUV_E_IO, "is a directory");
    else if (!S_ISREG(st.st_mode))
        rc = dataio__fail(d, RUV_E_IO, "not a regular file (pipes and devices are not supported)");
    else if (st.st_size == 0)
        rc = dataio__fail(d, RUV_E_CORRUPT, "empty file");
    else if ((uintmax_t)st.st_size > SIZE_MAX)
        rc = dataio__fail(d, RUV_E_NOMEM, "too large to map (%jd bytes)", (intmax_t)st.st_size);
    if (rc == RUV_OK) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            rc = dataio__fail(d, RUV_E_IO, "cannot map: %s", strerror(errno));
        } else {
            posix_madvise(p, (size_t)st.st_size, POSIX_MADV_SEQUENTIAL);
            m->addr = p;
            m->len = (size_t)st.st_size;
        }
    }
    close(fd);
    return rc;
}

static void unmap_file(struct mapping *m)
{
    if (m->addr)
        munmap(m->addr, m->len);
    m->addr = NULL;
}

int data_read_vectors(const char *path, struct data_matrix *out, char *err, size_t errlen)
{
    struct diag d = {path, err, errlen};
    memset(out, 0, sizeof *out);
    enum data_format fmt = data_format_from_path(path);
    if (fmt == DATA_FORMAT_UNKNOWN)
        return dataio__fail(&d, RUV_E_INVAL, "unknown file type (expected .fvecs, .bvecs or .npy)");
    if (fmt == DATA_FORMAT_IVECS)
        return dataio__fail(&d, RUV_E_INVAL, "an .ivecs file holds integers (ids), not vectors");
    struct mapping m;
    int rc = map_file(path, &m, &d);
    if (rc == RUV_OK)
        rc = dataio__parse_vectors(m.addr, m.len, fmt, out, &d);
    unmap_file(&m);
    return rc;
}

int data_read_ids(const char *path, struct data_ids *out, char *err, size_t errlen)
{
    struct diag d = {path, err, errlen};
    memset(out, 0, sizeof *out);
    enum data_format fmt = data_format_from_path(path);
    if (fmt != DATA_FORMAT_IVECS && fmt != DATA_FORMAT_NPY)
        return dataio__fail(&d, RUV_E_INVAL, "unknown file type for ids (expected .ivecs or .npy)");
    struct mapping m;
    int rc = map_file(path, &m, &d);
    if (rc == RUV_OK)
        rc = dataio__parse_ids(m.addr, m.len, fmt, out, &d);
    unmap_file(&m);
    return rc;
}

void data_matrix_free(struct data_matrix *m)
{
    if (!m)
        return;
    free(m->data);
    memset(m, 0, sizeof *m);
}

void data_ids_free(struct data_ids *m)
{
    if (!m)
        return;
    free(m->data);
    memset(m, 0, sizeof *m);
}
