/* Engine-private: index construction with an explicit thread count, for the
 * host table's build call (ruv_index_build uses the engine's setting). */
#ifndef RUV_ENGINE_INDEX_BUILD_H
#define RUV_ENGINE_INDEX_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include <ruvector/engine.h>
#include <ruvector/index.h>

/* ruv_index_build on up to `threads` threads (0: the engine's setting); the
 * index keeps that count for its batch searches. */
int ruv__index_build(ruv_engine *eng, const ruv_index_params *p, const float *data, size_t n,
                     const uint64_t *ids, unsigned threads, ruv_index **out);

#endif
