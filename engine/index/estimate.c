/* ruv_index_estimate_bytes: the memory an index will hold, before building
 * it, with the accounting of ruv_index_memory_bytes. A host (ruLake's
 * byte-bounded cache) decides from it whether a build fits its budget. */
#include "config.h"

#include <stdint.h>

#include <ruvector/engine.h>
#include <ruvector/error.h>
#include <ruvector/index.h>

#include "base/error.h"
#include "index/common.h"
#include "index/idmap.h"

int ruv_index_estimate_bytes(ruv_engine *eng, const ruv_index_params *p, uint64_t n,
                             uint64_t *bytes)
{
    if (!bytes)
        return ruv__set_error(RUV_E_INVAL, "ruv_index_estimate_bytes: bytes is NULL");
    *bytes = 0;
    if (n > UINT32_MAX)
        return ruv__set_error(RUV_E_INVAL,
                              "ruv_index_estimate_bytes: %llu vectors is more than an index "
                              "holds (2^32 - 1)",
                              (unsigned long long)n);
    /* An empty index of these params knows its layout (padded dimension,
     * code sizes) without any data. */
    ruv_index_params planned;
    int rc = ruv__plan_resolve(p, n, 0, &planned);
    if (rc)
        return rc;
    struct ruv_index *idx = NULL;
    rc = ruv__index_alloc(eng, &planned, &idx);
    if (!rc)
        rc = idx->vt->init(idx);
    if (rc) {
        ruv_index_free(idx);
        return rc;
    }
    uint64_t b = sizeof *idx + n * sizeof(uint64_t) + ruv__idmap_table_bytes((size_t)n);
    if (idx->keeps_vectors)
        b += n * idx->p.dim * sizeof(float);
    *bytes = b + idx->vt->estimate(idx, n);
    ruv_index_free(idx);
    return RUV_OK;
}
