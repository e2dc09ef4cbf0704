/* libFuzzer target: the two tokenizer loaders on any bytes.
 * The first byte picks vocab.txt (even) or tokenizer.json (odd) and the
 * options; the rest is the file. A file that loads is then used: a few
 * fixed texts and the input itself are tokenized, and every id must be one
 * the file defined (for vocab.txt: below the line count). */
#include "../tokenizer.h"

#include <ruvector/error.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned sel = data[0];
    const char *buf = (const char *)data + 1;
    size_t len = size - 1;
    struct ruv__tok_opts o = {(sel & 2) ? 5u : 0u, (sel & 4) ? RUV__TOK_SPLIT_SPECIAL : 0u};
    if (sel & 8)
        o.flags |= RUV__TOK_LOSSY_UTF8;
    if (sel & 16)
        o.flags |= RUV__TOK_CASED;
    struct ruv__tok *tok = (struct ruv__tok *)&o; /* must come back NULL on failure */
    int st = (sel & 1) ? ruv__tok_new_json(buf, len, &o, &tok) : ruv__tok_new_vocab(buf, len, &o, &tok);
    if (st != RUV_OK) {
        if (tok != NULL || ruv__detail_get()[0] == '\0' ||
            (st != RUV_E_INVAL && st != RUV_E_NOMEM))
            abort();
        return 0;
    }
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += buf[i] == '\n';
    static const char *const texts[] = {"", "hello world", "[CLS] x [MASK]", "Caf\xc3\xa9 \xe6\x9d\xb1",
                                        "unaffable don't $50-5"};
    int64_t ids[4096];
    for (size_t i = 0; i < sizeof texts / sizeof *texts + 1; i++) {
        const char *t = i < sizeof texts / sizeof *texts ? texts[i] : buf;
        size_t tl = i < sizeof texts / sizeof *texts ? strlen(t) : (len < 1000 ? len : 1000);
        size_t n = 0;
        st = ruv__tok_encode(tok, t, tl, ids, 4096, &n);
        if (st == RUV_OK) {
            for (size_t k = 0; k < n; k++)
                if (ids[k] < 0 || (!(sel & 1) && (size_t)ids[k] >= lines))
                    abort();
        } else if (st != RUV_E_INVAL) {
            abort();
        }
    }
    ruv__tok_free(tok);
    return 0;
}
