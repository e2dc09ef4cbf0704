/* A stand-in for libonnxruntime with only OrtGetApiBase, for the loader's
 * version checks: GetVersionString returns $RUV_FAKE_ORT_VERSION and GetApi
 * counts its calls (fake_ort_get_api_calls) and returns NULL, as a runtime
 * without the requested API does. */
#include <stdint.h>
#include <stdlib.h>

#if defined(__GNUC__)
#define FAKE_EXPORT __attribute__((visibility("default")))
#else
#define FAKE_EXPORT
#endif

struct fake_api_base {
    const void *(*GetApi)(uint32_t version);
    const char *(*GetVersionString)(void);
};

FAKE_EXPORT int fake_ort_get_api_calls;

static const void *fake_get_api(uint32_t version)
{
    (void)version;
    fake_ort_get_api_calls++;
    return NULL;
}

static const char *fake_version(void)
{
    const char *v = getenv("RUV_FAKE_ORT_VERSION");
    return v ? v : "1.18.0";
}

static const struct fake_api_base base = {fake_get_api, fake_version};

FAKE_EXPORT const struct fake_api_base *OrtGetApiBase(void);
FAKE_EXPORT const struct fake_api_base *OrtGetApiBase(void) { return &base; }
