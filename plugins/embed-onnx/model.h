/* model.h — a model directory opened by the embed_onnx plugin (plugin-
 * internal): for now its tokenizer and length limit (feature-embed.h). */
#ifndef RUV_EMBED_MODEL_H
#define RUV_EMBED_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <ruvector/feature-embed.h>
#include <ruvector/plugin.h>

/* The contracts of model_open, model_close and tokenize in
 * feature-embed.h; host is the plugin's, errors go through it. */
int ruv__embed_model_open(const struct ruv_host *host, const char *name_or_dir,
                          const struct ruv_embed_open_opts *opts, ruv_embed_model **out);
void ruv__embed_model_close(ruv_embed_model *m);
int ruv__embed_tokenize(const ruv_embed_model *m, const char *text, size_t len, int64_t *ids,
                        size_t cap, size_t *n);

#endif
