/* tests/a2a/test_a2a_origin.c — URL rules for cards and JWKS (a2a.md §4 key
 * resolution 3, §6; §10 items 3 and 24: jku on http:// or another host is
 * refused unless trusted, plain http only to loopback). */
#include "config.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../plugins/a2a/detail.h"
#include "../../plugins/a2a/origin.h"

static void test_origin_parse(void **state)
{
    (void)state;
    struct ruv__origin o;
    assert_int_equal(ruv__origin_of("HTTPS://Agent.Example:443/a2a", &o), RUV_OK);
    assert_string_equal(o.scheme, "https");
    assert_string_equal(o.host, "agent.example");
    assert_int_equal(o.port, 443);
    assert_int_equal(ruv__origin_of("http://[::1]/x", &o), RUV_OK);
    assert_string_equal(o.host, "[::1]");
    assert_int_equal(o.port, 80);
    assert_int_equal(ruv__origin_of("ftp://a.example/", &o), RUV_E_PROTOCOL);
    assert_non_null(strstr(ruv__detail_get(), "not http or https"));
    assert_int_equal(ruv__origin_of("agent.example/a2a", &o), RUV_E_PROTOCOL);
    assert_int_equal(ruv__origin_of("https://", &o), RUV_E_PROTOCOL);
}

static void test_transport(void **state)
{
    (void)state;
    const char *ok[] = {"https://agent.example/card", "http://127.0.0.1:41241/a2a",
                        "http://127.9.8.7/", "http://localhost:8080/", "http://LOCALHOST/",
                        "http://[::1]:9/"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (ruv__origin_check_transport(ok[i], 0) != RUV_OK)
            fail_msg("%s refused: %s", ok[i], ruv__detail_get());
    const char *bad[] = {"http://agent.example/", "http://128.0.0.1/", "http://10.0.0.1/",
                         "http://localhost.evil.example/", "http://[::2]/",
                         "http://127.0.0.1.evil.example/"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (ruv__origin_check_transport(bad[i], 0) != RUV_E_SECURITY)
            fail_msg("%s accepted", bad[i]);
        assert_int_equal(ruv__origin_check_transport(bad[i], 1), RUV_OK); /* allow_http */
    }
    assert_non_null(strstr((ruv__origin_check_transport("http://agent.example/", 0),
                            ruv__detail_get()), "agent.example"));
}

static void test_jku(void **state)
{
    (void)state;
    const char *card = "https://agent.example/.well-known/agent-card.json";
    assert_int_equal(ruv__origin_check_jku(card, "https://agent.example/jwks.json", NULL, 0), RUV_OK);
    assert_int_equal(ruv__origin_check_jku(card, "https://AGENT.example:443/k", NULL, 0), RUV_OK);
    /* Another host, another port, or http: refused. */
    assert_int_equal(ruv__origin_check_jku(card, "https://keys.example/jwks.json", NULL, 0),
                     RUV_E_SECURITY);
    assert_non_null(strstr(ruv__detail_get(), "neither the card's origin nor a trusted one"));
    assert_int_equal(ruv__origin_check_jku(card, "https://agent.example:8443/jwks.json", NULL, 0),
                     RUV_E_SECURITY);
    assert_int_equal(ruv__origin_check_jku(card, "http://agent.example/jwks.json", NULL, 0),
                     RUV_E_SECURITY);
    assert_non_null(strstr(ruv__detail_get(), "jku: url: plain http"));
    /* Trusted origins open other hosts, https only. */
    const char *trusted[] = {"not a url", "https://keys.example"};
    assert_int_equal(ruv__origin_check_jku(card, "https://keys.example/jwks.json", trusted, 2),
                     RUV_OK);
    assert_int_equal(ruv__origin_check_jku(card, "https://keys.example:444/jwks.json", trusted, 2),
                     RUV_E_SECURITY);
    const char *http_trusted[] = {"http://keys.example"};
    assert_int_equal(ruv__origin_check_jku(card, "http://keys.example/jwks.json", http_trusted, 1),
                     RUV_E_SECURITY);
    /* A loopback card may use a loopback http jku on its own origin. */
    assert_int_equal(ruv__origin_check_jku("http://127.0.0.1:41241/.well-known/agent-card.json",
                                           "http://127.0.0.1:41241/jwks.json", NULL, 0), RUV_OK);
    assert_int_equal(ruv__origin_check_jku("http://127.0.0.1:41241/.well-known/agent-card.json",
                                           "http://127.0.0.1:41242/jwks.json", NULL, 0),
                     RUV_E_SECURITY);
    assert_int_equal(ruv__origin_check_jku(card, "jwks.json", NULL, 0), RUV_E_PROTOCOL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_origin_parse),
        cmocka_unit_test(test_transport),
        cmocka_unit_test(test_jku),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
