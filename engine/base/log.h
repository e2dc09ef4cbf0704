/* Engine-private: verbose output on stderr, gated by the resolved verbose
 * level; the library prints nothing otherwise. */
#ifndef RUV_ENGINE_BASE_LOG_H
#define RUV_ENGINE_BASE_LOG_H

#include "base/error.h"

/* Prints "ruvector: <text>" when level <= verbose. */
void ruv__log(int verbose, int level, const char *fmt, ...) RUV_PRINTF(3, 4);

#endif
