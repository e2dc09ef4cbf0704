/* plugins/a2a/reconcile.h — what a stream has delivered, so that a resumed
 * stream's Task snapshot (v1.0 SubscribeToTask, or GetTask for a task that
 * ended meanwhile) is reconciled, never replayed (a2a.md §6): a status
 * update only when the state or timestamp changed, artifacts only for
 * artifactIds not seen yet. */
#ifndef RUV_A2A_RECONCILE_H
#define RUV_A2A_RECONCILE_H

#include <stddef.h>
#include <jansson.h>

struct ruv__reconcile {
    char *task_id, *context_id;
    char *state, *timestamp; /* the last delivered status; NULL before one */
    char **artifacts; /* artifactIds seen */
    size_t n_artifacts, cap_artifacts;
};

void ruv__reconcile_free(struct ruv__reconcile *r);

/* Records what one normalized StreamResponse says: the task and context
 * ids, the state and its timestamp, artifact ids. RUV_OK or RUV_E_NOMEM. */
int ruv__reconcile_note(struct ruv__reconcile *r, json_t *event);

/* Appends to out (a JSON array) the StreamResponses that a Task snapshot
 * adds to what was delivered, and notes them; *ends is 1 when the
 * snapshot's state ends the stream. RUV_OK, RUV_E_PROTOCOL (not a Task),
 * RUV_E_NOMEM. */
int ruv__reconcile_snapshot(struct ruv__reconcile *r, json_t *task, json_t *out, int *ends);

#endif
