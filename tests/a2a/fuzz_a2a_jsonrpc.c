/* tests/a2a/fuzz_a2a_jsonrpc.c — libFuzzer target for the JSON-RPC
 * response decoder and the dialect layer behind it.
 *
 * The first byte picks the expected id (a fixed one, or none) and which
 * dialect and method the result is read as; the rest is the response body.
 * A decoded result goes through the unary and the stream normalizers of
 * both dialects, and the input as a whole through the request translator
 * (v1.0 -> wire), whose results must serialize; normalized events feed the
 * resume reconciler, and every result is tried as a resumed snapshot
 * against them. Invariants: RUV_OK comes
 * with a result and no error, RUV_E_REMOTE with an error object and no
 * result, anything else with neither. */
#include "config.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/feature-a2a.h>

#include "../../plugins/a2a/detail.h"
#include "../../plugins/a2a/dialect.h"
#include "../../plugins/a2a/json_in.h"
#include "../../plugins/a2a/jsonrpc.h"
#include "../../plugins/a2a/reconcile.h"

static void must_dump(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s)
        abort();
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    const char *id = (sel & 1) ? "0f8e2a9c-1d3b-4c5e-8f7a-6b5c4d3e2f10" : NULL;

    struct ruv__rpc_reply reply;
    int rc = ruv__jsonrpc_decode(body, len, id, &reply);
    if (rc == RUV_OK) {
        if (!reply.result || reply.error)
            abort();
        for (int v1 = 0; v1 <= 1; v1++) {
            for (uint32_t m = RUV_A2A_SEND; m <= RUV_A2A_CANCEL; m++) {
                json_t *out = NULL;
                if (ruv__dialect_result_in(v1, m, reply.result, &out) == RUV_OK) {
                    if (!out)
                        abort();
                    must_dump(out);
                    json_decref(out);
                } else if (out) {
                    abort();
                }
            }
            json_t *ev = NULL;
            int ends = -1;
            struct ruv__reconcile seen;
            memset(&seen, 0, sizeof seen);
            if (ruv__dialect_event_in(v1, reply.result, &ev, &ends) == RUV_OK) {
                if (!ev || (ends != 0 && ends != 1))
                    abort();
                must_dump(ev);
                ruv__reconcile_note(&seen, ev);
                json_decref(ev);
            }
            json_t *added = json_array();
            int snap_ends = -1;
            if (added && ruv__reconcile_snapshot(&seen, reply.result, added, &snap_ends) == RUV_OK) {
                if (snap_ends != 0 && snap_ends != 1)
                    abort();
                /* A snapshot replayed at once adds nothing new. */
                json_t *again = json_array();
                int e2;
                if (again && ruv__reconcile_snapshot(&seen, reply.result, again, &e2) == RUV_OK &&
                    json_array_size(again) != 0)
                    abort();
                json_decref(again);
            }
            json_decref(added);
            ruv__reconcile_free(&seen);
        }
    } else if (rc == RUV_E_REMOTE) {
        if (reply.result || !json_is_object(reply.error))
            abort();
    } else if (reply.result || reply.error) {
        abort();
    }
    ruv__rpc_reply_clear(&reply);

    /* The same bytes as v1.0-shaped params on their way out. */
    json_t *params = NULL;
    if (ruv__json_parse(body, len, &ruv__json_rpc_limits, &params) == RUV_OK) {
        uint32_t m = (uint32_t)(sel >> 1) % 5 + 1;
        int v1 = (sel >> 4) & 1;
        if (ruv__dialect_params_out(v1, m, params) == RUV_OK)
            must_dump(params);
        json_decref(params);
    }
    return 0;
}
