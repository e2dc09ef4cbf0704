/* plugins/a2a/identity.c — AgentID derivation, identity extension, pins. */
#include "config.h"
#include "identity.h"
#include "b64url.h"
#include "detail.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>

void ruv__hex_lower(const unsigned char *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

int ruv__agent_id(const unsigned char pub[32], char hex[RUV__AGENT_ID_HEX + 1])
{
    unsigned char id[32];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_shake256(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, pub, 32) == 1 && EVP_DigestFinalXOF(ctx, id, sizeof id) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        ERR_clear_error();
        return ruv__detail_set(RUV_E_NOMEM, "identity: libcrypto could not run SHAKE-256");
    }
    ruv__hex_lower(id, sizeof id, hex);
    return RUV_OK;
}

int ruv__agent_id_valid(const char *s)
{
    if (s == NULL || strlen(s) != RUV__AGENT_ID_HEX)
        return 0;
    for (const char *c = s; *c; c++)
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f') || (*c >= 'A' && *c <= 'F')))
            return 0;
    return 1;
}

static void lowercase(char *dst, const char *src)
{
    for (; *src; src++, dst++)
        *dst = (*src >= 'A' && *src <= 'F') ? (char)(*src - 'A' + 'a') : *src;
    *dst = '\0';
}

static int read_extension(const json_t *ext, struct ruv__identity *out)
{
    const json_t *params = json_object_get(ext, "params");
    const json_t *key = json_object_get(params, "publicKey");
    const json_t *id = json_object_get(params, "agentId");
    if (!json_is_string(key) || !json_is_string(id))
        return ruv__detail_set(RUV_E_SECURITY,
                             "identity extension: params.publicKey and params.agentId must be strings");
    unsigned char *raw;
    size_t rawlen;
    int rc = ruv__b64url_decode(json_string_value(key), json_string_length(key), "publicKey", &raw,
                                &rawlen);
    if (rc != RUV_OK)
        return ruv__detail_prefix(RUV_E_SECURITY, "identity extension");
    if (rawlen != 32) {
        free(raw);
        return ruv__detail_set(RUV_E_SECURITY,
                             "identity extension: publicKey is %zu bytes, an Ed25519 key is 32", rawlen);
    }
    memcpy(out->public_key, raw, 32);
    free(raw);
    if (!ruv__agent_id_valid(json_string_value(id)))
        return ruv__detail_set(RUV_E_SECURITY, "identity extension: agentId is not 64 hex digits");
    char derived[RUV__AGENT_ID_HEX + 1], claimed[RUV__AGENT_ID_HEX + 1];
    if ((rc = ruv__agent_id(out->public_key, derived)) != RUV_OK)
        return rc;
    lowercase(claimed, json_string_value(id));
    if (strcmp(derived, claimed) != 0)
        return ruv__detail_set(RUV_E_SECURITY,
                             "identity extension: agentId %.16s... is not SHAKE-256 of publicKey "
                             "(%.16s...)", claimed, derived);
    memcpy(out->agent_id, derived, sizeof derived);
    out->present = 1;
    return RUV_OK;
}

int ruv__identity_from_card(const json_t *card, struct ruv__identity *out)
{
    if (out == NULL)
        return ruv__detail_set(RUV_E_INVAL, "identity: out is NULL");
    memset(out, 0, sizeof *out);
    const json_t *exts = json_object_get(json_object_get(card, "capabilities"), "extensions");
    if (!json_is_array(exts))
        return RUV_OK;
    for (size_t i = 0; i < json_array_size(exts); i++) {
        const json_t *ext = json_array_get(exts, i);
        const json_t *uri = json_object_get(ext, "uri");
        if (!json_is_string(uri) || strcmp(json_string_value(uri), RUV__A2A_IDENTITY_URI) != 0)
            continue;
        if (out->present)
            return ruv__detail_set(RUV_E_SECURITY, "identity: the card has two identity extensions");
        int rc = read_extension(ext, out);
        if (rc != RUV_OK) {
            memset(out, 0, sizeof *out);
            return rc;
        }
    }
    return RUV_OK;
}

/* ---- pins ---- */

struct pinned_key {
    char *kid;
    EVP_PKEY *key;
    int64_t not_after;
    int revoked;
};

struct ruv__pins {
    struct pinned_key *keys;
    size_t nkeys;
    char (*ids)[RUV__AGENT_ID_HEX + 1];
    size_t nids;
};

int ruv__pins_new(struct ruv__pins **out)
{
    if (out == NULL)
        return ruv__detail_set(RUV_E_INVAL, "pins: out is NULL");
    *out = calloc(1, sizeof **out);
    return *out ? RUV_OK : ruv__detail_set(RUV_E_NOMEM, "pins: out of memory");
}

void ruv__pins_free(struct ruv__pins *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->nkeys; i++) {
        free(p->keys[i].kid);
        EVP_PKEY_free(p->keys[i].key);
    }
    free(p->keys);
    free(p->ids);
    free(p);
}

static const struct pinned_key *find_kid(const struct ruv__pins *p, const char *kid)
{
    for (size_t i = 0; p && i < p->nkeys; i++)
        if (strcmp(p->keys[i].kid, kid) == 0)
            return &p->keys[i];
    return NULL;
}

int ruv__pins_add_key(struct ruv__pins *p, const char *kid, EVP_PKEY *key, int64_t not_after,
                      int revoked)
{
    if (p == NULL || kid == NULL || key == NULL || kid[0] == '\0') {
        EVP_PKEY_free(key);
        return ruv__detail_set(RUV_E_INVAL, "pins: NULL pins, key or empty kid");
    }
    if (find_kid(p, kid) != NULL) {
        EVP_PKEY_free(key);
        return ruv__detail_set(RUV_E_INVAL, "pins: kid \"%.64s\" is pinned twice", kid);
    }
    struct pinned_key *grown = realloc(p->keys, (p->nkeys + 1) * sizeof *grown);
    char *copy = strdup(kid);
    if (grown)
        p->keys = grown;
    if (grown == NULL || copy == NULL) {
        free(copy);
        EVP_PKEY_free(key);
        return ruv__detail_set(RUV_E_NOMEM, "pins: out of memory");
    }
    p->keys[p->nkeys++] = (struct pinned_key){copy, key, not_after, revoked};
    return RUV_OK;
}

int ruv__pins_add_agent_id(struct ruv__pins *p, const char *hex)
{
    if (p == NULL || !ruv__agent_id_valid(hex))
        return ruv__detail_set(RUV_E_INVAL, "pins: an AgentID is 64 hex digits");
    char (*grown)[RUV__AGENT_ID_HEX + 1] = realloc(p->ids, (p->nids + 1) * sizeof *grown);
    if (grown == NULL)
        return ruv__detail_set(RUV_E_NOMEM, "pins: out of memory");
    p->ids = grown;
    lowercase(p->ids[p->nids++], hex);
    return RUV_OK;
}

int ruv__pins_key(const struct ruv__pins *p, const char *kid, int64_t now, EVP_PKEY **key)
{
    *key = NULL;
    const struct pinned_key *k = kid ? find_kid(p, kid) : NULL;
    if (k == NULL)
        return RUV_E_NOTFOUND;
    if (k->revoked)
        return ruv__detail_set(RUV_E_SECURITY, "pins: key \"%.64s\" is revoked", kid);
    if (k->not_after != 0 && now > k->not_after)
        return ruv__detail_set(RUV_E_SECURITY, "pins: key \"%.64s\" expired at %lld", kid,
                             (long long)k->not_after);
    *key = k->key;
    return RUV_OK;
}

int ruv__pins_check_agent_id(const struct ruv__pins *p, const char *agent_id)
{
    if (p == NULL || p->nids == 0)
        return RUV_OK;
    if (agent_id == NULL)
        return ruv__detail_set(RUV_E_SECURITY,
                             "identity: an AgentID is expected but the card has no identity extension");
    char id[RUV__AGENT_ID_HEX + 1];
    if (!ruv__agent_id_valid(agent_id))
        return ruv__detail_set(RUV_E_SECURITY, "identity: card AgentID is malformed");
    lowercase(id, agent_id);
    for (size_t i = 0; i < p->nids; i++)
        if (strcmp(p->ids[i], id) == 0)
            return RUV_OK;
    return ruv__detail_set(RUV_E_SECURITY, "identity: card AgentID %.16s... is not pinned", id);
}
