/* ort.h — finding and loading ONNX Runtime at run time (embed.md §3.1-§3.3).
 * The plugin never links libonnxruntime: it dlopens it, checks the version
 * string before asking for the API table, and never dlcloses it. */
#ifndef RUV_EMBED_ORT_H
#define RUV_EMBED_ORT_H

#include <stdint.h>

#include <ruvector/plugin.h>

/* The API version we ask GetApi for: onnxruntime >= 1.21 (embed.md §3.1).
 * Our own constant, never the header's ORT_API_VERSION, so a newer header
 * cannot raise the floor. */
#define RUV_ORT_API 21u

/* How the library was found (embed.md §3.2, first hit wins). */
enum ruv__ort_source {
    RUV__ORT_SETTING = 1, /* host->config_get("ort_lib"): API option or RUVECTOR_ORT_LIB */
    RUV__ORT_WHEEL = 2,   /* config key "ort_lib_wheel", set by Python from the wheel's capi/ */
    RUV__ORT_SYSTEM = 3   /* dlopen("libonnxruntime.so.1") through the system loader */
};

/* The loaded runtime. Process-wide: the library stays mapped until exit. */
struct ruv__ort {
    enum ruv__ort_source source;
    char path[1024];    /* the file that was loaded (dladdr for the system step) */
    char version[32];   /* GetVersionString(), e.g. "1.23.2" */
    const void *api;    /* const OrtApi * for RUV_ORT_API; opaque until we call into it */
};

/* Finds, loads and version-checks ONNX Runtime in the order above. An
 * explicit path (setting or wheel key) that fails is an error naming it,
 * never a fall-through to the next step. The first success is kept for the
 * life of the process: a later call returns it again, or RUV_E_STATE when
 * its setting names a different file (ORT's handle and OrtEnv are
 * process-wide). On success *out points at that record (static, never
 * freed). On failure returns RUV_E_UNSUPPORTED (missing, not ONNX Runtime,
 * too old) or RUV_E_STATE, with the reason set through host->set_error. */
int ruv__ort_load(const struct ruv_host *host, const struct ruv__ort **out);

/* "setting", "wheel" or "system". Static string. */
const char *ruv__ort_source_name(enum ruv__ort_source s);

#endif
