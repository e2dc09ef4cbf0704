/* plugins/a2a/client.h — the blocking client behind the V2 slots of
 * <ruvector/feature-a2a.h>: discovery and unary calls (client.c), streams
 * (stream.c). Entry points return a status with the reason in the a2a
 * detail (detail.h); plugin.c forwards it to the host. */
#ifndef RUV_A2A_CLIENT_H
#define RUV_A2A_CLIENT_H

#include <stdint.h>
#include <jansson.h>

#include <ruvector/feature-a2a.h>

#include "http.h"
#include "jsonrpc.h"
#include "verify.h"

struct ruv__io;
struct ruv__evq;
struct ruv__budget_wait;

struct ruv_a2a_client {
    void *plugin_state; /* plugin.c's, for the host table */
    struct ruv__http_cfg http;
    uint32_t flags, protocol;
    char *card_url;
    char *endpoint;     /* the interface in use */
    char *v03_endpoint; /* a v0.3 JSONRPC interface the verified card declares, or NULL */
    char *tenant;       /* the interface's tenant, or NULL */
    int v1;             /* 1: A2A v1.0; 0: v0.3 */
    int fell_back;      /* switched from v1.0 to v0.3 once */
    json_t *card;       /* the signature-covered card view */
    int verified;
    struct ruv__card_verdict verdict;
    struct ruv__io *io;   /* the plugin state's I/O thread (set by plugin.c) */
    struct ruv__evq *evq; /* made by the first notify_fd or call_submit; NULL */
};

struct ruv__card_cache;

/* Discovery, verification and interface choice (a2a.md §1, §4); cache (may
 * be NULL) keeps verified cards between connects. */
int ruv__client_open(const char *base_url, const struct ruv_a2a_client_options *o,
                     struct ruv__card_cache *cache, struct ruv_a2a_client **out,
                     struct ruv_a2a_call_status *st);
void ruv__client_close(struct ruv_a2a_client *c);

/* A client with its settings checked and nothing fetched yet: no calls
 * until discovery (blocking, or on the I/O thread: adiscover.c) lands a
 * card with ruv__client_discovered. */
int ruv__client_new(const char *base_url, const struct ruv_a2a_client_options *o,
                    struct ruv_a2a_client **out, struct ruv_a2a_call_status *st);

struct ruv__discover;
/* Takes a finished discovery's outcome into c (card, verdict, card URL)
 * and picks the interface; or returns the discovery's failure. The
 * caller's thread only: the I/O thread never touches a client. */
int ruv__client_discovered(struct ruv_a2a_client *c, struct ruv__discover *d,
                           struct ruv_a2a_call_status *st);
/* Picks the JSON-RPC interfaces from signature-covered fields only. */
int ruv__client_choose_interface(struct ruv_a2a_client *c, struct ruv_a2a_call_status *st);
int ruv__client_info(struct ruv_a2a_client *c, char **json);

/* Parses params, runs the pre-flight for sends and rewrites them for the
 * wire of the client's version: *wire is a new reference, *slot the
 * concurrency slot the send holds (ruv__concurrency_release; NULL when
 * none). bw as for ruv__policy_check (NULL: a budget queue is waited in
 * here). */
int ruv__client_prepare(struct ruv_a2a_client *c, uint32_t method, const char *params,
                        size_t len, const struct ruv_a2a_policy *policy, json_t **wire,
                        void **slot, struct ruv__budget_wait *bw,
                        struct ruv_a2a_call_status *st);

/* 1 when a v1.0 call that ended with rc (and st->rpc_code) should be retried
 * once over v0.3 (auto mode, the verified card declares 0.3, no fallback yet):
 * the client then speaks v0.3, *result is freed and NULL, and st is cleared
 * but for struct_size. 0 otherwise, touching nothing. */
int ruv__client_fall_back(struct ruv_a2a_client *c, int rc, char **result,
                          struct ruv_a2a_call_status *st);

/* One unary call of wire (params already prepared for the client's
 * version), with retries for idempotent methods and no version fallback.
 * Results as for ruv__client_call. */
int ruv__client_call_once(struct ruv_a2a_client *c, uint32_t method, json_t *wire, char **result,
                          struct ruv_a2a_call_status *st);

int ruv__client_call(struct ruv_a2a_client *c, uint32_t method, const char *params, size_t len,
                     const struct ruv_a2a_policy *policy, char **result,
                     struct ruv_a2a_call_status *st);

/* The JSON-RPC body of a reply that is not a result: for a JSON-RPC error
 * RUV_E_REMOTE with *error_json its text and st->rpc_code; for an HTTP
 * status outside 2xx without one RUV_E_REMOTE with st->error HTTP; else
 * the decode failure. */
int ruv__client_reply(const char *body, size_t len, long http_status, const char *id,
                      struct ruv__rpc_reply *reply, char **error_json,
                      struct ruv_a2a_call_status *st);

int ruv__stream_open(struct ruv_a2a_client *c, uint32_t method, const char *params, size_t len,
                     const struct ruv_a2a_policy *policy, struct ruv_a2a_stream **out,
                     char **result, struct ruv_a2a_call_status *st);
int ruv__stream_next(struct ruv_a2a_stream *s, char **event, struct ruv_a2a_call_status *st);
void ruv__stream_close(struct ruv_a2a_stream *s);
struct ruv_a2a_client *ruv__stream_client(struct ruv_a2a_stream *s);

#endif
