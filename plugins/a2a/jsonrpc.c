/* plugins/a2a/jsonrpc.c — JSON-RPC 2.0 request envelopes and response
 * validation (a2a.md §2). */
#include "config.h"
#include "jsonrpc.h"
#include "detail.h"
#include "json_in.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

const struct ruv__json_limits ruv__json_rpc_limits = {
    .max_bytes = (size_t)16 << 20,
    .max_depth = 128,
    .numbers_as_doubles = 0,
    .any_top_level = 1,
};

int ruv__uuid4(char out[RUV__UUID_SIZE])
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1)
        return ruv__detail_set(RUV_E_BACKEND, "RAND_bytes failed");
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, RUV__UUID_SIZE,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
    return RUV_OK;
}

int ruv__jsonrpc_request(const char *method, json_t *params, char id[RUV__UUID_SIZE],
                         char **body, size_t *len)
{
    *body = NULL;
    int rc = ruv__uuid4(id);
    if (rc != RUV_OK)
        return rc;
    json_t *req = json_pack("{s:s, s:s, s:s, s:O}", "jsonrpc", "2.0", "id", id, "method", method,
                            "params", params);
    if (!req)
        return ruv__detail_set(RUV_E_NOMEM, "out of memory building the %s request", method);
    *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (!*body)
        return ruv__detail_set(RUV_E_NOMEM, "out of memory serializing the %s request", method);
    *len = strlen(*body);
    return RUV_OK;
}

void ruv__rpc_reply_clear(struct ruv__rpc_reply *reply)
{
    json_decref(reply->result);
    json_decref(reply->error);
    memset(reply, 0, sizeof *reply);
}

static int check_error_object(json_t *err, int32_t *code)
{
    if (!json_is_object(err))
        return ruv__detail_set(RUV_E_PROTOCOL, "JSON-RPC error is not an object");
    json_t *c = json_object_get(err, "code"), *m = json_object_get(err, "message");
    if (!json_is_integer(c) || json_integer_value(c) < INT32_MIN ||
        json_integer_value(c) > INT32_MAX)
        return ruv__detail_set(RUV_E_PROTOCOL, "JSON-RPC error has no 32-bit integer code");
    if (m && !json_is_string(m))
        return ruv__detail_set(RUV_E_PROTOCOL, "JSON-RPC error message is not a string");
    *code = (int32_t)json_integer_value(c);
    return RUV_OK;
}

int ruv__jsonrpc_decode(const char *buf, size_t len, const char *expect_id,
                        struct ruv__rpc_reply *reply)
{
    memset(reply, 0, sizeof *reply);
    json_t *doc = NULL;
    int rc = ruv__json_parse(buf, len, &ruv__json_rpc_limits, &doc);
    if (rc != RUV_OK)
        return ruv__detail_prefix(rc == RUV_E_INVAL ? RUV_E_PROTOCOL : rc, "JSON-RPC response");
    if (!json_is_object(doc)) {
        rc = ruv__detail_set(RUV_E_PROTOCOL, "JSON-RPC response is a %s, not an object",
                             json_is_array(doc) ? "batch (array)" : "scalar");
        goto out;
    }
    json_t *ver = json_object_get(doc, "jsonrpc");
    if (!json_is_string(ver) || strcmp(json_string_value(ver), "2.0") != 0) {
        rc = ruv__detail_set(RUV_E_PROTOCOL, "JSON-RPC response: \"jsonrpc\" is not \"2.0\"");
        goto out;
    }
    json_t *id = json_object_get(doc, "id");
    json_t *result = json_object_get(doc, "result"), *error = json_object_get(doc, "error");
    if ((result != NULL) == (error != NULL)) {
        rc = ruv__detail_set(RUV_E_PROTOCOL, "JSON-RPC response has %s of result and error",
                             result ? "both" : "neither");
        goto out;
    }
    /* An error about an unparseable request may carry "id": null. */
    int null_id_ok = error && json_is_null(id);
    if (expect_id && !null_id_ok &&
        (!json_is_string(id) || strcmp(json_string_value(id), expect_id) != 0)) {
        rc = ruv__detail_set(RUV_E_PROTOCOL,
                             "JSON-RPC response id does not match the request id %s", expect_id);
        goto out;
    }
    if (error) {
        rc = check_error_object(error, &reply->code);
        if (rc == RUV_OK) {
            json_t *m = json_object_get(error, "message");
            rc = ruv__detail_set(RUV_E_REMOTE, "peer error %d: %s", (int)reply->code,
                                 m ? json_string_value(m) : "(no message)");
            reply->error = json_incref(error);
        }
        goto out;
    }
    reply->result = json_incref(result);
    rc = RUV_OK;
out:
    json_decref(doc);
    return rc;
}
