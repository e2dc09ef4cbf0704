/* tools/dataio_npy.c — the .npy preamble and its header, a Python dict
 * literal such as
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (1000, 128), }
 * parsed by hand: only the three keys, string/bool/tuple values. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <ruvector/error.h>

#include "dataio_internal.h"

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
    return dataio__fail(c->d, RUV_E_CORRUPT, "malformed .npy header: %s at header byte %zu", what,
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
            return dataio__fail(d, RUV_E_CORRUPT, "malformed .npy header: no '%s' key", names[i]);
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
    return dataio__fail(d, RUV_E_INVAL, "unsupported dtype '%s'%s; expected %s", descr, why, want);
}

/* Rows and dimension from the shape: (n, dim), or (dim,) for one vector. */
static int npy_shape(const struct npy_header *h, struct layout *lo, const struct diag *d)
{
    if (h->ndim == 0)
        return dataio__fail(d, RUV_E_CORRUPT, "'shape' is () (a scalar); expected (rows, dim)");
    uint64_t n = h->ndim == 2 ? h->shape[0] : 1;
    uint64_t dim = h->shape[h->ndim - 1];
    if (n == 0)
        return dataio__fail(d, RUV_E_CORRUPT, "no rows: 'shape' is (0, %" PRIu64 ")", dim);
    if (dim == 0)
        return dataio__fail(d, RUV_E_CORRUPT, "dimension 0 in 'shape'");
    if (dim > DATA_MAX_DIM)
        return dataio__fail(d, RUV_E_CORRUPT, "dimension %" PRIu64 " in 'shape' is above the "
                            "limit of %d", dim, DATA_MAX_DIM);
    size_t esize = elem_size(lo->elem);
    if (n > SIZE_MAX / dim / esize)
        return dataio__fail(d, RUV_E_CORRUPT, "'shape' (%" PRIu64 ", %" PRIu64 ") is too large "
                            "(size overflow)", n, dim);
    lo->n = (size_t)n;
    lo->dim = (size_t)dim;
    lo->stride = lo->dim * esize;
    return RUV_OK;
}

int dataio__probe_npy(const unsigned char *buf, size_t len, enum target t, struct layout *lo,
                      const struct diag *d)
{
    if (len == 0)
        return dataio__fail(d, RUV_E_CORRUPT, "empty file");
    if (!looks_like_npy(buf, len))
        return dataio__fail(d, RUV_E_CORRUPT, "not a .npy file (no \\x93NUMPY magic)");
    if (len < 10)
        return dataio__fail(d, RUV_E_CORRUPT, "truncated .npy preamble (%zu bytes)", len);
    unsigned major = buf[6], minor = buf[7];
    if (major < 1 || major > 3 || minor != 0)
        return dataio__fail(d, RUV_E_CORRUPT, "unsupported .npy format version %u.%u (expected "
                            "1.0, 2.0 or 3.0)", major, minor);
    size_t at = major == 1 ? 10 : 12;
    if (len < at)
        return dataio__fail(d, RUV_E_CORRUPT, "truncated .npy preamble (%zu bytes)", len);
    size_t hlen = major == 1 ? load_le16(buf + 8) : load_le32(buf + 8);
    if (hlen > len - at)
        return dataio__fail(d, RUV_E_CORRUPT, "truncated: the header declares %zu bytes, "
                            "%zu follow", hlen, len - at);
    struct npy_header h;
    int rc = npy_parse_header((const char *)buf + at, hlen, &h, d);
    if (rc == RUV_OK)
        rc = npy_elem(h.descr, t, &lo->elem, d);
    if (rc != RUV_OK)
        return rc;
    if (h.fortran_order)
        return dataio__fail(d, RUV_E_INVAL, "fortran_order is True (column-major); save a C-order "
                            "array (np.ascontiguousarray)");
    rc = npy_shape(&h, lo, d);
    if (rc != RUV_OK)
        return rc;
    lo->first = at + hlen;
    size_t have = len - lo->first, need = lo->n * lo->stride;
    if (have < need)
        return dataio__fail(d, RUV_E_CORRUPT, "truncated: shape (%zu, %zu) of '%s' needs %zu data "
                            "bytes, the file has %zu", lo->n, lo->dim, h.descr, need, have);
    if (have > need)
        return dataio__fail(d, RUV_E_CORRUPT, "%zu unexpected bytes after the data of shape "
                            "(%zu, %zu)", have - need, lo->n, lo->dim);
    return RUV_OK;
}
