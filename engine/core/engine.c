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
#include "core/kernel_slots.h"
#include "core/settings.h"
#include "cpu/isa.h"
#include "cpu/topo.h"
#include "exec/blas.h"
#include "exec/progress.h"
#include "plugin/kernels.h"
#include "plugin/plugins.h"

const char *ruv__source_name(int src)
{
    switch (src) {
    case RUV_SRC_API: return "api";
    case RUV_SRC_ENV: return "env";
    default: return "default";
    }
}

static int resolve(struct ruv_engine *eng, const ruv_config *cfg)
{
    if (cfg) {
        eng->progress = cfg->progress;
        eng->progress_ctx = cfg->progress_ctx;
    }
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
    return ruv__settings_resolve(&eng->settings, cfg, &eng->options, &eng->noptions);
}

/* The plugin set reads these resolved settings; the engine owns them and
 * keeps them until it closes. */
static void bind_plugin_set(struct ruv_engine *eng)
{
    struct ruv__plugin_set *set = &eng->plugins;
    const struct ruv__settings *st = &eng->settings;
    set->kernel_req = st->value[RUV_SET_kernel];
    set->kernel_src = st->source[RUV_SET_kernel];
    set->plugin_path = st->value[RUV_SET_plugin_path];
    set->disable = st->value[RUV_SET_disable];
    set->disable_src = st->source[RUV_SET_disable];
    set->verbose = st->verbose;
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
    rec->reason = ruv__strdup(eng->settings.source[RUV_SET_disable] == RUV_SRC_API
                                  ? "disabled by ruv_config_set_disable"
                                  : "disabled by RUVECTOR_DISABLE");
    ruv__log(eng->settings.verbose, 1, "plugin %s: disabled", name);
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
        const int verbose = eng->settings.verbose;
        if (verbose >= 1) {
            struct ruv__buf b = {0};
            ruv__isa_list(&b, eng->isa, " ");
            ruv__log(verbose, 1, "cpu: %s; isa: %s", ruv_cpu_model(), b.p ? b.p : "?");
            ruv__log(verbose, 1, "topology: %s (%s)", ruv_topology_source(),
                     ruv__topology_detail());
            ruv__log(verbose, 2, "plugin path (%s): %s",
                     ruv__source_name(eng->settings.source[RUV_SET_plugin_path]),
                     eng->settings.value[RUV_SET_plugin_path]);
            free(b.p);
        }
        rc = ruv__loader_init(&eng->plugins);
    }
    if (rc == RUV_OK)
        rc = load_all(eng, cfg);
    if (rc == RUV_OK)
        rc = ruv__select_kernel(&eng->plugins);
    if (rc == RUV_OK)
        rc = ruv__kernel_slots_resolve(eng);
    if (rc == RUV_OK) {
        /* No BLAS on the system is not an error: our kernels take over
         * (reported). A path the host named is different: it must load, or
         * the open fails naming it (a typo must not pass unnoticed). */
        const char *blas = eng->settings.value[RUV_SET_blas_path];
        int brc = ruv__blas_load(*blas ? blas : NULL);
        if (brc != RUV_OK && *blas && eng->settings.source[RUV_SET_blas_path] != RUV_SRC_DEFAULT)
            rc = ruv__set_error(brc, "blas_path: %s", ruv_last_error());
        ruv__log(eng->settings.verbose, 1, "blas: %s", ruv__blas_describe());
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
    ruv__settings_free(&eng->settings);
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
    return strcmp(eng->settings.value[RUV_SET_kernel], "auto") == 0
               ? "auto"
               : ruv__source_name(eng->settings.source[RUV_SET_kernel]);
}

const struct ruv_kernel_ops *ruv_engine_kernel(const ruv_engine *eng)
{
    return eng ? &eng->plugins.slots.ops : NULL;
}

unsigned ruv_engine_threads(const ruv_engine *eng) { return eng ? eng->settings.threads : 1; }

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
    int id = ruv__setting_find(key);
    if (id < 0) {
        struct ruv__buf b = {0};
        for (size_t i = 0; ruv_setting_name(i); i++)
            ruv__buf_printf(&b, "%s%s", i ? ", " : "", ruv_setting_name(i));
        int rc = ruv__set_error(RUV_E_NOTFOUND, "unknown setting '%s' (%s)", key, b.p ? b.p : "");
        free(b.p);
        return rc;
    }
    *value = eng->settings.value[id];
    if (source)
        *source = ruv__source_name(eng->settings.source[id]);
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
