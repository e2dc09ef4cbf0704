/* plugins/a2a/jcs.h — RFC 8785 JSON Canonicalization Scheme (JCS).
 *
 * The bytes a card's JWS signs (a2a.md §4). Object members are sorted by the
 * UTF-16 code units of their names, there is no whitespace, strings carry
 * raw UTF-8 with only the escapes RFC 8785 §3.2.2.2 requires, and numbers are
 * written as ECMAScript's Number.prototype.toString writes them (shortest
 * digits that read back to the same double). */
#ifndef RUV_A2A_JCS_H
#define RUV_A2A_JCS_H

#include <stddef.h>
#include <jansson.h>

/* Nesting the serializer accepts; deeper values are refused (the card parser
 * already stops at 64). */
#define RUV__JCS_MAX_DEPTH 512

/* Canonical form of v. On success *out is a new NUL-terminated string the
 * caller frees with free(), and *len its length. Refused, with the detail
 * naming the value's path: NaN or infinite reals, integers outside ±2^53
 * (they have no exact double), strings or names that are not valid UTF-8
 * (unpaired surrogates included), nesting deeper than RUV__JCS_MAX_DEPTH.
 * Returns RUV_OK, RUV_E_INVAL or RUV_E_NOMEM; *out is NULL on failure. */
int ruv__jcs_serialize(const json_t *v, char **out, size_t *len);

/* The renderings a card signer may have used. */
enum ruv__canon_style {
    RUV__CANON_JCS = 0,   /* RFC 8785 (a2a-js and ruvector) */
    RUV__CANON_PYTHON = 1 /* a2a-python: json.dumps(sort_keys=True, separators=(",", ":")),
                             ensure_ascii on: names sorted by code point, every non-ASCII
                             or non-printable character as \uXXXX (surrogate pairs above
                             U+FFFF), numbers as Python floats (5.0, 1e-05, 1e+16) */
};

/* ruv__jcs_serialize in the given style; same contract. a2a.md §4 retries a
 * card that fails strict JCS once in the Python style. */
int ruv__canon_serialize(const json_t *v, enum ruv__canon_style style, char **out, size_t *len);

/* Python's repr() of a finite double into buf (at least 32 bytes): "5.0",
 * "-0.0", "1e-05", "1e+16", "0.0001", "1.5e+300". -1 for NaN/infinities. */
int ruv__canon_python_float(double x, char *buf, size_t cap);

/* ECMAScript Number::toString of a finite double into buf (at least 32
 * bytes): "0" for ±0, "1e+21", "1.5e-7", "0.000001", "-5e-324".
 * Returns the length, or -1 for NaN and infinities. */
int ruv__jcs_number(double x, char *buf, size_t cap);

/* Compares two UTF-8 strings by their UTF-16 code units, as RFC 8785 §3.2.3
 * orders names (differs from byte order for characters above U+FFFF, which
 * sort before U+E000-U+FFFF). Invalid UTF-8 compares bytewise from there on. */
int ruv__jcs_compare_names(const char *a, size_t alen, const char *b, size_t blen);

#endif
