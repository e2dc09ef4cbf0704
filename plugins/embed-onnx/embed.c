/* embed.c — texts to vectors (embed.md §5): tokenize every text once into
 * one compact buffer, sort by length, run batches padded only to their own
 * longest text (ORT reads the id and mask buffers in place), pool each row
 * straight into the caller's output at the text's own index. */
#include "embed.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/error.h>

#include "session.h"
#include "tokenizer.h"

/* The flag, and the batches in flight that cancelling stops inside their
 * run. lock orders setting the flag against arming a hook, so a cancel
 * never falls between a batch's check and its run. */
struct ruv_embed_cancel {
    atomic_int set;
    pthread_mutex_t lock;
    struct ruv__cancel_hook *hooks;
};

int ruv__embed_cancel_new(ruv_embed_cancel **out)
{
    if (!out)
        return RUV_E_INVAL;
    ruv_embed_cancel *c = calloc(1, sizeof *c);
    if (!c)
        return RUV_E_NOMEM;
    if (pthread_mutex_init(&c->lock, NULL)) {
        free(c);
        return RUV_E_NOMEM;
    }
    atomic_init(&c->set, 0);
    *out = c;
    return RUV_OK;
}

void ruv__embed_cancel(ruv_embed_cancel *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    atomic_store(&c->set, 1);
    for (struct ruv__cancel_hook *h = c->hooks; h; h = h->next)
        h->fire(h->ctx);
    pthread_mutex_unlock(&c->lock);
}

void ruv__embed_cancel_free(ruv_embed_cancel *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->lock);
    free(c);
}

int ruv__cancel_arm(ruv_embed_cancel *c, struct ruv__cancel_hook *h)
{
    pthread_mutex_lock(&c->lock);
    int already = atomic_load(&c->set);
    if (!already) {
        h->next = c->hooks;
        c->hooks = h;
    }
    pthread_mutex_unlock(&c->lock);
    return already;
}

int ruv__cancel_is_set(ruv_embed_cancel *c) { return atomic_load(&c->set); }

void ruv__cancel_disarm(ruv_embed_cancel *c, struct ruv__cancel_hook *h)
{
    pthread_mutex_lock(&c->lock);
    for (struct ruv__cancel_hook **p = &c->hooks; *p; p = &(*p)->next)
        if (*p == h) {
            *p = h->next;
            break;
        }
    pthread_mutex_unlock(&c->lock);
}

/* Every text's ids, back to back. */
struct tokens {
    int64_t *ids;
    size_t used, cap;
    size_t *start, *len; /* per text */
};

static int tokenize_all(const ruv_embed_model *m, const char *const *texts, const size_t *lens,
                        size_t n, struct tokens *t)
{
    const struct ruv_host *host = m->host;
    const size_t limit = m->max_tokens; /* > 0 whenever there is a graph */
    t->start = malloc(n * sizeof *t->start);
    t->len = malloc(n * sizeof *t->len);
    if (!t->start || !t->len)
        return host->set_error(RUV_E_NOMEM, "embed: out of memory for %zu texts", n);
    for (size_t i = 0; i < n; i++) {
        if (!texts[i])
            return host->set_error(RUV_E_INVAL, "embed: text %zu is NULL", i);
        if (t->cap - t->used < limit) {
            size_t cap = t->cap ? t->cap * 2 : limit * (n < 64 ? n : 64);
            while (cap - t->used < limit)
                cap *= 2;
            int64_t *grown = realloc(t->ids, cap * sizeof *grown);
            if (!grown)
                return host->set_error(RUV_E_NOMEM, "embed: out of memory for token ids");
            t->ids = grown;
            t->cap = cap;
        }
        size_t len = lens ? lens[i] : strlen(texts[i]), got = 0;
        int rc = ruv__tok_encode(m->tok, texts[i], len, t->ids + t->used, limit, &got);
        if (rc)
            return host->set_error(rc, "embed: text %zu: %s", i, ruv__detail_get());
        t->start[i] = t->used;
        t->len[i] = got;
        t->used += got;
    }
    return RUV_OK;
}

struct by_len {
    size_t len, index;
};

/* Length, then index: equal lengths keep input order, so the batches (and
 * so the results) are the same on every run. */
static int by_length(const void *a, const void *b)
{
    const struct by_len *x = a, *y = b;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static int run_batches(const ruv_embed_model *m, const struct tokens *t, const size_t *order,
                       size_t n, float *out, size_t batch, ruv_embed_cancel *cancel)
{
    const struct ruv_host *host = m->host;
    const size_t longest = t->len[order[n - 1]];
    const size_t cells = (n < batch ? n : batch) * longest;
    int64_t *ids = malloc(cells * sizeof *ids), *mask = malloc(cells * sizeof *mask);
    int64_t *types = calloc(cells, sizeof *types);
    int rc = RUV_OK;
    /* A graph that pools itself (sentence_embedding): only the config's
     * normalisation is applied to its rows. */
    const int pooled = ruv__session_pooled(m->session);
    struct ruv__pooling as_is = m->pooling;
    const int64_t one = 1;
    as_is.mode = RUV_EMBED_POOL_CLS;
    if (!ids || !mask || !types)
        rc = host->set_error(RUV_E_NOMEM, "embed: out of memory for a batch of %zu x %zu", batch,
                             longest);
    for (size_t first = 0; first < n && rc == RUV_OK; first += batch) {
        if (cancel && atomic_load(&cancel->set)) {
            rc = host->set_error(RUV_E_CANCELED, "embed: canceled after %zu of %zu texts", first,
                                 n);
            break;
        }
        const size_t rows = n - first < batch ? n - first : batch;
        const size_t seq = t->len[order[first + rows - 1]]; /* sorted: the last is longest */
        for (size_t r = 0; r < rows; r++) {
            size_t i = order[first + r], len = t->len[i];
            memcpy(ids + r * seq, t->ids + t->start[i], len * sizeof *ids);
            memset(ids + r * seq + len, 0, (seq - len) * sizeof *ids); /* [PAD] = 0 */
            for (size_t k = 0; k < seq; k++)
                mask[r * seq + k] = k < len;
        }
        const float *hidden = NULL;
        size_t width = 0;
        void *run = NULL;
        rc = ruv__session_run(host, m->session, ids, mask, types, rows, seq, cancel, &hidden,
                              &width, &run);
        if (rc == RUV_OK && width != m->dim)
            rc = host->set_error(RUV_E_INVAL, "embed: the graph gave vectors of %zu, not %zu",
                                 width, m->dim);
        for (size_t r = 0; r < rows && rc == RUV_OK; r++) {
            if (pooled) /* one vector per row: "CLS" of a length-1 row is a copy, then L2 */
                ruv__pool_row(&as_is, hidden + r * width, &one, 1, width,
                              out + order[first + r] * m->dim);
            else
                ruv__pool_row(&m->pooling, hidden + r * seq * width, mask + r * seq, seq, width,
                              out + order[first + r] * m->dim);
        }
        ruv__session_release(m->session, run);
    }
    free(ids);
    free(mask);
    free(types);
    return rc;
}

int ruv__embed_texts(const ruv_embed_model *m, const char *const *texts, const size_t *lens,
                     size_t n, float *out, size_t dim, uint32_t batch_size,
                     ruv_embed_cancel *cancel)
{
    if (!m)
        return RUV_E_INVAL; /* no host to record the detail through */
    const struct ruv_host *host = m->host;
    if (n && (!texts || !out))
        return host->set_error(RUV_E_INVAL, "embed: NULL texts or out");
    if (!m->session)
        return host->set_error(RUV_E_STATE,
                               "embed: this model directory has no ONNX graph (model.onnx); it "
                               "can only tokenize");
    if (dim != m->dim)
        return host->set_error(RUV_E_INVAL, "embed: dim %zu, but the model's vectors have %zu",
                               dim, m->dim);
    if (batch_size > 4096)
        return host->set_error(RUV_E_INVAL, "embed: batch_size %u is above 4096", batch_size);
    if (n == 0)
        return RUV_OK;
    if (n > SIZE_MAX / sizeof(size_t) / 4)
        return host->set_error(RUV_E_INVAL, "embed: %zu texts is too many", n);
    struct tokens t = {0};
    size_t *order = malloc(n * sizeof *order);
    struct by_len *keys = malloc(n * sizeof *keys);
    int rc = order && keys ? tokenize_all(m, texts, lens, n, &t)
                           : host->set_error(RUV_E_NOMEM, "embed: out of memory for %zu texts", n);
    if (rc == RUV_OK) {
        for (size_t i = 0; i < n; i++)
            keys[i] = (struct by_len){t.len[i], i};
        qsort(keys, n, sizeof *keys, by_length);
        for (size_t i = 0; i < n; i++)
            order[i] = keys[i].index;
        rc = run_batches(m, &t, order, n, out, batch_size ? batch_size : m->batch_size, cancel);
    }
    free(keys);
    free(order);
    free(t.ids);
    free(t.start);
    free(t.len);
    return rc;
}
