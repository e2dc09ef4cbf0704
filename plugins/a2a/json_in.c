/* plugins/a2a/json_in.c — jansson with our own size and depth limits. */
#include "config.h"
#include "json_in.h"
#include "detail.h"

const struct ruv__json_limits ruv__json_card_limits = {
    .max_bytes = (size_t)1 << 20,
    .max_depth = 64,
    .numbers_as_doubles = 1,
    .any_top_level = 0,
};

int ruv__json_text_depth(const char *buf, size_t len, int stop_after)
{
    int depth = 0, deepest = 0, in_string = 0, escaped = 0;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (in_string) {
            if (escaped)
                escaped = 0;
            else if (c == '\\')
                escaped = 1;
            else if (c == '"')
                in_string = 0;
            continue;
        }
        if (c == '"') {
            in_string = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > deepest) {
                deepest = depth;
                if (deepest > stop_after)
                    return deepest;
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return deepest;
}

int ruv__json_parse(const char *buf, size_t len, const struct ruv__json_limits *lim,
                    json_t **out)
{
    if (out == NULL)
        return ruv__detail_set(RUV_E_INVAL, "json: out is NULL");
    *out = NULL;
    if ((buf == NULL && len > 0) || lim == NULL)
        return ruv__detail_set(RUV_E_INVAL, "json: buffer or limits is NULL");
    if (len > lim->max_bytes)
        return ruv__detail_set(RUV_E_INVAL, "json: document of %zu bytes exceeds the %zu-byte limit",
                             len, lim->max_bytes);
    /* jansson recurses once per level (up to its compiled 2048); our limit is
     * checked first so a hostile document never reaches that depth. */
    if (ruv__json_text_depth(buf, len, lim->max_depth) > lim->max_depth)
        return ruv__detail_set(RUV_E_INVAL, "json: nesting deeper than %d levels", lim->max_depth);

    size_t flags = JSON_REJECT_DUPLICATES;
    if (lim->any_top_level)
        flags |= JSON_DECODE_ANY;
    if (lim->numbers_as_doubles)
        flags |= JSON_DECODE_INT_AS_REAL;
    json_error_t err;
    json_t *doc = json_loadb(len > 0 ? buf : "", len, flags, &err);
    if (doc == NULL)
        return ruv__detail_set(RUV_E_PROTOCOL, "json: %s at byte %d", err.text, err.position);
    if (!lim->any_top_level && !json_is_object(doc)) {
        json_decref(doc);
        return ruv__detail_set(RUV_E_PROTOCOL, "json: top-level value is not an object");
    }
    *out = doc;
    return RUV_OK;
}
