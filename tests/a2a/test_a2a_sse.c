/* tests/a2a/test_a2a_sse.c — the SSE framer (a2a.md §3.3, §10 item 18). */
#include "config.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../plugins/a2a/detail.h"
#include "../../plugins/a2a/sse.h"

/* Every event as "<event>|<id>|<data>\n", so whole streams compare as text. */
struct log {
    char text[65536];
    size_t len;
    int events;
    int stop_at; /* return 7 from this event on (1-based), 0 = never */
};

static int record(void *ctx, const struct ruv__sse_event *ev)
{
    struct log *l = ctx;
    assert_int_equal(strlen(ev->event), ev->event_len);
    assert_int_equal(strlen(ev->id), ev->id_len);
    int n = snprintf(l->text + l->len, sizeof l->text - l->len, "%s|%s|", ev->event, ev->id);
    l->len += (size_t)n;
    assert_true(l->len + ev->data_len + 2 < sizeof l->text);
    memcpy(l->text + l->len, ev->data, ev->data_len);
    l->len += ev->data_len;
    l->text[l->len++] = '\n';
    l->text[l->len] = '\0';
    l->events++;
    return l->stop_at && l->events >= l->stop_at ? 7 : 0;
}

/* Feeds stream split at the given chunk boundaries (sorted offsets). */
static void feed_split(const char *stream, size_t len, const size_t *cuts, size_t ncuts,
                       struct log *l, int *discarded)
{
    struct ruv__sse *p;
    assert_int_equal(ruv__sse_new(0, &p), RUV_OK);
    size_t at = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : len;
        assert_int_equal(ruv__sse_feed(p, stream + at, end - at, record, l), RUV_OK);
        at = end;
    }
    *discarded = ruv__sse_finish(p);
    ruv__sse_free(p);
}

static void feed_whole(const char *stream, struct log *l, int *discarded)
{
    feed_split(stream, strlen(stream), NULL, 0, l, discarded);
}

/* a2a.md §3.3: a v1.0 SendStreamingMessage stream, with the a2a-python
 * ping, CRLF on some lines and a leading BOM. */
static const char recorded[] =
    "\xEF\xBB\xBF"
    "data: {\"jsonrpc\":\"2.0\",\"id\":\"7\",\"result\":{\"task\":{\"id\":\"t1\"}}}\r\n"
    "\r\n"
    ": ping\n"
    "data: {\"jsonrpc\":\"2.0\",\"id\":\"7\",\"result\":{\"statusUpdate\":{\"taskId\":\"t1\"}}}\n\n"
    "event: error\r"
    "data: {\"jsonrpc\":\"2.0\",\"id\":\"7\",\r"
    "data:\"error\":{\"code\":-32603}}\r\r"
    "id: e-9\n"
    "retry: 2500\n"
    "data\n"
    "data:  two spaces\n\n"
    "data: unterminated";

static const char recorded_events[] =
    "message||{\"jsonrpc\":\"2.0\",\"id\":\"7\",\"result\":{\"task\":{\"id\":\"t1\"}}}\n"
    "message||{\"jsonrpc\":\"2.0\",\"id\":\"7\",\"result\":{\"statusUpdate\":{\"taskId\":\"t1\"}}}\n"
    "error||{\"jsonrpc\":\"2.0\",\"id\":\"7\",\n\"error\":{\"code\":-32603}}\n"
    "message|e-9|\n two spaces\n";

static void test_recorded_stream(void **state)
{
    (void)state;
    struct log l = {0};
    int discarded;
    feed_whole(recorded, &l, &discarded);
    assert_string_equal(l.text, recorded_events);
    assert_int_equal(discarded, 1);
}

static void test_every_two_way_split(void **state)
{
    (void)state;
    size_t len = strlen(recorded);
    for (size_t cut = 0; cut <= len; cut++) {
        struct log l = {0};
        int discarded;
        feed_split(recorded, len, &cut, 1, &l, &discarded);
        if (strcmp(l.text, recorded_events) != 0)
            fail_msg("split at %zu gives:\n%s", cut, l.text);
        assert_int_equal(discarded, 1);
    }
}

static void test_byte_by_byte_and_three_way(void **state)
{
    (void)state;
    size_t len = strlen(recorded);
    size_t *cuts = malloc(len * sizeof *cuts);
    for (size_t i = 0; i < len; i++)
        cuts[i] = i;
    struct log l = {0};
    int discarded;
    feed_split(recorded, len, cuts, len, &l, &discarded);
    assert_string_equal(l.text, recorded_events);
    free(cuts);
    for (size_t a = 0; a < len; a += 3) {
        for (size_t b = a; b < len; b += 5) {
            size_t two[2] = {a, b};
            struct log m = {0};
            feed_split(recorded, len, two, 2, &m, &discarded);
            assert_string_equal(m.text, recorded_events);
        }
    }
}

static void test_retry_id_and_comments(void **state)
{
    (void)state;
    struct ruv__sse *p;
    struct log l = {0};
    assert_int_equal(ruv__sse_new(0, &p), RUV_OK);
    assert_int_equal(ruv__sse_retry_ms(p), 0);
    const char *s = ": hi\n:\nretry: 100\n\nretry: 12a\n\n";
    assert_int_equal(ruv__sse_feed(p, s, strlen(s), record, &l), RUV_OK);
    assert_int_equal(ruv__sse_retry_ms(p), 500); /* clamped up, and 12a ignored */
    s = "retry: 99999999999999999999999\n\n";
    assert_int_equal(ruv__sse_feed(p, s, strlen(s), record, &l), RUV_OK);
    assert_int_equal(ruv__sse_retry_ms(p), 60000);
    s = "retry:3000\n\n";
    assert_int_equal(ruv__sse_feed(p, s, strlen(s), record, &l), RUV_OK);
    assert_int_equal(ruv__sse_retry_ms(p), 3000);
    assert_int_equal(ruv__sse_comments(p), 2);
    assert_int_equal(l.events, 0); /* no data, no dispatch */

    /* id carries over events; an id holding NUL is ignored; id: alone clears. */
    static const char ids[] = "id: a\ndata: 1\n\ndata: 2\n\nid: b\0c\ndata: 3\n\nid\ndata: 4\n\n";
    assert_int_equal(ruv__sse_feed(p, ids, sizeof ids - 1, record, &l), RUV_OK);
    assert_string_equal(l.text, "message|a|1\nmessage|a|2\nmessage|a|3\nmessage||4\n");
    size_t idlen;
    assert_string_equal(ruv__sse_last_id(p, &idlen), "");
    /* An id inside a discarded event never takes effect. */
    s = "id: x\ndata: 1\n\nid: y\ndata: partial\n";
    assert_int_equal(ruv__sse_feed(p, s, strlen(s), record, &l), RUV_OK);
    assert_true(ruv__sse_in_event(p));
    assert_int_equal(ruv__sse_finish(p), 1);
    assert_false(ruv__sse_in_event(p));
    assert_string_equal(ruv__sse_last_id(p, &idlen), "x");
    s = "data: after reconnect\n\n";
    assert_int_equal(ruv__sse_feed(p, s, strlen(s), record, &l), RUV_OK);
    assert_non_null(strstr(l.text, "message|x|after reconnect\n"));
    ruv__sse_free(p);
}

static void test_bom_only_once_and_event_reset(void **state)
{
    (void)state;
    struct log l = {0};
    int discarded;
    /* A second BOM is text: the field "\xEF\xBB\xBFdata" is unknown. */
    feed_whole("\xEF\xBB\xBF\xEF\xBB\xBF" "data: 1\n\nevent: x\ndata: 2\n\ndata: 3\n\n", &l,
               &discarded);
    assert_string_equal(l.text, "x||2\nmessage||3\n");
    assert_int_equal(discarded, 0);
    /* A partial BOM followed by other bytes keeps those bytes. */
    struct log m = {0};
    feed_whole("\xEF" "data: 1\n\ndata: 2\n\n", &m, &discarded);
    assert_string_equal(m.text, "message||2\n");
    /* An event type without data is dropped with its blank line. */
    struct log n = {0};
    feed_whole("event: lonely\n\ndata: 5\n\n", &n, &discarded);
    assert_string_equal(n.text, "message||5\n");
}

static void test_caps(void **state)
{
    (void)state;
    struct ruv__sse *p;
    struct log l = {0};
    assert_int_equal(ruv__sse_new(64, &p), RUV_OK);
    char line[128];
    memset(line, 'a', sizeof line);
    memcpy(line, "data: ", 6);
    /* 60 bytes of line fit; the event is dispatched. */
    assert_int_equal(ruv__sse_feed(p, line, 60, record, &l), RUV_OK);
    assert_int_equal(ruv__sse_feed(p, "\n\n", 2, record, &l), RUV_OK);
    assert_int_equal(l.events, 1);
    /* 100 bytes of one line (given in pieces) do not. */
    assert_int_equal(ruv__sse_feed(p, line, 50, record, &l), RUV_OK);
    assert_int_equal(ruv__sse_feed(p, line + 50, 50, record, &l), RUV_E_PROTOCOL);
    assert_non_null(strstr(ruv__detail_get(), "64-byte event cap"));
    assert_int_equal(ruv__sse_feed(p, "\n\n", 2, record, &l), RUV_E_PROTOCOL);
    assert_int_equal(ruv__sse_finish(p), 1);
    /* Many short data lines add up to the cap as well. */
    int rc = RUV_OK;
    for (int i = 0; i < 40 && rc == RUV_OK; i++)
        rc = ruv__sse_feed(p, "data: 12345\n", 12, record, &l);
    assert_int_equal(rc, RUV_E_PROTOCOL);
    assert_int_equal(l.events, 1);
    ruv__sse_free(p);
}

static void test_consumer_stop(void **state)
{
    (void)state;
    struct ruv__sse *p;
    struct log l = {.stop_at = 2};
    assert_int_equal(ruv__sse_new(0, &p), RUV_OK);
    const char *s = "data: 1\n\ndata: 2\n\ndata: 3\n\n";
    assert_int_equal(ruv__sse_feed(p, s, strlen(s), record, &l), 7);
    assert_int_equal(l.events, 2);
    assert_int_equal(ruv__sse_feed(p, s, strlen(s), record, &l), RUV_E_STATE);
    assert_int_equal(ruv__sse_finish(p), 0);
    l.stop_at = 0;
    assert_int_equal(ruv__sse_feed(p, s, strlen(s), record, &l), RUV_OK);
    assert_int_equal(l.events, 5);
    assert_int_equal(ruv__sse_feed(NULL, s, 1, record, &l), RUV_E_INVAL);
    ruv__sse_free(p);
}

static void test_data_with_nul_and_crlf_at_chunk_end(void **state)
{
    (void)state;
    struct ruv__sse *p;
    struct log l = {0};
    assert_int_equal(ruv__sse_new(0, &p), RUV_OK);
    static const char a[] = "data: x\0y\r";
    assert_int_equal(ruv__sse_feed(p, a, sizeof a - 1, record, &l), RUV_OK);
    assert_int_equal(ruv__sse_feed(p, "\n", 1, record, &l), RUV_OK); /* same line end */
    assert_int_equal(l.events, 0);
    assert_int_equal(ruv__sse_feed(p, "\r", 1, record, &l), RUV_OK); /* blank line */
    assert_int_equal(l.events, 1);
    assert_memory_equal(l.text, "message||x\0y\n", 13);
    ruv__sse_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorded_stream),
        cmocka_unit_test(test_every_two_way_split),
        cmocka_unit_test(test_byte_by_byte_and_three_way),
        cmocka_unit_test(test_retry_id_and_comments),
        cmocka_unit_test(test_bom_only_once_and_event_reset),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_consumer_stop),
        cmocka_unit_test(test_data_with_nul_and_crlf_at_chunk_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
