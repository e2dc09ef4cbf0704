/* plugins/a2a/schema.h — the agent-card field whitelist (a2a.md §4 step 2).
 *
 * Only fields of the card schema are signed, verified and shown: a v1.0 card
 * (it has supportedInterfaces) keeps the fields of a2a.proto v1.0, a card
 * without them is read as v0.3 (a2a.json v0.3). Hybrid cards, which add the
 * v0.3 fields url, preferredTransport and protocolVersion to a v1.0 card,
 * are signed over their v1.0 fields only (a2a.md §3.1), so those extras are
 * dropped here and never reach the caller. Extension params, security schemes
 * and security requirements are kept whole: their content is the peer's. */
#ifndef RUV_A2A_SCHEMA_H
#define RUV_A2A_SCHEMA_H

#include <jansson.h>

enum ruv__card_schema { RUV__CARD_V1 = 1, RUV__CARD_V03 = 3 };

/* The schema card follows: V1 when it has supportedInterfaces, else V03. */
enum ruv__card_schema ruv__card_schema_of(const json_t *card);

/* Removes from card (in place) every member the schema does not name, at
 * every level. A named member of the wrong JSON type is refused:
 * RUV_E_PROTOCOL, with the detail naming its path. */
int ruv__card_whitelist(json_t *card, enum ruv__card_schema schema);

#endif
