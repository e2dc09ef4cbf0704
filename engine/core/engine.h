/* Engine-private: the engine object. It owns the resolved settings and the
 * plugin set (plugin/plugins.h), whose inputs point at those settings. */
#ifndef RUV_ENGINE_CORE_ENGINE_H
#define RUV_ENGINE_CORE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include <ruvector/engine.h>

#include "plugin/plugins.h"

struct ruv_engine {
    /* resolved settings and their sources (enum ruv__source) */
    char *kernel_req; int kernel_src;     /* "auto" or a name */
    char *plugin_path; int plugin_path_src;
    char *disable; int disable_src;
    char *blas_path; /* NULL: system search only */
    ruv_progress_fn progress;
    void *progress_ctx;
    unsigned threads; int threads_src;
    int verbose; int verbose_src;
    char threads_str[16], verbose_str[4];
    struct ruv__option *options;
    size_t noptions;
    uint64_t isa;
    struct ruv__plugin_set plugins;
};

#endif
