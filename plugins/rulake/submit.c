/* Requests on the engine's pool (rulake.md §3 submit/cancel, behind
 * Python's *_async): the query runs as one pool task, done(ctx, status)
 * runs once on the thread that ran it. A queued request can be canceled
 * (done gets RUV_E_CANCELED); a running one finishes. close cancels the
 * queued ones and waits until none runs. */
#include "config.h"

#include <stdlib.h>

#include <ruvector/error.h>

#include "lake_error.h"
#include "lake_internal.h"

struct lake_task {
    struct lake_task *next;
    struct ruv_lake *lake;
    struct ruv_lake_query q;
    void (*done)(void *ctx, int status);
    void *ctx;
    uint64_t ticket;
    int started, canceled;
};

/* Under tasks_mu: unlinks t. */
static void unlink_task(struct ruv_lake *lake, struct lake_task *t)
{
    for (struct lake_task **p = &lake->tasks; *p; p = &(*p)->next)
        if (*p == t) {
            *p = t->next;
            return;
        }
}

static void run_task(void *arg)
{
    struct lake_task *t = arg;
    struct ruv_lake *lake = t->lake;
    pthread_mutex_lock(&lake->tasks_mu);
    int canceled = t->canceled;
    t->started = 1;
    pthread_mutex_unlock(&lake->tasks_mu);
    int st = canceled ? ruv__detail_set(RUV_E_CANCELED, "the request was canceled")
                      : ruv__lake_search(lake, &t->q);
    t->done(t->ctx, st);
    pthread_mutex_lock(&lake->tasks_mu);
    unlink_task(lake, t);
    if (--lake->ntasks == 0)
        pthread_cond_broadcast(&lake->tasks_idle);
    pthread_mutex_unlock(&lake->tasks_mu);
    free(t);
}

int ruv__lake_submit(struct ruv_lake *lake, const struct ruv_lake_query *q,
                     void (*done)(void *ctx, int status), void *ctx, uint64_t *ticket)
{
    if (!lake || !q || !done || q->struct_size < sizeof *q)
        return ruv__detail_set(RUV_E_INVAL, "submit: lake, query or done is NULL, or the query "
                                            "struct is older than this plugin");
    struct lake_task *t = calloc(1, sizeof *t);
    if (!t)
        return ruv__detail_set(RUV_E_NOMEM, "out of memory for a request");
    *t = (struct lake_task){.lake = lake, .q = *q, .done = done, .ctx = ctx};
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
        pthread_mutex_lock(&lake->tasks_mu);
        unlink_task(lake, t);
        if (--lake->ntasks == 0)
            pthread_cond_broadcast(&lake->tasks_idle);
        pthread_mutex_unlock(&lake->tasks_mu);
        free(t);
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
