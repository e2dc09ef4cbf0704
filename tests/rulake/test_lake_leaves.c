/* The LocalBackend computes its content digest as rows are put and keeps
 * it per leaf (backend_local.c): after every kind of change (a replaced
 * row, an insert that shifts the rows after it, an append, deletes at and
 * around leaf boundaries, a collection emptied and refilled) its describe
 * gives the digest the serial §6.2 function computes over the same rows,
 * and the spec's vectors; describes running while another thread puts
 * rows see, for each generation, that generation's digest. A leaf kept
 * from before a change when its rows moved would fail these. */
#include "config.h"

#include <string.h>

#include "lake_cache_test.h"
#include "witness.h"

enum { DIM = 4, L = RUV_LAKE_CONTENT_LEAF_ROWS };

/* The reference: the rows the backend should hold, sorted by id. */
struct model {
    uint64_t n, cap;
    uint64_t *ids;
    float *v;
};

static void model_put(struct model *m, uint64_t id, const float *row)
{
    uint64_t lo = 0, hi = m->n;
    while (lo < hi) {
        uint64_t mid = (lo + hi) / 2;
        if (m->ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == m->n || m->ids[lo] != id) {
        if (m->n == m->cap) {
            m->cap = m->cap ? 2 * m->cap : 1024;
            m->ids = realloc(m->ids, m->cap * sizeof *m->ids);
            m->v = realloc(m->v, m->cap * DIM * sizeof *m->v);
            assert_non_null(m->ids);
            assert_non_null(m->v);
        }
        memmove(m->ids + lo + 1, m->ids + lo, (m->n - lo) * sizeof *m->ids);
        memmove(m->v + (lo + 1) * DIM, m->v + lo * DIM, (m->n - lo) * DIM * sizeof *m->v);
        m->n++;
        m->ids[lo] = id;
    }
    memcpy(m->v + lo * DIM, row, DIM * sizeof *m->v);
}

static void model_delete(struct model *m, uint64_t id)
{
    for (uint64_t i = 0; i < m->n; i++)
        if (m->ids[i] == id) {
            memmove(m->ids + i, m->ids + i + 1, (m->n - i - 1) * sizeof *m->ids);
            memmove(m->v + i * DIM, m->v + (i + 1) * DIM, (m->n - i - 1) * DIM * sizeof *m->v);
            m->n--;
            return;
        }
}

static void describe(struct ruv_lake_backend *b, struct ruv_lake_desc *d)
{
    memset(d, 0, sizeof *d);
    d->struct_size = sizeof *d;
    assert_lake(b->describe(b->state, "c", d), RUV_OK, NULL);
    assert_int_equal(d->has_digest, 1);
}

/* The backend's digest and count against the model's serial digest. */
static void agrees(struct ruv_lake_backend *b, const struct model *m, const char *what)
{
    uint8_t want[32];
    assert_ok(ruv__lake_content_digest(m->ids, m->v, NULL, m->n, DIM, want));
    struct ruv_lake_desc d;
    describe(b, &d);
    if (d.count != m->n || memcmp(d.content_digest, want, 32) != 0)
        fail_msg("after %s: count %llu (want %llu) or digest differs", what,
                 (unsigned long long)d.count, (unsigned long long)m->n);
}

static void upsert(struct ruv_lake_local *lb, struct model *m, const uint64_t *ids,
                   const float *rows, uint64_t n)
{
    assert_lake(ops->local_upsert(lb, "c", ids, rows, n, DIM), RUV_OK, NULL);
    for (uint64_t i = 0; i < n; i++)
        model_put(m, ids[i], rows + i * DIM);
}

static void delete_ids(struct ruv_lake_local *lb, struct model *m, const uint64_t *ids,
                       uint64_t n)
{
    uint64_t removed = 0;
    assert_lake(ops->local_delete(lb, "c", ids, n, &removed), RUV_OK, NULL);
    for (uint64_t i = 0; i < n; i++)
        model_delete(m, ids[i]);
}

static void every_change_keeps_the_spec_digest(void **state)
{
    (void)state;
    struct ruv_lake_local *lb;
    struct ruv_lake_backend b;
    assert_lake(ops->local_new(ps, "hot", &lb), RUV_OK, NULL);
    assert_lake(ops->local_backend(lb, &b), RUV_OK, NULL);
    struct model m = {0};

    /* Three leaves and a bit: ids 10, 20, ... so that inserts fit between. */
    struct rows r = make_rows(2 * L + 5000, DIM, 5, 10, 10);
    upsert(lb, &m, r.ids, r.v, r.n);
    agrees(&b, &m, "the first put");

    float row[DIM] = {0.25f, -1.0f, 3.0f, -0.0f};
    uint64_t id = r.ids[L + 7]; /* a row of leaf 1 replaced: no row moves */
    upsert(lb, &m, &id, row, 1);
    agrees(&b, &m, "a replaced row in leaf 1");
    id = r.ids[L - 1]; /* leaf 0's last row */
    row[0] = 9.0f;
    upsert(lb, &m, &id, row, 1);
    agrees(&b, &m, "a replaced row at the end of leaf 0");
    id = r.ids[L + 100] + 5; /* an insert: the rows after it shift */
    upsert(lb, &m, &id, row, 1);
    agrees(&b, &m, "an insert in leaf 1");
    id = 1; /* before every row: all leaves shift */
    upsert(lb, &m, &id, row, 1);
    agrees(&b, &m, "an insert before the first row");
    id = UINT64_MAX; /* an append: only the last leaf changes */
    upsert(lb, &m, &id, row, 1);
    agrees(&b, &m, "an append");

    /* Deletes: the first row of leaf 1, then rows on both sides of a
     * boundary, then enough rows that the last leaf goes. */
    uint64_t del = m.ids[L];
    delete_ids(lb, &m, &del, 1);
    agrees(&b, &m, "a delete at the start of leaf 1");
    uint64_t two[2] = {m.ids[2 * L - 1], m.ids[2 * L]};
    delete_ids(lb, &m, two, 2);
    agrees(&b, &m, "deletes across the boundary of leaves 1 and 2");
    uint64_t tail_n = m.n - 2 * L;
    uint64_t *tail = malloc(tail_n * sizeof *tail);
    memcpy(tail, m.ids + 2 * L, tail_n * sizeof *tail);
    delete_ids(lb, &m, tail, tail_n);
    assert_int_equal(m.n, 2 * L);
    agrees(&b, &m, "deletes down to exactly two leaves");
    free(tail);
    id = m.ids[m.n - 1] + 1; /* one row over the boundary: a new leaf of 1 row */
    upsert(lb, &m, &id, row, 1);
    agrees(&b, &m, "one row into a new leaf");

    /* Emptied, then refilled; and a put_collection of n = 0. */
    uint64_t *all = malloc(m.n * sizeof *all);
    memcpy(all, m.ids, m.n * sizeof *all);
    uint64_t all_n = m.n;
    delete_ids(lb, &m, all, all_n);
    free(all);
    struct ruv_lake_desc d;
    describe(&b, &d);
    assert_int_equal(d.count, 0);
    assert_hex(d.content_digest, 32,
               "2d02d3a8bdc3d98e2cd790b287f80c75bb61fc7be6b1fb6c8af4ee9249660561");
    upsert(lb, &m, r.ids, r.v, 100);
    agrees(&b, &m, "a refill");
    assert_lake(ops->local_put_collection(lb, "c", NULL, NULL, 0, DIM), RUV_OK, NULL);
    describe(&b, &d);
    assert_hex(d.content_digest, 32,
               "2d02d3a8bdc3d98e2cd790b287f80c75bb61fc7be6b1fb6c8af4ee9249660561");

    /* The spec's vectors (§6.4): four rows in any order, and two leaves,
     * put in two halves so that the second put keeps leaf 0's digest. */
    const uint64_t ids4[4] = {99, 7, 2000, 42};
    const float v4[16] = {-1, -2, -3, -4, 1, 2, 3, 4, 8, 16, 32, 64, 0.5f, -0.5f, 0.25f, -0.25f};
    assert_lake(ops->local_put_collection(lb, "c", ids4, v4, 4, DIM), RUV_OK, NULL);
    describe(&b, &d);
    assert_hex(d.content_digest, 32,
               "3de7bfbad5f7366a26d126d44b23a0037301c24f5c4a99fb7d7c02dda20fd7c3");
    enum { M = 20000 };
    uint64_t *sid = malloc(M * sizeof *sid);
    float *sv = malloc(M * DIM * sizeof *sv);
    for (uint64_t i = 0; i < M; i++) {
        sid[i] = 3 * i + 1;
        sv[i * DIM] = (float)(i % 7);
        sv[i * DIM + 1] = i % 5 ? -(float)(i % 5) : 0.0f;
        sv[i * DIM + 2] = 0.5f;
        sv[i * DIM + 3] = 1.0f;
    }
    assert_lake(ops->local_put_collection(lb, "c", sid, sv, L + 10, DIM), RUV_OK, NULL);
    assert_lake(ops->local_upsert(lb, "c", sid + L + 10, sv + (L + 10) * DIM, M - L - 10, DIM),
                RUV_OK, NULL);
    describe(&b, &d);
    assert_hex(d.content_digest, 32,
               "51fe9d213a9534df13b6c6bb3c52fce384b95deb67cf490bc250342f5524d473");
    free(sid);
    free(sv);

    free(m.ids);
    free(m.v);
    free_rows(&r);
    b.destroy(b.state);
    ops->local_release(lb);
}

/* A writer puts rows while readers describe: every (generation, digest) a
 * reader sees is the one the writer's model gives that generation. */
enum { ROUNDS = 24, READERS = 2 };

struct race {
    struct ruv_lake_local *lb;
    struct ruv_lake_backend b;
    uint8_t want[ROUNDS + 2][32];
    atomic_int done;
    int bad;
};

static void *reader(void *p)
{
    struct race *rc = p;
    while (!atomic_load(&rc->done)) {
        struct ruv_lake_desc d;
        memset(&d, 0, sizeof d);
        d.struct_size = sizeof d;
        if (rc->b.describe(rc->b.state, "c", &d) != RUV_OK || d.gen_num < 1 ||
            d.gen_num > ROUNDS + 1 || memcmp(d.content_digest, rc->want[d.gen_num], 32) != 0)
            rc->bad = 1;
    }
    return NULL;
}

static void describes_during_puts_see_their_generation(void **state)
{
    (void)state;
    struct race *rc = calloc(1, sizeof *rc);
    assert_lake(ops->local_new(ps, "hot", &rc->lb), RUV_OK, NULL);
    assert_lake(ops->local_backend(rc->lb, &rc->b), RUV_OK, NULL);
    struct model m = {0};
    struct rows r = make_rows(L + 3000, DIM, 9, 2, 2);
    /* The writer's digests first (generation g after the g-th put). */
    for (uint64_t i = 0; i < r.n; i++)
        model_put(&m, r.ids[i], r.v + i * DIM);
    assert_ok(ruv__lake_content_digest(m.ids, m.v, NULL, m.n, DIM, rc->want[1]));
    for (int g = 2; g <= ROUNDS + 1; g++) {
        uint64_t id = (uint64_t)(g % 2 ? 2 * (g * 997 % r.n) + 1 : 2 * (g * 131 % r.n) + 2);
        float row[DIM] = {(float)g, 1, 2, 3};
        model_put(&m, id, row);
        assert_ok(ruv__lake_content_digest(m.ids, m.v, NULL, m.n, DIM, rc->want[g]));
    }
    assert_lake(ops->local_upsert(rc->lb, "c", r.ids, r.v, r.n, DIM), RUV_OK, NULL);
    pthread_t t[READERS];
    for (int i = 0; i < READERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, reader, rc), 0);
    for (int g = 2; g <= ROUNDS + 1; g++) {
        uint64_t id = (uint64_t)(g % 2 ? 2 * (g * 997 % r.n) + 1 : 2 * (g * 131 % r.n) + 2);
        float row[DIM] = {(float)g, 1, 2, 3};
        assert_lake(ops->local_upsert(rc->lb, "c", &id, row, 1, DIM), RUV_OK, NULL);
    }
    atomic_store(&rc->done, 1);
    for (int i = 0; i < READERS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(rc->bad, 0);
    struct ruv_lake_desc d;
    describe(&rc->b, &d);
    assert_int_equal(d.gen_num, ROUNDS + 1);
    assert_memory_equal(d.content_digest, rc->want[ROUNDS + 1], 32);
    rc->b.destroy(rc->b.state);
    ops->local_release(rc->lb);
    free(m.ids);
    free(m.v);
    free_rows(&r);
    free(rc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_change_keeps_the_spec_digest),
        cmocka_unit_test(describes_during_puts_see_their_generation),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
