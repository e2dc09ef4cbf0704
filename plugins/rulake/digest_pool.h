/* The content digest (rulake.md §6.2) with its leaves on the engine's
 * pool, and the pool a backend call may use. */
#ifndef RULAKE_DIGEST_POOL_H
#define RULAKE_DIGEST_POOL_H
#include <stdint.h>

#include <ruvector/plugin.h>

#include "witness.h"

/* ruv__lake_content_digest (check set: rows checked in the same pass) or
 * ruv__lake_content_hash (check 0: rows already checked), with the leaves
 * run by host->parallel_for; serial when host is NULL or n fits one leaf.
 * The same digest and, for bad rows, the same status and detail (the first
 * bad row in id order) as the serial functions. Borrows every argument. */
int ruv__lake_digest_pooled(const struct ruv_host *host, const uint64_t *ids,
                            const float *vectors, const uint64_t *order, uint64_t n, uint32_t dim,
                            int check, uint8_t out[32]);

/* Leaf digests of §6.2 for rows already checked and in id order (row i is
 * ids[i] / vectors + i*dim, n rows in all): leaf which[k] (each below
 * ceil(n / L)) goes to leaves + which[k]*32, the others are left alone; run
 * by host->parallel_for when host has one and nwhich > 1. So a backend that
 * caches leaves re-hashes only those its change touched. Borrows every
 * argument. */
int ruv__lake_leaves_pooled(const struct ruv_host *host, const uint64_t *ids,
                            const float *vectors, uint64_t n, uint32_t dim,
                            const uint64_t *which, uint64_t nwhich, uint8_t *leaves);

/* The host whose pool the lake lends to the backend call running on this
 * thread (set around describe and pull, NULL outside them): the plugin's
 * own LocalBackend hashes its rows on it. Not owned. */
void ruv__lake_pool_set(const struct ruv_host *host);
const struct ruv_host *ruv__lake_pool_get(void);
#endif
