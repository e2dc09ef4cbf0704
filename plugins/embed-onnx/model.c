/* model.c — opening a local model directory (embed.md §4.2): which
 * tokenizer file, cased or not, and the length limit from the
 * sentence-transformers config rather than tokenizer.json's truncation. */
#include "model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include <ruvector/error.h>

#include "tokenizer.h"

struct ruv_embed_model {
    const struct ruv_host *host;
    struct ruv__tok *tok;
};

/* Longest max_seq_length we accept: far above any BERT (512), low enough
 * that a typo cannot ask for absurd buffers. */
#define RUV_EMBED_MAX_SEQ (1u << 16)

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int join(const struct ruv_host *host, char *buf, size_t cap, const char *dir,
                const char *file)
{
    int w = snprintf(buf, cap, "%s/%s", dir, file);
    if (w < 0 || (size_t)w >= cap)
        return host->set_error(RUV_E_INVAL, "model directory path is too long: %.80s...", dir);
    return RUV_OK;
}

/* Loads an optional JSON object file: RUV_OK with *out NULL when absent. */
static int load_json(const struct ruv_host *host, const char *path, json_t **out)
{
    *out = NULL;
    if (!exists(path))
        return RUV_OK;
    json_error_t err;
    json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    if (!j)
        return host->set_error(RUV_E_INVAL, "%s: line %d: %s", path, err.line, err.text);
    if (!json_is_object(j)) {
        json_decref(j);
        return host->set_error(RUV_E_INVAL, "%s: not a JSON object", path);
    }
    *out = j;
    return RUV_OK;
}

/* sentence_bert_config.json max_seq_length (0 when absent), plus the two
 * specials the template adds: the tokenizer's limit counts them, and
 * sentence-transformers' max_seq_length does too (embed.md §4.2). */
static int read_max_length(const struct ruv_host *host, const char *dir, size_t *max_length)
{
    char path[4096];
    json_t *j = NULL;
    *max_length = 0;
    int rc = join(host, path, sizeof path, dir, "sentence_bert_config.json");
    if (rc || (rc = load_json(host, path, &j)) || !j)
        return rc;
    json_t *v = json_object_get(j, "max_seq_length");
    if (v) {
        json_int_t n = json_is_integer(v) ? json_integer_value(v) : -1;
        if (n < 3 || n > (json_int_t)RUV_EMBED_MAX_SEQ)
            rc = host->set_error(RUV_E_INVAL,
                                 "%s: max_seq_length must be an integer in [3, %u]", path,
                                 RUV_EMBED_MAX_SEQ);
        else
            *max_length = (size_t)n;
    }
    json_decref(j);
    return rc;
}

/* tokenizer_config.json "do_lower_case": false means a cased vocab.txt. */
static int read_cased(const struct ruv_host *host, const char *dir, int *cased)
{
    char path[4096];
    json_t *j = NULL;
    *cased = 0;
    int rc = join(host, path, sizeof path, dir, "tokenizer_config.json");
    if (rc || (rc = load_json(host, path, &j)) || !j)
        return rc;
    json_t *v = json_object_get(j, "do_lower_case");
    if (v && !json_is_boolean(v))
        rc = host->set_error(RUV_E_INVAL, "%s: do_lower_case must be true or false", path);
    else if (v)
        *cased = json_is_false(v);
    json_decref(j);
    return rc;
}

int ruv__embed_model_open(const struct ruv_host *host, const char *name_or_dir,
                          const struct ruv_embed_open_opts *opts, ruv_embed_model **out)
{
    if (!out)
        return host->set_error(RUV_E_INVAL, "model_open: NULL out");
    *out = NULL;
    if (!name_or_dir || !*name_or_dir)
        return host->set_error(RUV_E_INVAL, "model_open: no model name or directory");
    uint32_t flags = 0;
    if (opts) {
        if (opts->struct_size < offsetof(struct ruv_embed_open_opts, flags) + sizeof opts->flags)
            return host->set_error(RUV_E_INVAL, "model_open: opts struct_size %u is too small",
                                   opts->struct_size);
        flags = opts->flags;
        if (flags & ~RUV_EMBED_LOSSY_UTF8)
            return host->set_error(RUV_E_INVAL, "model_open: unknown flags 0x%x",
                                   flags & ~RUV_EMBED_LOSSY_UTF8);
    }
    struct stat st;
    int stat_errno = stat(name_or_dir, &st) != 0 ? errno : 0;
    if (stat_errno || !S_ISDIR(st.st_mode)) {
        if (!strchr(name_or_dir, '/'))
            return host->set_error(RUV_E_NOTFOUND,
                                   "model %s: no such directory (the model registry is not "
                                   "available yet: pass a local model directory)",
                                   name_or_dir);
        return host->set_error(RUV_E_NOTFOUND, "model directory %s: %s", name_or_dir,
                               stat_errno ? strerror(stat_errno) : "not a directory");
    }
    struct ruv__tok_opts topts = {0};
    int cased = 0, rc;
    if ((rc = read_max_length(host, name_or_dir, &topts.max_length)))
        return rc;
    if (flags & RUV_EMBED_LOSSY_UTF8)
        topts.flags |= RUV__TOK_LOSSY_UTF8;

    char json_path[4096], vocab_path[4096];
    if ((rc = join(host, json_path, sizeof json_path, name_or_dir, "tokenizer.json")) ||
        (rc = join(host, vocab_path, sizeof vocab_path, name_or_dir, "vocab.txt")))
        return rc;
    struct ruv__tok *tok = NULL;
    if (exists(json_path)) {
        rc = ruv__tok_open_json(json_path, &topts, &tok);
    } else if (exists(vocab_path)) {
        if ((rc = read_cased(host, name_or_dir, &cased)))
            return rc;
        if (cased)
            topts.flags |= RUV__TOK_CASED;
        rc = ruv__tok_open_vocab(vocab_path, &topts, &tok);
    } else {
        return host->set_error(RUV_E_NOTFOUND,
                               "model directory %s has no tokenizer.json or vocab.txt",
                               name_or_dir);
    }
    if (rc)
        return host->set_error(rc, "%s", ruv__detail_get());
    ruv_embed_model *m = calloc(1, sizeof *m);
    if (!m) {
        ruv__tok_free(tok);
        return host->set_error(RUV_E_NOMEM, "model_open: out of memory");
    }
    m->host = host;
    m->tok = tok;
    *out = m;
    return RUV_OK;
}

void ruv__embed_model_close(ruv_embed_model *m)
{
    if (!m)
        return;
    ruv__tok_free(m->tok);
    free(m);
}

int ruv__embed_tokenize(const ruv_embed_model *m, const char *text, size_t len, int64_t *ids,
                        size_t cap, size_t *n)
{
    if (!m)
        return RUV_E_INVAL; /* no host to record the detail through */
    int rc = ruv__tok_encode(m->tok, text, len, ids, cap, n);
    if (rc)
        return m->host->set_error(rc, "tokenize: %s", ruv__detail_get());
    return RUV_OK;
}
