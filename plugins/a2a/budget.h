/* plugins/a2a/budget.h — the global budget of a2a.md §5 step 1: a rolling
 * window ledger (default 60 s) of admitted sends, shared by every client
 * that names it, with caps on USD, tokens and tasks per window. Overflow
 * either sheds (refuses at once) or queues: the caller waits inside the
 * plugin until the window admits it, and a waiter beyond the queue depth is
 * refused ("queue_full"). Thread-safe. */
#ifndef RUV_A2A_BUDGET_H
#define RUV_A2A_BUDGET_H

#include <stdint.h>

#include <ruvector/feature-a2a.h>

int ruv__budget_new(const struct ruv_a2a_budget_options *o, struct ruv_a2a_budget **out);
/* Drops the host's reference; the budget goes with the last queued send
 * that still holds one. NULL: no-op. */
void ruv__budget_free(struct ruv_a2a_budget *b);

/* Admits one send of usd and tokens (estimates) into the window, waiting in
 * queue mode. RUV_OK (charged), or RUV_E_POLICY with st->error
 * RUV_A2A_ERR_BUDGET and the cap (or "queue_full") in the detail.
 *
 * The queue is one FIFO for blocking callers (waiting here) and sends
 * queued on the I/O thread (ruv__budget_admit_or_queue): only its head is
 * admitted, and a new send does not pass anyone already waiting, even when
 * it would fit. */
int ruv__budget_admit(struct ruv_a2a_budget *b, double usd, int64_t tokens,
                      struct ruv_a2a_call_status *st);
/* ruv__budget_admit that also gives the admission's sequence number (1 for
 * the budget's first admitted send, then 2, ...) in *seq when charged. */
int ruv__budget_admit_seq(struct ruv_a2a_budget *b, double usd, int64_t tokens,
                          struct ruv_a2a_call_status *st, uint64_t *seq);

/* A place in a budget's queue (budget.c). */
struct ruv__budget_node;

/* A send that joined a budget's queue without waiting (the asynchronous
 * path: the I/O thread admits it later). It holds a reference on budget.
 * Copyable: the queue holds node, not this struct. */
struct ruv__budget_wait {
    struct ruv_a2a_budget *budget; /* NULL: not queued */
    struct ruv__budget_node *node; /* its place in the queue (owned) */
    uint64_t seq;                  /* the admission's sequence number, once admitted */
};

/* ruv__budget_admit that never waits: RUV_OK charged now (w->budget NULL),
 * or RUV_OK queued (w->budget set, a waiter counted, a reference taken),
 * or the refusal. */
int ruv__budget_admit_or_queue(struct ruv_a2a_budget *b, double usd, int64_t tokens,
                               struct ruv__budget_wait *w, struct ruv_a2a_call_status *st);
/* A queued send's turn: 1 when it was charged now (it leaves the queue and
 * drops its reference: w->budget NULL, w->seq set), else 0 with *wake_ms
 * the clock time worth trying again at: when the window's oldest entry
 * leaves it if w heads the queue, else at least 20 ms on (an earlier
 * waiter goes first). */
int ruv__budget_try_queued(struct ruv__budget_wait *w, int64_t *wake_ms);
/* A queued send given up (aborted): it leaves the queue and drops its
 * reference. No-op when w->budget is NULL. */
void ruv__budget_leave_queue(struct ruv__budget_wait *w);

/* RUV_OK when a send of usd and tokens would be admitted now or could wait
 * in the queue; the refusal otherwise. Charges nothing. */
int ruv__budget_precheck(struct ruv_a2a_budget *b, double usd, int64_t tokens,
                         struct ruv_a2a_call_status *st);

/* How many sends wait in b's queue now (for tests and reports). */
uint32_t ruv__budget_waiting(struct ruv_a2a_budget *b);

#endif
