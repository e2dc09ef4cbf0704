/* plugins/a2a/policy.h — the pre-flight of a2a.md §5, run before a send
 * leaves the client: recursion, skill, TaskPolicy estimates. (The global
 * budget and per-peer concurrency are not implemented yet.) */
#ifndef RUV_A2A_POLICY_H
#define RUV_A2A_POLICY_H

#include <jansson.h>

#include <ruvector/feature-a2a.h>

/* Checks policy p for sending params (v1.0 SendMessage shape) to the peer
 * whose verified card view is card and AgentID peer_id ("" when none).
 * RUV_OK, or RUV_E_POLICY with st->error RUV_A2A_ERR_RECURSION or
 * RUV_A2A_ERR_POLICY and the field, estimate and limit in the detail;
 * RUV_E_INVAL for a malformed policy. p NULL: nothing to check. */
int ruv__policy_check(const struct ruv_a2a_policy *p, json_t *card, const char *peer_id,
                      json_t *params, struct ruv_a2a_call_status *st);

#endif
