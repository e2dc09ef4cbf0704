/* ruv_engine_open/close: resolve settings once (API > environment > default),
 * probe the CPU, load plugins, select a kernel. The library never prints
 * unless verbose, and never exits. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/cpu.h>
#include <ruvector/engine.h>
#include <ruvector/error.h>
#include <ruvector/kernel.h>
#include <ruvector/plugin.h>
#include <ruvector/version.h>

#include "base/error.h"
#include "base/log.h"
#include "base/source.h"
#include "base/util.h"
#include "core/engine.h"
#include "core/host.h"
#include "core/settings.h"
#include "cpu/isa.h"
#include "cpu/topo.h"
#include "exec/blas.h"
#include "exec/progress.h"
#include "plugin/kernels.h"
#include "plugin/plugins.h"

#ifndef RUV_PLUGINDIR
#define RUV_PLUGINDIR "/usr/local/lib/ruvector/plugins"
#endif

const char *ruv__source_name(int src)
{
    switch (src) {
    case RUV_SRC_API: return "api";
    case RUV_SRC_ENV: return "env";
    default: return "default";
    }
}

static const char *env(const char *name)
{
#ifdef HAVE_SECURE_GETENV
    const char *v = secure_getenv(name);
#else
    const char *v = getenv(name);
#endif
    return (v && *v) ? v : NULL;
}

static int resolve_string(char **slot, int *src, const char *api, const char *envname,
                          const char *dflt)
{
    const char *v = dflt;
    *src = RUV_SRC_DEFAULT;
    const char *e = envname ? env(envname) : NULL;
    if (api) {
        v = api;
        *src = RUV_SRC_API;
    } else if (e) {
        v = e;
        *src = RUV_SRC_ENV;
    }
    *slot = ruv__strdup(v);
    return *slot ? RUV_OK : ruv__set_error(RUV_E_NOMEM, "out of memory");
}

static int resolve(struct ruv_engine *eng, const ruv_config *cfg)
{
    int rc;
    if ((rc = resolve_string(&eng->kernel_req, &eng->kernel_src, cfg ? cfg->kernel : NULL,
                             "RUVECTOR_KERNEL", "auto")) != RUV_OK ||
        (rc = resolve_string(&eng->plugin_path, &eng->plugin_path_src,
                             cfg ? cfg->plugin_path : NULL, "RUVECTOR_PLUGIN_PATH",
                             RUV_PLUGINDIR)) != RUV_OK ||
        (rc = resolve_string(&eng->disable, &eng->disable_src, cfg ? cfg->disable : NULL,
                             "RUVECTOR_DISABLE", "")) != RUV_OK)
        return rc;

    eng->verbose = 0;
    eng->verbose_src = RUV_SRC_DEFAULT;
    const char *v = env("RUVECTOR_VERBOSE");
    if (cfg && cfg->verbose_set) {
        eng->verbose = cfg->verbose;
        eng->verbose_src = RUV_SRC_API;
    } else if (v) {
        if ((v[0] != '0' && v[0] != '1' && v[0] != '2') || v[1] != '\0')
            return ruv__set_error(RUV_E_INVAL, "RUVECTOR_VERBOSE='%s' is not 0, 1 or 2", v);
        eng->verbose = v[0] - '0';
        eng->verbose_src = RUV_SRC_ENV;
    }

    ruv_topology t;
    ruv_topology_get(&t);
    eng->threads = t.cores ? t.cores : (t.pus ? t.pus : 1);
    eng->threads_src = RUV_SRC_DEFAULT;
    if (cfg && cfg->threads_set && cfg->threads > 0) {
        eng->threads = cfg->threads;
        eng->threads_src = RUV_SRC_API;
    }

    if (cfg) {
        eng->progress = cfg->progress;
        eng->progress_ctx = cfg->progress_ctx;
    }
    if (cfg && cfg->blas_path && !(eng->blas_path = ruv__strdup(cfg->blas_path)))
        return ruv__set_error(RUV_E_NOMEM, "out of memory");

    snprintf(eng->threads_str, sizeof eng->threads_str, "%u", eng->threads);
    snprintf(eng->verbose_str, sizeof eng->verbose_str, "%d", eng->verbose);

    if (cfg && cfg->noptions) {
        eng->options = calloc(cfg->noptions, sizeof *eng->options);
        if (!eng->options)
            return ruv__set_error(RUV_E_NOMEM, "out of memory");
        for (size_t i = 0; i < cfg->noptions; i++) {
            struct ruv__option *o = &eng->options[eng->noptions++];
            o->plugin = ruv__strdup(cfg->options[i].plugin);
            o->key = ruv__strdup(cfg->options[i].key);
            o->value = ruv__strdup(cfg->options[i].value);
            if (!o->plugin || !o->key || !o->value)
                return ruv__set_error(RUV_E_NOMEM, "out of memory");
        }
    }
    return RUV_OK;
}

/* The plugin set reads these resolved settings; the engine owns them and
 * keeps them until it closes. */
static void bind_plugin_set(struct ruv_engine *eng)
{
    struct ruv__plugin_set *set = &eng->plugins;
    set->kernel_req = eng->kernel_req;
    set->kernel_src = eng->kernel_src;
    set->plugin_path = eng->plugin_path;
    set->disable = eng->disable;
    set->disable_src = eng->disable_src;
    set->verbose = eng->verbose;
    set->isa = eng->isa;
    set->options = eng->options;
    set->noptions = eng->noptions;
    set->host_services = &ruv__host_services;
    set->owner = eng;
}

static int add_builtin_scalar(struct ruv_engine *eng)
{
    struct ruv__plugin_rec *rec = ruv__rec_add(&eng->plugins, "scalar");
    if (!rec)
        return RUV_E_NOMEM;
    free(rec->file);
    free(rec->version);
    free(rec->reason);
    rec->file = ruv__strdup("(built-in)");
    rec->version = ruv__strdup(ruv_version_string());
    rec->reason = ruv__strdup(ruv__is_disabled(&eng->plugins, "scalar")
                                  ? "built-in reference kernel (cannot be disabled)"
                                  : "built-in reference kernel");
    if (!rec->file || !rec->version || !rec->reason)
        return ruv__set_error(RUV_E_NOMEM, "out of memory");
    rec->kind = RUV_PLUGIN_KERNEL;
    rec->priority = 0;
    rec->state = RUV_PLUGIN_LOADED;
    rec->effective = ruv__kernel_scalar_ops;
    return RUV_OK;
}

static int mark_disabled(struct ruv_engine *eng, const char *name)
{
    struct ruv__plugin_rec *rec = ruv__rec_add(&eng->plugins, name);
    if (!rec)
        return RUV_E_NOMEM;
    rec->state = RUV_PLUGIN_DISABLED;
    free(rec->reason);
    rec->reason = ruv__strdup(eng->disable_src == RUV_SRC_API ? "disabled by ruv_config_set_disable"
                                                              : "disabled by RUVECTOR_DISABLE");
    ruv__log(eng->verbose, 1, "plugin %s: disabled", name);
    return rec->reason ? RUV_OK : ruv__set_error(RUV_E_NOMEM, "out of memory");
}

/* Loads a plugin a host asked for by name (at open, or later through
 * ruv_engine_load_plugin). Loaded, disabled or ineligible: RUV_OK (the
 * record says which); any other failure is returned. */
static int request_plugin(struct ruv_engine *eng, const char *name)
{
    int rc;
    struct ruv__plugin_rec *rec = ruv__rec_find(&eng->plugins, name);
    if (rec) {
        rec->requested = 1;
        if (rec->state == RUV_PLUGIN_LOADED || rec->state == RUV_PLUGIN_DISABLED)
            return RUV_OK;
        if (rec->state == RUV_PLUGIN_INELIGIBLE)
            return RUV_OK; /* the CPU cannot run it: recorded, and selection explains */
        return ruv__set_error(rec->status, "plugin '%s': %s", name, rec->reason);
    }
    if (ruv__is_disabled(&eng->plugins, name))
        return mark_disabled(eng, name);
    rec = ruv__rec_add(&eng->plugins, name);
    if (!rec)
        return RUV_E_NOMEM;
    rec->requested = 1;
    rc = ruv__load_plugin(&eng->plugins, rec);
    return rc != RUV_OK && rec->state != RUV_PLUGIN_INELIGIBLE ? rc : RUV_OK;
}

static int load_all(struct ruv_engine *eng, const ruv_config *cfg)
{
    int rc = add_builtin_scalar(eng);
    if (rc)
        return rc;
    /* Registered (static) plugins are explicit requests: failures are errors. */
    for (size_t i = 0; cfg && i < cfg->nregistered; i++) {
        const struct ruv_plugin *d = cfg->registered[i];
        const char *name = (d && d->name && ruv__valid_module_name(d->name)) ? d->name : "";
        if (!*name)
            return ruv__set_error(RUV_E_PLUGIN, "registered plugin has no valid module name");
        if (ruv__rec_find(&eng->plugins, name))
            return ruv__set_error(RUV_E_INVAL, "plugin '%s' registered twice", name);
        if (ruv__is_disabled(&eng->plugins, name)) {
            if ((rc = mark_disabled(eng, name)))
                return rc;
            continue;
        }
        struct ruv__plugin_rec *rec = ruv__rec_add(&eng->plugins, name);
        if (!rec)
            return RUV_E_NOMEM;
        rec->requested = 1;
        if ((rc = ruv__load_registered(&eng->plugins, rec, d)))
            return rc;
    }
    /* Kernel plugins: discovered by name; a failure is recorded, not fatal. */
#define X(n, isa)                                                             \
    if (strcmp(#n, "scalar") != 0 && !ruv__rec_find(&eng->plugins, #n)) {     \
        if (ruv__is_disabled(&eng->plugins, #n)) {                            \
            if ((rc = mark_disabled(eng, #n)))                                \
                return rc;                                                    \
        } else {                                                              \
            struct ruv__plugin_rec *rec = ruv__rec_add(&eng->plugins, #n);    \
            if (!rec)                                                         \
                return RUV_E_NOMEM;                                           \
            ruv__load_plugin(&eng->plugins, rec);                             \
        }                                                                     \
    }
    RUV_KERNEL_NAMES(X)
#undef X
    /* Plugins the host asked for: a failure fails the open. */
    for (size_t i = 0; cfg && i < cfg->nplugins; i++)
        if ((rc = request_plugin(eng, cfg->plugins[i])))
            return rc;
    return RUV_OK;
}

int ruv_engine_open(const ruv_config *cfg, ruv_engine **out)
{
    if (!out)
        return ruv__set_error(RUV_E_INVAL, "ruv_engine_open: out is NULL");
    *out = NULL;
    struct ruv_engine *eng = calloc(1, sizeof *eng);
    if (!eng)
        return ruv__set_error(RUV_E_NOMEM, "ruv_engine_open: out of memory");
    int rc = resolve(eng, cfg);
    if (rc == RUV_OK) {
        eng->isa = ruv_cpu_isa();
        bind_plugin_set(eng);
        if (eng->verbose >= 1) {
            struct ruv__buf b = {0};
            ruv__isa_list(&b, eng->isa, " ");
            ruv__log(eng->verbose, 1, "cpu: %s; isa: %s", ruv_cpu_model(), b.p ? b.p : "?");
            ruv__log(eng->verbose, 1, "topology: %s (%s)", ruv_topology_source(),
                     ruv__topology_detail());
            ruv__log(eng->verbose, 2, "plugin path (%s): %s", ruv__source_name(eng->plugin_path_src),
                     eng->plugin_path);
            free(b.p);
        }
        rc = ruv__loader_init(&eng->plugins);
    }
    if (rc == RUV_OK)
        rc = load_all(eng, cfg);
    if (rc == RUV_OK)
        rc = ruv__select_kernel(&eng->plugins);
    if (rc == RUV_OK) {
        /* A missing BLAS is not an error: our kernels take over (reported). */
        ruv__blas_load(eng->blas_path);
        ruv__log(eng->verbose, 1, "blas: %s", ruv__blas_describe());
    }
    if (rc != RUV_OK) {
        /* keep the detail across cleanup, which may call into plugins */
        char detail[1024];
        strncpy(detail, ruv_last_error(), sizeof detail - 1);
        detail[sizeof detail - 1] = '\0';
        ruv_engine_close(eng);
        ruv__set_error(rc, "%s", detail);
        return rc;
    }
    *out = eng;
    return RUV_OK;
}

void ruv_engine_close(ruv_engine *eng)
{
    if (!eng)
        return;
    for (size_t i = eng->plugins.nrecs; i-- > 0;)
        ruv__unload_plugin(eng->plugins.recs[i]);
    ruv__loader_exit(&eng->plugins);
    for (size_t i = 0; i < eng->noptions; i++) {
        free(eng->options[i].plugin);
        free(eng->options[i].key);
        free(eng->options[i].value);
    }
    free(eng->options);
    free(eng->kernel_req);
    free(eng->plugin_path);
    free(eng->disable);
    free(eng->blas_path);
    free(eng);
}

const char *ruv_engine_kernel_name(const ruv_engine *eng)
{
    return eng ? eng->plugins.recs[eng->plugins.selected]->name : NULL;
}

const char *ruv_engine_kernel_source(const ruv_engine *eng)
{
    if (!eng)
        return NULL;
    return strcmp(eng->kernel_req, "auto") == 0 ? "auto" : ruv__source_name(eng->kernel_src);
}

const struct ruv_kernel_ops *ruv_engine_kernel(const ruv_engine *eng)
{
    return eng ? &eng->plugins.recs[eng->plugins.selected]->effective : NULL;
}

unsigned ruv_engine_threads(const ruv_engine *eng) { return eng ? eng->threads : 1; }

void ruv__progress(const struct ruv_engine *eng, const char *phase, uint64_t done, uint64_t total)
{
    if (eng && eng->progress)
        eng->progress(eng->progress_ctx, phase, done, total);
}

const char *ruv_engine_blas(const ruv_engine *eng)
{
    (void)eng; /* process-wide: a BLAS stays loaded once found */
    return ruv__blas_describe();
}

int ruv_engine_setting(const ruv_engine *eng, const char *key, const char **value,
                       const char **source)
{
    if (!eng || !key || !value)
        return ruv__set_error(RUV_E_INVAL, "ruv_engine_setting: NULL argument");
    const char *v = NULL;
    int src = RUV_SRC_DEFAULT;
    if (strcmp(key, "kernel") == 0) {
        v = eng->kernel_req;
        src = eng->kernel_src;
    } else if (strcmp(key, "plugin_path") == 0) {
        v = eng->plugin_path;
        src = eng->plugin_path_src;
    } else if (strcmp(key, "disable") == 0) {
        v = eng->disable;
        src = eng->disable_src;
    } else if (strcmp(key, "threads") == 0) {
        v = eng->threads_str;
        src = eng->threads_src;
    } else if (strcmp(key, "verbose") == 0) {
        v = eng->verbose_str;
        src = eng->verbose_src;
    } else {
        return ruv__set_error(RUV_E_NOTFOUND,
                              "unknown setting '%s' (kernel, plugin_path, disable, threads, "
                              "verbose)",
                              key);
    }
    *value = v;
    if (source)
        *source = ruv__source_name(src);
    return RUV_OK;
}

const char *ruv_plugin_state_name(int state)
{
    switch (state) {
    case RUV_PLUGIN_LOADED: return "loaded";
    case RUV_PLUGIN_INELIGIBLE: return "ineligible";
    case RUV_PLUGIN_FAILED: return "failed";
    case RUV_PLUGIN_DISABLED: return "disabled";
    case RUV_PLUGIN_NOT_FOUND: return "not-found";
    }
    return "unknown";
}

/* Records never move or go away before close, so what a caller got from a
 * record stays valid; the lock covers the list, which a late load grows. */
static void lock_plugins(const ruv_engine *eng)
{
    pthread_mutex_lock((pthread_mutex_t *)&eng->plugins.lock);
}

static void unlock_plugins(const ruv_engine *eng)
{
    pthread_mutex_unlock((pthread_mutex_t *)&eng->plugins.lock);
}

size_t ruv_engine_plugin_count(const ruv_engine *eng)
{
    if (!eng)
        return 0;
    lock_plugins(eng);
    size_t n = eng->plugins.nrecs;
    unlock_plugins(eng);
    return n;
}

static void fill_info(const struct ruv__plugin_rec *r, ruv_plugin_info *out)
{
    out->name = r->name;
    out->file = r->file;
    out->version = r->version;
    out->kind = r->kind;
    out->priority = r->priority;
    out->requires_isa = r->requires_isa;
    out->state = r->state;
    out->status = r->status;
    out->reason = r->reason;
}

int ruv_engine_plugin_info(const ruv_engine *eng, size_t i, ruv_plugin_info *out)
{
    if (!eng || !out)
        return ruv__set_error(RUV_E_INVAL, "ruv_engine_plugin_info: NULL argument");
    lock_plugins(eng);
    size_t n = eng->plugins.nrecs;
    if (i < n)
        fill_info(eng->plugins.recs[i], out);
    unlock_plugins(eng);
    if (i >= n)
        return ruv__set_error(RUV_E_INVAL, "ruv_engine_plugin_info: index %zu >= count %zu", i,
                              n);
    return RUV_OK;
}

int ruv_engine_plugin_find(const ruv_engine *eng, const char *name, ruv_plugin_info *out)
{
    if (!eng || !name || !out)
        return ruv__set_error(RUV_E_INVAL, "ruv_engine_plugin_find: NULL argument");
    lock_plugins(eng);
    const struct ruv__plugin_rec *r = ruv__rec_find(&eng->plugins, name);
    if (r)
        fill_info(r, out);
    unlock_plugins(eng);
    if (!r)
        return ruv__set_error(RUV_E_NOTFOUND, "plugin '%s' was not considered by this engine",
                              name);
    return RUV_OK;
}

/* The loaded feature plugin `name`, or RUV_E_NOTFOUND saying why not. */
static int find_feature(const ruv_engine *eng, const char *name,
                        const struct ruv__plugin_rec **out)
{
    lock_plugins(eng);
    const struct ruv__plugin_rec *r = ruv__rec_find(&eng->plugins, name);
    unlock_plugins(eng);
    *out = r;
    if (!r)
        return ruv__set_error(RUV_E_NOTFOUND,
                              "feature plugin '%s' was not requested: add it with "
                              "ruv_config_add_plugin before ruv_engine_open, or load it with "
                              "ruv_engine_load_plugin",
                              name);
    if (r->state != RUV_PLUGIN_LOADED || r->kind != RUV_PLUGIN_FEATURE)
        return ruv__set_error(RUV_E_NOTFOUND, "feature plugin '%s' is %s: %s", name,
                              r->kind == RUV_PLUGIN_KERNEL ? "a kernel, not a feature"
                                                           : ruv_plugin_state_name(r->state),
                              r->reason);
    return RUV_OK;
}

int ruv_engine_feature(const ruv_engine *eng, const char *name, const void **ops, void **state)
{
    if (!eng || !name || !ops)
        return ruv__set_error(RUV_E_INVAL, "ruv_engine_feature: NULL argument");
    *ops = NULL;
    if (state)
        *state = NULL;
    const struct ruv__plugin_rec *r;
    int rc = find_feature(eng, name, &r);
    if (rc)
        return rc;
    *ops = r->desc->ops;
    if (state)
        *state = r->pstate;
    return RUV_OK;
}

int ruv_engine_feature_get(const ruv_engine *eng, const char *name, uint32_t feature,
                           size_t min_ops_size, const void **ops, void **state)
{
    if (!eng || !name || !ops)
        return ruv__set_error(RUV_E_INVAL, "ruv_engine_feature_get: NULL argument");
    *ops = NULL;
    if (state)
        *state = NULL;
    const struct ruv__plugin_rec *r;
    int rc = find_feature(eng, name, &r);
    if (rc)
        return rc;
    if (r->feature != feature)
        return ruv__set_error(RUV_E_ABI,
                              "plugin '%s' provides feature %u, not the %u this host asked for",
                              name, r->feature, feature);
    uint32_t size = *(const uint32_t *)r->desc->ops;
    if (size < min_ops_size)
        return ruv__set_error(RUV_E_ABI,
                              "plugin '%s' has an ops table of %u bytes; this host needs %zu "
                              "(the plugin is older than the host's header)",
                              name, size, min_ops_size);
    *ops = r->desc->ops;
    if (state)
        *state = r->pstate;
    return RUV_OK;
}

int ruv_engine_load_plugin(ruv_engine *eng, const char *name)
{
    if (!eng || !name)
        return ruv__set_error(RUV_E_INVAL, "ruv_engine_load_plugin: NULL argument");
    if (!ruv__valid_module_name(name))
        return ruv__set_error(RUV_E_INVAL,
                              "ruv_engine_load_plugin: '%s' is not a module name "
                              "([a-z0-9_], 1 to 31 characters)",
                              name);
    if (ruv__is_known_kernel(name))
        return ruv__set_error(RUV_E_INVAL,
                              "ruv_engine_load_plugin: '%s' is a kernel; kernels are loaded and "
                              "chosen when the engine opens",
                              name);
    lock_plugins(eng);
    int rc = request_plugin(eng, name);
    unlock_plugins(eng);
    return rc;
}

void ruv_free(void *p) { free(p); }
