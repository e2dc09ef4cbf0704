/* plugins/a2a/io.c — one I/O thread per plugin state (a2a.md §7): it owns a
 * curl multi handle and every asynchronous transfer of the state's
 * clients. Other threads hand it ops through a mutex-protected list and
 * curl_multi_wakeup; it runs curl (name resolution is curl's threaded
 * resolver, timers are curl's and our retry times), and hands each
 * finished call to its client's queue. It calls nothing of the host and
 * never waits on a caller: a client may close at any time (its ops are
 * marked aborted and removed on the next turn).
 *
 * fork(): the child has no I/O thread. Its first submit starts a new one
 * with a new multi handle (the parent's handle, ops and sockets are left
 * alone, leaked: they are the parent's). pthread_atfork handlers hold every
 * context's lock across fork(), so the child never inherits it locked.
 * Clients opened before fork() stay refused in the child (evq.c: their
 * notify fd is shared with the parent). */
#include "config.h"
#include "io.h"
#include "clock.h"
#include "concurrency.h"
#include "detail.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The longest the thread sleeps without a reason to wake: a bound on how
 * late an abort or stop could be noticed if a wakeup were ever lost. */
#define IDLE_POLL_MS 1000

struct ruv__io {
    pthread_mutex_t mu;
    pthread_t thread;
    int started; /* the thread runs (in process pid) */
    int stop;
    pid_t pid;
    CURLM *multi;
    struct ruv__op *incoming; /* submitted, not yet taken by the thread */
    struct ruv__op *active;   /* the thread's: taken and not yet finished */
    long in_flight;           /* submitted and not yet completed */
    struct ruv__io *next_io;  /* in the fork registry */
    /* In a forked child that restarted the thread: the parent's multi
     * handle and submitted ops, kept (never used or freed) so that they
     * stay the parent's. */
    CURLM *parent_multi;
    struct ruv__op *parent_incoming, *parent_active;
};

/* Every live context, so that fork() can hold their locks (the atfork
 * handlers); lock order: registry_mu, then each io->mu. */
static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static struct ruv__io *registry;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static int atfork_failed;

static void before_fork(void)
{
    pthread_mutex_lock(&registry_mu);
    for (struct ruv__io *io = registry; io; io = io->next_io)
        pthread_mutex_lock(&io->mu);
}

static void after_fork(void)
{
    for (struct ruv__io *io = registry; io; io = io->next_io)
        pthread_mutex_unlock(&io->mu);
    pthread_mutex_unlock(&registry_mu);
}

static void register_atfork(void)
{
    atfork_failed = pthread_atfork(before_fork, after_fork, after_fork) != 0;
}

int ruv__io_new(struct ruv__io **out)
{
    *out = NULL;
    pthread_once(&atfork_once, register_atfork);
    if (atfork_failed)
        return ruv__detail_set(RUV_E_NOMEM, "pthread_atfork failed");
    struct ruv__io *io = calloc(1, sizeof *io);
    if (!io)
        return ruv__detail_set(RUV_E_NOMEM, "out of memory");
    if (pthread_mutex_init(&io->mu, NULL) != 0) {
        free(io);
        return ruv__detail_set(RUV_E_NOMEM, "pthread_mutex_init failed");
    }
    pthread_mutex_lock(&registry_mu);
    io->next_io = registry;
    registry = io;
    pthread_mutex_unlock(&registry_mu);
    *out = io;
    return RUV_OK;
}

static void unregister(struct ruv__io *io)
{
    pthread_mutex_lock(&registry_mu);
    for (struct ruv__io **pp = &registry; *pp; pp = &(*pp)->next_io) {
        if (*pp == io) {
            *pp = io->next_io;
            break;
        }
    }
    pthread_mutex_unlock(&registry_mu);
}

int ruv__io_forked(const struct ruv__io *io)
{
    return __atomic_load_n(&io->started, __ATOMIC_ACQUIRE) && io->pid != getpid();
}

const char *ruv__io_state(const struct ruv__io *io, long *in_flight)
{
    *in_flight = __atomic_load_n(&io->in_flight, __ATOMIC_RELAXED);
    if (!__atomic_load_n(&io->started, __ATOMIC_ACQUIRE))
        return "stopped";
    return io->pid == getpid() ? "running" : "forked";
}

/* Hands op's event to its queue and frees op. */
static void finish(struct ruv__io *io, struct ruv__op *op, struct ruv__ev_node *node)
{
    if (op->in_multi) {
        curl_multi_remove_handle(io->multi, op->h);
        op->in_multi = 0;
    }
    /* What the call held goes back before its event can be seen: a caller
     * that reacts to the event (a send refused for queue_full retried once
     * a waiter was cancelled, a max_concurrency slot) finds it free. */
    ruv__budget_leave_queue(&op->bw);
    ruv__concurrency_release(op->slot);
    op->slot = NULL;
    ruv__evq_complete(op, node);
    ruv__op_free(op);
    __atomic_sub_fetch(&io->in_flight, 1, __ATOMIC_RELAXED);
}

static void finish_with(struct ruv__io *io, struct ruv__op *op, int status, uint32_t error,
                        const char *detail)
{
    finish(io, op, ruv__async_event(op, status, error, detail));
}

static void start_transfer(struct ruv__io *io, struct ruv__op *op)
{
    CURLMcode mc = curl_multi_add_handle(io->multi, op->h);
    if (mc == CURLM_OK)
        op->in_multi = 1;
    if (op->stream)
        ruv__astream_started(op, ruv__clock_ms());
    op->retry_at_ms = 0;
}

/* Removes op from the list at *pp. */
static struct ruv__op *unlink_op(struct ruv__op **pp)
{
    struct ruv__op *op = *pp;
    *pp = op->next;
    op->next = NULL;
    return op;
}

static void *io_main(void *arg)
{
    struct ruv__io *io = arg;
    /* In io, not on this thread's stack: a forked child keeps them
     * reachable (never used) as the parent's. */
    struct ruv__op **active = &io->active;
    for (;;) {
        pthread_mutex_lock(&io->mu);
        struct ruv__op *in = io->incoming;
        io->incoming = NULL;
        int stop = io->stop;
        pthread_mutex_unlock(&io->mu);
        while (in) {
            struct ruv__op *op = in;
            in = in->next;
            op->next = *active;
            *active = op;
            if (op->bw.budget) { /* admitted first, below */
                op->retry_at_ms = 1;
                continue;
            }
            struct ruv__ev_node *settled = NULL;
            if (op->discover && !op->h && !ruv__adiscover_start(op, &settled)) {
                finish(io, unlink_op(active), settled);
                continue;
            }
            start_transfer(io, op);
            if (!op->in_multi)
                finish_with(io, unlink_op(active), RUV_E_IO, RUV_A2A_ERR_TRANSPORT,
                            "curl_multi_add_handle failed");
        }
        /* Aborts, the stop, and retries that are due. */
        int64_t now = ruv__clock_ms();
        long wait = IDLE_POLL_MS;
        for (struct ruv__op **pp = active; *pp;) {
            struct ruv__op *op = *pp;
            if (stop || __atomic_load_n(&op->aborted, __ATOMIC_ACQUIRE)) {
                finish_with(io, unlink_op(pp), RUV_E_CANCELED, RUV_A2A_ERR_NONE,
                            stop ? "the a2a plugin is shutting down" : "the call was aborted");
                continue;
            }
            if (op->stream && op->in_multi) {
                struct ruv__ev_node *node = NULL;
                if (ruv__astream_tick(op, now, &wait, &node)) {
                    finish(io, unlink_op(pp), node);
                    continue;
                }
            }
            if (op->retry_at_ms && op->bw.budget && now >= op->retry_at_ms) {
                int64_t wake = 0;
                if (!ruv__budget_try_queued(&op->bw, &wake))
                    op->retry_at_ms = wake > now ? wake : now + 1;
            }
            if (op->retry_at_ms) {
                if (now >= op->retry_at_ms) {
                    start_transfer(io, op);
                    if (!op->in_multi) {
                        finish_with(io, unlink_op(pp), RUV_E_IO, RUV_A2A_ERR_TRANSPORT,
                                    "curl_multi_add_handle failed");
                        continue;
                    }
                } else if (op->retry_at_ms - now < wait) {
                    wait = (long)(op->retry_at_ms - now);
                }
            }
            pp = &op->next;
        }
        if (stop)
            break;
        int running = 0;
        curl_multi_perform(io->multi, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(io->multi, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            CURL *h = msg->easy_handle;
            CURLcode cc = msg->data.result;
            struct ruv__op **pp = active;
            while (*pp && (*pp)->h != h)
                pp = &(*pp)->next;
            if (!*pp)
                continue;
            struct ruv__op *op = *pp;
            curl_multi_remove_handle(io->multi, h);
            op->in_multi = 0;
            struct ruv__ev_node *node = NULL;
            int again = op->stream     ? ruv__astream_done(op, cc, &node)
                        : op->discover ? ruv__adiscover_done(op, cc, &node)
                                       : ruv__async_done(op, cc, &node);
            if (again) {
                long delay = (long)(op->retry_at_ms - ruv__clock_ms());
                if (delay < wait)
                    wait = delay < 0 ? 0 : delay;
                continue;
            }
            finish(io, unlink_op(pp), node);
        }
        curl_multi_poll(io->multi, NULL, 0, (int)wait, NULL);
    }
    return NULL;
}

int ruv__io_submit(struct ruv__io *io, struct ruv__op *op)
{
    pthread_mutex_lock(&io->mu);
    if (io->started && io->pid != getpid()) {
        /* A forked child: the parent's thread does not run here. Its multi
         * handle, ops and connections are the parent's (closing them could
         * talk on sockets the parent still uses): left alone, and a new
         * thread starts below. */
        io->started = 0;
        io->parent_multi = io->multi;
        io->parent_incoming = io->incoming;
        io->parent_active = io->active;
        io->active = NULL;
        io->multi = NULL;
        io->incoming = NULL;
        io->in_flight = 0;
    }
    if (io->stop) {
        pthread_mutex_unlock(&io->mu);
        return ruv__detail_set(RUV_E_STATE, "the a2a plugin is shutting down");
    }
    if (!io->started) {
        if (!(io->multi = curl_multi_init())) {
            pthread_mutex_unlock(&io->mu);
            return ruv__detail_set(RUV_E_NOMEM, "curl_multi_init failed");
        }
        int e = pthread_create(&io->thread, NULL, io_main, io);
        if (e != 0) {
            curl_multi_cleanup(io->multi);
            io->multi = NULL;
            pthread_mutex_unlock(&io->mu);
            return ruv__detail_set(RUV_E_BACKEND, "cannot start the a2a I/O thread: %s",
                                   strerror(e));
        }
        io->pid = getpid();
        __atomic_store_n(&io->started, 1, __ATOMIC_RELEASE);
    }
    op->next = io->incoming;
    io->incoming = op;
    __atomic_add_fetch(&io->in_flight, 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&io->mu);
    curl_multi_wakeup(io->multi);
    return RUV_OK;
}

void ruv__io_kick(struct ruv__io *io)
{
    if (__atomic_load_n(&io->started, __ATOMIC_ACQUIRE) && !ruv__io_forked(io))
        curl_multi_wakeup(io->multi);
}

void ruv__io_free(struct ruv__io *io)
{
    if (!io)
        return;
    unregister(io);
    if (ruv__io_forked(io))
        return; /* the parent's thread is not ours to join: leaked */
    if (io->started) {
        pthread_mutex_lock(&io->mu);
        io->stop = 1;
        pthread_mutex_unlock(&io->mu);
        curl_multi_wakeup(io->multi);
        pthread_join(io->thread, NULL);
        /* Ops submitted after the thread's last look at the list. */
        while (io->incoming) {
            struct ruv__op *op = io->incoming;
            io->incoming = op->next;
            ruv__evq_complete(op, ruv__async_event(op, RUV_E_CANCELED, RUV_A2A_ERR_NONE,
                                                   "the a2a plugin is shutting down"));
            ruv__op_free(op);
        }
        curl_multi_cleanup(io->multi);
    }
    pthread_mutex_destroy(&io->mu);
    free(io);
}
