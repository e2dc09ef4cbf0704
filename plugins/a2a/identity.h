/* plugins/a2a/identity.h — AgentIDs, the ruvector identity extension, and
 * pinned keys and ids (a2a.md §4).
 *
 * AgentID = lowercase hex of SHAKE-256(Ed25519 public key) squeezed to 32
 * bytes, as ruvector derives it. A card names its key in the extension
 * capabilities.extensions[{uri:"urn:ruvector:a2a:identity:v1",
 * params:{publicKey:<base64url 32 B>, agentId:<64 hex>}}]. */
#ifndef RUV_A2A_IDENTITY_H
#define RUV_A2A_IDENTITY_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <openssl/evp.h>

#define RUV__A2A_IDENTITY_URI "urn:ruvector:a2a:identity:v1"
#define RUV__AGENT_ID_HEX 64

/* n bytes as 2n lowercase hex digits and a NUL in out (2n + 1 bytes): the
 * AgentID's spelling, which the self-test also compares digests in. */
void ruv__hex_lower(const unsigned char *b, size_t n, char *out);

/* AgentID of a raw Ed25519 public key: 64 lowercase hex digits and a NUL in
 * hex. RUV_OK or RUV_E_NOMEM (libcrypto could not run SHAKE-256). */
int ruv__agent_id(const unsigned char pub[32], char hex[RUV__AGENT_ID_HEX + 1]);

/* The identity extension of a card, when it has one. */
struct ruv__identity {
    int present;
    unsigned char public_key[32];
    char agent_id[RUV__AGENT_ID_HEX + 1];
};

/* Looks for the identity extension in card (a parsed agent card object).
 * Absent: RUV_OK with out->present = 0. Present: its params must be strings
 * (numbers canonicalize differently across SDKs), publicKey must decode to 32
 * bytes and agentId must equal ruv__agent_id(publicKey), else
 * RUV_E_SECURITY naming what disagrees. Two such extensions are refused. */
int ruv__identity_from_card(const json_t *card, struct ruv__identity *out);

/* 1 if s is 64 hex digits (either case), else 0. */
int ruv__agent_id_valid(const char *s);

/* ---- pins ---- */

/* What the user trusts: keys by kid (with an optional expiry and a revoked
 * flag), and the AgentIDs a card must carry. Owned by whoever made it with
 * ruv__pins_new; not thread-safe while being filled, read-only afterwards. */
struct ruv__pins;

/* An empty pin set in *out, freed with ruv__pins_free (which also frees the
 * pinned keys; NULL is a no-op). RUV_E_NOMEM or RUV_E_INVAL. */
int ruv__pins_new(struct ruv__pins **out);
void ruv__pins_free(struct ruv__pins *p);

/* Pins key under kid; the pin takes ownership of key (also on failure).
 * not_after is a Unix time in seconds after which the key fails (0 = never);
 * revoked marks a key that must always fail. A kid pinned twice is refused. */
int ruv__pins_add_key(struct ruv__pins *p, const char *kid, EVP_PKEY *key, int64_t not_after,
                      int revoked);

/* Adds an AgentID (64 hex, any case) that a card may carry. Once one is
 * added, cards must carry the identity extension with one of them. */
int ruv__pins_add_agent_id(struct ruv__pins *p, const char *hex);

/* The key pinned under kid, borrowed from p. RUV_E_NOTFOUND if none is;
 * RUV_E_SECURITY if it is revoked or expired at now (Unix seconds). */
int ruv__pins_key(const struct ruv__pins *p, const char *kid, int64_t now, EVP_PKEY **key);

/* Whether agent_id (NULL when the card has no identity extension) satisfies
 * the expected AgentIDs: RUV_OK when none are expected or it is one of them,
 * else RUV_E_SECURITY. */
int ruv__pins_check_agent_id(const struct ruv__pins *p, const char *agent_id);

#endif
