/* vocab.c — open-addressing hash table of tokens (linear probing, FNV-1a). */
#include "vocab.h"
#include "tok_error.h"

#include <ruvector/error.h>
#include <stdlib.h>
#include <string.h>

struct slot {
    uint32_t off, len; /* key bytes in the arena */
    int32_t id;        /* -1: empty */
    uint32_t cont;     /* filed without the prefix */
};

struct ruv__vocab {
    char *prefix;
    size_t prefix_len;
    char *arena;
    size_t arena_len, arena_cap;
    struct slot *slots;
    size_t cap, used, ntokens, max_len[2];
    uint8_t *id_seen; /* bitmap of ids, to refuse duplicates */
    size_t id_seen_bits;
};

static uint64_t hash_key(const char *s, size_t len, uint32_t cont)
{
    uint64_t h = 0xcbf29ce484222325ull ^ cont;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    return h ^ (h >> 29);
}

int ruv__vocab_new(const char *prefix, struct ruv__vocab **out)
{
    *out = NULL;
    if (!prefix)
        prefix = "";
    size_t plen = strlen(prefix);
    struct ruv__vocab *v = calloc(1, sizeof *v);
    if (!v || !(v->prefix = malloc(plen + 1))) {
        free(v);
        return ruv__detail_set(RUV_E_NOMEM, "out of memory for the vocabulary");
    }
    memcpy(v->prefix, prefix, plen + 1);
    v->prefix_len = plen;
    *out = v;
    return RUV_OK;
}

void ruv__vocab_free(struct ruv__vocab *v)
{
    if (!v)
        return;
    free(v->prefix);
    free(v->arena);
    free(v->slots);
    free(v->id_seen);
    free(v);
}

static struct slot *probe(const struct ruv__vocab *v, const char *s, size_t len, uint32_t cont)
{
    size_t mask = v->cap - 1;
    for (size_t i = hash_key(s, len, cont) & mask;; i = (i + 1) & mask) {
        struct slot *sl = &v->slots[i];
        if (sl->id < 0 || (sl->len == len && sl->cont == cont && memcmp(v->arena + sl->off, s, len) == 0))
            return sl;
    }
}

static int grow(struct ruv__vocab *v)
{
    size_t ncap = v->cap ? v->cap * 2 : 1024;
    struct slot *old = v->slots;
    size_t ocap = v->cap;
    v->slots = malloc(ncap * sizeof *v->slots);
    if (!v->slots) {
        v->slots = old;
        return ruv__detail_set(RUV_E_NOMEM, "out of memory for the vocabulary");
    }
    for (size_t i = 0; i < ncap; i++)
        v->slots[i].id = -1;
    v->cap = ncap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].id >= 0)
            *probe(v, v->arena + old[i].off, old[i].len, old[i].cont) = old[i];
    free(old);
    return RUV_OK;
}

static int insert(struct ruv__vocab *v, uint32_t off, uint32_t len, uint32_t id, uint32_t cont)
{
    if ((v->used + 1) * 2 > v->cap) {
        int st = grow(v);
        if (st != RUV_OK)
            return st;
    }
    struct slot *sl = probe(v, v->arena + off, len, cont);
    if (sl->id >= 0)
        return 1;
    *sl = (struct slot){off, len, (int32_t)id, cont};
    v->used++;
    if (len > v->max_len[cont])
        v->max_len[cont] = len;
    return RUV_OK;
}

int ruv__vocab_add(struct ruv__vocab *v, const char *token, size_t len, uint32_t id)
{
    /* Ids index model embeddings: far below 2^24 in any BERT. The bound
     * keeps a hostile file from sizing the id bitmap. */
    if (id >= RUV__VOCAB_MAX_ID || len > UINT32_MAX / 2)
        return ruv__detail_set(RUV_E_INVAL, "vocabulary id %u or token length %zu out of range",
                                  id, len);
    if (id >= v->id_seen_bits) {
        size_t bits = v->id_seen_bits ? v->id_seen_bits : 32768;
        while (bits <= id)
            bits *= 2;
        uint8_t *m = realloc(v->id_seen, bits / 8);
        if (!m)
            return ruv__detail_set(RUV_E_NOMEM, "out of memory for the vocabulary");
        memset(m + v->id_seen_bits / 8, 0, (bits - v->id_seen_bits) / 8);
        v->id_seen = m;
        v->id_seen_bits = bits;
    }
    if (v->id_seen[id / 8] & (1u << (id % 8)))
        return ruv__detail_set(RUV_E_INVAL, "vocabulary id %u is used twice (token '%.*s')", id,
                                  (int)(len > 64 ? 64 : len), token);
    if (v->arena_len + len + 1 > v->arena_cap) {
        size_t ncap = v->arena_cap ? v->arena_cap : 65536;
        while (ncap < v->arena_len + len + 1)
            ncap *= 2;
        char *a = realloc(v->arena, ncap);
        if (!a)
            return ruv__detail_set(RUV_E_NOMEM, "out of memory for the vocabulary");
        v->arena = a;
        v->arena_cap = ncap;
    }
    uint32_t off = (uint32_t)v->arena_len;
    memcpy(v->arena + off, token, len);
    v->arena_len += len;
    int st = insert(v, off, (uint32_t)len, id, 0);
    if (st == 1) {
        v->arena_len = off;
        return ruv__detail_set(RUV_E_INVAL, "vocabulary token '%.*s' appears twice",
                                  (int)(len > 64 ? 64 : len), token);
    }
    if (st != RUV_OK)
        return st;
    if (v->prefix_len && len >= v->prefix_len && memcmp(token, v->prefix, v->prefix_len) == 0) {
        st = insert(v, off + (uint32_t)v->prefix_len, (uint32_t)(len - v->prefix_len), id, 1);
        if (st < 0)
            return st; /* 1 cannot happen: the full token was new */
    }
    v->id_seen[id / 8] |= (uint8_t)(1u << (id % 8));
    v->ntokens++;
    return RUV_OK;
}

int64_t ruv__vocab_find(const struct ruv__vocab *v, const char *s, size_t len, int cont)
{
    if (!v->cap)
        return -1;
    const struct slot *sl = probe(v, s, len, cont ? 1 : 0);
    return sl->id;
}

size_t ruv__vocab_size(const struct ruv__vocab *v)
{
    return v->ntokens;
}

size_t ruv__vocab_max_len(const struct ruv__vocab *v, int cont)
{
    return v->max_len[cont ? 1 : 0];
}
