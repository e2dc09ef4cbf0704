/* The per-thread search scratch (engine/index/scratch.c): many searches in
 * a row on one thread, searches on several threads, and a search nested in
 * a held scratch area give the same ids and score bits as searches that
 * each start from a fresh area; the area shrinks after a run of small
 * searches and never caches a need above its ceiling; a populating load
 * sizes it for the index. Leaks show under
 * valgrind (areas of exited threads, the main thread's at exit). */
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ruvector/ruvector.h>

#include "index/scratch.h"

#define TESTDATA_SEED 0x5c4a7c11ull
#define TESTDATA_TMPDIR "/tmp/ruv-scratch-test-XXXXXX"
#include "testdata.h"

enum { N = 3000, D = 32, NQ = 12, NIDX = 3, KMAX = 100 };

static const uint32_t ks[] = {1, 10, KMAX};
enum { NK = sizeof ks / sizeof ks[0] };

static ruv_index *idx[NIDX];
static float *queries;
/* reference answers, each from a fresh area: [index][k][query][slot] */
static uint64_t ref_ids[NIDX][NK][NQ][KMAX];
static uint32_t ref_bits[NIDX][NK][NQ][KMAX];
static size_t ref_found[NIDX][NK][NQ];

static uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* Searches query q of index i at k slot j; 0 when it matches the reference. */
static int search_matches(int i, int j, int q)
{
    ruv_search_params sp;
    ruv_search_params_init(&sp, ks[j]);
    uint64_t ids[KMAX];
    float scores[KMAX];
    size_t nf = 0;
    if (ruv_index_search(idx[i], queries + (size_t)q * D, &sp, ids, scores, &nf) != RUV_OK)
        return -1;
    if (nf != ref_found[i][j][q])
        return -2;
    for (uint32_t s = 0; s < ks[j]; s++)
        if (ids[s] != ref_ids[i][j][q][s] || bits_of(scores[s]) != ref_bits[i][j][q][s])
            return -3;
    return 0;
}

static int setup(void **state)
{
    if (group_setup(state))
        return -1;
    float *x = clustered(N, D, 16, 0.3f);
    queries = clustered(NQ, D, 16, 0.3f);
    const int types[NIDX] = {RUV_INDEX_FLAT_F32, RUV_INDEX_RABITQ_PLUS, RUV_INDEX_RABITQ_PLUS};
    const int metrics[NIDX] = {RUV_METRIC_L2, RUV_METRIC_L2, RUV_METRIC_COSINE};
    for (int i = 0; i < NIDX; i++) {
        ruv_index_params p;
        ruv_index_params_init(&p, types[i], metrics[i], D);
        if (ruv_index_build(eng, &p, x, N, NULL, &idx[i]) != RUV_OK)
            return -1;
    }
    free(x);
    for (int i = 0; i < NIDX; i++)
        for (int j = 0; j < NK; j++)
            for (int q = 0; q < NQ; q++) {
                ruv__scratch_release(); /* a fresh area: what every search had before */
                ruv_search_params sp;
                ruv_search_params_init(&sp, ks[j]);
                float scores[KMAX];
                if (ruv_index_search(idx[i], queries + (size_t)q * D, &sp, ref_ids[i][j][q],
                                     scores, &ref_found[i][j][q]) != RUV_OK)
                    return -1;
                for (uint32_t s = 0; s < ks[j]; s++)
                    ref_bits[i][j][q][s] = bits_of(scores[s]);
            }
    return 0;
}

static int teardown(void **state)
{
    for (int i = 0; i < NIDX; i++)
        ruv_index_free(idx[i]);
    free(queries);
    return group_teardown(state);
}

/* Every (index, k, query) in an order that alternates indexes and sizes. */
static int run_all(int rounds)
{
    for (int r = 0; r < rounds; r++)
        for (int q = 0; q < NQ; q++)
            for (int j = 0; j < NK; j++)
                for (int i = 0; i < NIDX; i++) {
                    int rc = search_matches((i + r) % NIDX, (j + q) % NK, q);
                    if (rc)
                        return rc;
                }
    return 0;
}

static void many_in_a_row(void **state)
{
    (void)state;
    assert_int_equal(run_all(3), 0);
    assert_true(ruv__scratch_cached_bytes() > 0); /* the area was kept */
    ruv__scratch_release();
    assert_int_equal(ruv__scratch_cached_bytes(), 0);
}

static void *thread_main(void *arg)
{
    (void)arg;
    intptr_t rc = run_all(2);
    /* this thread's area is freed by the key's destructor as it exits */
    return (void *)rc;
}

static void several_threads(void **state)
{
    (void)state;
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, thread_main, NULL), 0);
    for (int i = 0; i < 4; i++) {
        void *rc;
        assert_int_equal(pthread_join(t[i], &rc), 0);
        assert_int_equal((intptr_t)rc, 0);
    }
}

/* A search while this thread's area is held (as when a pool thread runs
 * queued searches while its own search waits) gets its own block: same
 * answers, and the held area is left as it was. */
static void nested_search(void **state)
{
    (void)state;
    struct ruv__scratch outer;
    assert_int_equal(ruv__scratch_take(1 << 20, D, KMAX, &outer), RUV_OK);
    assert_int_equal(outer.cached, 1);
    memset(outer.scratch, 0xA5, 1 << 20);
    assert_int_equal(run_all(1), 0);
    const unsigned char *p = outer.scratch;
    size_t changed = 0;
    for (size_t i = 0; i < (1 << 20); i++)
        changed += p[i] != 0xA5;
    assert_int_equal(changed, 0);
    struct ruv__scratch inner; /* a second take while held: not the area */
    assert_int_equal(ruv__scratch_take(64, D, 1, &inner), RUV_OK);
    assert_int_equal(inner.cached, 0);
    assert_ptr_not_equal(inner.block, outer.block);
    ruv__scratch_give(&inner);
    ruv__scratch_give(&outer);
    assert_int_equal(run_all(1), 0); /* and the area is usable again */
    ruv__scratch_release();
}

/* A batch (chunks on pool threads, each holding its thread's area) answers
 * as the single searches did: the same bits for the RaBitQ indexes. The flat
 * index's batch scores a tile of queries with BLAS when the engine has one,
 * whose sums round differently from the single-query kernel, so there the
 * scores agree to float rounding and ids up to ties within it. */
static void batch_matches(void **state)
{
    (void)state;
    for (int i = 0; i < NIDX; i++)
        for (int j = 0; j < NK; j++) {
            ruv_search_params sp;
            ruv_search_params_init(&sp, ks[j]);
            uint64_t *ids = malloc(sizeof(uint64_t) * NQ * ks[j]);
            float *scores = malloc(sizeof(float) * NQ * ks[j]);
            size_t nf[NQ];
            assert_int_equal(
                ruv_index_search_batch(idx[i], queries, NQ, &sp, ids, scores, nf), RUV_OK);
            for (int q = 0; q < NQ; q++) {
                assert_int_equal(nf[q], ref_found[i][j][q]);
                for (uint32_t s = 0; s < ks[j]; s++) {
                    float got = scores[q * ks[j] + s], want;
                    uint32_t wb = ref_bits[i][j][q][s];
                    memcpy(&want, &wb, sizeof want);
                    if (i != 0) {
                        assert_true(ids[q * ks[j] + s] == ref_ids[i][j][q][s]);
                        assert_int_equal(bits_of(got), wb);
                        continue;
                    }
                    assert_true(fabsf(got - want) <= 1e-5f * (1.0f + fabsf(want)));
                    if (ids[q * ks[j] + s] != ref_ids[i][j][q][s]) { /* only a near tie */
                        float tol = 1e-5f * (1.0f + fabsf(got));
                        int tie_after = s + 1 < ks[j] &&
                                        fabsf(scores[q * ks[j] + s + 1] - got) <= tol;
                        int tie_before = s > 0 && fabsf(scores[q * ks[j] + s - 1] - got) <= tol;
                        assert_true(tie_after || tie_before);
                    }
                }
            }
            free(ids);
            free(scores);
        }
}

static void shrinks_and_caps(void **state)
{
    (void)state;
    ruv__scratch_release();
    struct ruv__scratch s;
    assert_int_equal(ruv__scratch_take(8 << 20, D, 10, &s), RUV_OK);
    ruv__scratch_give(&s);
    const size_t big = ruv__scratch_cached_bytes();
    assert_true(big >= (8u << 20));
    for (unsigned i = 0; i + 1 < RUV__SCRATCH_SHRINK_AFTER; i++) {
        assert_int_equal(ruv__scratch_take(4096, D, 10, &s), RUV_OK);
        ruv__scratch_give(&s);
    }
    assert_int_equal(ruv__scratch_cached_bytes(), big); /* not yet */
    assert_int_equal(ruv__scratch_take(4096, D, 10, &s), RUV_OK);
    ruv__scratch_give(&s);
    assert_true(ruv__scratch_cached_bytes() < (1u << 20)); /* sized to the small need */
    assert_true(ruv__scratch_cached_bytes() >= 4096);
    /* a need above the ceiling is served for the call only */
    assert_int_equal(ruv__scratch_take(RUV__SCRATCH_CACHE_MAX + 1, D, 10, &s), RUV_OK);
    assert_int_equal(s.cached, 0);
    ruv__scratch_give(&s);
    assert_true(ruv__scratch_cached_bytes() < (1u << 20));
    assert_int_equal(run_all(1), 0);
    /* the main thread's area is left for the library's exit destructor */
}

/* A load with RUV_INDEX_LOAD_POPULATE leaves this thread's area sized for
 * a k = 10 search of the index; a plain load does not touch it. */
static void populate_reserves(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/rq.rvx", tmpdir);
    assert_int_equal(ruv_index_save(idx[1], path), RUV_OK);
    ruv_index *a = NULL;
    ruv__scratch_release();
    assert_int_equal(ruv_index_load_ex(eng, path, 0, &a), RUV_OK);
    assert_int_equal(ruv__scratch_cached_bytes(), 0);
    ruv_index_free(a);
    assert_int_equal(ruv_index_load_ex(eng, path, RUV_INDEX_LOAD_POPULATE, &a), RUV_OK);
    const size_t reserved = ruv__scratch_cached_bytes();
    assert_true(reserved > 0);
    ruv_search_params sp;
    ruv_search_params_init(&sp, 10);
    uint64_t ids[10];
    float scores[10];
    size_t nf;
    assert_int_equal(ruv_index_search(a, queries, &sp, ids, scores, &nf), RUV_OK);
    assert_int_equal(ruv__scratch_cached_bytes(), reserved); /* the search fit in it */
    assert_int_equal(nf, ref_found[1][1][0]);
    for (int s = 0; s < 10; s++)
        assert_true(ids[s] == ref_ids[1][1][0][s]);
    ruv_index_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(many_in_a_row), cmocka_unit_test(several_threads),
        cmocka_unit_test(nested_search), cmocka_unit_test(batch_matches),
        cmocka_unit_test(shrinks_and_caps), cmocka_unit_test(populate_reserves),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
