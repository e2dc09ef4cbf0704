/* plugins/a2a/io.h — the I/O thread of a2a.md §7 (io.c), the per-client
 * event queue with its notify fd (evq.c) and the unary calls that run on
 * them (async.c).
 *
 * Ownership: an op belongs to the caller until ruv__io_submit, then to the
 * I/O thread, which frees it after handing its event to the op's queue. A
 * queue is counted: its client holds one reference and every op in flight
 * one more, so a client may close while its calls are still on the wire
 * (they are aborted, and the queue goes with the last of them). */
#ifndef RUV_A2A_IO_H
#define RUV_A2A_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <curl/curl.h>

#include <ruvector/feature-a2a.h>

#include "budget.h"
#include "http.h"
#include "jsonrpc.h"

struct ruv__io;
struct ruv__evq;
struct ruv__astream;
struct ruv__adisc;
struct ruv__kept_policy;
struct ruv__discover;
struct ruv__card_cache;

/* a2a.md §6 backpressure: a stream's transfer pauses while this many
 * events, or bytes, wait for the host (one network chunk may pass them). */
#define RUV__STREAM_MAX_QUEUED_EVENTS 1024
#define RUV__STREAM_MAX_QUEUED_BYTES ((size_t)8 << 20)

/* One unary call on the I/O thread. */
struct ruv__op {
    struct ruv__op *next;   /* the I/O thread's lists */
    struct ruv__op *q_next; /* its queue's in-flight list */
    struct ruv__evq *q;     /* a counted reference */
    uint64_t req;
    uint32_t method;
    int v1, idempotent, attempt;
    int aborted;            /* set (atomically) by ruv__evq_abort / ruv__evq_close */
    int in_multi;           /* the transfer is in the multi handle */
    int64_t retry_at_ms;    /* a retry waits until then; 0: none */
    CURL *h;
    struct curl_slist *headers;
    char *body;             /* the JSON-RPC request (CURLOPT_POSTFIELDS points here) */
    char id[RUV__UUID_SIZE];
    char *params;           /* the caller's params, kept for the one v0.3 fallback; or NULL */
    void *slot;             /* the max_concurrency slot, released with the op */
    struct ruv__budget_wait bw; /* queued in a GlobalBudget: admitted on the I/O thread
                                   before the transfer starts (a2a.md §5: the wait is the
                                   plugin's, never the caller's) */
    struct ruv__astream *stream; /* a stream's state (astream.c); NULL for a unary call */
    /* A stream's events queued toward the host and not yet credited back
     * (evq.c, under the queue's lock): their count, bytes, and the sizes
     * of each in order, so that a credit of n gives back the oldest n. */
    size_t queued_events, queued_bytes;
    uint32_t *sizes;
    size_t sizes_head, sizes_cap;
    int paused;             /* the transfer was paused for backpressure */
    int unpause;            /* set (atomically) by a credit: resume the transfer */
    size_t params_len;
    struct ruv__http_resp resp;
    struct ruv__adisc *discover; /* a connect's discovery (adiscover.c); NULL otherwise */
    struct ruv__kept_policy *policy; /* a send's policy while it may still fall back to
                                        v0.3 (the resend runs the pre-flight again); or NULL */
};

/* A finished call waiting in its queue for poll. */
struct ruv__ev_node {
    struct ruv__ev_node *next;
    struct ruv_a2a_event ev;
    char *json;
    char *params; /* from the op, for the fallback in poll; or NULL */
    size_t params_len;
    int v1;
    char detail[512];
    struct ruv__discover *discover; /* a connect's finished discovery, applied to the
                                       client by poll (the caller's thread); or NULL */
    struct ruv__kept_policy *policy; /* the op's kept policy, for the v0.3 resend; or NULL */
};

/* ---- io.c ---- */

/* A stopped I/O context; the thread starts with the first submit. */
int ruv__io_new(struct ruv__io **out);
/* Stops the thread (aborting what is in flight: each queue gets its
 * RUV_E_CANCELED events) and joins it. In a forked child that never
 * submitted, the parent's thread does not exist: nothing is joined and the
 * parent's memory leaks. */
void ruv__io_free(struct ruv__io *io);
/* Hands op to the I/O thread, starting it if needed (also in a forked
 * child, where the parent's thread does not run: a new one starts). RUV_OK
 * (the thread owns op), or RUV_E_STATE while shutting down, RUV_E_NOMEM /
 * RUV_E_BACKEND if the thread cannot start (op still the caller's). */
int ruv__io_submit(struct ruv__io *io, struct ruv__op *op);
/* Wakes the thread to look at aborted ops. */
void ruv__io_kick(struct ruv__io *io);
/* 1 when io's thread was started by another process (we are a forked child
 * that has not submitted yet). */
int ruv__io_forked(const struct ruv__io *io);
/* "running", "stopped" or "forked", and the calls in flight, for the report. */
const char *ruv__io_state(const struct ruv__io *io, long *in_flight);

/* ---- evq.c ---- */

int ruv__evq_new(struct ruv__io *io, struct ruv__evq **out);
/* The client is gone: its calls are aborted, its queued events dropped,
 * its reference released. Never waits on the network. */
void ruv__evq_close(struct ruv__evq *q);
int ruv__evq_fd(const struct ruv__evq *q);
/* 1 when q was made by another process (a forked child must not lock it). */
int ruv__evq_forked(const struct ruv__evq *q);
struct ruv__io *ruv__evq_io(const struct ruv__evq *q);
/* A new request id, never 0. */
uint64_t ruv__evq_next_req(struct ruv__evq *q);
/* Registers op as in flight (takes a reference on q for it). */
void ruv__evq_track(struct ruv__evq *q, struct ruv__op *op);
/* The I/O thread's end of op: node (may be NULL when out of memory: the
 * call then ends with RUV_E_NOMEM) is queued unless the client is gone;
 * op leaves the in-flight list and its reference is released. */
void ruv__evq_complete(struct ruv__op *op, struct ruv__ev_node *node);
/* Takes op back out of the in-flight list when it could not be submitted
 * (no event), releasing its reference. */
void ruv__evq_untrack(struct ruv__op *op);
/* Queues node again in front (a v0.3 resend that could not start). */
void ruv__evq_push_front(struct ruv__evq *q, struct ruv__ev_node *node);
/* A stream event of op (the I/O thread): queued, and counted toward the
 * backpressure limits. RUV_OK or RUV_E_NOMEM (node freed). */
int ruv__evq_push_stream(struct ruv__op *op, struct ruv__ev_node *node);
/* 1 (and op->paused set) when op's queued events are at a limit: the
 * write callback then pauses the transfer. */
int ruv__evq_pause_if_full(struct ruv__op *op);
/* The host consumed n events of stream req: below the limits again, a
 * paused transfer is resumed by the I/O thread. */
void ruv__evq_credit(struct ruv__evq *q, uint64_t req, uint32_t n);
/* Pops up to max nodes; the fd stops being readable when the queue empties. */
size_t ruv__evq_pop(struct ruv__evq *q, struct ruv__ev_node **out, size_t max);
void ruv__evq_abort(struct ruv__evq *q, uint64_t req);
/* Waits for the fd: 1 readable, 0 timeout, negative status on failure. */
int ruv__evq_wait(struct ruv__evq *q, int timeout_ms);
void ruv__ev_node_free(struct ruv__ev_node *n);

/* ---- astream.c ---- */

/* ops->stream_submit: pre-flight, then a stream op on the I/O thread.
 * *req as for ruv__async_submit. */
int ruv__astream_submit(struct ruv_a2a_client *c, uint32_t method, const char *params,
                        size_t len, const struct ruv_a2a_policy *policy, uint64_t *req,
                        struct ruv_a2a_call_status *st);
/* The I/O thread, each turn, for a stream op whose transfer runs: resumes
 * a transfer a credit unpaused, checks our deadlines (headers, idle,
 * event assembly). 1 with *node the END event when the stream failed. */
int ruv__astream_tick(struct ruv__op *op, int64_t now, long *wait_ms, struct ruv__ev_node **node);
/* The transfer ended with cc: 1 when the op goes on (a resume or the
 * final GetTask is set up, op->retry_at_ms set), else 0 with *node the END
 * event. */
int ruv__astream_done(struct ruv__op *op, CURLcode cc, struct ruv__ev_node **node);
void ruv__astream_free(struct ruv__astream *s);
/* The transfer was added to the multi handle at now: our deadlines run
 * from here (not from when it was built: a budget queue or a resume's
 * backoff may lie between). */
void ruv__astream_started(struct ruv__op *op, int64_t now);

/* ---- async.c ---- */

struct ruv_a2a_client;

/* ops->call_submit: pre-flight (sends), then an op on the I/O thread. *req
 * 0 takes a new id (stored in *req); otherwise (the fallback resend) the
 * given one, with the first attempt's policy checked again. */
int ruv__async_submit(struct ruv_a2a_client *c, uint32_t method, const char *params, size_t len,
                      const struct ruv_a2a_policy *policy, uint64_t *req,
                      struct ruv_a2a_call_status *st);
/* The caller's side of a submit: RUV_OK when c may submit (not a forked
 * child; its queue made), else the refusal. */
int ruv__async_ready(struct ruv_a2a_client *c);
/* Gives op (its easy handle built) a request id (*req, or a new one) and
 * hands it to the I/O thread. RUV_OK, or the refusal with op still the
 * caller's. */
int ruv__async_hand_over(struct ruv_a2a_client *c, struct ruv__op *op, uint64_t *req);
/* The start of call_submit and stream_submit: the I/O thread ready, the
 * pre-flight passed (ruv__client_prepare), and a new op holding its
 * max_concurrency slot and budget place, method and dialect set. RUV_OK with
 * *op and *wire (the request's params) the caller's, or the refusal with
 * both NULL and nothing held. */
int ruv__async_begin(struct ruv_a2a_client *c, uint32_t method, const char *params, size_t len,
                     const struct ruv_a2a_policy *policy, struct ruv_a2a_call_status *st,
                     struct ruv__op **op, json_t **wire);
/* Keeps a copy of params in op when the client talks v1.0 and may still
 * fall back to v0.3, so the request can be resent in that dialect.
 * RUV_OK, or RUV_E_NOMEM with op->params left NULL. */
int ruv__op_keep_params(const struct ruv_a2a_client *c, struct ruv__op *op, const char *params,
                        size_t len);
/* The I/O thread: op's transfer ended with cc. Returns 1 when it is to be
 * retried (op->retry_at_ms set, the transfer reset), else 0 with *node its
 * event (NULL when out of memory). */
int ruv__async_done(struct ruv__op *op, CURLcode cc, struct ruv__ev_node **node);
/* op's last event without a payload: END for a stream, RESULT for a call
 * (an aborted op, a failed call); NULL when out of memory. */
struct ruv__ev_node *ruv__async_event(struct ruv__op *op, int status, uint32_t error,
                                      const char *detail);
/* A new event node of kind for op (payload json taken, may be NULL); NULL
 * when out of memory (json freed). The op's last event (RESULT or END)
 * ends its hold on its concurrency slot and takes its kept policy along,
 * so that a resend from poll finds the slot free and the policy at hand. */
struct ruv__ev_node *ruv__async_node(struct ruv__op *op, uint32_t kind, int status,
                                     uint32_t error, const char *detail, char *json);
void ruv__op_free(struct ruv__op *op);
/* ops->poll: pops events, resending a v1.0 call once over v0.3 when the
 * peer refuses it as unknown and the verified card allows it. */
size_t ruv__async_poll(struct ruv_a2a_client *c, struct ruv_a2a_event *out, size_t max);
void ruv__async_release(struct ruv_a2a_event *ev, size_t n);

/* ---- adiscover.c ---- */

/* ops->client_open_submit: card discovery (discover.h) as an op on the I/O
 * thread for c, a client from ruv__client_new. *req as for
 * ruv__async_submit; its RESULT event (method 0) carries the finished
 * discovery, which poll lands in c (ruv__adiscover_land). o is read here
 * only (copied). */
int ruv__adiscover_submit(struct ruv_a2a_client *c, const char *base_url,
                          const struct ruv_a2a_client_options *o, struct ruv__card_cache *cache,
                          uint64_t *req, struct ruv_a2a_call_status *st);
/* The I/O thread, when it takes a discovery op: 1 with its first GET
 * built (the transfer starts), else 0 with *node its event (a fresh cache
 * entry settled it, or the GET could not be built). */
int ruv__adiscover_start(struct ruv__op *op, struct ruv__ev_node **node);
/* The I/O thread: a GET of op's discovery ended with cc. 1 when op goes on
 * (a retry, a redirect, the fallback or the JWKS: op->retry_at_ms set, the
 * next transfer built), else 0 with *node the RESULT event. */
int ruv__adiscover_done(struct ruv__op *op, CURLcode cc, struct ruv__ev_node **node);
void ruv__adisc_free(struct ruv__adisc *a);
/* poll, for a node carrying a discovery: lands it in c and sets the
 * event's status, error and detail to the outcome. */
void ruv__adiscover_land(struct ruv_a2a_client *c, struct ruv__ev_node *node);

#endif
