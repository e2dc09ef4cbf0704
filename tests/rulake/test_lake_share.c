/* LocalBackend pulls share the backend's rows instead of copying them
 * (backend_local.c): a change after a pull makes new rows and leaves the
 * pulled ones as they were, a lake that still holds the old entry keeps
 * answering from it, and the rows are freed with their last holder
 * (valgrind and ASan see a use after free or a leak here). The prime that
 * trusts the LocalBackend's digest gives the same index, hit for hit, as
 * the checking prime of any other backend over the same rows. Two keys
 * over the same rows primed at once build one index. */
#include "config.h"

#include <pthread.h>
#include <string.h>

#include "lake_cache_test.h"

enum { DIM = 16, N = 3000 };

static void hit_of(struct ruv_lake *lake, const float *q, uint64_t *id, float *score)
{
    struct ruv_lake_hit h[1];
    uint32_t nh = 0;
    assert_lake(search1(lake, "hot", "docs", q, DIM, 1, h, &nh), RUV_OK, NULL);
    assert_int_equal(nh, 1);
    *id = h[0].id;
    *score = h[0].score;
}

static void pulled_rows_outlive_changes(void **state)
{
    (void)state;
    struct ruv_lake *fresh = open_lake(RUV_LAKE_FRESH, 0, 0);
    struct ruv_lake *stale = open_lake(RUV_LAKE_STALE, 0, 0);
    struct ruv_lake_local *lb;
    struct rows r = make_rows(N, DIM, 11, 100, 2);
    assert_lake(ops->local_new(ps, "hot", &lb), RUV_OK, NULL);
    assert_lake(ops->local_upsert(lb, "docs", r.ids, r.v, N, DIM), RUV_OK, NULL);
    register_local(fresh, lb);
    register_local(stale, lb);
    const float *q = r.v + 5 * DIM; /* row 5 itself: its own nearest */
    uint64_t id;
    float score;
    hit_of(fresh, q, &id, &score);
    assert_int_equal(id, r.ids[5]);
    hit_of(stale, q, &id, &score);
    assert_int_equal(id, r.ids[5]);

    /* Delete rows 0..9: FRESH primes the new rows, STALE keeps the entry
     * built from the rows it pulled before. */
    uint64_t removed = 0;
    assert_lake(ops->local_delete(lb, "docs", r.ids, 10, &removed), RUV_OK, NULL);
    assert_int_equal(removed, 10);
    hit_of(fresh, q, &id, &score);
    assert_true(id != r.ids[5]);
    assert_true(score > 0.0f);
    hit_of(stale, q, &id, &score);
    assert_int_equal(id, r.ids[5]);
    assert_true(score == 0.0f);

    /* Row 5 back with other values: FRESH sees them, STALE still does not. */
    float moved[DIM];
    for (int d = 0; d < DIM; d++)
        moved[d] = q[d] + 1.0f;
    assert_lake(ops->local_upsert(lb, "docs", &r.ids[5], moved, 1, DIM), RUV_OK, NULL);
    hit_of(fresh, moved, &id, &score);
    assert_int_equal(id, r.ids[5]);
    assert_true(score == 0.0f);
    hit_of(stale, q, &id, &score);
    assert_int_equal(id, r.ids[5]);
    assert_true(score == 0.0f);
    assert_int_equal(stats_of(fresh, "hot", "docs").primes, 3);
    assert_int_equal(stats_of(stale, "hot", "docs").primes, 1);

    /* The backend goes; the lakes' entries do not need its rows. */
    ops->local_release(lb);
    hit_of(stale, q, &id, &score);
    assert_int_equal(id, r.ids[5]);
    free_rows(&r);
    ops->close(fresh);
    ops->close(stale);
}

/* The same rows through the plugin's LocalBackend (digest trusted, rows
 * built as pulled) and through a wrapper the lake does not know (rows
 * checked and hashed on the pool): the same witness and the same hits. */
static void trusted_and_checked_primes_agree(void **state)
{
    (void)state;
    struct ruv_lake *a = open_lake(RUV_LAKE_FRESH, 0, 0);
    struct ruv_lake *b = open_lake(RUV_LAKE_FRESH, 0, 0);
    struct rows r = make_rows(40000, DIM, 5, 1, 3); /* three leaves of 16,384 rows */
    struct ruv_lake_local *lb;
    assert_lake(ops->local_new(ps, "hot", &lb), RUV_OK, NULL);
    assert_lake(ops->local_upsert(lb, "docs", r.ids, r.v, r.n, DIM), RUV_OK, NULL);
    register_local(a, lb);
    struct counting *c = counting_over(b, "hot", lb);
    uint64_t seed = 3;
    float q[DIM];
    for (int i = 0; i < 20; i++) {
        for (int d = 0; d < DIM; d++)
            q[d] = frand(&seed);
        struct ruv_lake_hit ha[10], hb[10];
        uint32_t na = 0, nb = 0;
        assert_lake(search1(a, "hot", "docs", q, DIM, 10, ha, &na), RUV_OK, NULL);
        assert_lake(search1(b, "hot", "docs", q, DIM, 10, hb, &nb), RUV_OK, NULL);
        assert_int_equal(na, 10);
        assert_int_equal(nb, na);
        assert_memory_equal(ha, hb, na * sizeof *ha);
    }
    char wa[65], wb[65];
    const struct ruv_lake_target t = {"hot", "docs"};
    assert_lake(ops->witness_of(a, &t, 2, wa), RUV_OK, NULL);
    assert_lake(ops->witness_of(b, &t, 2, wb), RUV_OK, NULL);
    assert_string_equal(wa, wb);
    assert_int_equal(atomic_load(&c->pulls), 1);
    free_rows(&r);
    ops->close(a);
    ops->close(b);
    ops->local_release(lb);
}

/* Builds are single-flight per v2 (rulake.md §7): two keys whose rows are
 * the same (two backend names over one LocalBackend: one data_ref, one
 * generation, one digest) primed at once build one index; the second
 * waits for the first's build and shares it (shared_hits), with the
 * lake's parameters given and planned, over rounds of changed rows. */
struct sharer {
    struct ruv_lake *lake;
    const char *backend;
    const float *q;
    int status;
    struct ruv_lake_hit h[5];
    uint32_t nh;
};

static void *share_search(void *arg)
{
    struct sharer *s = arg;
    s->status = search1(s->lake, s->backend, "docs", s->q, 16, 5, s->h, &s->nh);
    return NULL;
}

static void set_gate(struct counting *b, int closed)
{
    pthread_mutex_lock(&b->mu);
    b->gate_closed = closed;
    b->waiting = 0;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

static void wait_pull(struct counting *b)
{
    pthread_mutex_lock(&b->mu);
    while (b->waiting < 1)
        pthread_cond_wait(&b->cv, &b->mu);
    pthread_mutex_unlock(&b->mu);
}

static void identical_rows_build_once(void **state)
{
    (void)state;
    enum { ROUNDS = 3, SN = 6000, SD = 16 };
    for (int planned = 0; planned < 2; planned++) {
        struct ruv_lake_config cfg;
        struct ruv_lake *lake = NULL;
        assert_lake(ops->config_init(ps, &cfg), RUV_OK, NULL);
        cfg.consistency = RUV_LAKE_FRESH;
        if (!planned) {
            cfg.bits = 1;
            cfg.nlist = 0;
        }
        assert_lake(ops->open(ps, &cfg, &lake), RUV_OK, NULL);
        struct ruv_lake_local *lb;
        assert_lake(ops->local_new(ps, "hot", &lb), RUV_OK, NULL);
        struct counting *a = counting_over(lake, "a", lb), *b = counting_over(lake, "b", lb);
        struct rows r = make_rows(SN, SD, 17, 1, 1);
        for (int round = 0; round < ROUNDS; round++) {
            r.v[round] += 1.0f; /* new rows each round: both keys miss */
            assert_lake(ops->local_upsert(lb, "docs", r.ids, r.v, SN, SD), RUV_OK, NULL);
            set_gate(a, 1);
            set_gate(b, 1);
            struct sharer sa = {lake, "a", r.v + 9 * SD, -1, {{0}}, 0};
            struct sharer sb = {lake, "b", r.v + 9 * SD, -1, {{0}}, 0};
            pthread_t ta, tb;
            assert_int_equal(pthread_create(&ta, NULL, share_search, &sa), 0);
            assert_int_equal(pthread_create(&tb, NULL, share_search, &sb), 0);
            wait_pull(a); /* both primes hold their pulls: they build at once */
            wait_pull(b);
            set_gate(a, 0);
            set_gate(b, 0);
            pthread_join(ta, NULL);
            pthread_join(tb, NULL);
            assert_int_equal(sa.status, RUV_OK);
            assert_int_equal(sb.status, RUV_OK);
            assert_int_equal(sa.h[0].id, r.ids[9]);
            assert_memory_equal(sa.h, sb.h, sizeof sa.h);
        }
        struct ruv_lake_stats sa = stats_of(lake, "a", "docs"), sb = stats_of(lake, "b", "docs");
        assert_int_equal(sa.primes + sb.primes, ROUNDS);
        assert_int_equal(sa.shared_hits + sb.shared_hits, ROUNDS);
        assert_int_equal(sa.misses + sb.misses, 2 * ROUNDS);
        assert_int_equal(stats_of(lake, NULL, NULL).entries, 1);
        char wa[65], wb[65];
        const struct ruv_lake_target ka = {"a", "docs"}, kb = {"b", "docs"};
        assert_lake(ops->witness_of(lake, &ka, 2, wa), RUV_OK, NULL);
        assert_lake(ops->witness_of(lake, &kb, 2, wb), RUV_OK, NULL);
        assert_string_equal(wa, wb);
        free_rows(&r);
        ops->close(lake);
        ops->local_release(lb);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pulled_rows_outlive_changes),
        cmocka_unit_test(trusted_and_checked_primes_agree),
        cmocka_unit_test(identical_rows_build_once),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
