/* model.h — a model directory opened by the embed_onnx plugin (plugin-
 * internal): its tokenizer and length limit, and, when it has an ONNX
 * graph, the session and pooling that embed.c runs (feature-embed.h). */
#ifndef RUV_EMBED_MODEL_H
#define RUV_EMBED_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <ruvector/feature-embed.h>
#include <ruvector/plugin.h>

#include "ort.h"
#include "pooling.h"
#include "session.h"

struct ruv__tok;

struct ruv_embed_model {
    const struct ruv_host *host;
    struct ruv__tok *tok;
    size_t max_tokens;            /* the tokenizer's limit; 0: none */
    struct ruv__session *session; /* NULL: tokenize only */
    struct ruv__pooling pooling;
    size_t dim;                   /* width of last_hidden_state */
    size_t batch_size;
};

/* The contracts of model_open, model_close, tokenize and model_info in
 * feature-embed.h; host is the plugin's, errors go through it. ort may be
 * NULL (no runtime: a directory with a graph is then RUV_E_STATE).
 * threads: intra-op threads for ONNX Runtime's process-wide pool (0: its
 * default), used only by the first session of the process. */
int ruv__embed_model_open(const struct ruv_host *host, const struct ruv__ort *ort,
                          unsigned threads, const char *name_or_dir,
                          const struct ruv_embed_open_opts *opts, ruv_embed_model **out);
void ruv__embed_model_close(ruv_embed_model *m);
int ruv__embed_tokenize(const ruv_embed_model *m, const char *text, size_t len, int64_t *ids,
                        size_t cap, size_t *n);
int ruv__embed_model_info(const ruv_embed_model *m, struct ruv_embed_info *out);

#endif
