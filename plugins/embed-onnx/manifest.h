/* manifest.h — the `verified` manifest of a cached model revision (embed.md
 * §6.2, plugin-internal): for each file that was hashed and matched its
 * registry digest, the digest, the size and the modification time seen then.
 * Later opens compare size and mtime only.
 *
 * On disk it is JSON:
 *   {"format": "ruvector-model-verified/1",
 *    "files": [{"path": "config.json", "sha256": "<64 hex>",
 *               "size": 612, "mtime_ns": 1765000000123456789}, ...]}
 * parsed with duplicate keys rejected; unknown keys are errors too, so a
 * file from a newer format is never half-understood. */
#ifndef RUV_EMBED_MANIFEST_H
#define RUV_EMBED_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#define RUV_EMBED_MANIFEST_FORMAT "ruvector-model-verified/1"
#define RUV_EMBED_MANIFEST_MAX_FILES 64
#define RUV_EMBED_MANIFEST_MAX_BYTES (64 * 1024)

struct ruv__embed_manifest_file {
    char path[256];
    char sha256[65];
    uint64_t size;
    int64_t mtime_ns;
};

struct ruv__embed_manifest {
    size_t n;
    struct ruv__embed_manifest_file files[RUV_EMBED_MANIFEST_MAX_FILES];
};

/* Parses `len` bytes (need not be NUL-terminated) into *out. RUV_OK, or
 * RUV_E_CORRUPT with the detail naming what was wrong (bad JSON, a missing
 * or extra key, a path that is not a safe relative path, a repeated path,
 * a digest that is not 64 lowercase hex, a negative or non-integer number,
 * too many files or bytes). *out is caller-owned; on failure it holds n = 0. */
int ruv__embed_manifest_parse(const char *buf, size_t len, struct ruv__embed_manifest *out);

/* The manifest as JSON text in a malloc'd, NUL-terminated string the caller
 * frees, or NULL with RUV_E_NOMEM in the detail. Parsing the text gives m back. */
char *ruv__embed_manifest_dump(const struct ruv__embed_manifest *m);

/* The record for `path`, or NULL. */
const struct ruv__embed_manifest_file *ruv__embed_manifest_find(const struct ruv__embed_manifest *m,
                                                                 const char *path);

#endif
