/* plugins/a2a/policy.h — the pre-flight of a2a.md §5, run before a send
 * leaves the client: recursion, skill, TaskPolicy estimates. The global
 * budget (budget.h) and per-peer concurrency (concurrency.h) are checked
 * next to it, also before any byte is sent. */
#ifndef RUV_A2A_POLICY_H
#define RUV_A2A_POLICY_H

#include <jansson.h>

#include <ruvector/feature-a2a.h>

#include "budget.h"

/* Checks policy p for sending params (v1.0 SendMessage shape) to the peer
 * whose verified card view is card, AgentID peer_id ("" when none) and
 * card URL peer_url. RUV_OK, or RUV_E_POLICY with st->error
 * RUV_A2A_ERR_RECURSION, RUV_A2A_ERR_POLICY or RUV_A2A_ERR_BUDGET and the
 * field, estimate and limit in the detail; RUV_E_INVAL for a malformed
 * policy. p NULL: nothing to check. On RUV_OK *slot is the concurrency slot
 * the send holds (NULL without a limit), released by the caller with
 * ruv__concurrency_release when the send is over; the budget, if any, has
 * been charged, or, when bw is non-NULL and the budget's queue must be
 * waited in, the send joined that queue without waiting (bw->budget set:
 * the caller admits it later with ruv__budget_try_queued). bw NULL: the
 * wait happens here. */
int ruv__policy_check(const struct ruv_a2a_policy *p, json_t *card, const char *peer_id,
                      const char *peer_url, json_t *params, void **slot,
                      struct ruv__budget_wait *bw, struct ruv_a2a_call_status *st);

#endif
