/* ruvector/feature-embed.h — the ops table of the embed_onnx feature plugin
 * (RUV_FEATURE_EMBED; docs: embed.md §2). A host gets it with
 *     ruv_engine_feature_get(eng, "embed_onnx", RUV_FEATURE_EMBED,
 *                            RUV_EMBED_OPS_SIZE_V1, &ops, &state);
 * after ruv_engine_load_plugin(eng, "embed_onnx").
 *
 * Rules: struct_size first, slots append-only. Version 1 has opening a
 * model directory and tokenizing with its tokenizer; version 2 adds model
 * information, embed() and cancellation (min_size RUV_EMBED_OPS_SIZE_V2);
 * version 3 adds the model registry and its download cache (embed.md §6,
 * min_size RUV_EMBED_OPS_SIZE_V3).
 * Errors are ruv_status codes with the detail in ruv_last_error(). */
#ifndef RUVECTOR_FEATURE_EMBED_H
#define RUVECTOR_FEATURE_EMBED_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An opened model: immutable after model_open, so any number of threads
 * may call tokenize and embed on it at once. */
typedef struct ruv_embed_model ruv_embed_model;
/* A cancellation flag for embed (version 2): set from any thread, checked
 * by the embed calls given it between batches. */
typedef struct ruv_embed_cancel ruv_embed_cancel;

/* Pooling modes (struct ruv_embed_info.pooling, embed.md §5). */
#define RUV_EMBED_POOL_MEAN 1u /* mean over the attention mask */
#define RUV_EMBED_POOL_CLS 2u  /* the [CLS] token's vector */
#define RUV_EMBED_POOL_MAX 3u  /* per-dimension max over the mask */

/* model_open flags. */
#define RUV_EMBED_LOSSY_UTF8 (1u << 0) /* invalid UTF-8 becomes U+FFFD, which is dropped,
                                          instead of RUV_E_INVAL */

/* Options for model_open; NULL means all zero. Append-only. */
struct ruv_embed_open_opts {
    uint32_t struct_size; /* sizeof(struct ruv_embed_open_opts) as the caller compiled it */
    uint32_t flags;       /* RUV_EMBED_* */
    /* ---- version 2 (read when struct_size covers them) ---- */
    uint32_t batch_size;   /* texts per ONNX run in embed; 0: 32 */
    uint32_t reserved;     /* 0 */
    const char *onnx_path; /* the ONNX graph; NULL: <dir>/model.onnx, else <dir>/onnx/model.onnx */
};

/* What model_info reports. Append-only. */
struct ruv_embed_info {
    uint32_t struct_size; /* set by the caller: sizeof as compiled */
    uint32_t dim;         /* vector length embed writes per text; 0 without a graph */
    uint32_t max_tokens;  /* ids per text, [CLS]/[SEP] included; 0: no limit */
    uint32_t pooling;     /* RUV_EMBED_POOL_* */
    uint32_t normalize;   /* 1: vectors are L2-normalised */
    uint32_t batch_size;  /* texts per ONNX run */
    uint32_t from_config; /* 1: pooling/normalize came from modules.json or the pooling config;
                             0: the bare-directory default (mean + L2) */
    uint32_t reserved;
};

/* model_fetch flags (version 3). */
#define RUV_EMBED_FETCH_OFFLINE (1u << 0) /* never download: a missing file is RUV_E_MISS */

/* Options for model_fetch; NULL means all zero. Append-only. */
struct ruv_embed_fetch_options {
    uint32_t struct_size;  /* sizeof(struct ruv_embed_fetch_options) as the caller compiled it */
    uint32_t flags;        /* RUV_EMBED_FETCH_* */
    const char *cache_dir; /* NULL: $HOME/.cache/ruvector/models */
    const char *base_url;  /* NULL: https://huggingface.co; files are fetched from
                              <base>/<repo>/resolve/<revision>/<path>; https://, or
                              http:// to a loopback host only */
    const char *ca_file;   /* PEM bundle trusted instead of the system's; NULL: system */
    /* Called as bytes arrive (file: the relative path); non-zero cancels
     * the fetch (RUV_E_CANCELED). May be NULL. */
    int (*progress)(void *ctx, const char *file, uint64_t done, uint64_t total);
    void *progress_ctx;
};

/* One registry entry (registry_get, version 3); every string is static in
 * the plugin and lives while the plugin stays loaded. Append-only. */
struct ruv_embed_registry_info {
    uint32_t struct_size;       /* set by the caller: sizeof as compiled */
    uint32_t dim;               /* vector length */
    uint32_t max_tokens;        /* ids per text, [CLS]/[SEP] included */
    uint32_t normalize;         /* 1: L2-normalised vectors */
    const char *name;           /* e.g. "all-MiniLM-L6-v2" (the cache folder) */
    const char *const *aliases; /* NULL-terminated, never NULL ("sentence-transformers/...") */
    const char *repo;           /* hub repository, "owner/name" */
    const char *revision;       /* the pinned commit */
    const char *pooling;        /* "mean" or "cls" */
    const char *weights;        /* "onnx", or "safetensors" (the caller converts them to ONNX) */
    const char *weights_file;   /* the weights' path in the model folder */
    const char *licence;        /* SPDX id */
    const char *query_prefix;   /* put before queries; "" if none */
};

struct ruv_embed_ops {
    uint32_t struct_size;
    uint32_t reserved;
    /* Opens a local model directory: its tokenizer is tokenizer.json when
     * present, else vocab.txt (uncased unless tokenizer_config.json says
     * "do_lower_case": false). The length limit, in ids with [CLS] and
     * [SEP], is max_seq_length of sentence_bert_config.json when present,
     * else (with a graph) config.json's max_position_embeddings, else
     * none. With an ONNX graph (opts->onnx_path, <dir>/model.onnx or
     * <dir>/onnx/model.onnx) the model also gets an ONNX Runtime session,
     * and pooling and normalisation from modules.json and the pooling
     * module's config.json (embed.md §5); without one it only tokenizes.
     * A registry name is RUV_E_NOTFOUND here: resolve it to a folder with
     * model_fetch (version 3) first. state is the
     * one ruv_engine_feature_get returned. On success *out is a new model
     * the caller frees with model_close; on failure *out is NULL and the
     * status is RUV_E_INVAL (bad argument or file, the detail names it),
     * RUV_E_NOTFOUND, RUV_E_IO, RUV_E_NOMEM, RUV_E_UNSUPPORTED (a pooling
     * mode we lack; a plugin built without the ONNX header) or
     * RUV_E_PLUGIN (ONNX Runtime refused the graph). */
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

    /* ---- version 2 ---- */
    /* Fills *out (whose struct_size the caller set; at least up to
     * from_config). RUV_E_INVAL for NULL or a too-small struct_size. */
    int (*model_info)(const ruv_embed_model *m, struct ruv_embed_info *out);
    /* Embeds n texts (texts[i] is lens[i] bytes of UTF-8; lens NULL: each
     * is NUL-terminated) into out, caller-owned n * dim floats, row i for
     * texts[i]. dim must be model_info's dim. Texts are tokenized (and
     * truncated to max_tokens), sorted by length, run through the ONNX
     * graph in batches of batch_size texts (0: the model's, model_info),
     * each padded to its own longest text, then
     * pooled and normalised as model_info says. cancel (may be NULL) is
     * checked before each batch: once set, RUV_E_CANCELED and out is
     * unspecified. Errors: RUV_E_INVAL (NULL, dim mismatch, batch_size
     * above 4096, invalid UTF-8:
     * the detail names the text and byte offset), RUV_E_STATE (the model
     * directory had no ONNX graph), RUV_E_NOMEM, RUV_E_PLUGIN (ONNX Runtime
     * failed; its message is the detail). Thread-safe on one model. */
    int (*embed)(const ruv_embed_model *m, const char *const *texts, const size_t *lens, size_t n,
                 float *out, size_t dim, uint32_t batch_size, ruv_embed_cancel *cancel);
    /* A new, unset cancellation flag for the caller to free with
     * cancel_free; RUV_E_NOMEM or RUV_E_INVAL (NULL out). */
    int (*cancel_new)(ruv_embed_cancel **out);
    /* Sets the flag; any thread, any time before cancel_free. NULL: no-op. */
    void (*cancel)(ruv_embed_cancel *c);
    /* Frees a flag no embed call is using. NULL: no-op. */
    void (*cancel_free)(ruv_embed_cancel *c);

    /* ---- version 3 ---- */
    /* Resolves a registry name or alias (registry_get) to a local folder
     * holding every file of the entry, verified by SHA-256 against the
     * registry, downloading missing or damaged files unless opts->flags has
     * RUV_EMBED_FETCH_OFFLINE. An existing directory is returned as is.
     * On success *dir_out is a string the caller frees with free_string;
     * on failure it is NULL and the status is RUV_E_NOTFOUND (an unknown
     * name: the detail lists the known ones), RUV_E_MISS (offline and a file
     * is missing), RUV_E_INTEGRITY (offline and a cached file is damaged),
     * RUV_E_INVAL, RUV_E_IO, a download's RUV_E_REMOTE, TIMEOUT, SECURITY,
     * PROTOCOL or CANCELED, or RUV_E_UNSUPPORTED when the plugin was built
     * without libcurl and libcrypto. Safe from several threads and
     * processes at once (the cache locks each model). */
    int (*model_fetch)(void *state, const char *name, const struct ruv_embed_fetch_options *opts,
                       char **dir_out);
    /* Fills *out (struct_size set by the caller) with registry entry i,
     * counting from 0; RUV_E_NOTFOUND past the end, RUV_E_INVAL for NULL or a
     * too-small struct_size, RUV_E_UNSUPPORTED as for model_fetch. */
    int (*registry_get)(void *state, size_t i, struct ruv_embed_registry_info *out);
    /* Frees a string the plugin returned (model_fetch's dir). NULL: no-op. */
    void (*free_string)(char *s);
};

/* Size of the table with the slots above: the min_size to pass. */
#define RUV_EMBED_OPS_SIZE_V1 (offsetof(struct ruv_embed_ops, tokenize) + sizeof(void (*)(void)))
/* ... and with the version-2 slots. */
#define RUV_EMBED_OPS_SIZE_V2 (offsetof(struct ruv_embed_ops, cancel_free) + sizeof(void (*)(void)))
/* ... and with the version-3 slots. */
#define RUV_EMBED_OPS_SIZE_V3 (offsetof(struct ruv_embed_ops, free_string) + sizeof(void (*)(void)))

#ifdef __cplusplus
}
#endif
#endif
