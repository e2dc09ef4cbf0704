/* ruvector/plugin.h — the plugin ABI. With kernel.h (or a feature header) it
 * is everything a plugin includes: plugins never link libruvector and reach
 * the engine only through the struct ruv_host they are given.
 *
 * Rules: structs grow only at the end, guarded by struct_size; an
 * incompatible change bumps RUV_PLUGIN_ABI. */
#ifndef RUVECTOR_PLUGIN_H
#define RUVECTOR_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include <ruvector/index.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RUV_PLUGIN_ABI 1u

enum ruv_plugin_kind {
    RUV_PLUGIN_KERNEL = 1,  /* ops: struct ruv_kernel_ops; discovered and loaded automatically */
    RUV_PLUGIN_FEATURE = 2  /* ops: struct ruv_<feature>_ops; loaded only when a host asks */
};

/* caps bits: informational, the engine ignores those it does not know. */
#define RUV_CAP_THREADSAFE (1u << 0)
#define RUV_CAP_NETWORK    (1u << 1)

/* Log levels for host->log. */
#define RUV_LOG_INFO  1
#define RUV_LOG_DEBUG 2

/* Feature kinds: which ops table a feature plugin's descriptor carries.
 * ruv_engine_feature_get() checks it, so a host never reads one feature's
 * table as another's. */
enum ruv_feature {
    RUV_FEATURE_LAKE = 1,   /* struct ruv_lake_ops  (feature-lake.h)  */
    RUV_FEATURE_A2A = 2,    /* struct ruv_a2a_ops   (feature-a2a.h)   */
    RUV_FEATURE_EMBED = 3,  /* struct ruv_embed_ops (feature-embed.h) */
    RUV_FEATURE_TEST = 100  /* the engine's own test fixtures */
};

struct ruv_host;

/* Index calls for plugins (host->index), so a plugin builds and searches
 * indexes without linking libruvector. Every call has the contract of the
 * public function it names in index.h; what differs is said here. Index
 * handles are reference counted: build and load return one reference,
 * retain adds one, release drops one and frees the index with the last. A
 * handle is immutable once built or loaded, so search and search_batch on
 * one handle are reentrant from any number of threads. */
struct ruv_host_index {
    uint32_t struct_size;
    uint32_t reserved;
    /* ruv_index_build on the plugin's engine, on up to `threads` threads of
     * the engine's pool (0: the engine's setting). ids NULL: row numbers. */
    int (*build)(const struct ruv_host *host, const ruv_index_params *p, const float *rows,
                 size_t n, const uint64_t *ids, unsigned threads, ruv_index **out);
    /* Bytes an index of n rows with these params will hold in memory, before
     * building it (the same accounting as memory_bytes). */
    int (*estimate_bytes)(const struct ruv_host *host, const ruv_index_params *p, uint64_t n,
                          uint64_t *bytes);
    int (*search)(const ruv_index *idx, const float *query, const ruv_search_params *sp,
                  uint64_t *ids, float *scores, size_t *nfound);
    int (*search_batch)(const ruv_index *idx, const float *queries, size_t nq,
                        const ruv_search_params *sp, uint64_t *ids, float *scores,
                        size_t *nfound);
    size_t (*memory_bytes)(const ruv_index *idx);
    size_t (*len)(const ruv_index *idx);
    const ruv_index_params *(*params)(const ruv_index *idx);
    /* Saved through the engine's durable-write routine (host->file). */
    int (*save)(const ruv_index *idx, const char *path);
    /* flags: 0 (read into memory) or RUV_INDEX_LOAD_MMAP (see ruv_index_load_ex). */
    int (*load)(const struct ruv_host *host, const char *path, unsigned flags, ruv_index **out);
    ruv_index *(*retain)(ruv_index *idx);
    void (*release)(ruv_index *idx);
    /* ruv_index_params_init and ruv_search_params_init: the engine's
     * defaults, so a plugin never copies them. */
    int (*params_init)(ruv_index_params *p, int type, int metric, uint32_t dim);
    int (*search_params_init)(ruv_search_params *sp, uint32_t k);
    /* ruv_index_vectors (appended: check struct_size before use): the stored
     * rows in row order and their ids, borrowed while the caller holds its
     * reference; RUV_E_UNSUPPORTED for an index without them. */
    int (*vectors)(const ruv_index *idx, const float **vectors, const uint64_t **ids);
};

/* Durable replacement of one file (host->file): the engine's one routine,
 * the same index save uses. open creates a uniquely named temporary beside
 * path (O_EXCL, O_NOFOLLOW), locks it with flock and first removes the
 * temporaries of dead writers of the same path; commit fsyncs the file,
 * renames it over path and fsyncs the directory. Any failure leaves path
 * as it was and removes the temporary; commit and abort free the handle. */
typedef struct ruv_durable_file ruv_durable_file;
#define RUV_FILE_MKDIRS 1u /* create missing parent directories (and sync them) */
struct ruv_host_file {
    uint32_t struct_size;
    uint32_t reserved;
    int (*open)(const char *path, unsigned flags, ruv_durable_file **out);
    int (*write)(ruv_durable_file *f, const void *buf, size_t len);
    int (*pwrite)(ruv_durable_file *f, const void *buf, size_t len, uint64_t offset);
    int (*commit)(ruv_durable_file *f);
    void (*abort)(ruv_durable_file *f);
    /* open + write + commit of one buffer. */
    int (*write_all)(const char *path, const void *buf, size_t len, unsigned flags);
    /* open for `name` relative to an open directory (subdirectories must
     * exist): the engine keeps a descriptor of its own, so a rename or
     * symlink swapped in after the caller opened the directory cannot
     * redirect the write. flags must be 0. Present when struct_size covers
     * it. */
    int (*openat)(int dirfd, const char *name, unsigned flags, ruv_durable_file **out);
};

/* Engine -> plugin. Valid from init until fini returns. */
struct ruv_host {
    uint32_t struct_size;
    uint32_t abi;
    const char *engine_version;
    /* Each plugin gets its own host table; pass it back so the engine knows
     * which plugin (and which engine) is asking. */
    /* Prints to stderr, prefixed with the plugin name, only when the engine's
     * verbosity >= level. */
    void (*log)(const struct ruv_host *host, int level, const char *fmt, ...);
    /* Records detail text for the current thread; returns status, so a plugin
     * writes `return host->set_error(RUV_E_IO, "...")`. */
    int (*set_error)(int status, const char *fmt, ...);
    /* Value set by ruv_config_set_plugin_option(cfg, <this plugin>, key,
     * value), or NULL. Borrowed until fini. */
    const char *(*config_get)(const struct ruv_host *host, const char *key);

    /* ---- version 2: present when struct_size >= RUV_HOST_SIZE_V2 ---- */
    /* The calling thread's error detail (ruv_last_error): lets a plugin wrap
     * what a host call or a backend reported. Borrowed until the thread's
     * next failing call. */
    const char *(*last_error)(void);
    /* Installed physical memory in bytes; 0 if unknown. */
    uint64_t (*physical_memory)(void);
    /* The engine's thread setting (ruv_engine_threads). */
    unsigned (*threads)(const struct ruv_host *host);
    /* The engine's thread pool. submit queues fn(ctx) to run once on a pool
     * thread; parallel_for runs fn over [0, n) in chunks of grain on up to
     * threads threads (0: the engine's setting), the caller included, and
     * returns when all chunks ran; worker < threads, unique among the
     * threads of one call. A task may itself call parallel_for: waiting
     * threads run queued work, so nesting never deadlocks. A plugin
     * creates no threads of its own for compute. */
    int (*submit)(const struct ruv_host *host, void (*fn)(void *ctx), void *ctx);
    int (*parallel_for)(const struct ruv_host *host, unsigned threads, size_t n, size_t grain,
                        void (*fn)(void *ctx, size_t begin, size_t end, unsigned worker),
                        void *ctx);
    const struct ruv_host_index *index;
    const struct ruv_host_file *file;
};

#define RUV_HOST_SIZE_V1 (offsetof(struct ruv_host, config_get) + sizeof(void (*)(void)))
#define RUV_HOST_SIZE_V2 (offsetof(struct ruv_host, file) + sizeof(void *))

/* Plugin -> engine: a static const descriptor, valid until unload. */
struct ruv_plugin {
    uint32_t struct_size;   /* sizeof(struct ruv_plugin) as the plugin compiled it */
    uint32_t abi;           /* RUV_PLUGIN_ABI */
    const char *name;       /* module name, [a-z0-9_]{1,31}; equals the file name */
    const char *version;    /* the plugin's own version string */
    uint32_t kind;          /* enum ruv_plugin_kind */
    uint32_t flags;         /* must-understand bits; must be 0 in ABI 1 */
    uint32_t caps;          /* RUV_CAP_* */
    int32_t priority;       /* higher wins among eligible kernels: scalar 0, neon 10, avx2 20, avx512 30 */
    uint64_t requires_isa;  /* RUV_ISA_* bits that must all be present before any plugin code runs */
    /* Optional. May decline with RUV_E_UNSUPPORTED (plus host->set_error). */
    int (*init)(const struct ruv_host *host, void **state);
    /* Optional. Frees what init allocated. */
    void (*fini)(void *state);
    /* Optional. Plugin-specific checks after the engine's own conformance run. */
    int (*self_test)(void *state);
    /* KERNEL: const struct ruv_kernel_ops *; FEATURE: the feature's ops struct,
     * which also starts with uint32_t struct_size. */
    const void *ops;

    /* ---- version 2: read only when struct_size >= RUV_PLUGIN_SIZE_V2 ---- */
    /* FEATURE: enum ruv_feature, the kind of table ops points at; 0 for a
     * kernel or a feature that names none. */
    uint32_t feature;
    uint32_t reserved2;
    /* Optional: what this plugin wants in `ruvector info` and
     * show_runtime() (library versions, paths found, open clients). Calls
     * emit(ctx, key, value) once per entry, in order; key is
     * [a-z0-9_]{1,31}, value any UTF-8 text; the engine escapes both.
     * Called with the state init returned. */
    void (*report)(void *state, void (*emit)(void *ctx, const char *key, const char *value),
                   void *ctx);
};

#define RUV_PLUGIN_SIZE_V1 (offsetof(struct ruv_plugin, ops) + sizeof(const void *))
#define RUV_PLUGIN_SIZE_V2 (offsetof(struct ruv_plugin, report) + sizeof(void (*)(void)))

#if defined(__GNUC__)
#define RUV_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define RUV_PLUGIN_EXPORT
#endif

/* The one exported symbol: const struct ruv_plugin *ruv_plugin_<modname>(void).
 * It must not run ISA-specific code: the engine calls it on every CPU. */
#define RUV_PLUGIN_DEFINE(modname, desc)                                            \
    RUV_PLUGIN_EXPORT const struct ruv_plugin *ruv_plugin_##modname(void);          \
    RUV_PLUGIN_EXPORT const struct ruv_plugin *ruv_plugin_##modname(void) { return &(desc); }

#ifdef __cplusplus
}
#endif
#endif
