/* The lake (feature-lake.h version 2) through a loaded `rulake` plugin:
 * LocalBackend and FsBackend, coherence per mode, invalidate, federation
 * (merge, per-target errors, partial, dedupe) and statistics, with a test
 * per rulake.md §11 row it covers, each written so that ruvector's
 * behaviour there would fail it. Single-flight, eviction and concurrency:
 * test_lake_evict.c. */
#include "config.h"

#include "lake_cache_test.h"

/* ---- tests ---- */

static void config_is_checked(void **state)
{
    (void)state;
    struct ruv_lake_config cfg;
    struct ruv_lake *lake = NULL;
    assert_lake(ops->config_init(ps, &cfg), RUV_OK, NULL);
    assert_int_equal(cfg.rerank_factor, 20);
    assert_int_equal(cfg.rotation_seed, 42);
    assert_int_equal(cfg.consistency, RUV_LAKE_FRESH);
    assert_true(cfg.max_bytes > 0);
    cfg.ttl_ms = 5;
    assert_lake(ops->open(ps, &cfg, &lake), RUV_E_INVAL, "only with EVENTUAL");
    assert_null(lake);
    cfg.ttl_ms = 0;
    cfg.rotation_seed = UINT64_C(1) << 63;
    assert_lake(ops->open(ps, &cfg, &lake), RUV_E_INVAL, "rotation_seed");
    cfg.rotation_seed = 42;
    lake = open_lake(RUV_LAKE_FRESH, 0, 0);
    struct ruv_lake_local *lb;
    assert_lake(ops->local_new(ps, "bad name", &lb), RUV_E_INVAL, "[A-Za-z0-9._-]");
    assert_lake(ops->local_new(ps, "hot", &lb), RUV_OK, NULL);
    register_local(lake, lb);
    struct ruv_lake_backend b2;
    assert_lake(ops->local_backend(lb, &b2), RUV_OK, NULL);
    assert_lake(ops->register_backend(lake, &b2), RUV_E_INVAL, "already registered");
    b2.destroy(b2.state); /* refused: still ours */
    ops->local_release(lb);
    ops->close(lake);
}

/* §6.4's rows in a LocalBackend named hot-shard: the entry's witnesses are
 * the spec's v1 and v2. */
static void local_backend_witnesses_match_the_spec(void **state)
{
    (void)state;
    struct ruv_lake *lake = open_lake(RUV_LAKE_FRESH, 0, 0);
    struct ruv_lake_local *lb;
    assert_lake(ops->local_new(ps, "hot-shard", &lb), RUV_OK, NULL);
    static const uint64_t ids[4] = {99, 2000, 42, 7};
    static const float rows[16] = {-1, -2, -3, -4, 8, 16, 32, 64, 0.5f, -0.5f, 0.25f, -0.25f,
                                   1, 2, 3, 4};
    assert_lake(ops->local_upsert(lb, "docs", ids, rows, 4, 4), RUV_OK, NULL);
    register_local(lake, lb);
    char hex[65];
    const struct ruv_lake_target key = {"hot-shard", "docs"};
    assert_lake(ops->witness_of(lake, &key, 2, hex), RUV_E_NOTFOUND, "not cached");
    struct ruv_lake_hit h[4];
    uint32_t nh;
    const float q[4] = {1, 2, 3, 4};
    assert_lake(search1(lake, NULL, "docs", q, 4, 4, h, &nh), RUV_OK, NULL);
    assert_int_equal(nh, 4);
    assert_int_equal(h[0].id, 7);
    assert_true(h[0].score == 0.0f);
    assert_lake(ops->witness_of(lake, &key, 1, hex), RUV_OK, NULL);
    assert_string_equal(hex, "cfbc83a2e5561551db0843faa85b920d5bb6fa01f6b7190c61e32db7b9b0d365");
    assert_lake(ops->witness_of(lake, &key, 2, hex), RUV_OK, NULL);
    assert_string_equal(hex, "2f92ba472c8cd0a4dd6274fc67857aa0d567096be766d20148d0ea132dae1076");
    ops->local_release(lb);
    ops->close(lake);
}

/* The lake's default parameters are the engine's plan, per collection; v2
 * covers the values the plan chose (P = bits and nlist of the built index),
 * and the spec's fixed values stay reachable: bits 1, nlist 0. */
static void planned_parameters_are_witnessed(void **state)
{
    (void)state;
    const uint32_t dim = 16;
    struct rows r = make_rows(24000, dim, 11, 1, 1); /* n >= 20000: the plan takes IVF */
    struct ruv_lake_local *lb;
    assert_lake(ops->local_new(ps, "hot", &lb), RUV_OK, NULL);
    assert_lake(ops->local_put_collection(lb, "docs", r.ids, r.v, r.n, dim), RUV_OK, NULL);
    ruv_index_params p;
    ruv_index *idx;
    assert_int_equal(ruv_index_params_init(&p, RUV_INDEX_RABITQ_PLUS, RUV_METRIC_L2, dim), 0);
    assert_lake(ruv_index_build(eng, &p, r.v, r.n, r.ids, &idx), RUV_OK, NULL);
    const ruv_index_params *built = ruv_index_params_get(idx);
    assert_true(built->nlist > 0);
    for (int fixed = 0; fixed < 2; fixed++) {
        struct ruv_lake_config cfg;
        struct ruv_lake *lake = NULL;
        assert_lake(ops->config_init(ps, &cfg), RUV_OK, NULL);
        assert_int_equal(cfg.bits, RUV_INDEX_AUTO);
        assert_int_equal(cfg.nlist, RUV_INDEX_AUTO);
        if (fixed) {
            cfg.bits = 1;
            cfg.nlist = 0;
        }
        assert_lake(ops->open(ps, &cfg, &lake), RUV_OK, NULL);
        register_local(lake, lb);
        struct ruv_lake_hit h[10];
        uint32_t nh;
        assert_lake(search1(lake, "hot", "docs", r.v, dim, 10, h, &nh), RUV_OK, NULL);
        assert_int_equal(h[0].id, r.ids[0]);
        const struct ruv_lake_witness_in w = {sizeof w, 0, "local://hot/docs", 16, dim, 42, 20,
                                              1, NULL, 0};
        const struct ruv_lake_index_params ip = {sizeof ip, fixed ? 1 : built->bits, "l2",
                                                 fixed ? 0 : built->nlist};
        char want[65], got[65];
        assert_lake(ops->witness_v2(ps, &w, &ip, r.ids, r.v, r.n, want, NULL), RUV_OK, NULL);
        const struct ruv_lake_target key = {"hot", "docs"};
        assert_lake(ops->witness_of(lake, &key, 2, got), RUV_OK, NULL);
        assert_string_equal(got, want);
        ops->close(lake);
    }
    ruv_index_free(idx);
    ops->local_release(lb);
    free_rows(&r);
}

/* test_register_search_local, scaled down: the lake's hits are those of a
 * RabitqPlusIndex built directly from the same rows in id order with the
 * same parameters, ids and score bits. */
static void search_equals_a_direct_index(void **state)
{
    (void)state;
    struct ruv_lake *lake = open_lake(RUV_LAKE_FRESH, 0, 0);
    struct ruv_lake_local *lb;
    const uint32_t dim = 32;
    struct rows r = make_rows(3000, dim, 7, 5, 3);
    assert_lake(ops->local_new(ps, "hot", &lb), RUV_OK, NULL);
    /* Put in two halves, out of order: the lake sorts by id. */
    assert_lake(ops->local_upsert(lb, "docs", r.ids + 1500, r.v + 1500 * dim, 1500, dim), RUV_OK,
                NULL);
    assert_lake(ops->local_upsert(lb, "docs", r.ids, r.v, 1500, dim), RUV_OK, NULL);
    register_local(lake, lb);
    ruv_index_params p;
    ruv_index *idx;
    assert_int_equal(ruv_index_params_init(&p, RUV_INDEX_RABITQ_PLUS, RUV_METRIC_L2, dim), 0);
    /* The lake's defaults: bits and nlist left to the engine's plan. */
    p.seed = 42;
    p.rerank_factor = 20;
    assert_lake(ruv_index_build(eng, &p, r.v, r.n, r.ids, &idx), RUV_OK, NULL);
    uint64_t seed = 99;
    const uint32_t k = 10, nq = 8;
    float q[8 * 32];
    for (uint32_t i = 0; i < nq * dim; i++)
        q[i] = frand(&seed);
    ruv_search_params sp;
    ruv_search_params_init(&sp, k);
    sp.rerank_factor = 20;
    struct ruv_lake_hit h[8 * 10];
    uint32_t nh[8];
    for (uint32_t i = 0; i < nq; i++) {
        uint64_t ids[10];
        float sc[10];
        size_t nf;
        assert_lake(ruv_index_search(idx, q + i * dim, &sp, ids, sc, &nf), RUV_OK, NULL);
        assert_lake(search1(lake, "hot", "docs", q + i * dim, dim, k, h, nh), RUV_OK, NULL);
        assert_int_equal(nh[0], nf);
        for (size_t j = 0; j < nf; j++) {
            assert_int_equal(h[j].id, ids[j]);
            assert_memory_equal(&h[j].score, &sc[j], sizeof(float));
        }
    }
    /* search_batch: one coherence check, the same hits as one by one. */
    struct ruv_lake_stats before = stats_of(lake, "hot", "docs");
    const struct ruv_lake_target t = {"hot", "docs"};
    const struct ruv_lake_query bq = {.struct_size = sizeof bq, .targets = &t, .ntargets = 1,
                                      .queries = q, .nq = nq, .dim = dim, .k = k, .hits = h,
                                      .nhits = nh};
    assert_lake(ops->search(lake, &bq), RUV_OK, NULL);
    struct ruv_lake_stats after = stats_of(lake, "hot", "docs");
    assert_int_equal(after.checks - before.checks, 1);
    for (uint32_t i = 0; i < nq; i++) {
        struct ruv_lake_hit one[10];
        uint32_t n1;
        assert_lake(search1(lake, "hot", "docs", q + i * dim, dim, k, one, &n1), RUV_OK, NULL);
        assert_int_equal(n1, nh[i]);
        assert_memory_equal(one, h + i * k, n1 * sizeof *one);
    }
    assert_int_equal(after.primes, 1);
    assert_int_equal(after.misses, 1);
    ruv_index_free(idx);
    free_rows(&r);
    ops->local_release(lb);
    ops->close(lake);
}

/* §11 row 9 (k = 0 gave one hit; a wrong query length primed first) and
 * row 8 (the batch dim was never compared): both are refused before any
 * pull, and k = 0 before any backend call at all. */
static void bad_queries_never_pull(void **state)
{
    (void)state;
    struct ruv_lake *lake = open_lake(RUV_LAKE_FRESH, 0, 0);
    struct counting *b = counting_new(lake, "cnt");
    struct rows r = make_rows(50, 8, 1, 0, 1);
    assert_lake(ops->local_upsert(b->lb, "docs", r.ids, r.v, r.n, r.dim), RUV_OK, NULL);
    struct ruv_lake_hit h[4];
    uint32_t nh;
    float q[9] = {0};
    assert_lake(search1(lake, "cnt", "docs", q, 8, 0, h, &nh), RUV_E_INVAL, "k must be >= 1");
    assert_int_equal(atomic_load(&b->describes), 0);
    assert_lake(search1(lake, "cnt", "docs", q, 9, 4, h, &nh), RUV_E_DIM, "has dim 8");
    assert_int_equal(atomic_load(&b->pulls), 0);
    assert_lake(search1(lake, "nope", "docs", q, 8, 4, h, &nh), RUV_E_NOTFOUND,
                "unknown backend 'nope'");
    assert_lake(search1(lake, "cnt", "nothing", q, 8, 4, h, &nh), RUV_E_NOTFOUND,
                "backend 'cnt' collection 'nothing'");
    q[0] = NAN;
    assert_lake(search1(lake, "cnt", "docs", q, 8, 4, h, &nh), RUV_E_INVAL, "not finite");
    q[0] = 0;
    assert_int_equal(atomic_load(&b->pulls), 0);
    assert_lake(search1(lake, "cnt", "docs", q, 8, 4, h, &nh), RUV_OK, NULL);
    assert_int_equal(nh, 4);
    assert_int_equal(atomic_load(&b->pulls), 1);
    /* Cached now: a wrong length is still refused, and pulls nothing. */
    assert_lake(search1(lake, "cnt", "docs", q, 7, 4, h, &nh), RUV_E_DIM, "the query has 7");
    assert_int_equal(atomic_load(&b->pulls), 1);
    /* k > n gives n hits. */
    struct ruv_lake_hit many[64];
    assert_lake(search1(lake, "cnt", "docs", q, 8, 64, many, &nh), RUV_OK, NULL);
    assert_int_equal(nh, 50);
    /* NO_PRIME on a key that would need a pull: a miss, no pull. */
    assert_lake(ops->local_upsert(b->lb, "docs", r.ids, r.v, 1, r.dim), RUV_OK, NULL);
    const struct ruv_lake_target t = {"cnt", "docs"};
    const struct ruv_lake_query np = {.struct_size = sizeof np, .flags = RUV_LAKE_NO_PRIME,
                                      .targets = &t, .ntargets = 1, .queries = q, .nq = 1,
                                      .dim = 8, .k = 4, .hits = h, .nhits = &nh};
    r.v[0] += 1.0f; /* a real change: generation and digest move */
    assert_lake(ops->local_upsert(b->lb, "docs", r.ids, r.v, 1, r.dim), RUV_OK, NULL);
    assert_lake(ops->search(lake, &np), RUV_E_MISS, "priming was not allowed");
    assert_int_equal(atomic_load(&b->pulls), 1);
    free_rows(&r);
    ops->close(lake);
}

/* §11 row 9: ties ordered by id, in one collection and across shards. */
/* The per-call paths that no longer format anything on success (session
 * 9): a successful search leaves the thread's last error as it was (the
 * backend lookup used to write "unknown backend" before finding it); the
 * non-finite check names the first bad component of any row; LocalBackend's
 * data_ref, now put together by hand, keeps its length limit exactly
 * ("local://" + backend + "/" + collection < 4096 bytes). */
static void search_details_and_local_data_ref(void **state)
{
    (void)state;
    struct ruv_lake *lake = open_lake(RUV_LAKE_FRESH, 0, 0);
    struct ruv_lake_local *lb;
    assert_lake(ops->local_new(ps, "hot-shard", &lb), RUV_OK, NULL);
    register_local(lake, lb);
    struct rows r = make_rows(20, 4, 3, 0, 1);
    const size_t fits = 4095 - strlen("local://hot-shard/");
    char *name = malloc(fits + 2);
    assert_non_null(name);
    memset(name, 'c', fits + 1);
    name[fits + 1] = '\0';                  /* one byte too long */
    assert_lake(ops->local_upsert(lb, name, r.ids, r.v, r.n, r.dim), RUV_OK, NULL);
    struct ruv_lake_hit h[3];
    uint32_t nh;
    float q[8] = {0};
    assert_lake(search1(lake, "hot-shard", name, q, 4, 3, h, &nh), RUV_E_BACKEND,
                "describe: collection name too long for a data_ref");
    name[fits] = '\0';                      /* the longest that fits */
    assert_lake(ops->local_upsert(lb, name, r.ids, r.v, r.n, r.dim), RUV_OK, NULL);
    assert_lake(search1(lake, "hot-shard", name, q, 4, 3, h, &nh), RUV_OK, NULL);
    assert_int_equal(nh, 3);
    char hex[65];
    const struct ruv_lake_target key = {"hot-shard", name};
    assert_lake(ops->witness_of(lake, &key, 1, hex), RUV_OK, NULL);

    assert_lake(search1(lake, "nope", name, q, 4, 3, h, &nh), RUV_E_NOTFOUND,
                "unknown backend 'nope'");
    assert_lake(search1(lake, "hot-shard", name, q, 4, 3, h, &nh), RUV_OK, NULL);
    assert_non_null(strstr(ruv_last_error(), "unknown backend 'nope'"));

    const struct ruv_lake_target t = {"hot-shard", name};
    struct ruv_lake_hit h2[6];
    uint32_t nh2[2];
    struct ruv_lake_query bq = {.struct_size = sizeof bq, .targets = &t, .ntargets = 1,
                                .queries = q, .nq = 2, .dim = 4, .k = 3, .hits = h2,
                                .nhits = nh2};
    q[7] = INFINITY; /* row 1, component 3 */
    assert_lake(ops->search(lake, &bq), RUV_E_INVAL, "query 1 component 3 is not finite");
    q[2] = NAN; /* an earlier one is named first */
    assert_lake(ops->search(lake, &bq), RUV_E_INVAL, "query 0 component 2 is not finite");
    q[2] = q[7] = 0;
    assert_lake(ops->search(lake, &bq), RUV_OK, NULL);
    assert_int_equal(nh2[0], 3);
    assert_int_equal(nh2[1], 3);
    free(name);
    free_rows(&r);
    ops->local_release(lb);
    ops->close(lake);
}

static void ties_are_ordered_by_id(void **state)
{
    (void)state;
    struct ruv_lake *lake = open_lake(RUV_LAKE_FRESH, 0, 0);
    struct ruv_lake_local *a, *c;
    assert_lake(ops->local_new(ps, "a", &a), RUV_OK, NULL);
    assert_lake(ops->local_new(ps, "c", &c), RUV_OK, NULL);
    /* Eight identical rows, ids given in descending order. */
    uint64_t ids[8];
    float v[8 * 4];
    for (int i = 0; i < 8; i++) {
        ids[i] = 800 - (uint64_t)i * 100;
        for (int d = 0; d < 4; d++)
            v[i * 4 + d] = 1.0f + (float)d;
    }
    assert_lake(ops->local_upsert(a, "docs", ids, v, 8, 4), RUV_OK, NULL);
    assert_lake(ops->local_upsert(c, "docs", ids, v, 8, 4), RUV_OK, NULL);
    register_local(lake, a);
    register_local(lake, c);
    const float q[4] = {0, 0, 0, 0};
    struct ruv_lake_hit h[5];
    uint32_t nh;
    assert_lake(search1(lake, "a", "docs", q, 4, 5, h, &nh), RUV_OK, NULL);
    assert_int_equal(nh, 5);
    for (uint32_t i = 0; i < nh; i++)
        assert_int_equal(h[i].id, 100 * (i + 1));
    /* Federated, the same ids in both: without dedupe each id twice, the
     * earlier target first; with dedupe each id once. */
    const struct ruv_lake_target t[2] = {{"c", "docs"}, {"a", "docs"}};
    struct ruv_lake_query fq = {.struct_size = sizeof fq, .targets = t, .ntargets = 2,
                                .queries = q, .nq = 1, .dim = 4, .k = 5, .hits = h,
                                .nhits = &nh};
    /* Merged by (score, target position, id): target 0's five first. */
    assert_lake(ops->search(lake, &fq), RUV_OK, NULL);
    assert_int_equal(nh, 5);
    for (uint32_t i = 0; i < 5; i++) {
        assert_int_equal(h[i].id, 100 * (i + 1));
        assert_int_equal(h[i].target, 0);
    }
    /* k = 10 over 8 distinct ids: without dedupe ids 100 and 200 come
     * again from target 1; with dedupe each id once (8 hits). */
    struct ruv_lake_hit h10[10];
    fq.k = 10;
    fq.hits = h10;
    assert_lake(ops->search(lake, &fq), RUV_OK, NULL);
    assert_int_equal(nh, 10);
    assert_int_equal(h10[8].id, 100);
    assert_int_equal(h10[8].target, 1);
    assert_int_equal(h10[9].id, 200);
    fq.flags = RUV_LAKE_DEDUPE_IDS;
    assert_lake(ops->search(lake, &fq), RUV_OK, NULL);
    assert_int_equal(nh, 8);
    for (uint32_t i = 0; i < 8; i++) {
        assert_int_equal(h10[i].id, 100 * (i + 1));
        assert_int_equal(h10[i].target, 0);
    }
    ops->local_release(a);
    ops->local_release(c);
    ops->close(lake);
}

/* §5: FRESH sees every change; EVENTUAL with a long TTL does not (the use
 * counted as a skip, §11 row 4); STALE never re-checks until invalidate;
 * §11 row 5: a LocalBackend collection dropped and put again starts at
 * generation 1, and its digest still tells the rows apart. */
static void coherence_per_mode(void **state)
{
    (void)state;
    const uint32_t modes[3] = {RUV_LAKE_FRESH, RUV_LAKE_EVENTUAL, RUV_LAKE_STALE};
    for (int m = 0; m < 3; m++) {
        struct ruv_lake *lake = open_lake(modes[m], m == 1 ? 3600000 : 0, 0);
        struct counting *b = counting_new(lake, "cnt");
        uint64_t id = 1;
        float v[2] = {1, 0}, q[2] = {0, 0};
        assert_lake(ops->local_upsert(b->lb, "docs", &id, v, 1, 2), RUV_OK, NULL);
        struct ruv_lake_hit h[2];
        uint32_t nh;
        assert_lake(search1(lake, NULL, "docs", q, 2, 1, h, &nh), RUV_OK, NULL);
        assert_true(h[0].score == 1.0f);
        v[0] = 3;
        assert_lake(ops->local_upsert(b->lb, "docs", &id, v, 1, 2), RUV_OK, NULL);
        int describes = atomic_load(&b->describes);
        assert_lake(search1(lake, NULL, "docs", q, 2, 1, h, &nh), RUV_OK, NULL);
        struct ruv_lake_stats s = stats_of(lake, "cnt", "docs");
        if (modes[m] == RUV_LAKE_FRESH) {
            assert_true(h[0].score == 9.0f);
            assert_int_equal(atomic_load(&b->describes), describes + 1);
            assert_int_equal(s.primes, 2);
            assert_int_equal(s.superseded, 1);
        } else {
            assert_true(h[0].score == 1.0f); /* the cached rows */
            assert_int_equal(atomic_load(&b->describes), describes);
            assert_int_equal(s.skipped, 1);
            assert_int_equal(s.hits, 1);
            int was = 0;
            const struct ruv_lake_target key = {"cnt", "docs"};
            assert_lake(ops->invalidate(lake, &key, &was), RUV_OK, NULL);
            assert_int_equal(was, 1);
            assert_lake(search1(lake, NULL, "docs", q, 2, 1, h, &nh), RUV_OK, NULL);
            assert_true(h[0].score == 9.0f);
            assert_int_equal(stats_of(lake, "cnt", "docs").invalidations, 1);
        }
        /* Drop and put other rows: generation 1 again, the digest differs. */
        assert_lake(ops->local_drop_collection(b->lb, "docs"), RUV_OK, NULL);
        v[0] = 5;
        assert_lake(ops->local_upsert(b->lb, "docs", &id, v, 1, 2), RUV_OK, NULL);
        const struct ruv_lake_target key = {"cnt", "docs"};
        assert_lake(ops->invalidate(lake, &key, NULL), RUV_OK, NULL);
        assert_lake(search1(lake, NULL, "docs", q, 2, 1, h, &nh), RUV_OK, NULL);
        assert_true(h[0].score == 25.0f);
        ops->close(lake);
    }
    /* EVENTUAL with ttl 0 acts as FRESH. */
    struct ruv_lake *lake = open_lake(RUV_LAKE_EVENTUAL, 0, 0);
    struct counting *b = counting_new(lake, "cnt");
    uint64_t id = 1;
    float v[2] = {1, 0}, q[2] = {0, 0};
    assert_lake(ops->local_upsert(b->lb, "docs", &id, v, 1, 2), RUV_OK, NULL);
    struct ruv_lake_hit h[1];
    uint32_t nh;
    for (int i = 0; i < 3; i++)
        assert_lake(search1(lake, NULL, "docs", q, 2, 1, h, &nh), RUV_OK, NULL);
    assert_int_equal(atomic_load(&b->describes), 3);
    assert_int_equal(stats_of(lake, NULL, NULL).skipped, 0);
    ops->close(lake);
}

/* §8: a failing shard fails the call by default, naming it; PARTIAL gives
 * the healthy shards' hits with per-target statuses. Shards merge into the
 * same top k as one collection holding all rows. */
static void federation_merges_and_reports_errors(void **state)
{
    (void)state;
    struct ruv_lake *lake = open_lake(RUV_LAKE_FRESH, 0, 0);
    struct ruv_lake_local *all, *s1, *s2;
    const uint32_t dim = 8;
    struct rows r = make_rows(400, dim, 11, 1, 1);
    assert_lake(ops->local_new(ps, "all", &all), RUV_OK, NULL);
    assert_lake(ops->local_new(ps, "s1", &s1), RUV_OK, NULL);
    assert_lake(ops->local_new(ps, "s2", &s2), RUV_OK, NULL);
    assert_lake(ops->local_upsert(all, "docs", r.ids, r.v, r.n, dim), RUV_OK, NULL);
    assert_lake(ops->local_upsert(s1, "docs", r.ids, r.v, 200, dim), RUV_OK, NULL);
    assert_lake(ops->local_upsert(s2, "docs", r.ids + 200, r.v + 200 * dim, 200, dim), RUV_OK,
                NULL);
    struct ruv_lake_local *lbs[3] = {all, s1, s2};
    for (int i = 0; i < 3; i++) {
        register_local(lake, lbs[i]);
    }
    struct counting *bad = counting_new(lake, "bad");
    assert_lake(ops->local_upsert(bad->lb, "docs", r.ids, r.v, 10, dim), RUV_OK, NULL);
    atomic_store(&bad->fail, 1);
    const float *q = r.v + 17 * dim;
    struct ruv_lake_hit one[10], fed[10];
    uint32_t n1, nf;
    assert_lake(search1(lake, "all", "docs", q, dim, 10, one, &n1), RUV_OK, NULL);
    const struct ruv_lake_target t[3] = {{"s1", "docs"}, {"bad", "docs"}, {"s2", "docs"}};
    int32_t tst[3];
    char tdet[3][256];
    struct ruv_lake_query fq = {.struct_size = sizeof fq, .targets = t, .ntargets = 3,
                                .queries = q, .nq = 1, .dim = dim, .k = 10, .hits = fed,
                                .nhits = &nf, .target_status = tst, .target_detail = tdet};
    assert_lake(ops->search(lake, &fq), RUV_E_BACKEND, "backend 'bad' collection 'docs'");
    assert_int_equal(tst[0], RUV_OK);
    assert_int_equal(tst[1], RUV_E_BACKEND);
    assert_int_equal(tst[2], RUV_OK);
    fq.flags = RUV_LAKE_PARTIAL;
    memset(tdet, 0, sizeof tdet);
    assert_lake(ops->search(lake, &fq), RUV_OK, NULL);
    assert_int_equal(tst[1], RUV_E_BACKEND);
    assert_non_null(strstr(tdet[1], "backend 'bad'"));
    assert_string_equal(tdet[0], "");
    assert_int_equal(nf, n1);
    for (uint32_t i = 0; i < nf; i++) {
        assert_int_equal(fed[i].id, one[i].id);
        assert_int_equal(fed[i].target, fed[i].id <= 200 ? 0 : 2);
    }
    assert_int_equal(fed[0].id, 18); /* the query is row 17, id 18 */
    free_rows(&r);
    for (int i = 0; i < 3; i++)
        ops->local_release(lbs[i]);
    ops->close(lake);
}

static void write_ruvec1(const char *path, const struct rows *r)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    uint8_t h[24] = "ruvec1\0\0";
    ruv__lake_put_u64le(h + 8, r->n);
    ruv__lake_put_u32le(h + 16, r->dim);
    fwrite(h, 1, 24, f);
    for (uint64_t i = 0; i < r->n; i++) {
        uint8_t idb[8];
        ruv__lake_put_u64le(idb, r->ids[i]);
        fwrite(idb, 1, 8, f);
        fwrite(r->v + i * r->dim, sizeof(float), r->dim, f);
    }
    assert_int_equal(fclose(f), 0);
}

/* §11 row 5: FsBackend change detection never by whole-second mtime: two
 * ruvec2 writes within one second (same size, same mtime second) are told
 * apart by the write token; a ruvec1 rewrite too (nanosecond stat1); the
 * data_ref is the root's realpath whatever its spelling, so two spellings
 * share one entry. */
static void fs_backend_detects_every_write(void **state)
{
    (void)state;
    struct ruv_lake *lake = open_lake(RUV_LAKE_FRESH, 0, 0);
    struct ruv_lake_fs *fs, *fs2;
    char root[64], spelled[80];
    snprintf(root, sizeof root, "%s/fs", dir);
    assert_int_equal(mkdir(root, 0700), 0);
    snprintf(spelled, sizeof spelled, "%s/./fs/", dir);
    assert_lake(ops->fs_new(ps, "disk", root, &fs), RUV_OK, NULL);
    assert_lake(ops->fs_new(ps, "disk2", spelled, &fs2), RUV_OK, NULL);
    struct rows r = make_rows(64, 4, 21, 7, 7);
    r.ids[63] = UINT64_MAX; /* all 64 bits of an id survive */
    assert_lake(ops->fs_write(fs, "docs.ruvec2", r.ids, r.v, r.n, r.dim), RUV_OK, NULL);
    assert_lake(ops->fs_register(fs, "docs", "docs.ruvec2"), RUV_OK, NULL);
    assert_lake(ops->fs_register(fs2, "docs", "docs.ruvec2"), RUV_OK, NULL);
    assert_lake(ops->fs_register(fs, "bad", "../etc"), RUV_E_INVAL, NULL);
    register_fs(lake, fs);
    register_fs(lake, fs2);
    struct ruv_lake_hit h[3];
    uint32_t nh;
    float q[4];
    memcpy(q, r.v + 63 * 4, sizeof q);
    assert_lake(search1(lake, "disk", "docs", q, 4, 3, h, &nh), RUV_OK, NULL);
    assert_int_equal(h[0].id, UINT64_MAX);
    assert_true(h[0].score < 1e-5f);
    assert_lake(search1(lake, "disk2", "docs", q, 4, 3, h, &nh), RUV_OK, NULL);
    assert_int_equal(stats_of(lake, "disk2", "docs").shared_hits, 1);
    assert_int_equal(stats_of(lake, NULL, NULL).entries, 1);
    char w1[65], w2[65];
    const struct ruv_lake_target k1 = {"disk", "docs"}, k2 = {"disk2", "docs"};
    assert_lake(ops->witness_of(lake, &k1, 1, w1), RUV_OK, NULL);
    assert_lake(ops->witness_of(lake, &k2, 1, w2), RUV_OK, NULL);
    assert_string_equal(w1, w2);
    /* Rewrite at once with one float changed: same size, same second. */
    r.v[63 * 4] += 1.0f;
    assert_lake(ops->fs_write(fs, "docs.ruvec2", r.ids, r.v, r.n, r.dim), RUV_OK, NULL);
    assert_lake(search1(lake, "disk", "docs", q, 4, 3, h, &nh), RUV_OK, NULL);
    assert_int_equal(stats_of(lake, "disk", "docs").primes, 2);
    for (uint32_t i = 0; i < nh; i++) /* the old row 63 is gone */
        assert_true(h[i].score > 1e-3f);

    /* ruvec1: read for compatibility, rewritten in place at once. */
    char p1[96];
    snprintf(p1, sizeof p1, "%s/old.ruvec1", root);
    write_ruvec1(p1, &r);
    assert_lake(ops->fs_register(fs, "old", "old.ruvec1"), RUV_OK, NULL);
    memcpy(q, r.v + 5 * 4, sizeof q);
    assert_lake(search1(lake, "disk", "old", q, 4, 3, h, &nh), RUV_OK, NULL);
    assert_int_equal(h[0].id, r.ids[5]);
    r.v[5 * 4] += 2.0f;
    write_ruvec1(p1, &r);
    assert_lake(search1(lake, "disk", "old", q, 4, 3, h, &nh), RUV_OK, NULL);
    for (uint32_t i = 0; i < nh; i++)
        assert_true(h[i].score > 1e-3f);
    assert_int_equal(stats_of(lake, "disk", "old").primes, 2);
    /* A damaged file: the prime fails, naming the backend, and nothing is cached. */
    FILE *f = fopen(p1, "ab");
    fputc(0, f);
    fclose(f);
    const struct ruv_lake_target ko = {"disk", "old"};
    assert_lake(search1(lake, "disk", "old", q, 4, 3, h, &nh), RUV_E_BACKEND, "backend 'disk'");
    char hex[65];
    assert_lake(ops->witness_of(lake, &ko, 2, hex), RUV_OK, NULL); /* the old entry stays */
    free_rows(&r);
    ops->fs_release(fs);
    ops->fs_release(fs2);
    ops->close(lake);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config_is_checked),
        cmocka_unit_test(local_backend_witnesses_match_the_spec),
        cmocka_unit_test(search_equals_a_direct_index),
        cmocka_unit_test(planned_parameters_are_witnessed),
        cmocka_unit_test(bad_queries_never_pull),
        cmocka_unit_test(search_details_and_local_data_ref),
        cmocka_unit_test(ties_are_ordered_by_id),
        cmocka_unit_test(coherence_per_mode),
        cmocka_unit_test(federation_merges_and_reports_errors),
        cmocka_unit_test(fs_backend_detects_every_write),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
