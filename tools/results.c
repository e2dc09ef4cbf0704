/* Output buffers of a batch search (see results.h). */
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "results.h"

int results_alloc(struct results *r, size_t nq, size_t k)
{
    r->nq = nq;
    r->k = k;
    r->ids = nq <= SIZE_MAX / k ? alloc_array(nq * k, sizeof *r->ids) : NULL;
    r->scores = nq <= SIZE_MAX / k ? alloc_array(nq * k, sizeof *r->scores) : NULL;
    r->nfound = alloc_array(nq, sizeof *r->nfound);
    return r->ids && r->scores && r->nfound ? 0 : -1;
}

void results_free(struct results *r)
{
    free(r->ids);
    free(r->scores);
    free(r->nfound);
    memset(r, 0, sizeof *r);
}
