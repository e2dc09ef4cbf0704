/* Witnesses v1 and v2, the content digest and the bundle meta digest
 * (rulake.md §6). Every hash is SHAKE-256 with 32 output bytes, through
 * crypto.h; every function returns a ruv_status and writes raw bytes (use
 * ruv__lake_hex for the 64-character form). */
#ifndef RULAKE_WITNESS_H
#define RULAKE_WITNESS_H

#include <stddef.h>
#include <stdint.h>

#define RUV_LAKE_DIGEST_BYTES 32
#define RUV_LAKE_CONTENT_LEAF_ROWS 16384u /* L in §6.2; fixed by the format */
#define RUV_LAKE_PARAMS_MAX 96            /* room for the longest §6.3 parameter string */

/* A backend's generation: numeric (ruvector's Num) or opaque UTF-8 text. */
struct ruv__lake_gen {
    int opaque;      /* 0: numeric, use num; 1: opaque, use str/len */
    uint64_t num;
    const char *str; /* borrowed; need not be NUL-terminated */
    size_t len;
};

/* ruvector's witness (§6.1), byte for byte. data_ref is len bytes of UTF-8. */
int ruv__lake_witness_v1(const char *data_ref, size_t data_ref_len, uint64_t dim,
                         uint64_t rotation_seed, uint64_t rerank_factor,
                         const struct ruv__lake_gen *gen, uint8_t out[32]);

/* Writes P = "index=rabitq_plus;metric=<m>;bits=<b>;nlist=<n>" into buf
 * (RUV_LAKE_PARAMS_MAX bytes). metric must be "l2", "ip" or "cosine"; bits
 * 1..8. Returns RUV_OK or RUV_E_INVAL naming the bad parameter. */
int ruv__lake_index_params(char *buf, size_t size, const char *metric, unsigned bits,
                           uint64_t nlist);

/* v2 (§6.3): v1, the parameter string P (len bytes) and the content digest. */
int ruv__lake_witness_v2(const uint8_t v1[32], const char *params, size_t params_len,
                         const uint8_t content_digest[32], uint8_t out[32]);

/* Checks rows for the content digest: ids strictly ascending (a repeat is
 * "duplicate id N", a step back "ids not ascending at id N") and every
 * float finite ("id N: component C is NaN/infinite"). Row i is
 * ids[order[i]] / vectors + order[i]*dim, or row i itself when order is
 * NULL; order lets a caller hash in id order without moving the rows.
 * Returns RUV_OK or RUV_E_INVAL. */
int ruv__lake_rows_check(const uint64_t *ids, const float *vectors, const uint64_t *order,
                         uint64_t n, uint32_t dim);

/* One leaf of §6.2: rows [j*L, j*L + rows) in the order above. Does not
 * check the rows (ruv__lake_rows_check does); exists on its own so that
 * leaves can be hashed in parallel by the caller. */
int ruv__lake_content_leaf(uint64_t j, const uint64_t *ids, const float *vectors,
                           const uint64_t *order, uint64_t rows, uint32_t dim, uint8_t out[32]);

/* The root of §6.2 over nleaves = ceil(n / L) leaves (32 bytes each). */
int ruv__lake_content_root(uint64_t n, uint32_t dim, const uint8_t *leaves, uint64_t nleaves,
                           uint8_t out[32]);

/* The whole content digest: checks the rows, hashes every leaf (serially
 * for now; the thread pool of the host table will run leaves in parallel),
 * then the root. n = 0 is valid. dim must be >= 1. */
int ruv__lake_content_digest(const uint64_t *ids, const float *vectors, const uint64_t *order,
                             uint64_t n, uint32_t dim, uint8_t out[32]);

/* The same digest for rows that already passed ruv__lake_rows_check, so a
 * reader that checks them itself (to report its own status) does not scan
 * them twice. */
int ruv__lake_content_hash(const uint64_t *ids, const float *vectors, const uint64_t *order,
                           uint64_t n, uint32_t dim, uint8_t out[32]);

/* The fields of the meta digest (§6.4). NULL strings are "absent or null";
 * index_shake NULL hashes as 32 zero bytes. All borrowed. */
struct ruv__lake_meta {
    uint32_t format_version, ext_version;
    const char *backend, *collection, *pii_policy, *lineage_id, *memory_class, *index_file;
    uint64_t index_bytes;
    const uint8_t *index_shake;
};
int ruv__lake_meta_digest(const struct ruv__lake_meta *m, uint8_t out[32]);

/* The signed message: "rulake-bundle-signature-v1|" ‖ v2 ‖ meta digest. */
#define RUV_LAKE_SIG_PREFIX "rulake-bundle-signature-v1|"
#define RUV_LAKE_SIG_MSG_BYTES (sizeof(RUV_LAKE_SIG_PREFIX) - 1 + 64)
void ruv__lake_signature_message(const uint8_t v2[32], const uint8_t meta[32],
                                 uint8_t msg[RUV_LAKE_SIG_MSG_BYTES]);

/* key_id: hex of the first 8 bytes of SHAKE-256/32(raw public key). */
int ruv__lake_key_id(const uint8_t pub[32], char hex[17]);

#endif
