/* The cache's bytes are what its entries keep resident (rulake.md §7
 * "Budget", §12 T6: cache_stats().bytes within 5 % of the RSS change).
 * Three collections primed one after the other under a budget of 1.5
 * entries: after each prime the process's heap in use grew by the entry's
 * counted bytes (nothing the entry owns goes uncounted) and its resident
 * set by the same within 5 % (the build's freed temporaries, the prime's
 * sorted copy of rows pulled out of id order and the evicted entries are
 * not kept resident). Before the lake gave a build's freed pages back, the
 * RSS grew 1.11x the counted bytes from a LocalBackend and 2.06x from
 * rows out of order. glibc only (mallinfo2, malloc_trim); not under ASan,
 * TSan or valgrind, whose allocators keep freed memory on purpose. */
#include "config.h"

#include "lake_cache_test.h"

#if defined(__GLIBC__) && defined(__GLIBC_PREREQ)
#if __GLIBC_PREREQ(2, 33)
#define RUV_TEST_HEAP_STATS 1
#include <malloc.h>
#include <sys/prctl.h>
#endif
#endif

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define RUV_TEST_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RUV_TEST_SANITIZED 1
#endif

/* Why this process cannot measure its heap, or NULL. */
static const char *unmeasurable(void)
{
#if !defined(RUV_TEST_HEAP_STATS)
    return "needs glibc >= 2.33 (mallinfo2, malloc_trim)";
#elif defined(RUV_TEST_SANITIZED)
    return "a sanitizer's allocator holds freed memory in quarantine";
#else
    /* valgrind preloads its vgpreload_*.so and replaces malloc */
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int vg = 0;
    while (f && !vg && fgets(line, sizeof line, f))
        vg = strstr(line, "vgpreload") != NULL;
    if (f)
        fclose(f);
    return vg ? "valgrind replaces the allocator" : NULL;
#endif
}

#if defined(RUV_TEST_HEAP_STATS)
static long resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = 0;
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%ld %ld", &size, &resident), 2);
    fclose(f);
    return resident * sysconf(_SC_PAGESIZE);
}

static long heap_in_use(void)
{
    struct mallinfo2 m = mallinfo2();
    return (long)(m.uordblks + m.hblkhd);
}

/* The T6 setup: bits 1, no IVF lists, EVENTUAL with a long TTL (no
 * describe between primes), this budget (0: the default). Builds on the
 * calling thread alone: which pool workers take a share of a build varies
 * from run to run, and each keeps search scratch of its own. */
static struct ruv_lake *open_t6(uint64_t max_bytes)
{
    struct ruv_lake_config cfg;
    struct ruv_lake *lake = NULL;
    assert_lake(ops->config_init(ps, &cfg), RUV_OK, NULL);
    cfg.consistency = RUV_LAKE_EVENTUAL;
    cfg.ttl_ms = 600000;
    cfg.bits = 1;
    cfg.nlist = 0;
    cfg.rerank_factor = 20;
    cfg.threads = 1;
    if (max_bytes)
        cfg.max_bytes = max_bytes;
    assert_lake(ops->open(ps, &cfg, &lake), RUV_OK, NULL);
    return lake;
}

/* |got - want| within pct % of want, else fails naming what. */
static void assert_near(const char *what, long got, long want, long pct)
{
    long diff = got > want ? got - want : want - got;
    if (diff * 100 > want * pct)
        fail_msg("%s grew by %ld bytes, the cache counts %ld (ratio %.4f, allowed +-%ld %%)",
                 what, got, want, (double)want / (double)got, pct);
}


enum { N = 24000, DIM = 128 };
static const char *const colls[4] = {"warm", "c0", "c1", "c2"};

static int coll_index(const char *c)
{
    for (int i = 0; i < 4; i++)
        if (!strcmp(c, colls[i]))
            return i;
    return -1;
}

/* A backend over the four collections whose pulls give the ids out of order
 * (each pair swapped) and no digest: the prime copies the rows into id order
 * and hashes them, ~12 MB it frees again. state: the four rows. */
static int unordered_describe(void *state, const char *c, struct ruv_lake_desc *d)
{
    (void)state;
    if (coll_index(c) < 0)
        return RUV_E_NOTFOUND;
    d->dim = DIM;
    d->count = N;
    d->gen_num = 1;
    d->data_ref_len = (uint32_t)snprintf(d->data_ref, sizeof d->data_ref, "unordered/%s", c);
    return RUV_OK;
}

static int unordered_pull(void *state, const char *c, struct ruv_lake_batch *out)
{
    const struct rows *r = state;
    int i = coll_index(c);
    if (i < 0)
        return RUV_E_NOTFOUND;
    unordered_describe(state, c, &out->desc);
    out->dim = DIM;
    out->n = N;
    out->ids = r[i].ids;
    out->vectors = r[i].v;
    return RUV_OK;
}

/* Primes "warm" in a lake of its own, then c0, c1, c2 one after the other
 * in a lake with room for 1.5 entries, checking the heap in use and the
 * RSS after each against the counted bytes. lb: a LocalBackend holding r;
 * NULL: the unordered backend over r. */
static void three_primes(struct ruv_lake_local *lb, struct rows *r)
{
    /* 4 KiB pages: with THP "always" a heap fault could map 2 MiB at once. */
    prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
    const struct ruv_lake_backend unordered = {
        .struct_size = sizeof unordered, .flags = RUV_LAKE_BACKEND_THREADSAFE,
        .name = "mem", .state = r, .describe = unordered_describe, .pull = unordered_pull};
    const uint64_t first_id = lb ? 0 : 1; /* row 0's id */
    struct ruv_lake_hit h[10];
    uint32_t nh;

    /* First a prime and a search of the same size in a lake of its own:
     * what the process keeps per thread, whatever the cache holds (this
     * thread's search scratch, the BLAS's buffers), is then in place. */
    struct ruv_lake *lake = open_t6(0);
    if (lb)
        register_local(lake, lb);
    else
        assert_lake(ops->register_backend(lake, &unordered), RUV_OK, NULL);
    assert_lake(search1(lake, NULL, "warm", r[0].v, DIM, 10, h, &nh), RUV_OK, NULL);
    const uint64_t one = stats_of(lake, NULL, NULL).bytes;
    ops->close(lake);

    lake = open_t6(one * 3 / 2);
    if (lb)
        register_local(lake, lb);
    else
        assert_lake(ops->register_backend(lake, &unordered), RUV_OK, NULL);
    malloc_trim(0);
    const long rss0 = resident_bytes(), heap0 = heap_in_use();
    for (int c = 1; c < 4; c++) {
        assert_lake(search1(lake, NULL, colls[c], r[c].v, DIM, 10, h, &nh), RUV_OK, NULL);
        assert_int_equal(h[0].id, first_id);
        struct ruv_lake_stats s = stats_of(lake, NULL, NULL);
        assert_int_equal(s.entries, 1);
        assert_int_equal(s.evictions, c - 1);
        assert_int_equal(s.bytes, one);
        assert_near("the heap in use", heap_in_use() - heap0, (long)s.bytes, 3);
        assert_near("the resident set", resident_bytes() - rss0, (long)s.bytes, 5);
    }
    /* Closing drops the last entry: the resident set is back where it was. */
    ops->close(lake);
    long left = resident_bytes() - rss0;
    if (left * 20 > (long)one)
        fail_msg("after close the resident set is still %ld bytes above its start (an entry "
                 "is %llu)", left, (unsigned long long)one);
}
#endif

/* The LocalBackend: rows pulled in id order, built from as they are. */
static void local_prime_leaves_resident_what_it_counts(void **state)
{
    (void)state;
    const char *why = unmeasurable();
    if (why) {
        print_message("skipped: %s\n", why);
        skip();
    }
#if defined(RUV_TEST_HEAP_STATS)
    struct ruv_lake_local *lb;
    assert_lake(ops->local_new(ps, "mem", &lb), RUV_OK, NULL);
    struct rows r[4];
    for (int c = 0; c < 4; c++) {
        r[c] = make_rows(N, DIM, 100 + (uint64_t)c, 0, 1);
        assert_lake(ops->local_upsert(lb, colls[c], r[c].ids, r[c].v, N, DIM), RUV_OK, NULL);
    }
    three_primes(lb, r);
    for (int c = 0; c < 4; c++)
        free_rows(&r[c]);
    ops->local_release(lb);
#endif
}

/* Rows out of id order: the prime's sorted copy must not stay resident. */
static void unordered_prime_leaves_resident_what_it_counts(void **state)
{
    (void)state;
    const char *why = unmeasurable();
    if (why) {
        print_message("skipped: %s\n", why);
        skip();
    }
#if defined(RUV_TEST_HEAP_STATS)
    struct rows r[4];
    for (int c = 0; c < 4; c++) {
        r[c] = make_rows(N, DIM, 200 + (uint64_t)c, 0, 1);
        for (uint64_t i = 0; i < N; i++)
            r[c].ids[i] ^= 1;
    }
    three_primes(NULL, r);
    for (int c = 0; c < 4; c++)
        free_rows(&r[c]);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(local_prime_leaves_resident_what_it_counts),
        cmocka_unit_test(unordered_prime_leaves_resident_what_it_counts),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
