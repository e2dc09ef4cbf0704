/* A feature plugin's thread-local error detail (contract in detail.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "detail.h"

#ifndef RUV_THREAD_LOCAL
#define RUV_THREAD_LOCAL _Thread_local
#endif

#define DETAIL_SIZE 1024 /* room for a path and a reason */

static RUV_THREAD_LOCAL char detail[DETAIL_SIZE];

int (*ruv__detail_forward)(int status, const char *fmt, ...);

static int publish(int status)
{
    if (ruv__detail_forward)
        ruv__detail_forward(status, "%s", detail);
    return status;
}

int ruv__detail_set(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return publish(status);
}

int ruv__detail_prefix(int status, const char *fmt, ...)
{
    char old[DETAIL_SIZE];
    memcpy(old, detail, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    /* ": <old>", truncated to what is left (copied by hand: the compiler
     * cannot see that old fits and warns on an snprintf) */
    size_t used = n < 0 ? 0 : (size_t)n, room = sizeof detail - used;
    if (used < sizeof detail && room > 3) {
        size_t m = strnlen(old, room - 3);
        memcpy(detail + used, ": ", 2);
        memcpy(detail + used + 2, old, m);
        detail[used + 2 + m] = '\0';
    }
    return publish(status);
}

const char *ruv__detail_get(void) { return detail; }
