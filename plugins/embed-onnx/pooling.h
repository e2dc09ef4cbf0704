/* pooling.h — how token vectors become one sentence vector (embed.md §5):
 * the mode and L2 normalisation come from the model directory's own
 * sentence-transformers files, and the arithmetic runs in double in a fixed
 * order so results do not depend on batch composition. Plugin-internal. */
#ifndef RUV_EMBED_POOLING_H
#define RUV_EMBED_POOLING_H

#include <stddef.h>
#include <stdint.h>

#include <ruvector/plugin.h>

struct ruv__pooling {
    unsigned mode;     /* RUV_EMBED_POOL_* (feature-embed.h) */
    int normalize;     /* 1: L2 after pooling */
    size_t dim;        /* word_embedding_dimension, 0 when not given */
    int from_config;   /* 0: the directory had neither file, defaults used */
};

/* Reads dir/modules.json (a Pooling module's path, a Normalize module) and
 * the pooling module's config.json (default 1_Pooling/config.json). Without
 * modules.json: mean + L2 (the bare-directory default; from_config says so).
 * RUV_E_INVAL naming the file for malformed JSON or a module path leaving the
 * directory, RUV_E_UNSUPPORTED for a pooling mode we do not implement
 * (weighted mean, last token, mean-sqrt-len) or none / several set. */
int ruv__pooling_read(const struct ruv_host *host, const char *dir, struct ruv__pooling *out);

/* Pools one row: hidden is [seq, width] floats, mask [seq] (0/1), out gets
 * width floats. Mean: sum(h*m)/max(sum(m), 1e-9); CLS: h[0]; max: the
 * largest h over unmasked tokens (0 for an all-masked row); then L2 with
 * norm floor 1e-12 when p->normalize. */
void ruv__pool_row(const struct ruv__pooling *p, const float *hidden, const int64_t *mask,
                   size_t seq, size_t width, float *out);

/* "mean", "cls" or "max". Static string. */
const char *ruv__pooling_name(unsigned mode);

#endif
