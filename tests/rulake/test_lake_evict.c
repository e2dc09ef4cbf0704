/* The lake under contention and memory pressure (rulake.md §7, §11 rows 1
 * and 4): single-flight priming (one pull for N cold callers, a shared
 * error and no entry after a failed prime, a duplicate federated target
 * searched once), LRU eviction by bytes and by entry count, and searchers
 * racing invalidators under a budget that forces evictions. */
#include "config.h"

#include "lake_cache_test.h"

/* ---- tests ---- */

struct racer {
    struct ruv_lake *lake;
    const float *q;
    int status;
    struct ruv_lake_hit h[5];
    uint32_t nh;
};

static void *race_search(void *arg)
{
    struct racer *r = arg;
    r->status = search1(r->lake, "cnt", "docs", r->q, 8, 5, r->h, &r->nh);
    return NULL;
}

static void wait_pulls(struct counting *b, int n)
{
    pthread_mutex_lock(&b->mu);
    while (b->waiting < n)
        pthread_cond_wait(&b->cv, &b->mu);
    pthread_mutex_unlock(&b->mu);
}

static void open_gate(struct counting *b)
{
    pthread_mutex_lock(&b->mu);
    b->gate_closed = 0;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

/* §11 row 1: N threads on a cold key prime it once and share the entry; a
 * failed prime gives every waiter the error and leaves no entry; the next
 * call retries. The same key listed twice in one federation is one shard. */
static void single_flight_priming(void **state)
{
    (void)state;
    struct ruv_lake *lake = open_lake(RUV_LAKE_FRESH, 0, 0);
    struct counting *b = counting_new(lake, "cnt");
    struct rows r = make_rows(200, 8, 3, 10, 1);
    assert_lake(ops->local_upsert(b->lb, "docs", r.ids, r.v, r.n, r.dim), RUV_OK, NULL);
    enum { N = 6 };
    for (int round = 0; round < 2; round++) {
        int fail = round == 0;
        atomic_store(&b->fail, fail);
        b->gate_closed = 1;
        b->waiting = 0;
        atomic_store(&b->pulls, 0);
        pthread_t th[N];
        struct racer rc[N];
        for (int i = 0; i < N; i++) {
            rc[i] = (struct racer){.lake = lake, .q = r.v};
            pthread_create(&th[i], NULL, race_search, &rc[i]);
        }
        wait_pulls(b, 1);
        usleep(50000); /* lets the others reach the latch; the result does not depend on it */
        open_gate(b);
        for (int i = 0; i < N; i++)
            pthread_join(th[i], NULL);
        for (int i = 0; i < N; i++) {
            if (fail) {
                assert_int_equal(rc[i].status, RUV_E_BACKEND);
            } else {
                assert_int_equal(rc[i].status, RUV_OK);
                assert_int_equal(rc[i].h[0].id, 10);
                assert_memory_equal(rc[i].h, rc[0].h, sizeof rc[0].h);
            }
        }
        /* Threads that arrived after the leader finished pull again only
         * on failure; while it ran, all waited. */
        if (!fail)
            assert_int_equal(atomic_load(&b->pulls), 1);
        char hex[65];
        const struct ruv_lake_target key = {"cnt", "docs"};
        assert_lake(ops->witness_of(lake, &key, 2, hex), fail ? RUV_E_NOTFOUND : RUV_OK, NULL);
    }
    struct ruv_lake_stats s = stats_of(lake, "cnt", "docs");
    assert_int_equal(s.primes, 1);
    assert_true(s.prime_failures >= 1);
    /* A duplicate federated target is searched once. */
    const struct ruv_lake_target t[3] = {{"cnt", "docs"}, {"cnt", "docs"}, {"cnt", "docs"}};
    struct ruv_lake_hit h[5];
    uint32_t nh;
    int before = atomic_load(&b->describes);
    const struct ruv_lake_query fq = {.struct_size = sizeof fq, .targets = t, .ntargets = 3,
                                      .queries = r.v, .nq = 1, .dim = 8, .k = 5, .hits = h,
                                      .nhits = &nh};
    assert_lake(ops->search(lake, &fq), RUV_OK, NULL);
    assert_int_equal(atomic_load(&b->describes), before + 1);
    assert_int_equal(nh, 5);
    assert_int_equal(h[0].id, 10);
    assert_int_equal(h[0].target, 0);
    free_rows(&r);
    ops->close(lake);
}

/* §11 row 4: the cache really evicts, least recently used first, counted
 * in bytes (index memory) and by entry count; a collection above the whole
 * budget fails naming both sizes. */
static void lru_evicts_by_bytes(void **state)
{
    (void)state;
    /* Learn the size of one entry first. */
    struct ruv_lake *lake = open_lake(RUV_LAKE_FRESH, 0, 0);
    struct ruv_lake_local *lb;
    assert_lake(ops->local_new(ps, "hot", &lb), RUV_OK, NULL);
    struct rows r = make_rows(1000, 16, 5, 0, 1);
    char name[16];
    for (int c = 0; c < 4; c++) {
        snprintf(name, sizeof name, "c%d", c);
        r.v[0] = (float)c; /* distinct rows, distinct v2 */
        assert_lake(ops->local_upsert(lb, name, r.ids, r.v, r.n, r.dim), RUV_OK, NULL);
    }
    register_local(lake, lb);
    struct ruv_lake_hit h[3];
    uint32_t nh;
    assert_lake(search1(lake, NULL, "c0", r.v, 16, 3, h, &nh), RUV_OK, NULL);
    uint64_t one = stats_of(lake, NULL, NULL).bytes;
    assert_true(one > 1000 * 16 * 4); /* at least the originals */
    ops->close(lake);

    /* Room for two entries and a bit. */
    lake = open_lake(RUV_LAKE_FRESH, 0, one * 2 + one / 2);
    register_local(lake, lb);
    assert_lake(search1(lake, NULL, "c0", r.v, 16, 3, h, &nh), RUV_OK, NULL);
    assert_lake(search1(lake, NULL, "c1", r.v, 16, 3, h, &nh), RUV_OK, NULL);
    assert_lake(search1(lake, NULL, "c0", r.v, 16, 3, h, &nh), RUV_OK, NULL); /* c1 is older */
    assert_lake(search1(lake, NULL, "c2", r.v, 16, 3, h, &nh), RUV_OK, NULL);
    struct ruv_lake_stats s = stats_of(lake, NULL, NULL);
    assert_true(s.bytes <= one * 2 + one / 2);
    assert_int_equal(s.entries, 2);
    assert_int_equal(s.evictions, 1);
    char hex[65];
    const struct ruv_lake_target k0 = {"hot", "c0"}, k1 = {"hot", "c1"}, k2 = {"hot", "c2"};
    assert_lake(ops->witness_of(lake, &k0, 2, hex), RUV_OK, NULL);
    assert_lake(ops->witness_of(lake, &k1, 2, hex), RUV_E_NOTFOUND, NULL);
    assert_lake(ops->witness_of(lake, &k2, 2, hex), RUV_OK, NULL);
    assert_int_equal(stats_of(lake, "hot", "c1").evictions, 1);
    /* c1 again: primed anew. */
    assert_lake(search1(lake, NULL, "c1", r.v, 16, 3, h, &nh), RUV_OK, NULL);
    assert_int_equal(stats_of(lake, "hot", "c1").primes, 2);
    ops->close(lake);

    /* A budget below one entry. */
    lake = open_lake(RUV_LAKE_FRESH, 0, one / 2);
    register_local(lake, lb);
    assert_lake(search1(lake, NULL, "c0", r.v, 16, 3, h, &nh), RUV_E_NOMEM,
                "over the whole budget");
    assert_lake(ops->witness_of(lake, &k0, 2, hex), RUV_E_NOTFOUND, NULL);
    ops->close(lake);

    /* max_entries 1: each prime evicts the other. */
    struct ruv_lake_config cfg;
    assert_lake(ops->config_init(ps, &cfg), RUV_OK, NULL);
    cfg.max_entries = 1;
    assert_lake(ops->open(ps, &cfg, &lake), RUV_OK, NULL);
    register_local(lake, lb);
    for (int i = 0; i < 4; i++)
        assert_lake(search1(lake, NULL, i % 2 ? "c1" : "c0", r.v, 16, 3, h, &nh), RUV_OK, NULL);
    s = stats_of(lake, NULL, NULL);
    assert_int_equal(s.entries, 1);
    assert_int_equal(s.evictions, 3);
    assert_int_equal(s.primes, 4);
    ops->close(lake);
    free_rows(&r);
    ops->local_release(lb);
}

/* Searchers against invalidators, savers, refreshers and warmers under a
 * budget that forces evictions: every search succeeds with the reference
 * answer (no lost or torn entry), and the books balance at the end. */
struct storm {
    struct ruv_lake *lake;
    const struct rows *r;
    const uint64_t *want; /* top id per collection */
    atomic_int stop, bad, searches, dir_rounds;
};

static void *storm_search(void *arg)
{
    struct storm *s = arg;
    char name[16];
    for (int i = 0; i < 150; i++) {
        int c = i % 4;
        snprintf(name, sizeof name, "c%d", c);
        struct ruv_lake_hit h[3];
        uint32_t nh;
        const float *q = s->r->v + (size_t)((c + 1) * 10) * s->r->dim;
        int st = search1(s->lake, NULL, name, q, s->r->dim,
                         3, h, &nh);
        if (st != RUV_OK || nh != 3 || h[0].id != s->want[c] || !(h[0].score < 1e-5f))
            atomic_fetch_add(&s->bad, 1);
        atomic_fetch_add(&s->searches, 1);
    }
    return NULL;
}

static void *storm_invalidate(void *arg)
{
    struct storm *s = arg;
    char name[16];
    for (int i = 0; !atomic_load(&s->stop); i++) {
        snprintf(name, sizeof name, "c%d", i % 4);
        const struct ruv_lake_target k = {NULL, name};
        if (ops->invalidate(s->lake, &k, NULL) != RUV_OK)
            atomic_fetch_add(&s->bad, 1);
        usleep(200);
    }
    return NULL;
}

/* Saves, refreshes and warms the four keys while the others search,
 * invalidate and evict. A save of a key not cached (NOTFOUND) and a warm
 * whose index file a concurrent save replaced (NOTFOUND) are expected;
 * anything else is counted bad. */
static void *storm_dirs(void *arg)
{
    struct storm *s = arg;
    char name[16], d[4][96];
    for (int c = 0; c < 4; c++)
        snprintf(d[c], sizeof d[c], "%s/storm-%d", dir, c);
    for (int i = 0; !atomic_load(&s->stop); i++) {
        int c = i % 4, res = -1;
        snprintf(name, sizeof name, "c%d", c);
        const struct ruv_lake_target k = {NULL, name};
        int st = ops->save_cache_to_dir(s->lake, &k, d[c], NULL);
        if (st != RUV_OK && st != RUV_E_NOTFOUND)
            atomic_fetch_add(&s->bad, 1);
        st = ops->refresh_from_bundle_dir(s->lake, &k, d[c], &res);
        if (st != RUV_OK || res == RUV_LAKE_INVALIDATED || res == RUV_LAKE_FOREIGN)
            atomic_fetch_add(&s->bad, 1);
        st = ops->refresh_from_bundle_dir(s->lake, &k, d[(c + 1) % 4], &res);
        if (st != RUV_OK || res == RUV_LAKE_INVALIDATED || res == RUV_LAKE_UP_TO_DATE)
            atomic_fetch_add(&s->bad, 1);
        uint64_t n = 0;
        st = ops->warm_from_dir(s->lake, &k, d[c], &n);
        if (st == RUV_OK ? n != 300 : (st != RUV_E_NOTFOUND))
            atomic_fetch_add(&s->bad, 1);
        atomic_fetch_add(&s->dir_rounds, 1);
    }
    return NULL;
}

static void concurrent_search_invalidate_evict(void **state)
{
    (void)state;
    struct ruv_lake *lake = open_lake(RUV_LAKE_FRESH, 0, 0);
    struct ruv_lake_local *lb;
    assert_lake(ops->local_new(ps, "hot", &lb), RUV_OK, NULL);
    struct rows r = make_rows(300, 8, 9, 0, 1);
    char name[16];
    for (int c = 0; c < 4; c++) {
        snprintf(name, sizeof name, "c%d", c);
        assert_lake(ops->local_upsert(lb, name, r.ids, r.v, r.n, r.dim), RUV_OK, NULL);
        r.v[0] += 1.0f;
    }
    register_local(lake, lb);
    struct ruv_lake_hit h[3];
    uint32_t nh;
    assert_lake(search1(lake, NULL, "c1", r.v, 8, 3, h, &nh), RUV_OK, NULL);
    uint64_t one = stats_of(lake, NULL, NULL).bytes;
    ops->close(lake);
    lake = open_lake(RUV_LAKE_FRESH, 0, one * 2 + one / 2); /* 2 of 4 fit */
    register_local(lake, lb);
    const uint64_t want[4] = {10, 20, 30, 40};
    struct storm s = {.lake = lake, .r = &r, .want = want};
    pthread_t th[7];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, storm_search, &s);
    for (int i = 4; i < 6; i++)
        pthread_create(&th[i], NULL, storm_invalidate, &s);
    pthread_create(&th[6], NULL, storm_dirs, &s);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    /* The saver/warmer finishes at least one round against the
     * invalidators before the storm stops: under valgrind, which runs one
     * thread at a time, the searchers could finish before its first round
     * (seen once in CI), which proved nothing about it. Bounded: 10 min. */
    for (int waited = 0; atomic_load(&s.dir_rounds) == 0 && waited < 600000; waited += 10)
        usleep(10000);
    atomic_store(&s.stop, 1);
    for (int i = 4; i < 7; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&s.bad), 0);
    assert_true(atomic_load(&s.dir_rounds) > 0);
    assert_int_equal(atomic_load(&s.searches), 600);
    struct ruv_lake_stats st = stats_of(lake, NULL, NULL);
    assert_true(st.bytes <= one * 2 + one / 2);
    assert_true(st.entries <= 2);
    assert_true(st.evictions > 0);
    assert_int_equal(st.hits + st.misses, 600);
    assert_int_equal(st.misses, st.primes + st.shared_hits + st.prime_failures);
    /* The books: bytes are the sum of what the keys still hold. */
    uint64_t held = 0, entries = 0;
    for (int c = 0; c < 4; c++) {
        snprintf(name, sizeof name, "c%d", c);
        struct ruv_lake_stats k = stats_of(lake, "hot", name);
        held += k.bytes;
        entries += k.entries;
    }
    assert_int_equal(held, st.bytes);
    assert_int_equal(entries, st.entries);
    free_rows(&r);
    ops->local_release(lb);
    ops->close(lake);
}

static void *fresh_search(void *arg)
{
    struct racer *r = arg;
    r->status = search1(r->lake, "cnt", "docs", r->q, 8, 5, r->h, &r->nh);
    return NULL;
}

/* §5 step 3: FRESH checks that arrive while a describe runs share the next
 * one instead of each calling the backend: six threads held behind one
 * describe make two calls, not seven (each caller still gets a describe
 * that began after it arrived, so each sees the change made meanwhile). */
static void fresh_checks_share_describes(void **state)
{
    (void)state;
    struct ruv_lake *lake = open_lake(RUV_LAKE_FRESH, 0, 0);
    struct counting *b = counting_new(lake, "cnt");
    struct rows r = make_rows(100, 8, 71, 0, 1);
    assert_lake(ops->local_upsert(b->lb, "docs", r.ids, r.v, r.n, r.dim), RUV_OK, NULL);
    struct ruv_lake_hit h[5];
    uint32_t nh;
    assert_lake(search1(lake, "cnt", "docs", r.v, 8, 5, h, &nh), RUV_OK, NULL);
    int before = atomic_load(&b->describes);
    pthread_mutex_lock(&b->mu);
    b->describe_gate_closed = 1;
    b->describe_waiting = 0;
    pthread_mutex_unlock(&b->mu);
    enum { N = 6 };
    pthread_t lead, th[N];
    struct racer first = {.lake = lake, .q = r.v}, rc[N];
    pthread_create(&lead, NULL, fresh_search, &first);
    pthread_mutex_lock(&b->mu);
    while (b->describe_waiting < 1)
        pthread_cond_wait(&b->cv, &b->mu);
    pthread_mutex_unlock(&b->mu);
    /* The leader's describe is running: change the data, then the others come. */
    r.v[0] += 50.0f;
    assert_lake(ops->local_upsert(b->lb, "docs", r.ids, r.v, 1, r.dim), RUV_OK, NULL);
    for (int i = 0; i < N; i++) {
        rc[i] = (struct racer){.lake = lake, .q = r.v};
        pthread_create(&th[i], NULL, fresh_search, &rc[i]);
    }
    usleep(100000); /* lets them reach the key; the assertions below do not depend on it */
    pthread_mutex_lock(&b->mu);
    b->describe_gate_closed = 0;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    pthread_join(lead, NULL);
    for (int i = 0; i < N; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(first.status, RUV_OK);
    for (int i = 0; i < N; i++) {
        assert_int_equal(rc[i].status, RUV_OK);
        /* They arrived after the change: their answer has the new row 0. */
        assert_int_equal(rc[i].h[0].id, 0);
        assert_true(rc[i].h[0].score < 1e-3f);
    }
    int made = atomic_load(&b->describes) - before;
    assert_true(made >= 2);
    assert_true(made < 1 + N);
    free_rows(&r);
    ops->close(lake);
}

/* submit/cancel: requests run on the pool and answer as search does;
 * a canceled queued request reports RUV_E_CANCELED, a running one
 * finishes; close waits for every request. */
struct req {
    struct ruv_lake_target t;
    struct ruv_lake_query q;
    struct ruv_lake_hit h[5];
    uint32_t nh;
    atomic_int status, done;
};

static pthread_mutex_t req_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t req_cv = PTHREAD_COND_INITIALIZER;

static void req_done(void *ctx, int status)
{
    struct req *r = ctx;
    atomic_store(&r->status, status);
    pthread_mutex_lock(&req_mu);
    atomic_store(&r->done, 1);
    pthread_cond_broadcast(&req_cv);
    pthread_mutex_unlock(&req_mu);
}

static void req_init(struct req *r, const char *coll, const float *q)
{
    memset(r, 0, sizeof *r);
    r->t = (struct ruv_lake_target){"cnt", coll};
    r->q = (struct ruv_lake_query){.struct_size = sizeof r->q, .targets = &r->t, .ntargets = 1,
                                   .queries = q, .nq = 1, .dim = 8, .k = 5, .hits = r->h,
                                   .nhits = &r->nh};
    atomic_store(&r->status, 1);
}

static void req_wait(struct req *r)
{
    pthread_mutex_lock(&req_mu);
    while (!atomic_load(&r->done))
        pthread_cond_wait(&req_cv, &req_mu);
    pthread_mutex_unlock(&req_mu);
}

static void submitted_requests(void **state)
{
    (void)state;
    struct ruv_lake *lake = open_lake(RUV_LAKE_FRESH, 0, 0);
    struct counting *b = counting_new(lake, "cnt");
    struct rows r = make_rows(200, 8, 61, 0, 1);
    assert_lake(ops->local_upsert(b->lb, "docs", r.ids, r.v, r.n, r.dim), RUV_OK, NULL);
    enum { N = 12 };
    static struct req reqs[N];
    for (int i = 0; i < N; i++) {
        req_init(&reqs[i], "docs", r.v + i * 8);
        uint64_t ticket = 0;
        assert_lake(ops->submit(lake, &reqs[i].q, req_done, &reqs[i], &ticket), RUV_OK, NULL);
        assert_true(ticket > 0);
    }
    for (int i = 0; i < N; i++) {
        req_wait(&reqs[i]);
        assert_int_equal(atomic_load(&reqs[i].status), RUV_OK);
        struct ruv_lake_hit h[5];
        uint32_t nh;
        assert_lake(search1(lake, "cnt", "docs", r.v + i * 8, 8, 5, h, &nh), RUV_OK, NULL);
        assert_int_equal(reqs[i].nh, nh);
        assert_memory_equal(reqs[i].h, h, nh * sizeof *h);
    }
    assert_int_equal(atomic_load(&b->pulls), 1);
    /* A bad request fails in done, with the search's status. */
    static struct req bad;
    req_init(&bad, "docs", r.v);
    bad.q.k = 0;
    assert_lake(ops->submit(lake, &bad.q, req_done, &bad, NULL), RUV_OK, NULL);
    req_wait(&bad);
    assert_int_equal(atomic_load(&bad.status), RUV_E_INVAL);
    assert_lake(ops->cancel(lake, 999999), RUV_E_NOTFOUND, NULL);

    /* One request held in its pull, another behind it: cancel the second. */
    assert_lake(ops->local_upsert(b->lb, "cold", r.ids, r.v, r.n, r.dim), RUV_OK, NULL);
    b->gate_closed = 1;
    b->waiting = 0;
    static struct req held, behind;
    req_init(&held, "cold", r.v);
    req_init(&behind, "cold", r.v + 8);
    uint64_t t2 = 0;
    assert_lake(ops->submit(lake, &held.q, req_done, &held, NULL), RUV_OK, NULL);
    wait_pulls(b, 1);
    assert_lake(ops->submit(lake, &behind.q, req_done, &behind, &t2), RUV_OK, NULL);
    int cst = ops->cancel(lake, t2);
    assert_true(cst == RUV_OK || cst == RUV_E_STATE || cst == RUV_E_NOTFOUND);
    open_gate(b);
    req_wait(&held);
    req_wait(&behind);
    assert_int_equal(atomic_load(&held.status), RUV_OK);
    assert_int_equal(atomic_load(&behind.status), cst == RUV_OK ? RUV_E_CANCELED : RUV_OK);

    /* close waits for every request it did not cancel. */
    static struct req last[N];
    for (int i = 0; i < N; i++) {
        req_init(&last[i], "docs", r.v + i * 8);
        assert_lake(ops->submit(lake, &last[i].q, req_done, &last[i], NULL), RUV_OK, NULL);
    }
    ops->close(lake);
    for (int i = 0; i < N; i++) {
        assert_int_equal(atomic_load(&last[i].done), 1);
        int st = atomic_load(&last[i].status);
        assert_true(st == RUV_OK || st == RUV_E_CANCELED);
    }
    free_rows(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(single_flight_priming),
        cmocka_unit_test(lru_evicts_by_bytes),
        cmocka_unit_test(concurrent_search_invalidate_evict),
        cmocka_unit_test(submitted_requests),
        cmocka_unit_test(fresh_checks_share_describes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
