/* plugins/a2a/curl_fit.h — whether the libcurl we run on can carry the
 * client (a2a.md §7); the plugin's init declines with this reason. */
#ifndef RUV_A2A_CURL_FIT_H
#define RUV_A2A_CURL_FIT_H

#include <curl/curl.h>

/* NULL when v describes a libcurl that uses OpenSSL for TLS and reports
 * CURL_VERSION_ASYNCHDNS and CURL_VERSION_THREADSAFE; otherwise a static
 * sentence naming the first thing missing. */
const char *ruv__a2a_curl_unfit(const curl_version_info_data *v);

#endif
