/* plugins/a2a/sse.c — incremental text/event-stream framer (WHATWG rules). */
#include "config.h"
#include "sse.h"
#include "bytes.h"
#include "detail.h"

#include <stdlib.h>
#include <string.h>

enum { FEED_OK = 0, FEED_STOPPED = 1, FEED_FAILED = 2 };

struct ruv__sse {
    size_t max_event;
    struct ruv__bytes line;    /* the line being read, when it spans chunks */
    struct ruv__bytes data;    /* data buffer: data lines joined with '\n' */
    struct ruv__bytes event;   /* event type buffer */
    struct ruv__bytes id_buf;  /* last event ID buffer (set by id lines) */
    struct ruv__bytes last_id; /* last event ID string (committed at a blank line) */
    int bom_matched;           /* BOM bytes seen at stream start; -1 once decided */
    int skip_lf;               /* previous chunk ended in CR: a leading LF belongs to it */
    int pending;               /* a field line of an undispatched event was read */
    int state;                 /* FEED_* */
    int fail_status;
    uint32_t retry_ms;
    uint64_t comments;
};

static const unsigned char utf8_bom[3] = {0xEF, 0xBB, 0xBF};

int ruv__sse_new(size_t max_event_bytes, struct ruv__sse **out)
{
    if (out == NULL)
        return ruv__detail_set(RUV_E_INVAL, "sse: out is NULL");
    *out = NULL;
    struct ruv__sse *p = calloc(1, sizeof *p);
    if (p == NULL)
        return ruv__detail_set(RUV_E_NOMEM, "sse: out of memory");
    p->max_event = max_event_bytes ? max_event_bytes : RUV__SSE_DEFAULT_MAX_EVENT;
    if (ruv__bytes_set(&p->last_id, "", 0) != 0 || ruv__bytes_set(&p->id_buf, "", 0) != 0) {
        ruv__sse_free(p);
        return ruv__detail_set(RUV_E_NOMEM, "sse: out of memory");
    }
    *out = p;
    return RUV_OK;
}

void ruv__sse_free(struct ruv__sse *p)
{
    if (p == NULL)
        return;
    ruv__bytes_free(&p->line);
    ruv__bytes_free(&p->data);
    ruv__bytes_free(&p->event);
    ruv__bytes_free(&p->id_buf);
    ruv__bytes_free(&p->last_id);
    free(p);
}

static int fail(struct ruv__sse *p, int status, const char *what)
{
    p->state = FEED_FAILED;
    p->fail_status = status;
    if (status == RUV_E_NOMEM)
        return ruv__detail_set(status, "sse: out of memory while %s", what);
    return ruv__detail_set(status, "sse: %s exceeds the %zu-byte event cap", what, p->max_event);
}

/* The event's bytes so far (data and the line being read) plus n more must
 * fit the cap. */
static int fits(const struct ruv__sse *p, size_t n)
{
    size_t used = p->data.len + p->line.len;
    return used <= p->max_event && n <= p->max_event - used;
}

static int dispatch(struct ruv__sse *p, ruv__sse_on_event cb, void *ctx)
{
    if (ruv__bytes_set(&p->last_id, p->id_buf.p, p->id_buf.len) != 0)
        return fail(p, RUV_E_NOMEM, "committing the event id");
    p->pending = 0;
    if (p->data.len == 0) {
        p->event.len = 0;
        return RUV_OK;
    }
    p->data.p[--p->data.len] = '\0'; /* every data line added a '\n'; drop the last */
    struct ruv__sse_event ev = {
        .event = p->event.len ? p->event.p : "message",
        .event_len = p->event.len ? p->event.len : 7,
        .data = p->data.p,
        .data_len = p->data.len,
        .id = p->last_id.p,
        .id_len = p->last_id.len,
    };
    int rc = cb ? cb(ctx, &ev) : 0;
    p->data.len = 0;
    p->data.p[0] = '\0';
    p->event.len = 0;
    if (rc != 0)
        p->state = FEED_STOPPED;
    return rc;
}

static int field_is(const char *field, size_t len, const char *name)
{
    return strlen(name) == len && memcmp(field, name, len) == 0;
}

static void set_retry(struct ruv__sse *p, const char *v, size_t n)
{
    if (n == 0)
        return;
    uint64_t ms = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return; /* WHATWG: not all ASCII digits → ignore the field */
        if (ms <= RUV__SSE_RETRY_MAX_MS)
            ms = ms * 10 + (uint64_t)(v[i] - '0');
    }
    if (ms < RUV__SSE_RETRY_MIN_MS)
        ms = RUV__SSE_RETRY_MIN_MS;
    if (ms > RUV__SSE_RETRY_MAX_MS)
        ms = RUV__SSE_RETRY_MAX_MS;
    p->retry_ms = (uint32_t)ms;
}

static int process_line(struct ruv__sse *p, const char *line, size_t len, ruv__sse_on_event cb,
                        void *ctx)
{
    if (len == 0)
        return dispatch(p, cb, ctx);
    if (line[0] == ':') {
        p->comments++;
        return RUV_OK;
    }
    const char *colon = memchr(line, ':', len);
    size_t flen = colon ? (size_t)(colon - line) : len;
    const char *value = colon ? colon + 1 : line + len;
    size_t vlen = colon ? len - flen - 1 : 0;
    if (vlen > 0 && value[0] == ' ') {
        value++;
        vlen--;
    }
    p->pending = 1;
    if (field_is(line, flen, "data")) {
        /* The line itself no longer counts once it moves into the data buffer. */
        size_t line_part = p->line.len;
        p->line.len = 0;
        if (!fits(p, vlen + 1))
            return fail(p, RUV_E_PROTOCOL, "data");
        p->line.len = line_part;
        if (ruv__bytes_append(&p->data, value, vlen) != 0 ||
            ruv__bytes_append(&p->data, "\n", 1) != 0)
            return fail(p, RUV_E_NOMEM, "appending data");
    } else if (field_is(line, flen, "event")) {
        if (ruv__bytes_set(&p->event, value, vlen) != 0)
            return fail(p, RUV_E_NOMEM, "storing the event type");
    } else if (field_is(line, flen, "id")) {
        if (memchr(value, '\0', vlen) == NULL && ruv__bytes_set(&p->id_buf, value, vlen) != 0)
            return fail(p, RUV_E_NOMEM, "storing the event id");
    } else if (field_is(line, flen, "retry")) {
        set_retry(p, value, vlen);
    }
    return RUV_OK;
}

/* Index of the first CR or LF in buf[from, len), or len. */
static size_t find_eol(const char *buf, size_t from, size_t len)
{
    for (size_t i = from; i < len; i++)
        if (buf[i] == '\r' || buf[i] == '\n')
            return i;
    return len;
}

/* Strips a leading UTF-8 BOM that may itself be split across chunks. Returns
 * how many bytes of buf it consumed. */
static size_t eat_bom(struct ruv__sse *p, const char *buf, size_t len, int *err)
{
    size_t i = 0;
    *err = 0;
    while (p->bom_matched >= 0 && i < len) {
        if ((unsigned char)buf[i] == utf8_bom[p->bom_matched]) {
            i++;
            if (++p->bom_matched == 3)
                p->bom_matched = -1;
        } else {
            /* Not a BOM after all: the bytes matched so far are stream text. */
            if (ruv__bytes_append(&p->line, (const char *)utf8_bom, (size_t)p->bom_matched) != 0)
                *err = 1;
            p->bom_matched = -1;
        }
    }
    return i;
}

int ruv__sse_feed(struct ruv__sse *p, const char *buf, size_t len, ruv__sse_on_event cb,
                  void *ctx)
{
    if (p == NULL || (buf == NULL && len > 0))
        return ruv__detail_set(RUV_E_INVAL, "sse: framer or buffer is NULL");
    if (p->state == FEED_FAILED)
        return ruv__detail_set(p->fail_status, "sse: stream already failed; finish it first");
    if (p->state == FEED_STOPPED)
        return ruv__detail_set(RUV_E_STATE, "sse: stream was stopped by its consumer");
    int bom_err;
    size_t i = eat_bom(p, buf, len, &bom_err);
    if (bom_err)
        return fail(p, RUV_E_NOMEM, "reading the stream start");
    while (i < len) {
        if (p->skip_lf) {
            p->skip_lf = 0;
            if (buf[i] == '\n') {
                i++;
                continue;
            }
        }
        size_t eol = find_eol(buf, i, len);
        size_t n = eol - i;
        if (!fits(p, n))
            return fail(p, RUV_E_PROTOCOL, "line");
        if (eol == len) {
            if (ruv__bytes_append(&p->line, buf + i, n) != 0)
                return fail(p, RUV_E_NOMEM, "buffering a line");
            break;
        }
        p->skip_lf = buf[eol] == '\r';
        int rc;
        if (p->line.len == 0) {
            rc = process_line(p, buf + i, n, cb, ctx);
        } else {
            if (ruv__bytes_append(&p->line, buf + i, n) != 0)
                return fail(p, RUV_E_NOMEM, "buffering a line");
            rc = process_line(p, p->line.p, p->line.len, cb, ctx);
        }
        p->line.len = 0;
        i = eol + 1;
        if (rc != 0)
            return rc;
    }
    return RUV_OK;
}

int ruv__sse_finish(struct ruv__sse *p)
{
    if (p == NULL)
        return 0;
    int discarded = ruv__sse_in_event(p);
    p->line.len = 0;
    p->data.len = 0;
    p->event.len = 0;
    /* An id line of the discarded event never took effect. */
    if (ruv__bytes_set(&p->id_buf, p->last_id.p, p->last_id.len) != 0)
        p->id_buf.len = 0;
    p->pending = 0;
    p->skip_lf = 0;
    p->bom_matched = 0;
    p->state = FEED_OK;
    return discarded;
}

int ruv__sse_in_event(const struct ruv__sse *p)
{
    return p != NULL && (p->pending || p->line.len > 0 || p->bom_matched > 0);
}

uint32_t ruv__sse_retry_ms(const struct ruv__sse *p)
{
    return p ? p->retry_ms : 0;
}

const char *ruv__sse_last_id(const struct ruv__sse *p, size_t *len)
{
    if (len)
        *len = p ? p->last_id.len : 0;
    return p && p->last_id.p ? p->last_id.p : "";
}

uint64_t ruv__sse_comments(const struct ruv__sse *p)
{
    return p ? p->comments : 0;
}
