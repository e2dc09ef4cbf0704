/* Section cursors: bounds-checked little-endian reads from one section. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <ruvector/error.h>

#include "store/container.h"
#include "store/persist.h"

/* ---------------------------------------------------------------------- */
/* cursor                                                                 */

void ruv__cursor_init(struct ruv__cursor *c, const void *data, size_t len, const char *path,
                      const char tag[4])
{
    c->p = data;
    c->len = data ? len : 0;
    c->pos = 0;
    c->path = path;
    if (tag) {
        memcpy(c->tag, tag, 4);
        c->tag[4] = '\0';
    } else {
        memcpy(c->tag, "?", 2);
    }
}

int ruv__reader_cursor(const struct ruv__reader *r, const char tag[4], struct ruv__cursor *c)
{
    const void *data = NULL;
    size_t len = 0;
    int rc = ruv__reader_section(r, tag, &data, &len);
    ruv__cursor_init(c, rc ? NULL : data, len, r ? r->path : NULL, tag);
    return rc;
}

static int take(struct ruv__cursor *c, size_t n, const unsigned char **p)
{
    if (n > c->len - c->pos)
        return ruv__file_fail(RUV_E_CORRUPT, c->path,
                     "section '%s' is truncated: needs %zu bytes at offset %zu, has %zu", c->tag,
                     n, c->pos, c->len - c->pos);
    *p = c->p + c->pos;
    c->pos += n;
    return RUV_OK;
}

int ruv__get_u32(struct ruv__cursor *c, uint32_t *v)
{
    const unsigned char *p = NULL;
    int rc = take(c, 4, &p);
    if (!rc)
        *v = ruv__load_u32(p);
    return rc;
}

int ruv__get_u64(struct ruv__cursor *c, uint64_t *v)
{
    const unsigned char *p = NULL;
    int rc = take(c, 8, &p);
    if (!rc)
        *v = ruv__load_u64(p);
    return rc;
}

int ruv__get_f32(struct ruv__cursor *c, float *v)
{
    const unsigned char *p = NULL;
    int rc = take(c, 4, &p);
    if (!rc)
        *v = ruv__load_f32(p);
    return rc;
}

int ruv__get_bytes(struct ruv__cursor *c, void *out, size_t n)
{
    const unsigned char *p = NULL;
    int rc = take(c, n, &p);
    if (!rc && n)
        memcpy(out, p, n);
    return rc;
}

int ruv__cursor_end(const struct ruv__cursor *c)
{
    if (c->pos != c->len)
        return ruv__file_fail(RUV_E_CORRUPT, c->path, "section '%s' has %zu unexpected trailing bytes",
                     c->tag, c->len - c->pos);
    return RUV_OK;
}
