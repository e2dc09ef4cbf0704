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
 * follows in version 2 (RUV_LAKE_OPS_SIZE_V2): open a lake, register
 * backends (the built-in LocalBackend and FsBackend, or the host's own),
 * search, invalidate, statistics; version 3 (RUV_LAKE_OPS_SIZE_V3) adds
 * publish_bundle; version 4 (RUV_LAKE_OPS_SIZE_V4) submit_supplied (a host
 * that describes or pulls on its own event loop) and key_from_pem. */
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

/* ---- version 2: the lake (rulake.md §3, §5, §7, §8) ---- */

/* Consistency modes (rulake.md §5; Python's Consistency IntEnum). */
enum ruv_lake_consistency {
    RUV_LAKE_FRESH = 0,    /* describe before every search, batch or shard */
    RUV_LAKE_EVENTUAL = 1, /* describe again once ttl_ms passed since the last check */
    RUV_LAKE_STALE = 2     /* describe only while the key has no entry */
};

/* refresh_from_bundle_dir results (Python's RefreshResult IntEnum). */
enum ruv_lake_refresh {
    RUV_LAKE_UP_TO_DATE = 0,     /* the bundle names the entry the key holds */
    RUV_LAKE_INVALIDATED = 1,    /* it names another state of the same data: entry dropped */
    RUV_LAKE_BUNDLE_MISSING = 2, /* no such directory or no sidecar in it */
    RUV_LAKE_NOT_CACHED = 3,     /* the key holds no entry */
    RUV_LAKE_FOREIGN = 4         /* another key, data_ref, dim or parameters: ignored */
};

/* Query flags (ruv_lake_query.flags). */
enum {
    RUV_LAKE_PARTIAL = 1u << 0,    /* federation: failed targets do not fail the call */
    RUV_LAKE_DEDUPE_IDS = 1u << 1, /* federation: the best hit per id only */
    RUV_LAKE_NO_PRIME = 1u << 2,   /* a key that would need a pull is RUV_E_MISS instead */
    /* A warm-up search (what Python's warm_from_dir ends with): one target,
     * its cached entry searched as it is, with no coherence step and no
     * backend call, counted in no statistic; RUV_E_MISS when the key holds
     * no entry. dim may be 0 with nq 1 (queries unused): the lake then
     * first searches with up to 16 of the entry's own stored rows, evenly
     * spaced, as queries (hits dropped), and last with the unit vector
     * along the diagonal (each component 1/sqrt(dim)), whose hits are
     * written as by any search. It brings into the CPU caches what every
     * search of the key touches (code, the index's codes, the scratch) and
     * the rows that searches of data-like queries re-rank most: one
     * made-up query left the first real search ~2x the steady state
     * (cache contents build up over several data-like searches). */
    RUV_LAKE_WARMUP = 1u << 3,
    /* With RUV_LAKE_WARMUP only: then the key's registered backend is asked
     * for its description once, as a FRESH check asks (shared with
     * concurrent checks like any describe), and the witness memo compared;
     * the answer is dropped, no statistic counts it, and its failure does
     * not fail the warm-up. After a warm restart the first describe of a
     * key cost ~130 us more than later ones (cold code and data along the
     * coherence step; FsBackend, ruvector-demo-100k) and sat on the first
     * FRESH search. Python's warm_from_dir sets it for a registered
     * LocalBackend or FsBackend when the lake checks (not STALE). */
    RUV_LAKE_WARMUP_DESCRIBE = 1u << 4
};

/* The lake's settings; fill with config_init, then change fields. Fixed
 * once the lake is open. */
struct ruv_lake_config {
    uint32_t struct_size;   /* sizeof(struct ruv_lake_config) */
    uint32_t consistency;   /* enum ruv_lake_consistency; default FRESH */
    uint64_t ttl_ms;        /* EVENTUAL only (else must be 0); 0 acts as FRESH */
    uint32_t rerank_factor; /* >= 1; default 20 (a cap for the error-bound rerank) */
    uint32_t metric;        /* ruv_metric; default RUV_METRIC_L2 */
    uint32_t bits;          /* RaBitQ bits, 1..8, or RUV_INDEX_AUTO (the default): the
                               engine's plan chooses per collection (docs/rulake.md) */
    uint32_t nlist;         /* IVF lists, or RUV_INDEX_AUTO (the default); the spec's
                               values, bits 1 and nlist 0, must be set explicitly */
    uint64_t rotation_seed; /* < 2^63; default 42 */
    uint64_t max_entries;   /* 0: no cap */
    uint64_t max_bytes;     /* cache budget; default half of physical memory */
    uint32_t threads;       /* pool threads per build or batch; 0: the engine's */
    uint32_t npublic_keys;  /* > 0: warm and refresh require a sidecar signed by one of */
    const uint8_t (*public_keys)[32]; /* these raw Ed25519 keys (copied by open) */
    uint32_t has_signing_key; /* 1: save_cache_to_dir signs with signing_key */
    uint8_t signing_key[32];  /* raw Ed25519 private key (seed) */
};

/* A backend's description of a collection (rulake.md §3); inline, nothing
 * to free. Strings are UTF-8 with their lengths (a NUL follows). */
struct ruv_lake_desc {
    uint32_t struct_size;   /* sizeof(struct ruv_lake_desc) */
    uint32_t dim;
    uint32_t gen_is_opaque; /* 0: gen_num; 1: gen_opaque */
    uint32_t has_digest;    /* 1: content_digest and count describe the rows exactly */
    uint32_t data_ref_len, gen_len;
    uint64_t gen_num, count;
    char data_ref[4096], gen_opaque[1024];
    uint8_t content_digest[32];
};

/* One pull: n unique ids in any order and n*dim row-major floats, owned by
 * the backend until release(owner) (release may be NULL). desc describes
 * exactly the rows returned. */
struct ruv_lake_batch {
    uint32_t struct_size, dim;
    uint64_t n;
    const uint64_t *ids;
    const float *vectors;
    struct ruv_lake_desc desc;
    void (*release)(void *owner);
    void *owner;
};

#define RUV_LAKE_BACKEND_THREADSAFE 1u /* calls may overlap; else the lake serialises them */

/* A backend: written by C hosts, the Python extension and the plugin's own
 * LocalBackend and FsBackend. A failing call returns a ruv_status with its
 * detail in the calling thread's ruv_last_error() (or in last_error(state)
 * when the backend has one); the lake wraps it as
 * RUV_E_BACKEND "backend 'b' collection 'c': ..." (RUV_E_NOTFOUND for an
 * unknown collection and RUV_E_INTEGRITY pass through, with that prefix).
 * No backend call runs under a lake lock. */
struct ruv_lake_backend {
    uint32_t struct_size;  /* sizeof(struct ruv_lake_backend) */
    uint32_t flags;        /* RUV_LAKE_BACKEND_THREADSAFE */
    const char *name;      /* [A-Za-z0-9._-]{1,64}; copied by register_backend */
    void *state;
    int (*describe)(void *state, const char *collection, struct ruv_lake_desc *out); /* cheap */
    int (*pull)(void *state, const char *collection, struct ruv_lake_batch *out);
    int (*list_collections)(void *state, int (*emit)(void *ctx, const char *c), void *ctx);
    void (*destroy)(void *state); /* optional; called once when the lake closes */
    /* Optional: the detail of this backend's last failure on the calling
     * thread, for hosts that cannot set ruv_last_error() (the Python
     * extension); the lake reads it right after a failing call. */
    const char *(*last_error)(void *state);
};

struct ruv_lake_target {
    const char *backend;    /* NULL: the only registered backend */
    const char *collection;
};

/* ---- version 4: what a host obtains itself (submit_supplied) ---- */
#define RUV_LAKE_SUPPLY_DESCRIBE 1u /* the host describes this target (the lake never does) */
#define RUV_LAKE_SUPPLY_PULL 2u     /* the host pulls this target's rows (the lake never does) */

/* One target of a submitted query whose backend the host drives itself
 * (Python's BackendAdapter with `async def describe` / `pull_vectors`,
 * awaited on the caller's event loop, so that a slow remote call holds no
 * pool thread). flags say what the host does; when the coherence step
 * needs a description or rows the host has not given, that target stops
 * with RUV_E_MISS and needs says what it lacked: the host obtains it and
 * submits again with it. desc must come from a describe the host began
 * after its call did (rulake.md §5 step 3); batch is borrowed until done
 * runs (the lake never calls its release) and describes its own rows.
 * Everything else of the coherence step (modes, TTL, witnesses,
 * single-flight, budget) is the lake's, as for any search. */
struct ruv_lake_supply {
    uint32_t struct_size; /* sizeof(struct ruv_lake_supply) */
    uint32_t flags;       /* RUV_LAKE_SUPPLY_DESCRIBE | RUV_LAKE_SUPPLY_PULL */
    const struct ruv_lake_desc *desc;   /* NULL: none given */
    const struct ruv_lake_batch *batch; /* NULL: none given */
    uint32_t needs;    /* written by the lake: RUV_LAKE_SUPPLY_* the target lacked, else 0 */
    uint32_t reserved; /* 0 */
};

struct ruv_lake_hit {
    uint64_t id;
    float score;     /* the index's exact reranked score (squared L2 for l2) */
    uint32_t target; /* index into query.targets */
};

/* One shape for search_one (ntargets 1, nq 1), search_batch (ntargets 1)
 * and federated search (ntargets >= 1, nq 1). Everything is borrowed by the
 * call; hits (nq*k), nhits (nq) and the optional target_status and
 * target_detail (ntargets each) are the caller's. */
struct ruv_lake_query {
    uint32_t struct_size, flags;
    const struct ruv_lake_target *targets;
    uint32_t ntargets;
    const float *queries;
    uint32_t nq, dim, k;
    uint32_t rerank_factor; /* 0: the lake's (per shard: §8's formula) */
    struct ruv_lake_hit *hits;
    uint32_t *nhits;
    int32_t *target_status;
    char (*target_detail)[256];
};

/* Counters (rulake.md §7). Times in nanoseconds. */
struct ruv_lake_stats {
    uint32_t struct_size, reserved;
    uint64_t hits, skipped, misses, prime_failures, checks, primes, shared_hits;
    uint64_t warm_installs, invalidations, evictions, superseded;
    uint64_t entries, bytes, total_prime_ns, last_prime_ns;
};

struct ruv_lake;       /* an open lake */
struct ruv_lake_local; /* a LocalBackend (reference counted) */
struct ruv_lake_fs;    /* an FsBackend (reference counted) */

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

    /* ---- version 2 ---- */

    /* Fills cfg with the defaults above (max_bytes from host physical memory). */
    int (*config_init)(void *plugin_state, struct ruv_lake_config *cfg);
    /* Opens a lake on the plugin's engine, which must outlive it. cfg is
     * copied; *out is the caller's until close. RUV_E_INVAL names a bad field. */
    int (*open)(void *plugin_state, const struct ruv_lake_config *cfg, struct ruv_lake **out);
    /* Waits for the calls in progress on other threads (a search in its
     * pull, a save) to return; calls begun after close began get
     * RUV_E_STATE "the lake is closing" (a call made after close returned
     * uses freed memory: the caller must not). Then cancels queued
     * submitted requests and waits for running ones, frees every entry
     * and destroys the registered backends. NULL: no-op. */
    void (*close)(struct ruv_lake *lake);
    /* Registers b (the struct is copied, the name too). On RUV_OK the lake
     * owns b->state (destroy at close); on failure the caller still does.
     * RUV_E_INVAL for a bad or duplicate name or missing describe/pull. */
    int (*register_backend)(struct ruv_lake *lake, const struct ruv_lake_backend *b);
    /* Blocking search (rulake.md §5, §8): k >= 1, dim and every target
     * checked before any backend call. Hits ordered by (score, target, id),
     * best first. With RUV_LAKE_PARTIAL returns RUV_OK when any target
     * answered, with target_status set per target (0 or a ruv_status). */
    int (*search)(struct ruv_lake *lake, const struct ruv_lake_query *q);
    /* Drops the key's entry pointer and last check; *was_cached (may be
     * NULL) says whether it had one. Nothing on disk changes. */
    int (*invalidate)(struct ruv_lake *lake, const struct ruv_lake_target *key, int *was_cached);
    /* The key's entry witness (version 1 or 2) as hex; RUV_E_NOTFOUND when
     * the key has no entry. */
    int (*witness_of)(struct ruv_lake *lake, const struct ruv_lake_target *key, int version,
                      char hex[65]);
    /* Counters of one key, of one backend (collection NULL) or of the whole
     * lake (filter NULL; entries and bytes then count distinct entries). */
    int (*stats)(struct ruv_lake *lake, const struct ruv_lake_target *filter,
                 struct ruv_lake_stats *out);

    /* LocalBackend: in-memory collections of (u64 id, dim floats) rows.
     * data_ref local://<name>/<collection>; generation 1 after the first
     * change, +1 per change; a content digest per generation. */
    int (*local_new)(void *plugin_state, const char *name, struct ruv_lake_local **out);
    /* Inserts or replaces n rows (dim fixed by the collection's first put).
     * The ids of one call must be distinct: a repeated id refuses the whole
     * call (RUV_E_INVAL naming it; nothing changes), as do NaN and ±Inf. */
    int (*local_upsert)(struct ruv_lake_local *lb, const char *collection, const uint64_t *ids,
                        const float *vectors, uint64_t n, uint32_t dim);
    /* Replaces the whole collection (n may be 0: an empty collection);
     * the same rules for its rows as local_upsert. */
    int (*local_put_collection)(struct ruv_lake_local *lb, const char *collection,
                                const uint64_t *ids, const float *vectors, uint64_t n,
                                uint32_t dim);
    /* Deletes the ids present (*removed, may be NULL, counts them); absent
     * and repeated ids are ignored, and a call that removes nothing is no
     * change (the generation stays). O(n + m) for n rows and m ids. */
    int (*local_delete)(struct ruv_lake_local *lb, const char *collection, const uint64_t *ids,
                        uint64_t n, uint64_t *removed);
    int (*local_drop_collection)(struct ruv_lake_local *lb, const char *collection);
    /* A backend table over lb for register_backend; holds a reference to
     * lb that out->destroy drops. */
    int (*local_backend)(struct ruv_lake_local *lb, struct ruv_lake_backend *out);
    void (*local_release)(struct ruv_lake_local *lb);

    /* FsBackend: collections are ruvec2 (or ruvector's ruvec1) files in
     * one root directory (rulake.md §10.2). */
    int (*fs_new)(void *plugin_state, const char *name, const char *root,
                  struct ruv_lake_fs **out);
    /* Names the file (ruvector's filename rules) holding a collection. */
    int (*fs_register)(struct ruv_lake_fs *fb, const char *collection, const char *filename);
    /* Writes filename durably as ruvec2 (a fresh write token). */
    int (*fs_write)(struct ruv_lake_fs *fb, const char *filename, const uint64_t *ids,
                    const float *vectors, uint64_t n, uint32_t dim);
    int (*fs_backend)(struct ruv_lake_fs *fb, struct ruv_lake_backend *out);
    void (*fs_release)(struct ruv_lake_fs *fb);

    /* Cache directories (rulake.md §9, §10.1). save_cache_to_dir writes
     * the key's cached entry into dir (created if missing; locked with
     * .rulake.lock): index-<32 hex of v2>.idx unless present, then the
     * sidecar from the entry's own description, whose rename is the
     * commit; then removes index files it does not name. Never primes and
     * never calls the backend. RUV_E_NOTFOUND when the key is not cached,
     * RUV_E_EMPTY for an empty collection. w2 (may be NULL): v2 as hex. */
    int (*save_cache_to_dir)(struct ruv_lake *lake, const struct ruv_lake_target *key,
                             const char *dir, char w2[65]);
    /* Installs the entry saved in dir under key. The key's backend is not
     * called and need not be registered: an unknown name (key->backend
     * must name one) is held until a backend of that name is registered;
     * until then a STALE lake searches the warm entry, while FRESH and
     * EVENTUAL searches (which describe) and any pull fail with
     * RUV_E_BACKEND saying the backend is needed. Checks the sidecar (§6.5), the
     * lake's seed, rerank and parameters (RUV_E_INVAL naming the field),
     * the index file's size and SHAKE-256 (RUV_E_INTEGRITY), loads it with
     * every page resident and checks n and dim. The same v2 installed
     * already is a no-op. *n: the rows. It leaves the key's last checked
     * description as the sidecar's (a FRESH search whose backend still
     * describes it so hashes nothing); a host may follow with a
     * RUV_LAKE_WARMUP search to bring the search path into the caches. */
    int (*warm_from_dir)(struct ruv_lake *lake, const struct ruv_lake_target *key,
                         const char *dir, uint64_t *n);
    /* Compares the bundle in dir with the key's entry (enum
     * ruv_lake_refresh in *result); invalidates only on INVALIDATED; never
     * primes. A sidecar that fails its checks is an error (RUV_E_INTEGRITY,
     * RUV_E_CORRUPT), a missing one BUNDLE_MISSING. */
    int (*refresh_from_bundle_dir)(struct ruv_lake *lake, const struct ruv_lake_target *key,
                                   const char *dir, int *result);

    /* search on the engine's pool: returns at once; done(ctx, status) runs
     * once on the pool thread that ran the request (the detail of a
     * failure is that thread's ruv_last_error() during done). q and every
     * buffer it points at must stay valid until done runs. *ticket (may be
     * NULL) names the request for cancel. */
    int (*submit)(struct ruv_lake *lake, const struct ruv_lake_query *q,
                  void (*done)(void *ctx, int status), void *ctx, uint64_t *ticket);
    /* Cancels a queued request (its done gets RUV_E_CANCELED): RUV_OK;
     * RUV_E_STATE when it is running already (it finishes; a prime is
     * never cut short), RUV_E_NOTFOUND when it is no longer pending. */
    int (*cancel)(struct ruv_lake *lake, uint64_t ticket);

    /* ---- version 3 ---- */

    /* Publishes the key's bundle into dir (rulake.md §9): the backend
     * describes the collection now (whatever the consistency mode); the
     * cached entry is used when it names that state, else the key primes
     * again. Then writes dir as save_cache_to_dir does (index file, the
     * sidecar signed with the lake's signing key, one rename commits; an
     * empty collection gets a sidecar without index). Another lake reads
     * it with refresh_from_bundle_dir or warm_from_dir. w2 (may be NULL):
     * the v2 witness as hex. Backend failures as in search. */
    int (*publish_bundle)(struct ruv_lake *lake, const struct ruv_lake_target *key,
                          const char *dir, char w2[65]);

    /* ---- version 4 ---- */

    /* submit, where supply (ntargets entries, borrowed until done; NULL:
     * as submit) says per target what the host describes or pulls itself
     * (struct ruv_lake_supply). A target lacking one fails with RUV_E_MISS
     * and its supply's needs set. Both submit and submit_supplied count a
     * request as arrived when it is submitted: concurrent FRESH requests
     * of one key share a describe begun after the last of them arrived,
     * however long they waited in the pool's queue. */
    int (*submit_supplied)(struct ruv_lake *lake, const struct ruv_lake_query *q,
                           struct ruv_lake_supply *supply, void (*done)(void *ctx, int status),
                           void *ctx, uint64_t *ticket);
    /* The raw 32-byte Ed25519 key in a PEM text (len bytes; "-----BEGIN
     * PUBLIC KEY-----" when private_key is 0, an unencrypted PKCS#8
     * "-----BEGIN PRIVATE KEY-----" when 1), read with libcrypto's PEM
     * readers. RUV_E_INVAL names what is wrong: not PEM, a private key
     * where a public one is expected (or the reverse), an encrypted key,
     * a key of another type (RSA, EC, ...). raw is written only on RUV_OK. */
    int (*key_from_pem)(void *plugin_state, const char *pem, size_t len, int private_key,
                        uint8_t raw[32]);
};

#define RUV_LAKE_OPS_SIZE_V1 (offsetof(struct ruv_lake_ops, sidecar_verify) + sizeof(void (*)(void)))
#define RUV_LAKE_OPS_SIZE_V2                                                                  \
    (offsetof(struct ruv_lake_ops, cancel) + sizeof(void (*)(void)))
#define RUV_LAKE_OPS_SIZE_V3                                                                  \
    (offsetof(struct ruv_lake_ops, publish_bundle) + sizeof(void (*)(void)))
#define RUV_LAKE_OPS_SIZE_V4                                                                  \
    (offsetof(struct ruv_lake_ops, key_from_pem) + sizeof(void (*)(void)))

#ifdef __cplusplus
}
#endif
#endif
