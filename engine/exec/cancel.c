/* Cancel tokens (contract in <ruvector/cancel.h>) and the run-and-poll
 * helper hosts use to keep a waiting thread responsive. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ruvector/cancel.h>
#include <ruvector/error.h>

#include "base/error.h"
#include "exec/cancel.h"
#include "exec/pool.h"

struct ruv_cancel {
    atomic_int raised; /* lock-free on every target we build for: signal-safe */
};

static RUV_THREAD_LOCAL ruv_cancel *bound;

int ruv_cancel_new(ruv_cancel **out)
{
    if (!out)
        return ruv__set_error(RUV_E_INVAL, "ruv_cancel_new: out is NULL");
    *out = malloc(sizeof **out);
    if (!*out)
        return ruv__set_error(RUV_E_NOMEM, "ruv_cancel_new: out of memory");
    atomic_init(&(*out)->raised, 0);
    return RUV_OK;
}

void ruv_cancel_free(ruv_cancel *c) { free(c); }

void ruv_cancel_request(ruv_cancel *c)
{
    if (c)
        atomic_store_explicit(&c->raised, 1, memory_order_relaxed);
}

int ruv_cancel_requested(const ruv_cancel *c)
{
    return c && atomic_load_explicit(&c->raised, memory_order_relaxed);
}

void ruv_cancel_reset(ruv_cancel *c)
{
    if (c)
        atomic_store_explicit(&c->raised, 0, memory_order_relaxed);
}

ruv_cancel *ruv_cancel_bind(ruv_cancel *c)
{
    ruv_cancel *prev = bound;
    bound = c;
    return prev;
}

ruv_cancel *ruv_cancel_bound(void) { return bound; }

int ruv__cancel_pending(void) { return ruv_cancel_requested(bound); }

int ruv__cancel_check(const char *phase)
{
    if (!ruv__cancel_pending())
        return RUV_OK;
    return ruv__set_error(RUV_E_CANCELED, "canceled during %s", phase);
}

/* ---- ruv_cancel_run ---- */

struct call {
    ruv_cancel *cancel;
    ruv_cancel_call_fn fn;
    void *ctx;
    int status;
    char detail[512]; /* fn's thread's ruv_last_error(), for the caller */
    int done;         /* under mu */
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static void call_task(void *vctx)
{
    struct call *c = vctx;
    ruv_cancel *prev = ruv_cancel_bind(c->cancel);
    int st = c->fn(c->ctx);
    ruv_cancel_bind(prev);
    if (st)
        snprintf(c->detail, sizeof c->detail, "%s", ruv_last_error());
    pthread_mutex_lock(&c->mu);
    c->status = st;
    c->done = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void deadline_after(struct timespec *t, unsigned ms)
{
    clock_gettime(CLOCK_MONOTONIC, t);
    t->tv_sec += ms / 1000;
    t->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t->tv_nsec >= 1000000000L) {
        t->tv_sec++;
        t->tv_nsec -= 1000000000L;
    }
}

int ruv_cancel_run(ruv_cancel *c, ruv_cancel_call_fn fn, void *ctx, unsigned interval_ms,
                   ruv_cancel_poll_fn poll, void *poll_ctx, int *polled)
{
    if (polled)
        *polled = 0;
    if (!c || !fn)
        return ruv__set_error(RUV_E_INVAL, "ruv_cancel_run: %s is NULL", c ? "fn" : "c");
    if (interval_ms < 1 || interval_ms > 60000)
        return ruv__set_error(RUV_E_INVAL,
                              "ruv_cancel_run: interval_ms %u is outside 1..60000", interval_ms);
    struct call call = {.cancel = c, .fn = fn, .ctx = ctx};
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr))
        return ruv__set_error(RUV_E_NOMEM, "ruv_cancel_run: no condition variable");
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int bad = pthread_cond_init(&call.cv, &attr);
    pthread_condattr_destroy(&attr);
    if (bad)
        return ruv__set_error(RUV_E_NOMEM, "ruv_cancel_run: no condition variable");
    pthread_mutex_init(&call.mu, NULL);

    /* The caller sleeps while fn runs: one more pool thread stands in for
     * it, so fn's parallel loops keep the width the caller would give. */
    ruv__pool_standin(1);
    int st = ruv__pool_submit(call_task, &call);
    if (st == RUV_OK) {
        pthread_mutex_lock(&call.mu);
        while (!call.done) {
            struct timespec t;
            deadline_after(&t, interval_ms);
            int w = 0;
            while (!call.done && w != ETIMEDOUT)
                w = pthread_cond_timedwait(&call.cv, &call.mu, &t);
            if (call.done || !poll || ruv_cancel_requested(c))
                continue;
            pthread_mutex_unlock(&call.mu);
            if (poll(poll_ctx)) {
                ruv_cancel_request(c);
                if (polled)
                    *polled = 1;
            }
            pthread_mutex_lock(&call.mu);
        }
        pthread_mutex_unlock(&call.mu);
        st = call.status;
        if (st)
            ruv__set_error(st, "%s", call.detail);
    } else {
        ruv__set_error(st, "ruv_cancel_run: cannot queue the call");
    }
    ruv__pool_standin(-1);
    pthread_cond_destroy(&call.cv);
    pthread_mutex_destroy(&call.mu);
    return st;
}
