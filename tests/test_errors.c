/* Error model: every status has a name and a message; details are per thread. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <ruvector/ruvector.h>

static void test_every_code_has_name_and_text(void **state)
{
    (void)state;
    for (int s = 0; s >= RUV_STATUS_MIN; s--) {
        const char *name = ruv_status_name(s);
        assert_non_null(name);
        assert_string_not_equal(name, "RUV_E_UNKNOWN");
        assert_true(strncmp(name, "RUV_", 4) == 0);
        assert_string_not_equal(ruv_status_str(s), "unknown status code");
    }
    assert_string_equal(ruv_status_name(RUV_E_ABI), "RUV_E_ABI");
    assert_string_equal(ruv_status_str(RUV_E_ABI), "plugin ABI mismatch");
    assert_string_equal(ruv_status_name(RUV_OK), "RUV_OK");
    /* the codes the feature plugins reserve */
    assert_string_equal(ruv_status_name(RUV_E_INTEGRITY), "RUV_E_INTEGRITY");
    assert_string_equal(ruv_status_name(RUV_E_CANCELED), "RUV_E_CANCELED");
    assert_string_equal(ruv_status_name(RUV_E_TIMEOUT), "RUV_E_TIMEOUT");
    assert_string_equal(ruv_status_name(RUV_STATUS_MIN - 1), "RUV_E_UNKNOWN");
}

static void test_unknown_code(void **state)
{
    (void)state;
    assert_string_equal(ruv_status_name(-999), "RUV_E_UNKNOWN");
    assert_string_equal(ruv_status_name(7), "RUV_E_UNKNOWN");
    assert_string_equal(ruv_status_str(-999), "unknown status code");
}

static void test_failing_call_sets_detail(void **state)
{
    (void)state;
    ruv_config *cfg = NULL;
    assert_int_equal(ruv_config_new(&cfg), RUV_OK);
    assert_int_equal(ruv_config_set_verbose(cfg, 7), RUV_E_INVAL);
    assert_non_null(strstr(ruv_last_error(), "level 7 is not 0, 1 or 2"));
    assert_int_equal(ruv_config_set_kernel(cfg, "AVX2!"), RUV_E_INVAL);
    assert_non_null(strstr(ruv_last_error(), "'AVX2!' is not a kernel name"));
    ruv_config_free(cfg);
}

static void *other_thread(void *arg)
{
    (void)arg;
    ruv_config *cfg = NULL;
    ruv_config_new(&cfg);
    ruv_config_set_threads(cfg, 100000); /* fails in this thread only */
    ruv_config_free(cfg);
    return (void *)(intptr_t)(strstr(ruv_last_error(), "100000 threads") != NULL);
}

static void test_detail_is_thread_local(void **state)
{
    (void)state;
    ruv_config *cfg = NULL;
    assert_int_equal(ruv_config_new(&cfg), RUV_OK);
    assert_int_equal(ruv_config_set_verbose(cfg, -1), RUV_E_INVAL);
    char mine[256];
    strncpy(mine, ruv_last_error(), sizeof mine - 1);
    mine[sizeof mine - 1] = '\0';
    pthread_t t;
    void *ok = NULL;
    assert_int_equal(pthread_create(&t, NULL, other_thread, NULL), 0);
    assert_int_equal(pthread_join(t, &ok), 0);
    assert_true(ok != NULL);                       /* the other thread saw its own detail */
    assert_string_equal(ruv_last_error(), mine);   /* and ours is untouched */
    ruv_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_code_has_name_and_text),
        cmocka_unit_test(test_unknown_code),
        cmocka_unit_test(test_failing_call_sets_detail),
        cmocka_unit_test(test_detail_is_thread_local),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
