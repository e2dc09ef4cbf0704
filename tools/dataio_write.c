/* tools/dataio_write.c — the writers: .fvecs, .ivecs and .npy (v1.0),
 * little-endian whatever the host. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/error.h>

#include "dataio_internal.h"

/* Encodes one row into buf (little-endian); returns its byte count. */
typedef size_t (*row_encoder)(unsigned char *buf, const void *rows, size_t row, size_t dim);

static void put_f32s(unsigned char *buf, const float *src, size_t dim)
{
    for (size_t c = 0; c < dim; c++) {
        uint32_t bits;
        memcpy(&bits, &src[c], sizeof bits);
        store_le32(buf + 4 * c, bits);
    }
}

static size_t encode_fvecs_row(unsigned char *buf, const void *rows, size_t row, size_t dim)
{
    store_le32(buf, (uint32_t)dim);
    put_f32s(buf + 4, (const float *)rows + row * dim, dim);
    return 4 + 4 * dim;
}

static size_t encode_f32_row(unsigned char *buf, const void *rows, size_t row, size_t dim)
{
    put_f32s(buf, (const float *)rows + row * dim, dim);
    return 4 * dim;
}

static size_t encode_ivecs_row(unsigned char *buf, const void *rows, size_t row, size_t dim)
{
    const int64_t *src = (const int64_t *)rows + row * dim;
    store_le32(buf, (uint32_t)dim);
    for (size_t c = 0; c < dim; c++)
        store_le32(buf + 4 + 4 * c, (uint32_t)src[c]); /* range checked before */
    return 4 + 4 * dim;
}

static size_t encode_i64_row(unsigned char *buf, const void *rows, size_t row, size_t dim)
{
    const int64_t *src = (const int64_t *)rows + row * dim;
    for (size_t c = 0; c < dim; c++)
        store_le64(buf + 8 * c, (uint64_t)src[c]);
    return 8 * dim;
}

/* The .npy v1.0 preamble and header, padded with spaces to a multiple of 64
 * bytes and ending in '\n' as the format asks. Returns its length. */
static size_t npy_preamble(unsigned char *out, size_t cap, const char *descr, size_t n,
                           size_t dim)
{
    char dict[160];
    int len = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, "
                       "'shape': (%zu, %zu), }", descr, n, dim);
    if (len < 0 || (size_t)len >= sizeof dict)
        return 0;
    size_t total = (10 + (size_t)len + 1 + 63) / 64 * 64;
    if (total > cap)
        return 0;
    size_t hlen = total - 10;
    memcpy(out, NPY_MAGIC, NPY_MAGIC_LEN);
    out[6] = 1;
    out[7] = 0;
    out[8] = (unsigned char)hlen;
    out[9] = (unsigned char)(hlen >> 8);
    memset(out + 10, ' ', hlen);
    memcpy(out + 10, dict, (size_t)len);
    out[total - 1] = '\n';
    return total;
}

struct write_job {
    const char *path;
    const void *rows;
    size_t n, dim;
    size_t max_row_bytes;
    row_encoder encode;
    const char *npy_descr; /* NULL: no .npy preamble */
};

static int write_rows(const struct write_job *job, const struct diag *d)
{
    unsigned char *buf = malloc(job->max_row_bytes > 256 ? job->max_row_bytes : 256);
    if (!buf)
        return dataio__fail(d, RUV_E_NOMEM, "out of memory");
    FILE *f = fopen(job->path, "wb");
    if (!f) {
        int rc = dataio__fail(d, RUV_E_IO, "cannot create: %s", strerror(errno));
        free(buf);
        return rc;
    }
    int ok = 1;
    if (job->npy_descr) {
        size_t len = npy_preamble(buf, 256, job->npy_descr, job->n, job->dim);
        ok = len > 0 && fwrite(buf, 1, len, f) == len;
    }
    for (size_t r = 0; ok && r < job->n; r++) {
        size_t len = job->encode(buf, job->rows, r, job->dim);
        ok = fwrite(buf, 1, len, f) == len;
    }
    int saved = errno;
    if (fclose(f) != 0 && ok) {
        ok = 0;
        saved = errno;
    }
    free(buf);
    if (ok)
        return RUV_OK;
    remove(job->path); /* no half-written file left behind */
    return dataio__fail(d, RUV_E_IO, "cannot write: %s", strerror(saved));
}

static int check_shape(size_t n, size_t dim, size_t elem_bytes, const struct diag *d)
{
    if (dim < 1 || dim > DATA_MAX_DIM)
        return dataio__fail(d, RUV_E_INVAL, "cannot write dimension %zu (must be 1..%d)", dim,
                            DATA_MAX_DIM);
    if (n > SIZE_MAX / dim / elem_bytes)
        return dataio__fail(d, RUV_E_INVAL, "%zu x %zu values overflow", n, dim);
    return RUV_OK;
}

int data_write_vectors(const char *path, const float *data, size_t n, size_t dim, char *err,
                       size_t errlen)
{
    struct diag d = {path, err, errlen};
    enum data_format fmt = data_format_from_path(path);
    if (fmt != DATA_FORMAT_FVECS && fmt != DATA_FORMAT_NPY)
        return dataio__fail(&d, RUV_E_INVAL, "cannot write vectors here (expected .fvecs or .npy)");
    int rc = check_shape(n, dim, sizeof(float), &d);
    if (rc != RUV_OK)
        return rc;
    struct write_job job = {path, data, n, dim, 4 + 4 * dim, encode_fvecs_row, NULL};
    if (fmt == DATA_FORMAT_NPY) {
        job.encode = encode_f32_row;
        job.npy_descr = "<f4";
    }
    return write_rows(&job, &d);
}

int data_write_ids(const char *path, const int64_t *ids, size_t n, size_t dim, char *err,
                   size_t errlen)
{
    struct diag d = {path, err, errlen};
    enum data_format fmt = data_format_from_path(path);
    if (fmt != DATA_FORMAT_IVECS && fmt != DATA_FORMAT_NPY)
        return dataio__fail(&d, RUV_E_INVAL, "cannot write ids here (expected .ivecs or .npy)");
    int rc = check_shape(n, dim, sizeof(int64_t), &d);
    if (rc != RUV_OK)
        return rc;
    struct write_job job = {path, ids, n, dim, 4 + 4 * dim, encode_ivecs_row, NULL};
    if (fmt == DATA_FORMAT_NPY) {
        job.max_row_bytes = 8 * dim;
        job.encode = encode_i64_row;
        job.npy_descr = "<i8";
    } else {
        /* Checked before creating the file, so a bad id leaves nothing behind. */
        for (size_t i = 0; i < n * dim; i++)
            if (ids[i] < INT32_MIN || ids[i] > INT32_MAX)
                return dataio__fail(&d, RUV_E_INVAL, "row %zu, column %zu: id %" PRId64
                                    " does not fit in .ivecs (int32); write .npy instead",
                                    i / dim, i % dim, ids[i]);
    }
    return write_rows(&job, &d);
}
