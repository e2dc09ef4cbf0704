/* The bundle sidecar table.rulake.json (rulake.md §10.1): a strict reader,
 * a writer, and the integrity fields (witnesses, meta digest, Ed25519
 * signature, §6.4-6.5). The JSON itself goes through jansson.
 *
 * struct ruv__lake_sidecar holds every string inline (about 37 KiB), so it
 * owns nothing and needs no free; allocate it on the heap or statically. */
#ifndef RULAKE_SIDECAR_H
#define RULAKE_SIDECAR_H

#include <stddef.h>
#include <stdint.h>

#define RUV_LAKE_SIDECAR_NAME "table.rulake.json"
#define RUV_LAKE_SIDECAR_MAX 65536u   /* bytes: larger files are refused unread */
#define RUV_LAKE_STRING_MAX 4096u     /* bytes of any string field */
#define RUV_LAKE_OPAQUE_GEN_MAX 1024u /* bytes of an opaque generation */
#define RUV_LAKE_FORMAT_VERSION 2u    /* what we write; we read 0..2 */
#define RUV_LAKE_EXT_VERSION 1u

/* A string that may be absent (or JSON null): present = 0 means NULL in
 * the meta digest. */
struct ruv__lake_opt_str {
    int present;
    char s[RUV_LAKE_STRING_MAX + 1];
};

struct ruv__lake_sidecar {
    /* ruvector's fields, in its order */
    uint32_t format_version;
    char data_ref[RUV_LAKE_STRING_MAX + 1];
    uint64_t dim, rotation_seed, rerank_factor;
    int gen_opaque; /* 0: numeric gen_num; 1: opaque gen_str (gen_len bytes, may hold NUL) */
    uint64_t gen_num;
    char gen_str[RUV_LAKE_OPAQUE_GEN_MAX + 1];
    size_t gen_len;
    uint8_t rvf_witness[32];
    struct ruv__lake_opt_str pii_policy, lineage_id, memory_class;
    /* rulake_ext: absent in ruvector's bundles (v1-only) */
    int has_ext;
    uint32_t ext_version;
    struct ruv__lake_opt_str backend, collection;
    char index_params[RUV_LAKE_STRING_MAX + 1];
    uint64_t count;
    uint8_t content_digest[32], witness_v2[32];
    int has_index; /* a cache directory's index file */
    char index_file[RUV_LAKE_STRING_MAX + 1];
    uint64_t index_bytes;
    uint8_t index_shake256[32];
    int has_meta_digest;
    uint8_t meta_digest[32];
    int has_signature; /* alg is always ed25519 */
    char key_id[17];
    uint8_t signature[64];
};

/* Parses len bytes of JSON into out (cleared first). Enforces every rule
 * of §10.1 except the file checks: duplicate keys, integers above 2^63 - 1
 * or negative, format_version > 2, ext_version other than 1, unknown
 * members inside rulake_ext (top-level members we do not know are
 * ignored, as ruvector's reader ignores rulake_ext), strings over 4 KiB
 * (opaque generation: 1 KiB), hex that is not exactly 64 lowercase
 * characters (signature 128, key_id 16), wrong types, missing required
 * fields. Returns RUV_OK or RUV_E_CORRUPT naming the field. Does not check
 * witnesses: see ruv__lake_sidecar_verify. */
int ruv__lake_sidecar_parse(const char *json, size_t len, struct ruv__lake_sidecar *out);

/* Reads dirfd/name (name is normally RUV_LAKE_SIDECAR_NAME): opens with
 * O_NOFOLLOW, fstat (a regular file of at most 64 KiB) before reading,
 * reads at most 64 KiB + 1 bytes, parses. RUV_E_NOTFOUND when the file
 * does not exist; RUV_E_CORRUPT for a symlink, a non-regular file, an
 * oversized file or bad content; RUV_E_IO for other system errors. Every
 * detail starts with the name. */
int ruv__lake_sidecar_read_at(int dirfd, const char *name, struct ruv__lake_sidecar *out);

/* Serializes sc (already sealed) as JSON: ruvector's members in its
 * order, then rulake_ext when has_ext. *out is malloc'd; the caller frees
 * it with free(). Returns RUV_OK, RUV_E_INVAL (a value the reader would
 * refuse, e.g. an integer above 2^63 - 1) or RUV_E_NOMEM. */
int ruv__lake_sidecar_dump(const struct ruv__lake_sidecar *sc, char **out);

/* Dumps sc and writes it to dirfd/RUV_LAKE_SIDECAR_NAME through
 * ruv__lake_write_at (temp, fsync, rename: the rename is the commit). */
int ruv__lake_sidecar_write_at(int dirfd, const struct ruv__lake_sidecar *sc);

/* Fills the integrity fields from the others: rvf_witness; with has_ext,
 * witness_v2 (from index_params and content_digest, which the caller set)
 * and the meta digest; with a private key (raw 32 bytes), the signature and
 * key_id. Sets format_version/ext_version to ours when has_ext. */
int ruv__lake_sidecar_seal(struct ruv__lake_sidecar *sc, const uint8_t *private_key);

/* The read-side checks of §6.5 on a parsed sidecar: v1; v2 and the meta
 * digest if present; with npub > 0 public keys (raw 32 bytes each), a
 * signature by one of them (unsigned, or signed by another key, fails).
 * Without keys a signature is not checked: only checksums are. where names
 * the file in messages. Returns RUV_OK or RUV_E_INTEGRITY naming the
 * check. */
int ruv__lake_sidecar_verify(const struct ruv__lake_sidecar *sc, const uint8_t (*pub)[32],
                             size_t npub, const char *where);

#endif
