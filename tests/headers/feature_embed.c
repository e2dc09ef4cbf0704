/* Compiles <ruvector/feature-embed.h> alone: it must be self-contained. */
#include <ruvector/feature-embed.h>
#include <ruvector/feature-embed.h> /* and idempotent */

/* the newest size is the whole table; each older version is a prefix of it */
_Static_assert(RUV_EMBED_OPS_SIZE_V3 == sizeof(struct ruv_embed_ops), "V3 is the whole ops table");
_Static_assert(RUV_EMBED_OPS_SIZE_V1 < RUV_EMBED_OPS_SIZE_V2, "V1 is a prefix of V2");
_Static_assert(RUV_EMBED_OPS_SIZE_V2 < RUV_EMBED_OPS_SIZE_V3, "V2 is a prefix of V3");
_Static_assert(offsetof(struct ruv_embed_ops, model_fetch) == RUV_EMBED_OPS_SIZE_V2,
               "version 3 starts right after version 2");

int ruv_test_header_feature_embed(void);
int ruv_test_header_feature_embed(void)
{
    return (int)(RUV_EMBED_OPS_SIZE_V3 - sizeof(struct ruv_embed_ops)) |
           (RUV_EMBED_OPS_SIZE_V1 < RUV_EMBED_OPS_SIZE_V2 ? 0 : 1) |
           (RUV_EMBED_OPS_SIZE_V2 < RUV_EMBED_OPS_SIZE_V3 ? 0 : 1);
}
