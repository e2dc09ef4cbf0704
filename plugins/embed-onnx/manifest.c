/* manifest.c — reading and writing the `verified` manifest (manifest.h). */
#include "config.h"
#include "manifest.h"

#include <jansson.h>
#include <string.h>

#include "../common/detail.h"
#include "registry.h"

static int bad(const char *what, size_t i)
{
    return ruv__detail_set(RUV_E_CORRUPT, "embed cache: verified manifest: files[%zu]: %s", i, what);
}

/* Reads one member of a file record into rec; i is its index, for errors. */
static int parse_file(json_t *obj, size_t i, struct ruv__embed_manifest_file *rec)
{
    if (!json_is_object(obj))
        return bad("not an object", i);
    if (json_object_size(obj) != 4)
        return bad("must have exactly the keys path, sha256, size and mtime_ns", i);
    json_t *path = json_object_get(obj, "path");
    json_t *sha = json_object_get(obj, "sha256");
    json_t *size = json_object_get(obj, "size");
    json_t *mtime = json_object_get(obj, "mtime_ns");
    if (!json_is_string(path) || !json_is_string(sha) || !json_is_integer(size) || !json_is_integer(mtime))
        return bad("needs string path and sha256 and integer size and mtime_ns", i);
    const char *p = json_string_value(path);
    /* A NUL inside the string would hide the rest from the path checks. */
    if (strlen(p) != json_string_length(path) || !ruv__embed_safe_relpath(p))
        return bad("path is not a safe relative path", i);
    if (!ruv__embed_is_sha256_hex(json_string_value(sha)))
        return bad("sha256 is not 64 lowercase hex digits", i);
    if (json_integer_value(size) < 0)
        return bad("size is negative", i);
    memcpy(rec->path, p, strlen(p) + 1);
    memcpy(rec->sha256, json_string_value(sha), 65);
    rec->size = (uint64_t)json_integer_value(size);
    rec->mtime_ns = (int64_t)json_integer_value(mtime);
    return RUV_OK;
}

int ruv__embed_manifest_parse(const char *buf, size_t len, struct ruv__embed_manifest *out)
{
    out->n = 0;
    if (!buf)
        return ruv__detail_set(RUV_E_CORRUPT, "embed cache: verified manifest: no data");
    if (len > RUV_EMBED_MANIFEST_MAX_BYTES)
        return ruv__detail_set(RUV_E_CORRUPT, "embed cache: verified manifest: %zu bytes (at most %d)", len,
                               RUV_EMBED_MANIFEST_MAX_BYTES);
    json_error_t jerr;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return ruv__detail_set(RUV_E_CORRUPT, "embed cache: verified manifest: line %d: %s", jerr.line,
                               jerr.text);
    int rc = RUV_OK;
    json_t *format = json_object_get(root, "format");
    json_t *files = json_object_get(root, "files");
    if (!json_is_object(root) || json_object_size(root) != 2 || !json_is_string(format) || !json_is_array(files)) {
        rc = ruv__detail_set(RUV_E_CORRUPT,
                             "embed cache: verified manifest: want an object with exactly format and files");
        goto done;
    }
    if (strcmp(json_string_value(format), RUV_EMBED_MANIFEST_FORMAT) != 0) {
        rc = ruv__detail_set(RUV_E_CORRUPT, "embed cache: verified manifest: format is not %s",
                             RUV_EMBED_MANIFEST_FORMAT);
        goto done;
    }
    size_t n = json_array_size(files);
    if (n > RUV_EMBED_MANIFEST_MAX_FILES) {
        rc = ruv__detail_set(RUV_E_CORRUPT, "embed cache: verified manifest: %zu files (at most %d)", n,
                             RUV_EMBED_MANIFEST_MAX_FILES);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        rc = parse_file(json_array_get(files, i), i, &out->files[i]);
        if (rc != RUV_OK)
            goto done;
        for (size_t j = 0; j < i; j++)
            if (strcmp(out->files[j].path, out->files[i].path) == 0) {
                rc = bad("path repeats an earlier record", i);
                goto done;
            }
    }
    out->n = n;
done:
    json_decref(root);
    return rc;
}

char *ruv__embed_manifest_dump(const struct ruv__embed_manifest *m)
{
    json_t *files = json_array();
    json_t *root = json_pack("{s:s, s:o}", "format", RUV_EMBED_MANIFEST_FORMAT, "files", files);
    char *text = NULL;
    if (!root)
        goto done;
    for (size_t i = 0; i < m->n; i++) {
        const struct ruv__embed_manifest_file *f = &m->files[i];
        json_t *rec = json_pack("{s:s, s:s, s:I, s:I}", "path", f->path, "sha256", f->sha256, "size",
                                (json_int_t)f->size, "mtime_ns", (json_int_t)f->mtime_ns);
        if (!rec || json_array_append_new(files, rec) != 0)
            goto done;
    }
    text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
done:
    json_decref(root);
    if (!text)
        ruv__detail_set(RUV_E_NOMEM, "embed cache: out of memory writing the verified manifest");
    return text;
}

const struct ruv__embed_manifest_file *ruv__embed_manifest_find(const struct ruv__embed_manifest *m,
                                                                 const char *path)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->files[i].path, path) == 0)
            return &m->files[i];
    return NULL;
}
