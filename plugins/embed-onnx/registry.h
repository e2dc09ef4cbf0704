/* registry.h — the models the embed_onnx plugin knows by name (embed.md
 * §6.1), compiled in (plugin-internal).
 *
 * An entry pins a hub repository at one revision and lists every file the
 * model needs with its size and SHA-256. A digest is shipped only when a
 * public source we can reach confirms it (there is no trust on first use);
 * registry.c says which source confirmed each entry. The weights are either
 * an ONNX graph (onnx/model.onnx) or safetensors that the caller converts
 * to ONNX locally: `weights` says which, and which file holds them. */
#ifndef RUV_EMBED_REGISTRY_H
#define RUV_EMBED_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

/* The cache's manifest file in a revision folder (model_cache.h); no model
 * file may use this name or end in ".part". */
#define RUV_EMBED_MANIFEST_NAME "verified"

/* One file of a model, relative to the repository root ("1_Pooling/config.json"). */
struct ruv__embed_file {
    const char *path;
    uint64_t size;
    const char *sha256; /* 64 lowercase hex digits */
};

enum ruv__embed_weights {
    RUV_EMBED_WEIGHTS_ONNX = 1,        /* an ONNX graph, run as is */
    RUV_EMBED_WEIGHTS_SAFETENSORS = 2, /* safetensors weights: build the graph locally */
};

struct ruv__embed_entry {
    const char *name;                 /* cache folder name, e.g. "all-MiniLM-L6-v2" */
    const char *const *aliases;       /* NULL-terminated; may be NULL */
    const char *repo;                 /* hub repository, "owner/name" */
    const char *revision;             /* pinned commit (40 hex) */
    enum ruv__embed_weights weights;  /* what weights_file holds */
    const char *weights_file;         /* one of files[].path */
    const struct ruv__embed_file *files;
    size_t n_files;
    uint32_t dim;
    uint32_t max_tokens;
    const char *pooling;              /* "mean" or "cls" */
    int normalize;                    /* 1: L2-normalise the pooled vector */
    const char *licence;              /* SPDX id */
    const char *query_prefix;         /* put before queries by callers; "" if none */
    const char *confirmed_by;         /* the public source of the digests */
};

/* The entry whose name or alias equals `name` exactly, or NULL with the
 * thread's detail (plugins/common/detail.h) set to RUV_E_NOTFOUND and a
 * sentence that lists every known name. Entries are static: never freed. */
const struct ruv__embed_entry *ruv__embed_registry_find(const char *name);

/* Number of compiled-in entries, and the i-th one (NULL past the end). */
size_t ruv__embed_registry_count(void);
const struct ruv__embed_entry *ruv__embed_registry_at(size_t i);

/* The file of `e` at `path`, or NULL. */
const struct ruv__embed_file *ruv__embed_entry_file(const struct ruv__embed_entry *e, const char *path);

/* RUV_OK if `e` is well formed: names and revision are safe folder names,
 * every path is relative without "." or ".." parts, digests are 64 lowercase
 * hex, weights_file is listed, and no path repeats. Otherwise RUV_E_INVAL
 * with the detail naming the field. Used by the cache for entries made by
 * callers (tests) and by the unit test for the compiled-in ones. */
int ruv__embed_entry_check(const struct ruv__embed_entry *e);

/* Helpers shared with the cache and manifest code. 1 if `s` is a single
 * folder name ([A-Za-z0-9._-]+, not "." or ".."); 1 if `p` is a relative
 * path of such names joined by '/'; 1 if `h` is 64 lowercase hex digits. */
int ruv__embed_safe_name(const char *s);
int ruv__embed_safe_relpath(const char *p);
int ruv__embed_is_sha256_hex(const char *h);

#endif
