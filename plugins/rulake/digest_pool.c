/* The content digest of rulake.md §6.2 with its leaves on the engine's
 * pool. A leaf is 16,384 rows hashed on its own, so on P threads a prime
 * waits about 1/P of the serial hash; the rows check runs inside each
 * leaf's task (the same pass over the same memory), and the error the
 * caller sees is the first bad row in id order, as the serial check says. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/error.h>

#include "digest_pool.h"
#include "lake_error.h"

static _Thread_local const struct ruv_host *tl_pool;

void ruv__lake_pool_set(const struct ruv_host *host) { tl_pool = host; }

const struct ruv_host *ruv__lake_pool_get(void) { return tl_pool; }

struct leaf_job {
    const uint64_t *ids;
    const float *vectors;
    const uint64_t *order;
    uint64_t n;
    uint32_t dim;
    int check;
    uint8_t *leaves;  /* nleaves * 32 */
    int *status;      /* per leaf */
    char (*detail)[256];
};

static uint64_t row_of(const uint64_t *order, uint64_t i) { return order ? order[i] : i; }

static void one_leaf(struct leaf_job *j, uint64_t leaf)
{
    uint64_t first = leaf * RUV_LAKE_CONTENT_LEAF_ROWS;
    uint64_t rows = j->n - first;
    if (rows > RUV_LAKE_CONTENT_LEAF_ROWS)
        rows = RUV_LAKE_CONTENT_LEAF_ROWS;
    int st = RUV_OK;
    if (j->check && first) {
        /* The step from the previous leaf's last row is this leaf's first
         * row's to report, as in the serial check. */
        uint64_t prev = j->ids[row_of(j->order, first - 1)], id = j->ids[row_of(j->order, first)];
        if (id == prev)
            st = ruv__detail_set(RUV_E_INVAL, "duplicate id %llu", (unsigned long long)id);
        else if (id < prev)
            st = ruv__detail_set(RUV_E_INVAL, "ids not ascending at id %llu (after %llu)",
                                 (unsigned long long)id, (unsigned long long)prev);
    }
    if (j->check && st == RUV_OK)
        st = j->order ? ruv__lake_rows_check(j->ids, j->vectors, j->order + first, rows, j->dim)
                      : ruv__lake_rows_check(j->ids + first, j->vectors + first * j->dim, NULL,
                                             rows, j->dim);
    if (st == RUV_OK)
        st = ruv__lake_content_leaf(leaf, j->ids, j->vectors, j->order, rows, j->dim,
                                    j->leaves + leaf * 32);
    j->status[leaf] = st;
    if (st != RUV_OK)
        snprintf(j->detail[leaf], sizeof j->detail[leaf], "%s", ruv__detail_get());
}

static void leaf_task(void *ctx, size_t begin, size_t end, unsigned worker)
{
    (void)worker;
    for (size_t i = begin; i < end; i++)
        one_leaf(ctx, i);
}

int ruv__lake_digest_pooled(const struct ruv_host *host, const uint64_t *ids,
                            const float *vectors, const uint64_t *order, uint64_t n, uint32_t dim,
                            int check, uint8_t out[32])
{
    if (dim == 0)
        return ruv__detail_set(RUV_E_INVAL, "dim must be at least 1");
    uint64_t nleaves = (n + RUV_LAKE_CONTENT_LEAF_ROWS - 1) / RUV_LAKE_CONTENT_LEAF_ROWS;
    if (nleaves < 2 || !host || !host->parallel_for)
        return check ? ruv__lake_content_digest(ids, vectors, order, n, dim, out)
                     : ruv__lake_content_hash(ids, vectors, order, n, dim, out);
    struct leaf_job j = {ids, vectors, order, n, dim, check ? 1 : 0, NULL, NULL, NULL};
    j.leaves = malloc((size_t)nleaves * 32);
    j.status = calloc((size_t)nleaves, sizeof *j.status);
    j.detail = calloc((size_t)nleaves, sizeof *j.detail);
    int st = RUV_OK;
    if (!j.leaves || !j.status || !j.detail)
        st = ruv__detail_set(RUV_E_NOMEM, "out of memory for %llu leaf digests",
                             (unsigned long long)nleaves);
    if (st == RUV_OK && host->parallel_for(host, 0, (size_t)nleaves, 1, leaf_task, &j) != RUV_OK)
        st = ruv__detail_set(RUV_E_NOMEM, "content digest on the pool: %s",
                             host->last_error ? host->last_error() : "(no detail)");
    for (uint64_t i = 0; st == RUV_OK && i < nleaves; i++)
        if (j.status[i] != RUV_OK)
            st = ruv__detail_set(j.status[i], "%s", j.detail[i]);
    if (st == RUV_OK)
        st = ruv__lake_content_root(n, dim, j.leaves, nleaves, out);
    free(j.leaves);
    free(j.status);
    free(j.detail);
    return st;
}

struct some_leaves {
    const uint64_t *ids;
    const float *vectors;
    uint64_t n;
    uint32_t dim;
    const uint64_t *which;
    uint8_t *leaves;
    int *status;
};

static void some_leaves_task(void *ctx, size_t begin, size_t end, unsigned worker)
{
    (void)worker;
    struct some_leaves *j = ctx;
    for (size_t i = begin; i < end; i++) {
        uint64_t leaf = j->which[i], first = leaf * RUV_LAKE_CONTENT_LEAF_ROWS;
        uint64_t rows = j->n - first;
        if (rows > RUV_LAKE_CONTENT_LEAF_ROWS)
            rows = RUV_LAKE_CONTENT_LEAF_ROWS;
        j->status[i] = ruv__lake_content_leaf(leaf, j->ids, j->vectors, NULL, rows, j->dim,
                                              j->leaves + leaf * 32);
    }
}

int ruv__lake_leaves_pooled(const struct ruv_host *host, const uint64_t *ids,
                            const float *vectors, uint64_t n, uint32_t dim,
                            const uint64_t *which, uint64_t nwhich, uint8_t *leaves)
{
    if (dim == 0)
        return ruv__detail_set(RUV_E_INVAL, "dim must be at least 1");
    if (nwhich == 0)
        return RUV_OK;
    int one = RUV_OK, *status = nwhich > 1 ? calloc((size_t)nwhich, sizeof *status) : &one;
    if (!status)
        return ruv__detail_set(RUV_E_NOMEM, "out of memory for %llu leaf digests",
                               (unsigned long long)nwhich);
    struct some_leaves j = {ids, vectors, n, dim, which, leaves, status};
    int st = RUV_OK;
    if (nwhich < 2 || !host || !host->parallel_for)
        some_leaves_task(&j, 0, (size_t)nwhich, 0);
    else if (host->parallel_for(host, 0, (size_t)nwhich, 1, some_leaves_task, &j) != RUV_OK)
        st = ruv__detail_set(RUV_E_NOMEM, "content digest on the pool: %s",
                             host->last_error ? host->last_error() : "(no detail)");
    for (uint64_t i = 0; st == RUV_OK && i < nwhich; i++)
        st = status[i];
    if (status != &one)
        free(status);
    return st;
}
