/* vocab_txt.c — a tokenizer from a BERT vocab.txt alone (embed.md §4.2). */
#include "tok_internal.h"
#include "utf8.h"

#include <ruvector/error.h>
#include <stdio.h>
#include <string.h>

static const char *const bert_specials[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};

static int check_utf8(const char *s, size_t len, size_t line)
{
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t bad, k = ruv__utf8_decode((const unsigned char *)s + i, len - i, &cp, &bad);
        if (!k)
            return ruv__detail_set(RUV_E_INVAL, "vocab.txt line %zu is not UTF-8 (byte %zu)", line,
                                      i + 1);
        i += k;
    }
    return RUV_OK;
}

int ruv__tok_new_vocab(const char *buf, size_t len, const struct ruv__tok_opts *opts,
                       struct ruv__tok **out)
{
    if (!out)
        return ruv__detail_set(RUV_E_INVAL, "vocab.txt: NULL argument");
    *out = NULL;
    if (!buf && len)
        return ruv__detail_set(RUV_E_INVAL, "vocab.txt: NULL argument");
    struct ruv__tok *tok;
    int st = ruv__tok_alloc(opts, "##", &tok);
    if (st != RUV_OK)
        return st;
    if (opts && (opts->flags & RUV__TOK_CASED))
        tok->norm.lowercase = tok->norm.strip_accents = false;
    size_t line = 0;
    for (size_t pos = 0; pos < len && st == RUV_OK; line++) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - buf) : len;
        size_t tlen = end - pos;
        if (nl && tlen && buf[end - 1] == '\r')
            tlen--;
        st = check_utf8(buf + pos, tlen, line + 1);
        if (st == RUV_OK && line >= RUV__VOCAB_MAX_ID)
            st = ruv__detail_set(RUV_E_INVAL, "vocab.txt has more than %u lines", RUV__VOCAB_MAX_ID);
        if (st == RUV_OK) {
            st = ruv__vocab_add(tok->vocab, buf + pos, tlen, (uint32_t)line);
            if (st != RUV_OK) {
                char where[48];
                snprintf(where, sizeof where, "vocab.txt line %zu", line + 1);
                st = ruv__detail_prefix(st, "%s", where);
            }
        }
        pos = end + 1;
    }
    if (st == RUV_OK && line == 0)
        st = ruv__detail_set(RUV_E_INVAL, "vocab.txt is empty");
    int64_t special_ids[5];
    for (size_t i = 0; i < 5 && st == RUV_OK; i++) {
        const char *name = bert_specials[i];
        special_ids[i] = ruv__vocab_find(tok->vocab, name, strlen(name), 0);
        if (special_ids[i] >= 0)
            st = ruv__tok_add_added(tok, name, strlen(name), special_ids[i], true);
        else if (i >= 1 && i <= 3)
            st = ruv__detail_set(RUV_E_INVAL, "vocab.txt has no %s token", name);
    }
    if (st == RUV_OK) {
        tok->wp.unk_id = special_ids[1];
        tok->prefix_ids[tok->nprefix++] = special_ids[2];
        tok->suffix_ids[tok->nsuffix++] = special_ids[3];
        st = ruv__tok_finish(tok);
    }
    if (st != RUV_OK) {
        ruv__tok_free(tok);
        return st;
    }
    *out = tok;
    return RUV_OK;
}

int ruv__tok_open_vocab(const char *path, const struct ruv__tok_opts *opts, struct ruv__tok **out)
{
    return ruv__tok_open_file(path, "vocab.txt", ruv__tok_new_vocab, opts, out);
}
