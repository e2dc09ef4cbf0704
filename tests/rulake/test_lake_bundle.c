/* Bundles between lakes (rulake.md §9): publish_bundle checks the backend
 * whatever the consistency mode and writes the state it describes now;
 * another lake refreshes against the bundle, or warms from it, and then
 * answers exactly as the publisher does; a tampered bundle is refused
 * with an error naming the check. A warm cache needs no backend to be
 * searched in STALE mode. close waits for searches in progress. */
#include "config.h"

#include <sched.h>

#include "lake_cache_test.h"

enum { N = 3000, DIM = 16 };

/* A LocalBackend "hot" whose collection "docs" went through the same two
 * changes as every other made here (so generation 2 and the same rows),
 * or only the first when only_first is set (generation 1). */
static struct ruv_lake_local *hot_backend(const struct rows *r, int only_first)
{
    struct ruv_lake_local *lb;
    assert_lake(ops->local_new(ps, "hot", &lb), RUV_OK, NULL);
    assert_lake(ops->local_upsert(lb, "docs", r->ids, r->v, r->n, r->dim), RUV_OK, NULL);
    if (!only_first) {
        float changed[DIM];
        for (int d = 0; d < DIM; d++)
            changed[d] = 0.25f * (float)d;
        assert_lake(ops->local_upsert(lb, "docs", r->ids + 17, changed, 1, DIM), RUV_OK, NULL);
    }
    return lb;
}

/* k = 10 hits of 6 queries, for comparing lakes hit for hit. */
static void answers(struct ruv_lake *lake, const struct rows *r, struct ruv_lake_hit out[6][10])
{
    uint32_t nh;
    for (int i = 0; i < 6; i++) {
        assert_lake(search1(lake, "hot", "docs", r->v + (size_t)i * 97 * DIM, DIM, 10, out[i],
                            &nh),
                    RUV_OK, NULL);
        assert_int_equal(nh, 10);
    }
}

/* Replaces the first character of the value of "member": in dir's sidecar. */
static void tamper_sidecar(const char *bundle, const char *member)
{
    char path[256], buf[65536];
    snprintf(path, sizeof path, "%s/table.rulake.json", bundle);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *at = strstr(buf, member);
    assert_non_null(at);
    at = strchr(at + strlen(member), '"'); /* the value's opening quote */
    assert_non_null(at);
    at[1] = at[1] == 'a' ? 'b' : 'a';
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, n, f), n);
    fclose(f);
}

static void publish_then_refresh_elsewhere(void **state)
{
    (void)state;
    assert_true(ops->struct_size >= RUV_LAKE_OPS_SIZE_V3);
    struct rows r = make_rows(N, DIM, 5, 100, 7);
    const struct ruv_lake_target key = {"hot", "docs"};
    char *bundle = path_in("bundle"), w2[65], hex[65];
    uint64_t n = 0;
    int res = -1;

    /* The publisher is STALE and its entry is older than the backend:
     * publish checks anyway and primes the present state. */
    struct ruv_lake_local *pub_lb = hot_backend(&r, 1);
    struct ruv_lake *pub = open_lake(RUV_LAKE_STALE, 0, 0);
    register_local(pub, pub_lb);
    struct ruv_lake_hit want[6][10], got[6][10];
    answers(pub, &r, want);
    float changed[DIM];
    for (int d = 0; d < DIM; d++)
        changed[d] = 0.25f * (float)d;
    assert_lake(ops->local_upsert(pub_lb, "docs", r.ids + 17, changed, 1, DIM), RUV_OK, NULL);
    assert_lake(ops->publish_bundle(pub, &key, bundle, w2), RUV_OK, NULL);
    assert_int_equal(stats_of(pub, NULL, NULL).primes, 2);
    assert_lake(ops->witness_of(pub, &key, 2, hex), RUV_OK, NULL);
    assert_string_equal(hex, w2);
    answers(pub, &r, want);
    assert_lake(ops->publish_bundle(pub, &key, bundle, hex), RUV_OK, NULL); /* no new prime */
    assert_string_equal(hex, w2);
    assert_int_equal(stats_of(pub, NULL, NULL).primes, 2);
    assert_lake(ops->sidecar_verify(ps, bundle, NULL, 0, NULL, hex), RUV_OK, NULL);
    assert_string_equal(hex, w2);

    /* A reader on generation 1 is told to drop it; on generation 2 it is
     * up to date and answers as the publisher does. */
    struct ruv_lake_local *old_lb = hot_backend(&r, 1);
    struct ruv_lake *rd = open_lake(RUV_LAKE_FRESH, 0, 0);
    register_local(rd, old_lb);
    answers(rd, &r, got);
    assert_lake(ops->refresh_from_bundle_dir(rd, &key, bundle, &res), RUV_OK, NULL);
    assert_int_equal(res, RUV_LAKE_INVALIDATED);
    ops->close(rd);
    struct ruv_lake_local *new_lb = hot_backend(&r, 0);
    rd = open_lake(RUV_LAKE_FRESH, 0, 0);
    register_local(rd, new_lb);
    answers(rd, &r, got);
    assert_lake(ops->refresh_from_bundle_dir(rd, &key, bundle, &res), RUV_OK, NULL);
    assert_int_equal(res, RUV_LAKE_UP_TO_DATE);
    assert_memory_equal(got, want, sizeof want);
    ops->close(rd);

    /* Warm from the bundle: no pull, the same answers. */
    rd = open_lake(RUV_LAKE_FRESH, 0, 0);
    register_local(rd, new_lb);
    assert_lake(ops->warm_from_dir(rd, &key, bundle, &n), RUV_OK, NULL);
    assert_int_equal(n, N);
    answers(rd, &r, got);
    assert_memory_equal(got, want, sizeof want);
    assert_int_equal(stats_of(rd, NULL, NULL).primes, 0);

    /* Tampered: a witness digit changed. Refused, naming the check. */
    tamper_sidecar(bundle, "\"rvf_witness\":");
    assert_lake(ops->refresh_from_bundle_dir(rd, &key, bundle, &res), RUV_E_INTEGRITY,
                "table.rulake.json");
    ops->close(rd);
    rd = open_lake(RUV_LAKE_FRESH, 0, 0);
    register_local(rd, new_lb);
    assert_lake(ops->warm_from_dir(rd, &key, bundle, &n), RUV_E_INTEGRITY, "witness");
    ops->close(rd);

    ops->close(pub);
    ops->local_release(pub_lb);
    ops->local_release(old_lb);
    ops->local_release(new_lb);
    free_rows(&r);
}

/* warm_from_dir needs no backend: a STALE lake searches the warm entry
 * without one; a FRESH lake says the backend is needed to check it, until
 * the backend is registered (then the entry is checked and kept). */
static void warm_without_the_backend(void **state)
{
    (void)state;
    struct rows r = make_rows(N, DIM, 9, 1, 1);
    const struct ruv_lake_target key = {"hot", "docs"};
    char *cache = path_in("warm-cache");
    uint64_t n = 0;
    struct ruv_lake_local *lb = hot_backend(&r, 0);
    struct ruv_lake *saver = open_lake(RUV_LAKE_FRESH, 0, 0);
    register_local(saver, lb);
    struct ruv_lake_hit want[6][10], got[6][10], h[10];
    uint32_t nh;
    answers(saver, &r, want);
    assert_lake(ops->save_cache_to_dir(saver, &key, cache, NULL), RUV_OK, NULL);
    ops->close(saver);

    struct ruv_lake *stale = open_lake(RUV_LAKE_STALE, 0, 0);
    const struct ruv_lake_target unnamed = {NULL, "docs"};
    assert_lake(ops->warm_from_dir(stale, &unnamed, cache, &n), RUV_E_INVAL, "no backend named");
    assert_lake(ops->warm_from_dir(stale, &key, cache, &n), RUV_OK, NULL);
    assert_int_equal(n, N);
    answers(stale, &r, got);
    assert_memory_equal(got, want, sizeof want);
    struct ruv_lake_stats s = stats_of(stale, "hot", NULL);
    assert_int_equal(s.primes + s.misses + s.checks, 0);
    int was = 0;
    assert_lake(ops->invalidate(stale, &key, &was), RUV_OK, NULL);
    assert_int_equal(was, 1);
    assert_lake(search1(stale, "hot", "docs", r.v, DIM, 10, h, &nh), RUV_E_BACKEND,
                "only the backend can supply it");
    ops->close(stale);

    struct ruv_lake *fresh = open_lake(RUV_LAKE_FRESH, 0, 0);
    assert_lake(ops->warm_from_dir(fresh, &key, cache, &n), RUV_OK, NULL);
    assert_lake(search1(fresh, "hot", "docs", r.v, DIM, 10, h, &nh), RUV_E_BACKEND,
                "FRESH consistency checks with the backend");
    register_local(fresh, lb); /* takes the absent backend's place */
    answers(fresh, &r, got);
    assert_memory_equal(got, want, sizeof want);
    s = stats_of(fresh, "hot", NULL);
    assert_int_equal(s.primes, 0);
    assert_int_equal(s.warm_installs, 1);
    struct ruv_lake_backend again;
    assert_lake(ops->local_backend(lb, &again), RUV_OK, NULL);
    assert_lake(ops->register_backend(fresh, &again), RUV_E_INVAL, "already registered");
    again.destroy(again.state);
    ops->close(fresh);
    ops->local_release(lb);
    free_rows(&r);
}

struct held_search {
    struct ruv_lake *lake;
    const float *q;
    int status;
    uint32_t nh;
    struct ruv_lake_hit h[10];
};

static void *held_search_run(void *arg)
{
    struct held_search *hs = arg;
    hs->status = search1(hs->lake, "slow", "docs", hs->q, DIM, 10, hs->h, &hs->nh);
    return NULL;
}

struct closer {
    struct ruv_lake *lake;
    atomic_int closed;
};

static void *closer_run(void *arg)
{
    struct closer *c = arg;
    ops->close(c->lake);
    atomic_store(&c->closed, 1);
    return NULL;
}

/* close waits for a synchronous search in progress (here held in its
 * pull) instead of freeing the lake under it; calls made once close has
 * begun get RUV_E_STATE. */
static void close_waits_for_running_searches(void **state)
{
    (void)state;
    struct rows r = make_rows(500, DIM, 3, 1, 1);
    struct ruv_lake *lake = open_lake(RUV_LAKE_FRESH, 0, 0);
    struct counting *b = counting_new(lake, "slow");
    assert_lake(ops->local_put_collection(b->lb, "docs", r.ids, r.v, r.n, DIM), RUV_OK, NULL);
    pthread_mutex_lock(&b->mu);
    b->gate_closed = 1;
    pthread_mutex_unlock(&b->mu);
    struct held_search hs = {.lake = lake, .q = r.v, .status = -1};
    pthread_t searcher, closing;
    pthread_create(&searcher, NULL, held_search_run, &hs);
    pthread_mutex_lock(&b->mu);
    while (b->waiting == 0) /* the search is in its pull */
        pthread_cond_wait(&b->cv, &b->mu);
    pthread_mutex_unlock(&b->mu);
    struct closer c = {.lake = lake};
    pthread_create(&closing, NULL, closer_run, &c);
    struct ruv_lake_stats s;
    int st;
    while ((st = ops->stats(lake, NULL, &s)) == RUV_OK) /* until close has begun */
        sched_yield();
    assert_int_equal(st, RUV_E_STATE);
    assert_int_equal(atomic_load(&c.closed), 0); /* the search still holds it open */
    pthread_mutex_lock(&b->mu);
    b->gate_closed = 0;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    pthread_join(searcher, NULL);
    pthread_join(closing, NULL);
    assert_int_equal(hs.status, RUV_OK);
    assert_int_equal(hs.nh, 10);
    assert_int_equal(hs.h[0].id, r.ids[0]);
    assert_int_equal(atomic_load(&c.closed), 1);
    free_rows(&r);
}

/* A signed publish is verified with its public key and refused with
 * another; an empty collection publishes a sidecar without index, which
 * refresh reads and warm declines (nothing to load). */
static void signed_and_empty_bundles(void **state)
{
    (void)state;
    static const uint8_t priv[32] = {
        0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a,
        0xf4, 0x92, 0xec, 0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32,
        0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60};
    static const uint8_t pub[1][32] = {{
        0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe,
        0xd3, 0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6,
        0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a}};
    static const uint8_t other[1][32] = {{1, 2, 3}};
    struct rows r = make_rows(200, DIM, 13, 1, 1);
    struct ruv_lake_config cfg;
    struct ruv_lake *lake = NULL;
    assert_lake(ops->config_init(ps, &cfg), RUV_OK, NULL);
    cfg.has_signing_key = 1;
    memcpy(cfg.signing_key, priv, 32);
    assert_lake(ops->open(ps, &cfg, &lake), RUV_OK, NULL);
    struct ruv_lake_local *lb;
    assert_lake(ops->local_new(ps, "hot", &lb), RUV_OK, NULL);
    assert_lake(ops->local_put_collection(lb, "docs", r.ids, r.v, r.n, DIM), RUV_OK, NULL);
    assert_lake(ops->local_put_collection(lb, "none", NULL, NULL, 0, DIM), RUV_OK, NULL);
    register_local(lake, lb);
    const struct ruv_lake_target docs = {"hot", "docs"}, none = {"hot", "none"};
    char *signed_dir = path_in("signed"), *empty_dir = path_in("empty"), w2[65], v2[65];
    assert_lake(ops->publish_bundle(lake, &docs, signed_dir, w2), RUV_OK, NULL);
    assert_lake(ops->sidecar_verify(ps, signed_dir, pub, 1, NULL, v2), RUV_OK, NULL);
    assert_string_equal(v2, w2);
    assert_lake(ops->sidecar_verify(ps, signed_dir, other, 1, NULL, v2), RUV_E_INTEGRITY, NULL);

    assert_lake(ops->publish_bundle(lake, &none, empty_dir, w2), RUV_OK, NULL);
    assert_lake(ops->sidecar_verify(ps, empty_dir, pub, 1, NULL, v2), RUV_OK, NULL);
    assert_string_equal(v2, w2);
    int res = -1;
    assert_lake(ops->refresh_from_bundle_dir(lake, &none, empty_dir, &res), RUV_OK, NULL);
    assert_int_equal(res, RUV_LAKE_UP_TO_DATE);
    uint64_t n;
    assert_lake(ops->warm_from_dir(lake, &none, empty_dir, &n), RUV_E_UNSUPPORTED, "no");
    ops->close(lake);
    ops->local_release(lb);
    free_rows(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(publish_then_refresh_elsewhere),
        cmocka_unit_test(warm_without_the_backend),
        cmocka_unit_test(close_waits_for_running_searches),
        cmocka_unit_test(signed_and_empty_bundles),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
