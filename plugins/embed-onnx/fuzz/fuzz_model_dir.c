/* libFuzzer target: the model directory's JSON config files (model.c,
 * pooling.c) on any bytes. The first byte picks the file (0: sentence_bert_
 * config.json, 1: tokenizer_config.json, 2: modules.json, 3: 1_Pooling/
 * config.json, low two bits); the rest is its content, written into a
 * scratch directory that also holds a small vocab.txt. model_open must
 * either fail with a status and detail and no model, or give a model whose
 * ids stay in the vocabulary and within max_seq_length; the pooling reader
 * must give a known mode or fail with a status and detail. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <ruvector/error.h>
#include <ruvector/plugin.h>

#include "../model.h"
#include "../pooling.h"

static char detail[512];

static int fz_set_error(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return status;
}

static const char *fz_config_get(const struct ruv_host *host, const char *key)
{
    (void)host;
    (void)key;
    return NULL;
}

static const struct ruv_host host = {
    .struct_size = sizeof(struct ruv_host),
    .abi = RUV_PLUGIN_ABI,
    .set_error = fz_set_error,
    .config_get = fz_config_get,
};

static const char vocab[] = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\n##s\n,\nHello\n";
enum { VOCAB_SIZE = 10 };
static char dir[64];

static void put(const char *name, const void *buf, size_t len)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/ruv-fuzz-model-XXXXXX");
        if (!mkdtemp(dir))
            abort();
        put("vocab.txt", vocab, sizeof vocab - 1);
        char sub[128];
        snprintf(sub, sizeof sub, "%s/1_Pooling", dir);
        if (mkdir(sub, 0700))
            abort();
    }
    if (data[0] & 2) {
        static const char *const names[2] = {"modules.json", "1_Pooling/config.json"};
        char stale[128];
        snprintf(stale, sizeof stale, "%s/%s", dir, names[!(data[0] & 1)]);
        unlink(stale);
        put(names[data[0] & 1], data + 1, size - 1);
        struct ruv__pooling p;
        detail[0] = 0;
        int rc = ruv__pooling_read(&host, dir, &p);
        if (rc == RUV_OK ? (p.mode < 1 || p.mode > 3)
                         : (!detail[0] || (rc != RUV_E_INVAL && rc != RUV_E_UNSUPPORTED)))
            abort();
        return 0;
    }
    const char *mine = (data[0] & 1) ? "tokenizer_config.json" : "sentence_bert_config.json";
    const char *other = (data[0] & 1) ? "sentence_bert_config.json" : "tokenizer_config.json";
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, other);
    unlink(path);
    put(mine, data + 1, size - 1);

    detail[0] = 0;
    ruv_embed_model *m = (ruv_embed_model *)&m;
    int st = ruv__embed_model_open(&host, NULL, 0, dir, NULL, &m);
    if (st != RUV_OK) {
        if (m || !detail[0] || (st != RUV_E_INVAL && st != RUV_E_NOMEM))
            abort();
        return 0;
    }
    /* the limit that loaded, if any, as model.c read it */
    size_t limit = 0;
    if (!(data[0] & 1)) {
        json_t *j = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, NULL);
        json_t *v = j ? json_object_get(j, "max_seq_length") : NULL;
        limit = v ? (size_t)json_integer_value(v) : 0;
        json_decref(j);
    }
    static const char *const texts[] = {"hello, worlds", "Hello Hello hello", "",
                                        "a b c d e f g h i j k l m n o p"};
    int64_t ids[64];
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        size_t n = 0;
        if (ruv__embed_tokenize(m, texts[i], strlen(texts[i]), ids, 64, &n) != RUV_OK)
            abort();
        if (n < 2 || (limit && n > limit) || ids[0] != 2 || ids[n - 1] != 3)
            abort();
        for (size_t k = 0; k < n; k++)
            if (ids[k] < 0 || ids[k] >= VOCAB_SIZE)
                abort();
    }
    ruv__embed_model_close(m);
    return 0;
}
