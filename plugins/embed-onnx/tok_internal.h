/* tok_internal.h — the tokenizer's insides, shared by the driver
 * (tokenizer.c) and the two loaders (vocab_txt.c, tokenizer_json.c). */
#ifndef RUV_EMBED_TOK_INTERNAL_H
#define RUV_EMBED_TOK_INTERNAL_H

#include <stdbool.h>

#include "normalizer.h"
#include "tokenizer.h"
#include "vocab.h"
#include "wordpiece.h"

#define RUV__TOK_MAX_TEMPLATE 8 /* specials before or after the text */

struct ruv__added_token {
    char *content;
    size_t len;
    int64_t id;
    bool special;
};

struct ruv__tok {
    struct ruv__norm_cfg norm;
    struct ruv__vocab *vocab;
    struct ruv__wordpiece wp;
    struct ruv__added_token *added;
    size_t nadded;
    int64_t prefix_ids[RUV__TOK_MAX_TEMPLATE], suffix_ids[RUV__TOK_MAX_TEMPLATE];
    size_t nprefix, nsuffix;
    size_t max_length;
    unsigned flags;
    int32_t ascii_out[128];  /* normalized ASCII: -1 deleted, else one code point */
    uint8_t ascii_cls[128];  /* enum ruv__pt_class of ascii_out */
    uint8_t added_first[32]; /* bitmap: bytes that start an added token */
};

/* A tokenizer with BERT defaults (uncased normalizer, no specials yet) and an
 * empty vocabulary whose continuation prefix is prefix. */
int ruv__tok_alloc(const struct ruv__tok_opts *opts, const char *prefix, struct ruv__tok **out);

/* Registers an added token matched in the raw text. */
int ruv__tok_add_added(struct ruv__tok *tok, const char *content, size_t len, int64_t id,
                       bool special);

/* Checks the loaded tokenizer (unk set, max_length vs the template) and
 * builds the ASCII fast path. */
int ruv__tok_finish(struct ruv__tok *tok);

/* The file loaders' common part: reads path, hands its bytes to parse (one
 * of the ruv__tok_new_* loaders) and puts the path before a parse error.
 * what names the format in the NULL-argument error. */
typedef int (*ruv__tok_parse_fn)(const char *buf, size_t len, const struct ruv__tok_opts *opts,
                                 struct ruv__tok **out);
int ruv__tok_open_file(const char *path, const char *what, ruv__tok_parse_fn parse,
                       const struct ruv__tok_opts *opts, struct ruv__tok **out);

#endif
