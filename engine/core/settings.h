/* Engine-private: the configuration a host fills before opening an engine
 * (struct ruv_config, core/config.c) and the one table of settings that
 * generates the rest: what a config holds, how each value resolves at open
 * (API > environment > default), ruv_engine_setting, ruv_setting_name and
 * the report's "config" section (core/settings.c). */
#ifndef RUV_ENGINE_CORE_SETTINGS_H
#define RUV_ENGINE_CORE_SETTINGS_H

#include <stddef.h>

#include <ruvector/engine.h>
#include <ruvector/plugin.h>

#include "base/util.h"
#include "plugin/plugins.h"

/* X(name, type, environment variable or NULL, plugin or NULL)
 *   type STR: any text; PATHS: a list of directories; NAME: a kernel name or
 *   "auto"; UINT: 1..4096; LEVEL: 0, 1 or 2; BOOL: 0 or 1.
 *   A row with a plugin is that plugin's configuration key: its API value is
 *   ruv_config_set_plugin_option(cfg, plugin, name, ...), and the plugin
 *   reads the resolved value with host->config_get(host, name).
 * A new row is all a new setting needs (plus its API setter for engine
 * settings); ARCHITECTURE.md lists the environment variables. */
#define RUV_SETTINGS(X)                                          \
    X(kernel, NAME, "RUVECTOR_KERNEL", NULL)                     \
    X(plugin_path, PATHS, "RUVECTOR_PLUGIN_PATH", NULL)          \
    X(disable, STR, "RUVECTOR_DISABLE", NULL)                    \
    X(threads, UINT, NULL, NULL)                                 \
    X(verbose, LEVEL, "RUVECTOR_VERBOSE", NULL)                  \
    X(blas_path, STR, NULL, NULL)                                \
    X(kernel_measure, BOOL, "RUVECTOR_KERNEL_MEASURE", NULL)     \
    X(cache_dir, STR, "RUVECTOR_CACHE_DIR", NULL)                \
    X(ort_lib, STR, "RUVECTOR_ORT_LIB", "embed_onnx")            \
    X(libcrypto, STR, "RUVECTOR_LIBCRYPTO", "rulake")

enum ruv__setting_id {
#define X(name, type, envvar, plugin) RUV_SET_##name,
    RUV_SETTINGS(X)
#undef X
    RUV_SET_COUNT
};

struct ruv_config {
    char *api[RUV_SET_COUNT]; /* NULL: not set through the API */
    char **plugins;           /* ruv_config_add_plugin, in order */
    size_t nplugins;
    const struct ruv_plugin **registered;
    size_t nregistered;
    ruv_progress_fn progress;
    void *progress_ctx;
    struct ruv__option *options;
    size_t noptions;
};

/* Where a resolved setting came from: enum ruv__source (base/source.h). */
struct ruv__settings {
    char *value[RUV_SET_COUNT]; /* resolved text, never NULL after resolve */
    int source[RUV_SET_COUNT];
    char *detail[RUV_SET_COUNT]; /* how a default was found, or NULL */
    unsigned threads;            /* value[RUV_SET_threads], parsed */
    int verbose;                 /* value[RUV_SET_verbose], parsed */
    int kernel_measure;          /* value[RUV_SET_kernel_measure], parsed */
};

/* Stores an API value (a copy); `fn` names the public setter in errors. */
int ruv__config_set(ruv_config *cfg, int id, const char *value, const char *fn);

/* Resolves every setting from cfg (may be NULL), the environment (read
 * here, once) and the defaults; RUV_E_INVAL names a bad environment value.
 * Plugin-scoped values from the environment are appended to *options so
 * host->config_get sees them. On failure, ruv__settings_free is still due. */
int ruv__settings_resolve(struct ruv__settings *s, const ruv_config *cfg,
                          struct ruv__option **options, size_t *noptions);
void ruv__settings_free(struct ruv__settings *s);

/* Appends a copy of {plugin, key, value} to *opts (n entries). */
int ruv__option_add(struct ruv__option **opts, size_t *n, const char *plugin, const char *key,
                    const char *value);

/* The row named key, or -1. */
int ruv__setting_find(const char *key);

/* Appends "config":{...} entries (without braces) for the report. */
void ruv__settings_report(struct ruv__buf *b, const struct ruv__settings *s);

/* "default", "env" or "api" (core/engine.c). */
const char *ruv__source_name(int src);

#endif
