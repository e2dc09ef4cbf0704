/* plugins/a2a/discover.h — card discovery as a sequence of GETs (a2a.md §1,
 * §4, §6), with no I/O of its own, so that the blocking path (client.c) and
 * the I/O thread (adiscover.c) run the same rules: the card at
 * /.well-known/agent-card.json, agent.json on 404 or a non-JSON body;
 * redirects followed by hand, at most 3, on the origin of the URL asked
 * for only; the card cache (keyed by the exact URL; a 304 reuses the
 * entry); verification with the pins, the identity extension or, failing
 * those, a signature's jku (https, or http on loopback; the card's origin
 * or a trusted one; a JWKS of at most 64 KiB, cached like cards, the key
 * chosen by kid). Owned by one thread at a time. */
#ifndef RUV_A2A_DISCOVER_H
#define RUV_A2A_DISCOVER_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include <ruvector/feature-a2a.h>

#include "http.h"
#include "verify.h"

struct ruv__discover;
struct ruv__card_cache;

/* At most this many redirects per document (a2a.md §6). */
#define RUV__DISCOVER_MAX_REDIRECTS 3

/* One GET discovery wants; the strings are d's until the next call. */
struct ruv__discover_get {
    const char *url;
    const char *extra_header; /* If-None-Match, or NULL */
    size_t cap;               /* body cap: card 1 MiB, JWKS 64 KiB */
};

/* A discovery of base_url's card. o (may be NULL) is read now: pins,
 * AgentIDs, trusted jku origins, the time and flags are copied. cache may
 * be NULL. cfg is borrowed for the lifetime of d (only its flags and auth
 * origin are read, never while another thread changes them). RUV_OK,
 * RUV_E_INVAL (an unreadable pin), RUV_E_NOMEM. */
int ruv__discover_new(const char *base_url, const struct ruv_a2a_client_options *o,
                      struct ruv__card_cache *cache, struct ruv__discover **out);
void ruv__discover_free(struct ruv__discover *d);

/* 1 with *get the next GET to make; 0 when discovery is over
 * (ruv__discover_result). A fresh cache entry is taken here, without a GET. */
int ruv__discover_next(struct ruv__discover *d, struct ruv__discover_get *get);

/* The outcome of that GET: rc RUV_OK with resp a complete response (taken:
 * freed or kept by d), or the transfer's failure (st its error kind, the
 * detail its reason; resp is freed). */
void ruv__discover_feed(struct ruv__discover *d, int rc, struct ruv__http_resp *resp,
                        const struct ruv_a2a_call_status *st);

/* After ruv__discover_next returned 0: RUV_OK with the verified card view
 * (*card, a new reference), *verdict, *verified (0 only for a lax accept
 * of RUV_A2A_UNSIGNED_OK) and *card_url (malloc'd) moved out; else the
 * failure, with the detail set and st->error its kind. */
int ruv__discover_result(struct ruv__discover *d, json_t **card,
                         struct ruv__card_verdict *verdict, int *verified, char **card_url,
                         struct ruv_a2a_call_status *st);

#endif
