/* tokenizer.h — the embed_onnx plugin's BERT WordPiece tokenizer
 * (plugin-internal; embed.md §4). Same ids as Hugging Face `tokenizers` for
 * BertNormalizer + BertPreTokenizer + WordPiece + a [CLS] $A [SEP] template.
 *
 * Errors are ruv_status codes (<ruvector/error.h>); the detail of the last
 * failure on the calling thread is ruv__detail_get() (tok_error.h).
 * A tokenizer is immutable once loaded: any number of threads may encode
 * with it at once. */
#ifndef RUV_EMBED_TOKENIZER_H
#define RUV_EMBED_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "tok_error.h"

struct ruv__tok;

enum {
    /* Invalid UTF-8 becomes U+FFFD (one per maximal ill-formed subpart), which
     * clean_text then deletes; without it invalid UTF-8 is RUV_E_INVAL. */
    RUV__TOK_LOSSY_UTF8 = 1u << 0,
    /* Special added tokens ([CLS], [MASK], ...) in the text are plain text, as
     * HF's encode_special_tokens / split_special_tokens=True. */
    RUV__TOK_SPLIT_SPECIAL = 1u << 1,
    /* vocab.txt only: a cased model (tokenizer_config.json do_lower_case:
     * false): no lowercasing and no accent stripping. */
    RUV__TOK_CASED = 1u << 2
};

struct ruv__tok_opts {
    size_t max_length; /* ids per text, specials included; longer texts are cut
                          (HF truncation, right side); 0: no limit */
    unsigned flags;    /* RUV__TOK_* */
};

/* Loads a tokenizer from a BERT vocab.txt: one token per line, id = line
 * number (from 0), only the line end ("\n" or "\r\n") stripped; tokens and
 * ids unique; [UNK], [CLS] and [SEP] present. [PAD] [UNK] [CLS] [SEP] [MASK]
 * (those present) match in the text as special added tokens. opts may be
 * NULL (no truncation, no flags). On success *out is a new tokenizer the
 * caller frees with ruv__tok_free; on failure *out is NULL and the status is
 * RUV_E_INVAL (the detail names the line), RUV_E_IO or RUV_E_NOMEM. */
int ruv__tok_open_vocab(const char *path, const struct ruv__tok_opts *opts, struct ruv__tok **out);

/* Loads a tokenizer from a Hugging Face tokenizer.json: normalizer
 * BertNormalizer (or null), pre_tokenizer BertPreTokenizer, model WordPiece,
 * post_processor TemplateProcessing or BertProcessing (or null), added_tokens
 * that are not normalized and have no lstrip/rstrip/single_word. Its
 * truncation and padding sections are ignored: the length is opts->max_length
 * (sentence-transformers models set it elsewhere, embed.md §4.2). Any other
 * component type is RUV_E_INVAL naming it. Ownership and errors as
 * ruv__tok_open_vocab. */
int ruv__tok_open_json(const char *path, const struct ruv__tok_opts *opts, struct ruv__tok **out);

/* ruv__tok_open_json when path ends in ".json", else ruv__tok_open_vocab. */
int ruv__tok_open(const char *path, const struct ruv__tok_opts *opts, struct ruv__tok **out);

/* The same two loaders over len bytes in memory (borrowed for the call). */
int ruv__tok_new_vocab(const char *buf, size_t len, const struct ruv__tok_opts *opts,
                       struct ruv__tok **out);
int ruv__tok_new_json(const char *buf, size_t len, const struct ruv__tok_opts *opts,
                      struct ruv__tok **out);

/* Frees a tokenizer (NULL is a no-op). */
void ruv__tok_free(struct ruv__tok *tok);

/* Tokenizes len bytes of UTF-8 text (not NUL-terminated; NUL is a control
 * character and is deleted) into ids, the template's specials included.
 * *n is set to the number of ids the text needs; the first min(*n, cap) are
 * written to the caller's ids. Returns RUV_OK, or RUV_E_INVAL when cap < *n
 * (nothing is lost: call again with *n slots), when the text is not UTF-8
 * without RUV__TOK_LOSSY_UTF8 (the detail gives the byte offset; *n = 0),
 * or for NULL arguments. */
int ruv__tok_encode(const struct ruv__tok *tok, const char *text, size_t len, int64_t *ids,
                    size_t cap, size_t *n);

/* Reads a whole file into a new NUL-terminated buffer (*len bytes before the
 * NUL; the caller frees it with free()). Returns RUV_OK, RUV_E_INVAL for a
 * NULL path, or RUV_E_IO / RUV_E_NOMEM with the detail naming path. */
int ruv__tok_read_file(const char *path, char **buf, size_t *len);

/* Number of tokens in the vocabulary; id of the unknown token. */
size_t ruv__tok_vocab_size(const struct ruv__tok *tok);
int64_t ruv__tok_unk_id(const struct ruv__tok *tok);

#endif
