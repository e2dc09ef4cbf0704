/* tools/dataio_parse.c — from a buffer to the result: where the rows are
 * (.fvecs/.bvecs/.ivecs row walking here, .npy in dataio_npy.c), then each
 * value converted, NaN and Inf refused by row and column. */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/error.h>

#include "dataio_internal.h"

/* Checks row 0's declared dimension of an .[fbi]vecs file. */
static int check_xvecs_dim(int64_t dim, const unsigned char *buf, size_t len,
                           const struct diag *d)
{
    const char *hint = looks_like_npy(buf, len) ? " (this looks like a .npy file)" : "";
    if (dim < 1)
        return dataio__fail(d, RUV_E_CORRUPT, "row 0 declares dimension %" PRId64
                            " (must be at least 1)%s", dim, hint);
    if (dim > DATA_MAX_DIM)
        return dataio__fail(d, RUV_E_CORRUPT, "row 0 declares dimension %" PRId64
                            ", above the limit of %d%s", dim, DATA_MAX_DIM, hint);
    return RUV_OK;
}

/* .fvecs/.bvecs/.ivecs: walks every row header, so that a row of another
 * dimension or a partial last row is reported by its row number. */
static int probe_xvecs(const unsigned char *buf, size_t len, enum elem_type elem,
                       struct layout *lo, const struct diag *d)
{
    if (len == 0)
        return dataio__fail(d, RUV_E_CORRUPT, "empty file");
    if (len < 4)
        return dataio__fail(d, RUV_E_CORRUPT, "row 0 is truncated: the file has %zu bytes, "
                            "less than the 4-byte dimension header", len);
    int64_t dim = int32_from_bits(load_le32(buf));
    int rc = check_xvecs_dim(dim, buf, len, d);
    if (rc != RUV_OK)
        return rc;
    size_t row_bytes = 4 + (size_t)dim * elem_size(elem);
    size_t off = 0, row = 0;
    while (off < len) {
        size_t left = len - off;
        if (left < 4)
            return dataio__fail(d, RUV_E_CORRUPT, "row %zu is truncated: the file ends %zu "
                                "bytes into its 4-byte dimension header", row, left);
        int64_t this_dim = int32_from_bits(load_le32(buf + off));
        if (this_dim != dim)
            return dataio__fail(d, RUV_E_CORRUPT, "row %zu has dimension %" PRId64
                                ", expected %" PRId64 " (as row 0)", row, this_dim, dim);
        if (left < row_bytes)
            return dataio__fail(d, RUV_E_CORRUPT, "row %zu is truncated: the file ends after "
                                "%zu of its %zu bytes", row, left, row_bytes);
        off += row_bytes;
        row++;
    }
    lo->n = row;
    lo->dim = (size_t)dim;
    lo->first = 4;
    lo->stride = row_bytes;
    lo->elem = elem;
    return RUV_OK;
}

static int probe(const unsigned char *buf, size_t len, enum data_format fmt, enum target t,
                 struct layout *lo, const struct diag *d)
{
    memset(lo, 0, sizeof *lo);
    switch (fmt) {
    case DATA_FORMAT_FVECS:
    case DATA_FORMAT_BVECS:
        if (t != TARGET_VECTORS)
            return dataio__fail(d, RUV_E_INVAL, "holds vectors, not ids (expected .ivecs or .npy)");
        return probe_xvecs(buf, len, fmt == DATA_FORMAT_FVECS ? ELEM_F32 : ELEM_U8, lo, d);
    case DATA_FORMAT_IVECS:
        if (t != TARGET_IDS)
            return dataio__fail(d, RUV_E_INVAL, "an .ivecs file holds integers (ids), not vectors");
        return probe_xvecs(buf, len, ELEM_I32, lo, d);
    case DATA_FORMAT_NPY:
        return dataio__probe_npy(buf, len, t, lo, d);
    default:
        return dataio__fail(d, RUV_E_INVAL, "unknown file type (expected .fvecs, .bvecs, .ivecs "
                            "or .npy)");
    }
}

/* ------------------------------------------------------------------ */
/* conversion into the result                                           */

static int nonfinite_fail(const struct diag *d, size_t row, size_t col, double v)
{
    return dataio__fail(d, RUV_E_INVAL, "row %zu, column %zu is %s", row, col,
                        isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf");
}

static int convert_row_f32(const unsigned char *src, float *dst, size_t dim, size_t row,
                           const struct diag *d)
{
    for (size_t c = 0; c < dim; c++)
        dst[c] = float_from_bits(load_le32(src + 4 * c));
    for (size_t c = 0; c < dim; c++)
        if (!isfinite(dst[c]))
            return nonfinite_fail(d, row, c, dst[c]);
    return RUV_OK;
}

static int convert_row_f64(const unsigned char *src, float *dst, size_t dim, size_t row,
                           const struct diag *d)
{
    for (size_t c = 0; c < dim; c++) {
        double v = double_from_bits(load_le64(src + 8 * c));
        if (!isfinite(v))
            return nonfinite_fail(d, row, c, v);
        if (fabs(v) > FLT_MAX)
            return dataio__fail(d, RUV_E_INVAL, "row %zu, column %zu: %g does not fit in float32",
                                row, c, v);
        dst[c] = (float)v;
    }
    return RUV_OK;
}

static int convert_vectors(const unsigned char *buf, const struct layout *lo, float *out,
                           const struct diag *d)
{
    for (size_t r = 0; r < lo->n; r++) {
        const unsigned char *src = buf + lo->first + r * lo->stride;
        float *dst = out + r * lo->dim;
        int rc = RUV_OK;
        if (lo->elem == ELEM_F32)
            rc = convert_row_f32(src, dst, lo->dim, r, d);
        else if (lo->elem == ELEM_F64)
            rc = convert_row_f64(src, dst, lo->dim, r, d);
        else
            for (size_t c = 0; c < lo->dim; c++)
                dst[c] = (float)src[c];
        if (rc != RUV_OK)
            return rc;
    }
    return RUV_OK;
}

static void convert_ids(const unsigned char *buf, const struct layout *lo, int64_t *out)
{
    for (size_t r = 0; r < lo->n; r++) {
        const unsigned char *src = buf + lo->first + r * lo->stride;
        int64_t *dst = out + r * lo->dim;
        for (size_t c = 0; c < lo->dim; c++)
            dst[c] = lo->elem == ELEM_I64 ? int64_from_bits(load_le64(src + 8 * c))
                                          : int32_from_bits(load_le32(src + 4 * c));
    }
}

/* n * dim elements of `size` bytes, or NULL (with a message) on overflow or
 * exhaustion. The probes already bound n * dim by the buffer length. */
static void *alloc_result(const struct layout *lo, size_t size, const struct diag *d)
{
    if (lo->n > SIZE_MAX / lo->dim / size) {
        dataio__fail(d, RUV_E_NOMEM, "%zu x %zu values overflow the address space", lo->n, lo->dim);
        return NULL;
    }
    void *p = malloc(lo->n * lo->dim * size);
    if (!p)
        dataio__fail(d, RUV_E_NOMEM, "out of memory for %zu x %zu values", lo->n, lo->dim);
    return p;
}

int dataio__parse_vectors(const unsigned char *buf, size_t len, enum data_format fmt,
                          struct data_matrix *out, const struct diag *d)
{
    struct layout lo;
    int rc = probe(buf, len, fmt, TARGET_VECTORS, &lo, d);
    if (rc != RUV_OK)
        return rc;
    float *data = alloc_result(&lo, sizeof(float), d);
    if (!data)
        return RUV_E_NOMEM;
    rc = convert_vectors(buf, &lo, data, d);
    if (rc != RUV_OK) {
        free(data);
        return rc;
    }
    out->data = data;
    out->n = lo.n;
    out->dim = lo.dim;
    return RUV_OK;
}

int dataio__parse_ids(const unsigned char *buf, size_t len, enum data_format fmt,
                      struct data_ids *out, const struct diag *d)
{
    struct layout lo;
    int rc = probe(buf, len, fmt, TARGET_IDS, &lo, d);
    if (rc != RUV_OK)
        return rc;
    int64_t *data = alloc_result(&lo, sizeof(int64_t), d);
    if (!data)
        return RUV_E_NOMEM;
    convert_ids(buf, &lo, data);
    out->data = data;
    out->n = lo.n;
    out->dim = lo.dim;
    return RUV_OK;
}

int data_parse_vectors(const void *buf, size_t len, enum data_format fmt, const char *name,
                       struct data_matrix *out, char *err, size_t errlen)
{
    struct diag d = {name, err, errlen};
    memset(out, 0, sizeof *out);
    return dataio__parse_vectors(buf, len, fmt, out, &d);
}

int data_parse_ids(const void *buf, size_t len, enum data_format fmt, const char *name,
                   struct data_ids *out, char *err, size_t errlen)
{
    struct diag d = {name, err, errlen};
    memset(out, 0, sizeof *out);
    return dataio__parse_ids(buf, len, fmt, out, &d);
}
