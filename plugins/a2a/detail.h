/* plugins/a2a/detail.h — error detail for the a2a plugin's own modules.
 *
 * A plugin never links libruvector, so it cannot call ruv__set_error. The
 * a2a modules record their detail text in a thread-local buffer of their own;
 * the plugin's entry points (plugin.c, later) hand it to host->set_error, and
 * the unit tests read it directly. */
#ifndef RUV_A2A_DETAIL_H
#define RUV_A2A_DETAIL_H

#include <ruvector/error.h>

/* Besides the generic codes, the a2a modules return RUV_E_SECURITY (a
 * signature, key, identity, pin or URL-origin check failed) and
 * RUV_E_PROTOCOL (malformed bytes: JSON, SSE, base64url, JWS header, card
 * fields). */

/* Formats the detail for the current thread and returns status, so callers
 * write `return ruv__a2a_fail(RUV_E_INVAL, "...")`. Text longer than the
 * buffer (256 bytes) is truncated. */
int ruv__a2a_fail(int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The current thread's detail text; "" when nothing failed yet. Borrowed:
 * valid until the next a2a call on this thread. Never NULL. */
const char *ruv__a2a_detail(void);

/* Prefixes the current detail with "<prefix>: " (used to say which of several
 * signatures or fields a lower-level error belongs to). Returns status. */
int ruv__a2a_fail_prefix(int status, const char *prefix);

#endif
