/* pretokenizer.h — HF BertPreTokenizer over the normalized code points, and
 * the buffer that collects one word (plugin-internal). Whitespace ends a
 * word; punctuation (ASCII or P*) is a word of its own. */
#ifndef RUV_EMBED_PRETOKENIZER_H
#define RUV_EMBED_PRETOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest word WordPiece may be configured to try; longer words only
 * count their characters (they become [UNK] anyway). */
#define RUV__WORD_MAX 1024

enum ruv__pt_class { RUV__PT_WORD = 0, RUV__PT_SPACE = 1, RUV__PT_PUNCT = 2 };

/* Class of a normalized code point. */
enum ruv__pt_class ruv__pt_classify(uint32_t cp);

struct ruv__word {
    uint32_t cps[RUV__WORD_MAX]; /* the first RUV__WORD_MAX characters */
    size_t n;                    /* characters pushed, may exceed RUV__WORD_MAX */
    size_t run_start;            /* reordering never moves a character before this */
};

static inline void ruv__word_reset(struct ruv__word *w)
{
    w->n = 0;
    w->run_start = 0;
}

/* Appends cp. With reorder (accent stripping is on, so HF ran NFD), a
 * non-starter moves before earlier non-starters of a higher combining class,
 * as canonical ordering does. */
void ruv__word_push(struct ruv__word *w, uint32_t cp, bool reorder);

/* A dropped starter ended the current run of non-starters. */
static inline void ruv__word_barrier(struct ruv__word *w)
{
    w->run_start = w->n;
}

#endif
