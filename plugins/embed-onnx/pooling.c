/* pooling.c — pooling mode from the model's config files and the pooling
 * arithmetic (embed.md §5). */
#include "pooling.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include <ruvector/error.h>
#include <ruvector/feature-embed.h>

const char *ruv__pooling_name(unsigned mode)
{
    switch (mode) {
    case RUV_EMBED_POOL_MEAN: return "mean";
    case RUV_EMBED_POOL_CLS: return "cls";
    case RUV_EMBED_POOL_MAX: return "max";
    }
    return "unknown";
}

/* An optional JSON file: RUV_OK with *out NULL when absent. */
static int load_optional(const struct ruv_host *host, const char *path, json_t **out)
{
    struct stat st;
    *out = NULL;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return RUV_OK;
    json_error_t err;
    *out = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    if (!*out)
        return host->set_error(RUV_E_INVAL, "%s: line %d: %s", path, err.line, err.text);
    return RUV_OK;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* modules.json: the Pooling module's folder (copied into pool_dir, "" if
 * none) and whether a Normalize module follows. */
static int read_modules(const struct ruv_host *host, const char *path, const json_t *j,
                        char *pool_dir, size_t cap, int *normalize)
{
    if (!json_is_array(j))
        return host->set_error(RUV_E_INVAL, "%s: not a JSON array of modules", path);
    size_t i;
    const json_t *mod;
    json_array_foreach(j, i, mod) {
        const char *type = json_string_value(json_object_get(mod, "type"));
        const char *dir = json_string_value(json_object_get(mod, "path"));
        if (!json_is_object(mod) || !type)
            return host->set_error(RUV_E_INVAL, "%s: module %zu has no \"type\" string", path, i);
        if (ends_with(type, ".Normalize")) {
            *normalize = 1;
        } else if (ends_with(type, ".Pooling")) {
            if (!dir || !*dir || dir[0] == '/' || strstr(dir, "..") || strlen(dir) >= cap)
                return host->set_error(RUV_E_INVAL,
                                       "%s: the Pooling module's \"path\" must name a folder "
                                       "inside the model directory",
                                       path);
            snprintf(pool_dir, cap, "%s", dir);
        }
    }
    return RUV_OK;
}

static int read_mode(const struct ruv_host *host, const char *path, const json_t *j,
                     struct ruv__pooling *p)
{
    static const struct {
        const char *key;
        unsigned mode; /* 0: not implemented */
    } modes[] = {
        {"pooling_mode_mean_tokens", RUV_EMBED_POOL_MEAN},
        {"pooling_mode_cls_token", RUV_EMBED_POOL_CLS},
        {"pooling_mode_max_tokens", RUV_EMBED_POOL_MAX},
        {"pooling_mode_mean_sqrt_len_tokens", 0},
        {"pooling_mode_weightedmean_tokens", 0},
        {"pooling_mode_lasttoken", 0},
    };
    if (!json_is_object(j))
        return host->set_error(RUV_E_INVAL, "%s: not a JSON object", path);
    unsigned found = 0;
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        const json_t *v = json_object_get(j, modes[i].key);
        if (v && !json_is_boolean(v))
            return host->set_error(RUV_E_INVAL, "%s: %s must be true or false", path,
                                   modes[i].key);
        if (!json_is_true(v))
            continue;
        if (!modes[i].mode)
            return host->set_error(RUV_E_UNSUPPORTED, "%s: %s is not supported (mean, cls, max are)",
                                   path, modes[i].key);
        if (found++)
            return host->set_error(RUV_E_UNSUPPORTED,
                                   "%s: several pooling modes are set; one of mean, cls, max is "
                                   "supported",
                                   path);
        p->mode = modes[i].mode;
    }
    if (!found)
        return host->set_error(RUV_E_UNSUPPORTED, "%s: no pooling mode is set", path);
    const json_t *dim = json_object_get(j, "word_embedding_dimension");
    if (dim) {
        json_int_t d = json_is_integer(dim) ? json_integer_value(dim) : 0;
        if (d <= 0 || d > (1 << 20))
            return host->set_error(RUV_E_INVAL,
                                   "%s: word_embedding_dimension must be a positive integer", path);
        p->dim = (size_t)d;
    }
    return RUV_OK;
}

int ruv__pooling_read(const struct ruv_host *host, const char *dir, struct ruv__pooling *out)
{
    struct ruv__pooling p = {RUV_EMBED_POOL_MEAN, 1, 0, 0};
    char path[4096], pool_dir[1024] = "1_Pooling";
    json_t *j = NULL;
    if (snprintf(path, sizeof path, "%s/modules.json", dir) >= (int)sizeof path)
        return host->set_error(RUV_E_INVAL, "model directory path is too long");
    int rc = load_optional(host, path, &j);
    if (rc)
        return rc;
    if (j) {
        p.normalize = 0;
        p.from_config = 1;
        pool_dir[0] = 0;
        rc = read_modules(host, path, j, pool_dir, sizeof pool_dir, &p.normalize);
        json_decref(j);
        if (rc)
            return rc;
        if (!pool_dir[0])
            strcpy(pool_dir, "1_Pooling");
    }
    if (snprintf(path, sizeof path, "%s/%s/config.json", dir, pool_dir) >= (int)sizeof path)
        return host->set_error(RUV_E_INVAL, "model directory path is too long");
    if ((rc = load_optional(host, path, &j)))
        return rc;
    if (j) {
        p.from_config = 1;
        rc = read_mode(host, path, j, &p);
        json_decref(j);
        if (rc)
            return rc;
    }
    *out = p;
    return RUV_OK;
}

void ruv__pool_row(const struct ruv__pooling *p, const float *hidden, const int64_t *mask,
                   size_t seq, size_t width, float *out)
{
    double count = 0;
    for (size_t t = 0; t < seq; t++)
        count += mask[t] ? 1.0 : 0.0;
    for (size_t d = 0; d < width; d++) {
        double v = 0;
        if (p->mode == RUV_EMBED_POOL_CLS) {
            v = seq ? hidden[d] : 0.0;
        } else if (p->mode == RUV_EMBED_POOL_MAX) {
            int any = 0;
            for (size_t t = 0; t < seq; t++)
                if (mask[t] && (!any || hidden[t * width + d] > v))
                    v = hidden[t * width + d], any = 1;
        } else {
            for (size_t t = 0; t < seq; t++)
                if (mask[t])
                    v += hidden[t * width + d];
            v /= count > 1e-9 ? count : 1e-9;
        }
        out[d] = (float)v;
    }
    if (!p->normalize)
        return;
    double sq = 0;
    for (size_t d = 0; d < width; d++)
        sq += (double)out[d] * out[d];
    double norm = sqrt(sq);
    double inv = 1.0 / (norm > 1e-12 ? norm : 1e-12);
    for (size_t d = 0; d < width; d++)
        out[d] = (float)(out[d] * inv);
}
