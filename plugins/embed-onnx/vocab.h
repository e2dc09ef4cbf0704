/* vocab.h — the WordPiece vocabulary: a hash table from token bytes to id
 * (plugin-internal). Tokens that start with the continuing-subword prefix
 * ("##") are also filed without it, so lookups of word-inner pieces hash the
 * piece itself and never build "##" + piece. */
#ifndef RUV_EMBED_VOCAB_H
#define RUV_EMBED_VOCAB_H

#include <stddef.h>
#include <stdint.h>

struct ruv__vocab;

#define RUV__VOCAB_MAX_ID (1u << 24)

/* New empty vocabulary; prefix (copied) marks continuation tokens. Returns
 * RUV_OK or RUV_E_NOMEM. Free with ruv__vocab_free. */
int ruv__vocab_new(const char *prefix, struct ruv__vocab **out);
void ruv__vocab_free(struct ruv__vocab *v);

/* Adds token (len bytes, any bytes) with id < RUV__VOCAB_MAX_ID. RUV_E_INVAL
 * (detail names the token) when the token or the id is already present or
 * the id is out of range; RUV_E_NOMEM. */
int ruv__vocab_add(struct ruv__vocab *v, const char *token, size_t len, uint32_t id);

/* Id of the token, or -1. With cont != 0, looks up prefix + token. */
int64_t ruv__vocab_find(const struct ruv__vocab *v, const char *s, size_t len, int cont);

/* Number of tokens; the longest token in bytes (cont: without the prefix),
 * which bounds the longest-match search. */
size_t ruv__vocab_size(const struct ruv__vocab *v);
size_t ruv__vocab_max_len(const struct ruv__vocab *v, int cont);

#endif
