/* A feature plugin's thread-local error detail. A plugin never links
 * libruvector, so it cannot call the engine's ruv__set_error: its modules
 * leave a sentence here, and its entry points hand it to host->set_error
 * (or set ruv__detail_forward to do so on every failure). Each plugin
 * compiles detail.c into itself, so each has its own text. */
#ifndef RUV_PLUGINS_COMMON_DETAIL_H
#define RUV_PLUGINS_COMMON_DETAIL_H

#include <stdarg.h>

#include <ruvector/error.h>

#if defined(__GNUC__)
#define RUV_DETAIL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define RUV_DETAIL_PRINTF(f, a)
#endif

/* Records the detail (printf format, at most 1023 bytes kept) for this
 * thread and returns status: `return ruv__detail_set(RUV_E_INVAL, "...")`. */
int ruv__detail_set(int status, const char *fmt, ...) RUV_DETAIL_PRINTF(2, 3);
/* Puts "<prefix>: " (printf format) before the current detail, dropping the
 * end of the old text when it does not fit. Returns status. */
int ruv__detail_prefix(int status, const char *fmt, ...) RUV_DETAIL_PRINTF(2, 3);
/* The detail of this thread's last failure; "" if none. Borrowed until the
 * next failing call on this thread. Never NULL. */
const char *ruv__detail_get(void);
/* Optional second sink (host->set_error), called with the finished text as
 * "%s" after every set or prefix. Set at plugin init, before other threads
 * use the plugin; NULL keeps the detail local. */
extern int (*ruv__detail_forward)(int status, const char *fmt, ...);

#endif
