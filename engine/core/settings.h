/* Engine-private: the configuration a host fills before opening an engine
 * (struct ruv_config, core/config.c) and the names of setting sources. */
#ifndef RUV_ENGINE_CORE_SETTINGS_H
#define RUV_ENGINE_CORE_SETTINGS_H

#include <stddef.h>

#include <ruvector/engine.h>
#include <ruvector/plugin.h>

#include "plugin/plugins.h"

struct ruv_config {
    char *kernel;         /* NULL: not set through the API */
    char *plugin_path;    /* NULL: not set */
    char *disable;        /* NULL: not set */
    char *blas_path;      /* NULL: not set */
    char **plugins;       /* ruv_config_add_plugin, in order */
    size_t nplugins;
    const struct ruv_plugin **registered;
    size_t nregistered;
    unsigned threads;
    int threads_set;
    int verbose;
    int verbose_set;
    ruv_progress_fn progress;
    void *progress_ctx;
    struct ruv__option *options;
    size_t noptions;
};

/* "default", "env" or "api" (core/engine.c). */
const char *ruv__source_name(int src);

#endif
