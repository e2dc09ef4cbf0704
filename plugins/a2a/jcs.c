/* plugins/a2a/jcs.c — RFC 8785 canonical JSON from a jansson value. */
#include "config.h"
#include "jcs.h"
#include "bytes.h"
#include "detail.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- ECMAScript number serialization ---- */

/* Shortest decimal digits that read back to x (x > 0, finite): tries 1..17
 * significant digits. printf rounds correctly, so the first precision that
 * round-trips gives the digits nearest to x, which is what ECMAScript's
 * Number::toString asks for. snprintf and strtod share the locale, so the
 * round-trip test holds under any LC_NUMERIC; the digits are then read back
 * skipping whatever decimal separator the locale used. */
static int shortest_digits(double x, char digits[18], int *exp10)
{
    char sci[48];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(sci, sizeof sci, "%.*e", prec - 1, x);
        if (prec == 17 || strtod(sci, NULL) == x)
            break;
    }
    int k = 0;
    const char *s = sci;
    for (; *s != '\0' && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9' && k < 17)
            digits[k++] = *s;
    if (*s != 'e' || k == 0)
        return -1;
    *exp10 = (int)strtol(s + 1, NULL, 10);
    while (k > 1 && digits[k - 1] == '0') /* only for prec 17, which may pad */
        k--;
    digits[k] = '\0';
    return k;
}

/* The digits d1..dk of x = 0.d1d2...dk × 10^n written positionally, as
 * "0.000ddd", "ddd.ddd" or "ddd000" (no point); both number styles below use
 * this inside their own fixed-notation range. Returns the new offset. */
static size_t put_positional(char *buf, size_t o, const char *digits, int k, int n)
{
    if (n <= 0) {
        buf[o++] = '0';
        buf[o++] = '.';
        for (int i = 0; i < -n; i++)
            buf[o++] = '0';
        memcpy(buf + o, digits, (size_t)k);
        return o + (size_t)k;
    }
    if (n < k) {
        memcpy(buf + o, digits, (size_t)n);
        o += (size_t)n;
        buf[o++] = '.';
        memcpy(buf + o, digits + n, (size_t)(k - n));
        return o + (size_t)(k - n);
    }
    memcpy(buf + o, digits, (size_t)k);
    o += (size_t)k;
    for (int i = k; i < n; i++)
        buf[o++] = '0';
    return o;
}

/* The same digits as "d.ddde±X", the exponent at least exp_width digits
 * (1 for ECMAScript, 2 for Python). Returns the new offset. */
static size_t put_exponential(char *buf, size_t o, size_t cap, const char *digits, int k, int n,
                              int exp_width)
{
    buf[o++] = digits[0];
    if (k > 1) {
        buf[o++] = '.';
        memcpy(buf + o, digits + 1, (size_t)(k - 1));
        o += (size_t)(k - 1);
    }
    return o + (size_t)snprintf(buf + o, cap - o, "e%c%0*d", n - 1 < 0 ? '-' : '+', exp_width,
                                abs(n - 1));
}

int ruv__jcs_number(double x, char *buf, size_t cap)
{
    if (!isfinite(x) || buf == NULL || cap < 32)
        return -1;
    if (x == 0) { /* +0 and -0 alike */
        memcpy(buf, "0", 2);
        return 1;
    }
    char digits[18];
    int e;
    size_t o = 0;
    if (x < 0) {
        buf[o++] = '-';
        x = -x;
    }
    int k = shortest_digits(x, digits, &e);
    if (k < 0)
        return -1;
    int n = e + 1; /* x = 0.d1d2...dk × 10^n */
    if (-6 < n && n <= 21)
        o = put_positional(buf, o, digits, k, n);
    else
        o = put_exponential(buf, o, cap, digits, k, n, 1);
    buf[o] = '\0';
    return (int)o;
}

int ruv__canon_python_float(double x, char *buf, size_t cap)
{
    if (!isfinite(x) || buf == NULL || cap < 32)
        return -1;
    size_t o = 0;
    if (signbit(x)) {
        buf[o++] = '-';
        x = -x;
    }
    if (x == 0) {
        memcpy(buf + o, "0.0", 4);
        return (int)o + 3;
    }
    char digits[18];
    int e;
    int k = shortest_digits(x, digits, &e);
    if (k < 0)
        return -1;
    int n = e + 1; /* x = 0.d1d2...dk × 10^n, as above */
    if (-4 < n && n <= 16) {
        o = put_positional(buf, o, digits, k, n);
        if (n >= k) { /* an integral float keeps its ".0" */
            buf[o++] = '.';
            buf[o++] = '0';
        }
    } else {
        o = put_exponential(buf, o, cap, digits, k, n, 2);
    }
    buf[o] = '\0';
    return (int)o;
}

/* ---- UTF-8 ---- */

/* Decodes one strict UTF-8 scalar value (no overlongs, no surrogates, at most
 * U+10FFFF). Returns its length in bytes, or 0 if s does not start with one. */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    if (len == 0)
        return 0;
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t n;
    uint32_t v, min;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2; v = c & 0x1Fu; min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3; v = c & 0x0Fu; min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4; v = c & 0x07u; min = 0x10000;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3Fu);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

/* Byte offset of the first invalid sequence, or len if s is valid UTF-8. */
static size_t utf8_invalid_at(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = utf8_decode(u + i, len - i, &cp);
        if (n == 0)
            return i;
        i += n;
    }
    return len;
}

/* Walks a UTF-8 string as UTF-16 code units. */
struct u16_walk {
    const unsigned char *s;
    size_t len, i;
    uint32_t low; /* pending low surrogate, 0 if none */
};

/* Next code unit, or -1 at the end. Invalid bytes come out one by one. */
static long u16_next(struct u16_walk *w)
{
    if (w->low != 0) {
        uint32_t u = w->low;
        w->low = 0;
        return (long)u;
    }
    if (w->i >= w->len)
        return -1;
    uint32_t cp;
    size_t n = utf8_decode(w->s + w->i, w->len - w->i, &cp);
    if (n == 0)
        return (long)w->s[w->i++];
    w->i += n;
    if (cp < 0x10000)
        return (long)cp;
    cp -= 0x10000;
    w->low = 0xDC00u + (cp & 0x3FFu);
    return (long)(0xD800u + (cp >> 10));
}

int ruv__jcs_compare_names(const char *a, size_t alen, const char *b, size_t blen)
{
    struct u16_walk wa = {(const unsigned char *)a, alen, 0, 0};
    struct u16_walk wb = {(const unsigned char *)b, blen, 0, 0};
    for (;;) {
        long ua = u16_next(&wa), ub = u16_next(&wb);
        if (ua != ub)
            return ua < ub ? -1 : 1; /* the end (-1) sorts first: a prefix is smaller */
        if (ua < 0)
            return 0;
    }
}

/* ---- output ---- */

struct out {
    struct ruv__bytes text;
    int oom; /* an append failed: the rest is dropped, the caller reports it */
    enum ruv__canon_style style;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (!o->oom && ruv__bytes_append(&o->text, s, n) != 0)
        o->oom = 1;
}

static void put_u16(struct out *o, uint32_t unit)
{
    static const char hex[] = "0123456789abcdef";
    char esc[6] = {'\\', 'u', hex[unit >> 12 & 15], hex[unit >> 8 & 15], hex[unit >> 4 & 15],
                   hex[unit & 15]};
    put(o, esc, 6);
}

/* The two-letter JSON escape of c, which RFC 8785 and Python's json both
 * use where JSON has one; NULL for any other byte. */
static const char *short_escape(unsigned char c)
{
    switch (c) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\b': return "\\b";
    case '\f': return "\\f";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    }
    return NULL;
}

/* Python's ensure_ascii: printable ASCII raw (but '"' and '\\'), the usual
 * two-letter escapes, everything else \uxxxx in UTF-16 units. s is valid
 * UTF-8 (checked by the caller). */
static void put_string_python(struct out *o, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    put(o, "\"", 1);
    size_t i = 0;
    while (i < len) {
        size_t run = i;
        while (run < len && u[run] >= 0x20 && u[run] < 0x7f && u[run] != '"' && u[run] != '\\')
            run++;
        put(o, s + i, run - i);
        if ((i = run) >= len)
            break;
        const char *two = short_escape(u[i]);
        if (two != NULL) {
            put(o, two, 2);
            i++;
            continue;
        }
        uint32_t cp;
        size_t n = utf8_decode(u + i, len - i, &cp);
        if (n == 0) { /* not reached: strings are validated first */
            cp = u[i];
            n = 1;
        }
        if (cp >= 0x10000) {
            put_u16(o, 0xD800u + ((cp - 0x10000) >> 10));
            put_u16(o, 0xDC00u + ((cp - 0x10000) & 0x3FFu));
        } else {
            put_u16(o, cp);
        }
        i += n;
    }
    put(o, "\"", 1);
}

/* RFC 8785 §3.2.2.2: escape '"', '\\' and C0 controls (the usual two-letter
 * forms where JSON has one, else \u00xx in lowercase hex); all else raw. */
static void put_string(struct out *o, const char *s, size_t len)
{
    if (o->style == RUV__CANON_PYTHON) {
        put_string_python(o, s, len);
        return;
    }
    put(o, "\"", 1);
    size_t run = 0; /* start of the bytes copied verbatim */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        put(o, s + run, i - run);
        run = i + 1;
        const char *two = short_escape(c);
        if (two != NULL)
            put(o, two, 2);
        else
            put_u16(o, c);
    }
    put(o, s + run, len - run);
    put(o, "\"", 1);
}

/* ---- the walk ---- */

/* Where a value sits, for error text: a chain of names and indexes. */
struct path {
    const struct path *up;
    const char *name; /* NULL for an array element */
    size_t index;
};

static void path_render(const struct path *p, char *buf, size_t cap, size_t *o)
{
    if (p == NULL)
        return;
    path_render(p->up, buf, cap, o);
    if (*o >= cap)
        return;
    int n = p->name ? snprintf(buf + *o, cap - *o, ".%.40s", p->name)
                    : snprintf(buf + *o, cap - *o, "[%zu]", p->index);
    if (n > 0)
        *o += (size_t)n;
}

static int refuse(const struct path *at, const char *why)
{
    char where[160] = "$";
    size_t o = 1;
    path_render(at, where, sizeof where, &o);
    if (o >= sizeof where)
        memcpy(where + sizeof where - 4, "...", 4);
    return ruv__detail_set(RUV_E_INVAL, "jcs: cannot canonicalize %s: %s", where, why);
}

struct member {
    const char *name;
    size_t len;
    json_t *value;
};

static int cmp_members(const void *x, const void *y)
{
    const struct member *a = x, *b = y;
    return ruv__jcs_compare_names(a->name, a->len, b->name, b->len);
}

/* Python sorts str by code point, which for UTF-8 is byte order. */
static int cmp_members_python(const void *x, const void *y)
{
    const struct member *a = x, *b = y;
    int c = memcmp(a->name, b->name, a->len < b->len ? a->len : b->len);
    if (c != 0)
        return c;
    return a->len < b->len ? -1 : a->len > b->len;
}

static int emit(struct out *o, const json_t *v, const struct path *at, int depth);

static int emit_object(struct out *o, const json_t *v, const struct path *at, int depth)
{
    size_t n = json_object_size(v);
    struct member *m = n ? malloc(n * sizeof *m) : NULL;
    if (n && m == NULL)
        return ruv__detail_set(RUV_E_NOMEM, "jcs: out of memory");
    size_t i = 0;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)v, key, val) {
        size_t klen = json_object_iter_key_len(json_object_key_to_iter(key));
        if (utf8_invalid_at(key, klen) != klen) {
            free(m);
            struct path here = {at, "<name>", 0};
            return refuse(&here, "member name is not valid UTF-8");
        }
        m[i++] = (struct member){key, klen, val};
    }
    if (i > 1)
        qsort(m, i, sizeof *m, o->style == RUV__CANON_PYTHON ? cmp_members_python : cmp_members);
    put(o, "{", 1);
    int rc = RUV_OK;
    for (size_t j = 0; j < i && rc == RUV_OK; j++) {
        if (j > 0)
            put(o, ",", 1);
        put_string(o, m[j].name, m[j].len);
        put(o, ":", 1);
        struct path here = {at, m[j].name, 0};
        rc = emit(o, m[j].value, &here, depth + 1);
    }
    put(o, "}", 1);
    free(m);
    return rc;
}

static int emit(struct out *o, const json_t *v, const struct path *at, int depth)
{
    if (depth > RUV__JCS_MAX_DEPTH)
        return refuse(at, "nested too deeply");
    char num[40];
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return emit_object(o, v, at, depth);
    case JSON_ARRAY: {
        put(o, "[", 1);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i > 0)
                put(o, ",", 1);
            struct path here = {at, NULL, i};
            int rc = emit(o, json_array_get(v, i), &here, depth + 1);
            if (rc != RUV_OK)
                return rc;
        }
        put(o, "]", 1);
        return RUV_OK;
    }
    case JSON_STRING: {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        if (utf8_invalid_at(s, len) != len)
            return refuse(at, "string is not valid UTF-8");
        put_string(o, s, len);
        return RUV_OK;
    }
    case JSON_INTEGER: {
        json_int_t i = json_integer_value(v);
        const json_int_t limit = (json_int_t)1 << 53;
        if (i > limit || i < -limit)
            return refuse(at, "integer outside +-2^53 has no exact IEEE 754 double");
        int n = o->style == RUV__CANON_PYTHON
                    ? snprintf(num, sizeof num, "%lld", (long long)i) /* Python int */
                    : ruv__jcs_number((double)i, num, sizeof num);
        put(o, num, (size_t)n);
        return RUV_OK;
    }
    case JSON_REAL: {
        int n = o->style == RUV__CANON_PYTHON
                    ? ruv__canon_python_float(json_real_value(v), num, sizeof num)
                    : ruv__jcs_number(json_real_value(v), num, sizeof num);
        if (n < 0)
            return refuse(at, "NaN and infinities have no JSON form");
        put(o, num, (size_t)n);
        return RUV_OK;
    }
    case JSON_TRUE:
        put(o, "true", 4);
        return RUV_OK;
    case JSON_FALSE:
        put(o, "false", 5);
        return RUV_OK;
    case JSON_NULL:
        put(o, "null", 4);
        return RUV_OK;
    }
    return refuse(at, "unknown jansson type");
}

int ruv__jcs_serialize(const json_t *v, char **out, size_t *len)
{
    return ruv__canon_serialize(v, RUV__CANON_JCS, out, len);
}

int ruv__canon_serialize(const json_t *v, enum ruv__canon_style style, char **out, size_t *len)
{
    if (out == NULL || len == NULL)
        return ruv__detail_set(RUV_E_INVAL, "jcs: out or len is NULL");
    *out = NULL;
    *len = 0;
    if (v == NULL)
        return ruv__detail_set(RUV_E_INVAL, "jcs: value is NULL");
    struct out o = {.style = style};
    int rc = emit(&o, v, NULL, 0);
    if (rc == RUV_OK && o.oom)
        rc = ruv__detail_set(RUV_E_NOMEM, "jcs: out of memory");
    if (rc != RUV_OK) {
        ruv__bytes_free(&o.text);
        return rc;
    }
    if (o.text.p == NULL) /* cannot happen (every value emits), but keep *out valid */
        return ruv__detail_set(RUV_E_NOMEM, "jcs: empty output");
    *out = o.text.p;
    *len = o.text.len;
    return RUV_OK;
}
