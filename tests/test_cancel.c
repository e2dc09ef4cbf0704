/* Cancel tokens (<ruvector/cancel.h>): a raised token stops builds, adds
 * and batch searches with RUV_E_CANCELED naming the phase, whether it was
 * raised before the call, from inside it (the progress callback, on the
 * calling thread) or from another thread while the call runs; a canceled
 * add or search leaves the index byte for byte as it was; parallel loops
 * skip their remaining chunks; ruv_cancel_run raises the token when its poll
 * asks and hands back the worker's status and detail. Every trigger here is
 * an event, never a delay, so no outcome depends on timing. */
#define _GNU_SOURCE
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ruvector/cancel.h>
#include <ruvector/engine.h>
#include <ruvector/error.h>
#include <ruvector/index.h>

#include "exec/pool.h"
#include "index/common.h"
#include "index/ivf/kmeans.h"

#define TESTDATA_SEED 0xC0FFEEull
#include "testdata.h"

#define DIM 32
#define N 3000

/* What the progress callback does: nothing, raise the bound token when a
 * phase starts, or (on another thread's build) tell the main thread and
 * wait until it has raised the token. */
enum { P_NONE, P_RAISE, P_HANDSHAKE };
static struct {
    int mode;
    const char *phase; /* the phase that triggers */
    int seen;          /* progress calls of that phase */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int reached, raised; /* P_HANDSHAKE, under mu */
} P = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void on_progress(void *ctx, const char *phase, uint64_t done, uint64_t total)
{
    (void)ctx;
    (void)done;
    (void)total;
    if (P.mode == P_NONE || strcmp(phase, P.phase) != 0 || P.seen++ > 0)
        return;
    if (P.mode == P_RAISE) {
        ruv_cancel_request(ruv_cancel_bound());
        return;
    }
    pthread_mutex_lock(&P.mu);
    P.reached = 1;
    pthread_cond_broadcast(&P.cv);
    while (!P.raised)
        pthread_cond_wait(&P.cv, &P.mu);
    pthread_mutex_unlock(&P.mu);
}

static ruv_engine *eng;
static float *data;
static char tmpdir[] = "/tmp/ruv_cancel_XXXXXX";

static void progress_mode(int mode, const char *phase)
{
    P.mode = mode;
    P.phase = phase;
    P.seen = 0;
    P.reached = P.raised = 0;
}

static int group_setup(void **state)
{
    (void)state;
    ruv_config *cfg = NULL;
    if (!mkdtemp(tmpdir) || ruv_config_new(&cfg) ||
        ruv_config_set_progress(cfg, on_progress, NULL) || ruv_config_set_threads(cfg, 2))
        return -1;
    int rc = ruv_engine_open(cfg, &eng);
    ruv_config_free(cfg);
    data = clustered(N + 500, DIM, 20, 0.3f);
    return rc == RUV_OK && data ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    ruv_engine_close(eng);
    free(data);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void params(ruv_index_params *p, int type, uint32_t nlist)
{
    assert_int_equal(ruv_index_params_init(p, type, RUV_METRIC_L2, DIM), RUV_OK);
    p->nlist = nlist;
    p->bits = type == RUV_INDEX_FLAT_F32 ? RUV_INDEX_AUTO : 2;
}

#define assert_canceled(rc, phase) assert_canceled_at(rc, phase, __LINE__)
static void assert_canceled_at(int rc, const char *phase, int line)
{
    if (rc != RUV_E_CANCELED)
        fail_msg("line %d: status %d (%s), expected RUV_E_CANCELED", line, rc, ruv_last_error());
    char want[64];
    snprintf(want, sizeof want, "canceled during %s", phase);
    if (!strstr(ruv_last_error(), want))
        fail_msg("detail \"%s\" does not say \"%s\"", ruv_last_error(), want);
}

/* The whole saved file: compares an index's state byte for byte. */
static char *saved(const ruv_index *idx, const char *name, size_t *len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    assert_int_equal(ruv_index_save(idx, path), RUV_OK);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc(*len ? *len : 1);
    assert_int_equal(fread(b, 1, *len, f), *len);
    fclose(f);
    return b;
}

static void test_token(void **state)
{
    (void)state;
    ruv_cancel *c = NULL;
    assert_int_equal(ruv_cancel_new(NULL), RUV_E_INVAL);
    assert_int_equal(ruv_cancel_new(&c), RUV_OK);
    assert_int_equal(ruv_cancel_requested(c), 0);
    assert_int_equal(ruv_cancel_requested(NULL), 0);
    ruv_cancel_request(c);
    ruv_cancel_request(c);
    assert_int_equal(ruv_cancel_requested(c), 1);
    ruv_cancel_reset(c);
    assert_int_equal(ruv_cancel_requested(c), 0);
    ruv_cancel_request(NULL); /* no-ops */
    ruv_cancel_reset(NULL);
    assert_null(ruv_cancel_bound());
    assert_null(ruv_cancel_bind(c));
    assert_ptr_equal(ruv_cancel_bound(), c);
    assert_ptr_equal(ruv_cancel_bind(NULL), c);
    assert_null(ruv_cancel_bound());
    ruv_cancel_free(c);
    ruv_cancel_free(NULL);
}

struct chunks {
    atomic_size_t ran;
    ruv_cancel *seen_other; /* a worker saw a different bound token */
    ruv_cancel *expect;
};

static void count_chunk(void *ctx, size_t b, size_t e, unsigned worker)
{
    (void)e;
    (void)worker;
    struct chunks *c = ctx;
    if (ruv_cancel_bound() != c->expect)
        c->seen_other = ruv_cancel_bound();
    atomic_fetch_add(&c->ran, 1);
    if (b == 10) /* raised from inside the loop, on whichever thread runs chunk 10 */
        ruv_cancel_request(ruv_cancel_bound());
}

static void test_parallel_for_skips(void **state)
{
    (void)state;
    ruv_cancel *c = NULL;
    assert_int_equal(ruv_cancel_new(&c), RUV_OK);
    ruv_cancel_bind(c);
    for (unsigned threads = 1; threads <= 3; threads++) {
        ruv_cancel_reset(c);
        struct chunks k = {.expect = c};
        atomic_init(&k.ran, 0);
        assert_int_equal(ruv__parallel_for(threads, 100000, 1, count_chunk, &k), RUV_E_CANCELED);
        assert_null(k.seen_other);
        /* chunk 10 raised it; at most the chunks already started finish */
        assert_true(atomic_load(&k.ran) >= 11);
        assert_true(atomic_load(&k.ran) < 100000);
        atomic_store(&k.ran, 0); /* raised before: nothing runs */
        assert_int_equal(ruv__parallel_for(threads, 1000, 1, count_chunk, &k), RUV_E_CANCELED);
        assert_int_equal(atomic_load(&k.ran), 0);
    }
    ruv_cancel_bind(NULL);
    struct chunks k = {.expect = NULL}; /* nothing bound: everything runs */
    atomic_init(&k.ran, 0);
    assert_int_equal(ruv__parallel_for(2, 1000, 1, count_chunk, &k), RUV_OK);
    assert_int_equal(atomic_load(&k.ran), 1000);
    assert_null(k.seen_other);
    ruv_cancel_free(c);
}

/* Raised by the progress callback as a phase starts: the build stops there. */
static void test_build_phases(void **state)
{
    (void)state;
    static const struct {
        int type;
        uint32_t nlist;
        const char *trigger, *phase;
    } cases[] = {
        {RUV_INDEX_RABITQ, 16, "k-means", "k-means"},
        {RUV_INDEX_RABITQ, 16, "encoding", "encoding"},
        {RUV_INDEX_RABITQ_PLUS, 0, "encoding", "encoding"},
        {RUV_INDEX_RABITQ_ASYM, 8, "encoding", "encoding"},
    };
    ruv_cancel *c = NULL;
    assert_int_equal(ruv_cancel_new(&c), RUV_OK);
    ruv_cancel_bind(c);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ruv_index_params p;
        params(&p, cases[i].type, cases[i].nlist);
        ruv_cancel_reset(c);
        progress_mode(P_RAISE, cases[i].trigger);
        ruv_index *idx = (ruv_index *)&p; /* must come back NULL */
        assert_canceled(ruv_index_build(eng, &p, data, N, NULL, &idx), cases[i].phase);
        assert_null(idx);
        assert_true(P.seen >= 1);
    }
    progress_mode(P_NONE, NULL);
    /* raised before the call: every type stops at its first check */
    for (int type = RUV_INDEX_FLAT_F32; type <= RUV_INDEX_RABITQ_ASYM; type++) {
        ruv_index_params p;
        params(&p, type, 0);
        ruv_index *idx = NULL;
        assert_canceled(ruv_index_build(eng, &p, data, N, NULL, &idx), "build");
        assert_null(idx);
    }
    /* lowered again: the same thread builds normally */
    ruv_cancel_reset(c);
    ruv_index_params p;
    params(&p, RUV_INDEX_RABITQ, 16);
    ruv_index *idx = NULL;
    assert_int_equal(ruv_index_build(eng, &p, data, N, NULL, &idx), RUV_OK);
    assert_int_equal(ruv_index_len(idx), N);
    ruv_index_free(idx);
    ruv_cancel_bind(NULL);
    ruv_cancel_free(c);
}

/* The phases without a progress report, called directly with the token up. */
static void test_inner_loops(void **state)
{
    (void)state;
    ruv_cancel *c = NULL;
    assert_int_equal(ruv_cancel_new(&c), RUV_OK);
    ruv_index_params p;
    params(&p, RUV_INDEX_RABITQ, 16);
    ruv_index *idx = NULL;
    assert_int_equal(ruv_index_build(eng, &p, data, N, NULL, &idx), RUV_OK);
    float *cent = malloc(16 * DIM * sizeof *cent);
    uint32_t *assign = malloc(N * sizeof *assign);
    ruv_cancel_bind(c);
    ruv_cancel_request(c);
    assert_canceled(ruv__calibrate(idx, data, N), "calibration");
    assert_canceled(ruv__kmeans(ruv_engine_kernel(eng), data, N, DIM, 16, 0, 10, 1, 2, cent),
                    "k-means");
    ruv_cancel_reset(c);
    assert_int_equal(ruv__kmeans(ruv_engine_kernel(eng), data, N, DIM, 16, 0, 10, 1, 2, cent),
                     RUV_OK);
    ruv_cancel_request(c);
    assert_canceled(ruv__kmeans_assign(ruv_engine_kernel(eng), data, N, DIM, cent, 16, 2, assign,
                                       NULL),
                    "IVF assignment");
    ruv_cancel_bind(NULL);
    free(cent);
    free(assign);
    ruv_index_free(idx);
    ruv_cancel_free(c);
}

struct builder {
    ruv_cancel *c;
    int type;
    uint32_t nlist;
    int rc;
    char detail[256];
    ruv_index *idx;
};

static void *build_thread(void *arg)
{
    struct builder *b = arg;
    ruv_cancel_bind(b->c);
    ruv_index_params p;
    assert_int_equal(ruv_index_params_init(&p, b->type, RUV_METRIC_L2, DIM), RUV_OK);
    p.nlist = b->nlist;
    b->rc = ruv_index_build(eng, &p, data, N, NULL, &b->idx);
    snprintf(b->detail, sizeof b->detail, "%s", ruv_last_error());
    ruv_cancel_bind(NULL);
    return NULL;
}

/* Another thread raises the token while the build runs (the build waits in
 * its first progress report until it has: an event, not a delay). */
static void test_build_other_thread(void **state)
{
    (void)state;
    const char *phases[] = {"k-means", "encoding"};
    for (size_t i = 0; i < 2; i++) {
        struct builder b = {.type = RUV_INDEX_RABITQ, .nlist = 16};
        assert_int_equal(ruv_cancel_new(&b.c), RUV_OK);
        progress_mode(P_HANDSHAKE, phases[i]);
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, build_thread, &b), 0);
        pthread_mutex_lock(&P.mu);
        while (!P.reached)
            pthread_cond_wait(&P.cv, &P.mu);
        ruv_cancel_request(b.c);
        P.raised = 1;
        pthread_cond_broadcast(&P.cv);
        pthread_mutex_unlock(&P.mu);
        pthread_join(t, NULL);
        assert_int_equal(b.rc, RUV_E_CANCELED);
        assert_non_null(strstr(b.detail, phases[i]));
        assert_null(b.idx);
        ruv_cancel_free(b.c);
    }
    progress_mode(P_NONE, NULL);
}

static void results(const ruv_index *idx, uint64_t *ids, float *scores, size_t *nfound)
{
    ruv_search_params sp;
    ruv_search_params_init(&sp, 10);
    assert_int_equal(ruv_index_search_batch(idx, data + N * DIM, 50, &sp, ids, scores, nfound),
                     RUV_OK);
}

/* A canceled add (raised before, or as encoding starts) and a canceled
 * batch search leave the index exactly as it was; it works afterwards. */
static void test_index_unchanged(void **state)
{
    (void)state;
    static const struct {
        int type;
        uint32_t nlist;
    } cases[] = {{RUV_INDEX_FLAT_F32, 0}, {RUV_INDEX_RABITQ, 16}, {RUV_INDEX_RABITQ_PLUS, 0},
                 {RUV_INDEX_RABITQ_ASYM, 8}};
    uint64_t ids0[500], ids1[500], add_ids[400];
    float sc0[500], sc1[500];
    size_t nf0[50], nf1[50];
    for (size_t i = 0; i < 400; i++)
        add_ids[i] = 1000000 + i;
    ruv_cancel *c = NULL;
    assert_int_equal(ruv_cancel_new(&c), RUV_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ruv_index_params p;
        params(&p, cases[i].type, cases[i].nlist);
        ruv_index *idx = NULL;
        assert_int_equal(ruv_index_build(eng, &p, data, N - 400, NULL, &idx), RUV_OK);
        size_t len0, len1;
        char *before = saved(idx, "before.rvx", &len0);
        results(idx, ids0, sc0, nf0);

        ruv_cancel_bind(c);
        ruv_cancel_request(c);
        assert_canceled(ruv_index_add(idx, data + (N - 400) * DIM, 400, add_ids), "add");
        ruv_search_params sp;
        ruv_search_params_init(&sp, 10);
        assert_canceled(ruv_index_search_batch(idx, data + N * DIM, 50, &sp, ids1, sc1, nf1),
                        "batch search");
        if (cases[i].type != RUV_INDEX_FLAT_F32) { /* flat adds have no encoding phase */
            ruv_cancel_reset(c);
            progress_mode(P_RAISE, "encoding");
            assert_canceled(ruv_index_add(idx, data + (N - 400) * DIM, 400, add_ids),
                            "encoding");
            progress_mode(P_NONE, NULL);
        }
        ruv_cancel_reset(c);
        ruv_cancel_bind(NULL);

        assert_int_equal(ruv_index_len(idx), N - 400);
        char *after = saved(idx, "after.rvx", &len1);
        assert_int_equal(len0, len1);
        assert_memory_equal(before, after, len0);
        results(idx, ids1, sc1, nf1);
        assert_memory_equal(ids0, ids1, sizeof ids0);
        assert_memory_equal(nf0, nf1, sizeof nf0);
        /* and it still takes the rows the canceled add offered */
        assert_int_equal(ruv_index_add(idx, data + (N - 400) * DIM, 400, add_ids), RUV_OK);
        assert_int_equal(ruv_index_len(idx), N);
        free(before);
        free(after);
        ruv_index_free(idx);
    }
    ruv_cancel_free(c);
}

/* ---- ruv_cancel_run ---- */

struct job {
    ruv_index *idx;
    int waited; /* the call saw its token raised before searching */
    ruv_cancel *bound;
};

/* Waits for the poll to raise the token (so the search surely starts with
 * it raised), then searches. */
static int search_when_raised(void *ctx)
{
    struct job *j = ctx;
    j->bound = ruv_cancel_bound();
    while (!ruv_cancel_requested(ruv_cancel_bound()))
        sched_yield();
    j->waited = 1;
    uint64_t ids[500];
    float sc[500];
    size_t nf[50];
    ruv_search_params sp;
    ruv_search_params_init(&sp, 10);
    return ruv_index_search_batch(j->idx, data + N * DIM, 50, &sp, ids, sc, nf);
}

static int polls;
static int poll_yes(void *ctx)
{
    (void)ctx;
    polls++;
    return 1;
}

static int fails(void *ctx)
{
    (void)ctx;
    return ruv_index_add(NULL, NULL, 1, NULL);
}

static int succeeds(void *ctx)
{
    *(int *)ctx = 7;
    return RUV_OK;
}

static void test_run(void **state)
{
    (void)state;
    ruv_cancel *c = NULL;
    assert_int_equal(ruv_cancel_new(&c), RUV_OK);
    ruv_index_params p;
    params(&p, RUV_INDEX_RABITQ, 16);
    struct job j = {0};
    assert_int_equal(ruv_index_build(eng, &p, data, N, NULL, &j.idx), RUV_OK);

    int polled = -1;
    polls = 0;
    assert_canceled(ruv_cancel_run(c, search_when_raised, &j, 1, poll_yes, NULL, &polled),
                    "batch search");
    assert_int_equal(polled, 1);
    assert_int_equal(polls, 1); /* not asked again once raised */
    assert_true(j.waited);
    assert_ptr_equal(j.bound, c);
    assert_null(ruv_cancel_bound()); /* the caller's binding is untouched */

    /* the worker's detail reaches the caller */
    ruv_cancel_reset(c);
    char want[256];
    assert_int_equal(fails(NULL), RUV_E_INVAL);
    snprintf(want, sizeof want, "%s", ruv_last_error());
    assert_int_equal(ruv_cancel_run(c, fails, NULL, 50, NULL, NULL, &polled), RUV_E_INVAL);
    assert_string_equal(ruv_last_error(), want);
    assert_int_equal(polled, 0);

    /* many calls, no thread per call: the pool stays at default + 1 */
    for (int i = 0; i < 200; i++) {
        int v = 0;
        assert_int_equal(ruv_cancel_run(c, succeeds, &v, 50, poll_yes, NULL, NULL), RUV_OK);
        assert_int_equal(v, 7);
    }
    assert_true(ruv__pool_workers() <= ruv__pool_default_workers() + 1);

    assert_int_equal(ruv_cancel_run(NULL, succeeds, &polled, 50, NULL, NULL, NULL), RUV_E_INVAL);
    assert_int_equal(ruv_cancel_run(c, NULL, NULL, 50, NULL, NULL, NULL), RUV_E_INVAL);
    assert_int_equal(ruv_cancel_run(c, succeeds, &polled, 0, NULL, NULL, NULL), RUV_E_INVAL);
    assert_int_equal(ruv_cancel_run(c, succeeds, &polled, 60001, NULL, NULL, NULL), RUV_E_INVAL);
    ruv_index_free(j.idx);
    ruv_cancel_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token),
        cmocka_unit_test(test_parallel_for_skips),
        cmocka_unit_test(test_build_phases),
        cmocka_unit_test(test_inner_loops),
        cmocka_unit_test(test_build_other_thread),
        cmocka_unit_test(test_index_unchanged),
        cmocka_unit_test(test_run),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
