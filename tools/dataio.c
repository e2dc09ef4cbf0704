/* tools/dataio.c — .fvecs/.bvecs/.ivecs/.npy readers and writers (see dataio.h).
 *
 * Every parser works on a byte buffer: files are mapped read-only and parsed
 * in place, so the only allocation is the n x dim result. Values are
 * assembled byte by byte as little-endian, which makes the code independent
 * of host byte order and alignment (.npy data need not be 4-byte aligned);
 * compilers turn these loads into plain moves on little-endian hosts.
 *
 * Input is untrusted: every size is checked against the buffer before it is
 * used, and products are checked for overflow before any allocation, so a
 * header cannot make us allocate more than its data could fill.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ruvector/error.h>

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

DATA_PRINTF(3, 4)
static int diag_fail(const struct diag *d, int status, const char *fmt, ...)
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

/* ------------------------------------------------------------------ */
/* little-endian byte access                                            */

static uint16_t load_le16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }

static uint32_t load_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t load_le64(const unsigned char *p)
{
    return (uint64_t)load_le32(p) | (uint64_t)load_le32(p + 4) << 32;
}

static void store_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static void store_le64(unsigned char *p, uint64_t v)
{
    store_le32(p, (uint32_t)v);
    store_le32(p + 4, (uint32_t)(v >> 32));
}

/* Two's-complement reinterpretation without implementation-defined casts. */
static int64_t int32_from_bits(uint32_t u)
{
    return u <= INT32_MAX ? (int64_t)u : (int64_t)u - (INT64_C(1) << 32);
}

static int64_t int64_from_bits(uint64_t u)
{
    return u <= INT64_MAX ? (int64_t)u : -(int64_t)(~u) - 1;
}

static float float_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static double double_from_bits(uint64_t u)
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

static size_t elem_size(enum elem_type e)
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

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

static int looks_like_npy(const unsigned char *buf, size_t len)
{
    return len >= sizeof npy_magic && memcmp(buf, npy_magic, sizeof npy_magic) == 0;
}

/* Checks row 0's declared dimension of an .[fbi]vecs file. */
static int check_xvecs_dim(int64_t dim, const unsigned char *buf, size_t len,
                           const struct diag *d)
{
    const char *hint = looks_like_npy(buf, len) ? " (this looks like a .npy file)" : "";
    if (dim < 1)
        return diag_fail(d, RUV_E_CORRUPT, "row 0 declares dimension %" PRId64
                         " (must be at least 1)%s", dim, hint);
    if (dim > DATA_MAX_DIM)
        return diag_fail(d, RUV_E_CORRUPT, "row 0 declares dimension %" PRId64
                         ", above the limit of %d%s", dim, DATA_MAX_DIM, hint);
    return RUV_OK;
}

/* .fvecs/.bvecs/.ivecs: walks every row header, so that a row of another
 * dimension or a partial last row is reported by its row number. */
static int probe_xvecs(const unsigned char *buf, size_t len, enum elem_type elem,
                       struct layout *lo, const struct diag *d)
{
    if (len == 0)
        return diag_fail(d, RUV_E_CORRUPT, "empty file");
    if (len < 4)
        return diag_fail(d, RUV_E_CORRUPT, "row 0 is truncated: the file has %zu bytes, "
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
            return diag_fail(d, RUV_E_CORRUPT, "row %zu is truncated: the file ends %zu "
                             "bytes into its 4-byte dimension header", row, left);
        int64_t this_dim = int32_from_bits(load_le32(buf + off));
        if (this_dim != dim)
            return diag_fail(d, RUV_E_CORRUPT, "row %zu has dimension %" PRId64
                             ", expected %" PRId64 " (as row 0)", row, this_dim, dim);
        if (left < row_bytes)
            return diag_fail(d, RUV_E_CORRUPT, "row %zu is truncated: the file ends after "
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

/* ------------------------------------------------------------------ */
/* .npy header: a Python dict literal such as                           */
/*   {'descr': '<f4', 'fortran_order': False, 'shape': (1000, 128), }   */
/* parsed by hand: only the three keys, string/bool/tuple values.       */

#define NPY_MAX_DESCR 16
#define NPY_MAX_SHAPE_VALUE (UINT64_C(1) << 62)

struct npy_header {
    char descr[NPY_MAX_DESCR];
    int fortran_order;
    uint64_t shape[2];
    int ndim;
};

struct scanner {
    const char *s;
    size_t len, pos;
    const struct diag *d;
};

DATA_PRINTF(2, 3)
static int scan_fail(const struct scanner *c, const char *fmt, ...)
{
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return diag_fail(c->d, RUV_E_CORRUPT, "malformed .npy header: %s at header byte %zu", what,
                     c->pos);
}

static int is_space(char ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'; }

static int is_ident(char ch)
{
    return ch == '_' || (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= 'a' && ch <= 'z');
}

static void scan_skip_space(struct scanner *c)
{
    while (c->pos < c->len && is_space(c->s[c->pos]))
        c->pos++;
}

/* Skips whitespace, then consumes ch if it is next. */
static int scan_accept(struct scanner *c, char ch)
{
    scan_skip_space(c);
    if (c->pos < c->len && c->s[c->pos] == ch) {
        c->pos++;
        return 1;
    }
    return 0;
}

static int scan_expect(struct scanner *c, char ch, const char *where)
{
    return scan_accept(c, ch) ? RUV_OK : scan_fail(c, "expected '%c' %s", ch, where);
}

/* A quoted string without escapes (none of the values we accept need one). */
static int scan_string(struct scanner *c, char *out, size_t cap)
{
    scan_skip_space(c);
    if (c->pos >= c->len || (c->s[c->pos] != '\'' && c->s[c->pos] != '"'))
        return scan_fail(c, "expected a quoted string");
    char quote = c->s[c->pos++];
    size_t n = 0;
    while (c->pos < c->len && c->s[c->pos] != quote) {
        unsigned char ch = (unsigned char)c->s[c->pos];
        if (ch == '\\' || ch < 0x20 || ch > 0x7e)
            return scan_fail(c, "unsupported character 0x%02x in a string", ch);
        if (n + 1 >= cap)
            return scan_fail(c, "string longer than %zu characters", cap - 1);
        out[n++] = (char)ch;
        c->pos++;
    }
    if (c->pos >= c->len)
        return scan_fail(c, "unterminated string");
    c->pos++;
    out[n] = '\0';
    return RUV_OK;
}

static int scan_word(struct scanner *c, const char *word)
{
    size_t n = strlen(word);
    if (c->len - c->pos < n || memcmp(c->s + c->pos, word, n) != 0)
        return 0;
    size_t end = c->pos + n;
    if (end < c->len && is_ident(c->s[end]))
        return 0; /* "Falsey" is not False */
    c->pos = end;
    return 1;
}

static int scan_bool(struct scanner *c, int *out)
{
    scan_skip_space(c);
    if (scan_word(c, "True"))
        *out = 1;
    else if (scan_word(c, "False"))
        *out = 0;
    else
        return scan_fail(c, "expected True or False");
    return RUV_OK;
}

static int scan_uint(struct scanner *c, uint64_t *out)
{
    scan_skip_space(c);
    if (c->pos >= c->len || c->s[c->pos] < '0' || c->s[c->pos] > '9')
        return scan_fail(c, "expected a non-negative integer in 'shape'");
    uint64_t v = 0;
    while (c->pos < c->len && c->s[c->pos] >= '0' && c->s[c->pos] <= '9') {
        v = v * 10 + (uint64_t)(c->s[c->pos] - '0');
        if (v > NPY_MAX_SHAPE_VALUE)
            return scan_fail(c, "'shape' value too large");
        c->pos++;
    }
    if (c->pos < c->len && (c->s[c->pos] == 'L' || c->s[c->pos] == 'l'))
        c->pos++; /* Python 2 longs: files written by old NumPy say (1000L, 128L) */
    *out = v;
    return RUV_OK;
}

/* A tuple of integers: (), (n,), (n, d), with an optional trailing comma. */
static int scan_shape(struct scanner *c, struct npy_header *h)
{
    if (scan_expect(c, '(', "to open 'shape'") != RUV_OK)
        return RUV_E_CORRUPT;
    h->ndim = 0;
    while (!scan_accept(c, ')')) {
        uint64_t v = 0;
        if (scan_uint(c, &v) != RUV_OK)
            return RUV_E_CORRUPT;
        if (h->ndim == 2)
            return scan_fail(c, "'shape' has more than 2 dimensions (expected (rows, dim) or "
                             "(dim,))");
        h->shape[h->ndim++] = v;
        if (!scan_accept(c, ',')) {
            if (scan_expect(c, ')', "or ',' in 'shape'") != RUV_OK)
                return RUV_E_CORRUPT;
            break;
        }
    }
    return RUV_OK;
}

enum { KEY_DESCR = 1, KEY_FORTRAN = 2, KEY_SHAPE = 4 };

static int scan_entry(struct scanner *c, struct npy_header *h, unsigned *seen)
{
    char key[32];
    if (scan_string(c, key, sizeof key) != RUV_OK)
        return RUV_E_CORRUPT;
    unsigned bit = !strcmp(key, "descr") ? KEY_DESCR
                   : !strcmp(key, "fortran_order") ? KEY_FORTRAN
                   : !strcmp(key, "shape") ? KEY_SHAPE
                   : 0;
    if (!bit)
        return scan_fail(c, "unexpected key '%s'", key);
    if (*seen & bit)
        return scan_fail(c, "key '%s' appears twice", key);
    *seen |= bit;
    if (scan_expect(c, ':', "after a key") != RUV_OK)
        return RUV_E_CORRUPT;
    if (bit == KEY_FORTRAN)
        return scan_bool(c, &h->fortran_order);
    if (bit == KEY_SHAPE)
        return scan_shape(c, h);
    scan_skip_space(c);
    if (c->pos < c->len && (c->s[c->pos] == '[' || c->s[c->pos] == '{'))
        return scan_fail(c, "structured dtypes are not supported");
    return scan_string(c, h->descr, sizeof h->descr);
}

static int npy_parse_header(const char *text, size_t len, struct npy_header *h,
                            const struct diag *d)
{
    struct scanner c = {text, len, 0, d};
    memset(h, 0, sizeof *h);
    unsigned seen = 0;
    if (scan_expect(&c, '{', "at the start (the header is not a dict)") != RUV_OK)
        return RUV_E_CORRUPT;
    while (!scan_accept(&c, '}')) {
        if (scan_entry(&c, h, &seen) != RUV_OK)
            return RUV_E_CORRUPT;
        if (!scan_accept(&c, ',')) {
            if (scan_expect(&c, '}', "or ',' after a value") != RUV_OK)
                return RUV_E_CORRUPT;
            break;
        }
    }
    scan_skip_space(&c);
    if (c.pos != c.len)
        return scan_fail(&c, "unexpected text after the dict");
    static const char *const names[] = {"descr", "fortran_order", "shape"};
    for (unsigned i = 0; i < 3; i++)
        if (!(seen & (1u << i)))
            return diag_fail(d, RUV_E_CORRUPT, "malformed .npy header: no '%s' key", names[i]);
    return RUV_OK;
}

/* Maps a dtype string to an element type the target accepts. */
static int npy_elem(const char *descr, enum target t, enum elem_type *out, const struct diag *d)
{
    static const struct {
        const char *descr;
        enum elem_type elem;
        enum target target;
    } known[] = {
        {"<f4", ELEM_F32, TARGET_VECTORS}, {"<f8", ELEM_F64, TARGET_VECTORS},
        {"|u1", ELEM_U8, TARGET_VECTORS},  {"<u1", ELEM_U8, TARGET_VECTORS},
        {"<i4", ELEM_I32, TARGET_IDS},     {"<i8", ELEM_I64, TARGET_IDS},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (known[i].target == t && !strcmp(known[i].descr, descr)) {
            *out = known[i].elem;
            return RUV_OK;
        }
    const char *want = t == TARGET_VECTORS ? "float32 ('<f4'), float64 ('<f8') or uint8 ('|u1')"
                                           : "int32 ('<i4') or int64 ('<i8')";
    const char *why = descr[0] == '>' ? " (big-endian: convert with a.astype(a.dtype."
                                        "newbyteorder('<')))"
                                      : "";
    return diag_fail(d, RUV_E_INVAL, "unsupported dtype '%s'%s; expected %s", descr, why, want);
}

/* Rows and dimension from the shape: (n, dim), or (dim,) for one vector. */
static int npy_shape(const struct npy_header *h, struct layout *lo, const struct diag *d)
{
    if (h->ndim == 0)
        return diag_fail(d, RUV_E_CORRUPT, "'shape' is () (a scalar); expected (rows, dim)");
    uint64_t n = h->ndim == 2 ? h->shape[0] : 1;
    uint64_t dim = h->shape[h->ndim - 1];
    if (n == 0)
        return diag_fail(d, RUV_E_CORRUPT, "no rows: 'shape' is (0, %" PRIu64 ")", dim);
    if (dim == 0)
        return diag_fail(d, RUV_E_CORRUPT, "dimension 0 in 'shape'");
    if (dim > DATA_MAX_DIM)
        return diag_fail(d, RUV_E_CORRUPT, "dimension %" PRIu64 " in 'shape' is above the "
                         "limit of %d", dim, DATA_MAX_DIM);
    size_t esize = elem_size(lo->elem);
    if (n > SIZE_MAX / dim / esize)
        return diag_fail(d, RUV_E_CORRUPT, "'shape' (%" PRIu64 ", %" PRIu64 ") is too large "
                         "(size overflow)", n, dim);
    lo->n = (size_t)n;
    lo->dim = (size_t)dim;
    lo->stride = lo->dim * esize;
    return RUV_OK;
}

static int probe_npy(const unsigned char *buf, size_t len, enum target t, struct layout *lo,
                     const struct diag *d)
{
    if (len == 0)
        return diag_fail(d, RUV_E_CORRUPT, "empty file");
    if (!looks_like_npy(buf, len))
        return diag_fail(d, RUV_E_CORRUPT, "not a .npy file (no \\x93NUMPY magic)");
    if (len < 10)
        return diag_fail(d, RUV_E_CORRUPT, "truncated .npy preamble (%zu bytes)", len);
    unsigned major = buf[6], minor = buf[7];
    if (major < 1 || major > 3 || minor != 0)
        return diag_fail(d, RUV_E_CORRUPT, "unsupported .npy format version %u.%u (expected "
                         "1.0, 2.0 or 3.0)", major, minor);
    size_t at = major == 1 ? 10 : 12;
    if (len < at)
        return diag_fail(d, RUV_E_CORRUPT, "truncated .npy preamble (%zu bytes)", len);
    size_t hlen = major == 1 ? load_le16(buf + 8) : load_le32(buf + 8);
    if (hlen > len - at)
        return diag_fail(d, RUV_E_CORRUPT, "truncated: the header declares %zu bytes, %zu follow",
                         hlen, len - at);
    struct npy_header h;
    int rc = npy_parse_header((const char *)buf + at, hlen, &h, d);
    if (rc == RUV_OK)
        rc = npy_elem(h.descr, t, &lo->elem, d);
    if (rc != RUV_OK)
        return rc;
    if (h.fortran_order)
        return diag_fail(d, RUV_E_INVAL, "fortran_order is True (column-major); save a C-order "
                         "array (np.ascontiguousarray)");
    rc = npy_shape(&h, lo, d);
    if (rc != RUV_OK)
        return rc;
    lo->first = at + hlen;
    size_t have = len - lo->first, need = lo->n * lo->stride;
    if (have < need)
        return diag_fail(d, RUV_E_CORRUPT, "truncated: shape (%zu, %zu) of '%s' needs %zu data "
                         "bytes, the file has %zu", lo->n, lo->dim, h.descr, need, have);
    if (have > need)
        return diag_fail(d, RUV_E_CORRUPT, "%zu unexpected bytes after the data of shape "
                         "(%zu, %zu)", have - need, lo->n, lo->dim);
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
            return diag_fail(d, RUV_E_INVAL, "holds vectors, not ids (expected .ivecs or .npy)");
        return probe_xvecs(buf, len, fmt == DATA_FORMAT_FVECS ? ELEM_F32 : ELEM_U8, lo, d);
    case DATA_FORMAT_IVECS:
        if (t != TARGET_IDS)
            return diag_fail(d, RUV_E_INVAL, "an .ivecs file holds integers (ids), not vectors");
        return probe_xvecs(buf, len, ELEM_I32, lo, d);
    case DATA_FORMAT_NPY:
        return probe_npy(buf, len, t, lo, d);
    default:
        return diag_fail(d, RUV_E_INVAL, "unknown file type (expected .fvecs, .bvecs, .ivecs "
                         "or .npy)");
    }
}

/* ------------------------------------------------------------------ */
/* conversion into the result                                           */

static int nonfinite_fail(const struct diag *d, size_t row, size_t col, double v)
{
    return diag_fail(d, RUV_E_INVAL, "row %zu, column %zu is %s", row, col,
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
            return diag_fail(d, RUV_E_INVAL, "row %zu, column %zu: %g does not fit in float32",
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
        diag_fail(d, RUV_E_NOMEM, "%zu x %zu values overflow the address space", lo->n, lo->dim);
        return NULL;
    }
    void *p = malloc(lo->n * lo->dim * size);
    if (!p)
        diag_fail(d, RUV_E_NOMEM, "out of memory for %zu x %zu values", lo->n, lo->dim);
    return p;
}

static int parse_vectors(const unsigned char *buf, size_t len, enum data_format fmt,
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

static int parse_ids(const unsigned char *buf, size_t len, enum data_format fmt,
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
    return parse_vectors(buf, len, fmt, out, &d);
}

int data_parse_ids(const void *buf, size_t len, enum data_format fmt, const char *name,
                   struct data_ids *out, char *err, size_t errlen)
{
    struct diag d = {name, err, errlen};
    memset(out, 0, sizeof *out);
    return parse_ids(buf, len, fmt, out, &d);
}

/* ------------------------------------------------------------------ */
/* files                                                                */

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
        return diag_fail(d, errno == ENOENT ? RUV_E_NOTFOUND : RUV_E_IO, "cannot open: %s",
                         strerror(errno));
    struct stat st;
    int rc = RUV_OK;
    if (fstat(fd, &st) != 0)
        rc = diag_fail(d, RUV_E_IO, "cannot stat: %s", strerror(errno));
    else if (S_ISDIR(st.st_mode))
        rc = diag_fail(d, RUV_E_IO, "is a directory");
    else if (!S_ISREG(st.st_mode))
        rc = diag_fail(d, RUV_E_IO, "not a regular file (pipes and devices are not supported)");
    else if (st.st_size == 0)
        rc = diag_fail(d, RUV_E_CORRUPT, "empty file");
    else if ((uintmax_t)st.st_size > SIZE_MAX)
        rc = diag_fail(d, RUV_E_NOMEM, "too large to map (%jd bytes)", (intmax_t)st.st_size);
    if (rc == RUV_OK) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            rc = diag_fail(d, RUV_E_IO, "cannot map: %s", strerror(errno));
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
        return diag_fail(&d, RUV_E_INVAL, "unknown file type (expected .fvecs, .bvecs or .npy)");
    if (fmt == DATA_FORMAT_IVECS)
        return diag_fail(&d, RUV_E_INVAL, "an .ivecs file holds integers (ids), not vectors");
    struct mapping m;
    int rc = map_file(path, &m, &d);
    if (rc == RUV_OK)
        rc = parse_vectors(m.addr, m.len, fmt, out, &d);
    unmap_file(&m);
    return rc;
}

int data_read_ids(const char *path, struct data_ids *out, char *err, size_t errlen)
{
    struct diag d = {path, err, errlen};
    memset(out, 0, sizeof *out);
    enum data_format fmt = data_format_from_path(path);
    if (fmt != DATA_FORMAT_IVECS && fmt != DATA_FORMAT_NPY)
        return diag_fail(&d, RUV_E_INVAL, "unknown file type for ids (expected .ivecs or .npy)");
    struct mapping m;
    int rc = map_file(path, &m, &d);
    if (rc == RUV_OK)
        rc = parse_ids(m.addr, m.len, fmt, out, &d);
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

/* ------------------------------------------------------------------ */
/* writers                                                              */

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
    memcpy(out, npy_magic, sizeof npy_magic);
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
        return diag_fail(d, RUV_E_NOMEM, "out of memory");
    FILE *f = fopen(job->path, "wb");
    if (!f) {
        int rc = diag_fail(d, RUV_E_IO, "cannot create: %s", strerror(errno));
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
    return diag_fail(d, RUV_E_IO, "cannot write: %s", strerror(saved));
}

static int check_shape(size_t n, size_t dim, size_t elem_bytes, const struct diag *d)
{
    if (dim < 1 || dim > DATA_MAX_DIM)
        return diag_fail(d, RUV_E_INVAL, "cannot write dimension %zu (must be 1..%d)", dim,
                         DATA_MAX_DIM);
    if (n > SIZE_MAX / dim / elem_bytes)
        return diag_fail(d, RUV_E_INVAL, "%zu x %zu values overflow", n, dim);
    return RUV_OK;
}

int data_write_vectors(const char *path, const float *data, size_t n, size_t dim, char *err,
                       size_t errlen)
{
    struct diag d = {path, err, errlen};
    enum data_format fmt = data_format_from_path(path);
    if (fmt != DATA_FORMAT_FVECS && fmt != DATA_FORMAT_NPY)
        return diag_fail(&d, RUV_E_INVAL, "cannot write vectors here (expected .fvecs or .npy)");
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
        return diag_fail(&d, RUV_E_INVAL, "cannot write ids here (expected .ivecs or .npy)");
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
                return diag_fail(&d, RUV_E_INVAL, "row %zu, column %zu: id %" PRId64
                                 " does not fit in .ivecs (int32); write .npy instead",
                                 i / dim, i % dim, ids[i]);
    }
    return write_rows(&job, &d);
}
