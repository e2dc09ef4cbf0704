/* Test support shared by the embed_onnx tests that run ONNX Runtime: where
 * the onnxruntime wheel's library is. Header-only, so each test program
 * stays one source file. */
#ifndef RUV_EMBED_TEST_ORT_WHEEL_H
#define RUV_EMBED_TEST_ORT_WHEEL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#endif
