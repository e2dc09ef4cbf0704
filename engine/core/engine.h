/* Engine-private: the engine object. It owns the resolved settings and the
 * plugin set (plugin/plugins.h), whose inputs point at those settings. */
#ifndef RUV_ENGINE_CORE_ENGINE_H
#define RUV_ENGINE_CORE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include <ruvector/engine.h>

#include "core/settings.h"
#include "plugin/plugins.h"

struct ruv_engine {
    struct ruv__settings settings; /* resolved once, at open (core/settings.h) */
    ruv_progress_fn progress;
    void *progress_ctx;
    /* plugin options: the API's, then plugin-scoped settings from the
     * environment (what host->config_get serves) */
    struct ruv__option *options;
    size_t noptions;
    uint64_t isa;
    struct ruv__plugin_set plugins;
};

#endif
