/* Writing a sidecar and its integrity fields (contract in sidecar.h). The
 * reader's limits are checked here too, so we never write a bundle that we
 * (or ruvector) would refuse to read. */
#include "config.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "crypto.h"
#include "lake_error.h"
#include "lake_write.h"
#include "sidecar.h"
#include "witness.h"

static int v1_of(const struct ruv__lake_sidecar *sc, uint8_t out[32])
{
    struct ruv__lake_gen g = {sc->gen_opaque, sc->gen_num, sc->gen_str, sc->gen_len};
    return ruv__lake_witness_v1(sc->data_ref, strlen(sc->data_ref), sc->dim, sc->rotation_seed,
                                sc->rerank_factor, &g, out);
}

static const char *opt(const struct ruv__lake_opt_str *o) { return o->present ? o->s : NULL; }

static int meta_of(const struct ruv__lake_sidecar *sc, uint8_t out[32])
{
    struct ruv__lake_meta m = {
        .format_version = sc->format_version,
        .ext_version = sc->ext_version,
        .backend = opt(&sc->backend),
        .collection = opt(&sc->collection),
        .pii_policy = opt(&sc->pii_policy),
        .lineage_id = opt(&sc->lineage_id),
        .memory_class = opt(&sc->memory_class),
        .index_file = sc->has_index ? sc->index_file : NULL,
        .index_bytes = sc->has_index ? sc->index_bytes : 0,
        .index_shake = sc->has_index ? sc->index_shake256 : NULL,
    };
    return ruv__lake_meta_digest(&m, out);
}

static int v2_of(const struct ruv__lake_sidecar *sc, const uint8_t v1[32], uint8_t out[32])
{
    return ruv__lake_witness_v2(v1, sc->index_params, strlen(sc->index_params),
                                sc->content_digest, out);
}

int ruv__lake_sidecar_seal(struct ruv__lake_sidecar *sc, const uint8_t *private_key)
{
    if (private_key && !sc->has_ext)
        return ruv__detail_set(RUV_E_INVAL, "a signature needs rulake_ext (witness v2)");
    if (sc->has_ext) {
        sc->format_version = RUV_LAKE_FORMAT_VERSION;
        sc->ext_version = RUV_LAKE_EXT_VERSION;
    }
    int st = v1_of(sc, sc->rvf_witness);
    if (st != RUV_OK || !sc->has_ext)
        return st;
    if ((st = v2_of(sc, sc->rvf_witness, sc->witness_v2)) != RUV_OK ||
        (st = meta_of(sc, sc->meta_digest)) != RUV_OK)
        return st;
    sc->has_meta_digest = 1;
    sc->has_signature = 0;
    if (!private_key)
        return RUV_OK;
    uint8_t pub[32], msg[RUV_LAKE_SIG_MSG_BYTES];
    ruv__lake_signature_message(sc->witness_v2, sc->meta_digest, msg);
    if ((st = ruv__lake_ed25519_public(private_key, pub)) != RUV_OK ||
        (st = ruv__lake_key_id(pub, sc->key_id)) != RUV_OK ||
        (st = ruv__lake_ed25519_sign(private_key, msg, sizeof msg, sc->signature)) != RUV_OK)
        return st;
    sc->has_signature = 1;
    return RUV_OK;
}

int ruv__lake_sidecar_verify(const struct ruv__lake_sidecar *sc, const uint8_t (*pub)[32],
                             size_t npub, const char *where)
{
    uint8_t d[32];
    int st = v1_of(sc, d);
    if (st != RUV_OK)
        return st;
    if (memcmp(d, sc->rvf_witness, 32) != 0)
        return ruv__detail_set(RUV_E_INTEGRITY,
                               "%s: rvf_witness (v1) does not match data_ref, dim, "
                               "rotation_seed, rerank_factor and generation", where);
    if (sc->has_ext) {
        uint8_t v2[32];
        if ((st = v2_of(sc, sc->rvf_witness, v2)) != RUV_OK)
            return st;
        if (memcmp(v2, sc->witness_v2, 32) != 0)
            return ruv__detail_set(RUV_E_INTEGRITY,
                                   "%s: witness_v2 does not match v1, index_params and "
                                   "content_digest", where);
    }
    if (sc->has_meta_digest) {
        if ((st = meta_of(sc, d)) != RUV_OK)
            return st;
        if (memcmp(d, sc->meta_digest, 32) != 0)
            return ruv__detail_set(RUV_E_INTEGRITY,
                                   "%s: meta_digest does not match the labels and index fields",
                                   where);
    }
    if (npub == 0)
        return RUV_OK; /* without keys these were checksums, not authenticity */
    if (!sc->has_signature)
        return ruv__detail_set(RUV_E_INTEGRITY,
                               "%s: unsigned, but public keys are configured", where);
    for (size_t i = 0; i < npub; i++) {
        char kid[17];
        if ((st = ruv__lake_key_id(pub[i], kid)) != RUV_OK)
            return st;
        if (strcmp(kid, sc->key_id) != 0)
            continue;
        uint8_t msg[RUV_LAKE_SIG_MSG_BYTES];
        ruv__lake_signature_message(sc->witness_v2, sc->meta_digest, msg);
        st = ruv__lake_ed25519_verify(pub[i], msg, sizeof msg, sc->signature);
        if (st == RUV_E_INTEGRITY)
            return ruv__detail_set(RUV_E_INTEGRITY,
                                   "%s: signature by key_id %s does not verify", where,
                                   sc->key_id);
        return st;
    }
    return ruv__detail_set(RUV_E_INTEGRITY,
                           "%s: signed by key_id %s, which is not a configured public key", where,
                           sc->key_id);
}

/* ---- JSON out ---- */

struct builder {
    int failed; /* first failure's status, 0 if none */
};

static void put(struct builder *b, json_t *obj, const char *key, json_t *value, const char *field)
{
    if (b->failed)
        return (void)json_decref(value);
    if (!value) {
        /* json_string refuses invalid UTF-8; integers and objects only fail on OOM. */
        b->failed = ruv__detail_set(RUV_E_INVAL, "'%s' cannot be written (invalid UTF-8 or "
                                                 "out of memory)", field);
        return;
    }
    if (json_object_set_new(obj, key, value) != 0)
        b->failed = ruv__detail_set(RUV_E_NOMEM, "out of memory writing '%s'", field);
}

static json_t *u63(struct builder *b, uint64_t v, const char *field)
{
    if (v > (uint64_t)INT64_MAX) {
        if (!b->failed)
            b->failed = ruv__detail_set(RUV_E_INVAL, "'%s' is %" PRIu64 ", above 2^63 - 1, "
                                                     "which sidecars cannot carry", field, v);
        return NULL;
    }
    return json_integer((json_int_t)v);
}

static json_t *str(struct builder *b, const char *s, size_t len, size_t max, const char *field)
{
    if (len > max) {
        if (!b->failed)
            b->failed = ruv__detail_set(RUV_E_INVAL, "'%s' is %zu bytes, over %zu", field, len,
                                        max);
        return NULL;
    }
    return json_stringn(s, len);
}

static json_t *opt_str(struct builder *b, const struct ruv__lake_opt_str *o, const char *field)
{
    return o->present ? str(b, o->s, strlen(o->s), RUV_LAKE_STRING_MAX, field) : json_null();
}

static json_t *hex(const uint8_t *p, size_t n)
{
    char h[129];
    ruv__lake_hex(p, n, h);
    return json_string(h);
}

static json_t *ext_json(struct builder *b, const struct ruv__lake_sidecar *sc)
{
    json_t *e = json_object();
    if (!e) {
        b->failed = ruv__detail_set(RUV_E_NOMEM, "out of memory writing rulake_ext");
        return NULL;
    }
    put(b, e, "ext_version", json_integer(sc->ext_version), "ext_version");
    if (sc->backend.present)
        put(b, e, "backend", opt_str(b, &sc->backend, "backend"), "backend");
    if (sc->collection.present)
        put(b, e, "collection", opt_str(b, &sc->collection, "collection"), "collection");
    put(b, e, "index_params",
        str(b, sc->index_params, strlen(sc->index_params), RUV_LAKE_STRING_MAX, "index_params"),
        "index_params");
    put(b, e, "count", u63(b, sc->count, "count"), "count");
    put(b, e, "content_digest", hex(sc->content_digest, 32), "content_digest");
    put(b, e, "witness_v2", hex(sc->witness_v2, 32), "witness_v2");
    if (sc->has_index) {
        json_t *ix = json_object();
        put(b, ix, "file", json_string(sc->index_file), "index.file");
        put(b, ix, "bytes", u63(b, sc->index_bytes, "index.bytes"), "index.bytes");
        put(b, ix, "shake256", hex(sc->index_shake256, 32), "index.shake256");
        put(b, e, "index", ix, "index");
    } else {
        put(b, e, "index", json_null(), "index");
    }
    if (sc->has_meta_digest)
        put(b, e, "meta_digest", hex(sc->meta_digest, 32), "meta_digest");
    if (sc->has_signature) {
        json_t *sg = json_object();
        put(b, sg, "alg", json_string("ed25519"), "signature.alg");
        put(b, sg, "key_id", json_string(sc->key_id), "signature.key_id");
        put(b, sg, "sig", hex(sc->signature, 64), "signature.sig");
        put(b, e, "signature", sg, "signature");
    }
    return e;
}

int ruv__lake_sidecar_dump(const struct ruv__lake_sidecar *sc, char **out)
{
    *out = NULL;
    struct builder b = {0};
    json_t *root = json_object();
    if (!root)
        return ruv__detail_set(RUV_E_NOMEM, "out of memory writing a sidecar");
    put(&b, root, "format_version", json_integer(sc->format_version), "format_version");
    put(&b, root, "data_ref",
        str(&b, sc->data_ref, strlen(sc->data_ref), RUV_LAKE_STRING_MAX, "data_ref"), "data_ref");
    put(&b, root, "dim", u63(&b, sc->dim, "dim"), "dim");
    put(&b, root, "rotation_seed", u63(&b, sc->rotation_seed, "rotation_seed"), "rotation_seed");
    put(&b, root, "rerank_factor", u63(&b, sc->rerank_factor, "rerank_factor"), "rerank_factor");
    put(&b, root, "generation",
        sc->gen_opaque ? str(&b, sc->gen_str, sc->gen_len, RUV_LAKE_OPAQUE_GEN_MAX, "generation")
                       : u63(&b, sc->gen_num, "generation"),
        "generation");
    put(&b, root, "rvf_witness", hex(sc->rvf_witness, 32), "rvf_witness");
    put(&b, root, "pii_policy", opt_str(&b, &sc->pii_policy, "pii_policy"), "pii_policy");
    put(&b, root, "lineage_id", opt_str(&b, &sc->lineage_id, "lineage_id"), "lineage_id");
    if (sc->memory_class.present) /* ruvector omits it when absent */
        put(&b, root, "memory_class", opt_str(&b, &sc->memory_class, "memory_class"),
            "memory_class");
    if (sc->has_ext)
        put(&b, root, "rulake_ext", ext_json(&b, sc), "rulake_ext");
    char *text = b.failed ? NULL : json_dumps(root, JSON_INDENT(2));
    json_decref(root);
    if (b.failed)
        return b.failed;
    if (!text)
        return ruv__detail_set(RUV_E_NOMEM, "out of memory serializing a sidecar");
    if (strlen(text) > RUV_LAKE_SIDECAR_MAX) {
        size_t n = strlen(text);
        free(text);
        return ruv__detail_set(RUV_E_INVAL, "sidecar would be %zu bytes, over the %u-byte limit",
                               n, RUV_LAKE_SIDECAR_MAX);
    }
    *out = text;
    return RUV_OK;
}

static int fill_text(struct ruv__lake_out *out, void *ctx)
{
    const char *text = ctx;
    return ruv__lake_out_write(out, text, strlen(text), RUV_LAKE_SIDECAR_NAME);
}

int ruv__lake_sidecar_write_at(int dirfd, const struct ruv__lake_sidecar *sc)
{
    char *text;
    int st = ruv__lake_sidecar_dump(sc, &text);
    if (st != RUV_OK)
        return st;
    st = ruv__lake_write_at(dirfd, RUV_LAKE_SIDECAR_NAME, fill_text, text);
    free(text);
    return st;
}
