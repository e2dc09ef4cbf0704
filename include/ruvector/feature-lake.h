/* ruvector/feature-lake.h — the ops table of the `rulake` feature plugin
 * (RUV_FEATURE_LAKE), for hosts that drive it: get it with
 *
 *     const struct ruv_lake_ops *ops; void *st;
 *     ruv_engine_load_plugin(eng, "rulake");
 *     ruv_engine_feature_get(eng, "rulake", RUV_FEATURE_LAKE,
 *                            RUV_LAKE_OPS_SIZE_V1, (const void **)&ops, &st);
 *
 * and pass st as each call's first argument. Every call returns a
 * ruv_status with the detail in ruv_last_error(), and is thread-safe.
 *
 * The table is append-only, struct_size first (docs/plugins.md). These are
 * its first slots: the witnesses and the sidecar check of rulake.md §6.
 * The lake itself (open, backends, search, bundles, cache; rulake.md §3)
 * is appended after them by later versions; a host that needs those asks
 * for the larger min_ops_size of that version. */
#ifndef RUVECTOR_FEATURE_LAKE_H
#define RUVECTOR_FEATURE_LAKE_H

#include <stddef.h>
#include <stdint.h>

#include <ruvector/plugin.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The fields of a v1 witness (rulake.md §6.1): a collection's description
 * as a backend gives it. Borrowed by the call. */
struct ruv_lake_witness_in {
    uint32_t struct_size;   /* sizeof(struct ruv_lake_witness_in) */
    uint32_t gen_is_opaque; /* 0: gen_num; 1: gen_opaque (gen_len bytes of UTF-8) */
    const char *data_ref;   /* data_ref_len bytes of UTF-8, at most 4096 */
    size_t data_ref_len;
    uint64_t dim, rotation_seed, rerank_factor;
    uint64_t gen_num;
    const char *gen_opaque; /* at most 1024 bytes; may be NULL when gen_len is 0 */
    size_t gen_len;
};

/* Index parameters that v2 covers (the §6.3 parameter string). */
struct ruv_lake_index_params {
    uint32_t struct_size; /* sizeof(struct ruv_lake_index_params) */
    uint32_t bits;        /* 1..8 */
    const char *metric;   /* "l2", "ip" or "cosine" */
    uint64_t nlist;
};

struct ruv_lake_ops {
    uint32_t struct_size;
    uint32_t reserved;
    /* The v1 witness of w as 64 lowercase hex digits and a NUL: ruvector's
     * compute_witness, byte for byte. RUV_E_INVAL names a bad field. */
    int (*witness_v1)(void *plugin_state, const struct ruv_lake_witness_in *w, char hex[65]);
    /* The v2 witness (§6.3) of w, p and n rows of dim = w->dim floats with
     * their ids, in any order (the digest sorts by id): ids unique, every
     * float finite, else RUV_E_INVAL naming the id. n = 0 is valid. The
     * content digest (§6.2) goes to digest_hex (65 bytes, like hex) when
     * it is not NULL. Nothing is kept: the rows are only read. */
    int (*witness_v2)(void *plugin_state, const struct ruv_lake_witness_in *w,
                      const struct ruv_lake_index_params *p, const uint64_t *ids,
                      const float *vectors, uint64_t n, char hex[65], char *digest_hex);
    /* Reads and checks the sidecar table.rulake.json of the bundle
     * directory dir (§10.1 reader, §6.5 checks): its v1 witness, and v2,
     * the meta digest and the signature when present; with nkeys > 0 raw
     * Ed25519 public keys, a signature by one of them is required (keys
     * borrowed by the call). On RUV_OK writes the sidecar's witnesses as
     * hex into v1_hex and v2_hex (65 bytes each, either may be NULL;
     * v2_hex "" for a v1-only bundle). Returns RUV_OK, RUV_E_NOTFOUND (no
     * such directory, or no sidecar in it), RUV_E_CORRUPT (a symlink, an
     * oversized or malformed sidecar), RUV_E_INTEGRITY (a check failed;
     * the detail names it and the path) or RUV_E_IO. */
    int (*sidecar_verify)(void *plugin_state, const char *dir, const uint8_t (*keys)[32],
                          size_t nkeys, char *v1_hex, char *v2_hex);
};

#define RUV_LAKE_OPS_SIZE_V1 (offsetof(struct ruv_lake_ops, sidecar_verify) + sizeof(void (*)(void)))

#ifdef __cplusplus
}
#endif
#endif
