/* plugins/a2a/jsonrpc.h — JSON-RPC 2.0 envelopes of the A2A binding
 * (a2a.md §2): requests with a fresh uuid4 id, and the strict validation
 * of responses (jsonrpc "2.0", the request's id, exactly one of result and
 * error, an object at the top). */
#ifndef RUV_A2A_JSONRPC_H
#define RUV_A2A_JSONRPC_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define RUV__UUID_SIZE 37 /* 36 characters and the NUL */

/* Limits for RPC responses and SSE event data: 16 MiB, depth 128, numbers
 * as jansson reads them, object at the top. */
extern const struct ruv__json_limits ruv__json_rpc_limits;

/* A random version-4 UUID in out. RUV_OK or RUV_E_BACKEND (no randomness). */
int ruv__uuid4(char out[RUV__UUID_SIZE]);

/* The request text {"jsonrpc":"2.0","id":id,"method":method,"params":params}
 * (params borrowed) in *body (malloc'd, NUL-terminated, length *len) and
 * its id in id. RUV_OK, RUV_E_NOMEM, RUV_E_BACKEND. */
int ruv__jsonrpc_request(const char *method, json_t *params, char id[RUV__UUID_SIZE],
                         char **body, size_t *len);

/* A decoded response. */
struct ruv__rpc_reply {
    json_t *result;   /* new reference on RUV_OK, else NULL */
    json_t *error;    /* new reference to the error object on RUV_E_REMOTE */
    int32_t code;     /* error.code on RUV_E_REMOTE */
};

/* Decodes len bytes as the response to the request with id expect_id (NULL:
 * any id, for callers that check it later). RUV_OK with reply->result;
 * RUV_E_REMOTE with reply->error (an object with an integer code and a
 * string message); RUV_E_PROTOCOL naming what was wrong (not JSON,
 * invalid UTF-8, duplicate keys, over the limits, an array, jsonrpc not
 * "2.0", a wrong id, both or neither of result and error, a malformed
 * error object); RUV_E_NOMEM. The caller frees the reply with
 * ruv__rpc_reply_clear. */
int ruv__jsonrpc_decode(const char *buf, size_t len, const char *expect_id,
                        struct ruv__rpc_reply *reply);

void ruv__rpc_reply_clear(struct ruv__rpc_reply *reply);

#endif
