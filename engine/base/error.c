/* Status names and strings (one X-macro table) and the thread-local detail. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <ruvector/error.h>

#include "base/error.h"

#define RUV_STATUS_TABLE(X)                                                   \
    X(RUV_OK, "success")                                                      \
    X(RUV_E_INVAL, "invalid argument")                                        \
    X(RUV_E_NOMEM, "out of memory")                                           \
    X(RUV_E_NOTFOUND, "not found")                                            \
    X(RUV_E_UNSUPPORTED, "not supported on this CPU or build")                \
    X(RUV_E_ABI, "plugin ABI mismatch")                                       \
    X(RUV_E_PLUGIN, "plugin error")                                           \
    X(RUV_E_SELFTEST, "plugin failed its conformance or self-test")           \
    X(RUV_E_IO, "input/output error")                                         \
    X(RUV_E_STATE, "invalid state for this operation")                        \
    X(RUV_E_DIM, "dimension mismatch")                                        \
    X(RUV_E_EMPTY, "index is empty")                                          \
    X(RUV_E_CORRUPT, "data is corrupted or truncated")                        \
    X(RUV_E_INTEGRITY, "integrity check failed (witness, digest or signature)") \
    X(RUV_E_BACKEND, "a data backend failed")                                 \
    X(RUV_E_MISS, "not cached, and fetching was not allowed")                 \
    X(RUV_E_CANCELED, "operation canceled")                                   \
    X(RUV_E_SECURITY, "peer failed verification")                             \
    X(RUV_E_POLICY, "refused by policy or budget")                            \
    X(RUV_E_PROTOCOL, "peer broke the protocol")                              \
    X(RUV_E_REMOTE, "peer reported an error")                                 \
    X(RUV_E_TIMEOUT, "deadline passed")

const char *ruv_status_name(int status)
{
    switch (status) {
#define X(code, text) case code: return #code;
        RUV_STATUS_TABLE(X)
#undef X
    }
    return "RUV_E_UNKNOWN";
}

const char *ruv_status_str(int status)
{
    switch (status) {
#define X(code, text) case code: return text;
        RUV_STATUS_TABLE(X)
#undef X
    }
    return "unknown status code";
}

#define DETAIL_SIZE 1024 /* room for two long paths */
static RUV_THREAD_LOCAL char detail[DETAIL_SIZE];

const char *ruv_last_error(void) { return detail; }

int ruv__set_errorv(int status, const char *fmt, va_list ap)
{
    /* Through a copy: a message may quote the previous one (ruv_last_error
     * as an argument), and formatting into the buffer being read garbles it. */
    char text[DETAIL_SIZE];
    vsnprintf(text, sizeof text, fmt, ap);
    memcpy(detail, text, sizeof detail);
    return status;
}

int ruv__set_error(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ruv__set_errorv(status, fmt, ap);
    va_end(ap);
    return status;
}
