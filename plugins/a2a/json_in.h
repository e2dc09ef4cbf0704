/* plugins/a2a/json_in.h — every JSON document the a2a plugin reads enters here.
 *
 * jansson does the parsing, with duplicate keys rejected; this wrapper adds
 * the limits jansson leaves to us (document size and nesting depth, checked
 * before jansson recurses) and turns jansson's error into our detail text. */
#ifndef RUV_A2A_JSON_IN_H
#define RUV_A2A_JSON_IN_H

#include <stddef.h>
#include <jansson.h>

struct ruv__json_limits {
    size_t max_bytes;  /* longest accepted document, e.g. 1 MiB for cards */
    int max_depth;     /* deepest accepted nesting of arrays and objects, e.g. 64 */
    int numbers_as_doubles; /* 1: every number becomes a json_real, as JavaScript's
                               JSON.parse reads it (what RFC 8785 signers see) */
    int any_top_level;      /* 0: the document must be an object */
};

/* The limits of a2a.md §4 for agent cards: 1 MiB, depth 64, numbers as
 * doubles, object at the top. */
extern const struct ruv__json_limits ruv__json_card_limits;

/* Parses len bytes of UTF-8 JSON (no NUL terminator needed). On success *out
 * is a new reference the caller releases with json_decref. On failure *out is
 * NULL, the detail names the problem and its byte offset, and the status is
 * RUV_E_INVAL (bad arguments or a document over a limit) or
 * RUV_E_PROTOCOL (malformed JSON, invalid UTF-8, duplicate key). */
int ruv__json_parse(const char *buf, size_t len, const struct ruv__json_limits *lim,
                    json_t **out);

/* Nesting depth of the JSON text in buf, counting brackets outside strings,
 * stopping early once it passes stop_after. Malformed text gets a depth too:
 * the parser reports the syntax error later. */
int ruv__json_text_depth(const char *buf, size_t len, int stop_after);

#endif
