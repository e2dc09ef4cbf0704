/* The first search after warm_from_dir (rulake.md §12 T2's situation):
 * warm counts nothing (no check, hit, miss or prime before the first
 * search, which is one check in FRESH and one hit, never a prime); with
 * the source file gone, warm still succeeds and a FRESH first search
 * reports the file, while EVENTUAL (checked at warm) and STALE answer;
 * with no backend registered yet, warm succeeds and STALE answers. For
 * every consistency mode and for an index of one row. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "lake_cache_test.h"

enum { DIM = 16 };

static void save_cache(struct ruv_lake_fs *fs, const struct ruv_lake_target *key,
                       const char *cache, const float *q)
{
    struct ruv_lake *a = open_lake(RUV_LAKE_FRESH, 0, 0);
    register_fs(a, fs);
    struct ruv_lake_hit h[3];
    uint32_t nh;
    assert_lake(search1(a, key->backend, key->collection, q, DIM, 3, h, &nh), RUV_OK, NULL);
    assert_lake(ops->save_cache_to_dir(a, key, cache, NULL), RUV_OK, NULL);
    ops->close(a);
}

static void first_search_after_warm(uint32_t mode, uint64_t rows)
{
    char name[64], file[64], cache[64];
    snprintf(name, sizeof name, "fs%u-%llu", mode, (unsigned long long)rows);
    snprintf(file, sizeof file, "docs%u-%llu.ruvec2", mode, (unsigned long long)rows);
    snprintf(cache, sizeof cache, "cache%u-%llu", mode, (unsigned long long)rows);
    char *root = path_in(name), *cdir = path_in(cache);
    assert_int_equal(mkdir(root, 0700), 0);
    struct ruv_lake_fs *fs;
    assert_lake(ops->fs_new(ps, "disk", root, &fs), RUV_OK, NULL);
    struct rows r = make_rows(rows, DIM, 3 + mode, 100, 3);
    assert_lake(ops->fs_write(fs, file, r.ids, r.v, r.n, DIM), RUV_OK, NULL);
    assert_lake(ops->fs_register(fs, "docs", file), RUV_OK, NULL);
    const struct ruv_lake_target key = {"disk", "docs"};
    const float *q = r.v + (rows - 1) * DIM; /* the last row: its own nearest */
    save_cache(fs, &key, cdir, q);

    struct ruv_lake *b = open_lake(mode, mode == RUV_LAKE_EVENTUAL ? 600000 : 0, 0);
    register_fs(b, fs);
    uint64_t n = 0;
    assert_lake(ops->warm_from_dir(b, &key, cdir, &n), RUV_OK, NULL);
    assert_int_equal(n, rows);
    struct ruv_lake_stats s = stats_of(b, "disk", "docs");
    assert_int_equal(s.checks + s.hits + s.misses + s.primes + s.shared_hits, 0);
    assert_int_equal(s.warm_installs, 1);
    struct ruv_lake_hit h[3];
    uint32_t nh = 0;
    assert_lake(search1(b, "disk", "docs", q, DIM, 3, h, &nh), RUV_OK, NULL);
    assert_int_equal(h[0].id, r.ids[rows - 1]);
    s = stats_of(b, "disk", "docs");
    assert_int_equal(s.checks, mode == RUV_LAKE_FRESH ? 1 : 0);
    assert_int_equal(s.hits, 1);
    assert_int_equal(s.misses + s.primes, 0);
    ops->close(b);

    /* The source file gone: warm still installs; FRESH's first search
     * fails naming it, STALE and EVENTUAL (checked at warm) answer. */
    char *path = path_in(name);
    char full[192];
    snprintf(full, sizeof full, "%s/%s", path, file);
    assert_int_equal(unlink(full), 0);
    struct ruv_lake *c = open_lake(mode, mode == RUV_LAKE_EVENTUAL ? 600000 : 0, 0);
    register_fs(c, fs);
    assert_lake(ops->warm_from_dir(c, &key, cdir, &n), RUV_OK, NULL);
    s = stats_of(c, "disk", "docs");
    assert_int_equal(s.checks + s.hits + s.misses + s.primes, 0);
    int want = mode == RUV_LAKE_FRESH ? RUV_E_NOTFOUND : RUV_OK;
    assert_lake(search1(c, "disk", "docs", q, DIM, 3, h, &nh), want,
                mode == RUV_LAKE_FRESH ? file : NULL);
    ops->close(c);

    /* No backend registered when warm runs (an absent one): the same. */
    struct ruv_lake *d = open_lake(mode, mode == RUV_LAKE_EVENTUAL ? 600000 : 0, 0);
    assert_lake(ops->warm_from_dir(d, &key, cdir, &n), RUV_OK, NULL);
    assert_int_equal(n, rows);
    if (mode == RUV_LAKE_STALE) {
        assert_lake(search1(d, "disk", "docs", q, DIM, 3, h, &nh), RUV_OK, NULL);
        assert_int_equal(h[0].id, r.ids[rows - 1]);
    }
    ops->close(d);
    ops->fs_release(fs);
    free_rows(&r);
}

static void warm_counts_nothing_fresh(void **state)
{
    (void)state;
    first_search_after_warm(RUV_LAKE_FRESH, 2000);
    first_search_after_warm(RUV_LAKE_FRESH, 1);
}

static void warm_counts_nothing_eventual_stale(void **state)
{
    (void)state;
    first_search_after_warm(RUV_LAKE_EVENTUAL, 2000);
    first_search_after_warm(RUV_LAKE_STALE, 2000);
}

/* A RUV_LAKE_WARMUP search (q NULL and dim 0: the lake makes up the query). */
static int warmup(struct ruv_lake *lake, const char *backend, const char *coll, const float *q,
                  uint32_t dim, struct ruv_lake_hit *h, uint32_t *nh, uint32_t ntargets)
{
    const struct ruv_lake_target t[2] = {{backend, coll}, {backend, coll}};
    const struct ruv_lake_query qq = {.struct_size = sizeof qq, .flags = RUV_LAKE_WARMUP,
                                      .targets = t, .ntargets = ntargets, .queries = q,
                                      .nq = 1, .dim = dim, .k = 3, .hits = h, .nhits = nh};
    return ops->search(lake, &qq);
}

/* The warm-up search searches the warm entry as it is: no coherence step
 * (a FRESH lake whose backend is not registered answers it), no counter;
 * a key without an entry, two targets, a wrong dim and a dim-0 query
 * without the flag are refused. The first FRESH search after warm is a
 * hit; with the file rewritten after the save, it primes the new rows (the
 * description warm remembered no longer matches). */
static void warmup_search_counts_nothing(void **state)
{
    (void)state;
    char *root = path_in("wu"), *cdir = path_in("wu-cache");
    assert_int_equal(mkdir(root, 0700), 0);
    struct ruv_lake_fs *fs;
    assert_lake(ops->fs_new(ps, "disk", root, &fs), RUV_OK, NULL);
    struct rows r = make_rows(2000, DIM, 17, 100, 3);
    assert_lake(ops->fs_write(fs, "w.ruvec2", r.ids, r.v, r.n, DIM), RUV_OK, NULL);
    assert_lake(ops->fs_register(fs, "docs", "w.ruvec2"), RUV_OK, NULL);
    const struct ruv_lake_target key = {"disk", "docs"};
    const float *q = r.v + 5 * DIM;
    save_cache(fs, &key, cdir, q);

    struct ruv_lake_hit h[3];
    uint32_t nh = 0;
    uint64_t n = 0;
    struct ruv_lake *a = open_lake(RUV_LAKE_FRESH, 0, 0); /* no backend registered */
    assert_lake(warmup(a, "disk", "docs", NULL, 0, h, &nh, 1), RUV_E_NOTFOUND, "unknown backend");
    assert_lake(ops->warm_from_dir(a, &key, cdir, &n), RUV_OK, NULL);
    assert_lake(warmup(a, "disk", "docs", NULL, 0, h, &nh, 1), RUV_OK, NULL);
    assert_int_equal(nh, 3);
    /* its hits are the diagonal query's: the stored-row searches it runs
     * first write nothing the caller sees */
    float diag[DIM];
    for (unsigned i = 0; i < DIM; i++)
        diag[i] = 1.0f / sqrtf((float)DIM);
    struct ruv_lake_hit hd[3];
    uint32_t nhd = 0;
    assert_lake(warmup(a, "disk", "docs", diag, DIM, hd, &nhd, 1), RUV_OK, NULL);
    assert_int_equal(nhd, nh);
    for (unsigned j = 0; j < nh; j++) {
        assert_int_equal(hd[j].id, h[j].id);
        assert_memory_equal(&hd[j].score, &h[j].score, sizeof h[j].score);
    }
    assert_lake(warmup(a, "disk", "docs", q, DIM, h, &nh, 1), RUV_OK, NULL);
    assert_int_equal(nh, 3);
    assert_int_equal(h[0].id, r.ids[5]);
    assert_lake(warmup(a, "disk", "docs", q, DIM - 1, h, &nh, 1), RUV_E_DIM, "dim 16");
    assert_lake(warmup(a, "disk", "other", NULL, 0, h, &nh, 1), RUV_E_MISS, "not cached");
    assert_lake(warmup(a, "disk", "docs", NULL, 0, h, &nh, 2), RUV_E_INVAL, "one target");
    assert_lake(search1(a, "disk", "docs", NULL, 0, 3, h, &nh), RUV_E_INVAL, "dim >= 1");
    struct ruv_lake_stats s = stats_of(a, "disk", "docs");
    assert_int_equal(s.checks + s.hits + s.skipped + s.misses + s.primes + s.shared_hits, 0);
    assert_lake(search1(a, "disk", "docs", q, DIM, 3, h, &nh), RUV_E_BACKEND, "backend");
    ops->close(a);

    /* Registered and unchanged: the first FRESH search is one check, a hit. */
    struct ruv_lake *b = open_lake(RUV_LAKE_FRESH, 0, 0);
    register_fs(b, fs);
    assert_lake(ops->warm_from_dir(b, &key, cdir, &n), RUV_OK, NULL);
    assert_lake(warmup(b, "disk", "docs", NULL, 0, h, &nh, 1), RUV_OK, NULL);
    assert_lake(search1(b, "disk", "docs", q, DIM, 3, h, &nh), RUV_OK, NULL);
    assert_int_equal(h[0].id, r.ids[5]);
    s = stats_of(b, "disk", "docs");
    assert_int_equal(s.checks, 1);
    assert_int_equal(s.hits, 1);
    assert_int_equal(s.misses + s.primes, 0);
    ops->close(b);

    /* The file rewritten (new ids) after the save: the warm entry is not
     * taken for current; the first FRESH search primes the new rows. */
    for (uint64_t i = 0; i < r.n; i++)
        r.ids[i] += 100000;
    assert_lake(ops->fs_write(fs, "w.ruvec2", r.ids, r.v, r.n, DIM), RUV_OK, NULL);
    struct ruv_lake *c = open_lake(RUV_LAKE_FRESH, 0, 0);
    register_fs(c, fs);
    assert_lake(ops->warm_from_dir(c, &key, cdir, &n), RUV_OK, NULL);
    assert_lake(search1(c, "disk", "docs", q, DIM, 3, h, &nh), RUV_OK, NULL);
    assert_int_equal(h[0].id, r.ids[5]);
    s = stats_of(c, "disk", "docs");
    assert_int_equal(s.misses, 1);
    assert_int_equal(s.primes, 1);
    ops->close(c);
    ops->fs_release(fs);
    free_rows(&r);
}

/* A RUV_LAKE_WARMUP search with flags added (the made-up query). */
static int warmup_flags(struct ruv_lake *lake, const char *backend, const char *coll,
                        uint32_t flags)
{
    const struct ruv_lake_target t = {backend, coll};
    struct ruv_lake_hit h[3];
    uint32_t nh = 0;
    const struct ruv_lake_query qq = {.struct_size = sizeof qq, .flags = flags, .targets = &t,
                                      .ntargets = 1, .nq = 1, .k = 3, .hits = h, .nhits = &nh};
    return ops->search(lake, &qq);
}

/* RUV_LAKE_WARMUP_DESCRIBE: exactly one describe of the key's backend, no
 * pull, no counter, and its answer is dropped (a changed source is still
 * found by the next FRESH search, which primes); a failing describe does
 * not fail the warm-up; the flag alone is refused. */
static void warmup_describe_asks_once_and_counts_nothing(void **state)
{
    (void)state;
    struct ruv_lake *lake = open_lake(RUV_LAKE_FRESH, 0, 0);
    struct counting *b = counting_new(lake, "cnt");
    struct rows r = make_rows(300, DIM, 23, 0, 1);
    assert_lake(ops->local_upsert(b->lb, "docs", r.ids, r.v, r.n, DIM), RUV_OK, NULL);
    struct ruv_lake_hit h[3];
    uint32_t nh;
    assert_lake(search1(lake, "cnt", "docs", r.v, DIM, 3, h, &nh), RUV_OK, NULL);
    const struct ruv_lake_stats s0 = stats_of(lake, "cnt", "docs");
    const int d0 = atomic_load(&b->describes), p0 = atomic_load(&b->pulls);
    assert_lake(warmup_flags(lake, "cnt", "docs", RUV_LAKE_WARMUP), RUV_OK, NULL);
    assert_int_equal(atomic_load(&b->describes), d0);
    assert_lake(warmup_flags(lake, "cnt", "docs", RUV_LAKE_WARMUP | RUV_LAKE_WARMUP_DESCRIBE),
                RUV_OK, NULL);
    assert_int_equal(atomic_load(&b->describes), d0 + 1);
    assert_lake(warmup_flags(lake, "cnt", "docs", RUV_LAKE_WARMUP_DESCRIBE), RUV_E_INVAL,
                "needs RUV_LAKE_WARMUP");
    assert_int_equal(atomic_load(&b->describes), d0 + 1);
    /* the source changes: the warm-up's describe sees it and does nothing */
    r.v[0] += 1.0f;
    assert_lake(ops->local_upsert(b->lb, "docs", r.ids, r.v, 1, DIM), RUV_OK, NULL);
    assert_lake(warmup_flags(lake, "cnt", "docs", RUV_LAKE_WARMUP | RUV_LAKE_WARMUP_DESCRIBE),
                RUV_OK, NULL);
    assert_int_equal(atomic_load(&b->describes), d0 + 2);
    assert_int_equal(atomic_load(&b->pulls), p0);
    const struct ruv_lake_stats s1 = stats_of(lake, "cnt", "docs");
    assert_memory_equal(&s0, &s1, sizeof s0);
    assert_lake(search1(lake, "cnt", "docs", r.v, DIM, 3, h, &nh), RUV_OK, NULL);
    const struct ruv_lake_stats s2 = stats_of(lake, "cnt", "docs");
    assert_int_equal(s2.misses, s0.misses + 1);
    assert_int_equal(s2.primes, s0.primes + 1);
    assert_int_equal(atomic_load(&b->pulls), p0 + 1);
    ops->close(lake);
    free_rows(&r);

    /* FsBackend whose file is gone: the describe fails, the warm-up not */
    char *root = path_in("wd"), *cdir = path_in("wd-cache");
    assert_int_equal(mkdir(root, 0700), 0);
    struct ruv_lake_fs *fs;
    assert_lake(ops->fs_new(ps, "disk", root, &fs), RUV_OK, NULL);
    struct rows f = make_rows(500, DIM, 29, 0, 1);
    assert_lake(ops->fs_write(fs, "w.ruvec2", f.ids, f.v, f.n, DIM), RUV_OK, NULL);
    assert_lake(ops->fs_register(fs, "docs", "w.ruvec2"), RUV_OK, NULL);
    const struct ruv_lake_target key = {"disk", "docs"};
    save_cache(fs, &key, cdir, f.v);
    struct ruv_lake *w = open_lake(RUV_LAKE_FRESH, 0, 0);
    uint64_t n = 0;
    assert_lake(ops->warm_from_dir(w, &key, cdir, &n), RUV_OK, NULL);
    /* only warmed (no backend registered): nothing to ask */
    assert_lake(warmup_flags(w, "disk", "docs", RUV_LAKE_WARMUP | RUV_LAKE_WARMUP_DESCRIBE),
                RUV_OK, NULL);
    register_fs(w, fs);
    assert_lake(warmup_flags(w, "disk", "docs", RUV_LAKE_WARMUP | RUV_LAKE_WARMUP_DESCRIBE),
                RUV_OK, NULL);
    char *file = malloc(strlen(root) + 16);
    sprintf(file, "%s/w.ruvec2", root);
    assert_int_equal(unlink(file), 0);
    assert_lake(warmup_flags(w, "disk", "docs", RUV_LAKE_WARMUP | RUV_LAKE_WARMUP_DESCRIBE),
                RUV_OK, NULL);
    const struct ruv_lake_stats sw = stats_of(w, "disk", "docs");
    assert_int_equal(sw.checks + sw.hits + sw.misses + sw.primes, 0);
    assert_lake(search1(w, "disk", "docs", f.v, DIM, 3, h, &nh), RUV_E_NOTFOUND, "no such file");
    ops->close(w);
    ops->fs_release(fs);
    free(file);
    free_rows(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(warm_counts_nothing_fresh),
        cmocka_unit_test(warm_counts_nothing_eventual_stale),
        cmocka_unit_test(warmup_search_counts_nothing),
        cmocka_unit_test(warmup_describe_asks_once_and_counts_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
