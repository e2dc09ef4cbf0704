/* test_tokenizer — the BERT WordPiece tokenizer on the edge cases of
 * embed.md §4.3, with a toy vocabulary (tests/data/toy_vocab.txt, ids =
 * line numbers from 0). The expected ids were checked once against Hugging
 * Face tokenizers 0.23.3 built on the same vocabulary (WordPiece +
 * BertNormalizer + BertPreTokenizer + [CLS] $A [SEP]). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <ruvector/error.h>

#include "../tokenizer.h"
#include "../vocab.h"

/* toy_vocab.txt ids */
enum { PAD, UNK, CLS, SEP, MASK, HELLO, WORLD, CAFE, NAIVE, I, DON, APOS, T, RSQUO, DOLLAR, FIVE,
       CONT_0, DASH, UN, CONT_AFF, CONT_ABLE, TOU, KYO, X, OMICRON, CONT_DELTA, CONT_OMICRON,
       CONT_SIGMA, E, CONT_E, A, B, C, D, F, G, LBRACKET, RBRACKET, MASK_WORD, X_ORDERED,
       X_UNORDERED, PERIOD, COMMA, TOY_SIZE };

static char *toy_text;
static size_t toy_len;

static int setup_all(void **state)
{
    (void)state;
    const char *src = getenv("RUV_TEST_SRCDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/plugins/embed-onnx/tests/data/toy_vocab.txt", src ? src : "..");
    return ruv__tok_read_file(path, &toy_text, &toy_len) == RUV_OK ? 0 : -1;
}

static int teardown_all(void **state)
{
    (void)state;
    free(toy_text);
    return 0;
}

static struct ruv__tok *toy(size_t max_length, unsigned flags)
{
    struct ruv__tok_opts o = {max_length, flags};
    struct ruv__tok *tok = NULL;
    int st = ruv__tok_new_vocab(toy_text, toy_len, &o, &tok);
    if (st != RUV_OK)
        fail_msg("toy vocab: %s", ruv__detail_get());
    return tok;
}

/* Encodes len bytes of s and compares with the expected ids (ending at -1). */
static void expect_ids_len(struct ruv__tok *tok, const char *s, size_t len, const int64_t *want)
{
    int64_t got[512];
    size_t n = 0, nwant = 0;
    while (want[nwant] >= 0)
        nwant++;
    int st = ruv__tok_encode(tok, s, len, got, 512, &n);
    if (st != RUV_OK)
        fail_msg("'%s': status %d: %s", s, st, ruv__detail_get());
    if (n != nwant || memcmp(got, want, n * sizeof *got) != 0) {
        char buf[1024];
        size_t k = 0;
        for (size_t i = 0; i < n && k < sizeof buf - 24; i++)
            k += (size_t)snprintf(buf + k, sizeof buf - k, " %lld", (long long)got[i]);
        buf[k] = '\0';
        fail_msg("'%s': got%s (%zu ids, want %zu)", s, buf, n, nwant);
    }
}

#define EXPECT(tok, s, ...)                                                                   \
    do {                                                                                      \
        static const int64_t want_[] = {__VA_ARGS__, -1};                                     \
        expect_ids_len(tok, s, sizeof(s) - 1, want_);                                         \
    } while (0)

static void test_added_tokens(void **state) /* §4.3.1 */
{
    (void)state;
    struct ruv__tok *tok = toy(0, 0);
    EXPECT(tok, "hello[MASK]world", CLS, HELLO, MASK, WORLD, SEP);
    EXPECT(tok, "[mask]", CLS, LBRACKET, MASK_WORD, RBRACKET, SEP); /* raw text only: case matters */
    ruv__tok_free(tok);
    tok = toy(0, RUV__TOK_SPLIT_SPECIAL);
    EXPECT(tok, "hello[MASK]world", CLS, HELLO, LBRACKET, MASK_WORD, RBRACKET, WORLD, SEP);
    ruv__tok_free(tok);
}

static void test_text_normalization(void **state) /* §4.3.2-6 */
{
    (void)state;
    struct ruv__tok *tok = toy(0, 0);
    EXPECT(tok, "Caf\xc3\xa9  na\xc3\xafve", CLS, CAFE, NAIVE, SEP);
    EXPECT(tok, "\xc4\xb0", CLS, I, SEP);                               /* İ -> i */
    EXPECT(tok, "hello\xe2\x80\x8bworld", CLS, UNK, SEP);               /* U+200B joins */
    EXPECT(tok, "hello\xef\xbb\xbfworld", CLS, UNK, SEP);               /* U+FEFF */
    EXPECT(tok, "hello\xc2\xad" "world", CLS, UNK, SEP);                /* U+00AD */
    EXPECT(tok, "a\xc2\xa0" "b\xe3\x80\x80" "c\xe2\x80\xa8" "d\te\rf\ng", CLS, A, B, C, D, E, F, G, SEP);
    EXPECT(tok, "\xef\xbd\x88\xef\xbd\x85\xef\xbd\x8c\xef\xbd\x8c\xef\xbd\x8f", CLS, UNK, SEP); /* no NFKC */
    EXPECT(tok, "\xce\x9f\xce\x94\xce\x9f\xce\xa3", CLS, OMICRON, CONT_DELTA, CONT_OMICRON, CONT_SIGMA,
           SEP); /* ΟΔΟΣ: no final sigma */
    EXPECT(tok, "\0hello\xef\xbf\xbd", CLS, HELLO, SEP);
    EXPECT(tok, "Hello, World.", CLS, HELLO, COMMA, WORLD, PERIOD, SEP);
    ruv__tok_free(tok);
}

static void test_splitting(void **state) /* §4.3.7-12 */
{
    (void)state;
    struct ruv__tok *tok = toy(0, 0);
    EXPECT(tok, "\xe6\x9d\xb1\xe4\xba\xac", CLS, TOU, KYO, SEP);             /* 東京: per character */
    EXPECT(tok, "\xe6\x9d\xb1\xe4\xba\xac" "x", CLS, TOU, KYO, X, SEP);
    EXPECT(tok, "\xe3\x81\xb2\xe3\x82\x89\xe3\x81\x8c\xe3\x81\xaa", CLS, UNK, SEP); /* kana: one word */
    EXPECT(tok, "\xed\x95\x9c\xea\xb5\xad", CLS, UNK, SEP);                  /* Hangul: one word */
    EXPECT(tok, "$50-5", CLS, DOLLAR, FIVE, CONT_0, DASH, FIVE, SEP);
    EXPECT(tok, "don't", CLS, DON, APOS, T, SEP);
    EXPECT(tok, "don\xe2\x80\x99t", CLS, DON, RSQUO, T, SEP);
    EXPECT(tok, "helloworld", CLS, UNK, SEP);      /* never hello + [UNK] */
    EXPECT(tok, "unaffable", CLS, UN, CONT_AFF, CONT_ABLE, SEP);
    ruv__tok_free(tok);
}

static void expect_e_run(struct ruv__tok *tok, const char *unit, size_t units, const char *tail,
                         size_t tails, size_t want_pieces)
{
    char s[1024];
    size_t len = 0;
    for (size_t i = 0; i < units; i++)
        len += (size_t)sprintf(s + len, "%s", unit);
    for (size_t i = 0; i < tails; i++)
        len += (size_t)sprintf(s + len, "%s", tail);
    int64_t want[128];
    size_t k = 0;
    want[k++] = CLS;
    if (want_pieces == 0) {
        want[k++] = UNK;
    } else {
        want[k++] = E;
        for (size_t i = 1; i < want_pieces; i++)
            want[k++] = CONT_E;
    }
    want[k++] = SEP;
    want[k] = -1;
    expect_ids_len(tok, s, len, want);
}

static void test_word_limit(void **state) /* §4.3.10: code points after normalization */
{
    (void)state;
    struct ruv__tok *tok = toy(0, 0);
    expect_e_run(tok, "e", 100, "", 0, 100);
    expect_e_run(tok, "e", 101, "", 0, 0);
    expect_e_run(tok, "\xc3\xa9", 100, "", 0, 100);  /* 200 bytes, 100 characters */
    expect_e_run(tok, "\xc3\xa9", 101, "", 0, 0);
    expect_e_run(tok, "e", 50, "\xcc\x81", 60, 50);   /* 60 combining accents vanish first */
    ruv__tok_free(tok);
}

static void test_canonical_order(void **state) /* NFD reorders non-starters that survive */
{
    (void)state;
    struct ruv__tok *tok = toy(0, 0);
    EXPECT(tok, "x\xf0\x9d\x85\xad\xf0\x9d\x85\xa5", CLS, X_ORDERED, SEP);   /* 226 216 -> 216 226 */
    EXPECT(tok, "x\xf0\x9d\x85\xa5\xf0\x9d\x85\xad", CLS, X_ORDERED, SEP);
    /* U+034F is dropped but is a starter: nothing moves across it */
    EXPECT(tok, "x\xf0\x9d\x85\xad\xcd\x8f\xf0\x9d\x85\xa5", CLS, X_UNORDERED, SEP);
    ruv__tok_free(tok);
}

static void test_invalid_utf8(void **state) /* §4.3.13 */
{
    (void)state;
    struct ruv__tok *tok = toy(0, 0);
    int64_t ids[16];
    size_t n = 99;
    assert_int_equal(ruv__tok_encode(tok, "hello\xff world", 12, ids, 16, &n), RUV_E_INVAL);
    assert_int_equal(n, 0);
    assert_non_null(strstr(ruv__detail_get(), "offset 5"));
    static const char *const bad[] = {"\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                                      "\xe2\x82", "\x80"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(ruv__tok_encode(tok, bad[i], strlen(bad[i]), ids, 16, &n), RUV_E_INVAL);
    /* past the truncation point too */
    ruv__tok_free(tok);
    tok = toy(3, 0);
    assert_int_equal(ruv__tok_encode(tok, "hello world \xff", 13, ids, 16, &n), RUV_E_INVAL);
    ruv__tok_free(tok);

    tok = toy(0, RUV__TOK_LOSSY_UTF8);
    EXPECT(tok, "hello \xff world", CLS, HELLO, WORLD, SEP);
    EXPECT(tok, "hello\xffworld", CLS, UNK, SEP);           /* U+FFFD is deleted: one word */
    EXPECT(tok, "\xe2\x82hello", CLS, HELLO, SEP);          /* one U+FFFD for E2 82, 'h' kept */
    EXPECT(tok, "\xf0\x9f\x98hello", CLS, HELLO, SEP);
    EXPECT(tok, "\xed\xa0\x80hello", CLS, HELLO, SEP);      /* a surrogate: three U+FFFD */
    ruv__tok_free(tok);
}

static void test_boundaries(void **state) /* §4.3.14-15 */
{
    (void)state;
    struct ruv__tok *tok = toy(0, 0);
    EXPECT(tok, "", CLS, SEP);
    EXPECT(tok, " \t\n", CLS, SEP);
    int64_t ids[4];
    size_t n = 0;
    assert_int_equal(ruv__tok_encode(tok, NULL, 0, ids, 4, &n), RUV_OK);
    assert_int_equal(n, 2);
    /* too small a buffer: the size needed comes back, the prefix is written */
    assert_int_equal(ruv__tok_encode(tok, "hello world", 11, ids, 2, &n), RUV_E_INVAL);
    assert_int_equal(n, 4);
    assert_int_equal(ids[0], CLS);
    assert_int_equal(ids[1], HELLO);
    assert_int_equal(ruv__tok_encode(tok, "hello", 5, NULL, 0, &n), RUV_E_INVAL);
    assert_int_equal(n, 3);
    assert_int_equal(ruv__tok_encode(NULL, "x", 1, ids, 4, &n), RUV_E_INVAL);
    ruv__tok_free(tok);

    tok = toy(4, 0);
    EXPECT(tok, "hello world hello", CLS, HELLO, WORLD, SEP);
    EXPECT(tok, "unaffable", CLS, UN, CONT_AFF, SEP);  /* truncation splits the word */
    EXPECT(tok, "hello[MASK]world", CLS, HELLO, MASK, SEP);
    ruv__tok_free(tok);
    tok = toy(3, 0);
    EXPECT(tok, "hello world", CLS, HELLO, SEP);
    ruv__tok_free(tok);
    struct ruv__tok_opts o = {2, 0}; /* no room for text */
    assert_int_equal(ruv__tok_new_vocab(toy_text, toy_len, &o, &tok), RUV_E_INVAL);
    assert_null(tok);
    assert_non_null(strstr(ruv__detail_get(), "max_length 2"));
}

static void test_cased(void **state)
{
    (void)state;
    struct ruv__tok *tok = toy(0, RUV__TOK_CASED);
    EXPECT(tok, "hello Hello caf\xc3\xa9", CLS, HELLO, UNK, UNK, SEP);
    ruv__tok_free(tok);
}

/* §4.3.17: with tokenizer.json the ids come from model.vocab, not from order. */
static char *toy_json(const char *normalizer_type, int normalized_added, int with_template)
{
    json_t *vocab = json_object();
    size_t line = 0;
    for (const char *p = toy_text; p < toy_text + toy_len; line++) {
        const char *nl = memchr(p, '\n', (size_t)(toy_text + toy_len - p));
        json_object_setn_new(vocab, p, (size_t)(nl - p), json_integer((json_int_t)(1000 + 2 * line)));
        p = nl + 1;
    }
    json_t *added = json_array();
    static const char *const sp[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    for (int i = 0; i < 5; i++)
        json_array_append_new(added, json_pack("{s:i, s:s, s:b, s:b, s:b, s:b, s:b}", "id", 1000 + 2 * i,
                                               "content", sp[i], "special", 1, "normalized",
                                               i == 4 && normalized_added, "lstrip", 0, "rstrip", 0,
                                               "single_word", 0));
    json_t *post = with_template
        ? json_pack("{s:s, s:[{s:{s:s, s:i}}, {s:{s:s, s:i}}, {s:{s:s, s:i}}], s:{s:{s:s, s:[i], s:[s]}, "
                    "s:{s:s, s:[i], s:[s]}}}",
                    "type", "TemplateProcessing", "single", "SpecialToken", "id", "[CLS]", "type_id", 0,
                    "Sequence", "id", "A", "type_id", 0, "SpecialToken", "id", "[SEP]", "type_id", 0,
                    "special_tokens", "[CLS]", "id", "[CLS]", "ids", 1004, "tokens", "[CLS]", "[SEP]", "id",
                    "[SEP]", "ids", 1006, "tokens", "[SEP]")
        : json_pack("{s:s, s:[s, i], s:[s, i]}", "type", "BertProcessing", "sep", "[SEP]", 1006, "cls",
                    "[CLS]", 1004);
    json_t *root = json_pack(
        "{s:s, s:o, s:{s:s, s:b, s:b, s:n, s:b}, s:{s:s}, s:{s:s, s:s, s:s, s:i, s:o}, s:o, s:n}",
        "version", "1.0", "added_tokens", added, "normalizer", "type", normalizer_type, "clean_text", 1,
        "handle_chinese_chars", 1, "strip_accents", "lowercase", 1, "pre_tokenizer", "type",
        "BertPreTokenizer", "model", "type", "WordPiece", "unk_token", "[UNK]",
        "continuing_subword_prefix", "##", "max_input_chars_per_word", 100, "vocab", vocab,
        "post_processor", post, "truncation");
    assert_non_null(root);
    char *s = json_dumps(root, 0);
    json_decref(root);
    return s;
}

static void test_tokenizer_json(void **state)
{
    (void)state;
    for (int tmpl = 0; tmpl < 2; tmpl++) {
        char *js = toy_json("BertNormalizer", 0, tmpl);
        struct ruv__tok *tok = NULL;
        assert_int_equal(ruv__tok_new_json(js, strlen(js), NULL, &tok), RUV_OK);
        EXPECT(tok, "hello[MASK]world", 1004, 1000 + 2 * HELLO, 1008, 1000 + 2 * WORLD, 1006);
        EXPECT(tok, "unaffable", 1004, 1000 + 2 * UN, 1000 + 2 * CONT_AFF, 1000 + 2 * CONT_ABLE, 1006);
        assert_int_equal(ruv__tok_vocab_size(tok), TOY_SIZE);
        assert_int_equal(ruv__tok_unk_id(tok), 1002);
        ruv__tok_free(tok);
        free(js);
    }
    char *js = toy_json("NFKC", 0, 1);
    struct ruv__tok *tok = NULL;
    assert_int_equal(ruv__tok_new_json(js, strlen(js), NULL, &tok), RUV_E_INVAL);
    assert_null(tok);
    assert_non_null(strstr(ruv__detail_get(), "'NFKC'"));
    free(js);
    js = toy_json("BertNormalizer", 1, 1);
    assert_int_equal(ruv__tok_new_json(js, strlen(js), NULL, &tok), RUV_E_INVAL);
    assert_non_null(strstr(ruv__detail_get(), "[MASK]"));
    free(js);
    static const char dup[] = "{\"model\": 1, \"model\": 2}";
    assert_int_equal(ruv__tok_new_json(dup, sizeof dup - 1, NULL, &tok), RUV_E_INVAL);
    assert_non_null(strstr(ruv__detail_get(), "line 1"));
    static const char not_wp[] = "{\"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"}, \"model\": "
                                 "{\"type\": \"BPE\"}}";
    assert_int_equal(ruv__tok_new_json(not_wp, sizeof not_wp - 1, NULL, &tok), RUV_E_INVAL);
    assert_non_null(strstr(ruv__detail_get(), "'BPE'"));
}

/* The same toy vocabulary as HF itself saved it (tests/data/toy_tokenizer.json):
 * the file loader, and the ids equal to vocab.txt's. */
static void test_toy_json_file(void **state)
{
    (void)state;
    const char *src = getenv("RUV_TEST_SRCDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/plugins/embed-onnx/tests/data/toy_tokenizer.json", src ? src : "..");
    struct ruv__tok_opts o = {4, 0};
    struct ruv__tok *tok = NULL;
    assert_int_equal(ruv__tok_open_json(path, &o, &tok), RUV_OK);
    EXPECT(tok, "unaffable", CLS, UN, CONT_AFF, SEP);
    EXPECT(tok, "\xe6\x9d\xb1\xe4\xba\xac" "x", CLS, TOU, KYO, SEP);
    assert_int_equal(ruv__tok_vocab_size(tok), TOY_SIZE);
    ruv__tok_free(tok);
}

static void test_vocab_errors(void **state)
{
    (void)state;
    struct ruv__tok *tok = (struct ruv__tok *)1;
    static const char dup[] = "[UNK]\n[CLS]\n[SEP]\nhello\nhello\n";
    assert_int_equal(ruv__tok_new_vocab(dup, sizeof dup - 1, NULL, &tok), RUV_E_INVAL);
    assert_null(tok);
    assert_non_null(strstr(ruv__detail_get(), "line 5"));
    static const char no_unk[] = "[CLS]\n[SEP]\nhello\n";
    assert_int_equal(ruv__tok_new_vocab(no_unk, sizeof no_unk - 1, NULL, &tok), RUV_E_INVAL);
    assert_non_null(strstr(ruv__detail_get(), "[UNK]"));
    static const char bad_utf8[] = "[UNK]\n[CLS]\n[SEP]\nhel\xfflo\n";
    assert_int_equal(ruv__tok_new_vocab(bad_utf8, sizeof bad_utf8 - 1, NULL, &tok), RUV_E_INVAL);
    assert_non_null(strstr(ruv__detail_get(), "line 4"));
    assert_int_equal(ruv__tok_new_vocab("", 0, NULL, &tok), RUV_E_INVAL);
    assert_int_equal(ruv__tok_open_vocab("/nonexistent/vocab.txt", NULL, &tok), RUV_E_IO);
    assert_non_null(strstr(ruv__detail_get(), "/nonexistent/vocab.txt"));
    assert_int_equal(ruv__tok_open_json("/nonexistent/tokenizer.json", NULL, &tok), RUV_E_IO);
    /* CRLF line ends: the id is still the line number */
    static const char crlf[] = "[UNK]\r\n[CLS]\r\n[SEP]\r\nhello\r\n";
    assert_int_equal(ruv__tok_new_vocab(crlf, sizeof crlf - 1, NULL, &tok), RUV_OK);
    EXPECT(tok, "Hello", 1, 3, 2);
    ruv__tok_free(tok);
}

static void test_hash_table(void **state) /* §4.3.18 */
{
    (void)state;
    struct ruv__vocab *v;
    assert_int_equal(ruv__vocab_new("##", &v), RUV_OK);
    char key[32];
    for (uint32_t i = 0; i < 100000; i++) {
        int len = snprintf(key, sizeof key, i % 3 ? "w%u" : "##p%u", i);
        assert_int_equal(ruv__vocab_add(v, key, (size_t)len, i), RUV_OK);
    }
    assert_int_equal(ruv__vocab_size(v), 100000);
    for (uint32_t i = 0; i < 100000; i++) {
        int len = snprintf(key, sizeof key, i % 3 ? "w%u" : "##p%u", i);
        assert_int_equal(ruv__vocab_find(v, key, (size_t)len, 0), i);
        if (i % 3 == 0)
            assert_int_equal(ruv__vocab_find(v, key + 2, (size_t)len - 2, 1), i);
        else
            assert_int_equal(ruv__vocab_find(v, key, (size_t)len, 1), -1);
    }
    assert_int_equal(ruv__vocab_find(v, "w0", 2, 0), -1);
    assert_int_equal(ruv__vocab_add(v, "w1", 2, 100001), RUV_E_INVAL);     /* token twice */
    assert_int_equal(ruv__vocab_add(v, "new", 3, 5), RUV_E_INVAL);         /* id twice */
    assert_int_equal(ruv__vocab_add(v, "big", 3, RUV__VOCAB_MAX_ID), RUV_E_INVAL);
    assert_int_equal(ruv__vocab_max_len(v, 1), strlen("p99999"));
    ruv__vocab_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_added_tokens),   cmocka_unit_test(test_text_normalization),
        cmocka_unit_test(test_splitting),      cmocka_unit_test(test_word_limit),
        cmocka_unit_test(test_canonical_order), cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_boundaries),     cmocka_unit_test(test_cased),
        cmocka_unit_test(test_tokenizer_json), cmocka_unit_test(test_toy_json_file),
        cmocka_unit_test(test_vocab_errors),
        cmocka_unit_test(test_hash_table),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
