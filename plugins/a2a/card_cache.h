/* plugins/a2a/card_cache.h — verified agent cards kept per plugin state
 * (a2a.md §7 "Card cache"): key = the card URL (always fetched with
 * A2A-Version 1.0); TTL = min(max-age, 1 h), or 5 min with only an ETag;
 * a stale entry with an ETag is revalidated with If-None-Match, and a 304
 * reuses it. Only cards that verified are stored; the client verifies the
 * stored bytes again on every use (cheap, and one code path). Thread-safe. */
#ifndef RUV_A2A_CARD_CACHE_H
#define RUV_A2A_CARD_CACHE_H

#include <stddef.h>
#include <stdint.h>

#define RUV__ETAG_MAX 256

struct ruv__card_cache;

int ruv__card_cache_new(struct ruv__card_cache **out);
void ruv__card_cache_free(struct ruv__card_cache *c);

/* A copy of url's entry: RUV_OK with *body (malloc'd, the caller frees),
 * *len, etag ("" when none) and *fresh (1 inside its TTL); RUV_E_NOTFOUND
 * when there is none; RUV_E_NOMEM. */
int ruv__card_cache_get(struct ruv__card_cache *c, const char *url, char **body, size_t *len,
                        char etag[RUV__ETAG_MAX], int *fresh);

/* Stores (or replaces) url's entry for ttl_s seconds (0: stale at once,
 * kept for revalidation). Best effort: out of memory stores nothing. */
void ruv__card_cache_put(struct ruv__card_cache *c, const char *url, const char *body, size_t len,
                         const char *etag, long ttl_s);

/* The TTL of a response: min(max_age, 3600) when max_age >= 0, else 300
 * with an ETag, else -1 (do not store). */
long ruv__card_cache_ttl(long max_age_s, const char *etag);

#endif
