/* fetch.h — the embed_onnx ops of version 3 (feature-embed.h): the model
 * registry and its verified download cache (embed.md §6), over
 * model_cache.h when the plugin is built with libcurl and libcrypto
 * (RUV_EMBED_HAVE_MODELS), else RUV_E_UNSUPPORTED saying so. */
#ifndef RUV_EMBED_FETCH_H
#define RUV_EMBED_FETCH_H

#include <stddef.h>

#include <ruvector/feature-embed.h>
#include <ruvector/plugin.h>

/* model_fetch for `host`: *dir_out is malloc'd (free_string frees it). */
int ruv__embed_fetch(const struct ruv_host *host, const char *name,
                     const struct ruv_embed_fetch_options *opts, char **dir_out);
/* registry_get: entry i into *out. */
int ruv__embed_registry_get(const struct ruv_host *host, size_t i, struct ruv_embed_registry_info *out);
/* free_string: free(s). */
void ruv__embed_free_string(char *s);

#endif
