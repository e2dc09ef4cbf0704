/* plugins/a2a/stream_event.h — one SSE event of a stream turned into the
 * StreamResponses the client gets: the same rules for the blocking stream
 * (stream.c) and the stream on the I/O thread (astream.c). Each side keeps
 * its own queue; it hands in how to push one event to it. */
#ifndef RUV_A2A_STREAM_EVENT_H
#define RUV_A2A_STREAM_EVENT_H

#include <stdint.h>
#include <jansson.h>

#include "reconcile.h"
#include "sse.h"

/* Queues one normalized StreamResponse (the callee copies what it keeps).
 * RUV_OK or an error with the detail set. */
typedef int (*ruv__stream_push_fn)(void *ctx, json_t *event);

/* A stream's delivery state, borrowed from its owner for one call. */
struct ruv__stream_sink {
    int v1;                      /* the dialect the stream was opened in */
    const char *id;              /* the JSON-RPC id of the request */
    struct ruv__reconcile *seen; /* what was delivered so far */
    int *reconcile_next;         /* the next event is a resumed stream's snapshot */
    int *resume_failures;        /* consecutive; any event resets it */
    int *ended;                  /* set once the last event was seen */
    ruv__stream_push_fn push;
    void *push_ctx;
};

/* Pushes the StreamResponses a Task snapshot (a resumed stream's, or a
 * GetTask result) adds to what was delivered; sets *sink->ended when the
 * snapshot's state ends the stream. RUV_OK or an error with the detail set. */
int ruv__stream_push_snapshot(const struct ruv__stream_sink *sink, json_t *task);

/* Decodes one SSE event (a JSON-RPC response for sink->id), normalizes it
 * and pushes what is new. RUV_OK, or the failure with the detail set and
 * prefixed, *error the ruv_a2a error to report and, for an in-stream
 * JSON-RPC error (RUV_E_REMOTE), *rpc_code and *rpc_json (the error object
 * as compact JSON, the caller's to free; NULL if it could not be written). */
int ruv__stream_event_in(const struct ruv__stream_sink *sink, const struct ruv__sse_event *ev,
                         uint32_t *error, int32_t *rpc_code, char **rpc_json);

#endif
