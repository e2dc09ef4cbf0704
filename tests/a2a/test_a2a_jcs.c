/* tests/a2a/test_a2a_jcs.c — RFC 8785 canonical JSON and the JSON limits
 * (a2a.md §4 steps 1 and 4, §10 item 6). */
#include "config.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#include "a2a_test_util.h"
#include "../../plugins/a2a/detail.h"
#include "../../plugins/a2a/jcs.h"
#include "../../plugins/a2a/json_in.h"

static double from_bits(uint64_t bits)
{
    double x;
    memcpy(&x, &bits, sizeof x);
    return x;
}

/* RFC 8785 Appendix B, verbatim. */
static void test_rfc8785_number_table(void **state)
{
    (void)state;
    static const struct { uint64_t bits; const char *es; } table[] = {
        {0x0000000000000000ull, "0"},
        {0x8000000000000000ull, "0"},
        {0x0000000000000001ull, "5e-324"},
        {0x8000000000000001ull, "-5e-324"},
        {0x7fefffffffffffffull, "1.7976931348623157e+308"},
        {0xffefffffffffffffull, "-1.7976931348623157e+308"},
        {0x4340000000000000ull, "9007199254740992"},
        {0xc340000000000000ull, "-9007199254740992"},
        {0x4430000000000000ull, "295147905179352830000"},
        {0x44b52d02c7e14af5ull, "9.999999999999997e+22"},
        {0x44b52d02c7e14af6ull, "1e+23"},
        {0x44b52d02c7e14af7ull, "1.0000000000000001e+23"},
        {0x444b1ae4d6e2ef4eull, "999999999999999700000"},
        {0x444b1ae4d6e2ef4full, "999999999999999900000"},
        {0x444b1ae4d6e2ef50ull, "1e+21"},
        {0x3eb0c6f7a0b5ed8cull, "9.999999999999997e-7"},
        {0x3eb0c6f7a0b5ed8dull, "0.000001"},
        {0x41b3de4355555553ull, "333333333.3333332"},
        {0x41b3de4355555554ull, "333333333.33333325"},
        {0x41b3de4355555555ull, "333333333.3333333"},
        {0x41b3de4355555556ull, "333333333.3333334"},
        {0x41b3de4355555557ull, "333333333.33333343"},
        {0xbecbf647612f3696ull, "-0.0000033333333333333333"},
        {0x43143ff3c1cb0959ull, "1424953923781206.2"},
    };
    char buf[40];
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        int n = ruv__jcs_number(from_bits(table[i].bits), buf, sizeof buf);
        assert_int_equal(n, (int)strlen(table[i].es));
        assert_string_equal(buf, table[i].es);
    }
    assert_int_equal(ruv__jcs_number(from_bits(0x7fffffffffffffffull), buf, sizeof buf), -1);
    assert_int_equal(ruv__jcs_number(from_bits(0x7ff0000000000000ull), buf, sizeof buf), -1);
    assert_int_equal(ruv__jcs_number(-INFINITY, buf, sizeof buf), -1);
}

/* Thousands of doubles printed by Node's JSON.stringify (gen_vectors.mjs). */
static void test_node_number_vectors(void **state)
{
    (void)state;
    char *text = read_vector("es_numbers.txt", NULL);
    char *save = NULL;
    int checked = 0;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *space = strchr(line, ' ');
        assert_non_null(space);
        *space = '\0';
        uint64_t bits = strtoull(line, NULL, 16);
        char buf[40];
        ruv__jcs_number(from_bits(bits), buf, sizeof buf);
        if (strcmp(buf, space + 1) != 0)
            fail_msg("bits %s: ours %s, node %s", line, buf, space + 1);
        checked++;
    }
    assert_true(checked > 7000);
    free(text);
}

static char *canon_of(const char *json, size_t len)
{
    json_error_t err;
    json_t *v = json_loadb(json, len,
                           JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL |
                               JSON_REJECT_DUPLICATES,
                           &err);
    if (v == NULL)
        fail_msg("jansson: %s in %.80s", err.text, json);
    char *out;
    size_t olen;
    int rc = ruv__jcs_serialize(v, &out, &olen);
    json_decref(v);
    if (rc != RUV_OK)
        fail_msg("jcs: %s", ruv__detail_get());
    assert_int_equal(strlen(out), olen);
    return out;
}

/* RFC 8785 §3.2.2 and §3.2.3 examples. */
static void test_rfc8785_documents(void **state)
{
    (void)state;
    static const char in1[] =
        "{\n  \"numbers\": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n"
        "  \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\",\n"
        "  \"literals\": [null, true, false]\n}";
    char *c1 = canon_of(in1, sizeof in1 - 1);
    assert_string_equal(c1, "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,"
                            "4.5,0.002,1e-27],\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
    free(c1);
    static const char in2[] =
        "{\"\\u20ac\":\"Euro Sign\",\"\\r\":\"Carriage Return\",\"\\ufb33\":\"Hebrew Letter Dalet "
        "With Dagesh\",\"1\":\"One\",\"\\ud83d\\ude00\":\"Emoji: Grinning Face\",\"\\u0080\":"
        "\"Control\",\"\\u00f6\":\"Latin Small Letter O With Diaeresis\"}";
    char *c2 = canon_of(in2, sizeof in2 - 1);
    /* The values in canonical order. */
    const char *order[] = {"Carriage Return", "One", "Control", "Latin Small", "Euro Sign",
                           "Emoji", "Hebrew"};
    const char *at = c2;
    for (size_t i = 0; i < 7; i++) {
        const char *next = strstr(at, order[i]);
        if (next == NULL)
            fail_msg("%s out of order in %s", order[i], c2);
        at = next;
    }
    free(c2);
}

/* Node-canonicalized documents: sorting with surrogates, escapes, NUL in
 * names, numbers; and canon(parse(canon(x))) == canon(x). */
static void test_node_documents_and_idempotence(void **state)
{
    (void)state;
    char *text = read_vector("jcs.json", NULL);
    json_error_t err;
    json_t *list = json_loads(text, 0, &err);
    assert_non_null(list);
    assert_true(json_array_size(list) > 200);
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *vec = json_array_get(list, i);
        const char *in = json_string_value(json_object_get(vec, "input"));
        json_t *want = json_object_get(vec, "canonical");
        char *got = canon_of(in, strlen(in));
        if (strlen(got) != json_string_length(want) ||
            memcmp(got, json_string_value(want), strlen(got)) != 0)
            fail_msg("vector %zu: ours %s\nnode %s", i, got, json_string_value(want));
        char *again = canon_of(got, strlen(got));
        assert_string_equal(again, got);
        free(again);
        free(got);
    }
    json_decref(list);
    free(text);
}

/* a2a-python's rendering, checked against CPython's json module
 * (gen_python_vectors.py). */
static void test_python_style(void **state)
{
    (void)state;
    char *text = read_vector("python.json", NULL);
    json_t *vec = json_loads(text, 0, NULL);
    free(text);
    assert_non_null(vec);
    json_t *floats = json_object_get(vec, "floats");
    assert_true(json_array_size(floats) > 4000);
    for (size_t i = 0; i < json_array_size(floats); i++) {
        json_t *pair = json_array_get(floats, i);
        const char *hex = json_string_value(json_array_get(pair, 0));
        const char *want = json_string_value(json_array_get(pair, 1));
        char buf[40];
        ruv__canon_python_float(from_bits(strtoull(hex, NULL, 16)), buf, sizeof buf);
        if (strcmp(buf, want) != 0)
            fail_msg("bits %s: ours %s, python %s", hex, buf, want);
    }
    json_t *docs = json_object_get(vec, "docs");
    for (size_t i = 0; i < json_array_size(docs); i++) {
        const char *in = json_string_value(json_object_get(json_array_get(docs, i), "input"));
        const char *want = json_string_value(json_object_get(json_array_get(docs, i), "canonical"));
        json_t *v = json_loads(in, JSON_DECODE_INT_AS_REAL, NULL);
        assert_non_null(v);
        char *got;
        size_t len;
        assert_int_equal(ruv__canon_serialize(v, RUV__CANON_PYTHON, &got, &len), RUV_OK);
        if (strcmp(got, want) != 0)
            fail_msg("doc %zu: ours %s\npython %s", i, got, want);
        free(got);
        json_decref(v);
    }
    json_decref(vec);
    char buf[40];
    assert_int_equal(ruv__canon_python_float(NAN, buf, sizeof buf), -1);
}

static void test_name_order_is_utf16(void **state)
{
    (void)state;
    /* U+1F600 (D83D DE00) sorts before U+FB33, though its UTF-8 is larger. */
    assert_true(ruv__jcs_compare_names("\xf0\x9f\x98\x80", 4, "\xef\xac\xb3", 3) < 0);
    assert_true(ruv__jcs_compare_names("a", 1, "ab", 2) < 0);
    assert_true(ruv__jcs_compare_names("b", 1, "ab", 2) > 0);
    assert_int_equal(ruv__jcs_compare_names("", 0, "", 0), 0);
    assert_true(ruv__jcs_compare_names("a\0b", 3, "a", 1) > 0);
}

static void test_refusals(void **state)
{
    (void)state;
    char *out = (char *)1;
    size_t len;
    json_t *doc = json_pack("{s:[i,I]}", "a", 1, (json_int_t)9007199254740993LL);
    assert_int_equal(ruv__jcs_serialize(doc, &out, &len), RUV_E_INVAL);
    assert_null(out);
    assert_non_null(strstr(ruv__detail_get(), "$.a[1]"));
    assert_non_null(strstr(ruv__detail_get(), "2^53"));
    json_decref(doc);
    doc = json_pack("{s:I}", "ok", (json_int_t)9007199254740992LL);
    assert_int_equal(ruv__jcs_serialize(doc, &out, &len), RUV_OK);
    assert_string_equal(out, "{\"ok\":9007199254740992}");
    free(out);
    json_decref(doc);

    doc = json_object();
    json_object_set_new(doc, "s", json_stringn_nocheck("\xed\xa0\x80", 3)); /* a surrogate */
    assert_int_equal(ruv__jcs_serialize(doc, &out, &len), RUV_E_INVAL);
    assert_non_null(strstr(ruv__detail_get(), "$.s: string is not valid UTF-8"));
    json_decref(doc);

    json_t *deep = json_array();
    for (int i = 0; i < RUV__JCS_MAX_DEPTH + 5; i++) {
        json_t *outer = json_array();
        json_array_append_new(outer, deep);
        deep = outer;
    }
    assert_int_equal(ruv__jcs_serialize(deep, &out, &len), RUV_E_INVAL);
    assert_non_null(strstr(ruv__detail_get(), "nested too deeply"));
    json_decref(deep);
    assert_int_equal(ruv__jcs_serialize(NULL, &out, &len), RUV_E_INVAL);
}

static void test_json_limits(void **state)
{
    (void)state;
    json_t *v;
    const struct ruv__json_limits *lim = &ruv__json_card_limits;
    assert_int_equal(ruv__json_parse("{\"a\":1,\"a\":2}", 13, lim, &v), RUV_E_PROTOCOL);
    assert_null(v);
    assert_non_null(strstr(ruv__detail_get(), "duplicate"));
    assert_int_equal(ruv__json_parse("[1]", 3, lim, &v), RUV_E_PROTOCOL);
    assert_non_null(strstr(ruv__detail_get(), "not an object"));
    assert_int_equal(ruv__json_parse("{\"a\":\"\xc3\x28\"}", 10, lim, &v), RUV_E_PROTOCOL);
    assert_int_equal(ruv__json_parse("{\"a\":\"\\u0000\"}", 14, lim, &v), RUV_E_PROTOCOL);
    assert_int_equal(ruv__json_parse("{\"a\":1} x", 9, lim, &v), RUV_E_PROTOCOL);
    assert_int_equal(ruv__json_parse("{\"a\":1e400}", 11, lim, &v), RUV_E_PROTOCOL);

    /* Depth 64 passes, 65 and 1,000 do not (and nothing recurses that deep). */
    char doc[4096];
    for (int depth = 63; depth <= 1000; depth = depth < 66 ? depth + 1 : 1000) {
        size_t o = 0;
        doc[o++] = '{';
        doc[o++] = '"';
        doc[o++] = 'k';
        doc[o++] = '"';
        doc[o++] = ':';
        for (int i = 1; i < depth; i++)
            doc[o++] = '[';
        for (int i = 1; i < depth; i++)
            doc[o++] = ']';
        doc[o++] = '}';
        int rc = ruv__json_parse(doc, o, lim, &v);
        if (depth <= 64) {
            assert_int_equal(rc, RUV_OK);
            json_decref(v);
        } else {
            assert_int_equal(rc, RUV_E_INVAL);
            assert_non_null(strstr(ruv__detail_get(), "deeper than 64"));
        }
        if (depth == 1000)
            break;
    }
    /* Brackets inside strings do not count. */
    assert_int_equal(ruv__json_text_depth("{\"[[[[\\\"[[\":1}", 14, 100), 1);

    struct ruv__json_limits small = {.max_bytes = 8, .max_depth = 4, .any_top_level = 1};
    assert_int_equal(ruv__json_parse("[1,2,3,4,5]", 11, &small, &v), RUV_E_INVAL);
    assert_non_null(strstr(ruv__detail_get(), "8-byte limit"));
    assert_int_equal(ruv__json_parse("42", 2, &small, &v), RUV_OK);
    assert_true(json_is_integer(v));
    json_decref(v);
    assert_int_equal(ruv__json_parse("42", 2, lim, &v), RUV_E_PROTOCOL);
    assert_int_equal(ruv__json_parse("{\"n\":42}", 8, lim, &v), RUV_OK);
    assert_true(json_is_real(json_object_get(v, "n"))); /* cards read numbers as JavaScript does */
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc8785_number_table),
        cmocka_unit_test(test_node_number_vectors),
        cmocka_unit_test(test_rfc8785_documents),
        cmocka_unit_test(test_node_documents_and_idempotence),
        cmocka_unit_test(test_python_style),
        cmocka_unit_test(test_name_order_is_utf16),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_json_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
