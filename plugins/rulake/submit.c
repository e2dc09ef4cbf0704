/* Requests on the engine's pool (rulake.md §3 submit/cancel, behind
 * Python's *_async): the query runs as one pool task, done(ctx, status)
 * runs once on the thread that ran it. A queued request can be canceled
 * (done gets RUV_E_CANCELED); a running one finishes. close cancels the
 * queued ones and waits until none runs. A request arrives when it is
 * submitted: its coherence step shares any describe of its keys begun
 * after that (rulake.md §5 step 3), so requests waiting in the pool's
 * queue behind a slow describe share the next one instead of each
 * calling its own. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <ruvector/error.h>

#include "lake_error.h"
#include "lake_internal.h"

struct lake_task {
    struct lake_task *next;
    struct lake_task *deferred_next; /* on this thread's deferred list */
    struct ruv_lake *lake;
    struct ruv_lake_query q;
    struct lake_call *calls; /* one per target */
    void (*done)(void *ctx, int status);
    void *ctx;
    uint64_t ticket;
    int started, canceled;
};

/* Unlinks and frees t (taking tasks_mu); the last one out wakes drain. */
static void retire_task(struct ruv_lake *lake, struct lake_task *t)
{
    pthread_mutex_lock(&lake->tasks_mu);
    for (struct lake_task **p = &lake->tasks; *p; p = &(*p)->next)
        if (*p == t) {
            *p = t->next;
            break;
        }
    if (--lake->ntasks == 0)
        pthread_cond_broadcast(&lake->tasks_idle);
    pthread_mutex_unlock(&lake->tasks_mu);
    free(t->calls);
    free(t);
}

static _Thread_local unsigned tl_depth; /* coherence steps this thread is in */
static _Thread_local struct lake_task *tl_deferred, *tl_deferred_tail;

static void run_task(void *arg);

void ruv__lake_step_enter(void) { tl_depth++; }

int ruv__lake_step_leave(int st)
{
    if (--tl_depth > 0 || !tl_deferred)
        return st;
    char detail[1024];
    snprintf(detail, sizeof detail, "%s", ruv__detail_get());
    while (tl_deferred) {
        struct lake_task *t = tl_deferred;
        tl_deferred = t->deferred_next;
        if (!tl_deferred)
            tl_deferred_tail = NULL;
        run_task(t);
    }
    return st == RUV_OK ? st : ruv__detail_set(st, "%s", detail); /* theirs set details too */
}

static void run_task(void *arg)
{
    struct lake_task *t = arg;
    if (tl_depth > 0) { /* inside a coherence step: after it */
        t->deferred_next = NULL;
        if (tl_deferred_tail)
            tl_deferred_tail->deferred_next = t;
        else
            tl_deferred = t;
        tl_deferred_tail = t;
        return;
    }
    struct ruv_lake *lake = t->lake;
    pthread_mutex_lock(&lake->tasks_mu);
    int canceled = t->canceled;
    t->started = 1;
    pthread_mutex_unlock(&lake->tasks_mu);
    int st = canceled ? ruv__detail_set(RUV_E_CANCELED, "the request was canceled")
                      : ruv__lake_search_call(lake, &t->q, t->calls);
    t->done(t->ctx, st);
    retire_task(lake, t);
}

/* Notes, per target, how many describes its key had begun when the
 * request arrived (a target that does not resolve gets none: the search
 * reports it). */
static void note_arrival(struct ruv_lake *lake, const struct ruv_lake_target *t,
                         struct lake_call *c)
{
    unsigned b;
    if (!t->collection || ruv__lake_backend_index(lake, t->backend, &b) != RUV_OK ||
        ruv__lake_name_check("collection", t->collection) != RUV_OK)
        return;
    struct lake_slot *s = ruv__lake_slot(lake, b, t->collection, 1);
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    c->arrival = s->desc_started;
    c->has_arrival = 1;
    pthread_mutex_unlock(&s->mu);
}

static int supply_check(const struct ruv_lake_supply *s, uint32_t t)
{
    const char *bad = s->struct_size < sizeof *s ? "struct_size is older than this plugin"
                      : s->flags & ~(RUV_LAKE_SUPPLY_DESCRIBE | RUV_LAKE_SUPPLY_PULL)
                          ? "unknown flags"
                      : s->desc && s->desc->struct_size < sizeof *s->desc
                          ? "desc struct_size is older than this plugin"
                      : s->batch && s->batch->struct_size < sizeof *s->batch
                          ? "batch struct_size is older than this plugin"
                          : NULL;
    return bad ? ruv__detail_set(RUV_E_INVAL, "submit: supply of target %u: %s", t, bad) : RUV_OK;
}

int ruv__lake_submit(struct ruv_lake *lake, const struct ruv_lake_query *q,
                     void (*done)(void *ctx, int status), void *ctx, uint64_t *ticket)
{
    return ruv__lake_submit_supplied(lake, q, NULL, done, ctx, ticket);
}

int ruv__lake_submit_supplied(struct ruv_lake *lake, const struct ruv_lake_query *q,
                              struct ruv_lake_supply *supply,
                              void (*done)(void *ctx, int status), void *ctx, uint64_t *ticket)
{
    if (!lake || !q || !done || q->struct_size < sizeof *q)
        return ruv__detail_set(RUV_E_INVAL, "submit: lake, query or done is NULL, or the query "
                                            "struct is older than this plugin");
    for (uint32_t i = 0; supply && i < q->ntargets; i++) {
        int st = supply_check(&supply[i], i);
        if (st != RUV_OK)
            return st;
        supply[i].needs = 0;
    }
    struct lake_task *t = calloc(1, sizeof *t);
    struct lake_call *calls = q->targets && q->ntargets ? calloc(q->ntargets, sizeof *calls)
                                                        : NULL;
    if (!t || (q->targets && q->ntargets && !calls)) {
        free(t);
        free(calls);
        return ruv__detail_set(RUV_E_NOMEM, "out of memory for a request");
    }
    for (uint32_t i = 0; calls && i < q->ntargets; i++) {
        note_arrival(lake, &q->targets[i], &calls[i]);
        calls[i].supply = supply ? &supply[i] : NULL;
    }
    *t = (struct lake_task){.lake = lake, .q = *q, .calls = calls, .done = done, .ctx = ctx};
    pthread_mutex_lock(&lake->tasks_mu);
    t->ticket = lake->next_ticket++;
    t->next = lake->tasks;
    lake->tasks = t;
    lake->ntasks++;
    pthread_mutex_unlock(&lake->tasks_mu);
    if (ticket)
        *ticket = t->ticket;
    int st = lake->host->submit(lake->host, run_task, t);
    if (st != RUV_OK) { /* not queued: done will not run */
        retire_task(lake, t);
        return ruv__detail_set(st, "submit: %s", lake->host->last_error());
    }
    return RUV_OK;
}

int ruv__lake_cancel(struct ruv_lake *lake, uint64_t ticket)
{
    if (!lake)
        return ruv__detail_set(RUV_E_INVAL, "cancel: lake is NULL");
    int st = ruv__detail_set(RUV_E_NOTFOUND, "no request %llu is pending",
                             (unsigned long long)ticket);
    pthread_mutex_lock(&lake->tasks_mu);
    for (struct lake_task *t = lake->tasks; t; t = t->next)
        if (t->ticket == ticket) {
            st = t->started ? ruv__detail_set(RUV_E_STATE, "request %llu is running",
                                              (unsigned long long)ticket)
                            : RUV_OK;
            t->canceled = 1;
            break;
        }
    pthread_mutex_unlock(&lake->tasks_mu);
    return st;
}

void ruv__lake_tasks_drain(struct ruv_lake *lake)
{
    pthread_mutex_lock(&lake->tasks_mu);
    for (struct lake_task *t = lake->tasks; t; t = t->next)
        t->canceled = 1;
    while (lake->ntasks > 0)
        pthread_cond_wait(&lake->tasks_idle, &lake->tasks_mu);
    pthread_mutex_unlock(&lake->tasks_mu);
}
