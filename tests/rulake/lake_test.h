/* Helpers shared by the rulake cmocka tests. */
#ifndef RULAKE_TEST_H
#define RULAKE_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bytes.h"
#include "lake_error.h"

/* RFC 8032 §7.1 TEST 1: the Ed25519 key the tests sign with. */
static const char *const rfc8032_priv =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char *const rfc8032_pub =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

/* Asserts a status and, for failures, a fragment of the detail that
 * detail() returns (the plugin's own ruv__detail_get, or the engine's
 * ruv_last_error when the call went through the engine). */
static inline void check_status(int got, int want, const char *fragment, const char *expr,
                                const char *(*detail)(void))
{
    if (got != want)
        fail_msg("%s returned %d, want %d (detail: %s)", expr, got, want, detail());
    if (fragment && !strstr(detail(), fragment))
        fail_msg("%s: detail '%s' lacks '%s'", expr, detail(), fragment);
}
#define assert_status(expr, want, fragment)                                                   \
    check_status((expr), (want), (fragment), #expr, ruv__detail_get)

#define assert_ok(expr) assert_status((expr), RUV_OK, (const char *)NULL)

static inline void assert_hex(const uint8_t *got, size_t n, const char *want)
{
    char hex[129];
    ruv__lake_hex(got, n, hex);
    assert_string_equal(hex, want);
}

static inline void unhex_or_die(const char *s, uint8_t *out, size_t n)
{
    assert_int_equal(ruv__lake_unhex(s, out, n), 0);
}

#endif
