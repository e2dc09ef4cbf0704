/* plugins/a2a/curl_fit.c — the libcurl requirements of a2a.md §7. */
#include "config.h"
#include "curl_fit.h"

#include <string.h>

/* OpenSSL, because card keys, pins and TLS share one libcrypto; asynchronous
 * DNS, so the I/O thread never blocks in a resolver; thread safety, so
 * curl_global_init may run beside other libcurl users of the process. */
const char *ruv__a2a_curl_unfit(const curl_version_info_data *v)
{
    if (!v)
        return "libcurl reports no version information";
    /* A multi-SSL build writes the backends not in use in parentheses; we
     * accept only OpenSSL in use and listed first (else decline, saying so). */
    if (!v->ssl_version || strncmp(v->ssl_version, "OpenSSL/", 8) != 0)
        return "libcurl does not use OpenSSL for TLS";
    if (!(v->features & CURL_VERSION_ASYNCHDNS))
        return "libcurl lacks asynchronous DNS (CURL_VERSION_ASYNCHDNS)";
#ifdef CURL_VERSION_THREADSAFE
    if (!(v->features & CURL_VERSION_THREADSAFE))
        return "libcurl is not thread-safe (no CURL_VERSION_THREADSAFE)";
    return NULL;
#else
    return "libcurl headers older than 7.84 (no CURL_VERSION_THREADSAFE)";
#endif
}
