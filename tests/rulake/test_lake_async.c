/* Submitted searches (ops v4): requests share a describe begun after they
 * were submitted (rulake.md §5 step 3), a host may describe and pull a
 * target itself (submit_supplied: the lake says what it needs and never
 * calls that backend), a pool thread inside a prime never runs a queued
 * search of the key it primes, and key_from_pem reads Ed25519 PEM keys. */
#include "config.h"

#include "lake_cache_test.h"

/* One submitted request and its completion. */
struct req {
    struct ruv_lake_target t;
    struct ruv_lake_query q;
    struct ruv_lake_hit hit[4];
    uint32_t nh;
    struct ruv_lake_supply sup;
    int status;
    atomic_int done;
};

static pthread_mutex_t done_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;

static void on_done(void *ctx, int status)
{
    struct req *r = ctx;
    r->status = status;
    pthread_mutex_lock(&done_mu);
    atomic_store(&r->done, 1);
    pthread_cond_broadcast(&done_cv);
    pthread_mutex_unlock(&done_mu);
}

static void wait_done(struct req *r)
{
    pthread_mutex_lock(&done_mu);
    while (!atomic_load(&r->done))
        pthread_cond_wait(&done_cv, &done_mu);
    pthread_mutex_unlock(&done_mu);
}

static void req_init(struct req *r, const char *backend, const char *coll, const float *q,
                     uint32_t dim, uint32_t k)
{
    memset(r, 0, sizeof *r);
    r->t = (struct ruv_lake_target){backend, coll};
    r->q = (struct ruv_lake_query){.struct_size = sizeof r->q, .targets = &r->t, .ntargets = 1,
                                   .queries = q, .nq = 1, .dim = dim, .k = k, .hits = r->hit,
                                   .nhits = &r->nh};
    r->sup.struct_size = sizeof r->sup;
}

static void set_describe_gate(struct counting *b, int closed)
{
    pthread_mutex_lock(&b->mu);
    b->describe_gate_closed = closed;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

/* 40 requests submitted while the first one's describe is held: each
 * arrived then, so they all share the next describe; 2 in all (the old
 * behaviour, arrival when a pool thread took the request, made about one
 * per request). */
static void queued_requests_share_a_describe(void **state)
{
    (void)state;
    struct ruv_lake *lake = open_lake(RUV_LAKE_FRESH, 0, 0);
    struct counting *b = counting_new(lake, "slow");
    struct rows r = make_rows(500, 8, 1, 10, 3);
    assert_lake(ops->local_put_collection(b->lb, "docs", r.ids, r.v, r.n, r.dim), RUV_OK, NULL);
    struct ruv_lake_hit h[1];
    uint32_t nh;
    assert_lake(search1(lake, "slow", "docs", r.v, r.dim, 1, h, &nh), RUV_OK, NULL);
    atomic_store(&b->describes, 0);
    pthread_mutex_lock(&b->mu);
    b->describe_waiting = 0;
    pthread_mutex_unlock(&b->mu);
    set_describe_gate(b, 1);

    enum { N = 40 };
    struct req *rq = calloc(N, sizeof *rq);
    req_init(&rq[0], "slow", "docs", r.v, r.dim, 1);
    assert_lake(ops->submit_supplied(lake, &rq[0].q, NULL, on_done, &rq[0], NULL), RUV_OK,
                NULL);
    pthread_mutex_lock(&b->mu); /* the first describe has begun */
    while (b->describe_waiting < 1)
        pthread_cond_wait(&b->cv, &b->mu);
    pthread_mutex_unlock(&b->mu);
    for (int i = 1; i < N; i++) {
        req_init(&rq[i], "slow", "docs", r.v + (size_t)i * r.dim, r.dim, 1);
        assert_lake(ops->submit(lake, &rq[i].q, on_done, &rq[i], NULL), RUV_OK, NULL);
    }
    set_describe_gate(b, 0);
    for (int i = 0; i < N; i++) {
        wait_done(&rq[i]);
        assert_int_equal(rq[i].status, RUV_OK);
        assert_int_equal(rq[i].nh, 1);
        assert_int_equal(rq[i].hit[0].id, r.ids[i]);
    }
    assert_int_equal(atomic_load(&b->describes), 2);
    assert_int_equal(stats_of(lake, "slow", "docs").checks, N + 1);
    free(rq);
    ops->close(lake);
    free_rows(&r);
}

/* The host describes and pulls a target itself: the lake asks for what it
 * lacks (RUV_E_MISS with needs) and never calls that backend. */
static void the_host_describes_and_pulls(void **state)
{
    (void)state;
    struct ruv_lake *lake = open_lake(RUV_LAKE_FRESH, 0, 0);
    struct counting *b = counting_new(lake, "remote");
    struct rows r = make_rows(300, 4, 2, 7, 2);
    assert_lake(ops->local_put_collection(b->lb, "docs", r.ids, r.v, r.n, r.dim), RUV_OK, NULL);
    struct req q;
    req_init(&q, "remote", "docs", r.v + 5 * r.dim, r.dim, 2);
    q.sup.flags = RUV_LAKE_SUPPLY_DESCRIBE | RUV_LAKE_SUPPLY_PULL;

    /* 1: no description: the lake needs one; nothing was checked. */
    assert_lake(ops->submit_supplied(lake, &q.q, &q.sup, on_done, &q, NULL), RUV_OK, NULL);
    wait_done(&q);
    assert_int_equal(q.status, RUV_E_MISS);
    assert_int_equal(q.sup.needs, RUV_LAKE_SUPPLY_DESCRIBE);
    assert_int_equal(stats_of(lake, "remote", "docs").checks, 0);

    /* 2: the host's description; no rows cached: the lake needs rows. */
    struct ruv_lake_desc d = {.struct_size = sizeof d};
    assert_ok(b->inner.describe(b->inner.state, "docs", &d));
    q.sup.desc = &d;
    atomic_store(&q.done, 0);
    assert_lake(ops->submit_supplied(lake, &q.q, &q.sup, on_done, &q, NULL), RUV_OK, NULL);
    wait_done(&q);
    assert_int_equal(q.status, RUV_E_MISS);
    assert_int_equal(q.sup.needs, RUV_LAKE_SUPPLY_PULL);

    /* 3: the host's rows: primed from them, searched. */
    struct ruv_lake_batch bt = {.struct_size = sizeof bt, .desc.struct_size = sizeof bt.desc};
    assert_ok(b->inner.pull(b->inner.state, "docs", &bt));
    q.sup.batch = &bt;
    atomic_store(&q.done, 0);
    assert_lake(ops->submit_supplied(lake, &q.q, &q.sup, on_done, &q, NULL), RUV_OK, NULL);
    wait_done(&q);
    assert_int_equal(q.status, RUV_OK);
    assert_int_equal(q.sup.needs, 0);
    assert_int_equal(q.hit[0].id, r.ids[5]);
    if (bt.release)
        bt.release(bt.owner); /* the host's: the lake never releases a supplied pull */

    /* 4: cached now: a description alone hits. */
    q.sup.batch = NULL;
    atomic_store(&q.done, 0);
    assert_lake(ops->submit_supplied(lake, &q.q, &q.sup, on_done, &q, NULL), RUV_OK, NULL);
    wait_done(&q);
    assert_int_equal(q.status, RUV_OK);
    struct ruv_lake_stats s = stats_of(lake, "remote", "docs");
    assert_int_equal(s.primes, 1);
    assert_int_equal(s.hits, 1);
    assert_int_equal(atomic_load(&b->describes), 0); /* the backend was never called */
    assert_int_equal(atomic_load(&b->pulls), 0);

    /* A description unlike the rows given: the pull's own description
     * names the entry; a dim unlike the query's is refused first. */
    struct ruv_lake_desc bad = d;
    bad.dim = 3;
    q.sup.desc = &bad;
    atomic_store(&q.done, 0);
    assert_lake(ops->submit_supplied(lake, &q.q, &q.sup, on_done, &q, NULL), RUV_OK, NULL);
    wait_done(&q);
    assert_int_equal(q.status, RUV_E_DIM);

    /* Bad supplies are refused at submit. */
    struct ruv_lake_supply old = q.sup;
    old.struct_size = 8;
    assert_lake(ops->submit_supplied(lake, &q.q, &old, on_done, &q, NULL), RUV_E_INVAL,
                "struct_size");
    old = q.sup;
    old.flags = 8;
    assert_lake(ops->submit_supplied(lake, &q.q, &old, on_done, &q, NULL), RUV_E_INVAL,
                "unknown flags");
    ops->close(lake);
    free_rows(&r);
}

/* 200 requests on a cold key whose build runs on the pool: a pool thread
 * waiting for its build's helpers runs queued work; a queued search of the
 * key it primes must not run there (it would wait for itself). */
static void cold_key_under_many_requests(void **state)
{
    (void)state;
    struct ruv_lake_config cfg;
    struct ruv_lake *lake = NULL;
    assert_lake(ops->config_init(ps, &cfg), RUV_OK, NULL);
    cfg.bits = 1;
    cfg.nlist = 64; /* k-means on the pool */
    assert_lake(ops->open(ps, &cfg, &lake), RUV_OK, NULL);
    struct counting *b = counting_new(lake, "cold");
    struct rows r = make_rows(20000, 16, 3, 1, 1);
    assert_lake(ops->local_put_collection(b->lb, "docs", r.ids, r.v, r.n, r.dim), RUV_OK, NULL);
    /* The first request leads the prime alone (its pull held until it
     * began); the others arrive while its build runs, queued behind the
     * build's helper slots, where the leader waiting for a helper would
     * take them. */
    enum { N = 200 };
    struct req *rq = calloc(N, sizeof *rq);
    pthread_mutex_lock(&b->mu);
    b->gate_closed = 1;
    pthread_mutex_unlock(&b->mu);
    for (int i = 0; i < N; i++) {
        req_init(&rq[i], "cold", "docs", r.v + (size_t)i * r.dim, r.dim, 1);
        assert_lake(ops->submit(lake, &rq[i].q, on_done, &rq[i], NULL), RUV_OK, NULL);
        if (i == 0) {
            pthread_mutex_lock(&b->mu);
            while (b->waiting < 1)
                pthread_cond_wait(&b->cv, &b->mu);
            b->gate_closed = 0;
            pthread_cond_broadcast(&b->cv);
            pthread_mutex_unlock(&b->mu);
        }
        usleep(200);
    }
    for (int i = 0; i < N; i++) {
        wait_done(&rq[i]);
        assert_int_equal(rq[i].status, RUV_OK);
        assert_int_equal(rq[i].hit[0].id, r.ids[i]);
    }
    assert_int_equal(stats_of(lake, "cold", "docs").primes, 1);
    assert_int_equal(atomic_load(&b->pulls), 1);
    free(rq);
    ops->close(lake);
    free_rows(&r);
}

/* RFC 8032 test 1 as PEM: SubjectPublicKeyInfo and PKCS#8. */
static const char pub_pem[] = "-----BEGIN PUBLIC KEY-----\n"
                              "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
                              "-----END PUBLIC KEY-----\n";
static const char priv_pem[] = "-----BEGIN PRIVATE KEY-----\n"
                               "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
                               "-----END PRIVATE KEY-----\n";
static const char rsa_pem[] = "-----BEGIN PUBLIC KEY-----\n"
                              "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC+xVIohKc8PReu0n+EZbH5TUEv\n"
                              "VsTQJcHM/KBnVKfrFVfZRcuhqtMX1sxZh5DPTfoGWVPk7GD2HJxhIBcWhqzubpRq\n"
                              "HT+kQcuRYr1M04ytIUd6oPi8KW3sxfQo/t3GwHj/i+JF1Veb+0ez/c9y5k8skI74\n"
                              "7V4JMDmeKuCOdKv7kQIDAQAB\n"
                              "-----END PUBLIC KEY-----\n";

static void pem_keys(void **state)
{
    (void)state;
    uint8_t raw[32], want[32];
    assert_lake(ops->key_from_pem(ps, pub_pem, strlen(pub_pem), 0, raw), RUV_OK, NULL);
    unhex_or_die(rfc8032_pub, want, 32);
    assert_memory_equal(raw, want, 32);
    assert_lake(ops->key_from_pem(ps, priv_pem, strlen(priv_pem), 1, raw), RUV_OK, NULL);
    unhex_or_die(rfc8032_priv, want, 32);
    assert_memory_equal(raw, want, 32);

    memset(raw, 0xAA, sizeof raw);
    assert_lake(ops->key_from_pem(ps, priv_pem, strlen(priv_pem), 0, raw), RUV_E_INVAL,
                "a private key where a public key");
    assert_lake(ops->key_from_pem(ps, pub_pem, strlen(pub_pem), 1, raw), RUV_E_INVAL,
                "a public key where the private");
    assert_lake(ops->key_from_pem(ps, rsa_pem, strlen(rsa_pem), 0, raw), RUV_E_INVAL,
                "holds an RSA key, not Ed25519");
    static const char enc[] = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAA==\n"
                              "-----END ENCRYPTED PRIVATE KEY-----\n";
    assert_lake(ops->key_from_pem(ps, enc, strlen(enc), 1, raw), RUV_E_INVAL, "encrypted");
    static const char junk[] = "-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n";
    assert_lake(ops->key_from_pem(ps, junk, strlen(junk), 0, raw), RUV_E_INVAL, "malformed");
    assert_lake(ops->key_from_pem(ps, "hello", 5, 0, raw), RUV_E_INVAL, "no -----BEGIN line");
    /* a truncated BEGIN line, cut anywhere */
    for (size_t n = 0; n < 30; n++)
        assert_int_not_equal(ops->key_from_pem(ps, pub_pem, n, 0, raw), RUV_OK);
    uint8_t untouched[32];
    memset(untouched, 0xAA, sizeof untouched);
    assert_memory_equal(raw, untouched, 32); /* written only on success */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(queued_requests_share_a_describe),
        cmocka_unit_test(the_host_describes_and_pulls),
        cmocka_unit_test(cold_key_under_many_requests),
        cmocka_unit_test(pem_keys),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
