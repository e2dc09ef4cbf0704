/* tests/a2a/fuzz_a2a_sse.c — libFuzzer target for the SSE framer.
 *
 * The first byte picks a chunk size (1..256) and whether the cap is small
 * (256 bytes) or the default; the rest is the stream. The stream is framed
 * twice, once whole and once in chunks, and both runs must dispatch the same
 * events and end in the same state: framing may not depend on how the
 * network split the bytes. */
#include "config.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/a2a/detail.h"
#include "../../plugins/a2a/sse.h"

struct digest {
    uint64_t hash;
    size_t events;
};

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h ^ (n * 0x9e3779b97f4a7c15ull);
}

static int on_event(void *ctx, const struct ruv__sse_event *ev)
{
    struct digest *d = ctx;
    /* id never holds NUL (such id lines are ignored); event and data may. */
    if (ev->event[ev->event_len] || ev->id_len != strlen(ev->id) || ev->data[ev->data_len])
        abort();
    d->hash = mix(d->hash, ev->event, ev->event_len);
    d->hash = mix(d->hash, ev->id, ev->id_len);
    d->hash = mix(d->hash, ev->data, ev->data_len);
    d->events++;
    return 0;
}

static int run(const uint8_t *s, size_t n, size_t chunk, size_t cap, struct digest *d,
               int *discarded, uint32_t *retry)
{
    struct ruv__sse *p;
    if (ruv__sse_new(cap, &p) != RUV_OK)
        abort();
    int rc = RUV_OK;
    for (size_t at = 0; at < n && rc == RUV_OK; at += chunk) {
        size_t len = n - at < chunk ? n - at : chunk;
        rc = ruv__sse_feed(p, (const char *)s + at, len, on_event, d);
    }
    *retry = ruv__sse_retry_ms(p);
    *discarded = ruv__sse_finish(p);
    if (rc == RUV_OK) { /* reusable after finish */
        if (ruv__sse_feed(p, "data: x\n\n", 9, NULL, NULL) != RUV_OK)
            abort();
    }
    ruv__sse_free(p);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t chunk = (size_t)(data[0] & 0x7f) + 1;
    size_t cap = (data[0] & 0x80) ? 256 : 0;
    struct digest whole = {0xcbf29ce484222325ull, 0}, split = whole;
    int dw, ds;
    uint32_t rw, rs;
    int rc_whole = run(data + 1, size - 1, size, cap, &whole, &dw, &rw);
    int rc_split = run(data + 1, size - 1, chunk, cap, &split, &ds, &rs);
    if (rc_whole != rc_split || whole.hash != split.hash || whole.events != split.events ||
        rw != rs || (rc_whole == RUV_OK && dw != ds))
        abort();
    return 0;
}
