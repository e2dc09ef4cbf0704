/* plugins/a2a/options.h — the pins and AgentIDs of struct ruv_a2a_options
 * as the pin set the card verifier takes (identity.h). */
#ifndef RUV_A2A_OPTIONS_H
#define RUV_A2A_OPTIONS_H

#include <ruvector/feature-a2a.h>

#include "identity.h"

/* The pin set o describes (keys as JWK or PEM text, AgentIDs); *out is NULL
 * when o pins nothing, else freed by the caller with ruv__pins_free.
 * RUV_E_INVAL names the unreadable key or id; RUV_E_NOMEM. */
int ruv__a2a_pins_from_options(const struct ruv_a2a_options *o, struct ruv__pins **out);

#endif
