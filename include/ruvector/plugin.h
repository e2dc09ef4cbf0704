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
};

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
};

#define RUV_PLUGIN_SIZE_V1 (offsetof(struct ruv_plugin, ops) + sizeof(const void *))

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
