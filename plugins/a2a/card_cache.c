/* plugins/a2a/card_cache.c — a small list of verified cards (a2a.md §7). */
#include "config.h"
#include "card_cache.h"
#include "detail.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_ENTRIES 64

struct entry {
    struct entry *next;
    char *url, *body;
    size_t len;
    char etag[RUV__ETAG_MAX];
    int64_t expires_ms;
};

struct ruv__card_cache {
    pthread_mutex_t lock;
    struct entry *head;
    size_t n;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ruv__card_cache_new(struct ruv__card_cache **out)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return ruv__detail_set(RUV_E_NOMEM, "out of memory");
    if (pthread_mutex_init(&(*out)->lock, NULL) != 0) {
        free(*out);
        *out = NULL;
        return ruv__detail_set(RUV_E_NOMEM, "pthread_mutex_init failed");
    }
    return RUV_OK;
}

static void entry_free(struct entry *e)
{
    free(e->url);
    free(e->body);
    free(e);
}

void ruv__card_cache_free(struct ruv__card_cache *c)
{
    if (!c)
        return;
    while (c->head) {
        struct entry *e = c->head;
        c->head = e->next;
        entry_free(e);
    }
    pthread_mutex_destroy(&c->lock);
    free(c);
}

long ruv__card_cache_ttl(long max_age_s, const char *etag)
{
    if (max_age_s >= 0)
        return max_age_s > 3600 ? 3600 : max_age_s;
    return etag && etag[0] ? 300 : -1;
}

static struct entry **find(struct ruv__card_cache *c, const char *url)
{
    struct entry **pp = &c->head;
    while (*pp && strcmp((*pp)->url, url) != 0)
        pp = &(*pp)->next;
    return pp;
}

int ruv__card_cache_get(struct ruv__card_cache *c, const char *url, char **body, size_t *len,
                        char etag[RUV__ETAG_MAX], int *fresh)
{
    *body = NULL;
    int rc = RUV_E_NOTFOUND;
    pthread_mutex_lock(&c->lock);
    struct entry *e = *find(c, url);
    if (e) {
        if (!(*body = malloc(e->len + 1))) {
            rc = RUV_E_NOMEM;
        } else {
            memcpy(*body, e->body, e->len + 1);
            *len = e->len;
            memcpy(etag, e->etag, RUV__ETAG_MAX);
            *fresh = now_ms() < e->expires_ms;
            rc = RUV_OK;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

void ruv__card_cache_put(struct ruv__card_cache *c, const char *url, const char *body, size_t len,
                         const char *etag, long ttl_s)
{
    struct entry *e = calloc(1, sizeof *e);
    size_t ulen = strlen(url) + 1;
    if (!e || !(e->url = malloc(ulen)) || !(e->body = malloc(len + 1))) {
        if (e)
            entry_free(e);
        return;
    }
    memcpy(e->url, url, ulen);
    memcpy(e->body, body, len);
    e->body[len] = '\0';
    e->len = len;
    snprintf(e->etag, sizeof e->etag, "%s", etag ? etag : "");
    e->expires_ms = now_ms() + (int64_t)ttl_s * 1000;
    pthread_mutex_lock(&c->lock);
    struct entry **pp = find(c, url);
    if (*pp) {
        struct entry *old = *pp;
        *pp = old->next;
        entry_free(old);
        c->n--;
    }
    e->next = c->head; /* newest first; the oldest goes when full */
    c->head = e;
    if (++c->n > MAX_ENTRIES) {
        struct entry **last = &c->head;
        while ((*last)->next)
            last = &(*last)->next;
        entry_free(*last);
        *last = NULL;
        c->n--;
    }
    pthread_mutex_unlock(&c->lock);
}
