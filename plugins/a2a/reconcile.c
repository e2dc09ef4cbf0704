/* plugins/a2a/reconcile.c — resumed streams reconciled against what was
 * delivered (a2a.md §6). */
#include "config.h"
#include "reconcile.h"
#include "detail.h"
#include "dialect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ruv__reconcile_free(struct ruv__reconcile *r)
{
    free(r->task_id);
    free(r->context_id);
    free(r->state);
    free(r->timestamp);
    for (size_t i = 0; i < r->n_artifacts; i++)
        free(r->artifacts[i]);
    free(r->artifacts);
    memset(r, 0, sizeof *r);
}

static int set_id(char **slot, const char *v)
{
    if (!v || (*slot && strcmp(*slot, v) == 0))
        return RUV_OK;
    size_t n = strlen(v) + 1;
    char *d = malloc(n);
    if (!d)
        return ruv__detail_set(RUV_E_NOMEM, "out of memory");
    memcpy(d, v, n);
    free(*slot);
    *slot = d;
    return RUV_OK;
}

static int seen_artifact(const struct ruv__reconcile *r, const char *id)
{
    for (size_t i = 0; i < r->n_artifacts; i++)
        if (strcmp(r->artifacts[i], id) == 0)
            return 1;
    return 0;
}

static int note_artifact(struct ruv__reconcile *r, json_t *artifact)
{
    const char *id = json_string_value(json_object_get(artifact, "artifactId"));
    if (!id || seen_artifact(r, id))
        return RUV_OK;
    if (r->n_artifacts == r->cap_artifacts) {
        size_t cap = r->cap_artifacts ? r->cap_artifacts * 2 : 8;
        char **p = realloc(r->artifacts, cap * sizeof *p);
        if (!p)
            return ruv__detail_set(RUV_E_NOMEM, "out of memory");
        r->artifacts = p;
        r->cap_artifacts = cap;
    }
    char *copy = NULL;
    int rc = set_id(&copy, id);
    if (rc == RUV_OK)
        r->artifacts[r->n_artifacts++] = copy;
    return rc;
}

static int note_status(struct ruv__reconcile *r, json_t *status)
{
    const char *state = json_string_value(json_object_get(status, "state"));
    const char *ts = json_string_value(json_object_get(status, "timestamp"));
    int rc = set_id(&r->state, state);
    if (rc == RUV_OK)
        rc = set_id(&r->timestamp, ts ? ts : "");
    return rc;
}

static int same(const char *a, const char *b) { return strcmp(a ? a : "", b ? b : "") == 0; }

int ruv__reconcile_note(struct ruv__reconcile *r, json_t *event)
{
    json_t *task = json_object_get(event, "task");
    json_t *su = json_object_get(event, "statusUpdate");
    json_t *au = json_object_get(event, "artifactUpdate");
    int rc = RUV_OK;
    if (task) {
        rc = set_id(&r->task_id, json_string_value(json_object_get(task, "id")));
        if (rc == RUV_OK)
            rc = set_id(&r->context_id, json_string_value(json_object_get(task, "contextId")));
        if (rc == RUV_OK)
            rc = note_status(r, json_object_get(task, "status"));
        size_t i;
        json_t *a;
        json_array_foreach(json_object_get(task, "artifacts"), i, a)
        {
            if (rc == RUV_OK)
                rc = note_artifact(r, a);
        }
    } else if (su || au) {
        json_t *v = su ? su : au;
        rc = set_id(&r->task_id, json_string_value(json_object_get(v, "taskId")));
        if (rc == RUV_OK)
            rc = set_id(&r->context_id, json_string_value(json_object_get(v, "contextId")));
        if (su && rc == RUV_OK)
            rc = note_status(r, json_object_get(su, "status"));
        else if (rc == RUV_OK)
            rc = note_artifact(r, json_object_get(au, "artifact"));
    }
    return rc;
}

static int append(json_t *out, const char *member, json_t *value)
{
    json_t *w = json_object();
    if (!w || json_object_set_new(w, member, value) || json_array_append_new(out, w))
        return ruv__detail_set(RUV_E_NOMEM, "out of memory");
    return RUV_OK;
}

int ruv__reconcile_snapshot(struct ruv__reconcile *r, json_t *task, json_t *out, int *ends)
{
    json_t *status = json_object_get(task, "status");
    const char *state = json_string_value(json_object_get(status, "state"));
    const char *id = json_string_value(json_object_get(task, "id"));
    *ends = 0;
    if (!json_is_object(task) || !id || !state)
        return ruv__detail_set(RUV_E_PROTOCOL, "resumed stream: the snapshot is not a Task");
    const char *ctx = json_string_value(json_object_get(task, "contextId"));
    const char *ts = json_string_value(json_object_get(status, "timestamp"));
    int rc = RUV_OK;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(task, "artifacts"), i, a)
    {
        const char *aid = json_string_value(json_object_get(a, "artifactId"));
        if (rc != RUV_OK || !aid || seen_artifact(r, aid))
            continue;
        rc = append(out, "artifactUpdate",
                    json_pack("{s:s, s:s, s:O, s:b}", "taskId", id, "contextId", ctx ? ctx : "",
                              "artifact", a, "lastChunk", 1));
        if (rc == RUV_OK)
            rc = note_artifact(r, a);
    }
    if (rc == RUV_OK && (!same(state, r->state) || !same(ts, r->timestamp))) {
        rc = append(out, "statusUpdate",
                    json_pack("{s:s, s:s, s:O}", "taskId", id, "contextId", ctx ? ctx : "",
                              "status", status));
        if (rc == RUV_OK)
            rc = note_status(r, status);
    }
    *ends = ruv__dialect_state_ends(state);
    return rc;
}
