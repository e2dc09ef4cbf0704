/* plugins/a2a/verify.h — offline agent-card verification (a2a.md §4): the
 * raw card bytes in, a verdict, the signature-covered view and the AgentID
 * out. No network: keys come from the pins or the identity extension (jku
 * fetching belongs to card.c, with the HTTP layer). */
#ifndef RUV_A2A_VERIFY_H
#define RUV_A2A_VERIFY_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "identity.h"
#include "jws.h"

/* The card as signed (a2a.md §4 steps 2-3), in place: signatures removed,
 * fields outside the card schema removed (schema.h), the proto-default
 * capabilities.extensions[].required:false removed and, recursively, "",
 * null, [] and {} dropped (false and 0 stay). RUV_E_PROTOCOL when a
 * schema field has the wrong JSON type. */
int ruv__card_strip_for_signing(json_t *card);

/* What verification found. */
struct ruv__card_verdict {
    int has_agent_id;                          /* the card carries the identity extension */
    char agent_id[RUV__AGENT_ID_HEX + 1];      /* its verified AgentID, else "" */
    unsigned good_signatures;                  /* signatures that verified */
    char signed_by[RUV__JWS_KID_MAX + 1]; /* kid of the first one that verified */
    char canonicalization[8];             /* "jcs", or "python" when only a2a-python's
                                             rendering verified (a2a.md §4) */
};

/* Verifies len bytes of card JSON at time now (Unix seconds, for pin expiry).
 * RUV_OK when at least one signature verifies with a pinned key or, for
 * EdDSA with kid == agentId, the identity extension's key, over the card's
 * RFC 8785 form or, failing that, once over a2a-python's rendering; when the card has
 * the identity extension, such an EdDSA signature must be among them; and the
 * AgentID satisfies the pins. Then *view (if view is non-NULL) is a new
 * reference to the stripped card (the caller json_decrefs it) and *verdict
 * is filled. Otherwise RUV_E_SECURITY (unsigned, nothing verifies,
 * identity or pin mismatch; the detail names the first failing signature's
 * reason), RUV_E_PROTOCOL or RUV_E_INVAL (malformed or oversized card),
 * RUV_E_NOMEM; *view is NULL. pins may be NULL (nothing pinned). */
int ruv__card_verify(const char *json, size_t len, const struct ruv__pins *pins, int64_t now,
                     json_t **view, struct ruv__card_verdict *verdict);

#endif
