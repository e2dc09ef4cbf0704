/* plugins/a2a/dialect.c — v1.0 and v0.3 JSON-RPC shapes (a2a.md §1-§3). */
#include "config.h"
#include "dialect.h"
#include "detail.h"

#include <string.h>

#include <ruvector/feature-a2a.h>

const char *ruv__dialect_method(int v1, uint32_t m)
{
    static const char *const v1_names[] = {NULL, "SendMessage", "GetTask", "CancelTask",
                                           "SendStreamingMessage", "SubscribeToTask"};
    static const char *const v03_names[] = {NULL, "message/send", "tasks/get", "tasks/cancel",
                                            "message/stream", "tasks/resubscribe"};
    if (m < 1 || m > RUV_A2A_SUBSCRIBE)
        return NULL;
    return v1 ? v1_names[m] : v03_names[m];
}

/* ---- states, roles ---- */

static const struct {
    const char *v1, *v03;
} states[] = {
    {"TASK_STATE_SUBMITTED", "submitted"},        {"TASK_STATE_WORKING", "working"},
    {"TASK_STATE_INPUT_REQUIRED", "input-required"}, {"TASK_STATE_AUTH_REQUIRED", "auth-required"},
    {"TASK_STATE_COMPLETED", "completed"},        {"TASK_STATE_FAILED", "failed"},
    {"TASK_STATE_CANCELED", "canceled"},          {"TASK_STATE_REJECTED", "rejected"},
};

int ruv__dialect_state_ends(const char *state)
{
    static const char *const ending[] = {"TASK_STATE_INPUT_REQUIRED", "TASK_STATE_AUTH_REQUIRED",
                                         "TASK_STATE_COMPLETED",      "TASK_STATE_FAILED",
                                         "TASK_STATE_CANCELED",       "TASK_STATE_REJECTED"};
    for (size_t i = 0; state && i < sizeof ending / sizeof ending[0]; i++)
        if (strcmp(state, ending[i]) == 0)
            return 1;
    return 0;
}

static const char *state_v03_to_v1(const char *s)
{
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
        if (strcmp(s, states[i].v03) == 0)
            return states[i].v1;
    return "TASK_STATE_UNSPECIFIED";
}

/* ---- v1.0 -> v0.3 (requests) ---- */

static int part_out_v03(json_t *part, size_t i)
{
    if (!json_is_object(part))
        return ruv__detail_set(RUV_E_INVAL, "message.parts[%zu] is not an object", i);
    json_t *text = json_object_get(part, "text"), *data = json_object_get(part, "data");
    json_t *raw = json_object_get(part, "raw"), *url = json_object_get(part, "url");
    json_t *media = json_object_get(part, "mediaType"), *name = json_object_get(part, "filename");
    json_t *meta = json_object_get(part, "metadata");
    json_t *out = json_object();
    if (!out)
        return ruv__detail_set(RUV_E_NOMEM, "out of memory");
    if (text) {
        json_object_set_new(out, "kind", json_string("text"));
        json_object_set(out, "text", text);
    } else if (data) {
        if (!json_is_object(data)) {
            json_decref(out);
            return ruv__detail_set(RUV_E_INVAL,
                                   "message.parts[%zu]: a non-object data part cannot be "
                                   "sent over A2A v0.3",
                                   i);
        }
        json_object_set_new(out, "kind", json_string("data"));
        json_object_set(out, "data", data);
    } else if (raw || url) {
        json_t *file = json_object();
        json_object_set(file, raw ? "bytes" : "uri", raw ? raw : url);
        if (media)
            json_object_set(file, "mimeType", media);
        if (name)
            json_object_set(file, "name", name);
        json_object_set_new(out, "kind", json_string("file"));
        json_object_set_new(out, "file", file);
    } else {
        json_decref(out);
        return ruv__detail_set(RUV_E_INVAL, "message.parts[%zu] has no text, data, raw or url",
                               i);
    }
    if (meta)
        json_object_set(out, "metadata", meta);
    json_object_clear(part);
    json_object_update(part, out);
    json_decref(out);
    return RUV_OK;
}

static int message_out_v03(json_t *msg)
{
    if (!json_is_object(msg))
        return ruv__detail_set(RUV_E_INVAL, "params.message is not an object");
    json_object_set_new(msg, "kind", json_string("message"));
    json_t *role = json_object_get(msg, "role");
    if (json_is_string(role)) {
        const char *r = json_string_value(role);
        json_object_set_new(msg, "role",
                            json_string(strcmp(r, "ROLE_AGENT") == 0 ? "agent" : "user"));
    }
    json_t *parts = json_object_get(msg, "parts");
    size_t i;
    json_t *p;
    json_array_foreach(parts, i, p)
    {
        int rc = part_out_v03(p, i);
        if (rc != RUV_OK)
            return rc;
    }
    return RUV_OK;
}

int ruv__dialect_params_out(int v1, uint32_t m, json_t *params)
{
    if (!json_is_object(params))
        return ruv__detail_set(RUV_E_INVAL, "params is not a JSON object");
    if (m != RUV_A2A_SEND && m != RUV_A2A_SEND_STREAMING) {
        if (!json_is_string(json_object_get(params, "id")))
            return ruv__detail_set(RUV_E_INVAL, "params.id (the task id) is not a string");
        return RUV_OK;
    }
    json_t *cfg = json_object_get(params, "configuration");
    if (!cfg) {
        cfg = json_object();
        json_object_set_new(params, "configuration", cfg);
    }
    if (!json_is_object(cfg))
        return ruv__detail_set(RUV_E_INVAL, "params.configuration is not an object");
    if (!json_is_object(json_object_get(params, "message")))
        return ruv__detail_set(RUV_E_INVAL, "params.message is not an object");
    if (v1) {
        /* v1.0 SendMessage blocks until the task ends unless told not to. */
        if (m == RUV_A2A_SEND)
            json_object_set_new(cfg, "returnImmediately", json_true());
        return RUV_OK;
    }
    json_object_del(cfg, "returnImmediately");
    if (m == RUV_A2A_SEND)
        json_object_set_new(cfg, "blocking", json_false());
    return message_out_v03(json_object_get(params, "message"));
}

/* ---- v0.3 -> v1.0 (results) ---- */

static void part_in_v03(json_t *part)
{
    if (!json_is_object(part))
        return;
    const char *kind = json_string_value(json_object_get(part, "kind"));
    json_t *file = json_object_get(part, "file");
    if (kind && strcmp(kind, "file") == 0 && json_is_object(file)) {
        json_t *bytes = json_object_get(file, "bytes"), *uri = json_object_get(file, "uri");
        json_t *mime = json_object_get(file, "mimeType"), *name = json_object_get(file, "name");
        json_incref(file);
        json_object_del(part, "file");
        if (bytes)
            json_object_set(part, "raw", bytes);
        else if (uri)
            json_object_set(part, "url", uri);
        if (mime)
            json_object_set(part, "mediaType", mime);
        if (name)
            json_object_set(part, "filename", name);
        json_decref(file);
    }
    json_object_del(part, "kind");
}

static void parts_in_v03(json_t *parts)
{
    size_t i;
    json_t *p;
    json_array_foreach(parts, i, p) part_in_v03(p);
}

static void message_in_v03(json_t *msg)
{
    if (!json_is_object(msg))
        return;
    json_object_del(msg, "kind");
    const char *role = json_string_value(json_object_get(msg, "role"));
    if (role)
        json_object_set_new(msg, "role",
                            json_string(strcmp(role, "agent") == 0 ? "ROLE_AGENT" : "ROLE_USER"));
    parts_in_v03(json_object_get(msg, "parts"));
}

static void status_in_v03(json_t *status)
{
    if (!json_is_object(status))
        return;
    const char *s = json_string_value(json_object_get(status, "state"));
    if (s)
        json_object_set_new(status, "state", json_string(state_v03_to_v1(s)));
    message_in_v03(json_object_get(status, "message"));
}

static void artifact_in_v03(json_t *a)
{
    if (json_is_object(a))
        parts_in_v03(json_object_get(a, "parts"));
}

static void task_in_v03(json_t *t)
{
    json_object_del(t, "kind");
    status_in_v03(json_object_get(t, "status"));
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(t, "history"), i, x) message_in_v03(x);
    json_array_foreach(json_object_get(t, "artifacts"), i, x) artifact_in_v03(x);
}

static int check_task(json_t *t, const char *where)
{
    json_t *status = json_object_get(t, "status");
    if (!json_is_object(t) || !json_is_string(json_object_get(t, "id")) ||
        !json_is_object(status) || !json_is_string(json_object_get(status, "state")))
        return ruv__detail_set(RUV_E_PROTOCOL,
                               "%s is not a Task (an object with a string id and status.state)",
                               where);
    return RUV_OK;
}

static int check_message(json_t *m, const char *where)
{
    if (!json_is_object(m) || !json_is_array(json_object_get(m, "parts")))
        return ruv__detail_set(RUV_E_PROTOCOL, "%s is not a Message (no parts array)", where);
    return RUV_OK;
}

/* A v0.3 bare object with kind as a v1.0 one-member wrapper (new ref). */
static json_t *wrap_v03(json_t *obj, const char **member)
{
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    *member = NULL;
    if (!kind)
        return NULL;
    json_t *copy = json_deep_copy(obj);
    if (!copy)
        return NULL;
    if (strcmp(kind, "task") == 0) {
        task_in_v03(copy);
        *member = "task";
    } else if (strcmp(kind, "message") == 0) {
        message_in_v03(copy);
        *member = "message";
    } else if (strcmp(kind, "status-update") == 0) {
        json_object_del(copy, "kind");
        status_in_v03(json_object_get(copy, "status"));
        *member = "statusUpdate";
    } else if (strcmp(kind, "artifact-update") == 0) {
        json_object_del(copy, "kind");
        artifact_in_v03(json_object_get(copy, "artifact"));
        *member = "artifactUpdate";
    }
    if (!*member) {
        json_decref(copy);
        return NULL;
    }
    json_t *w = json_object();
    json_object_set_new(w, *member, copy);
    return w;
}

/* The single member of a v1.0 oneof wrapper, checked. */
static int one_member(json_t *w, const char *const *allowed, size_t n, const char **member)
{
    if (!json_is_object(w) || json_object_size(w) != 1)
        return ruv__detail_set(RUV_E_PROTOCOL,
                               "result must be an object with exactly one member");
    const char *key = json_object_iter_key(json_object_iter(w));
    for (size_t i = 0; i < n; i++)
        if (strcmp(key, allowed[i]) == 0) {
            *member = allowed[i];
            return RUV_OK;
        }
    return ruv__detail_set(RUV_E_PROTOCOL, "unexpected result member \"%s\"", key);
}

static int check_member(json_t *w, const char *member)
{
    json_t *v = json_object_get(w, member);
    if (strcmp(member, "task") == 0)
        return check_task(v, "result.task");
    if (strcmp(member, "message") == 0)
        return check_message(v, "result.message");
    if (!json_is_object(v) || !json_is_string(json_object_get(v, "taskId")))
        return ruv__detail_set(RUV_E_PROTOCOL, "result.%s has no string taskId", member);
    if (strcmp(member, "statusUpdate") == 0) {
        json_t *st = json_object_get(v, "status");
        if (!json_is_object(st) || !json_is_string(json_object_get(st, "state")))
            return ruv__detail_set(RUV_E_PROTOCOL, "result.statusUpdate has no status.state");
    } else if (!json_is_object(json_object_get(v, "artifact"))) {
        return ruv__detail_set(RUV_E_PROTOCOL, "result.artifactUpdate has no artifact");
    }
    return RUV_OK;
}

int ruv__dialect_result_in(int v1, uint32_t m, json_t *result, json_t **out)
{
    *out = NULL;
    if (m == RUV_A2A_GET || m == RUV_A2A_CANCEL) {
        json_t *t = json_deep_copy(result);
        if (!t)
            return ruv__detail_set(RUV_E_PROTOCOL, "result is not a Task");
        if (!v1)
            task_in_v03(t);
        int rc = check_task(t, "result");
        if (rc != RUV_OK) {
            json_decref(t);
            return rc;
        }
        *out = t;
        return RUV_OK;
    }
    static const char *const send_members[] = {"task", "message"};
    const char *member = NULL;
    json_t *w = v1 ? json_incref(result) : wrap_v03(result, &member);
    if (!w)
        return ruv__detail_set(RUV_E_PROTOCOL, "v0.3 result has no known kind");
    int rc = one_member(w, send_members, 2, &member);
    if (rc == RUV_OK)
        rc = check_member(w, member);
    if (rc != RUV_OK) {
        json_decref(w);
        return rc;
    }
    *out = w;
    return RUV_OK;
}

int ruv__dialect_event_in(int v1, json_t *result, json_t **out, int *ends)
{
    *out = NULL;
    *ends = 0;
    static const char *const members[] = {"task", "message", "statusUpdate", "artifactUpdate"};
    const char *member = NULL;
    json_t *w = v1 ? json_incref(result) : wrap_v03(result, &member);
    if (!w)
        return ruv__detail_set(RUV_E_PROTOCOL, "v0.3 stream event has no known kind");
    int rc = one_member(w, members, 4, &member);
    if (rc == RUV_OK)
        rc = check_member(w, member);
    if (rc != RUV_OK) {
        json_decref(w);
        return rc;
    }
    json_t *v = json_object_get(w, member);
    if (strcmp(member, "message") == 0) {
        *ends = 1;
    } else if (strcmp(member, "task") == 0 || strcmp(member, "statusUpdate") == 0) {
        const char *state = json_string_value(json_object_get(json_object_get(v, "status"), "state"));
        *ends = ruv__dialect_state_ends(state);
        if (!v1 && json_is_true(json_object_get(v, "final")))
            *ends = 1;
    }
    if (!v1)
        json_object_del(v, "final");
    *out = w;
    return RUV_OK;
}
