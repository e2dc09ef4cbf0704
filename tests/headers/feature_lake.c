/* Compiles <ruvector/feature-lake.h> alone: it must be self-contained. */
#include <ruvector/feature-lake.h>
#include <ruvector/feature-lake.h> /* and idempotent */

int ruv_test_header_feature_lake(void);
int ruv_test_header_feature_lake(void)
{
    /* struct_size first: what ruv_engine_feature_get and the plugin read. */
    return offsetof(struct ruv_lake_ops, struct_size) == 0 &&
                   RUV_LAKE_OPS_SIZE_V1 <= sizeof(struct ruv_lake_ops)
               ? 0
               : 1;
}
