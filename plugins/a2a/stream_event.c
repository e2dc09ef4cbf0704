/* plugins/a2a/stream_event.c — one SSE event of a stream into the
 * StreamResponses the client gets (stream_event.h). */
#include "config.h"
#include "stream_event.h"

#include <ruvector/feature-a2a.h>

#include "detail.h"
#include "dialect.h"
#include "jsonrpc.h"

#include <string.h>

int ruv__stream_push_snapshot(const struct ruv__stream_sink *sink, json_t *task)
{
    json_t *out = json_array();
    if (!out)
        return ruv__detail_set(RUV_E_NOMEM, "out of memory");
    int ends = 0;
    int rc = ruv__reconcile_snapshot(sink->seen, task, out, &ends);
    size_t i;
    json_t *ev;
    json_array_foreach(out, i, ev)
    {
        if (rc == RUV_OK)
            rc = sink->push(sink->push_ctx, ev);
    }
    json_decref(out);
    if (rc == RUV_OK && ends)
        *sink->ended = 1;
    return rc;
}

int ruv__stream_event_in(const struct ruv__stream_sink *sink, const struct ruv__sse_event *ev,
                         uint32_t *error, int32_t *rpc_code, char **rpc_json)
{
    *error = RUV_A2A_ERR_NONE;
    *rpc_code = 0;
    *rpc_json = NULL;
    int is_error = ev->event_len == 5 && memcmp(ev->event, "error", 5) == 0;
    struct ruv__rpc_reply reply;
    int rc = ruv__jsonrpc_decode(ev->data, ev->data_len, sink->id, &reply);
    if (rc == RUV_E_REMOTE) {
        *rpc_json = json_dumps(reply.error, JSON_COMPACT);
        *rpc_code = reply.code;
        *error = RUV_A2A_ERR_REMOTE;
        ruv__rpc_reply_clear(&reply);
        return ruv__detail_prefix(RUV_E_REMOTE, "in-stream error");
    }
    if (rc == RUV_OK && is_error) {
        ruv__rpc_reply_clear(&reply);
        rc = ruv__detail_set(RUV_E_PROTOCOL, "an \"error\" event without a JSON-RPC error");
    }
    json_t *norm = NULL;
    if (rc == RUV_OK) {
        rc = ruv__dialect_event_in(sink->v1, reply.result, &norm, sink->ended);
        ruv__rpc_reply_clear(&reply);
    }
    if (rc == RUV_OK) {
        *sink->resume_failures = 0;
        json_t *task = json_object_get(norm, "task");
        if (*sink->reconcile_next && task)
            rc = ruv__stream_push_snapshot(sink, task);
        else if ((rc = ruv__reconcile_note(sink->seen, norm)) == RUV_OK)
            rc = sink->push(sink->push_ctx, norm);
        *sink->reconcile_next = 0;
    }
    json_decref(norm);
    if (rc != RUV_OK) {
        *error = rc == RUV_E_PROTOCOL ? RUV_A2A_ERR_PROTOCOL : RUV_A2A_ERR_NONE;
        ruv__detail_prefix(rc, "stream event");
    }
    return rc;
}
