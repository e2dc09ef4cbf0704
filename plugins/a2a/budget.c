/* plugins/a2a/budget.c — rolling-window budget shared by clients
 * (a2a.md §5 step 1). The window is a ring of admitted entries; eviction
 * happens when a call looks at the window, at most every 100 ms (a2a.md
 * §11 sweep), and whenever a decision needs it. */
#include "config.h"
#include "budget.h"
#include "clock.h"
#include "detail.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct entry {
    int64_t at_ms;
    double usd;
    int64_t tokens;
};

/* A place in the queue: a blocking caller's on its stack, a send queued on
 * the I/O thread's on the heap (struct ruv__budget_wait.node). */
struct ruv__budget_node {
    struct ruv__budget_node *prev, *next;
    double usd;
    int64_t tokens;
};

struct ruv_a2a_budget {
    pthread_mutex_t lock;
    pthread_cond_t changed; /* broadcast whenever the queue or the window changes */
    double max_usd;     /* < 0: no cap */
    int64_t max_tokens; /* < 0: no cap */
    int64_t max_tasks;  /* < 0: no cap */
    int64_t window_ms;
    uint32_t queue_depth; /* 0: shed */
    uint32_t waiting;     /* the queue's length */
    struct ruv__budget_node *qhead, *qtail; /* FIFO: only the head is admitted */
    uint64_t admissions;  /* sends charged so far */
    unsigned refs; /* the host's and one per send queued on the I/O thread */
    struct entry *ring;
    size_t head, count, cap;
    double usd;       /* sums over the window */
    int64_t tokens;
};

int ruv__budget_new(const struct ruv_a2a_budget_options *o, struct ruv_a2a_budget **out)
{
    *out = NULL;
    if (!o || o->struct_size < sizeof *o || o->reserved)
        return ruv__detail_set(RUV_E_INVAL, "budget options: NULL, struct_size below %zu or "
                                            "reserved not 0",
                               sizeof *o);
    if (o->window_ms < 0)
        return ruv__detail_set(RUV_E_INVAL, "budget options: negative window_ms");
    struct ruv_a2a_budget *b = calloc(1, sizeof *b);
    if (!b)
        return ruv__detail_set(RUV_E_NOMEM, "out of memory");
    if (pthread_mutex_init(&b->lock, NULL) != 0) {
        free(b);
        return ruv__detail_set(RUV_E_NOMEM, "pthread_mutex_init failed");
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int crc = pthread_cond_init(&b->changed, &ca);
    pthread_condattr_destroy(&ca);
    if (crc != 0) {
        pthread_mutex_destroy(&b->lock);
        free(b);
        return ruv__detail_set(RUV_E_NOMEM, "pthread_cond_init failed");
    }
    b->max_usd = o->max_usd_per_window;
    b->max_tokens = o->max_tokens_per_window;
    b->max_tasks = o->max_tasks_per_window;
    b->window_ms = o->window_ms ? o->window_ms : 60000;
    b->queue_depth = o->queue_depth;
    b->refs = 1;
    *out = b;
    return RUV_OK;
}

void ruv__budget_free(struct ruv_a2a_budget *b)
{
    if (!b)
        return;
    pthread_mutex_lock(&b->lock);
    unsigned left = --b->refs;
    pthread_mutex_unlock(&b->lock);
    if (left)
        return;
    pthread_cond_destroy(&b->changed);
    pthread_mutex_destroy(&b->lock);
    free(b->ring);
    free(b);
}

static void evict(struct ruv_a2a_budget *b, int64_t now)
{
    while (b->count && b->ring[b->head].at_ms + b->window_ms <= now) {
        b->usd -= b->ring[b->head].usd;
        b->tokens -= b->ring[b->head].tokens;
        b->head = (b->head + 1) % b->cap;
        b->count--;
    }
    if (!b->count) {
        b->usd = 0; /* no drift from float sums */
        b->tokens = 0;
    }
}

/* Which cap a new entry would break: NULL when it fits. Entries that could
 * never fit (over a cap on their own) name it too. */
static const char *over(const struct ruv_a2a_budget *b, double usd, int64_t tokens)
{
    if (b->max_usd >= 0 && b->usd + usd > b->max_usd + 1e-9)
        return "max_usd_per_window";
    if (b->max_tokens >= 0 && b->tokens + tokens > b->max_tokens)
        return "max_tokens_per_window";
    if (b->max_tasks >= 0 && (int64_t)b->count + 1 > b->max_tasks)
        return "max_tasks_per_window";
    return NULL;
}

static int never_fits(const struct ruv_a2a_budget *b, double usd, int64_t tokens)
{
    return (b->max_usd >= 0 && usd > b->max_usd + 1e-9) ||
           (b->max_tokens >= 0 && tokens > b->max_tokens) || b->max_tasks == 0;
}

static int refuse(struct ruv_a2a_call_status *st, const char *what, const struct ruv_a2a_budget *b,
                  double usd, int64_t tokens)
{
    if (st)
        st->error = RUV_A2A_ERR_BUDGET;
    return ruv__detail_set(RUV_E_POLICY,
                           "budget exceeded: %s (window %lld ms holds %zu tasks, $%g, %lld "
                           "tokens; this send $%g, %lld tokens)",
                           what, (long long)b->window_ms, b->count, b->usd, (long long)b->tokens,
                           usd, (long long)tokens);
}

static int charge(struct ruv_a2a_budget *b, double usd, int64_t tokens, int64_t now)
{
    if (b->count == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        struct entry *r = malloc(cap * sizeof *r);
        if (!r)
            return ruv__detail_set(RUV_E_NOMEM, "out of memory");
        for (size_t i = 0; i < b->count; i++)
            r[i] = b->ring[(b->head + i) % b->cap];
        free(b->ring);
        b->ring = r;
        b->head = 0;
        b->cap = cap;
    }
    b->ring[(b->head + b->count) % b->cap] = (struct entry){now, usd, tokens};
    b->count++;
    b->usd += usd;
    b->tokens += tokens;
    return RUV_OK;
}

/* With b->lock held: forgets what left the window at now and decides on a
 * send of usd and tokens. RUV_OK with *what NULL when it fits now, or the
 * limit it would have to wait for in the queue; else the refusal (a limit
 * it can never fit, no queue, or the queue full), st filled. */
static int judge(struct ruv_a2a_budget *b, double usd, int64_t tokens, int64_t now,
                 const char **what, struct ruv_a2a_call_status *st)
{
    evict(b, now);
    *what = over(b, usd, tokens);
    if (!*what && b->qhead)
        *what = "earlier sends waiting"; /* FIFO: nobody passes the queue */
    if (*what && (b->queue_depth == 0 || never_fits(b, usd, tokens)))
        return refuse(st, *what, b, usd, tokens);
    if (*what && b->waiting >= b->queue_depth)
        return refuse(st, "queue_full", b, usd, tokens);
    return RUV_OK;
}

int ruv__budget_precheck(struct ruv_a2a_budget *b, double usd, int64_t tokens,
                         struct ruv_a2a_call_status *st)
{
    pthread_mutex_lock(&b->lock);
    const char *what;
    int rc = judge(b, usd, tokens, ruv__clock_ms(), &what, st);
    pthread_mutex_unlock(&b->lock);
    return rc;
}

static void enqueue(struct ruv_a2a_budget *b, struct ruv__budget_node *n)
{
    n->next = NULL;
    n->prev = b->qtail;
    if (b->qtail)
        b->qtail->next = n;
    else
        b->qhead = n;
    b->qtail = n;
    b->waiting++;
}

static void dequeue(struct ruv_a2a_budget *b, struct ruv__budget_node *n)
{
    if (n->prev)
        n->prev->next = n->next;
    else
        b->qhead = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        b->qtail = n->prev;
    n->prev = n->next = NULL;
    b->waiting--;
    pthread_cond_broadcast(&b->changed); /* a new head may be admitted */
}

/* When n, at the head of the queue, may fit: when the window's oldest
 * entry leaves it (or soon, when the window is empty). */
static int64_t head_wake(const struct ruv_a2a_budget *b, int64_t now)
{
    return b->count ? b->ring[b->head].at_ms + b->window_ms : now + 100;
}

/* With b->lock held: charges n if it heads the queue and fits now, and
 * takes it off the queue. 1 when charged (*seq set), 0 when not yet, or
 * the (negative) failure of charge. */
static int admit_head(struct ruv_a2a_budget *b, struct ruv__budget_node *n, int64_t now,
                      uint64_t *seq)
{
    evict(b, now);
    if (b->qhead != n || over(b, n->usd, n->tokens))
        return 0;
    int rc = charge(b, n->usd, n->tokens, now);
    if (rc != RUV_OK)
        return rc;
    *seq = ++b->admissions;
    dequeue(b, n);
    return 1;
}

int ruv__budget_admit_seq(struct ruv_a2a_budget *b, double usd, int64_t tokens,
                          struct ruv_a2a_call_status *st, uint64_t *seq)
{
    pthread_mutex_lock(&b->lock);
    int64_t now = ruv__clock_ms();
    const char *what;
    int rc = judge(b, usd, tokens, now, &what, st);
    if (rc == RUV_OK && what) {
        /* Wait in the queue until this send heads it and the window admits
         * it: a timed wait for the oldest entry to leave when at the head,
         * else until the queue moves (broadcast) or 100 ms at most. */
        struct ruv__budget_node me = {NULL, NULL, usd, tokens};
        enqueue(b, &me);
        int done;
        while ((done = admit_head(b, &me, now, seq)) == 0) {
            int64_t wake = b->qhead == &me ? head_wake(b, now) : now + 100;
            struct timespec ts = {(time_t)(wake / 1000), (long)(wake % 1000) * 1000000L};
            int w = pthread_cond_timedwait(&b->changed, &b->lock, &ts);
            if (w != 0 && w != ETIMEDOUT && w != EINTR)
                break;
            now = ruv__clock_ms();
        }
        if (done != 1)
            dequeue(b, &me);
        rc = done == 1 ? RUV_OK
             : done < 0 ? done
                        : refuse(st, "the queue wait failed", b, usd, tokens);
    } else if (rc == RUV_OK) {
        rc = charge(b, usd, tokens, now);
        if (rc == RUV_OK)
            *seq = ++b->admissions;
    }
    pthread_cond_broadcast(&b->changed);
    pthread_mutex_unlock(&b->lock);
    return rc;
}

int ruv__budget_admit(struct ruv_a2a_budget *b, double usd, int64_t tokens,
                      struct ruv_a2a_call_status *st)
{
    uint64_t seq;
    return ruv__budget_admit_seq(b, usd, tokens, st, &seq);
}

int ruv__budget_admit_or_queue(struct ruv_a2a_budget *b, double usd, int64_t tokens,
                               struct ruv__budget_wait *w, struct ruv_a2a_call_status *st)
{
    memset(w, 0, sizeof *w);
    struct ruv__budget_node *n = malloc(sizeof *n);
    if (!n)
        return ruv__detail_set(RUV_E_NOMEM, "out of memory");
    *n = (struct ruv__budget_node){NULL, NULL, usd, tokens};
    pthread_mutex_lock(&b->lock);
    int64_t now = ruv__clock_ms();
    const char *what;
    int rc = judge(b, usd, tokens, now, &what, st);
    if (rc == RUV_OK && what) {
        enqueue(b, n);
        b->refs++;
        w->budget = b;
        w->node = n;
        n = NULL;
    } else if (rc == RUV_OK) {
        rc = charge(b, usd, tokens, now);
        if (rc == RUV_OK)
            w->seq = ++b->admissions;
    }
    pthread_mutex_unlock(&b->lock);
    free(n);
    return rc;
}

int ruv__budget_try_queued(struct ruv__budget_wait *w, int64_t *wake_ms)
{
    struct ruv_a2a_budget *b = w->budget;
    pthread_mutex_lock(&b->lock);
    int64_t now = ruv__clock_ms();
    int admitted = admit_head(b, w->node, now, &w->seq) == 1;
    if (!admitted) {
        /* Not at the head: an earlier waiter goes first, no sooner than the
         * oldest entry leaves the window; look again 20 ms after that. */
        *wake_ms = b->qhead == w->node
                       ? head_wake(b, now)
                       : (b->count ? b->ring[b->head].at_ms + b->window_ms : now) + 20;
    }
    pthread_mutex_unlock(&b->lock);
    if (admitted) {
        free(w->node);
        w->node = NULL;
        w->budget = NULL;
        ruv__budget_free(b);
    }
    return admitted;
}

void ruv__budget_leave_queue(struct ruv__budget_wait *w)
{
    struct ruv_a2a_budget *b = w->budget;
    if (!b)
        return;
    w->budget = NULL;
    pthread_mutex_lock(&b->lock);
    dequeue(b, w->node);
    pthread_mutex_unlock(&b->lock);
    free(w->node);
    w->node = NULL;
    ruv__budget_free(b);
}

uint32_t ruv__budget_waiting(struct ruv_a2a_budget *b)
{
    pthread_mutex_lock(&b->lock);
    uint32_t n = b->waiting;
    pthread_mutex_unlock(&b->lock);
    return n;
}
