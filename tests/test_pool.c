/* The engine's thread pool (engine/exec/pool.c): every chunk runs exactly
 * once, worker numbers stay below the thread count and are never shared by
 * two threads at once, nested loops and loops inside submitted tasks finish
 * (no deadlock, whatever the pool size), no thread is created per call, and
 * a forked child gets a working pool. */
#define _GNU_SOURCE
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ruvector/error.h>

#include "exec/pool.h"

#define MAXT 16

struct cover {
    atomic_int *hits;
    atomic_int busy[MAXT]; /* 1 while a thread runs as that worker */
    unsigned threads;
    atomic_int bad_worker, shared_worker;
};

static void cover_fn(void *ctx, size_t b, size_t e, unsigned worker)
{
    struct cover *c = ctx;
    if (worker >= c->threads) {
        atomic_store(&c->bad_worker, 1);
        return;
    }
    if (atomic_exchange(&c->busy[worker], 1))
        atomic_store(&c->shared_worker, 1);
    for (size_t i = b; i < e; i++)
        atomic_fetch_add(&c->hits[i], 1);
    atomic_store(&c->busy[worker], 0);
}

static void check_cover(unsigned threads, size_t n, size_t grain)
{
    struct cover c = {.threads = threads};
    c.hits = calloc(n ? n : 1, sizeof *c.hits);
    assert_non_null(c.hits);
    assert_int_equal(ruv__parallel_for(threads, n, grain, cover_fn, &c), RUV_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(atomic_load(&c.hits[i]), 1);
    assert_int_equal(atomic_load(&c.bad_worker), 0);
    assert_int_equal(atomic_load(&c.shared_worker), 0);
    free(c.hits);
}

static void test_every_chunk_once(void **state)
{
    (void)state;
    static const size_t ns[] = {0, 1, 2, 7, 64, 1000, 100003};
    static const size_t grains[] = {0, 1, 3, 64, 5000};
    static const unsigned threads[] = {1, 2, 3, 8, MAXT};
    for (size_t a = 0; a < sizeof ns / sizeof *ns; a++)
        for (size_t b = 0; b < sizeof grains / sizeof *grains; b++)
            for (size_t t = 0; t < sizeof threads / sizeof *threads; t++)
                check_cover(threads[t], ns[a], grains[b]);
}

/* Three levels of parallel loops, each asking for more threads than the
 * pool has: must finish with every leaf counted once. */
struct nest {
    int depth;
    atomic_long *leaves;
};

static void nest_fn(void *ctx, size_t b, size_t e, unsigned worker)
{
    (void)worker;
    const struct nest *n = ctx;
    for (size_t i = b; i < e; i++) {
        if (n->depth == 0) {
            atomic_fetch_add(n->leaves, 1);
            continue;
        }
        struct nest inner = {n->depth - 1, n->leaves};
        ruv__parallel_for(8, 5, 1, nest_fn, &inner);
    }
}

static void test_nested_loops(void **state)
{
    (void)state;
    atomic_long leaves = 0;
    struct nest top = {3, &leaves};
    ruv__parallel_for(8, 5, 1, nest_fn, &top);
    assert_int_equal(atomic_load(&leaves), 5 * 5 * 5 * 5);
}

/* The federated fan-out: more submitted tasks than workers, each starting
 * its own parallel loop (a "parallel build"); all must complete. */
struct fan {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
    atomic_long sum;
};

static void add_fn(void *ctx, size_t b, size_t e, unsigned worker)
{
    (void)worker;
    struct fan *f = ctx;
    for (size_t i = b; i < e; i++)
        atomic_fetch_add(&f->sum, (long)i);
}

static void fan_task(void *ctx)
{
    struct fan *f = ctx;
    ruv__parallel_for(4, 1000, 10, add_fn, f);
    pthread_mutex_lock(&f->mu);
    f->done++;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

static void test_submit_with_nested_builds(void **state)
{
    (void)state;
    struct fan f = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    atomic_init(&f.sum, 0);
    const int tasks = 32;
    for (int i = 0; i < tasks; i++)
        assert_int_equal(ruv__pool_submit(fan_task, &f), RUV_OK);
    pthread_mutex_lock(&f.mu);
    while (f.done < tasks)
        pthread_cond_wait(&f.cv, &f.mu);
    pthread_mutex_unlock(&f.mu);
    assert_int_equal(atomic_load(&f.sum), (long)tasks * (999 * 1000 / 2));
}

static void test_no_thread_per_call(void **state)
{
    (void)state;
    check_cover(4, 100, 1);
    unsigned before = ruv__pool_workers();
    assert_true(before >= 1);
    assert_true(ruv__pool_default_workers() >= 1);
    for (int i = 0; i < 2000; i++)
        check_cover(4, 64, 1);
    assert_int_equal(ruv__pool_workers(), before);
    /* asking for more threads than ever before grows the pool once */
    check_cover(MAXT, 1000, 1);
    unsigned grown = ruv__pool_workers();
    assert_true(grown >= before);
    for (int i = 0; i < 100; i++)
        check_cover(MAXT, 1000, 1);
    assert_int_equal(ruv__pool_workers(), grown);
}

static void test_fork_child(void **state)
{
    (void)state;
    check_cover(4, 1000, 1); /* the parent's workers exist */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* the child must not wait for the parent's threads */
        struct fan f = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
        atomic_init(&f.sum, 0);
        if (ruv__pool_submit(fan_task, &f) != RUV_OK)
            _exit(2);
        pthread_mutex_lock(&f.mu);
        while (f.done < 1)
            pthread_cond_wait(&f.cv, &f.mu);
        pthread_mutex_unlock(&f.mu);
        _exit(atomic_load(&f.sum) == 999 * 1000 / 2 ? 0 : 3);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_chunk_once),
        cmocka_unit_test(test_nested_loops),
        cmocka_unit_test(test_submit_with_nested_builds),
        cmocka_unit_test(test_no_thread_per_call),
        cmocka_unit_test(test_fork_child),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
