/* The output buffers of one batch search: nq rows of k ids and scores, and
 * how many of each row were found. */
#ifndef RUV_TOOLS_RESULTS_H
#define RUV_TOOLS_RESULTS_H

#include <stddef.h>
#include <stdint.h>

struct results {
    uint64_t *ids;
    float *scores;
    size_t *nfound;
    size_t nq, k;
};

/* Allocates the three buffers (k >= 1); returns 0, or -1 when one could not
 * be allocated. Either way results_free() releases what was. */
int results_alloc(struct results *r, size_t nq, size_t k);

/* Frees the buffers and empties r. */
void results_free(struct results *r);

#endif
