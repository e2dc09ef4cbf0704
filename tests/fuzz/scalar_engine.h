/* The engine both fuzz programs open: the scalar kernel (the same bytes and
 * scores on every machine), one thread, every kernel plugin disabled by name
 * and, when plugin_dir is given, the plugin path pointed there (an empty
 * directory: no plugin search at all). Returns a ruv status. */
#ifndef RUV_TESTS_FUZZ_SCALAR_ENGINE_H
#define RUV_TESTS_FUZZ_SCALAR_ENGINE_H

#include <ruvector/ruvector.h>

static int fuzz_scalar_engine(const char *plugin_dir, ruv_engine **eng)
{
    ruv_config *cfg = NULL;
    int rc = ruv_config_new(&cfg);
    if (!rc)
        rc = ruv_config_set_kernel(cfg, "scalar");
    if (!rc)
        rc = ruv_config_set_disable(cfg, "avx2,avx512,neon");
    if (!rc && plugin_dir)
        rc = ruv_config_set_plugin_path(cfg, plugin_dir);
    if (!rc)
        rc = ruv_config_set_threads(cfg, 1);
    if (!rc)
        rc = ruv_engine_open(cfg, eng);
    ruv_config_free(cfg);
    return rc;
}

#endif
