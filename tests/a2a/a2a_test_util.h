/* tests/a2a/a2a_test_util.h — helpers the a2a tests share: the committed vectors and text edits. */
#ifndef RUV_A2A_TEST_UTIL_H
#define RUV_A2A_TEST_UTIL_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Contents of $RUV_TEST_SRCDIR/tests/a2a/vectors/<name> (falls back to the
 * srcdir this file was compiled from), NUL-terminated; free() it. Fails the
 * test when the file is missing. */
static char *read_vector(const char *name, size_t *len)
{
    const char *src = getenv("RUV_TEST_SRCDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/a2a/vectors/%s", src ? src : RUV_A2A_SRCDIR, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)n;
    return buf;
}

/* The entry of cards.json's "cards" array (doc: that file, parsed) whose
 * "kid" is kid; borrowed from doc. Fails the test when there is none. */
static inline json_t *card_by_kid(json_t *doc, const char *kid)
{
    json_t *cards = json_object_get(doc, "cards");
    for (size_t i = 0; i < json_array_size(cards); i++) {
        json_t *c = json_array_get(cards, i);
        if (strcmp(json_string_value(json_object_get(c, "kid")), kid) == 0)
            return c;
    }
    fail_msg("no card signed by %s", kid);
    return NULL;
}

/* A copy of s (free() it) with its first occurrence of from replaced by to.
 * Fails the test when from is not in s. */
static inline char *replace_once(const char *s, const char *from, const char *to)
{
    const char *at = strstr(s, from);
    if (at == NULL)
        fail_msg("\"%s\" not in the text", from);
    size_t n = strlen(s) - strlen(from) + strlen(to);
    char *out = malloc(n + 1);
    assert_non_null(out);
    size_t head = (size_t)(at - s);
    memcpy(out, s, head);
    strcpy(out + head, to);
    strcat(out, at + strlen(from));
    return out;
}

#endif
