/* plugin.c — the embed_onnx feature plugin's descriptor (embed.md §2):
 * init loads ONNX Runtime (ort.c) or declines with the reason, the
 * self-test runs the tokenizer on a built-in vocabulary, and the report
 * says which runtime was found and how. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/error.h>
#include <ruvector/feature-embed.h>
#include <ruvector/plugin.h>

#include "embed.h"
#include "fetch.h"
#include "model.h"
#include "ort.h"
#include "tokenizer.h"

struct embed_state {
    const struct ruv_host *host;
    const struct ruv__ort *ort;
};

static int embed_init(const struct ruv_host *host, void **state)
{
    if (host->struct_size < RUV_HOST_SIZE_V2)
        return host->set_error(RUV_E_UNSUPPORTED, "embed_onnx needs host table version 2");
    const struct ruv__ort *ort = NULL;
    int rc = ruv__ort_load(host, &ort);
    if (rc)
        return rc;
    struct embed_state *s = calloc(1, sizeof *s);
    if (!s)
        return host->set_error(RUV_E_NOMEM, "embed_onnx: out of memory");
    s->host = host;
    s->ort = ort;
    *state = s;
    return RUV_OK;
}

/* ONNX Runtime stays loaded (never dlclosed, embed.md §3.3). */
static void embed_fini(void *state) { free(state); }

/* A vocabulary small enough to live here, so the self-test needs no files
 * and no ONNX Runtime; it checks lowercasing, accent stripping,
 * punctuation splitting, ## continuation, [UNK] and truncation. */
static const char selftest_vocab[] = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n"
                                     "hello\nworld\n##s\n,\ncafe\n";

static int embed_self_test(void *state)
{
    const struct ruv_host *host = ((struct embed_state *)state)->host;
    static const char text[] = "Hello, WORLDS caf\xc3\xa9 xyz";
    static const int64_t want[] = {2, 5, 8, 6, 7, 9, 1, 3};
    static const int64_t want_cut[] = {2, 5, 8, 3};
    struct ruv__tok_opts o = {0};
    struct ruv__tok *tok = NULL;
    int rc = ruv__tok_new_vocab(selftest_vocab, sizeof selftest_vocab - 1, &o, &tok);
    if (rc)
        return host->set_error(RUV_E_SELFTEST, "tokenizer: %s", ruv__detail_get());
    int64_t ids[16];
    size_t n = 0;
    rc = ruv__tok_encode(tok, text, sizeof text - 1, ids, 16, &n);
    ruv__tok_free(tok);
    if (rc || n != sizeof want / sizeof want[0] || memcmp(ids, want, sizeof want))
        return host->set_error(RUV_E_SELFTEST, "tokenizer gave %zu unexpected ids", n);
    o.max_length = 4;
    if ((rc = ruv__tok_new_vocab(selftest_vocab, sizeof selftest_vocab - 1, &o, &tok)))
        return host->set_error(RUV_E_SELFTEST, "tokenizer: %s", ruv__detail_get());
    rc = ruv__tok_encode(tok, text, sizeof text - 1, ids, 16, &n);
    ruv__tok_free(tok);
    if (rc || n != 4 || memcmp(ids, want_cut, sizeof want_cut))
        return host->set_error(RUV_E_SELFTEST, "tokenizer truncation gave %zu unexpected ids", n);
    return RUV_OK;
}

static void embed_report(void *state, void (*emit)(void *, const char *, const char *),
                         void *ctx)
{
    const struct embed_state *s = state;
    emit(ctx, "ort_path", s->ort->path);
    emit(ctx, "ort_found_by", ruv__ort_source_name(s->ort->source));
    emit(ctx, "ort_version", s->ort->version);
    char api[16];
    snprintf(api, sizeof api, "%u", RUV_ORT_API);
    emit(ctx, "ort_api", api);
    emit(ctx, "tokenizer", "BERT WordPiece (tokenizer.json or vocab.txt)");
    emit(ctx, "sessions", RUV__SESSIONS_BUILT ? "yes" : "no (built without onnxruntime_c_api.h)");
}

static int ops_model_open(void *state, const char *name_or_dir,
                          const struct ruv_embed_open_opts *opts, ruv_embed_model **out)
{
    const struct embed_state *s = state;
    return ruv__embed_model_open(s->host, s->ort, s->host->threads(s->host), name_or_dir, opts,
                                 out);
}

static int ops_model_fetch(void *state, const char *name, const struct ruv_embed_fetch_options *opts,
                           char **dir_out)
{
    return ruv__embed_fetch(((const struct embed_state *)state)->host, name, opts, dir_out);
}

static int ops_registry_get(void *state, size_t i, struct ruv_embed_registry_info *out)
{
    return ruv__embed_registry_get(((const struct embed_state *)state)->host, i, out);
}

static const struct ruv_embed_ops embed_ops = {
    .struct_size = sizeof(struct ruv_embed_ops),
    .model_open = ops_model_open,
    .model_close = ruv__embed_model_close,
    .tokenize = ruv__embed_tokenize,
    .model_info = ruv__embed_model_info,
    .embed = ruv__embed_texts,
    .cancel_new = ruv__embed_cancel_new,
    .cancel = ruv__embed_cancel,
    .cancel_free = ruv__embed_cancel_free,
    .model_fetch = ops_model_fetch,
    .registry_get = ops_registry_get,
    .free_string = ruv__embed_free_string,
};

static const struct ruv_plugin embed_desc = {
    .struct_size = sizeof(struct ruv_plugin),
    .abi = RUV_PLUGIN_ABI,
    .name = "embed_onnx",
    .version = "0.1.0",
    .kind = RUV_PLUGIN_FEATURE,
    .caps = RUV_CAP_NETWORK | RUV_CAP_THREADSAFE,
    .init = embed_init,
    .fini = embed_fini,
    .self_test = embed_self_test,
    .ops = &embed_ops,
    .feature = RUV_FEATURE_EMBED,
    .report = embed_report,
};

RUV_PLUGIN_DEFINE(embed_onnx, embed_desc)
