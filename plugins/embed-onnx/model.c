/* model.c — opening a local model directory (embed.md §4.2, §5): which
 * tokenizer file, cased or not, the length limit from the
 * sentence-transformers config rather than tokenizer.json's truncation, and
 * when the directory has an ONNX graph, its session and pooling. */
#include "model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include <ruvector/error.h>

#include "tokenizer.h"

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

/* config.json max_position_embeddings (0 when absent): the longest input
 * a BERT graph takes, so the limit when sentence-transformers gives none. */
static int read_max_positions(const struct ruv_host *host, const char *dir, size_t *max_pos)
{
    char path[4096];
    json_t *j = NULL;
    *max_pos = 0;
    int rc = join(host, path, sizeof path, dir, "config.json");
    if (rc || (rc = load_json(host, path, &j)) || !j)
        return rc;
    json_t *v = json_object_get(j, "max_position_embeddings");
    if (v) {
        json_int_t n = json_is_integer(v) ? json_integer_value(v) : -1;
        if (n < 3 || n > (json_int_t)RUV_EMBED_MAX_SEQ)
            rc = host->set_error(RUV_E_INVAL,
                                 "%s: max_position_embeddings must be an integer in [3, %u]", path,
                                 RUV_EMBED_MAX_SEQ);
        else
            *max_pos = (size_t)n;
    }
    json_decref(j);
    return rc;
}

/* The ONNX graph to use: the option, else <dir>/model.onnx, else
 * <dir>/onnx/model.onnx (the hub's layout); "" when there is none. */
static int find_graph(const struct ruv_host *host, const char *dir, const char *option,
                      char *path, size_t cap)
{
    path[0] = 0;
    if (option) {
        if (!exists(option))
            return host->set_error(RUV_E_NOTFOUND, "ONNX graph %s: no such file", option);
        if (strlen(option) >= cap)
            return host->set_error(RUV_E_INVAL, "ONNX graph path is too long: %.80s...", option);
        strcpy(path, option);
        return RUV_OK;
    }
    int rc = join(host, path, cap, dir, "model.onnx");
    if (rc || exists(path))
        return rc;
    if ((rc = join(host, path, cap, dir, "onnx/model.onnx")) || exists(path))
        return rc;
    path[0] = 0;
    return RUV_OK;
}

/* The session and pooling of a directory with a graph. */
static int open_graph(const struct ruv_host *host, const struct ruv__ort *ort, unsigned threads,
                      const char *dir, const char *graph, ruv_embed_model *m)
{
    if (!ort)
        return host->set_error(RUV_E_STATE, "%s: no ONNX Runtime loaded", graph);
    int rc = ruv__pooling_read(host, dir, &m->pooling);
    if (rc)
        return rc;
    size_t hidden = 0;
    if ((rc = ruv__session_open(host, ort, graph, threads, &m->session, &hidden)))
        return rc;
    const char *output =
        ruv__session_pooled(m->session) ? "sentence_embedding" : "last_hidden_state";
    if (!hidden)
        hidden = m->pooling.dim;
    if (!hidden)
        return host->set_error(RUV_E_INVAL,
                               "%s: %s has no fixed width and the pooling config gives no "
                               "word_embedding_dimension",
                               graph, output);
    if (m->pooling.dim && m->pooling.dim != hidden)
        return host->set_error(RUV_E_INVAL,
                               "%s: %s is %zu wide but the pooling config says "
                               "word_embedding_dimension %zu",
                               graph, output, hidden, m->pooling.dim);
    m->dim = hidden;
    return RUV_OK;
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

int ruv__embed_model_open(const struct ruv_host *host, const struct ruv__ort *ort,
                          unsigned threads, const char *name_or_dir,
                          const struct ruv_embed_open_opts *opts, ruv_embed_model **out)
{
    if (!out)
        return host->set_error(RUV_E_INVAL, "model_open: NULL out");
    *out = NULL;
    if (!name_or_dir || !*name_or_dir)
        return host->set_error(RUV_E_INVAL, "model_open: no model name or directory");
    uint32_t flags = 0, batch_size = 32;
    const char *onnx_option = NULL;
    if (opts) {
        if (opts->struct_size < offsetof(struct ruv_embed_open_opts, flags) + sizeof opts->flags)
            return host->set_error(RUV_E_INVAL, "model_open: opts struct_size %u is too small",
                                   opts->struct_size);
        flags = opts->flags;
        if (flags & ~RUV_EMBED_LOSSY_UTF8)
            return host->set_error(RUV_E_INVAL, "model_open: unknown flags 0x%x",
                                   flags & ~RUV_EMBED_LOSSY_UTF8);
        if (opts->struct_size >= offsetof(struct ruv_embed_open_opts, onnx_path) +
                                     sizeof opts->onnx_path) {
            if (opts->batch_size > 4096)
                return host->set_error(RUV_E_INVAL, "model_open: batch_size %u is above 4096",
                                       opts->batch_size);
            if (opts->batch_size)
                batch_size = opts->batch_size;
            onnx_option = opts->onnx_path;
        }
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
    char graph[4096];
    size_t max_pos = 0;
    if ((rc = read_max_length(host, name_or_dir, &topts.max_length)) ||
        (rc = find_graph(host, name_or_dir, onnx_option, graph, sizeof graph)) ||
        (graph[0] && (rc = read_max_positions(host, name_or_dir, &max_pos))))
        return rc;
    if (max_pos && topts.max_length > max_pos)
        return host->set_error(RUV_E_INVAL,
                               "%s: max_seq_length %zu is longer than the model's "
                               "max_position_embeddings %zu",
                               name_or_dir, topts.max_length, max_pos);
    if (graph[0] && !topts.max_length)
        topts.max_length = max_pos ? max_pos : 512; /* BERT's table; longer ids crash Gather */
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
    m->max_tokens = topts.max_length;
    m->batch_size = batch_size;
    if (graph[0] && (rc = open_graph(host, ort, threads, name_or_dir, graph, m))) {
        ruv__embed_model_close(m);
        return rc;
    }
    *out = m;
    return RUV_OK;
}

int ruv__embed_model_info(const ruv_embed_model *m, struct ruv_embed_info *out)
{
    if (!m || !out)
        return RUV_E_INVAL;
    size_t need = offsetof(struct ruv_embed_info, from_config) + sizeof out->from_config;
    if (out->struct_size < need)
        return m->host->set_error(RUV_E_INVAL, "model_info: struct_size %u is below %zu",
                                  out->struct_size, need);
    uint32_t size = out->struct_size;
    struct ruv_embed_info info = {0};
    info.dim = (uint32_t)m->dim;
    info.max_tokens = (uint32_t)m->max_tokens;
    info.pooling = m->session ? m->pooling.mode : 0;
    info.normalize = m->session ? (uint32_t)m->pooling.normalize : 0;
    info.batch_size = (uint32_t)m->batch_size;
    info.from_config = m->session ? (uint32_t)m->pooling.from_config : 0;
    memcpy(out, &info, size < sizeof info ? size : sizeof info);
    out->struct_size = size;
    return RUV_OK;
}

void ruv__embed_model_close(ruv_embed_model *m)
{
    if (!m)
        return;
    ruv__session_close(m->session);
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
