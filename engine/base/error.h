/* Engine-private: the thread-local error detail behind ruv_last_error, and
 * the attribute macros every layer uses. The lowest layer: includes nothing
 * of the engine. */
#ifndef RUV_ENGINE_BASE_ERROR_H
#define RUV_ENGINE_BASE_ERROR_H

#include <stdarg.h>

#ifndef RUV_THREAD_LOCAL
#define RUV_THREAD_LOCAL _Thread_local
#endif

#if defined(__GNUC__)
#define RUV_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define RUV_PRINTF(f, a)
#endif

/* Sets the thread-local detail and returns status. */
int ruv__set_error(int status, const char *fmt, ...) RUV_PRINTF(2, 3);
int ruv__set_errorv(int status, const char *fmt, va_list ap);

#endif
