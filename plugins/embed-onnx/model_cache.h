/* model_cache.h — registry models in a local cache, verified by digest
 * (embed.md §6.2, plugin-internal).
 *
 * Layout: <cache>/<name>/<revision>/<files...>, the lock <cache>/<name>/.lock
 * and the manifest <cache>/<name>/<revision>/verified (manifest.h). The
 * default cache is $HOME/.cache/ruvector/models (XDG_CACHE_HOME is not read).
 *
 * First use, under flock on the lock: every file is hashed (SHA-256) and
 * compared with the registry; the manifest then records digest, size and
 * mtime, written atomically. Later opens compare size and mtime only. A
 * file whose size or mtime changed is hashed again; if its digest is wrong
 * it is downloaded again, or, with downloads off, the error names both
 * digests. Missing files are downloaded (download.h). */
#ifndef RUV_EMBED_MODEL_CACHE_H
#define RUV_EMBED_MODEL_CACHE_H

#include <stdint.h>

#include "download.h"
#include "registry.h"

#define RUV_EMBED_DEFAULT_BASE_URL "https://huggingface.co"

struct ruv__embed_fetch_opts {
    const char *cache_dir;         /* NULL: $HOME/.cache/ruvector/models */
    const char *base_url;          /* NULL: RUV_EMBED_DEFAULT_BASE_URL; file URLs are
                                      <base>/<repo>/resolve/<revision>/<path> */
    int offline;                   /* 1: never download; a missing file is RUV_E_MISS */
    struct ruv__embed_net_opts net; /* TLS trust, timeouts, progress */
};

/* What one fetch did, for callers that report it and for tests. */
struct ruv__embed_fetch_stats {
    unsigned reused;     /* files accepted by size and mtime alone */
    unsigned hashed;     /* files read in full and hashed */
    unsigned downloaded; /* files fetched over the network */
};

/* Makes the files of `e` present and verified in the cache and returns the
 * revision folder in *dir (malloc'd; the caller frees). opts may be NULL
 * (all defaults) and stats may be NULL. Returns RUV_OK, or:
 *   RUV_E_INVAL     e is malformed (ruv__embed_entry_check) or the cache is unusable
 *   RUV_E_MISS      a file is missing and opts->offline is set
 *   RUV_E_INTEGRITY a cached file's digest is wrong and opts->offline is set
 *                   (the detail names the file, its digest and the expected one)
 *   RUV_E_IO        a local file operation failed (named with its path)
 *   any status of ruv__embed_download.
 * Files verified before a failure stay recorded in the manifest. Safe to call
 * from several threads and processes at once: the flock serialises them. */
int ruv__embed_model_fetch(const struct ruv__embed_entry *e, const struct ruv__embed_fetch_opts *opts,
                           char **dir, struct ruv__embed_fetch_stats *stats);

/* The folder for a model given as `name_or_dir`: an existing directory is
 * used as is (copied into *dir, *entry = NULL, nothing hashed); otherwise
 * the registry name or alias is fetched as ruv__embed_model_fetch does
 * (*entry = the registry entry). An unknown name is RUV_E_NOTFOUND with the
 * known names in the detail. *dir is malloc'd; entry may be NULL. */
int ruv__embed_model_resolve(const char *name_or_dir, const struct ruv__embed_fetch_opts *opts, char **dir,
                             const struct ruv__embed_entry **entry, struct ruv__embed_fetch_stats *stats);

/* Files made from a cached model (the ONNX graph built from safetensors
 * weights) are recorded in the same manifest, so that they are made once:
 *
 * ruv__embed_cache_add_derived hashes <dir>/<rel> (dir as returned by
 * ruv__embed_model_fetch, rel a safe relative path, written completely by
 * the caller, e.g. to a temporary name and renamed) under the model's lock
 * and records its digest, size and mtime; the digest goes to sha256 if not
 * NULL. Later fetches keep the record while size and mtime match.
 *
 * ruv__embed_cache_check_derived says, without hashing, whether the record
 * still holds: RUV_OK (digest to sha256 if not NULL), RUV_E_MISS when there
 * is none (build it), RUV_E_INTEGRITY when the file's size or mtime moved
 * (rebuild it, then add it again). Both return RUV_E_INVAL for a bad dir
 * or rel, RUV_E_IO naming the path when a file operation fails. */
int ruv__embed_cache_add_derived(const char *dir, const char *rel, char sha256[65]);
int ruv__embed_cache_check_derived(const char *dir, const char *rel, char sha256[65]);

/* The default cache folder ($HOME/.cache/ruvector/models) in a malloc'd
 * string, or RUV_E_INVAL when no home folder is known. */
int ruv__embed_default_cache_dir(char **out);

/* SHA-256 of the file at `path` as 64 lowercase hex digits in hex, and its
 * length in *size. RUV_E_IO naming the path on failure. */
int ruv__embed_sha256_file(const char *path, char hex[65], uint64_t *size);

#endif
