/* tests/a2a/test_a2a_curl.c — the libcurl requirements the plugin's init
 * checks (a2a.md §7), on version records made up here and on the libcurl
 * this machine has. */
#include "config.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../plugins/a2a/curl_fit.h"

static curl_version_info_data fit(void)
{
    curl_version_info_data v;
    memset(&v, 0, sizeof v);
    v.version = "8.5.0";
    v.ssl_version = "OpenSSL/3.0.13";
    v.features = CURL_VERSION_ASYNCHDNS | CURL_VERSION_THREADSAFE | CURL_VERSION_SSL;
    return v;
}

static void test_requirements(void **state)
{
    (void)state;
    curl_version_info_data v = fit();
    assert_null(ruv__a2a_curl_unfit(&v));

    v.ssl_version = "GnuTLS/3.7.9";
    assert_non_null(strstr(ruv__a2a_curl_unfit(&v), "OpenSSL"));
    v.ssl_version = "(OpenSSL/3.0.13) GnuTLS/3.7.9"; /* multi-SSL, GnuTLS in use */
    assert_non_null(strstr(ruv__a2a_curl_unfit(&v), "OpenSSL"));
    v.ssl_version = NULL; /* built without TLS */
    assert_non_null(strstr(ruv__a2a_curl_unfit(&v), "OpenSSL"));

    v = fit();
    v.features &= ~(long)CURL_VERSION_ASYNCHDNS;
    assert_non_null(strstr(ruv__a2a_curl_unfit(&v), "CURL_VERSION_ASYNCHDNS"));
    v = fit();
    v.features &= ~(long)CURL_VERSION_THREADSAFE;
    assert_non_null(strstr(ruv__a2a_curl_unfit(&v), "CURL_VERSION_THREADSAFE"));
    assert_non_null(ruv__a2a_curl_unfit(NULL));
}

/* The CI machines' libcurl (Debian's, OpenSSL) is what the plugin needs;
 * if this fails, test_a2a_plugin fails too, and this says why. */
static void test_this_machine(void **state)
{
    (void)state;
    const char *why = ruv__a2a_curl_unfit(curl_version_info(CURLVERSION_NOW));
    if (why)
        fail_msg("%s", why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requirements),
        cmocka_unit_test(test_this_machine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
