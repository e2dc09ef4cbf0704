/* The first search after warm_from_dir (rulake.md §12 T2's situation):
 * warm counts nothing (no check, hit, miss or prime before the first
 * search, which is one check in FRESH and one hit, never a prime); with
 * the source file gone, warm still succeeds and a FRESH first search
 * reports the file, while EVENTUAL (checked at warm) and STALE answer;
 * with no backend registered yet, warm succeeds and STALE answers. For
 * every consistency mode and for an index of one row. */
#include "config.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(warm_counts_nothing_fresh),
        cmocka_unit_test(warm_counts_nothing_eventual_stale),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
