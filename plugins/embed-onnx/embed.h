/* embed.h — embed() and its cancellation flag (feature-embed.h version 2;
 * embed.md §5). Plugin-internal. */
#ifndef RUV_EMBED_EMBED_H
#define RUV_EMBED_EMBED_H

#include <stddef.h>

#include <ruvector/feature-embed.h>

#include "model.h"

/* The contracts of embed, cancel_new, cancel and cancel_free in
 * feature-embed.h. */
int ruv__embed_texts(const ruv_embed_model *m, const char *const *texts, const size_t *lens,
                     size_t n, float *out, size_t dim, uint32_t batch_size,
                     ruv_embed_cancel *cancel);
int ruv__embed_cancel_new(ruv_embed_cancel **out);
void ruv__embed_cancel(ruv_embed_cancel *c);
void ruv__embed_cancel_free(ruv_embed_cancel *c);

#endif
