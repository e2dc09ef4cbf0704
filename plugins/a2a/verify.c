/* plugins/a2a/verify.c — agent card verification without network. */
#include "config.h"
#include "verify.h"
#include "detail.h"
#include "jcs.h"
#include "json_in.h"
#include "jwk.h"
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether v is one of the values a signer drops before canonicalizing. */
static int is_empty(const json_t *v)
{
    if (v == NULL || json_is_null(v))
        return 1;
    if (json_is_string(v))
        return json_string_length(v) == 0;
    if (json_is_array(v))
        return json_array_size(v) == 0;
    if (json_is_object(v))
        return json_object_size(v) == 0;
    return 0;
}

/* Post-order: children are cleaned first, so a container left empty by its
 * children goes too (as the a2a-js and a2a-python signers do). */
static void drop_empty(json_t *v)
{
    if (json_is_array(v)) {
        for (size_t i = json_array_size(v); i-- > 0;) {
            json_t *e = json_array_get(v, i);
            drop_empty(e);
            if (is_empty(e))
                json_array_remove(v, i);
        }
    } else if (json_is_object(v)) {
        const char *key;
        json_t *e;
        void *tmp;
        json_object_foreach_safe(v, tmp, key, e) {
            drop_empty(e);
            if (is_empty(e))
                json_object_del(v, key);
        }
    }
}

/* Proto3 omits a non-optional scalar at its default, so the signer never saw
 * AgentExtension.required:false. */
static void drop_proto_defaults(json_t *card)
{
    json_t *exts = json_object_get(json_object_get(card, "capabilities"), "extensions");
    for (size_t i = 0; i < json_array_size(exts); i++) {
        json_t *ext = json_array_get(exts, i);
        if (json_is_false(json_object_get(ext, "required")))
            json_object_del(ext, "required");
    }
}

int ruv__card_strip_for_signing(json_t *card)
{
    if (!json_is_object(card))
        return ruv__detail_set(RUV_E_PROTOCOL, "card: not a JSON object");
    json_object_del(card, "signatures");
    int rc = ruv__card_whitelist(card, ruv__card_schema_of(card));
    if (rc != RUV_OK)
        return rc;
    drop_proto_defaults(card);
    drop_empty(card);
    return RUV_OK;
}

/* Checks one signatures[i]; RUV_OK if it verifies. Sets *identity_ok when it
 * is the identity extension's EdDSA signature. */
static int check_signature(const json_t *sig, const unsigned char *canon, size_t canon_len,
                           const struct ruv__identity *id, const struct ruv__pins *pins,
                           int64_t now, struct ruv__card_verdict *verdict, int *identity_ok)
{
    const json_t *prot = json_object_get(sig, "protected");
    const json_t *value = json_object_get(sig, "signature");
    if (!json_is_string(prot) || !json_is_string(value))
        return ruv__detail_set(RUV_E_PROTOCOL, "protected and signature must be strings");
    struct ruv__jws_header hdr;
    int rc = ruv__jws_parse_protected(json_string_value(prot), json_string_length(prot), &hdr);
    if (rc != RUV_OK)
        return rc;

    EVP_PKEY *key = NULL, *owned = NULL;
    int from_identity = 0;
    rc = ruv__pins_key(pins, hdr.kid, now, &key);
    if (rc == RUV_E_NOTFOUND && id->present && hdr.alg == RUV__JWS_EDDSA &&
        strcmp(hdr.kid, id->agent_id) == 0) {
        rc = ruv__key_from_ed25519(id->public_key, &owned);
        key = owned;
        from_identity = 1;
    } else if (rc == RUV_E_NOTFOUND) {
        rc = ruv__detail_set(RUV_E_SECURITY, "no pinned or identity key for kid \"%.64s\"%s",
                           hdr.kid, hdr.has_jku ? " (jku is not fetched offline)" : "");
    }
    if (rc == RUV_OK)
        rc = ruv__jws_verify(json_string_value(prot), json_string_length(prot), &hdr, canon,
                             canon_len, json_string_value(value), json_string_length(value), key);
    EVP_PKEY_free(owned);
    if (rc != RUV_OK)
        return rc;
    /* A pinned key under the identity kid counts too: it is the stronger proof. */
    if (id->present && hdr.alg == RUV__JWS_EDDSA && strcmp(hdr.kid, id->agent_id) == 0) {
        EVP_PKEY *ext_key = NULL;
        if (from_identity || (ruv__key_from_ed25519(id->public_key, &ext_key) == RUV_OK &&
                              EVP_PKEY_eq(ext_key, key) == 1))
            *identity_ok = 1;
        EVP_PKEY_free(ext_key);
    }
    if (verdict->good_signatures++ == 0)
        memcpy(verdict->signed_by, hdr.kid, sizeof hdr.kid);
    return RUV_OK;
}

/* Tries every signature against one rendering of the card; the reason the
 * first one failed goes to first_reason. */
static void check_all(const json_t *sigs, const char *canon, size_t canon_len,
                      const struct ruv__identity *id, const struct ruv__pins *pins, int64_t now,
                      struct ruv__card_verdict *verdict, int *identity_ok, char *first_reason,
                      size_t reason_cap)
{
    for (size_t i = 0; i < json_array_size(sigs); i++) {
        int one = check_signature(json_array_get(sigs, i), (const unsigned char *)canon, canon_len,
                                  id, pins, now, verdict, identity_ok);
        if (one != RUV_OK && first_reason[0] == '\0')
            snprintf(first_reason, reason_cap, "signatures[%zu]: %s", i, ruv__detail_get());
    }
}

int ruv__card_verify(const char *json, size_t len, const struct ruv__pins *pins, int64_t now,
                     json_t **view, struct ruv__card_verdict *verdict)
{
    if (view)
        *view = NULL;
    if (verdict == NULL)
        return ruv__detail_set(RUV_E_INVAL, "card: verdict is NULL");
    memset(verdict, 0, sizeof *verdict);
    json_t *card;
    int rc = ruv__json_parse(json, len, &ruv__json_card_limits, &card);
    if (rc != RUV_OK)
        return ruv__detail_prefix(rc, "card");
    json_t *sigs = json_incref(json_object_get(card, "signatures"));
    char *canon = NULL;
    size_t canon_len = 0;
    if (!json_is_array(sigs) || json_array_size(sigs) == 0) {
        rc = ruv__detail_set(RUV_E_SECURITY, "card: unsigned (no signatures)");
        goto done;
    }
    if (json_array_size(sigs) > 16) {
        rc = ruv__detail_set(RUV_E_PROTOCOL, "card: %zu signatures; at most 16 are checked",
                           json_array_size(sigs));
        goto done;
    }
    struct ruv__identity id;
    if ((rc = ruv__card_strip_for_signing(card)) != RUV_OK)
        goto done;
    if ((rc = ruv__identity_from_card(card, &id)) != RUV_OK ||
        (rc = ruv__jcs_serialize(card, &canon, &canon_len)) != RUV_OK) {
        ruv__detail_prefix(rc, "card");
        goto done;
    }

    int identity_ok = 0;
    char first_reason[200] = "";
    check_all(sigs, canon, canon_len, &id, pins, now, verdict, &identity_ok, first_reason,
              sizeof first_reason);
    memcpy(verdict->canonicalization, "jcs", 4);
    if (verdict->good_signatures == 0) {
        /* a2a.md §4 interop trap: a2a-python signs its own json.dumps
         * rendering; one retry in that style, only if it differs. */
        char *py = NULL;
        size_t py_len = 0;
        if (ruv__canon_serialize(card, RUV__CANON_PYTHON, &py, &py_len) == RUV_OK &&
            (py_len != canon_len || memcmp(py, canon, py_len) != 0)) {
            char ignored[8] = "";
            check_all(sigs, py, py_len, &id, pins, now, verdict, &identity_ok, ignored,
                      sizeof ignored);
            memcpy(verdict->canonicalization, "python", 7);
        }
        free(py);
    }
    if (verdict->good_signatures == 0) {
        rc = ruv__detail_set(RUV_E_SECURITY, "card: no signature verifies (%s)", first_reason);
    } else if (id.present && !identity_ok) {
        rc = ruv__detail_set(RUV_E_SECURITY,
                           "card: identity extension present but no EdDSA signature with kid == "
                           "agentId verifies with its key");
    } else {
        rc = ruv__pins_check_agent_id(pins, id.present ? id.agent_id : NULL);
    }
    if (rc == RUV_OK && id.present) {
        verdict->has_agent_id = 1;
        memcpy(verdict->agent_id, id.agent_id, sizeof id.agent_id);
    }
done:
    free(canon);
    json_decref(sigs);
    if (rc == RUV_OK && view)
        *view = json_incref(card);
    json_decref(card);
    if (rc != RUV_OK)
        memset(verdict, 0, sizeof *verdict);
    return rc;
}
