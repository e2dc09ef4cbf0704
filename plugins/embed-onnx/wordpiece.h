/* wordpiece.h — HF WordPiece on one pre-tokenized word (plugin-internal):
 * greedy longest match from the left, continuation pieces looked up with the
 * prefix, and a word that fails anywhere becomes one [UNK]. */
#ifndef RUV_EMBED_WORDPIECE_H
#define RUV_EMBED_WORDPIECE_H

#include <stddef.h>
#include <stdint.h>

#include "pretokenizer.h"
#include "vocab.h"

struct ruv__wordpiece {
    const struct ruv__vocab *vocab;
    int64_t unk_id;
    size_t max_word_chars; /* more characters than this: [UNK] (HF default 100) */
};

/* Writes the ids of word to out (room for RUV__WORD_MAX) and returns their
 * count (>= 1 for a non-empty word, 0 for an empty one). */
size_t ruv__wordpiece_word(const struct ruv__wordpiece *wp, const struct ruv__word *word, int64_t *out);

#endif
