/* ruvector/engine.h — configuration, engine open/close, introspection. */
#ifndef RUVECTOR_ENGINE_H
#define RUVECTOR_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ruv_plugin;
struct ruv_kernel_ops;

typedef struct ruv_config ruv_config;
typedef struct ruv_engine ruv_engine;

/* ---- configuration: values set here beat RUVECTOR_* variables, which beat defaults ---- */

/* Creates an empty configuration (everything "default"). Free with ruv_config_free. */
int ruv_config_new(ruv_config **out);
void ruv_config_free(ruv_config *cfg);

/* Forces a kernel: "scalar", "avx2", "avx512", "neon", or "auto" (the default:
 * highest priority eligible kernel). Unknown names are reported at open. */
int ruv_config_set_kernel(ruv_config *cfg, const char *name);
/* Plugin directories, separated by ':'. Replaces the built-in directory. */
int ruv_config_set_plugin_path(ruv_config *cfg, const char *path);
/* Plugins never to load, exact names separated by commas or whitespace. */
int ruv_config_set_disable(ruv_config *cfg, const char *names);
/* Loads a plugin by module name at open (feature plugins load only this way;
 * a kernel named here is loaded even if not a known kernel). */
int ruv_config_add_plugin(ruv_config *cfg, const char *name);
/* Registers a plugin linked into the program (static builds); it is
 * validated exactly like a loaded one. desc must outlive the engine. */
int ruv_config_register(ruv_config *cfg, const struct ruv_plugin *desc);
/* Worker threads for parallel operations; 0 = one per core (ruv_topology_get). */
int ruv_config_set_threads(ruv_config *cfg, unsigned threads);
/* 0 silent, 1 one line per decision on stderr, 2 also every probe. */
int ruv_config_set_verbose(ruv_config *cfg, int level);
/* The BLAS to use (a shared library, or a directory holding
 * libscipy_openblas.so / libopenblas.so.0): used for batched exact search
 * and k-means. A path set here must load: otherwise ruv_engine_open fails
 * (RUV_E_NOTFOUND naming the path and why), never falling through to another
 * library. Without it the system's libopenblas.so.0 is tried; without any
 * BLAS the engine uses its own kernels. The choice is in the report. Once a
 * BLAS is loaded it serves the whole process (later paths are not tried). */
int ruv_config_set_blas_path(ruv_config *cfg, const char *path);
/* Whether the engine may time the kernel plugins that loaded and take each
 * slot of its kernel table from the fastest (1, the default; the speeds are
 * kept in the cache directory, so only the first open on a machine with a
 * given set of plugins measures). 0: every slot from the highest-priority
 * kernel. Environment: RUVECTOR_KERNEL_MEASURE=0|1. */
int ruv_config_set_kernel_measure(ruv_config *cfg, int on);
/* Directory for what the engine measures about this machine (default
 * $XDG_CACHE_HOME/ruvector, else $HOME/.cache/ruvector; "" keeps nothing).
 * Environment: RUVECTOR_CACHE_DIR. */
int ruv_config_set_cache_dir(ruv_config *cfg, const char *dir);
/* Progress of long operations (index builds: "k-means", "encoding"), as
 * units done out of total. Called on the thread that started the operation,
 * with done non-decreasing and a final call with done == total. Hosts show
 * it to people (the CLI does so only on a terminal); the library itself
 * never prints. fn may be NULL to turn it off. */
typedef void (*ruv_progress_fn)(void *ctx, const char *phase, uint64_t done, uint64_t total);
int ruv_config_set_progress(ruv_config *cfg, ruv_progress_fn fn, void *ctx);
/* Option a plugin reads through host->config_get(plugin, key). Copied. */
int ruv_config_set_plugin_option(ruv_config *cfg, const char *plugin, const char *key,
                                 const char *value);

/* ---- engine ---- */

/* Reads RUVECTOR_* once, probes the CPU, loads and checks plugins, selects a
 * kernel. cfg may be NULL (all defaults) and may be freed right after. On
 * failure *out is NULL and ruv_last_error() says why: RUV_E_NOTFOUND for an
 * unknown forced kernel (known names listed), RUV_E_UNSUPPORTED for a kernel
 * the CPU cannot run (missing ISA named), RUV_E_PLUGIN / RUV_E_ABI /
 * RUV_E_SELFTEST when a plugin named by ruv_config_add_plugin or a forced
 * kernel failed to load. Kernel plugins found automatically that fail are
 * skipped and recorded; they never make open fail. */
int ruv_engine_open(const ruv_config *cfg, ruv_engine **out);
/* Calls every plugin's fini and unloads kernel plugins. NULL is a no-op. */
void ruv_engine_close(ruv_engine *eng);

/* Selected kernel's name ("avx512"). Borrowed until close. */
const char *ruv_engine_kernel_name(const ruv_engine *eng);
/* How it was chosen: "auto", "env" or "api". Static string. */
const char *ruv_engine_kernel_source(const ruv_engine *eng);
/* The effective kernel table: every slot non-NULL. Borrowed until close.
 * Each slot comes from the selected kernel unless another kernel plugin
 * that loaded was measured faster for it (ruv_engine_kernel_slot says). */
const struct ruv_kernel_ops *ruv_engine_kernel(const ruv_engine *eng);

/* Who supplied one slot of the kernel table, and why. */
typedef struct ruv_kernel_slot_info {
    const char *slot;   /* slot name, "fastscan_u8" */
    const char *kernel; /* the kernel plugin whose function fills it, "avx2" */
    const char *how;    /* "priority" (nothing raced), "forced", "faster" (raced:
                           this rival beat the selected kernel by the margin) or
                           "kept" (raced: no rival beat the selected kernel by
                           the margin, 5 %) */
    char detail[192];   /* the measured times, e.g. "avx2 812 ns, avx512 1490 ns" */
} ruv_kernel_slot_info;
/* Number of slots in struct ruv_kernel_ops. */
size_t ruv_kernel_slot_count(void);
/* Slot i (0 <= i < ruv_kernel_slot_count()); strings borrowed until close. */
int ruv_engine_kernel_slot(const ruv_engine *eng, size_t i, ruv_kernel_slot_info *out);
/* How the table was put together, one sentence: measured now, speeds from
 * the cache file (named), measuring off, forced, or a single kernel plugin;
 * with the reason a cache file was ignored or could not be written.
 * Borrowed until close. */
const char *ruv_engine_kernel_selection(const ruv_engine *eng);
/* The BLAS in use for sgemm, e.g. "libopenblas.so.0 (cblas_sgemm, 1 thread)",
 * or "none: own kernels (...)". Static string, valid until the next open. */
const char *ruv_engine_blas(const ruv_engine *eng);
/* Worker threads this engine uses (>= 1). */
unsigned ruv_engine_threads(const ruv_engine *eng);

/* A resolved setting as text, and where it came from ("api", "env" or
 * "default"). Keys: "kernel", "plugin_path", "disable", "threads",
 * "verbose", "blas_path", "kernel_measure", "cache_dir", "ort_lib"
 * (ruv_setting_name lists them). Both strings borrowed until close; RUV_E_NOTFOUND for other keys. */
int ruv_engine_setting(const ruv_engine *eng, const char *key, const char **value,
                       const char **source);
/* The name of setting i (0, 1, ...), or NULL past the last: every key
 * ruv_engine_setting knows, in the order the report lists them. */
const char *ruv_setting_name(size_t i);

/* Plugin states as recorded at open. */
typedef enum ruv_plugin_state {
    RUV_PLUGIN_LOADED = 0,     /* usable */
    RUV_PLUGIN_INELIGIBLE = 1, /* CPU lacks a required ISA; no plugin code ran */
    RUV_PLUGIN_FAILED = 2,     /* bad ABI, missing symbol, bad descriptor, failed init or test */
    RUV_PLUGIN_DISABLED = 3,   /* named in the disable list */
    RUV_PLUGIN_NOT_FOUND = 4   /* no file in any plugin directory */
} ruv_plugin_state;

/* Name of a state: "loaded", "ineligible", ... Static string. */
const char *ruv_plugin_state_name(int state);

typedef struct ruv_plugin_info {
    const char *name;     /* module name */
    const char *file;     /* path opened, or "(built-in)" / "(registered)"; "" if not found */
    const char *version;  /* "" when unknown */
    uint32_t kind;        /* enum ruv_plugin_kind; 0 when unknown */
    int32_t priority;
    uint64_t requires_isa;
    int state;            /* ruv_plugin_state */
    int status;           /* ruv_status of the load (RUV_OK when loaded) */
    const char *reason;   /* why this state, e.g. "needs AVX512F" */
} ruv_plugin_info;

/* Number of plugin records (the built-in scalar kernel included). */
size_t ruv_engine_plugin_count(const ruv_engine *eng);
/* Record i (0 <= i < count); strings borrowed until close. */
int ruv_engine_plugin_info(const ruv_engine *eng, size_t i, ruv_plugin_info *out);
/* Record by module name; RUV_E_NOTFOUND if the engine never considered it. */
int ruv_engine_plugin_find(const ruv_engine *eng, const char *name, ruv_plugin_info *out);

/* Ops table and state of a loaded feature plugin; RUV_E_NOTFOUND (with the
 * recorded reason) if it did not load. Borrowed until close. */
int ruv_engine_feature(const ruv_engine *eng, const char *name, const void **ops, void **state);
/* The same, checked: the plugin must declare `feature` (enum ruv_feature in
 * plugin.h) and an ops table of at least min_ops_size bytes (what the
 * caller's header needs), else RUV_E_ABI saying which check failed. */
int ruv_engine_feature_get(const ruv_engine *eng, const char *name, uint32_t feature,
                           size_t min_ops_size, const void **ops, void **state);
/* Loads feature plugin `name` into an open engine (late loading), as if
 * ruv_config_add_plugin had named it: RUV_OK when it is loaded (or already
 * was), disabled, or ineligible on this CPU (ruv_engine_plugin_find says
 * which); the load's status otherwise, with the reason. Kernels are chosen
 * at open and cannot be loaded this way (RUV_E_INVAL). Safe to call while
 * other threads use the engine; a plugin once loaded stays until close. */
int ruv_engine_load_plugin(ruv_engine *eng, const char *name);

/* JSON report of everything decided at open: cpu (model, isa_found,
 * isa_missing, topology, topology_source, topology_detail), plugins[] (name, file, version, kind, priority,
 * requires, state, reason), kernel (name, source, selection: how the table
 * was put together; slots[]: slot, kernel, how, ns per contender when
 * raced), config (value and source of each setting). *json_out is NUL-terminated; free it with ruv_free. */
int ruv_engine_report(const ruv_engine *eng, char **json_out);

/* Frees memory the library returned through an out parameter. NULL is a no-op. */
void ruv_free(void *p);

/* Logical cores, physical cores and cache sizes in bytes (0 when unknown),
 * probed once per process: from hwloc if the system has it (libhwloc.so.15,
 * found at run time; never linked), else from sysconf, /sys and
 * /proc/cpuinfo. ruv_topology_source() says which. */
typedef struct ruv_topology {
    unsigned cores;     /* physical cores */
    unsigned pus;       /* logical processors */
    size_t l1d_bytes;   /* per core */
    size_t l2_bytes;    /* per core */
    size_t l3_bytes;    /* total of one L3 */
    unsigned numa_nodes;
} ruv_topology;
int ruv_topology_get(ruv_topology *out);
/* CPU model string ("AMD EPYC 7B13"), static; "" when unknown. */
const char *ruv_cpu_model(void);
/* Where the topology and model came from: "hwloc <release>" (e.g.
 * "hwloc 2.9.0") or "sysconf". Static storage. */
const char *ruv_topology_source(void);

#ifdef __cplusplus
}
#endif
#endif
