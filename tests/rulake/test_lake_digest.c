/* The content digest on a pool (digest_pool.c) against the serial one:
 * the spec's two-leaf vector, the same digest for any leaf order and an
 * id order given apart from the rows, and the first bad row in id order
 * named as the serial check names it, wherever in which leaf it sits. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lake_test.h"
#include "crypto.h"
#include "digest_pool.h"
#include "witness.h"

/* A pool of two threads that runs the chunks last first: one chunk on a
 * second thread, the rest backwards on the caller. */
struct chunk_run {
    void (*fn)(void *, size_t, size_t, unsigned);
    void *ctx;
    size_t begin, end;
};

static void *run_chunk(void *p)
{
    struct chunk_run *r = p;
    r->fn(r->ctx, r->begin, r->end, 1);
    return NULL;
}

static int calls;

static int backwards_parallel_for(const struct ruv_host *host, unsigned threads, size_t n,
                                  size_t grain, void (*fn)(void *, size_t, size_t, unsigned),
                                  void *ctx)
{
    (void)host;
    (void)threads;
    (void)grain;
    calls++;
    if (n == 0)
        return RUV_OK;
    pthread_t t;
    struct chunk_run last = {fn, ctx, n - 1, n};
    if (pthread_create(&t, NULL, run_chunk, &last) != 0)
        return RUV_E_NOMEM;
    for (size_t i = n - 1; i-- > 0;)
        fn(ctx, i, i + 1, 0);
    pthread_join(t, NULL);
    return RUV_OK;
}

static const char *no_error(void) { return ""; }

static struct ruv_host pool_host(void)
{
    struct ruv_host h;
    memset(&h, 0, sizeof h);
    h.struct_size = sizeof h;
    h.parallel_for = backwards_parallel_for;
    h.last_error = no_error;
    return h;
}

enum { N = 50000, DIM = 3 };

static void make_rows(uint64_t *ids, float *rows)
{
    for (int i = 0; i < N; i++) {
        ids[i] = 2u * (uint64_t)i + 7;
        for (int c = 0; c < DIM; c++)
            rows[DIM * i + c] = (float)((i * 31 + c * 7) % 101) - 50.0f;
    }
}

static void spec_two_leaves_on_a_pool(void **state)
{
    (void)state;
    enum { M = 20000 };
    uint64_t *ids = malloc(M * sizeof *ids);
    float *rows = malloc(M * 4 * sizeof *rows);
    assert_non_null(ids);
    assert_non_null(rows);
    for (int i = 0; i < M; i++) {
        ids[i] = 3u * (uint64_t)i + 1;
        rows[4 * i] = (float)(i % 7);
        rows[4 * i + 1] = (i % 5) ? -(float)(i % 5) : 0.0f;
        rows[4 * i + 2] = 0.5f;
        rows[4 * i + 3] = 1.0f;
    }
    struct ruv_host h = pool_host();
    uint8_t d[32];
    calls = 0;
    for (int check = 0; check < 2; check++) {
        assert_ok(ruv__lake_digest_pooled(&h, ids, rows, NULL, M, 4, check, d));
        assert_hex(d, 32, "51fe9d213a9534df13b6c6bb3c52fce384b95deb67cf490bc250342f5524d473");
    }
    assert_int_equal(calls, 2); /* the pool ran it, both times */
    free(ids);
    free(rows);
}

/* Four leaves, rows stored backwards with an order array: the same digest
 * as the serial function over the rows in id order. */
static void pooled_equals_serial(void **state)
{
    (void)state;
    uint64_t *ids = malloc(N * sizeof *ids), *rid = malloc(N * sizeof *rid);
    uint64_t *order = malloc(N * sizeof *order);
    float *rows = malloc(N * DIM * sizeof *rows), *rrows = malloc(N * DIM * sizeof *rrows);
    assert_true(ids && rid && order && rows && rrows);
    make_rows(ids, rows);
    for (int i = 0; i < N; i++) { /* row i stored at N-1-i */
        rid[N - 1 - i] = ids[i];
        memcpy(rrows + (size_t)(N - 1 - i) * DIM, rows + (size_t)i * DIM, DIM * sizeof *rows);
        order[i] = (uint64_t)(N - 1 - i);
    }
    uint8_t serial[32], pooled[32], reordered[32];
    assert_ok(ruv__lake_content_digest(ids, rows, NULL, N, DIM, serial));
    struct ruv_host h = pool_host();
    assert_ok(ruv__lake_digest_pooled(&h, ids, rows, NULL, N, DIM, 1, pooled));
    assert_memory_equal(serial, pooled, 32);
    assert_ok(ruv__lake_digest_pooled(&h, rid, rrows, order, N, DIM, 1, reordered));
    assert_memory_equal(serial, reordered, 32);
    /* No pool: the serial path, the same digest. */
    assert_ok(ruv__lake_digest_pooled(NULL, rid, rrows, order, N, DIM, 1, reordered));
    assert_memory_equal(serial, reordered, 32);
    free(ids);
    free(rid);
    free(order);
    free(rows);
    free(rrows);
}

/* A bad row at a leaf's first row, its last, and in two leaves at once:
 * the pooled check names what the serial check names (the first in id
 * order), though the later leaf's task runs first. */
static void first_bad_row_in_id_order(void **state)
{
    (void)state;
    uint64_t *ids = malloc(N * sizeof *ids);
    float *rows = malloc(N * DIM * sizeof *rows);
    assert_true(ids && rows);
    struct ruv_host h = pool_host();
    uint8_t d[32];
    const uint64_t L = RUV_LAKE_CONTENT_LEAF_ROWS;
    struct {
        uint64_t row;
        int kind; /* 0 NaN, 1 duplicate of the previous id, 2 step back */
        const char *want;
    } cases[] = {
        {L, 1, "duplicate id"},            /* leaf 1's first row: the boundary */
        {L - 1, 0, "component 0 is NaN"},  /* leaf 0's last row */
        {2 * L, 2, "ids not ascending"},   /* leaf 2's first row */
        {N - 1, 0, "component 0 is NaN"},  /* the last leaf */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        make_rows(ids, rows);
        uint64_t r = cases[c].row;
        if (cases[c].kind == 0)
            rows[r * DIM] = __builtin_nanf("");
        else if (cases[c].kind == 1)
            ids[r] = ids[r - 1];
        else
            ids[r] = ids[r - 1] - 1;
        /* A second, later bad row in another leaf must not be the one named. */
        if (r + L + 5 < N)
            rows[(r + L + 5) * DIM + 1] = __builtin_inff();
        char serial[512];
        int st = ruv__lake_content_digest(ids, rows, NULL, N, DIM, d);
        assert_int_equal(st, RUV_E_INVAL);
        snprintf(serial, sizeof serial, "%s", ruv__detail_get());
        assert_non_null(strstr(serial, cases[c].want));
        assert_status(ruv__lake_digest_pooled(&h, ids, rows, NULL, N, DIM, 1, d), RUV_E_INVAL,
                      cases[c].want);
        assert_string_equal(ruv__detail_get(), serial);
    }
    free(ids);
    free(rows);
}

int main(void)
{
    if (ruv__lake_crypto_load(NULL) != RUV_OK)
        return 77; /* no libcrypto on this machine: skipped */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spec_two_leaves_on_a_pool),
        cmocka_unit_test(pooled_equals_serial),
        cmocka_unit_test(first_bad_row_in_id_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
