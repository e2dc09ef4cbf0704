/* tokenizer.c — the encode driver: added tokens, normalizer, pre-tokenizer
 * and WordPiece in one pass over the text, then the template and truncation.
 * One block is allocated per call, for the word being built (4 KiB: too big
 * to add to the stack that WordPiece already uses). */
#include "tok_internal.h"
#include "utf8.h"

#include <errno.h>
#include <ruvector/error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ruv__tok_alloc(const struct ruv__tok_opts *opts, const char *prefix, struct ruv__tok **out)
{
    *out = NULL;
    struct ruv__tok *tok = calloc(1, sizeof *tok);
    if (!tok)
        return ruv__detail_set(RUV_E_NOMEM, "out of memory for the tokenizer");
    int st = ruv__vocab_new(prefix, &tok->vocab);
    if (st != RUV_OK) {
        free(tok);
        return st;
    }
    tok->norm = (struct ruv__norm_cfg){true, true, true, true};
    tok->wp.vocab = tok->vocab;
    tok->wp.unk_id = -1;
    tok->wp.max_word_chars = 100;
    if (opts) {
        tok->max_length = opts->max_length;
        tok->flags = opts->flags;
    }
    *out = tok;
    return RUV_OK;
}

void ruv__tok_free(struct ruv__tok *tok)
{
    if (!tok)
        return;
    for (size_t i = 0; i < tok->nadded; i++)
        free(tok->added[i].content);
    free(tok->added);
    ruv__vocab_free(tok->vocab);
    free(tok);
}

int ruv__tok_add_added(struct ruv__tok *tok, const char *content, size_t len, int64_t id,
                       bool special)
{
    if (len == 0)
        return ruv__detail_set(RUV_E_INVAL, "an added token is empty");
    struct ruv__added_token *a = realloc(tok->added, (tok->nadded + 1) * sizeof *a);
    if (!a)
        return ruv__detail_set(RUV_E_NOMEM, "out of memory for added tokens");
    tok->added = a;
    char *copy = malloc(len);
    if (!copy)
        return ruv__detail_set(RUV_E_NOMEM, "out of memory for added tokens");
    memcpy(copy, content, len);
    tok->added[tok->nadded++] = (struct ruv__added_token){copy, len, id, special};
    unsigned char b = (unsigned char)content[0];
    tok->added_first[b / 8] |= (uint8_t)(1u << (b % 8));
    return RUV_OK;
}

int ruv__tok_finish(struct ruv__tok *tok)
{
    if (tok->wp.unk_id < 0)
        return ruv__detail_set(RUV_E_INVAL, "the unknown token is not in the vocabulary");
    if (tok->wp.max_word_chars > RUV__WORD_MAX)
        return ruv__detail_set(RUV_E_INVAL, "max_input_chars_per_word %zu is above %d",
                                  tok->wp.max_word_chars, RUV__WORD_MAX);
    size_t specials = tok->nprefix + tok->nsuffix;
    if (tok->max_length && tok->max_length <= specials)
        return ruv__detail_set(RUV_E_INVAL,
                                  "max_length %zu leaves no room for text next to %zu special tokens",
                                  tok->max_length, specials);
    for (uint32_t c = 0; c < 128; c++) {
        uint32_t outs[RUV__NORM_MAX_OUT];
        bool barrier;
        size_t k = ruv__norm_char(&tok->norm, c, outs, &barrier);
        tok->ascii_out[c] = k ? (int32_t)outs[0] : -1; /* ASCII normalizes to at most one */
        tok->ascii_cls[c] = k ? (uint8_t)ruv__pt_classify(outs[0]) : 0;
    }
    return RUV_OK;
}

int ruv__tok_read_file(const char *path, char **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    if (!path)
        return ruv__detail_set(RUV_E_INVAL, "no tokenizer file given");
    FILE *f = fopen(path, "rb");
    if (!f)
        return ruv__detail_set(RUV_E_IO, "%s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    while (b) {
        n += fread(b + n, 1, cap - n - 1, f);
        if (n < cap - 1)
            break;
        char *nb = realloc(b, cap * 2);
        if (!nb) {
            free(b);
            b = NULL;
            break;
        }
        b = nb;
        cap *= 2;
    }
    int err = ferror(f);
    fclose(f);
    if (!b)
        return ruv__detail_set(RUV_E_NOMEM, "%s: out of memory", path);
    if (err) {
        free(b);
        return ruv__detail_set(RUV_E_IO, "%s: read error", path);
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return RUV_OK;
}

int ruv__tok_open_file(const char *path, const char *what, ruv__tok_parse_fn parse,
                       const struct ruv__tok_opts *opts, struct ruv__tok **out)
{
    if (!out)
        return ruv__detail_set(RUV_E_INVAL, "%s: NULL argument", what);
    *out = NULL;
    char *buf;
    size_t len;
    int st = ruv__tok_read_file(path, &buf, &len);
    if (st != RUV_OK)
        return st;
    st = parse(buf, len, opts, out);
    free(buf);
    if (st != RUV_OK)
        st = ruv__detail_prefix(st, "%s", path);
    return st;
}

int ruv__tok_open(const char *path, const struct ruv__tok_opts *opts, struct ruv__tok **out)
{
    size_t n = path ? strlen(path) : 0;
    if (n >= 5 && strcmp(path + n - 5, ".json") == 0)
        return ruv__tok_open_json(path, opts, out);
    return ruv__tok_open_vocab(path, opts, out);
}

size_t ruv__tok_vocab_size(const struct ruv__tok *tok)
{
    return ruv__vocab_size(tok->vocab);
}

int64_t ruv__tok_unk_id(const struct ruv__tok *tok)
{
    return tok->wp.unk_id;
}

/* ---- encoding ---- */

struct sink {
    int64_t *ids;
    size_t cap, n;          /* ids needed so far */
    size_t content, limit;  /* ids of the text itself, and the most it may have */
};

static void put(struct sink *s, int64_t id)
{
    if (s->n < s->cap)
        s->ids[s->n] = id;
    s->n++;
}

struct state {
    const struct ruv__tok *tok;
    struct sink sink;
    struct ruv__word word;
    bool full; /* truncation reached: the rest of the text is only validated */
};

static void put_content(struct state *st, int64_t id)
{
    if (st->sink.content == st->sink.limit) {
        st->full = true;
        return;
    }
    st->sink.content++;
    put(&st->sink, id);
}

static void flush_word(struct state *st)
{
    if (st->word.n == 0)
        return;
    int64_t pieces[RUV__WORD_MAX];
    size_t k = ruv__wordpiece_word(&st->tok->wp, &st->word, pieces);
    for (size_t i = 0; i < k && !st->full; i++)
        put_content(st, pieces[i]);
    ruv__word_reset(&st->word);
}

static void feed(struct state *st, uint32_t cp, enum ruv__pt_class cls)
{
    if (cls == RUV__PT_WORD) {
        ruv__word_push(&st->word, cp, st->tok->norm.strip_accents);
        return;
    }
    flush_word(st);
    if (cls == RUV__PT_PUNCT) {
        ruv__word_push(&st->word, cp, false);
        flush_word(st);
    }
}

/* Longest added token at text[pos], or NULL. */
static const struct ruv__added_token *match_added(const struct ruv__tok *tok, const char *text,
                                                  size_t len, size_t pos)
{
    const struct ruv__added_token *best = NULL;
    for (size_t i = 0; i < tok->nadded; i++) {
        const struct ruv__added_token *a = &tok->added[i];
        if (a->special && (tok->flags & RUV__TOK_SPLIT_SPECIAL))
            continue;
        if (a->len <= len - pos && memcmp(text + pos, a->content, a->len) == 0 &&
            (!best || a->len > best->len))
            best = a;
    }
    return best;
}

static int validate_rest(const unsigned char *s, size_t len, size_t pos)
{
    while (pos < len) {
        if (s[pos] < 0x80) {
            pos++;
            continue;
        }
        uint32_t cp;
        size_t bad, k = ruv__utf8_decode(s + pos, len - pos, &cp, &bad);
        if (!k)
            return ruv__detail_set(RUV_E_INVAL, "text is not UTF-8: invalid byte 0x%02x at offset %zu",
                                      s[pos], pos);
        pos += k;
    }
    return RUV_OK;
}

int ruv__tok_encode(const struct ruv__tok *tok, const char *text, size_t len, int64_t *ids,
                    size_t cap, size_t *n)
{
    if (n)
        *n = 0;
    if (!tok || !n || (!text && len) || (!ids && cap))
        return ruv__detail_set(RUV_E_INVAL, "tokenize: NULL argument");
    struct state *st = malloc(sizeof *st); /* the word buffer is too big for small stacks */
    if (!st)
        return ruv__detail_set(RUV_E_NOMEM, "tokenize: out of memory");
    st->tok = tok;
    st->sink = (struct sink){ids, cap, 0, 0, SIZE_MAX};
    if (tok->max_length)
        st->sink.limit = tok->max_length - tok->nprefix - tok->nsuffix;
    st->full = false;
    ruv__word_reset(&st->word);
    for (size_t i = 0; i < tok->nprefix; i++)
        put(&st->sink, tok->prefix_ids[i]);

    const unsigned char *s = (const unsigned char *)text;
    bool lossy = tok->flags & RUV__TOK_LOSSY_UTF8;
    size_t pos = 0;
    int status = RUV_OK;
    while (pos < len && !st->full) {
        unsigned char b = s[pos];
        if ((tok->added_first[b / 8] >> (b % 8)) & 1) {
            const struct ruv__added_token *a = match_added(tok, text, len, pos);
            if (a) {
                flush_word(st);
                put_content(st, a->id);
                pos += a->len;
                continue;
            }
        }
        if (b < 0x80) {
            pos++;
            if (tok->ascii_out[b] >= 0)
                feed(st, (uint32_t)tok->ascii_out[b], (enum ruv__pt_class)tok->ascii_cls[b]);
            continue;
        }
        uint32_t cp;
        size_t bad, k = ruv__utf8_decode(s + pos, len - pos, &cp, &bad);
        if (!k) {
            if (!lossy) {
                status = ruv__detail_set(RUV_E_INVAL,
                                            "text is not UTF-8: invalid byte 0x%02x at offset %zu",
                                            b, pos);
                break;
            }
            cp = 0xFFFD;
            k = bad;
        }
        pos += k;
        uint32_t outs[RUV__NORM_MAX_OUT];
        bool barrier;
        size_t m = ruv__norm_char(&tok->norm, cp, outs, &barrier);
        if (barrier)
            ruv__word_barrier(&st->word);
        for (size_t i = 0; i < m; i++)
            feed(st, outs[i], ruv__pt_classify(outs[i]));
    }
    if (status == RUV_OK && st->full && !lossy)
        status = validate_rest(s, len, pos);
    if (status == RUV_OK) {
        flush_word(st);
        for (size_t i = 0; i < tok->nsuffix; i++)
            put(&st->sink, tok->suffix_ids[i]);
        *n = st->sink.n;
        if (st->sink.n > cap)
            status = ruv__detail_set(RUV_E_INVAL, "tokenize: %zu ids do not fit in %zu", st->sink.n,
                                        cap);
    }
    free(st);
    return status;
}
