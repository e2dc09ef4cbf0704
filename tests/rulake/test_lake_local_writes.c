/* The LocalBackend's write path (backend_local.c, local_rows.c): rows it
 * holds alone are edited in place, rows a pull still holds are copied,
 * and a leaf keeps its digest only while its bytes are unchanged. Checked
 * against a plain model after every change of a long random sequence
 * (upserts sorted and not, with new, replaced and identical rows; deletes
 * with absent and repeated ids; whole puts; pulls held across changes),
 * plus the documented rules for a batch with a repeated id and for
 * deletes of absent ids, and pulls racing a writer. */
#include "config.h"

#include <sched.h>
#include <string.h>

#include "lake_cache_test.h"
#include "witness.h"

enum { DIM = 4, L = RUV_LAKE_CONTENT_LEAF_ROWS };

/* ---- the model: rows sorted by id, rebuilt by merging ---- */

struct model {
    uint64_t n;
    uint64_t *ids;
    float *v;
};

struct tagged {
    uint64_t id, seq; /* seq: later rows of one merge win */
    const float *v;
};

static int by_id_seq(const void *a, const void *b)
{
    const struct tagged *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The model after upserting (or, with replace, putting) m rows. */
static void model_merge(struct model *md, const uint64_t *ids, const float *v, uint64_t m,
                        int replace)
{
    uint64_t keep = replace ? 0 : md->n, t = keep + m, o = 0;
    struct tagged *all = malloc((t ? t : 1) * sizeof *all);
    for (uint64_t i = 0; i < keep; i++)
        all[i] = (struct tagged){md->ids[i], i, md->v + i * DIM};
    for (uint64_t i = 0; i < m; i++)
        all[keep + i] = (struct tagged){ids[i], keep + i, v + i * DIM};
    qsort(all, t, sizeof *all, by_id_seq);
    uint64_t *nid = malloc((t ? t : 1) * sizeof *nid);
    float *nv = malloc((t ? t : 1) * DIM * sizeof *nv);
    for (uint64_t i = 0; i < t; i++) {
        if (i + 1 < t && all[i + 1].id == all[i].id)
            continue; /* a later row with this id wins */
        nid[o] = all[i].id;
        memcpy(nv + o * DIM, all[i].v, DIM * sizeof *nv);
        o++;
    }
    free(all);
    free(md->ids);
    free(md->v);
    md->ids = nid;
    md->v = nv;
    md->n = o;
}

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Deletes; returns how many rows went. */
static uint64_t model_delete(struct model *md, const uint64_t *ids, uint64_t m)
{
    uint64_t *s = malloc((m ? m : 1) * sizeof *s), o = 0;
    memcpy(s, ids, m * sizeof *s);
    qsort(s, m, sizeof *s, u64_cmp);
    for (uint64_t i = 0; i < md->n; i++) {
        if (m && bsearch(&md->ids[i], s, m, sizeof *s, u64_cmp))
            continue;
        md->ids[o] = md->ids[i];
        memmove(md->v + o * DIM, md->v + i * DIM, DIM * sizeof *md->v);
        o++;
    }
    free(s);
    uint64_t gone = md->n - o;
    md->n = o;
    return gone;
}

/* ---- checks ---- */

static void describe(struct ruv_lake_backend *b, struct ruv_lake_desc *d)
{
    memset(d, 0, sizeof *d);
    d->struct_size = sizeof *d;
    assert_lake(b->describe(b->state, "c", d), RUV_OK, NULL);
    assert_int_equal(d->has_digest, 1);
}

static void pull(struct ruv_lake_backend *b, struct ruv_lake_batch *bt)
{
    memset(bt, 0, sizeof *bt);
    bt->struct_size = sizeof *bt;
    bt->desc.struct_size = sizeof bt->desc;
    assert_lake(b->pull(b->state, "c", bt), RUV_OK, NULL);
}

static void drop(struct ruv_lake_batch *bt)
{
    if (bt->release)
        bt->release(bt->owner);
    bt->release = NULL;
}

/* The backend holds exactly the model's rows, with the serial digest. */
static void agrees(struct ruv_lake_backend *b, const struct model *md, const char *what)
{
    uint8_t want[32];
    assert_ok(ruv__lake_content_digest(md->ids, md->v, NULL, md->n, DIM, want));
    struct ruv_lake_batch bt;
    pull(b, &bt);
    if (bt.n != md->n || memcmp(bt.desc.content_digest, want, 32) != 0 ||
        (md->n && (memcmp(bt.ids, md->ids, md->n * sizeof *md->ids) != 0 ||
                   memcmp(bt.vectors, md->v, md->n * DIM * sizeof *md->v) != 0)))
        fail_msg("after %s: %llu rows (want %llu), rows or digest differ", what,
                 (unsigned long long)bt.n, (unsigned long long)md->n);
    drop(&bt);
}

/* A batch still held keeps its rows and the digest it came with. */
struct held {
    struct ruv_lake_batch bt;
    uint64_t *ids;
    float *v;
};

static void hold(struct ruv_lake_backend *b, struct held *h)
{
    pull(b, &h->bt);
    uint64_t n = h->bt.n ? h->bt.n : 1;
    h->ids = malloc(n * sizeof *h->ids);
    h->v = malloc(n * DIM * sizeof *h->v);
    memcpy(h->ids, h->bt.ids, h->bt.n * sizeof *h->ids);
    memcpy(h->v, h->bt.vectors, h->bt.n * DIM * sizeof *h->v);
}

static void let_go(struct held *h)
{
    uint8_t got[32];
    if (h->bt.n &&
        (memcmp(h->bt.ids, h->ids, h->bt.n * sizeof *h->ids) != 0 ||
         memcmp(h->bt.vectors, h->v, h->bt.n * DIM * sizeof *h->v) != 0))
        fail_msg("rows a pull held were changed under it");
    assert_ok(ruv__lake_content_digest(h->bt.ids, h->bt.vectors, NULL, h->bt.n, DIM, got));
    assert_memory_equal(got, h->bt.desc.content_digest, 32);
    drop(&h->bt);
    free(h->ids);
    free(h->v);
}

static struct ruv_lake_local *open_local(struct ruv_lake_backend *b)
{
    struct ruv_lake_local *lb;
    assert_lake(ops->local_new(ps, "hot", &lb), RUV_OK, NULL);
    assert_lake(ops->local_backend(lb, b), RUV_OK, NULL);
    return lb;
}

static void close_local(struct ruv_lake_local *lb, struct ruv_lake_backend *b)
{
    b->destroy(b->state);
    ops->local_release(lb);
}

/* ---- the documented rules ---- */

/* A batch that names an id twice is refused as a whole (RUV_E_INVAL
 * naming the id), in upsert and put_collection alike: which row would win
 * is not guessed. The collection stays as it was, generation included. */
static void a_repeated_id_in_one_batch_is_refused(void **state)
{
    (void)state;
    struct ruv_lake_backend b;
    struct ruv_lake_local *lb = open_local(&b);
    const uint64_t ids[3] = {5, 9, 7};
    const float v[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    assert_lake(ops->local_upsert(lb, "c", ids, v, 3, DIM), RUV_OK, NULL);
    struct ruv_lake_desc before, after;
    describe(&b, &before);

    const uint64_t twice[4] = {11, 9, 12, 9}; /* 9 twice, and 9 is present */
    const float w[16] = {0};
    assert_lake(ops->local_upsert(lb, "c", twice, w, 4, DIM), RUV_E_INVAL, "duplicate id 9");
    assert_lake(ops->local_put_collection(lb, "c", twice, w, 4, DIM), RUV_E_INVAL,
                "duplicate id 9");
    const uint64_t sorted_twice[3] = {20, 21, 21}; /* already ascending but for the repeat */
    assert_lake(ops->local_upsert(lb, "c", sorted_twice, w, 3, DIM), RUV_E_INVAL,
                "duplicate id 21");
    describe(&b, &after);
    assert_int_equal(after.gen_num, before.gen_num);
    assert_int_equal(after.count, 3);
    assert_memory_equal(after.content_digest, before.content_digest, 32);
    close_local(lb, &b);
}

/* A delete removes the ids present and ignores the others (absent ids and
 * repeats are no error); *removed counts rows removed, and a delete that
 * removes nothing is no change (same generation). */
static void deletes_of_absent_or_repeated_ids(void **state)
{
    (void)state;
    struct ruv_lake_backend b;
    struct ruv_lake_local *lb = open_local(&b);
    struct model md = {0};
    /* ids 0 and UINT64_MAX too: the delete's hash set treats 0 apart. */
    const uint64_t ids[5] = {0, 3, 7, 40, UINT64_MAX};
    float v[20];
    for (int i = 0; i < 20; i++)
        v[i] = (float)i - 7.5f;
    assert_lake(ops->local_upsert(lb, "c", ids, v, 5, DIM), RUV_OK, NULL);
    model_merge(&md, ids, v, 5, 0);
    struct ruv_lake_desc d;
    describe(&b, &d);
    uint64_t gen = d.gen_num, removed = 99;

    const uint64_t none[3] = {1, 2, 41};
    assert_lake(ops->local_delete(lb, "c", none, 3, &removed), RUV_OK, NULL);
    assert_int_equal(removed, 0);
    describe(&b, &d);
    assert_int_equal(d.gen_num, gen);

    const uint64_t some[6] = {7, 7, 1, 0, 7, 99};
    assert_lake(ops->local_delete(lb, "c", some, 6, &removed), RUV_OK, NULL);
    assert_int_equal(removed, 2);
    assert_int_equal(model_delete(&md, some, 6), 2);
    describe(&b, &d);
    assert_int_equal(d.gen_num, gen + 1);
    agrees(&b, &md, "deleting 0 and 7 among absent and repeated ids");

    const uint64_t last[2] = {UINT64_MAX, UINT64_MAX};
    assert_lake(ops->local_delete(lb, "c", last, 2, NULL), RUV_OK, NULL);
    model_delete(&md, last, 2);
    agrees(&b, &md, "deleting UINT64_MAX twice over");
    assert_lake(ops->local_delete(lb, "c", NULL, 0, &removed), RUV_OK, NULL);
    assert_int_equal(removed, 0);
    assert_lake(ops->local_delete(lb, "nope", ids, 1, &removed), RUV_E_NOTFOUND, "nope");
    free(md.ids);
    free(md.v);
    close_local(lb, &b);
}

/* ---- a long random sequence against the model ---- */

static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* m distinct ids below range, in random order (or ascending). */
static void pick_ids(uint64_t *s, uint64_t *ids, uint64_t m, uint64_t range, int ascending)
{
    uint8_t *used = calloc(range, 1);
    for (uint64_t k = 0; k < m;) {
        uint64_t id = next(s) % range;
        if (!used[id]) {
            used[id] = 1;
            ids[k++] = id;
        }
    }
    if (ascending)
        for (uint64_t id = 0, k = 0; id < range; id++)
            if (used[id])
                ids[k++] = id;
    free(used);
}

static void random_changes_match_the_model(void **state)
{
    (void)state;
    enum { RANGE = 3 * L + 4000, OPS = 160 };
    struct ruv_lake_backend b;
    struct ruv_lake_local *lb = open_local(&b);
    struct model md = {0};
    uint64_t s = 0x5eed5eedu;
    uint64_t *ids = malloc(RANGE * sizeof *ids);
    float *v = malloc((size_t)RANGE * DIM * sizeof *v);
    struct held h;
    int holding = 0;
    for (int op = 0; op < OPS; op++) {
        uint64_t kind = next(&s) % 10, m;
        char what[96];
        /* Sometimes a pull holds the rows across the change: it is then
         * made on new rows, and the held ones must not move. */
        if (op > 0 && !holding && next(&s) % 3 == 0) {
            hold(&b, &h);
            holding = 1;
        }
        if (kind < 5 || md.n == 0) { /* upsert: new ids, present ids, both */
            m = 1 + next(&s) % (next(&s) % 4 == 0 ? 2 * L : 600);
            pick_ids(&s, ids, m, RANGE, (int)(next(&s) % 2));
            for (uint64_t i = 0; i < m * DIM; i++)
                v[i] = (float)(next(&s) % 9) - 4.0f; /* small values: repeats happen */
            if (next(&s) % 4 == 0 && md.n) {
                /* Rows rewritten with their own bytes (their leaves keep
                 * their digests), one of them really changed. */
                m = 0;
                uint64_t total = md.n < 500 ? md.n : 500;
                for (uint64_t i = 0; i < total; i++) {
                    ids[m] = md.ids[(i * 7919) % md.n];
                    memcpy(v + m * DIM, md.v + ((i * 7919) % md.n) * DIM, DIM * sizeof *v);
                    int dup = 0;
                    for (uint64_t k = 0; k < m && !dup; k++)
                        dup = ids[k] == ids[m];
                    m += !dup;
                }
                v[0] += 1.0f; /* one row really changes */
            }
            assert_lake(ops->local_upsert(lb, "c", ids, v, m, DIM), RUV_OK, NULL);
            model_merge(&md, ids, v, m, 0);
            snprintf(what, sizeof what, "op %d: upsert of %llu", op, (unsigned long long)m);
        } else if (kind < 8) { /* delete: present, absent and repeated ids */
            m = 1 + next(&s) % (next(&s) % 4 == 0 ? md.n + 10 : 300);
            for (uint64_t i = 0; i < m; i++)
                ids[i] = next(&s) % 2 ? md.ids[next(&s) % md.n] : next(&s) % RANGE;
            uint64_t removed = 0;
            assert_lake(ops->local_delete(lb, "c", ids, m, &removed), RUV_OK, NULL);
            assert_int_equal(removed, model_delete(&md, ids, m));
            snprintf(what, sizeof what, "op %d: delete of %llu ids (%llu there)", op,
                     (unsigned long long)m, (unsigned long long)removed);
        } else { /* a whole put: the same rows with a few changed, or others */
            m = md.n;
            memcpy(ids, md.ids, m * sizeof *ids);
            memcpy(v, md.v, m * DIM * sizeof *v);
            if (next(&s) % 2 && m) {
                v[(next(&s) % m) * DIM + 1] = -0.0f;
            } else {
                m = next(&s) % (2 * L);
                pick_ids(&s, ids, m, RANGE, 0);
                for (uint64_t i = 0; i < m * DIM; i++)
                    v[i] = (float)(next(&s) % 9) - 4.0f;
            }
            assert_lake(ops->local_put_collection(lb, "c", ids, v, m, DIM), RUV_OK, NULL);
            model_merge(&md, ids, v, m, 1);
            snprintf(what, sizeof what, "op %d: put of %llu", op, (unsigned long long)m);
        }
        agrees(&b, &md, what);
        if (holding && next(&s) % 2) {
            let_go(&h);
            holding = 0;
        }
    }
    if (holding)
        let_go(&h);
    free(ids);
    free(v);
    free(md.ids);
    free(md.v);
    close_local(lb, &b);
}

/* Unsorted batches are put in id order by a radix sort: ids over the
 * whole 64-bit range (every byte differs somewhere), and ids sharing all
 * but three low bytes (an odd number of passes), come out as the model
 * sorts them. */
static void unsorted_batches_of_any_ids(void **state)
{
    (void)state;
    enum { M = 5000 };
    struct ruv_lake_backend b;
    struct ruv_lake_local *lb = open_local(&b);
    struct model md = {0};
    uint64_t s = 0xabcdef12345u, *ids = malloc(M * sizeof *ids);
    float *v = malloc(M * DIM * sizeof *v);
    for (int round = 0; round < 3; round++) {
        for (uint64_t i = 0; i < M; i++) {
            ids[i] = round == 1 ? 0xfedcba9800000000u + (i * 7919) % M * 3001 : next(&s);
            for (int d = 0; d < DIM; d++)
                v[i * DIM + d] = (float)(next(&s) % 1000) / 8.0f;
        }
        if (round == 2) { /* the same ids once more, new values, shuffled */
            memcpy(ids, md.ids, M * sizeof *ids);
            for (uint64_t i = M - 1; i > 0; i--) {
                uint64_t j = next(&s) % (i + 1), t = ids[i];
                ids[i] = ids[j];
                ids[j] = t;
            }
        }
        int dup = 0; /* random ids could repeat: then the call must refuse */
        for (uint64_t i = 0; i < M && !dup; i++)
            for (uint64_t k = 0; k < i && !dup; k++)
                dup = ids[i] == ids[k];
        assert_lake(ops->local_upsert(lb, "c", ids, v, M, DIM), dup ? RUV_E_INVAL : RUV_OK,
                    NULL);
        if (!dup)
            model_merge(&md, ids, v, M, 0);
        agrees(&b, &md, "an unsorted batch");
    }
    free(ids);
    free(v);
    free(md.ids);
    free(md.v);
    close_local(lb, &b);
}

/* ---- pulls racing a writer ---- */

enum { READERS = 2, WRITES = 40 };

struct race {
    struct ruv_lake_backend b;
    atomic_int done;
    atomic_int bad, pulls;
};

/* Each pull's rows must hash to the digest that came with them, also after
 * the writer has moved on (rows held are never edited in place). */
static void *puller(void *p)
{
    struct race *rc = p;
    while (!atomic_load(&rc->done)) {
        struct ruv_lake_batch bt;
        memset(&bt, 0, sizeof bt);
        bt.struct_size = sizeof bt;
        bt.desc.struct_size = sizeof bt.desc;
        if (rc->b.pull(rc->b.state, "c", &bt) != RUV_OK) {
            atomic_store(&rc->bad, 1);
            continue;
        }
        uint8_t got[32];
        for (int twice = 0; twice < 2; twice++) {
            if (ruv__lake_content_digest(bt.ids, bt.vectors, NULL, bt.n, DIM, got) != RUV_OK ||
                memcmp(got, bt.desc.content_digest, 32) != 0)
                atomic_store(&rc->bad, 1);
            sched_yield();
        }
        if (bt.release)
            bt.release(bt.owner);
        atomic_fetch_add(&rc->pulls, 1);
    }
    return NULL;
}

static void pulls_during_writes_keep_their_rows(void **state)
{
    (void)state;
    struct race *rc = calloc(1, sizeof *rc);
    struct ruv_lake_local *lb = open_local(&rc->b);
    struct model md = {0};
    struct rows r = make_rows(L + 3000, DIM, 11, 2, 2);
    assert_lake(ops->local_upsert(lb, "c", r.ids, r.v, r.n, DIM), RUV_OK, NULL);
    model_merge(&md, r.ids, r.v, r.n, 0);
    pthread_t t[READERS];
    for (int i = 0; i < READERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, puller, rc), 0);
    uint64_t s = 77;
    for (int g = 0; g < WRITES; g++) {
        uint64_t ids[64];
        float v[64 * DIM];
        for (int i = 0; i < 64; i++) {
            ids[i] = g % 3 == 2 ? md.ids[next(&s) % md.n] : 2 * (next(&s) % (L + 4000)) + 1;
            for (int d = 0; d < DIM; d++)
                v[i * DIM + d] = (float)g + (float)d;
        }
        if (g % 3 == 2) {
            uint64_t removed;
            assert_lake(ops->local_delete(lb, "c", ids, 64, &removed), RUV_OK, NULL);
            assert_int_equal(removed, model_delete(&md, ids, 64));
        } else {
            int dup = 0; /* odd ids may repeat within the batch: skip such a batch */
            for (int i = 0; i < 64 && !dup; i++)
                for (int k = 0; k < i && !dup; k++)
                    dup = ids[i] == ids[k];
            if (dup)
                continue;
            assert_lake(ops->local_upsert(lb, "c", ids, v, 64, DIM), RUV_OK, NULL);
            model_merge(&md, ids, v, 64, 0);
        }
    }
    /* Let the readers pull a few times after the last write too. */
    int seen = atomic_load(&rc->pulls);
    while (atomic_load(&rc->pulls) < seen + 4)
        sched_yield();
    atomic_store(&rc->done, 1);
    for (int i = 0; i < READERS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&rc->bad), 0);
    agrees(&rc->b, &md, "the race");
    close_local(lb, &rc->b);
    free(md.ids);
    free(md.v);
    free_rows(&r);
    free(rc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_repeated_id_in_one_batch_is_refused),
        cmocka_unit_test(deletes_of_absent_or_repeated_ids),
        cmocka_unit_test(random_changes_match_the_model),
        cmocka_unit_test(unsorted_batches_of_any_ids),
        cmocka_unit_test(pulls_during_writes_keep_their_rows),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
