/* tok_error.c — the tokenizer's thread-local error detail. */
#include "config.h"
#include "tok_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static RUV_THREAD_LOCAL char detail[256];

int ruv__tok_set_error(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return status;
}

int ruv__tok_wrap_error(int status, const char *prefix)
{
    size_t pl = strlen(prefix), il = strlen(detail);
    if (pl > sizeof detail - 3)
        pl = sizeof detail - 3;
    if (pl + 2 + il > sizeof detail - 1) /* the end of the inner detail goes first */
        il = sizeof detail - 1 - pl - 2;
    memmove(detail + pl + 2, detail, il);
    memcpy(detail, prefix, pl);
    detail[pl] = ':';
    detail[pl + 1] = ' ';
    detail[pl + 2 + il] = '\0';
    return status;
}

const char *ruv__tok_last_error(void)
{
    return detail;
}
