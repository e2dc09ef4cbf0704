/* Thread-local error detail of the rulake plugin (contract in lake_error.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "lake_error.h"

#ifndef RUV_THREAD_LOCAL
#define RUV_THREAD_LOCAL _Thread_local
#endif

#define DETAIL_SIZE 1024 /* room for a path and a reason */

static RUV_THREAD_LOCAL char detail[DETAIL_SIZE];

int (*ruv__lake_error_forward)(int status, const char *fmt, ...);

static int publish(int status)
{
    if (ruv__lake_error_forward)
        ruv__lake_error_forward(status, "%s", detail);
    return status;
}

int ruv__lake_error(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return publish(status);
}

int ruv__lake_error_prefix(int status, const char *fmt, ...)
{
    char old[DETAIL_SIZE];
    memcpy(old, detail, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof detail)
        snprintf(detail + n, sizeof detail - (size_t)n, ": %s", old);
    return publish(status);
}

const char *ruv__lake_last_error(void) { return detail; }
