/* ruv_config: what the API asked for. Resolution against the environment
 * and defaults happens once, at ruv_engine_open (engine.c). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/engine.h>
#include <ruvector/error.h>
#include <ruvector/plugin.h>

#include "base/error.h"
#include "base/util.h"
#include "core/settings.h"
#include "plugin/plugins.h"

int ruv_config_new(ruv_config **out)
{
    if (!out)
        return ruv__set_error(RUV_E_INVAL, "ruv_config_new: out is NULL");
    *out = calloc(1, sizeof **out);
    if (!*out)
        return ruv__set_error(RUV_E_NOMEM, "ruv_config_new: out of memory");
    return RUV_OK;
}

void ruv_config_free(ruv_config *cfg)
{
    if (!cfg)
        return;
    for (int id = 0; id < RUV_SET_COUNT; id++)
        free(cfg->api[id]);
    for (size_t i = 0; i < cfg->nplugins; i++)
        free(cfg->plugins[i]);
    free(cfg->plugins);
    free(cfg->registered);
    for (size_t i = 0; i < cfg->noptions; i++) {
        free(cfg->options[i].plugin);
        free(cfg->options[i].key);
        free(cfg->options[i].value);
    }
    free(cfg->options);
    free(cfg);
}

static int replace_string(char **slot, const char *value, const char *what)
{
    char *copy = ruv__strdup(value);
    if (!copy)
        return ruv__set_error(RUV_E_NOMEM, "%s: out of memory", what);
    free(*slot);
    *slot = copy;
    return RUV_OK;
}

int ruv_config_set_kernel(ruv_config *cfg, const char *name)
{
    if (!cfg || !name)
        return ruv__set_error(RUV_E_INVAL, "ruv_config_set_kernel: NULL argument");
    if (strcmp(name, "auto") != 0 && !ruv__valid_module_name(name))
        return ruv__set_error(RUV_E_INVAL,
                              "ruv_config_set_kernel: '%s' is not a kernel name "
                              "(expected [a-z0-9_]{1,31} or \"auto\")",
                              name);
    return ruv__config_set(cfg, RUV_SET_kernel, name, "ruv_config_set_kernel");
}

int ruv_config_set_plugin_path(ruv_config *cfg, const char *path)
{
    if (!cfg || !path)
        return ruv__set_error(RUV_E_INVAL, "ruv_config_set_plugin_path: NULL argument");
    return ruv__config_set(cfg, RUV_SET_plugin_path, path, "ruv_config_set_plugin_path");
}

int ruv_config_set_disable(ruv_config *cfg, const char *names)
{
    if (!cfg || !names)
        return ruv__set_error(RUV_E_INVAL, "ruv_config_set_disable: NULL argument");
    return ruv__config_set(cfg, RUV_SET_disable, names, "ruv_config_set_disable");
}

int ruv_config_set_blas_path(ruv_config *cfg, const char *path)
{
    if (!cfg || !path)
        return ruv__set_error(RUV_E_INVAL, "ruv_config_set_blas_path: NULL argument");
    return ruv__config_set(cfg, RUV_SET_blas_path, path, "ruv_config_set_blas_path");
}

int ruv_config_set_kernel_measure(ruv_config *cfg, int on)
{
    if (!cfg)
        return ruv__set_error(RUV_E_INVAL, "ruv_config_set_kernel_measure: NULL argument");
    return ruv__config_set(cfg, RUV_SET_kernel_measure, on ? "1" : "0",
                           "ruv_config_set_kernel_measure");
}

int ruv_config_set_cache_dir(ruv_config *cfg, const char *dir)
{
    if (!cfg || !dir)
        return ruv__set_error(RUV_E_INVAL, "ruv_config_set_cache_dir: NULL argument");
    return ruv__config_set(cfg, RUV_SET_cache_dir, dir, "ruv_config_set_cache_dir");
}

int ruv_config_add_plugin(ruv_config *cfg, const char *name)
{
    if (!cfg || !name)
        return ruv__set_error(RUV_E_INVAL, "ruv_config_add_plugin: NULL argument");
    if (!ruv__valid_module_name(name))
        return ruv__set_error(RUV_E_INVAL,
                              "ruv_config_add_plugin: '%s' is not a module name "
                              "(expected [a-z0-9_]{1,31})",
                              name);
    for (size_t i = 0; i < cfg->nplugins; i++)
        if (strcmp(cfg->plugins[i], name) == 0)
            return RUV_OK;
    char **np = realloc(cfg->plugins, (cfg->nplugins + 1) * sizeof *np);
    if (!np)
        return ruv__set_error(RUV_E_NOMEM, "ruv_config_add_plugin: out of memory");
    cfg->plugins = np;
    if (!(np[cfg->nplugins] = ruv__strdup(name)))
        return ruv__set_error(RUV_E_NOMEM, "ruv_config_add_plugin: out of memory");
    cfg->nplugins++;
    return RUV_OK;
}

int ruv_config_register(ruv_config *cfg, const struct ruv_plugin *desc)
{
    if (!cfg || !desc)
        return ruv__set_error(RUV_E_INVAL, "ruv_config_register: NULL argument");
    const struct ruv_plugin **np =
        realloc(cfg->registered, (cfg->nregistered + 1) * sizeof *np);
    if (!np)
        return ruv__set_error(RUV_E_NOMEM, "ruv_config_register: out of memory");
    cfg->registered = np;
    np[cfg->nregistered++] = desc;
    return RUV_OK;
}

int ruv_config_set_threads(ruv_config *cfg, unsigned threads)
{
    if (!cfg)
        return ruv__set_error(RUV_E_INVAL, "ruv_config_set_threads: cfg is NULL");
    if (threads > 4096)
        return ruv__set_error(RUV_E_INVAL, "ruv_config_set_threads: %u threads is more than 4096",
                              threads);
    if (threads == 0) { /* back to the default: one thread per core */
        free(cfg->api[RUV_SET_threads]);
        cfg->api[RUV_SET_threads] = NULL;
        return RUV_OK;
    }
    char text[16];
    snprintf(text, sizeof text, "%u", threads);
    return ruv__config_set(cfg, RUV_SET_threads, text, "ruv_config_set_threads");
}

int ruv_config_set_verbose(ruv_config *cfg, int level)
{
    if (!cfg)
        return ruv__set_error(RUV_E_INVAL, "ruv_config_set_verbose: cfg is NULL");
    if (level < 0 || level > 2)
        return ruv__set_error(RUV_E_INVAL, "ruv_config_set_verbose: level %d is not 0, 1 or 2",
                              level);
    char text[4] = {(char)('0' + level), '\0'};
    return ruv__config_set(cfg, RUV_SET_verbose, text, "ruv_config_set_verbose");
}

int ruv_config_set_progress(ruv_config *cfg, ruv_progress_fn fn, void *ctx)
{
    if (!cfg)
        return ruv__set_error(RUV_E_INVAL, "ruv_config_set_progress: cfg is NULL");
    cfg->progress = fn;
    cfg->progress_ctx = ctx;
    return RUV_OK;
}

int ruv_config_set_plugin_option(ruv_config *cfg, const char *plugin, const char *key,
                                 const char *value)
{
    if (!cfg || !plugin || !key || !value)
        return ruv__set_error(RUV_E_INVAL, "ruv_config_set_plugin_option: NULL argument");
    for (size_t i = 0; i < cfg->noptions; i++)
        if (strcmp(cfg->options[i].plugin, plugin) == 0 && strcmp(cfg->options[i].key, key) == 0)
            return replace_string(&cfg->options[i].value, value, "ruv_config_set_plugin_option");
    return ruv__option_add(&cfg->options, &cfg->noptions, plugin, key, value);
}
