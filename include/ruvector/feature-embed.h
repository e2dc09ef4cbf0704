/* ruvector/feature-embed.h — the ops table of the embed_onnx feature plugin
 * (RUV_FEATURE_EMBED; docs: embed.md §2). A host gets it with
 *     ruv_engine_feature_get(eng, "embed_onnx", RUV_FEATURE_EMBED,
 *                            RUV_EMBED_OPS_SIZE_V1, &ops, &state);
 * after ruv_engine_load_plugin(eng, "embed_onnx").
 *
 * Rules: struct_size first, slots append-only. These are the first slots:
 * opening a model directory and tokenizing with its tokenizer. Model
 * information, embed() and cancellation come later as new slots at the end;
 * a host that needs them asks for the larger min_size. Errors are
 * ruv_status codes with the detail in ruv_last_error(). */
#ifndef RUVECTOR_FEATURE_EMBED_H
#define RUVECTOR_FEATURE_EMBED_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An opened model: immutable after model_open, so any number of threads
 * may call tokenize on it at once. */
typedef struct ruv_embed_model ruv_embed_model;

/* model_open flags. */
#define RUV_EMBED_LOSSY_UTF8 (1u << 0) /* invalid UTF-8 becomes U+FFFD, which is dropped,
                                          instead of RUV_E_INVAL */

/* Options for model_open; NULL means all zero. Append-only. */
struct ruv_embed_open_opts {
    uint32_t struct_size; /* sizeof(struct ruv_embed_open_opts) as the caller compiled it */
    uint32_t flags;       /* RUV_EMBED_* */
};

struct ruv_embed_ops {
    uint32_t struct_size;
    uint32_t reserved;
    /* Opens a local model directory: its tokenizer is tokenizer.json when
     * present, else vocab.txt (uncased unless tokenizer_config.json says
     * "do_lower_case": false). The length limit, in ids with [CLS] and
     * [SEP], is max_seq_length of sentence_bert_config.json when present,
     * else none. Registry names are RUV_E_NOTFOUND for now. state is the
     * one ruv_engine_feature_get returned. On success *out is a new model
     * the caller frees with model_close; on failure *out is NULL and the
     * status is RUV_E_INVAL (bad argument or file, the detail names it),
     * RUV_E_NOTFOUND, RUV_E_IO or RUV_E_NOMEM. */
    int (*model_open)(void *state, const char *name_or_dir, const struct ruv_embed_open_opts *opts,
                      ruv_embed_model **out);
    /* Frees a model (NULL is a no-op). */
    void (*model_close)(ruv_embed_model *m);
    /* Tokenizes len bytes of UTF-8 (not NUL-terminated) into the model's
     * input ids, [CLS] and [SEP] included, truncated to the length limit.
     * *n is set to the count needed; the first min(*n, cap) ids go to the
     * caller's ids. RUV_E_INVAL when cap < *n (call again with *n slots),
     * for invalid UTF-8 without RUV_EMBED_LOSSY_UTF8 (the detail gives the
     * byte offset) or NULL arguments. */
    int (*tokenize)(const ruv_embed_model *m, const char *text, size_t len, int64_t *ids,
                    size_t cap, size_t *n);
};

/* Size of the table with the slots above: the min_size to pass. */
#define RUV_EMBED_OPS_SIZE_V1 (offsetof(struct ruv_embed_ops, tokenize) + sizeof(void (*)(void)))

#ifdef __cplusplus
}
#endif
#endif
