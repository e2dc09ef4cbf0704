/* String helpers shared by the engine: growable buffers for the JSON report,
 * list tokenising for RUVECTOR_DISABLE, module-name validation, gated logging. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"

char *ruv__strdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

void ruv__buf_printf(struct ruv__buf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        size_t room = b->cap - b->len;
        va_list ap;
        va_start(ap, fmt);
        int w = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? room : 0, fmt, ap);
        va_end(ap);
        if (w < 0) {
            b->oom = 1;
            return;
        }
        if (b->p && (size_t)w < room) {
            b->len += (size_t)w;
            return;
        }
        size_t want = b->len + (size_t)w + 1;
        size_t cap = b->cap ? b->cap : 256;
        while (cap < want)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
}

/* Length of the well-formed UTF-8 sequence at c (RFC 3629: no overlongs,
 * no surrogates, nothing past U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *c)
{
    if (c[0] < 0x80)
        return 1;
    size_t n = c[0] >= 0xf0 ? 4 : c[0] >= 0xe0 ? 3 : c[0] >= 0xc2 ? 2 : 0;
    if (n == 0 || c[0] > 0xf4)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((c[i] & 0xc0) != 0x80) /* also stops at the terminating NUL */
            return 0;
    if ((c[0] == 0xe0 && c[1] < 0xa0) || (c[0] == 0xed && c[1] >= 0xa0) ||
        (c[0] == 0xf0 && c[1] < 0x90) || (c[0] == 0xf4 && c[1] >= 0x90))
        return 0;
    return n;
}

void ruv__buf_json_str(struct ruv__buf *b, const char *s)
{
    ruv__buf_printf(b, "\"");
    for (const unsigned char *c = (const unsigned char *)(s ? s : ""); *c;) {
        size_t n = utf8_len(c);
        if (n == 0) { /* a path or plugin text that is not UTF-8: keep the JSON valid */
            ruv__buf_printf(b, "\\ufffd");
            c++;
            continue;
        }
        if (n > 1) {
            ruv__buf_printf(b, "%.*s", (int)n, (const char *)c);
            c += n;
            continue;
        }
        switch (*c) {
        case '"': ruv__buf_printf(b, "\\\""); break;
        case '\\': ruv__buf_printf(b, "\\\\"); break;
        case '\n': ruv__buf_printf(b, "\\n"); break;
        case '\r': ruv__buf_printf(b, "\\r"); break;
        case '\t': ruv__buf_printf(b, "\\t"); break;
        default:
            if (*c < 0x20 || *c == 0x7f)
                ruv__buf_printf(b, "\\u%04x", *c);
            else
                ruv__buf_printf(b, "%c", *c);
        }
        c++;
    }
    ruv__buf_printf(b, "\"");
}

int ruv__tokens(const char *list, int (*fn)(const char *tok, size_t len, void *ctx), void *ctx)
{
    const char *p = list ? list : "";
    while (*p) {
        while (*p == ',' || *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        const char *start = p;
        while (*p && *p != ',' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            p++;
        if (p > start) {
            int rc = fn(start, (size_t)(p - start), ctx);
            if (rc)
                return rc;
        }
    }
    return 0;
}

int ruv__valid_module_name(const char *name)
{
    if (!name || !*name)
        return 0;
    size_t n = 0;
    for (const char *c = name; *c; c++, n++) {
        if (n >= 31)
            return 0;
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
            return 0;
    }
    return 1;
}

void ruv__log(int verbose, int level, const char *fmt, ...)
{
    if (verbose < level)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("ruvector: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void ruv__append(char *buf, size_t size, const char *fmt, ...)
{
    size_t len = strlen(buf);
    if (len + 1 >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + len, size - len, fmt, ap);
    va_end(ap);
}

uint64_t ruv__physical_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : 0;
}
