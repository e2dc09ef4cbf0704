/* The strict sidecar reader (contract in sidecar.h). Anything not exactly
 * as §10.1 describes is refused with the field named; a hostile file can
 * make us refuse it, never read past 64 KiB + 1 bytes or follow a link. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bytes.h"
#include "lake_error.h"
#include "ruvec.h"
#include "sidecar.h"

static int bad(const char *field, const char *fmt, ...) RUV_DETAIL_PRINTF(2, 3);
static int bad(const char *field, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return ruv__detail_set(RUV_E_CORRUPT, "'%s' %s", field, why);
}

static int get_uint(const json_t *v, const char *field, uint64_t *out)
{
    if (!json_is_integer(v))
        return bad(field, "must be an integer");
    json_int_t i = json_integer_value(v);
    if (i < 0)
        return bad(field, "must not be negative (%" JSON_INTEGER_FORMAT ")", i);
    *out = (uint64_t)i;
    return RUV_OK;
}

/* Copies a string of at most max bytes. The document is decoded with
 * JSON_ALLOW_NUL only so that an opaque generation can carry any bytes;
 * every other string refuses \u0000 here. */
static int get_bytes(const json_t *v, const char *field, size_t max, char *dst, size_t *len)
{
    if (!json_is_string(v))
        return bad(field, "must be a string");
    *len = json_string_length(v);
    if (*len > max)
        return bad(field, "is %zu bytes, over the %zu-byte limit", *len, max);
    memcpy(dst, json_string_value(v), *len);
    dst[*len] = '\0';
    return RUV_OK;
}

static int get_string(const json_t *v, const char *field, size_t max, char *dst)
{
    size_t len = 0;
    int st = get_bytes(v, field, max, dst, &len);
    if (st == RUV_OK && strlen(dst) != len)
        return bad(field, "contains a NUL character");
    return st;
}

static int get_opt_string(const json_t *v, const char *field, struct ruv__lake_opt_str *dst)
{
    dst->present = 0;
    if (!v || json_is_null(v))
        return RUV_OK;
    dst->present = 1;
    return get_string(v, field, RUV_LAKE_STRING_MAX, dst->s);
}

static int get_hex(const json_t *v, const char *field, uint8_t *dst, size_t n)
{
    if (!json_is_string(v))
        return bad(field, "must be a string of %zu lowercase hex digits", 2 * n);
    if (json_string_length(v) != 2 * n || ruv__lake_unhex(json_string_value(v), dst, n) != 0)
        return bad(field, "must be exactly %zu lowercase hex digits", 2 * n);
    return RUV_OK;
}

static const json_t *need(const json_t *obj, const char *field, const char *in)
{
    const json_t *v = json_object_get(obj, field);
    if (!v)
        ruv__detail_set(RUV_E_CORRUPT, "missing '%s'%s%s", field, in ? " in " : "", in ? in : "");
    return v;
}

/* Refuses members of obj not in names (NULL-terminated). */
static int only_members(const json_t *obj, const char *const *names, const char *in)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)obj, key, value) {
        (void)value;
        size_t i = 0;
        while (names[i] && strcmp(names[i], key) != 0)
            i++;
        if (!names[i])
            return ruv__detail_set(RUV_E_CORRUPT, "unknown member '%.64s' in %s", key, in);
    }
    return RUV_OK;
}

/* For objects whose members are all required: fetches each of names
 * (NULL-terminated) into vals, in order, naming the first one missing. */
static int need_all(const json_t *obj, const char *const *names, const char *in,
                    const json_t **vals)
{
    for (size_t i = 0; names[i]; i++)
        if (!(vals[i] = need(obj, names[i], in)))
            return RUV_E_CORRUPT;
    return RUV_OK;
}

/* index-<32 lowercase hex>.idx: the only file name a sidecar may point at,
 * so a hostile sidecar cannot name "../x" or a symlink target. */
static int valid_index_name(const char *s)
{
    uint8_t scratch[16];
    char hex[33];
    if (strlen(s) != 6 + 32 + 4 || strncmp(s, "index-", 6) != 0 || strcmp(s + 38, ".idx") != 0)
        return 0;
    memcpy(hex, s + 6, 32);
    hex[32] = '\0';
    return ruv__lake_unhex(hex, scratch, 16) == 0;
}

static int parse_index(const json_t *v, struct ruv__lake_sidecar *sc)
{
    static const char *const names[] = {"file", "bytes", "shake256", NULL};
    if (!v || json_is_null(v))
        return RUV_OK;
    if (!json_is_object(v))
        return bad("rulake_ext.index", "must be an object or null");
    const json_t *m[3];
    int st = only_members(v, names, "rulake_ext.index");
    if (st == RUV_OK)
        st = need_all(v, names, "rulake_ext.index", m);
    if (st == RUV_OK)
        st = get_string(m[0], "rulake_ext.index.file", RUV_LAKE_STRING_MAX, sc->index_file);
    if (st == RUV_OK && !valid_index_name(sc->index_file))
        st = bad("rulake_ext.index.file", "must be index-<32 lowercase hex>.idx");
    if (st == RUV_OK)
        st = get_uint(m[1], "rulake_ext.index.bytes", &sc->index_bytes);
    if (st == RUV_OK)
        st = get_hex(m[2], "rulake_ext.index.shake256", sc->index_shake256, 32);
    sc->has_index = st == RUV_OK;
    return st;
}

static int parse_signature(const json_t *v, struct ruv__lake_sidecar *sc)
{
    static const char *const names[] = {"alg", "key_id", "sig", NULL};
    if (!v || json_is_null(v))
        return RUV_OK;
    if (!json_is_object(v))
        return bad("rulake_ext.signature", "must be an object or null");
    const json_t *m[3];
    int st = only_members(v, names, "rulake_ext.signature");
    if (st == RUV_OK)
        st = need_all(v, names, "rulake_ext.signature", m);
    if (st == RUV_OK &&
        (!json_is_string(m[0]) || strcmp(json_string_value(m[0]), "ed25519") != 0))
        st = bad("rulake_ext.signature.alg", "must be \"ed25519\"");
    uint8_t kid[8];
    if (st == RUV_OK)
        st = get_hex(m[1], "rulake_ext.signature.key_id", kid, 8);
    if (st == RUV_OK)
        st = get_hex(m[2], "rulake_ext.signature.sig", sc->signature, 64);
    if (st == RUV_OK) {
        ruv__lake_hex(kid, 8, sc->key_id);
        sc->has_signature = 1;
    }
    return st;
}

/* Required members: missing is an error, then the typed getters. "in"
 * names the enclosing object in messages (NULL at the top level). */
static int req_uint(const json_t *obj, const char *key, const char *field, const char *in,
                    uint64_t *out)
{
    *out = 0;
    const json_t *v = need(obj, key, in);
    return v ? get_uint(v, field, out) : RUV_E_CORRUPT;
}

static int req_string(const json_t *obj, const char *key, const char *field, const char *in,
                      char *dst)
{
    const json_t *v = need(obj, key, in);
    return v ? get_string(v, field, RUV_LAKE_STRING_MAX, dst) : RUV_E_CORRUPT;
}

static int req_hex(const json_t *obj, const char *key, const char *field, const char *in,
                   uint8_t *dst, size_t n)
{
    const json_t *v = need(obj, key, in);
    return v ? get_hex(v, field, dst, n) : RUV_E_CORRUPT;
}

static int parse_ext(const json_t *ext, struct ruv__lake_sidecar *sc)
{
    static const char *const names[] = {"ext_version", "backend",    "collection",
                                        "index_params", "count",     "content_digest",
                                        "witness_v2",  "index",      "meta_digest",
                                        "signature",   NULL};
    static const char in[] = "rulake_ext";
    if (!json_is_object(ext))
        return bad("rulake_ext", "must be an object");
    uint64_t u;
    int st = only_members(ext, names, in);
    if (st == RUV_OK && (st = req_uint(ext, "ext_version", "rulake_ext.ext_version", in, &u)) ==
                            RUV_OK && u != RUV_LAKE_EXT_VERSION)
        st = bad("rulake_ext.ext_version", "is %" PRIu64 "; this reader knows only 1", u);
    if (st != RUV_OK)
        return st;
    sc->ext_version = (uint32_t)u;
    if ((st = get_opt_string(json_object_get(ext, "backend"), "rulake_ext.backend",
                             &sc->backend)) != RUV_OK ||
        (st = get_opt_string(json_object_get(ext, "collection"), "rulake_ext.collection",
                             &sc->collection)) != RUV_OK ||
        (st = req_string(ext, "index_params", "rulake_ext.index_params", in,
                         sc->index_params)) != RUV_OK ||
        (st = req_uint(ext, "count", "rulake_ext.count", in, &sc->count)) != RUV_OK ||
        (st = req_hex(ext, "content_digest", "rulake_ext.content_digest", in, sc->content_digest,
                      32)) != RUV_OK ||
        (st = req_hex(ext, "witness_v2", "rulake_ext.witness_v2", in, sc->witness_v2, 32)) !=
            RUV_OK ||
        (st = parse_index(json_object_get(ext, "index"), sc)) != RUV_OK)
        return st;
    const json_t *v = json_object_get(ext, "meta_digest");
    if (v && !json_is_null(v)) {
        if ((st = get_hex(v, "rulake_ext.meta_digest", sc->meta_digest, 32)) != RUV_OK)
            return st;
        sc->has_meta_digest = 1;
    }
    if ((st = parse_signature(json_object_get(ext, "signature"), sc)) != RUV_OK)
        return st;
    if (sc->has_signature && !sc->has_meta_digest)
        return bad("rulake_ext.signature", "needs a meta_digest to cover");
    sc->has_ext = 1;
    return RUV_OK;
}

static int parse_generation(const json_t *root, struct ruv__lake_sidecar *sc)
{
    const json_t *v = need(root, "generation", NULL);
    if (!v)
        return RUV_E_CORRUPT;
    if (json_is_string(v)) {
        sc->gen_opaque = 1;
        return get_bytes(v, "generation", RUV_LAKE_OPAQUE_GEN_MAX, sc->gen_str, &sc->gen_len);
    }
    if (json_is_integer(v))
        return get_uint(v, "generation", &sc->gen_num);
    return bad("generation", "must be an integer or a string");
}

static int parse_root(const json_t *root, struct ruv__lake_sidecar *sc)
{
    if (!json_is_object(root))
        return ruv__detail_set(RUV_E_CORRUPT, "the top level must be a JSON object");
    uint64_t u;
    int st = req_uint(root, "format_version", "format_version", NULL, &u);
    if (st == RUV_OK && u > RUV_LAKE_FORMAT_VERSION)
        st = bad("format_version", "is %" PRIu64 "; this reader knows 0 to 2", u);
    if (st != RUV_OK)
        return st;
    sc->format_version = (uint32_t)u;
    if ((st = req_string(root, "data_ref", "data_ref", NULL, sc->data_ref)) != RUV_OK ||
        (st = req_uint(root, "dim", "dim", NULL, &sc->dim)) != RUV_OK)
        return st;
    if (sc->dim == 0)
        return bad("dim", "must be at least 1");
    if ((st = req_uint(root, "rotation_seed", "rotation_seed", NULL, &sc->rotation_seed)) !=
            RUV_OK ||
        (st = req_uint(root, "rerank_factor", "rerank_factor", NULL, &sc->rerank_factor)) !=
            RUV_OK ||
        (st = parse_generation(root, sc)) != RUV_OK ||
        (st = req_hex(root, "rvf_witness", "rvf_witness", NULL, sc->rvf_witness, 32)) != RUV_OK ||
        (st = get_opt_string(json_object_get(root, "pii_policy"), "pii_policy",
                             &sc->pii_policy)) != RUV_OK ||
        (st = get_opt_string(json_object_get(root, "lineage_id"), "lineage_id",
                             &sc->lineage_id)) != RUV_OK ||
        (st = get_opt_string(json_object_get(root, "memory_class"), "memory_class",
                             &sc->memory_class)) != RUV_OK)
        return st;
    const json_t *v = json_object_get(root, "rulake_ext");
    if (v && !json_is_null(v))
        return parse_ext(v, sc);
    return RUV_OK;
}

int ruv__lake_sidecar_parse(const char *json, size_t len, struct ruv__lake_sidecar *out)
{
    memset(out, 0, sizeof *out);
    if (len > RUV_LAKE_SIDECAR_MAX)
        return ruv__detail_set(RUV_E_CORRUPT, "%zu bytes, over the %u-byte limit", len,
                               RUV_LAKE_SIDECAR_MAX);
    json_error_t err;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
    if (!root) {
        /* jansson says "too big integer" for anything beyond int64. */
        const char *extra = strstr(err.text, "too big integer") ? " (above 2^63 - 1)" : "";
        return ruv__detail_set(RUV_E_CORRUPT, "invalid JSON at line %d column %d: %s%s",
                               err.line, err.column, err.text, extra);
    }
    int st = parse_root(root, out);
    json_decref(root);
    if (st != RUV_OK)
        memset(out, 0, sizeof *out);
    return st;
}

int ruv__lake_sidecar_read_at(int dirfd, const char *name, struct ruv__lake_sidecar *out)
{
    memset(out, 0, sizeof *out);
    int fd;
    int rc = ruv__lake_open_read_at(dirfd, name, &fd);
    if (rc != RUV_OK)
        return rc;
    struct stat st;
    char *buf = NULL;
    size_t got = 0;
    if (fstat(fd, &st) != 0)
        rc = ruv__detail_set(RUV_E_IO, "%s: fstat: %s", name, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        rc = ruv__detail_set(RUV_E_CORRUPT, "%s: not a regular file", name);
    else if (st.st_size > (off_t)RUV_LAKE_SIDECAR_MAX)
        rc = ruv__detail_set(RUV_E_CORRUPT, "%s: %lld bytes, over the %u-byte limit", name,
                             (long long)st.st_size, RUV_LAKE_SIDECAR_MAX);
    else if (!(buf = malloc(RUV_LAKE_SIDECAR_MAX + 1)))
        rc = ruv__detail_set(RUV_E_NOMEM, "%s: out of memory", name);
    /* Read up to one byte past the limit: a file that grew after fstat is
     * caught here instead of being read without end. */
    while (rc == RUV_OK && got < RUV_LAKE_SIDECAR_MAX + 1) {
        ssize_t n = read(fd, buf + got, RUV_LAKE_SIDECAR_MAX + 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = ruv__detail_set(RUV_E_IO, "%s: read: %s", name, strerror(errno));
        else if (n == 0)
            break;
        else
            got += (size_t)n;
    }
    close(fd);
    if (rc == RUV_OK && got > RUV_LAKE_SIDECAR_MAX)
        rc = ruv__detail_set(RUV_E_CORRUPT, "%s: grew past the %u-byte limit while read", name,
                             RUV_LAKE_SIDECAR_MAX);
    if (rc == RUV_OK && (rc = ruv__lake_sidecar_parse(buf, got, out)) != RUV_OK)
        ruv__detail_prefix(rc, "%s", name);
    free(buf);
    return rc;
}
