/* plugins/a2a/options.c — struct ruv_a2a_options as the verifier's pin set. */
#include "config.h"
#include "options.h"
#include "detail.h"
#include "jwk.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

static int import_key(const char *text, EVP_PKEY **key)
{
    size_t len = strlen(text);
    if (strncmp(text, "-----BEGIN", 10) == 0)
        return ruv__key_from_pem(text, len, key);
    json_error_t err;
    json_t *jwk = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    if (!jwk)
        return ruv__detail_set(RUV_E_INVAL, "not a JWK or PEM key: %s at byte %d", err.text,
                             err.position);
    int rc = ruv__jwk_import(jwk, key);
    json_decref(jwk);
    return rc;
}

/* The pin set options describe; *out NULL when options pin nothing. */
int ruv__a2a_pins_from_options(const struct ruv_a2a_options *o, struct ruv__pins **out)
{
    *out = NULL;
    if (!o || (o->n_pinned_keys == 0 && o->n_agent_ids == 0))
        return RUV_OK;
    if ((o->n_pinned_keys && !o->pinned_keys) || (o->n_agent_ids && !o->agent_ids))
        return ruv__detail_set(RUV_E_INVAL, "options: a count without its array");
    struct ruv__pins *pins;
    int rc = ruv__pins_new(&pins);
    for (size_t i = 0; rc == RUV_OK && i < o->n_pinned_keys; i++) {
        const struct ruv_a2a_pinned_key *k = o->pinned_keys[i];
        char where[48];
        snprintf(where, sizeof where, "pinned key %zu", i);
        if (!k || k->struct_size < sizeof *k || !k->kid || !k->kid[0] || !k->key) {
            rc = ruv__detail_set(RUV_E_INVAL,
                               "%s: NULL, struct_size too small, or no kid or key", where);
            break;
        }
        EVP_PKEY *key = NULL;
        rc = import_key(k->key, &key);
        if (rc == RUV_OK)
            rc = ruv__pins_add_key(pins, k->kid, key, k->not_after, k->revoked != 0);
        if (rc != RUV_OK)
            rc = ruv__detail_prefix(rc == RUV_E_PROTOCOL ? RUV_E_INVAL : rc, "%s", where);
    }
    for (size_t i = 0; rc == RUV_OK && i < o->n_agent_ids; i++) {
        if (!o->agent_ids[i])
            rc = ruv__detail_set(RUV_E_INVAL, "agent_ids[%zu] is NULL", i);
        else if ((rc = ruv__pins_add_agent_id(pins, o->agent_ids[i])) != RUV_OK)
            rc = ruv__detail_prefix(rc, "options.agent_ids");
    }
    if (rc != RUV_OK) {
        ruv__pins_free(pins);
        return rc;
    }
    *out = pins;
    return RUV_OK;
}

