/* ruvector/cancel.h — stopping a long index call from outside it.
 *
 * A cancel token is a flag that one party raises (another thread, a signal
 * handler, a host's watchdog) and the engine's long loops look at: k-means,
 * RaBitQ encoding, IVF assignment, build calibration, batch searches (flat
 * GEMM tiles and per-query), and the chunks of every parallel loop they run
 * on the engine's pool. A call that sees its token raised stops within a
 * chunk of work (milliseconds on large inputs), frees what it allocated and
 * returns RUV_E_CANCELED with a message naming the phase it was in.
 *
 * What a canceled call leaves behind:
 *   ruv_index_build         no index (*out stays NULL);
 *   ruv_index_add           the index unchanged (no vector of the call added);
 *   ruv_index_search_batch  the index unchanged; the output arrays hold
 *                           unspecified values.
 * Calls short enough to finish before they look (one search, remove, save,
 * load) simply complete.
 *
 * Which calls a token governs: the ones made on the thread it is bound to
 * (ruv_cancel_bind), including the work those calls hand to the engine's
 * pool threads. Binding per thread keeps every existing signature as it is
 * and reaches calls nested inside others (a build's calibration searches).
 * Work a plugin runs through the host table's parallel_for is not canceled
 * from outside: plugins finish their own loops.
 *
 * A raised token stays raised: every later build, add or batch search on its
 * thread fails at once with RUV_E_CANCELED until ruv_cancel_reset.
 *
 * A host whose progress callback (ruv_config_set_progress) raises the bound
 * token stops the call at that report: the callback runs on the calling
 * thread, where the token is bound. */
#ifndef RUVECTOR_CANCEL_H
#define RUVECTOR_CANCEL_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ruv_cancel ruv_cancel;

/* A new token, not raised. The caller owns it (ruv_cancel_free). RUV_E_INVAL
 * for out NULL, RUV_E_NOMEM. */
int ruv_cancel_new(ruv_cancel **out);
/* Frees a token. It must be bound to no thread and used by no running call.
 * NULL is a no-op. */
void ruv_cancel_free(ruv_cancel *c);

/* Raises the token: the calls it governs stop at their next check. Safe from
 * any thread and from a signal handler (one lock-free atomic store); raising
 * a raised token does nothing. NULL is a no-op. */
void ruv_cancel_request(ruv_cancel *c);
/* 1 when raised, else 0 (also for NULL). */
int ruv_cancel_requested(const ruv_cancel *c);
/* Lowers the token so that it can govern new calls. Do not reset while a
 * call it governs runs (the call may then see the request or not). */
void ruv_cancel_reset(ruv_cancel *c);

/* Binds c to the calling thread (NULL unbinds): the index calls this thread
 * makes from now on stop when c is raised. Returns the token bound before,
 * so that nested scopes can restore it. The token is borrowed: keep it alive
 * while it is bound. */
ruv_cancel *ruv_cancel_bind(ruv_cancel *c);
/* The token bound to the calling thread, or NULL. */
ruv_cancel *ruv_cancel_bound(void);

/* For hosts whose waiting thread must stay responsive (Python's main thread
 * checks for Ctrl-C; a GUI its event queue): runs fn(ctx) on a thread of the
 * engine's pool with c bound there, and waits. Every interval_ms
 * (1..60,000) while it waits the calling thread calls poll(poll_ctx) if poll
 * is not NULL; when poll returns nonzero, c is raised and the wait continues
 * until fn has returned (and cleaned up), so nothing fn uses is freed under
 * it. The pool grows by one thread while the caller waits, so fn's own
 * parallel loops get the threads the caller would have given them.
 *
 * Returns fn's status; when it is an error, the calling thread's
 * ruv_last_error() holds the detail fn's thread set. *polled (may be NULL)
 * is set to 1 when poll asked to cancel. RUV_E_INVAL for a NULL c or fn or
 * an interval out of range (fn does not run); RUV_E_NOMEM when the task
 * cannot be queued (fn does not run). If no pool thread can be started, fn
 * runs on the caller without polling. */
typedef int (*ruv_cancel_call_fn)(void *ctx);
typedef int (*ruv_cancel_poll_fn)(void *poll_ctx);
int ruv_cancel_run(ruv_cancel *c, ruv_cancel_call_fn fn, void *ctx, unsigned interval_ms,
                   ruv_cancel_poll_fn poll, void *poll_ctx, int *polled);

#ifdef __cplusplus
}
#endif
#endif
