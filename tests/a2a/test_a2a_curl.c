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
#include "../../plugins/a2a/http.h"

#include <stdio.h>
#include <time.h>

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

static long retry_after(const char *v) { return ruv__http_retry_after(v, strlen(v)); }

/* Retry-After (a2a.md §6): delay-seconds or an HTTP-date, as a delay from
 * now; anything else is -1, so the caller falls back to its own backoff. */
static void test_retry_after_forms(void **state)
{
    (void)state;
    assert_int_equal(retry_after("0"), 0);
    assert_int_equal(retry_after(" 17\r\n"), 17);
    assert_int_equal(retry_after("120"), 120);
    assert_int_equal(retry_after("999999999999"), 100000000); /* clamped, no overflow */
    /* An HTTP-date in the future: the seconds until then (the clock may
     * tick once between the two calls). */
    char date[64];
    time_t later = time(NULL) + 90;
    struct tm tm;
    gmtime_r(&later, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    long d = retry_after(date);
    assert_true(d >= 88 && d <= 90);
    /* The obsolete RFC 850 form is still an HTTP-date. */
    strftime(date, sizeof date, "%A, %d-%b-%y %H:%M:%S GMT", &tm);
    d = retry_after(date);
    assert_true(d >= 88 && d <= 90);
    /* A date that has passed: retry now. */
    assert_int_equal(retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), 0);
    /* Garbage. */
    assert_int_equal(retry_after(""), -1);
    assert_int_equal(retry_after("   "), -1);
    assert_int_equal(retry_after("soon"), -1);
    assert_int_equal(retry_after("12abc"), -1);
    assert_int_equal(retry_after("-5"), -1);
    assert_int_equal(retry_after("1.5"), -1);
    assert_int_equal(retry_after("Wed, 99 Foo 2015 07:28:00 GMT"), -1);
    char big[200];
    memset(big, 'A', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(retry_after(big), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requirements),
        cmocka_unit_test(test_this_machine),
        cmocka_unit_test(test_retry_after_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
