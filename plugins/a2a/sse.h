/* plugins/a2a/sse.h — incremental text/event-stream framer (a2a.md §3.3).
 *
 * Follows the WHATWG "event stream interpretation" rules: CRLF, LF and CR
 * line ends (a CR at the end of one chunk and an LF at the start of the next
 * are one line end); one leading UTF-8 BOM stripped; lines starting with ':'
 * are comments; "field:value" with one optional space after the colon; data
 * lines joined with "\n"; event, id (ignored if it contains NUL) and retry
 * (digits only; clamped to 0.5-60 s) honoured; a blank line dispatches; an
 * event still open at end of stream is discarded. Bytes are passed through as
 * they are: the JSON parser behind the framer rejects invalid UTF-8.
 *
 * Chunks may split the stream anywhere: feeding a stream in one piece or byte
 * by byte yields the same events. Memory is bounded by max_event_bytes: the
 * data and the line being read share that cap, and the event name and id
 * lines are each limited by it too. */
#ifndef RUV_A2A_SSE_H
#define RUV_A2A_SSE_H

#include <stddef.h>
#include <stdint.h>

struct ruv__sse;

/* One dispatched event, borrowed for the duration of the callback. The
 * strings are NUL-terminated; event and data may themselves contain NUL
 * bytes, so compare with the lengths (id never does). event is "message" when the stream named none. id is the last
 * event ID in force (it carries over between events, as WHATWG says). */
struct ruv__sse_event {
    const char *event;
    size_t event_len;
    const char *data;
    size_t data_len;
    const char *id;
    size_t id_len;
};

/* Called once per dispatched event. Returning non-zero stops the feed, which
 * returns that value; the rest of the chunk is not read and the framer then
 * refuses input (RUV_E_STATE) until ruv__sse_finish: a consumer stops a
 * stream this way (e.g. on an in-stream `event: error`). */
typedef int (*ruv__sse_on_event)(void *ctx, const struct ruv__sse_event *ev);

#define RUV__SSE_DEFAULT_MAX_EVENT ((size_t)4 << 20) /* a2a.md §6: one SSE event */
#define RUV__SSE_RETRY_MIN_MS 500u
#define RUV__SSE_RETRY_MAX_MS 60000u

/* New framer whose events (data, event name and id lines together, plus the
 * line being read) may hold at most max_event_bytes (0 = the 4 MiB default).
 * The caller frees it with ruv__sse_free. RUV_E_NOMEM or RUV_E_INVAL. */
int ruv__sse_new(size_t max_event_bytes, struct ruv__sse **out);
/* Frees the framer and its buffers; NULL is a no-op. */
void ruv__sse_free(struct ruv__sse *p);

/* Feeds len bytes; calls cb for every event completed inside them. Returns
 * RUV_OK, the callback's non-zero value, or RUV_E_PROTOCOL when an event
 * grows past the cap (detail says so). After a cap error the framer refuses
 * further input with the same status: the stream must be dropped. */
int ruv__sse_feed(struct ruv__sse *p, const char *buf, size_t len, ruv__sse_on_event cb,
                  void *ctx);

/* End of stream: discards an event that was never terminated by a blank line
 * (an id line inside it included). Returns 1 if such a partial event (any
 * field line or partial line) was discarded, else 0. The framer can then be
 * reused for a new stream, also after a stop or a cap error (reconnection
 * keeps the last event ID and retry, as WHATWG does). */
int ruv__sse_finish(struct ruv__sse *p);

/* 1 while bytes of an undispatched event are pending (the event-assembly
 * deadline of a2a.md §6 runs from the first of them), else 0. */
int ruv__sse_in_event(const struct ruv__sse *p);

/* Reconnection time the server asked for, clamped to 500-60000 ms; 0 if it
 * never sent a valid retry field. */
uint32_t ruv__sse_retry_ms(const struct ruv__sse *p);

/* Last event ID string (for a Last-Event-ID header); "" when none. Borrowed
 * until the next feed/finish/free. */
const char *ruv__sse_last_id(const struct ruv__sse *p, size_t *len);

/* Comment lines seen so far (": ping" keep-alives included). */
uint64_t ruv__sse_comments(const struct ruv__sse *p);

#endif
