/* session_none.c — the session interface when configure found no
 * onnxruntime_c_api.h: the plugin still loads, tokenizes and reports, and
 * opening an ONNX model says how to build with sessions (embed.md §3.4). */
#include "session.h"

#include <ruvector/error.h>

const int RUV__SESSIONS_BUILT = 0;

int ruv__session_open(const struct ruv_host *host, const struct ruv__ort *ort,
                      const char *onnx_path, unsigned threads, struct ruv__session **out,
                      size_t *hidden)
{
    (void)ort, (void)threads;
    *out = NULL;
    *hidden = 0;
    return host->set_error(RUV_E_UNSUPPORTED,
                           "%s: this embed_onnx was built without onnxruntime_c_api.h, so it "
                           "cannot run ONNX models (run scripts/fetch-ort-header.sh and "
                           "reconfigure)",
                           onnx_path);
}

void ruv__session_close(struct ruv__session *s) { (void)s; }

int ruv__session_run(const struct ruv_host *host, struct ruv__session *s, int64_t *ids,
                     int64_t *mask, int64_t *types, size_t rows, size_t seq,
                     ruv_embed_cancel *cancel, const float **hidden, size_t *width, void **run)
{
    (void)s, (void)ids, (void)mask, (void)types, (void)rows, (void)seq, (void)cancel;
    *hidden = NULL;
    *width = 0;
    *run = NULL;
    return host->set_error(RUV_E_UNSUPPORTED, "embed_onnx was built without ONNX sessions");
}

void ruv__session_release(struct ruv__session *s, void *run) { (void)s, (void)run; }

unsigned ruv__session_inputs(const struct ruv__session *s)
{
    (void)s;
    return 0;
}

int ruv__session_pooled(const struct ruv__session *s)
{
    (void)s;
    return 0;
}
