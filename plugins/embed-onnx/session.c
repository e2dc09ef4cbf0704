/* session.c — ONNX Runtime sessions through the C API table ort.c loaded
 * (embed.md §3.1, §3.3, §5). One OrtEnv per process with global thread
 * pools, made on first use; sessions use those pools and never spin up
 * threads of their own. ORT's log goes to a function that drops it: a
 * plugin never prints, and each failure reaches the caller as a status
 * with ORT's message as the detail. */
#include "session.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <onnxruntime_c_api.h>

#include <ruvector/error.h>

const int RUV__SESSIONS_BUILT = 1;

#if ORT_API_VERSION < 21
#error "onnxruntime_c_api.h older than API 21 (embed.md §3.1)"
#endif

struct ruv__session {
    const OrtApi *api;
    OrtSession *session;
    OrtMemoryInfo *cpu;
    unsigned inputs; /* RUV__IN_* */
    int pooled;      /* the output is sentence_embedding [batch, hidden], pooled in the graph */
};

static pthread_mutex_t env_mu = PTHREAD_MUTEX_INITIALIZER;
static OrtEnv *env; /* process-wide, never released: sessions of any engine share it */

static void drop_log(void *param, OrtLoggingLevel severity, const char *category,
                     const char *logid, const char *where, const char *message)
{
    (void)param, (void)severity, (void)category, (void)logid, (void)where, (void)message;
}

/* Maps an OrtStatus to a ruv_status with ORT's message, and frees it. */
static int fail(const struct ruv_host *host, const OrtApi *api, OrtStatus *st, const char *what,
                const char *path)
{
    OrtErrorCode code = api->GetErrorCode(st);
    int rc = RUV_E_PLUGIN;
    if (code == ORT_NO_SUCHFILE)
        rc = RUV_E_NOTFOUND;
    else if (code == ORT_INVALID_ARGUMENT || code == ORT_INVALID_PROTOBUF ||
             code == ORT_INVALID_GRAPH || code == ORT_NO_MODEL)
        rc = RUV_E_INVAL;
    rc = host->set_error(rc, "onnxruntime %s%s%s: %s", what, path ? " " : "", path ? path : "",
                         api->GetErrorMessage(st));
    api->ReleaseStatus(st);
    return rc;
}

static int get_env(const struct ruv_host *host, const OrtApi *api, unsigned threads)
{
    pthread_mutex_lock(&env_mu);
    OrtStatus *st = NULL;
    OrtThreadingOptions *tp = NULL;
    if (!env) {
        if (!(st = api->CreateThreadingOptions(&tp)) &&
            !(st = api->SetGlobalIntraOpNumThreads(tp, (int)(threads > 256 ? 256 : threads))) &&
            !(st = api->SetGlobalInterOpNumThreads(tp, 1)) &&
            !(st = api->SetGlobalSpinControl(tp, 0)))
            st = api->CreateEnvWithCustomLoggerAndGlobalThreadPools(
                drop_log, NULL, ORT_LOGGING_LEVEL_WARNING, "ruvector", tp, &env);
        if (tp)
            api->ReleaseThreadingOptions(tp);
    }
    pthread_mutex_unlock(&env_mu);
    return st ? fail(host, api, st, "environment", NULL) : RUV_OK;
}

/* Element type and rank of one input or output's tensor type info. */
static OrtStatus *tensor_kind(const OrtApi *api, OrtTypeInfo *ti, ONNXTensorElementDataType *type,
                              int64_t *dims, size_t cap, size_t *rank)
{
    const OrtTensorTypeAndShapeInfo *tensor = NULL;
    OrtStatus *st = api->CastTypeInfoToTensorInfo(ti, &tensor);
    *rank = 0;
    if (st)
        return st;
    if (!tensor) { /* not a tensor (a sequence or a map) */
        *type = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
        return NULL;
    }
    if ((st = api->GetTensorElementType(tensor, type)) || (st = api->GetDimensionsCount(tensor, rank)))
        return st;
    if (*rank <= cap)
        st = api->GetDimensions(tensor, dims, *rank);
    return st;
}

/* Checks the inputs and picks the output (embed.md §5): sentence_embedding
 * when the graph has it (exports that pool inside the graph, e.g.
 * LightEmbed's), else last_hidden_state for our pooling. */
static int check_graph(const struct ruv_host *host, struct ruv__session *s, const char *path,
                       size_t *hidden)
{
    const OrtApi *api = s->api;
    OrtAllocator *alloc = NULL;
    OrtStatus *st = api->GetAllocatorWithDefaultOptions(&alloc);
    size_t n_in = 0, n_out = 0;
    if (st || (st = api->SessionGetInputCount(s->session, &n_in)) ||
        (st = api->SessionGetOutputCount(s->session, &n_out)))
        return fail(host, api, st, "graph of", path);
    int rc = RUV_OK, has_output = 0;
    size_t pooled_width = 0;
    int has_pooled = 0;
    for (size_t i = 0; i < n_in + n_out && rc == RUV_OK; i++) {
        int is_in = i < n_in;
        size_t k = is_in ? i : i - n_in;
        char *name = NULL;
        OrtTypeInfo *ti = NULL;
        ONNXTensorElementDataType type = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
        int64_t dims[3] = {0, 0, 0};
        size_t rank = 0;
        st = is_in ? api->SessionGetInputName(s->session, k, alloc, &name)
                   : api->SessionGetOutputName(s->session, k, alloc, &name);
        if (!st)
            st = is_in ? api->SessionGetInputTypeInfo(s->session, k, &ti)
                       : api->SessionGetOutputTypeInfo(s->session, k, &ti);
        if (!st)
            st = tensor_kind(api, ti, &type, dims, 3, &rank);
        if (st) {
            rc = fail(host, api, st, "graph of", path);
        } else if (is_in) {
            unsigned bit = !strcmp(name, "input_ids")        ? RUV__IN_IDS
                           : !strcmp(name, "attention_mask") ? RUV__IN_MASK
                           : !strcmp(name, "token_type_ids") ? RUV__IN_TYPES
                                                             : 0;
            if (!bit)
                rc = host->set_error(RUV_E_INVAL,
                                     "%s: input '%s' is not one of input_ids, attention_mask, "
                                     "token_type_ids",
                                     path, name);
            else if (type != ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 || rank != 2)
                rc = host->set_error(RUV_E_INVAL, "%s: input '%s' must be int64 [batch, sequence]",
                                     path, name);
            s->inputs |= bit;
        } else if (!strcmp(name, "last_hidden_state")) {
            if (type != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT || rank != 3)
                rc = host->set_error(RUV_E_INVAL,
                                     "%s: output last_hidden_state must be float [batch, "
                                     "sequence, hidden]",
                                     path);
            else
                *hidden = dims[2] > 0 ? (size_t)dims[2] : 0, has_output = 1;
        } else if (!strcmp(name, "sentence_embedding")) {
            if (type != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT || rank != 2)
                rc = host->set_error(RUV_E_INVAL,
                                     "%s: output sentence_embedding must be float [batch, hidden]",
                                     path);
            else
                pooled_width = dims[1] > 0 ? (size_t)dims[1] : 0, has_pooled = 1;
        }
        if (ti)
            api->ReleaseTypeInfo(ti);
        OrtStatus *freed = name ? api->AllocatorFree(alloc, name) : NULL;
        if (freed) /* cannot fail for the default allocator; nothing to undo if it did */
            api->ReleaseStatus(freed);
    }
    if (rc == RUV_OK && !(s->inputs & RUV__IN_IDS))
        rc = host->set_error(RUV_E_INVAL, "%s: the graph has no input_ids input", path);
    if (rc == RUV_OK && has_pooled)
        s->pooled = 1, *hidden = pooled_width;
    else if (rc == RUV_OK && !has_output)
        rc = host->set_error(RUV_E_INVAL,
                             "%s: the graph has neither a last_hidden_state nor a "
                             "sentence_embedding output",
                             path);
    return rc;
}

int ruv__session_open(const struct ruv_host *host, const struct ruv__ort *ort,
                      const char *onnx_path, unsigned threads, struct ruv__session **out,
                      size_t *hidden)
{
    *out = NULL;
    *hidden = 0;
    const OrtApi *api = ort->api;
    int rc = get_env(host, api, threads);
    if (rc)
        return rc;
    struct ruv__session *s = calloc(1, sizeof *s);
    if (!s)
        return host->set_error(RUV_E_NOMEM, "model_open: out of memory");
    s->api = api;
    OrtSessionOptions *so = NULL;
    OrtStatus *st = api->CreateSessionOptions(&so);
    if (!st && !(st = api->DisablePerSessionThreads(so)) &&
        !(st = api->SetSessionGraphOptimizationLevel(so, ORT_ENABLE_ALL)))
        st = api->CreateSession(env, onnx_path, so, &s->session);
    if (so)
        api->ReleaseSessionOptions(so);
    if (!st)
        st = api->CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &s->cpu);
    rc = st ? fail(host, api, st, "session for", onnx_path) : check_graph(host, s, onnx_path, hidden);
    if (rc) {
        ruv__session_close(s);
        return rc;
    }
    *out = s;
    return RUV_OK;
}

void ruv__session_close(struct ruv__session *s)
{
    if (!s)
        return;
    if (s->cpu)
        s->api->ReleaseMemoryInfo(s->cpu);
    if (s->session)
        s->api->ReleaseSession(s->session);
    free(s);
}

unsigned ruv__session_inputs(const struct ruv__session *s) { return s->inputs; }

int ruv__session_pooled(const struct ruv__session *s) { return s->pooled; }

struct run_stop {
    const OrtApi *api;
    OrtRunOptions *options;
};

/* Called by ruv__embed_cancel on the cancelling thread while the run is
 * armed: ORT checks the flag between kernels and returns an error. */
static void terminate_run(void *ctx)
{
    struct run_stop *rs = ctx;
    OrtStatus *st = rs->api->RunOptionsSetTerminate(rs->options);
    if (st) /* ORT only stores a flag here; were it to fail, the run would just finish */
        rs->api->ReleaseStatus(st);
}

int ruv__session_run(const struct ruv_host *host, struct ruv__session *s, int64_t *ids,
                     int64_t *mask, int64_t *types, size_t rows, size_t seq,
                     ruv_embed_cancel *cancel, const float **hidden, size_t *width, void **run)
{
    const OrtApi *api = s->api;
    const int64_t shape[2] = {(int64_t)rows, (int64_t)seq};
    const size_t bytes = rows * seq * sizeof(int64_t);
    const char *names[3];
    OrtValue *in[3] = {NULL, NULL, NULL};
    int64_t *bufs[3] = {ids, mask, types};
    static const char *const all_names[3] = {"input_ids", "attention_mask", "token_type_ids"};
    size_t n_in = 0;
    OrtStatus *st = NULL;
    *run = NULL;
    *hidden = NULL;
    *width = 0;
    for (unsigned k = 0; k < 3 && !st; k++) {
        if (!(s->inputs & (1u << k)))
            continue;
        names[n_in] = all_names[k];
        st = api->CreateTensorWithDataAsOrtValue(s->cpu, bufs[k], bytes, shape, 2,
                                                 ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64, &in[n_in]);
        n_in++;
    }
    OrtValue *outv = NULL;
    const char *const out_names[1] = {s->pooled ? "sentence_embedding" : "last_hidden_state"};
    const size_t want_rank = s->pooled ? 2 : 3;
    struct run_stop stop = {api, NULL};
    struct ruv__cancel_hook hook = {terminate_run, &stop, NULL};
    int armed = 0, before = 0, during = 0;
    if (!st && cancel && !(st = api->CreateRunOptions(&stop.options))) {
        before = ruv__cancel_arm(cancel, &hook);
        armed = !before;
    }
    if (!st && !before)
        st = api->Run(s->session, stop.options, names, (const OrtValue *const *)in, n_in,
                      out_names, 1, &outv);
    if (armed) {
        ruv__cancel_disarm(cancel, &hook);
        /* the flag, not ORT's message, says whether the run was stopped */
        during = st && ruv__cancel_is_set(cancel);
    }
    if (stop.options)
        api->ReleaseRunOptions(stop.options);
    for (size_t k = 0; k < 3; k++)
        if (in[k])
            api->ReleaseValue(in[k]);
    if (before || during) {
        if (st)
            api->ReleaseStatus(st);
        if (outv)
            api->ReleaseValue(outv);
        return host->set_error(RUV_E_CANCELED, "embed: canceled %s a batch of %zu texts",
                               during ? "during" : "before", rows);
    }
    OrtTensorTypeAndShapeInfo *info = NULL;
    int64_t dims[3] = {0, 0, 0};
    size_t rank = 0;
    void *data = NULL;
    if (!st && !(st = api->GetTensorTypeAndShape(outv, &info)) &&
        !(st = api->GetDimensionsCount(info, &rank)) && rank == want_rank)
        st = api->GetDimensions(info, dims, want_rank);
    if (info)
        api->ReleaseTensorTypeAndShapeInfo(info);
    if (!st && rank == want_rank)
        st = api->GetTensorMutableData(outv, &data);
    if (st) {
        if (outv)
            api->ReleaseValue(outv);
        return fail(host, api, st, "run", NULL);
    }
    const int64_t w = dims[want_rank - 1];
    if (rank != want_rank || dims[0] != (int64_t)rows || (!s->pooled && dims[1] != (int64_t)seq) ||
        w <= 0) {
        api->ReleaseValue(outv);
        if (s->pooled)
            return host->set_error(RUV_E_INVAL,
                                   "onnxruntime run: sentence_embedding has %zu dimensions, not "
                                   "[%zu, hidden]",
                                   rank, rows);
        return host->set_error(RUV_E_INVAL,
                               "onnxruntime run: last_hidden_state has %zu dimensions, not "
                               "[%zu, %zu, hidden]",
                               rank, rows, seq);
    }
    *hidden = data;
    *width = (size_t)w;
    *run = outv;
    return RUV_OK;
}

void ruv__session_release(struct ruv__session *s, void *run)
{
    if (run)
        s->api->ReleaseValue(run);
}
