/* libFuzzer target: any bytes through ruv__tok_encode.
 * The first byte picks the options (lossy UTF-8, specials as text, a
 * max_length); the rest is the text. The vocabulary is the toy one, or
 * RUV_TOK_FUZZ_VOCAB (e.g. the real all-MiniLM-L6-v2 vocab.txt).
 * Checked beyond "no crash": the status is OK or INVAL; on OK the ids fit
 * the vocabulary, start with [CLS] and end with [SEP], respect max_length,
 * come out the same twice, the same in lossy mode, and a short buffer gets
 * INVAL with the same count and the same prefix. */
#include "../tokenizer.h"

#include <ruvector/error.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef RUV_TOK_FUZZ_DEFAULT_VOCAB
#define RUV_TOK_FUZZ_DEFAULT_VOCAB "plugins/embed-onnx/tests/data/toy_vocab.txt"
#endif

/* Option byte & 3 picks the max_length, & 4 specials as text; the lossy
 * twins differ only by RUV__TOK_LOSSY_UTF8. */
static const size_t lengths[4] = {0, 3, 8, 256};
static struct ruv__tok *toks[8], *lossy[8];
static size_t vocab_size;

static void load(void)
{
    const char *path = getenv("RUV_TOK_FUZZ_VOCAB");
    if (!path)
        path = RUV_TOK_FUZZ_DEFAULT_VOCAB;
    for (unsigned i = 0; i < 8; i++) {
        struct ruv__tok_opts o = {lengths[i & 3], (i & 4) ? RUV__TOK_SPLIT_SPECIAL : 0u};
        struct ruv__tok_opts ol = {o.max_length, o.flags | RUV__TOK_LOSSY_UTF8};
        if (ruv__tok_open_vocab(path, &o, &toks[i]) != RUV_OK ||
            ruv__tok_open_vocab(path, &ol, &lossy[i]) != RUV_OK) {
            fprintf(stderr, "fuzz_tokenize: %s\n", ruv__detail_get());
            abort(); /* a harness problem, not a finding */
        }
    }
    vocab_size = ruv__tok_vocab_size(toks[0]);
}

static int64_t *encode(const struct ruv__tok *tok, const char *s, size_t len, size_t *n, int *st)
{
    size_t cap = len + 8; /* a byte never yields more than 3 ids plus the template */
    int64_t *ids = malloc(cap * sizeof *ids);
    if (!ids)
        abort();
    *st = ruv__tok_encode(tok, s, len, ids, cap, n);
    return ids;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!toks[0])
        load();
    if (size == 0)
        return 0;
    unsigned sel = data[0];
    const struct ruv__tok *tok = toks[sel & 7];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    size_t max_length = lengths[sel & 3];

    size_t n = 0;
    int st;
    int64_t *ids = encode(tok, text, len, &n, &st);
    if (st != RUV_OK && st != RUV_E_INVAL)
        abort();
    if (st == RUV_OK) {
        if (n < 2 || (max_length && n > max_length))
            abort();
        for (size_t i = 0; i < n; i++)
            if (ids[i] < 0 || (size_t)ids[i] >= vocab_size)
                abort();
        size_t n2 = 0;
        int st2;
        int64_t *again = encode(tok, text, len, &n2, &st2);
        if (st2 != RUV_OK || n2 != n || memcmp(again, ids, n * sizeof *ids) != 0)
            abort();
        free(again);
        if (n > 2) { /* a short buffer: INVAL, the same count, the same prefix */
            int64_t small[2];
            size_t n3 = 0;
            if (ruv__tok_encode(tok, text, len, small, 2, &n3) != RUV_E_INVAL || n3 != n ||
                memcmp(small, ids, sizeof small) != 0)
                abort();
        }
    }
    /* Lossy mode never fails, and agrees with strict mode on valid UTF-8. */
    size_t nl = 0;
    int stl;
    int64_t *lids = encode(lossy[sel & 7], text, len, &nl, &stl);
    if (stl != RUV_OK)
        abort();
    if (st == RUV_OK && (nl != n || memcmp(lids, ids, n * sizeof *ids) != 0))
        abort();
    free(lids);
    free(ids);
    return 0;
}
