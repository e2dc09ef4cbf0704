/* Cache directories and refresh (rulake.md §9; §11 rows 2, 3 and 6): a save
 * that needs no backend and pairs the saved index with its own sidecar in
 * one commit, a warm restart that keeps u64 ids and score bits, checked
 * index files and parameters, and a refresh that ignores other keys'
 * bundles and other seeds instead of invalidating. */
#include "config.h"

#include <dirent.h>

#include "lake_cache_test.h"

static int count_index_files(const char *d, char *name_out)
{
    DIR *dd = opendir(d);
    int n = 0;
    struct dirent *de;
    while (dd && (de = readdir(dd)) != NULL)
        if (strncmp(de->d_name, "index-", 6) == 0) {
            n++;
            if (name_out)
                strcpy(name_out, de->d_name);
        }
    if (dd)
        closedir(dd);
    return n;
}

static struct ruv_lake *open_seeded(uint64_t seed)
{
    struct ruv_lake_config cfg;
    struct ruv_lake *lake = NULL;
    assert_lake(ops->config_init(ps, &cfg), RUV_OK, NULL);
    cfg.rotation_seed = seed;
    assert_lake(ops->open(ps, &cfg, &lake), RUV_OK, NULL);
    return lake;
}

/* test_warm_restart's shape (without the kill: the saving lake is closed
 * and a new one warms): sparse ids up to 2^64 - 1 come back, with the same
 * score bits, and the first FRESH search after warm neither pulls nor
 * primes. */
static void warm_restart_keeps_ids(void **state)
{
    (void)state;
    static const uint64_t ids[5] = {7, 42, 99, 2000, UINT64_MAX};
    struct rows r = make_rows(5, 4, 31, 0, 1);
    memcpy(r.ids, ids, sizeof ids);
    struct ruv_lake_fs *fs;
    char *root = path_in("fs"), *cache = path_in("cache");
    assert_int_equal(mkdir(root, 0700), 0);
    assert_lake(ops->fs_new(ps, "disk", root, &fs), RUV_OK, NULL);
    assert_lake(ops->fs_write(fs, "docs.ruvec2", r.ids, r.v, r.n, r.dim), RUV_OK, NULL);
    assert_lake(ops->fs_register(fs, "docs", "docs.ruvec2"), RUV_OK, NULL);
    struct ruv_lake *a = open_lake(RUV_LAKE_FRESH, 0, 0);
    register_fs(a, fs);
    struct ruv_lake_hit want[5][5], got[5];
    uint32_t nwant[5], ngot;
    for (int i = 0; i < 5; i++)
        assert_lake(search1(a, NULL, "docs", r.v + i * 4, 4, 5, want[i], &nwant[i]), RUV_OK,
                    NULL);
    const struct ruv_lake_target key = {"disk", "docs"};
    char w2[65], v2_entry[65];
    assert_lake(ops->witness_of(a, &key, 2, v2_entry), RUV_OK, NULL);
    assert_lake(ops->save_cache_to_dir(a, &key, cache, w2), RUV_OK, NULL);
    assert_string_equal(w2, v2_entry);
    assert_int_equal(count_index_files(cache, NULL), 1);
    ops->close(a);

    struct ruv_lake *b = open_lake(RUV_LAKE_FRESH, 0, 0);
    register_fs(b, fs);
    uint64_t n = 0;
    assert_lake(ops->warm_from_dir(b, &key, cache, &n), RUV_OK, NULL);
    assert_int_equal(n, 5);
    assert_lake(ops->warm_from_dir(b, &key, cache, &n), RUV_OK, NULL); /* idempotent */
    assert_int_equal(n, 5);
    for (int i = 0; i < 5; i++) {
        assert_lake(search1(b, NULL, "docs", r.v + i * 4, 4, 5, got, &ngot), RUV_OK, NULL);
        assert_int_equal(ngot, nwant[i]);
        assert_memory_equal(got, want[i], ngot * sizeof *got);
    }
    assert_int_equal(got[0].id == UINT64_MAX || want[4][0].id == UINT64_MAX, 1);
    struct ruv_lake_stats s = stats_of(b, NULL, NULL);
    assert_int_equal(s.primes, 0);
    assert_int_equal(s.misses, 0);
    assert_int_equal(s.warm_installs, 1);
    assert_int_equal(s.hits, 5);
    ops->close(b);

    /* Checked on the way in: another seed, a flipped byte of the index. */
    struct ruv_lake *c = open_seeded(7);
    register_fs(c, fs);
    assert_lake(ops->warm_from_dir(c, &key, cache, &n), RUV_E_INVAL, "rotation_seed");
    ops->close(c);
    char idx_name[64], idx_path[256];
    assert_int_equal(count_index_files(cache, idx_name), 1);
    snprintf(idx_path, sizeof idx_path, "%s/%s", cache, idx_name);
    FILE *f = fopen(idx_path, "r+b");
    assert_non_null(f);
    fseek(f, 200, SEEK_SET);
    int ch = fgetc(f);
    fseek(f, 200, SEEK_SET);
    fputc(ch ^ 1, f);
    fclose(f);
    c = open_lake(RUV_LAKE_FRESH, 0, 0);
    register_fs(c, fs);
    assert_lake(ops->warm_from_dir(c, &key, cache, &n), RUV_E_INTEGRITY, "shake256");
    char hex[65];
    assert_lake(ops->witness_of(c, &key, 2, hex), RUV_E_NOTFOUND, NULL);
    assert_lake(ops->warm_from_dir(c, &key, path_in("nothing"), &n), RUV_E_NOTFOUND, NULL);
    ops->close(c);
    free_rows(&r);
    ops->fs_release(fs);
}

/* §11 row 2: the save pairs the index with the entry's own description
 * (not the backend's present state), calls no backend, and leaves one
 * index file per committed sidecar. */
static void save_needs_no_backend(void **state)
{
    (void)state;
    struct ruv_lake *a = open_lake(RUV_LAKE_FRESH, 0, 0);
    struct counting *cb = counting_new(a, "cnt");
    struct rows r = make_rows(300, 8, 41, 1, 2);
    assert_lake(ops->local_upsert(cb->lb, "docs", r.ids, r.v, r.n, r.dim), RUV_OK, NULL);
    struct ruv_lake_hit h[3];
    uint32_t nh;
    assert_lake(search1(a, NULL, "docs", r.v, 8, 3, h, &nh), RUV_OK, NULL);
    const struct ruv_lake_target key = {"cnt", "docs"};
    char old_v2[65], w2[65], sc_v2[65];
    assert_lake(ops->witness_of(a, &key, 2, old_v2), RUV_OK, NULL);
    r.v[0] += 1.0f;
    assert_lake(ops->local_upsert(cb->lb, "docs", r.ids, r.v, 1, r.dim), RUV_OK, NULL);
    int d0 = atomic_load(&cb->describes), p0 = atomic_load(&cb->pulls);
    char *cache = path_in("cache2");
    assert_lake(ops->save_cache_to_dir(a, &key, cache, w2), RUV_OK, NULL);
    assert_int_equal(atomic_load(&cb->describes), d0);
    assert_int_equal(atomic_load(&cb->pulls), p0);
    assert_string_equal(w2, old_v2);
    assert_lake(ops->sidecar_verify(ps, cache, NULL, 0, NULL, sc_v2), RUV_OK, NULL);
    assert_string_equal(sc_v2, old_v2);
    /* Not cached: refused, nothing written. */
    const struct ruv_lake_target other = {"cnt", "other"};
    assert_lake(ops->save_cache_to_dir(a, &other, path_in("cache3"), w2), RUV_E_NOTFOUND,
                "not cached");
    /* The next search sees the change and primes; saving again replaces
     * the index file. */
    assert_lake(search1(a, NULL, "docs", r.v, 8, 3, h, &nh), RUV_OK, NULL);
    char new_name[64], old_name[64];
    count_index_files(cache, old_name);
    assert_lake(ops->save_cache_to_dir(a, &key, cache, w2), RUV_OK, NULL);
    assert_string_not_equal(w2, old_v2);
    assert_int_equal(count_index_files(cache, new_name), 1);
    assert_string_not_equal(new_name, old_name);
    assert_int_equal(strncmp(new_name + 6, w2, 32), 0);
    ops->close(a);
    free_rows(&r);
}

/* §11 row 6 (test_publish_refresh_roundtrip's cases on cache
 * directories): refresh ignores another key's bundle and another seed
 * (FOREIGN, no invalidation), says NOT_CACHED and BUNDLE_MISSING, and
 * invalidates a primed reader only for the same data in another state;
 * it never pulls. */
static void refresh_ignores_foreign_bundles(void **state)
{
    (void)state;
    struct ruv_lake *pub = open_lake(RUV_LAKE_FRESH, 0, 0);
    struct ruv_lake_local *lb;
    assert_lake(ops->local_new(ps, "hot", &lb), RUV_OK, NULL);
    struct rows r = make_rows(100, 4, 51, 0, 1);
    assert_lake(ops->local_upsert(lb, "docs", r.ids, r.v, r.n, r.dim), RUV_OK, NULL);
    assert_lake(ops->local_upsert(lb, "other", r.ids, r.v, r.n, r.dim), RUV_OK, NULL);
    register_local(pub, lb);
    struct ruv_lake_hit h[2];
    uint32_t nh;
    const struct ruv_lake_target docs = {"hot", "docs"}, other = {"hot", "other"};
    assert_lake(search1(pub, NULL, "docs", r.v, 4, 2, h, &nh), RUV_OK, NULL);
    assert_lake(search1(pub, NULL, "other", r.v, 4, 2, h, &nh), RUV_OK, NULL);
    char *bdocs = path_in("b-docs"), *bother = path_in("b-other");
    assert_lake(ops->save_cache_to_dir(pub, &docs, bdocs, NULL), RUV_OK, NULL);
    assert_lake(ops->save_cache_to_dir(pub, &other, bother, NULL), RUV_OK, NULL);

    /* A reader over a counting backend sharing the same rows. */
    struct ruv_lake *rd = open_lake(RUV_LAKE_FRESH, 0, 0);
    struct counting *cb = counting_over(rd, "hot", lb);
    int res = -1;
    assert_lake(ops->refresh_from_bundle_dir(rd, &docs, path_in("none"), &res), RUV_OK, NULL);
    assert_int_equal(res, RUV_LAKE_BUNDLE_MISSING);
    assert_lake(ops->refresh_from_bundle_dir(rd, &docs, bdocs, &res), RUV_OK, NULL);
    assert_int_equal(res, RUV_LAKE_NOT_CACHED);
    assert_lake(search1(rd, NULL, "docs", r.v, 4, 2, h, &nh), RUV_OK, NULL);
    int pulls = atomic_load(&cb->pulls);
    assert_lake(ops->refresh_from_bundle_dir(rd, &docs, bdocs, &res), RUV_OK, NULL);
    assert_int_equal(res, RUV_LAKE_UP_TO_DATE);
    assert_lake(ops->refresh_from_bundle_dir(rd, &docs, bother, &res), RUV_OK, NULL);
    assert_int_equal(res, RUV_LAKE_FOREIGN);
    char hex[65];
    assert_lake(ops->witness_of(rd, &docs, 2, hex), RUV_OK, NULL); /* still cached */

    /* The data changes; the publisher saves the new state: INVALIDATED. */
    r.v[5] += 1.0f;
    assert_lake(ops->local_upsert(cb->lb, "docs", r.ids + 1, r.v + 4, 1, r.dim), RUV_OK, NULL);
    assert_lake(search1(pub, NULL, "docs", r.v, 4, 2, h, &nh), RUV_OK, NULL);
    assert_lake(ops->save_cache_to_dir(pub, &docs, bdocs, NULL), RUV_OK, NULL);
    assert_lake(ops->refresh_from_bundle_dir(rd, &docs, bdocs, &res), RUV_OK, NULL);
    assert_int_equal(res, RUV_LAKE_INVALIDATED);
    assert_lake(ops->witness_of(rd, &docs, 2, hex), RUV_E_NOTFOUND, NULL);
    assert_int_equal(atomic_load(&cb->pulls), pulls); /* refresh never primes */

    /* Seeds 1 and 2: the reader's entry is kept. */
    struct ruv_lake *s1 = open_seeded(1), *s2 = open_seeded(2);
    register_local(s1, lb);
    register_local(s2, lb);
    assert_lake(search1(s1, NULL, "docs", r.v, 4, 2, h, &nh), RUV_OK, NULL);
    assert_lake(search1(s2, NULL, "docs", r.v, 4, 2, h, &nh), RUV_OK, NULL);
    char *bs2 = path_in("b-seed2");
    assert_lake(ops->save_cache_to_dir(s2, &docs, bs2, NULL), RUV_OK, NULL);
    assert_lake(ops->refresh_from_bundle_dir(s1, &docs, bs2, &res), RUV_OK, NULL);
    assert_int_equal(res, RUV_LAKE_FOREIGN);
    assert_lake(ops->witness_of(s1, &docs, 2, hex), RUV_OK, NULL);
    assert_int_equal(stats_of(s1, NULL, NULL).invalidations, 0);

    /* A sidecar edited by hand fails its checks: an error, not a result. */
    char sc_path[256];
    snprintf(sc_path, sizeof sc_path, "%s/table.rulake.json", bdocs);
    FILE *f = fopen(sc_path, "r+b");
    assert_non_null(f);
    char text[8192];
    size_t len = fread(text, 1, sizeof text - 1, f);
    text[len] = 0;
    char *dim = strstr(text, "\"dim\": 4");
    if (!dim)
        dim = strstr(text, "\"dim\":4");
    assert_non_null(dim);
    dim[strlen(dim[6] == ' ' ? "\"dim\": " : "\"dim\":")] = '5';
    rewind(f);
    fwrite(text, 1, len, f);
    fclose(f);
    assert_lake(ops->refresh_from_bundle_dir(s1, &docs, bdocs, &res), RUV_E_INTEGRITY, "v1");
    ops->close(s1);
    ops->close(s2);
    ops->close(rd);
    ops->close(pub);
    ops->local_release(lb);
    free_rows(&r);
}

static struct ruv_lake *open_keyed(const uint8_t (*pub)[32], uint32_t npub, const uint8_t *priv)
{
    struct ruv_lake_config cfg;
    struct ruv_lake *lake = NULL;
    assert_lake(ops->config_init(ps, &cfg), RUV_OK, NULL);
    cfg.public_keys = pub;
    cfg.npublic_keys = npub;
    if (priv) {
        cfg.has_signing_key = 1;
        memcpy(cfg.signing_key, priv, 32);
    }
    assert_lake(ops->open(ps, &cfg, &lake), RUV_OK, NULL);
    return lake;
}

/* §11 row 3 (no authenticity): with public keys configured, warm and
 * refresh take only a sidecar signed by one of them; a lake with a
 * signing key signs what it saves. */
static void signed_cache_directories(void **state)
{
    (void)state;
    uint8_t priv[32], pub[1][32], other[1][32];
    unhex_or_die(rfc8032_priv, priv, 32);
    unhex_or_die(rfc8032_pub, pub[0], 32);
    memcpy(other[0], pub[0], 32);
    other[0][0] ^= 1;
    struct ruv_lake_local *lb;
    assert_lake(ops->local_new(ps, "hot", &lb), RUV_OK, NULL);
    struct rows r = make_rows(50, 4, 81, 0, 1);
    assert_lake(ops->local_upsert(lb, "docs", r.ids, r.v, r.n, r.dim), RUV_OK, NULL);
    struct ruv_lake *signer = open_keyed(NULL, 0, priv), *plain = open_keyed(NULL, 0, NULL);
    struct ruv_lake *trusting = open_keyed((const uint8_t(*)[32])pub, 1, NULL);
    struct ruv_lake *wary = open_keyed((const uint8_t(*)[32])other, 1, NULL);
    struct ruv_lake *lakes[4] = {signer, plain, trusting, wary};
    struct ruv_lake_hit h[2];
    uint32_t nh;
    for (int i = 0; i < 4; i++) {
        register_local(lakes[i], lb);
    }
    const struct ruv_lake_target key = {"hot", "docs"};
    assert_lake(search1(signer, NULL, "docs", r.v, 4, 2, h, &nh), RUV_OK, NULL);
    assert_lake(search1(plain, NULL, "docs", r.v, 4, 2, h, &nh), RUV_OK, NULL);
    char *signed_dir = path_in("signed"), *plain_dir = path_in("plain");
    assert_lake(ops->save_cache_to_dir(signer, &key, signed_dir, NULL), RUV_OK, NULL);
    assert_lake(ops->save_cache_to_dir(plain, &key, plain_dir, NULL), RUV_OK, NULL);
    uint64_t n;
    int res;
    assert_lake(ops->warm_from_dir(trusting, &key, signed_dir, &n), RUV_OK, NULL);
    assert_int_equal(n, 50);
    assert_lake(ops->refresh_from_bundle_dir(trusting, &key, signed_dir, &res), RUV_OK, NULL);
    assert_int_equal(res, RUV_LAKE_UP_TO_DATE);
    assert_lake(ops->refresh_from_bundle_dir(trusting, &key, plain_dir, &res), RUV_E_INTEGRITY,
                NULL);
    assert_lake(ops->warm_from_dir(wary, &key, signed_dir, &n), RUV_E_INTEGRITY, NULL);
    char hex[65];
    assert_lake(ops->witness_of(wary, &key, 2, hex), RUV_E_NOTFOUND, NULL);
    assert_lake(ops->sidecar_verify(ps, signed_dir, (const uint8_t(*)[32])pub, 1, NULL, NULL),
                RUV_OK, NULL);
    for (int i = 0; i < 4; i++)
        ops->close(lakes[i]);
    ops->local_release(lb);
    free_rows(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(warm_restart_keeps_ids),
        cmocka_unit_test(save_needs_no_backend),
        cmocka_unit_test(refresh_ignores_foreign_bundles),
        cmocka_unit_test(signed_cache_directories),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
