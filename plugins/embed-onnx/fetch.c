/* fetch.c — model_fetch and registry_get (fetch.h) over the registry and
 * cache library (registry.h, model_cache.h). Errors of that library carry
 * their detail in the plugin's thread-local detail; here they go to the
 * host's last error. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <ruvector/error.h>

#include "../common/detail.h"
#include "fetch.h"

#ifdef RUV_EMBED_HAVE_MODELS
#include "model_cache.h"
#include "registry.h"

/* The smallest options a caller may pass: up to and including flags. */
#define FETCH_OPTS_MIN (offsetof(struct ruv_embed_fetch_options, flags) + sizeof(uint32_t))
#define FETCH_OPTS_HAS(o, field) \
    ((o)->struct_size >= offsetof(struct ruv_embed_fetch_options, field) + sizeof((o)->field))

int ruv__embed_fetch(const struct ruv_host *host, const char *name,
                     const struct ruv_embed_fetch_options *opts, char **dir_out)
{
    if (dir_out)
        *dir_out = NULL;
    if (!name || !dir_out)
        return host->set_error(RUV_E_INVAL, "model_fetch: name and dir_out must not be NULL");
    struct ruv__embed_fetch_opts fo = {0};
    if (opts) {
        if (opts->struct_size < FETCH_OPTS_MIN)
            return host->set_error(RUV_E_INVAL, "model_fetch: opts->struct_size %u is too small",
                                   opts->struct_size);
        fo.offline = (opts->flags & RUV_EMBED_FETCH_OFFLINE) != 0;
        if (FETCH_OPTS_HAS(opts, cache_dir))
            fo.cache_dir = opts->cache_dir;
        if (FETCH_OPTS_HAS(opts, base_url))
            fo.base_url = opts->base_url;
        if (FETCH_OPTS_HAS(opts, ca_file))
            fo.net.ca_file = opts->ca_file;
        if (FETCH_OPTS_HAS(opts, progress_ctx)) {
            fo.net.progress = opts->progress;
            fo.net.progress_ctx = opts->progress_ctx;
        }
    }
    int rc = ruv__embed_model_resolve(name, &fo, dir_out, NULL, NULL);
    if (rc)
        return host->set_error(rc, "model %s: %s", name, ruv__detail_get());
    return RUV_OK;
}

static const char *const no_aliases[] = {NULL};

int ruv__embed_registry_get(const struct ruv_host *host, size_t i, struct ruv_embed_registry_info *out)
{
    if (!out || out->struct_size < sizeof *out)
        return host->set_error(RUV_E_INVAL, "registry_get: out is NULL or its struct_size too small");
    const struct ruv__embed_entry *e = ruv__embed_registry_at(i);
    if (!e)
        return host->set_error(RUV_E_NOTFOUND, "registry_get: entry %zu past the last (%zu entries)", i,
                               ruv__embed_registry_count());
    uint32_t size = out->struct_size;
    memset(out, 0, sizeof *out);
    out->struct_size = size;
    out->dim = e->dim;
    out->max_tokens = e->max_tokens;
    out->normalize = e->normalize ? 1u : 0u;
    out->name = e->name;
    out->aliases = e->aliases ? e->aliases : no_aliases;
    out->repo = e->repo;
    out->revision = e->revision;
    out->pooling = e->pooling;
    out->weights = e->weights == RUV_EMBED_WEIGHTS_ONNX ? "onnx" : "safetensors";
    out->weights_file = e->weights_file;
    out->licence = e->licence;
    out->query_prefix = e->query_prefix ? e->query_prefix : "";
    return RUV_OK;
}

#else /* built without libcurl and libcrypto */

#define NO_MODELS "the model registry needs libcurl and libcrypto (OpenSSL >= 3), which " \
                  "embed_onnx was built without (install libcurl and libssl development " \
                  "files and rebuild)"

int ruv__embed_fetch(const struct ruv_host *host, const char *name,
                     const struct ruv_embed_fetch_options *opts, char **dir_out)
{
    (void)name;
    (void)opts;
    if (dir_out)
        *dir_out = NULL;
    return host->set_error(RUV_E_UNSUPPORTED, "model_fetch: " NO_MODELS);
}

int ruv__embed_registry_get(const struct ruv_host *host, size_t i, struct ruv_embed_registry_info *out)
{
    (void)i;
    (void)out;
    return host->set_error(RUV_E_UNSUPPORTED, "registry_get: " NO_MODELS);
}

#endif

void ruv__embed_free_string(char *s) { free(s); }
