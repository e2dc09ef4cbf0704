/* Compiles <ruvector/feature-embed.h> alone: it must be self-contained. */
#include <ruvector/feature-embed.h>
#include <ruvector/feature-embed.h> /* and idempotent */

int ruv_test_header_feature_embed(void);
int ruv_test_header_feature_embed(void)
{
    /* the newest size is the whole table; version 1 is a prefix of it */
    return (int)(RUV_EMBED_OPS_SIZE_V2 - sizeof(struct ruv_embed_ops)) |
           (RUV_EMBED_OPS_SIZE_V1 < RUV_EMBED_OPS_SIZE_V2 ? 0 : 1);
}
