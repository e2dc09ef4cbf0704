/* normalizer.h — HF BertNormalizer, one code point at a time (plugin-internal).
 * Order as in huggingface/tokenizers src/normalizers/bert.rs: clean_text,
 * CJK padding, strip_accents (NFD, drop Mn), lowercase. Canonical reordering
 * across characters is left to the word buffer (pretokenizer.h), the one
 * place where neighbouring characters meet. */
#ifndef RUV_EMBED_NORMALIZER_H
#define RUV_EMBED_NORMALIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "unicode.h"

struct ruv__norm_cfg {
    bool clean_text, handle_chinese_chars, strip_accents, lowercase;
};

/* Room needed in out: a padded CJK character, each part decomposed and
 * lowercased. */
#define RUV__NORM_MAX_OUT (3 * RUV__UNI_MAX_DECOMP * RUV__UNI_MAX_LOWER)

/* Normalizes cp into out and returns the count (0: deleted). *barrier is set
 * when accent stripping dropped a starter, which ends a run of non-starters
 * that canonical reordering may permute. */
size_t ruv__norm_char(const struct ruv__norm_cfg *cfg, uint32_t cp, uint32_t *out, bool *barrier);

#endif
