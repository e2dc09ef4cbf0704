/* plugins/a2a/jwks.c — picking a key out of a JWK Set (a2a.md §4). */
#include "config.h"
#include "jwks.h"
#include "detail.h"
#include "json_in.h"
#include "jwk.h"

#include <string.h>

static const struct ruv__json_limits jwks_limits = {
    .max_bytes = RUV__JWKS_CAP,
    .max_depth = 8,
    .numbers_as_doubles = 0,
    .any_top_level = 0,
};

int ruv__jwks_find(const char *buf, size_t len, const char *kid, EVP_PKEY **out)
{
    *out = NULL;
    if (!buf || !kid)
        return ruv__detail_set(RUV_E_INVAL, "jwks: NULL argument");
    json_t *set = NULL;
    int rc = ruv__json_parse(buf, len, &jwks_limits, &set);
    if (rc != RUV_OK)
        return ruv__detail_prefix(rc, "jwks");
    json_t *keys = json_object_get(set, "keys");
    const json_t *chosen = NULL;
    if (!json_is_array(keys)) {
        rc = ruv__detail_set(RUV_E_PROTOCOL, "jwks: \"keys\" is missing or not an array");
        goto done;
    }
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k)
    {
        const char *id = json_string_value(json_object_get(k, "kid"));
        if (!json_is_object(k) || !id || strcmp(id, kid) != 0)
            continue;
        if (chosen) {
            /* Two keys under one kid: which one signed is ambiguous. */
            rc = ruv__detail_set(RUV_E_SECURITY, "jwks: two keys have kid \"%.64s\"", kid);
            goto done;
        }
        chosen = k;
    }
    if (!chosen) {
        rc = ruv__detail_set(RUV_E_SECURITY, "jwks: no key has kid \"%.64s\"", kid);
        goto done;
    }
    const char *use = json_string_value(json_object_get(chosen, "use"));
    if (use && strcmp(use, "sig") != 0) {
        rc = ruv__detail_set(RUV_E_SECURITY, "jwks: key \"%.64s\" is for \"%.16s\", not \"sig\"",
                             kid, use);
        goto done;
    }
    rc = ruv__jwk_import(chosen, out);
    if (rc != RUV_OK)
        ruv__detail_prefix(rc, "jwks key \"%.64s\"", kid);
done:
    json_decref(set);
    return rc;
}
