/* The rulake.md §6.4 example bundle, shared by the sidecar and plugin tests. */
#ifndef RULAKE_EXAMPLE_H
#define RULAKE_EXAMPLE_H

#include <stdlib.h>

#include "lake_test.h"
#include "sidecar.h"

/* The §6.4 example, not yet sealed: hot-shard/docs, 4 rows, seed 42,
 * rerank 20, gen 1. The caller frees it. */
static inline struct ruv__lake_sidecar *example_unsealed(void)
{
    struct ruv__lake_sidecar *sc = calloc(1, sizeof *sc);
    assert_non_null(sc);
    strcpy(sc->data_ref, "local://hot-shard/docs");
    sc->dim = 4;
    sc->rotation_seed = 42;
    sc->rerank_factor = 20;
    sc->gen_num = 1;
    sc->has_ext = 1;
    sc->backend.present = sc->collection.present = 1;
    strcpy(sc->backend.s, "hot-shard");
    strcpy(sc->collection.s, "docs");
    strcpy(sc->index_params, "index=rabitq_plus;metric=l2;bits=1;nlist=0");
    sc->count = 4;
    unhex_or_die("3de7bfbad5f7366a26d126d44b23a0037301c24f5c4a99fb7d7c02dda20fd7c3",
                 sc->content_digest, 32);
    return sc;
}

#endif
