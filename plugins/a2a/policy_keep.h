/* plugins/a2a/policy_keep.h — a caller's struct ruv_a2a_policy copied for
 * later: an asynchronous send keeps its policy so that the one resend over
 * v0.3 runs the a2a.md §5 pre-flight again (a second budget charge, a new
 * concurrency slot), as the blocking path does. The budget is referenced,
 * not copied: the client that made the send holds it while it is used. */
#ifndef RUV_A2A_POLICY_KEEP_H
#define RUV_A2A_POLICY_KEEP_H

#include <ruvector/feature-a2a.h>

struct ruv__kept_policy;

/* A copy of p with its strings and arrays (NULL when p is NULL).
 * RUV_OK, RUV_E_INVAL (p's struct_size too small), RUV_E_NOMEM. */
int ruv__policy_keep(const struct ruv_a2a_policy *p, struct ruv__kept_policy **out);
/* The copy as a policy; NULL for NULL. */
const struct ruv_a2a_policy *ruv__kept_policy(const struct ruv__kept_policy *k);
void ruv__kept_policy_free(struct ruv__kept_policy *k);

#endif
