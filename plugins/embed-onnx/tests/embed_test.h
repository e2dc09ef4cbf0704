/* Test support shared by the embed_onnx tests that run ONNX Runtime: where
 * the onnxruntime wheel's library is, an engine with the plugin on it, and
 * the temporary directory's removal. Header-only, so each test program
 * stays one source file. */
#ifndef RUV_EMBED_TEST_H
#define RUV_EMBED_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/feature-embed.h>
#include <ruvector/plugin.h>
#include <ruvector/ruvector.h>

/* Writes into out the library to open: $RUV_TEST_ORT_LIB when set, else the
 * newest capi/libonnxruntime.so.* of the onnxruntime package that `py`
 * (NULL or "": python3) imports; "" when there is none. */
static inline void ruv_test_find_ort(const char *py, char *out, size_t len)
{
    out[0] = '\0';
    const char *env = getenv("RUV_TEST_ORT_LIB");
    if (env && *env) {
        snprintf(out, len, "%s", env);
        return;
    }
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "'%s' -c 'import glob, importlib.util, os\n"
             "s = importlib.util.find_spec(\"onnxruntime\")\n"
             "libs = sorted(glob.glob(os.path.join(os.path.dirname(s.origin), \"capi\", "
             "\"libonnxruntime.so.*\"))) if s else []\n"
             "print(libs[-1] if libs else \"\")' 2>/dev/null",
             py && *py ? py : "python3");
    FILE *p = popen(cmd, "r");
    if (!p)
        return;
    if (!fgets(out, (int)len, p))
        out[0] = '\0';
    pclose(p);
    out[strcspn(out, "\n")] = '\0';
}

/* Opens an engine whose embed_onnx plugin uses the library ort_lib, and gets
 * the plugin's ops; -1 (the reason printed as a TAP comment) when it cannot. */
static inline int ruv_test_open_embed(const char *ort_lib, ruv_engine **eng,
                                      const struct ruv_embed_ops **ops, void **pstate)
{
    ruv_config *cfg = NULL;
    int rc = ruv_config_new(&cfg) ||
             ruv_config_set_plugin_option(cfg, "embed_onnx", "ort_lib_wheel", ort_lib) ||
             ruv_engine_open(cfg, eng) || ruv_engine_load_plugin(*eng, "embed_onnx") ||
             ruv_engine_feature_get(*eng, "embed_onnx", RUV_FEATURE_EMBED,
                                    RUV_EMBED_OPS_SIZE_V2, (const void **)ops, pstate);
    if (rc)
        printf("# embed_onnx did not load: %s\n", ruv_last_error());
    ruv_config_free(cfg);
    return rc ? -1 : 0;
}

/* Closes the engine (when one was opened) and removes the test's directory. */
static inline int ruv_test_embed_teardown(ruv_engine *eng, const char *dir)
{
    if (eng)
        ruv_engine_close(eng);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

#endif
