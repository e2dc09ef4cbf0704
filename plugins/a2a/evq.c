/* plugins/a2a/evq.c — a client's event queue and its notify fd (a2a.md §7):
 * the fd is readable exactly while events are queued, so an event loop can
 * watch it level-triggered and drain in batches. An eventfd on Linux, a
 * non-blocking pipe elsewhere. */
#include "config.h"
#include "io.h"
#include "discover.h"
#include "policy_keep.h"
#include "detail.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

struct ruv__evq {
    pthread_mutex_t mu;
    struct ruv__io *io;
    pid_t pid;          /* the process that made it */
    int fd_read, fd_write;
    unsigned refs;      /* the client's and one per op in flight */
    int closed;         /* the client is gone */
    uint64_t next_req;
    struct ruv__ev_node *head, *tail;
    struct ruv__op *in_flight;
};

static void signal_fd(struct ruv__evq *q)
{
#ifdef __linux__
    uint64_t one = 1;
    ssize_t w = write(q->fd_write, &one, sizeof one);
#else
    char one = 1;
    ssize_t w = write(q->fd_write, &one, 1);
#endif
    (void)w; /* a full pipe is already readable */
}

static void clear_fd(struct ruv__evq *q)
{
    char buf[64];
    while (read(q->fd_read, buf, sizeof buf) > 0)
        ;
}

int ruv__evq_new(struct ruv__io *io, struct ruv__evq **out)
{
    *out = NULL;
    struct ruv__evq *q = calloc(1, sizeof *q);
    if (!q)
        return ruv__detail_set(RUV_E_NOMEM, "out of memory");
#ifdef __linux__
    q->fd_read = q->fd_write = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (q->fd_read < 0) {
#else
    int p[2];
    if (pipe(p) != 0 || fcntl(p[0], F_SETFL, O_NONBLOCK) != 0 ||
        fcntl(p[1], F_SETFL, O_NONBLOCK) != 0 || fcntl(p[0], F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(p[1], F_SETFD, FD_CLOEXEC) != 0) {
#endif
        int e = errno;
        free(q);
        return ruv__detail_set(RUV_E_IO, "notify fd: %s", strerror(e));
    }
#ifndef __linux__
    q->fd_read = p[0];
    q->fd_write = p[1];
#endif
    if (pthread_mutex_init(&q->mu, NULL) != 0) {
        close(q->fd_read);
        if (q->fd_write != q->fd_read)
            close(q->fd_write);
        free(q);
        return ruv__detail_set(RUV_E_NOMEM, "pthread_mutex_init failed");
    }
    q->io = io;
    q->pid = getpid();
    q->refs = 1;
    *out = q;
    return RUV_OK;
}

void ruv__ev_node_free(struct ruv__ev_node *n)
{
    if (!n)
        return;
    free(n->json);
    free(n->params);
    ruv__discover_free(n->discover);
    ruv__kept_policy_free(n->policy);
    free(n);
}

static void drop_events(struct ruv__evq *q)
{
    while (q->head) {
        struct ruv__ev_node *n = q->head;
        q->head = n->next;
        ruv__ev_node_free(n);
    }
    q->tail = NULL;
}

/* Called with q->mu held; frees q (and unlocks) when the last reference goes. */
static void unref_locked(struct ruv__evq *q)
{
    if (--q->refs > 0) {
        pthread_mutex_unlock(&q->mu);
        return;
    }
    drop_events(q);
    pthread_mutex_unlock(&q->mu);
    pthread_mutex_destroy(&q->mu);
    close(q->fd_read);
    if (q->fd_write != q->fd_read)
        close(q->fd_write);
    free(q);
}

int ruv__evq_forked(const struct ruv__evq *q) { return q->pid != getpid(); }

void ruv__evq_close(struct ruv__evq *q)
{
    if (!q)
        return;
    if (ruv__evq_forked(q)) {
        /* A forked child: no thread of ours runs here, and the lock may be
         * a copy of one the parent's I/O thread held, so it is neither taken
         * nor destroyed. The parent's ops that point at q are never run in
         * this process. */
        drop_events(q);
        close(q->fd_read);
        if (q->fd_write != q->fd_read)
            close(q->fd_write);
        free(q);
        return;
    }
    pthread_mutex_lock(&q->mu);
    q->closed = 1;
    int any = q->in_flight != NULL;
    for (struct ruv__op *op = q->in_flight; op; op = op->q_next)
        __atomic_store_n(&op->aborted, 1, __ATOMIC_RELEASE);
    drop_events(q);
    clear_fd(q);
    struct ruv__io *io = q->io;
    unref_locked(q);
    if (any)
        ruv__io_kick(io);
}

int ruv__evq_fd(const struct ruv__evq *q) { return q->fd_read; }

struct ruv__io *ruv__evq_io(const struct ruv__evq *q) { return q->io; }

uint64_t ruv__evq_next_req(struct ruv__evq *q)
{
    pthread_mutex_lock(&q->mu);
    uint64_t r = ++q->next_req;
    pthread_mutex_unlock(&q->mu);
    return r;
}

void ruv__evq_track(struct ruv__evq *q, struct ruv__op *op)
{
    pthread_mutex_lock(&q->mu);
    q->refs++;
    op->q = q;
    op->q_next = q->in_flight;
    q->in_flight = op;
    pthread_mutex_unlock(&q->mu);
}

static void push_back_locked(struct ruv__evq *q, struct ruv__ev_node *n)
{
    int was_empty = q->head == NULL;
    n->next = NULL;
    if (q->tail)
        q->tail->next = n;
    else
        q->head = n;
    q->tail = n;
    if (was_empty)
        signal_fd(q);
}

/* Takes op out of q's in-flight list (q->mu held). */
static void unlink_locked(struct ruv__evq *q, struct ruv__op *op)
{
    struct ruv__op **pp = &q->in_flight;
    while (*pp && *pp != op)
        pp = &(*pp)->q_next;
    if (*pp)
        *pp = op->q_next;
    op->q = NULL;
}

void ruv__evq_untrack(struct ruv__op *op)
{
    struct ruv__evq *q = op->q;
    pthread_mutex_lock(&q->mu);
    unlink_locked(q, op);
    unref_locked(q);
}

void ruv__evq_complete(struct ruv__op *op, struct ruv__ev_node *node)
{
    struct ruv__evq *q = op->q;
    pthread_mutex_lock(&q->mu);
    unlink_locked(q, op);
    if (!node && !q->closed && (node = calloc(1, sizeof *node))) {
        /* No memory for the real event: the caller still learns that the
         * call ended. */
        node->ev.struct_size = sizeof node->ev;
        node->ev.kind = RUV_A2A_EV_RESULT;
        node->ev.req = op->req;
        node->ev.method = op->method;
        node->ev.status = RUV_E_NOMEM;
        strcpy(node->detail, "out of memory");
        node->ev.detail = node->detail;
    }
    if (q->closed)
        ruv__ev_node_free(node);
    else if (node)
        push_back_locked(q, node);
    unref_locked(q);
}

void ruv__evq_push_front(struct ruv__evq *q, struct ruv__ev_node *n)
{
    pthread_mutex_lock(&q->mu);
    if (!q->head) {
        push_back_locked(q, n);
    } else {
        n->next = q->head;
        q->head = n;
    }
    pthread_mutex_unlock(&q->mu);
}

int ruv__evq_push_stream(struct ruv__op *op, struct ruv__ev_node *node)
{
    struct ruv__evq *q = op->q;
    size_t bytes = node->ev.json_len;
    pthread_mutex_lock(&q->mu);
    if (op->queued_events == op->sizes_cap) { /* grow the ring, oldest first */
        size_t cap = op->sizes_cap ? op->sizes_cap * 2 : 64;
        uint32_t *n = malloc(cap * sizeof *n);
        if (!n) {
            pthread_mutex_unlock(&q->mu);
            ruv__ev_node_free(node);
            return ruv__detail_set(RUV_E_NOMEM, "out of memory");
        }
        for (size_t i = 0; i < op->queued_events; i++)
            n[i] = op->sizes[(op->sizes_head + i) % op->sizes_cap];
        free(op->sizes);
        op->sizes = n;
        op->sizes_head = 0;
        op->sizes_cap = cap;
    }
    op->sizes[(op->sizes_head + op->queued_events) % op->sizes_cap] =
        bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)bytes;
    op->queued_events++;
    op->queued_bytes += bytes;
    if (q->closed)
        ruv__ev_node_free(node);
    else
        push_back_locked(q, node);
    pthread_mutex_unlock(&q->mu);
    return RUV_OK;
}

static int full_locked(const struct ruv__op *op)
{
    return op->queued_events >= RUV__STREAM_MAX_QUEUED_EVENTS ||
           op->queued_bytes >= RUV__STREAM_MAX_QUEUED_BYTES;
}

int ruv__evq_pause_if_full(struct ruv__op *op)
{
    struct ruv__evq *q = op->q;
    pthread_mutex_lock(&q->mu);
    int full = full_locked(op);
    if (full) /* atomic: the I/O thread's deadline check reads it unlocked */
        __atomic_store_n(&op->paused, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&q->mu);
    return full;
}

void ruv__evq_credit(struct ruv__evq *q, uint64_t req, uint32_t n)
{
    int kick = 0;
    pthread_mutex_lock(&q->mu);
    for (struct ruv__op *op = q->in_flight; op; op = op->q_next) {
        if (op->req != req || !op->stream)
            continue;
        for (; n > 0 && op->queued_events > 0; n--) {
            op->queued_bytes -= op->sizes[op->sizes_head];
            op->sizes_head = (op->sizes_head + 1) % op->sizes_cap;
            op->queued_events--;
        }
        if (__atomic_load_n(&op->paused, __ATOMIC_ACQUIRE) && !full_locked(op)) {
            __atomic_store_n(&op->paused, 0, __ATOMIC_RELEASE);
            __atomic_store_n(&op->unpause, 1, __ATOMIC_RELEASE);
            kick = 1;
        }
    }
    pthread_mutex_unlock(&q->mu);
    if (kick)
        ruv__io_kick(q->io);
}

size_t ruv__evq_pop(struct ruv__evq *q, struct ruv__ev_node **out, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&q->mu);
    while (n < max && q->head) {
        out[n++] = q->head;
        q->head = q->head->next;
    }
    if (!q->head) {
        q->tail = NULL;
        clear_fd(q);
    }
    pthread_mutex_unlock(&q->mu);
    return n;
}

void ruv__evq_abort(struct ruv__evq *q, uint64_t req)
{
    int found = 0;
    pthread_mutex_lock(&q->mu);
    for (struct ruv__op *op = q->in_flight; op; op = op->q_next)
        if (op->req == req) {
            __atomic_store_n(&op->aborted, 1, __ATOMIC_RELEASE);
            found = 1;
        }
    pthread_mutex_unlock(&q->mu);
    if (found)
        ruv__io_kick(q->io);
}

int ruv__evq_wait(struct ruv__evq *q, int timeout_ms)
{
    struct pollfd p = {.fd = q->fd_read, .events = POLLIN};
    for (;;) {
        int r = poll(&p, 1, timeout_ms < 0 ? -1 : timeout_ms);
        if (r > 0)
            return 1;
        if (r == 0)
            return 0;
        if (errno != EINTR)
            return ruv__detail_set(RUV_E_IO, "poll on the notify fd: %s", strerror(errno));
    }
}
