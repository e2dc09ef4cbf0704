/* Error detail inside the rulake plugin. Library code here never prints or
 * exits: a failing function returns a ruv_status and leaves a sentence in a
 * thread-local buffer. The plugin's init (plugin.c) points
 * ruv__lake_error_forward at host->set_error so the detail also reaches
 * ruv_last_error(); in the unit tests the local buffer is the only sink. */
#ifndef RULAKE_LAKE_ERROR_H
#define RULAKE_LAKE_ERROR_H

#include <stdarg.h>

#include <ruvector/error.h>

#if defined(__GNUC__)
#define RUV_LAKE_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define RUV_LAKE_PRINTF(f, a)
#endif

/* Records the detail for status and returns status, so the idiom is
 * `return ruv__lake_error(RUV_E_INVAL, "...")`. */
int ruv__lake_error(int status, const char *fmt, ...) RUV_LAKE_PRINTF(2, 3);

/* Prefixes the current detail with "<prefix>: " (e.g. the file name a
 * low-level parser did not know). Returns status. */
int ruv__lake_error_prefix(int status, const char *fmt, ...) RUV_LAKE_PRINTF(2, 3);

/* The detail of the last failure on this thread. Borrowed; valid until the
 * next failing call on this thread. Never NULL. */
const char *ruv__lake_last_error(void);

/* Optional second sink (host->set_error), called with the finished text as
 * "%s". NULL (the default) keeps the detail local. Set once at plugin init,
 * before any other thread uses the plugin. */
extern int (*ruv__lake_error_forward)(int status, const char *fmt, ...);

#endif
