/* ruvector/feature-a2a.h — the ops table of the `a2a` feature plugin
 * (descriptor .feature = RUV_FEATURE_A2A; a2a.md §7).
 *
 * A host reaches it with
 *   ruv_engine_load_plugin(eng, "a2a");
 *   ruv_engine_feature_get(eng, "a2a", RUV_FEATURE_A2A, RUV_A2A_OPS_SIZE_V1, &ops, &state);
 *
 * Append-only: every struct starts with struct_size (sizeof as the caller or
 * the plugin compiled it) and grows only at the end. These are the first
 * slots: offline agent-card verification. The client slots of a2a.md §7
 * (client_new, connect, call, stream, poll, ...) are appended later, with
 * their own RUV_A2A_OPS_SIZE_V<n>, so a host built against this header keeps
 * working with every later plugin. */
#ifndef RUVECTOR_FEATURE_A2A_H
#define RUVECTOR_FEATURE_A2A_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An AgentID (SHAKE-256 of the card's Ed25519 identity key, a2a.md §4) as
 * 64 lowercase hex digits plus the NUL. */
#define RUV_A2A_AGENT_ID_SIZE 65

/* One pinned key: signatures whose JWS header names kid must verify with it. */
struct ruv_a2a_pinned_key {
    uint32_t struct_size; /* sizeof(struct ruv_a2a_pinned_key) */
    int32_t revoked;      /* non-zero: every signature under kid fails */
    const char *kid;      /* the JWS "kid", non-empty */
    /* The public key as JWK JSON text ({"kty":"OKP","crv":"Ed25519","x"},
     * {"kty":"EC","crv":"P-256","x","y"} or {"kty":"RSA","n","e"}) or as
     * PEM ("-----BEGIN PUBLIC KEY-----"). NUL-terminated. */
    const char *key;
    int64_t not_after;    /* Unix seconds after which the key fails; 0 = never */
};

/* Settings for verify_card (and, later, for clients). Every pointer is
 * read during the call only; nothing is kept. */
struct ruv_a2a_options {
    uint32_t struct_size; /* sizeof(struct ruv_a2a_options) */
    uint32_t reserved;    /* must be 0 */
    /* Pinned keys: an array of n_pinned_keys pointers (each element
     * carries its own struct_size, so the array never has a stride
     * mismatch). */
    const struct ruv_a2a_pinned_key *const *pinned_keys;
    size_t n_pinned_keys;
    /* Expected AgentIDs (64 hex digits, any case). When any is given, a card
     * must carry the identity extension with one of them. */
    const char *const *agent_ids;
    size_t n_agent_ids;
    /* The time pin expiry is judged at, Unix seconds; 0: the current time. */
    int64_t now;
};

#define RUV_A2A_OPTIONS_SIZE_V1 (offsetof(struct ruv_a2a_options, now) + sizeof(int64_t))

struct ruv_a2a_ops {
    uint32_t struct_size; /* sizeof(struct ruv_a2a_ops) as the plugin compiled it */
    uint32_t reserved;

    /* Verifies len bytes of agent-card JSON offline (a2a.md §4): at least
     * one JWS signature must verify over the card's RFC 8785 form (or, once,
     * over a2a-python's rendering) with a pinned key or, for EdDSA with
     * kid == agentId, the card's own identity-extension key; a card with
     * the identity extension must carry such a signature; the AgentID must
     * satisfy options->agent_ids. options may be NULL (nothing pinned).
     *
     * On RUV_OK: if view is non-NULL, *view is the signature-covered card
     * (signatures and fields outside the card schema removed) as RFC 8785
     * text, owned by the caller and freed with free_string; if agent_id is
     * non-NULL it receives the card's verified AgentID, or "" when the card
     * has no identity extension.
     * Otherwise *view is NULL, agent_id is "", and the status is
     * RUV_E_SECURITY (unsigned, no signature verifies, identity or pin
     * mismatch), RUV_E_PROTOCOL (malformed card or JWS), RUV_E_INVAL (bad
     * arguments, oversized card, a pinned key that cannot be read) or
     * RUV_E_NOMEM, with the reason in ruv_last_error(). Thread-safe. */
    int (*verify_card)(void *state, const char *json, size_t len,
                       const struct ruv_a2a_options *options, char **view,
                       char agent_id[RUV_A2A_AGENT_ID_SIZE]);
    /* Frees a string this plugin returned (view). NULL is a no-op. */
    void (*free_string)(char *s);
};

#define RUV_A2A_OPS_SIZE_V1 (offsetof(struct ruv_a2a_ops, free_string) + sizeof(void (*)(void)))

#ifdef __cplusplus
}
#endif
#endif
