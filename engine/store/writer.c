/* The container's writer: sections streamed through the engine's durable
 * replacement of a file (store/durable.h: a locked temporary beside the
 * target, fsync, rename, fsync of the directory), the section table and
 * header last (store/container.h has the layout). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/error.h>

#include "base/error.h"
#include "base/util.h"
#include "store/container.h"
#include "store/durable.h"
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
    ruv__durable_abort(&w->file);
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

/* The durable file failed and said why: clean up, keep its detail. */
static int wfail_file(struct ruv__writer *w, int status)
{
    writer_release(w);
    w->status = status;
    return status;
}

static int wcheck(struct ruv__writer *w)
{
    if (w->status)
        return w->status; /* the first failure's detail is still current */
    if (!w->file.path)
        return ruv__set_error(RUV_E_STATE, "index file writer is not open");
    return RUV_OK;
}

static int flush_buf(struct ruv__writer *w)
{
    int rc = w->buflen ? ruv__durable_write(&w->file, w->buf, w->buflen) : RUV_OK;
    if (rc)
        return wfail_file(w, rc);
    w->buflen = 0;
    return RUV_OK;
}

static int emit(struct ruv__writer *w, const void *data, size_t len)
{
    if (len == 0)
        return RUV_OK;
    /* off_t positions: refuse before wrapping rather than write garbage. */
    if ((uint64_t)len > (uint64_t)INT64_MAX - w->pos)
        return wfail(w, RUV_E_IO, "cannot save '%s': write of temporary file '%s' failed: %s",
                     w->path, w->file.tmp, strerror(EFBIG));
    if (len <= WBUF_SIZE - w->buflen) {
        memcpy(w->buf + w->buflen, data, len);
        w->buflen += len;
    } else {
        int rc = flush_buf(w);
        if (rc)
            return rc;
        if (len >= WBUF_SIZE) {
            if ((rc = ruv__durable_write(&w->file, data, len)))
                return wfail_file(w, rc);
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

int ruv__writer_open(struct ruv__writer *w, const char *path)
{
    memset(w, 0, sizeof *w);
    if (!path || !*path) {
        w->status = RUV_E_INVAL;
        return ruv__set_error(RUV_E_INVAL, "cannot save index: empty path");
    }
    size_t plen = strlen(path);
    if (path[plen - 1] == '/') {
        w->status = RUV_E_INVAL;
        return ruv__set_error(RUV_E_INVAL, "cannot save index: '%s' names a directory", path);
    }
    w->path = ruv__strdup(path);
    w->buf = malloc(WBUF_SIZE);
    if (!w->path || !w->buf)
        return wfail(w, RUV_E_NOMEM, "cannot save '%s': out of memory", path);
    int rc = ruv__durable_open(&w->file, path, 0);
    if (rc)
        return wfail_file(w, rc);
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
    if ((rc = ruv__durable_pwrite(&w->file, h, HDR, 0)))
        return wfail_file(w, rc);
    if ((rc = ruv__durable_commit(&w->file)))
        return wfail_file(w, rc);
    writer_release(w);
    return RUV_OK;
}

void ruv__writer_abort(struct ruv__writer *w)
{
    if (w)
        writer_release(w);
}
