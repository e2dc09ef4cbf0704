/* plugins/a2a/detail.c — thread-local error detail of the a2a modules. */
#include "config.h"
#include "detail.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define DETAIL_CAP 256

static RUV_THREAD_LOCAL char detail_text[DETAIL_CAP];

int ruv__a2a_fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail_text, sizeof detail_text, fmt, ap);
    va_end(ap);
    return status;
}

const char *ruv__a2a_detail(void)
{
    return detail_text;
}

int ruv__a2a_fail_prefix(int status, const char *prefix)
{
    size_t plen = strnlen(prefix, DETAIL_CAP - 3);
    size_t keep = strnlen(detail_text, DETAIL_CAP - 1);
    if (plen + 2 + keep > DETAIL_CAP - 1)
        keep = DETAIL_CAP - 1 - plen - 2; /* the end of the old text is what goes */
    memmove(detail_text + plen + 2, detail_text, keep);
    memcpy(detail_text, prefix, plen);
    detail_text[plen] = ':';
    detail_text[plen + 1] = ' ';
    detail_text[plen + 2 + keep] = '\0';
    return status;
}
