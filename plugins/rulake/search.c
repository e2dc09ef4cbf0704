/* Search and federation (rulake.md §8): the query is checked whole before
 * any backend call (k >= 1, lengths, finite floats, known backends); one
 * coherence step per distinct target; shards on the engine's pool; hits
 * merged by (score, target position, id); per-target errors, partial
 * results and id dedupe on request. */
#include "config.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/error.h>

#include "bytes.h"
#include "lake_error.h"
#include "lake_internal.h"

struct shard {
    unsigned backend;
    const char *collection;
    uint32_t target; /* position of the first target naming this key */
    const struct lake_call *call; /* that target's, or NULL */
    uint32_t k;      /* k' for this shard */
    int32_t rerank;
    struct lake_entry *entry;
    int status;
    char detail[256];
    uint64_t *ids;
    float *scores;
    size_t nfound;
};

struct fan {
    struct ruv_lake *lake;
    const struct ruv_lake_query *q;
    struct shard *shards;
    int first_pass;
};

/* Better first: smaller squared L2, larger inner product or cosine; then
 * the earlier target, then the smaller id. */
static int better(uint32_t metric, const struct ruv_lake_hit *a, const struct ruv_lake_hit *b)
{
    if (a->score != b->score)
        return metric == RUV_METRIC_L2 ? a->score < b->score : a->score > b->score;
    if (a->target != b->target)
        return a->target < b->target;
    return a->id < b->id;
}

static _Thread_local uint32_t tl_metric;

static int hit_cmp(const void *pa, const void *pb)
{
    const struct ruv_lake_hit *a = pa, *b = pb;
    return better(tl_metric, a, b) ? -1 : better(tl_metric, b, a) ? 1 : 0;
}

static void sort_hits(uint32_t metric, struct ruv_lake_hit *h, size_t n)
{
    tl_metric = metric;
    qsort(h, n, sizeof *h, hit_cmp);
}

static int check_query(struct ruv_lake *lake, const struct ruv_lake_query *q)
{
    if (!lake || !q || q->struct_size < sizeof *q)
        return ruv__detail_set(RUV_E_INVAL, "search: lake or query is NULL, or the query struct "
                                            "is older than this plugin");
    if (q->k < 1)
        return ruv__detail_set(RUV_E_INVAL, "k must be >= 1 (got 0)");
    if (q->ntargets < 1 || !q->targets)
        return ruv__detail_set(RUV_E_INVAL, "search needs at least one target");
    if ((q->flags & RUV_LAKE_WARMUP_DESCRIBE) && !(q->flags & RUV_LAKE_WARMUP))
        return ruv__detail_set(RUV_E_INVAL, "RUV_LAKE_WARMUP_DESCRIBE needs RUV_LAKE_WARMUP");
    const int made_up = (q->flags & RUV_LAKE_WARMUP) && q->dim == 0 && q->nq == 1;
    if (q->nq < 1 || (!made_up && (!q->queries || q->dim < 1)))
        return ruv__detail_set(RUV_E_INVAL, "search needs at least one query of dim >= 1");
    if ((q->flags & RUV_LAKE_WARMUP) && q->ntargets != 1)
        return ruv__detail_set(RUV_E_INVAL, "a warm-up search takes one target");
    if (q->nq > 1 && q->ntargets > 1)
        return ruv__detail_set(RUV_E_INVAL, "a federated search takes one query at a time");
    if (!q->hits || !q->nhits)
        return ruv__detail_set(RUV_E_INVAL, "search: hits or nhits is NULL");
    if ((uint64_t)q->nq * q->k > (UINT64_C(1) << 32))
        return ruv__detail_set(RUV_E_INVAL, "nq * k is too large");
    if (q->flags & ~(uint32_t)(RUV_LAKE_PARTIAL | RUV_LAKE_DEDUPE_IDS | RUV_LAKE_NO_PRIME |
                               RUV_LAKE_WARMUP | RUV_LAKE_WARMUP_DESCRIBE))
        return ruv__detail_set(RUV_E_INVAL, "unknown query flags 0x%x", q->flags);
    /* One branch-free pass the compiler vectorises; the component is
     * looked for only when there is one. */
    const uint64_t total = (uint64_t)q->nq * q->dim;
    unsigned bad = 0;
    for (uint64_t i = 0; i < total; i++)
        bad |= !ruv__lake_f32_is_finite(q->queries[i]);
    for (uint64_t i = 0; bad && i < total; i++)
        if (!ruv__lake_f32_is_finite(q->queries[i]))
            return ruv__detail_set(RUV_E_INVAL, "query %llu component %llu is not finite",
                                   (unsigned long long)(i / q->dim),
                                   (unsigned long long)(i % q->dim));
    return RUV_OK;
}

static void run_shard(struct fan *f, struct shard *sh)
{
    struct ruv_lake *lake = f->lake;
    const struct ruv_host *host = lake->host;
    if (f->first_pass) {
        sh->status = ruv__lake_acquire_call(lake, sh->backend, sh->collection, f->q->dim,
                                            f->q->flags & RUV_LAKE_NO_PRIME, sh->call,
                                            &sh->entry);
        if (sh->status != RUV_OK) {
            snprintf(sh->detail, sizeof sh->detail, "%s", ruv__detail_get());
            return;
        }
    }
    free(sh->ids);
    free(sh->scores);
    sh->nfound = 0;
    sh->ids = malloc(sh->k * sizeof *sh->ids);
    sh->scores = malloc(sh->k * sizeof *sh->scores);
    if (!sh->ids || !sh->scores) {
        sh->status = ruv__detail_set(RUV_E_NOMEM, "out of memory for %u hits", sh->k);
        snprintf(sh->detail, sizeof sh->detail, "%s", ruv__detail_get());
        return;
    }
    if (!sh->entry->idx)
        return; /* an empty collection: no hits */
    ruv_search_params sp;
    host->index->search_params_init(&sp, sh->k);
    sp.rerank_factor = sh->rerank;
    sh->status = host->index->search(sh->entry->idx, f->q->queries, &sp, sh->ids, sh->scores,
                                     &sh->nfound);
    if (sh->status != RUV_OK) {
        sh->nfound = 0;
        snprintf(sh->detail, sizeof sh->detail, "backend '%s' collection '%.100s': search: %s",
                 ruv__lake_backend_at(lake, sh->backend)->name, sh->collection,
                 host->last_error());
    }
}

static void shard_task(void *ctx, size_t begin, size_t end, unsigned worker)
{
    (void)worker;
    struct fan *f = ctx;
    for (size_t i = begin; i < end; i++)
        run_shard(f, &f->shards[i]);
}

/* Hits of one index, already best first by (score, id) as the index API
 * promises; sorted here only if an index broke that promise. */
static void order_hits(uint32_t metric, struct ruv_lake_hit *h, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (better(metric, &h[i], &h[i - 1])) {
            sort_hits(metric, h, n);
            return;
        }
}

/* Outputs up to this many hits live on the stack: a search of a few
 * queries allocates nothing. */
enum { STACK_HITS = 256, STACK_QUERIES = 16 };

/* RUV_LAKE_WARMUP: the key's entry as cached (no coherence step, no
 * backend call, no counter) and the query to search it with: q's, or, for
 * dim 0, the unit vector along the diagonal of the entry's dimension
 * (*made, freed by the caller). Short, not all ones: a query far from the
 * rows loosens the estimator's bounds and reranks far more than a typical
 * one (3.5x the time at ruvector-demo-100k), warming what searches do not
 * use. */
static int warmup_entry(struct ruv_lake *lake, unsigned backend, const struct ruv_lake_query *q,
                        struct lake_entry **out, float **made)
{
    const char *coll = q->targets[0].collection;
    struct lake_slot *s = ruv__lake_slot(lake, backend, coll, 0);
    struct lake_entry *e = NULL;
    if (s) {
        pthread_mutex_lock(&s->mu);
        if (s->entry && !atomic_load(&s->entry->evicted))
            e = ruv__lake_entry_retain(s->entry);
        pthread_mutex_unlock(&s->mu);
    }
    if (!e)
        return ruv__detail_set(RUV_E_MISS, "backend '%s' collection '%.200s' is not cached: "
                                           "nothing to warm up",
                               ruv__lake_backend_at(lake, backend)->name, coll);
    if (q->dim == 0 && (*made = malloc((e->dim ? e->dim : 1) * sizeof **made)) != NULL)
        for (uint32_t i = 0; i < e->dim; i++)
            (*made)[i] = 1.0f / sqrtf((float)e->dim);
    int st = RUV_OK;
    if (q->dim == 0 && !*made)
        st = ruv__detail_set(RUV_E_NOMEM, "out of memory for a warm-up query");
    else if (q->dim != 0 && q->dim != e->dim)
        st = ruv__detail_set(RUV_E_DIM, "dimension mismatch: backend '%s' collection '%.200s' has "
                                        "dim %u, the query has %u",
                             ruv__lake_backend_at(lake, backend)->name, coll, e->dim, q->dim);
    if (st != RUV_OK) {
        ruv__lake_entry_release(lake, e);
        return st;
    }
    *out = e;
    return RUV_OK;
}

/* The warm-up's data-like queries: up to WARM_ROWS of the entry's stored
 * rows, evenly spaced, each searched alone (the path a user's search_one
 * takes), hits dropped. An engine whose host table predates the vectors
 * call, or an index without stored rows, skips this part. */
enum { WARM_ROWS = 16, WARM_K = 16 };
static int warm_with_rows(const struct ruv_host *host, const ruv_index *idx,
                          const ruv_search_params *sp)
{
    const struct ruv_host_index *hi = host->index;
    const float *rows = NULL;
    const uint64_t *rids = NULL;
    if (hi->struct_size < offsetof(struct ruv_host_index, vectors) + sizeof hi->vectors ||
        !hi->vectors || hi->vectors(idx, &rows, &rids) != RUV_OK || !rows)
        return RUV_OK;
    const size_t n = hi->len(idx), dim = hi->params(idx)->dim;
    const size_t w = n < WARM_ROWS ? n : WARM_ROWS;
    ruv_search_params one = *sp;
    one.k = one.k < WARM_K ? one.k : WARM_K;
    uint64_t ids[WARM_K];
    float scores[WARM_K];
    size_t found = 0;
    for (size_t i = 0; i < w; i++) {
        int st = hi->search(idx, rows + (i * n / w) * dim, &one, ids, scores, &found);
        if (st != RUV_OK)
            return ruv__detail_set(st, "warm-up search: %s", host->last_error());
    }
    return RUV_OK;
}

/* One target, nq queries: one coherence step, then the index's batch. */
static int search_single(struct ruv_lake *lake, const struct ruv_lake_query *q, unsigned backend,
                         const struct lake_call *call)
{
    const struct ruv_host *host = lake->host;
    struct lake_entry *e = NULL;
    float *made = NULL;
    int st = q->flags & RUV_LAKE_WARMUP
                 ? warmup_entry(lake, backend, q, &e, &made)
                 : ruv__lake_acquire_call(lake, backend, q->targets[0].collection, q->dim,
                                          q->flags & RUV_LAKE_NO_PRIME, call, &e);
    if (st != RUV_OK)
        return st;
    const float *queries = made ? made : q->queries;
    size_t total = (size_t)q->nq * q->k;
    uint64_t ids_s[STACK_HITS];
    float scores_s[STACK_HITS];
    size_t nfound_s[STACK_QUERIES] = {0};
    int heap = total > STACK_HITS || q->nq > STACK_QUERIES;
    uint64_t *ids = heap ? malloc(total * sizeof *ids) : ids_s;
    float *scores = heap ? malloc(total * sizeof *scores) : scores_s;
    size_t *nfound = heap ? calloc(q->nq, sizeof *nfound) : nfound_s;
    if (!ids || !scores || !nfound)
        st = ruv__detail_set(RUV_E_NOMEM, "out of memory for %zu hits", total);
    if (st == RUV_OK && e->idx) {
        ruv_search_params sp;
        host->index->search_params_init(&sp, q->k);
        sp.rerank_factor = (int32_t)(q->rerank_factor ? q->rerank_factor
                                                      : lake->cfg.rerank_factor);
        if (made) /* a warm-up with a made-up query: data-like ones first */
            st = warm_with_rows(host, e->idx, &sp);
        if (st == RUV_OK) {
            st = q->nq == 1 ? host->index->search(e->idx, queries, &sp, ids, scores, nfound)
                            : host->index->search_batch(e->idx, queries, q->nq, &sp, ids, scores,
                                                        nfound);
            if (st != RUV_OK)
                st = ruv__detail_set(st, "search: %s", host->last_error());
        }
    }
    for (uint32_t i = 0; st == RUV_OK && i < q->nq; i++) {
        struct ruv_lake_hit *h = q->hits + (size_t)i * q->k;
        for (size_t j = 0; j < nfound[i]; j++)
            h[j] = (struct ruv_lake_hit){ids[(size_t)i * q->k + j],
                                         scores[(size_t)i * q->k + j], 0};
        order_hits(lake->cfg.metric, h, nfound[i]);
        q->nhits[i] = (uint32_t)nfound[i];
    }
    if (heap) {
        free(ids);
        free(scores);
        free(nfound);
    }
    free(made);
    ruv__lake_entry_release(lake, e);
    /* Last, so that the first check finds its path warm; a failure is
     * not the warm-up's. */
    if (st == RUV_OK && (q->flags & RUV_LAKE_WARMUP_DESCRIBE))
        ruv__lake_warm_describe(lake, backend, q->targets[0].collection);
    return st;
}

/* Merges the healthy shards into q->hits; returns the number of distinct
 * ids kept and sets *more when a shard filled its k' (it may hold more). */
static uint32_t merge(struct ruv_lake *lake, const struct ruv_lake_query *q, struct shard *sh,
                      uint32_t nshards, int *more)
{
    size_t total = 0;
    *more = 0;
    for (uint32_t s = 0; s < nshards; s++)
        if (sh[s].status == RUV_OK && sh[s].entry) {
            total += sh[s].nfound;
            if (sh[s].nfound == sh[s].k && sh[s].k < sh[s].entry->count)
                *more = 1;
        }
    struct ruv_lake_hit *all = malloc((total ? total : 1) * sizeof *all);
    if (!all) {
        q->nhits[0] = 0;
        return 0;
    }
    size_t n = 0;
    for (uint32_t s = 0; s < nshards; s++)
        if (sh[s].status == RUV_OK && sh[s].entry)
            for (size_t j = 0; j < sh[s].nfound; j++)
                all[n++] = (struct ruv_lake_hit){sh[s].ids[j], sh[s].scores[j], sh[s].target};
    sort_hits(lake->cfg.metric, all, n);
    uint32_t out = 0;
    int dedupe = (q->flags & RUV_LAKE_DEDUPE_IDS) != 0;
    for (size_t i = 0; i < n && out < q->k; i++) {
        int seen = 0;
        for (uint32_t j = 0; dedupe && j < out && !seen; j++)
            seen = q->hits[j].id == all[i].id;
        if (!seen)
            q->hits[out++] = all[i];
    }
    free(all);
    q->nhits[0] = out;
    return out;
}

int ruv__lake_search(struct ruv_lake *lake, const struct ruv_lake_query *q)
{
    return ruv__lake_search_call(lake, q, NULL);
}

int ruv__lake_search_call(struct ruv_lake *lake, const struct ruv_lake_query *q,
                          const struct lake_call *calls)
{
    int st = check_query(lake, q);
    if (st != RUV_OK)
        return st;
    struct shard sh1;
    uint32_t shard_of1 = 0;
    struct shard *sh = q->ntargets == 1 ? memset(&sh1, 0, sizeof sh1)
                                        : calloc(q->ntargets, sizeof *sh);
    uint32_t *shard_of = q->ntargets == 1 ? &shard_of1 : calloc(q->ntargets, sizeof *shard_of);
    uint32_t nshards = 0;
    if (!sh || !shard_of)
        st = ruv__detail_set(RUV_E_NOMEM, "out of memory for %u targets", q->ntargets);
    /* Every target resolved before any backend call; a key listed twice is
     * one shard. */
    for (uint32_t t = 0; st == RUV_OK && t < q->ntargets; t++) {
        unsigned b;
        if (!q->targets[t].collection) {
            st = ruv__detail_set(RUV_E_INVAL, "target %u has no collection", t);
            break;
        }
        if ((st = ruv__lake_backend_index(lake, q->targets[t].backend, &b)) != RUV_OK)
            break;
        uint32_t s = 0;
        while (s < nshards &&
               !(sh[s].backend == b && strcmp(sh[s].collection, q->targets[t].collection) == 0))
            s++;
        if (s == nshards)
            sh[nshards++] = (struct shard){.backend = b, .collection = q->targets[t].collection,
                                           .target = t, .call = calls ? &calls[t] : NULL};
        shard_of[t] = s;
    }
    if (st == RUV_OK && nshards == 1) {
        st = search_single(lake, q, sh[0].backend, sh[0].call);
        for (uint32_t t = 0; t < q->ntargets; t++) {
            if (q->target_status)
                q->target_status[t] = st;
            if (q->target_detail) {
                if (st == RUV_OK)
                    q->target_detail[t][0] = '\0';
                else
                    snprintf(q->target_detail[t], 256, "%s", ruv__detail_get());
            }
        }
        if (sh != &sh1) {
            free(sh);
            free(shard_of);
        }
        return st;
    }
    if (st == RUV_OK) {
        double S = nshards;
        uint32_t k = q->k;
        uint64_t kp = k + (uint64_t)ceil(sqrt(k * log(S)));
        if (kp > 4 * (uint64_t)k)
            kp = 4 * (uint64_t)k;
        /* Per-shard rerank cap min(rf, max(5, rf / S)) (ruvector's max(5, rf / S)
         * alone can exceed rf); an explicit one applies to every shard. */
        uint32_t rf = lake->cfg.rerank_factor, floor5 = rf / nshards > 5 ? rf / nshards : 5;
        int32_t rf_s = (int32_t)(q->rerank_factor ? q->rerank_factor : rf < floor5 ? rf : floor5);
        for (uint32_t s = 0; s < nshards; s++) {
            sh[s].k = (uint32_t)kp;
            sh[s].rerank = rf_s;
        }
        struct fan f = {lake, q, sh, 1};
        st = lake->host->parallel_for(lake->host, 0, nshards, 1, shard_task, &f);
        if (st != RUV_OK)
            st = ruv__detail_set(st, "federated search: %s", lake->host->last_error());
        int more = 0;
        while (st == RUV_OK && merge(lake, q, sh, nshards, &more) < k && more &&
               (q->flags & RUV_LAKE_DEDUPE_IDS)) {
            /* Fewer than k distinct ids: ask the full shards for twice as many. */
            f.first_pass = 0;
            for (uint32_t s = 0; s < nshards; s++)
                if (sh[s].status == RUV_OK && sh[s].k < (UINT32_MAX >> 1))
                    sh[s].k *= 2;
            st = lake->host->parallel_for(lake->host, 0, nshards, 1, shard_task, &f);
        }
        int failed = -1;
        for (uint32_t t = 0; t < q->ntargets; t++) {
            const struct shard *x = &sh[shard_of[t]];
            if (x->status != RUV_OK && failed < 0)
                failed = (int)t;
            if (q->target_status)
                q->target_status[t] = x->status;
            if (q->target_detail)
                snprintf(q->target_detail[t], 256, "%s", x->status == RUV_OK ? "" : x->detail);
        }
        if (st == RUV_OK && failed >= 0 && !(q->flags & RUV_LAKE_PARTIAL)) {
            const struct shard *x = &sh[shard_of[failed]];
            st = ruv__detail_set(x->status, "%s", x->detail);
            q->nhits[0] = 0;
        }
    }
    for (uint32_t s = 0; sh && s < nshards; s++) {
        ruv__lake_entry_release(lake, sh[s].entry);
        free(sh[s].ids);
        free(sh[s].scores);
    }
    if (sh != &sh1) {
        free(sh);
        free(shard_of);
    }
    return st;
}
