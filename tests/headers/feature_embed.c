/* Compiles <ruvector/feature-embed.h> alone: it must be self-contained. */
#include <ruvector/feature-embed.h>
#include <ruvector/feature-embed.h> /* and idempotent */

int ruv_test_header_feature_embed(void);
int ruv_test_header_feature_embed(void)
{
    return (int)(RUV_EMBED_OPS_SIZE_V1 - sizeof(struct ruv_embed_ops));
}
