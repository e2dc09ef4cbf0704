/* Engine-private: progress of long work (index builds), reported to the
 * callback the host set with ruv_config_set_progress. Implemented by the
 * engine object (core/engine.c); declared here so that the layers doing the
 * work report through an opaque engine, without seeing its insides. */
#ifndef RUV_ENGINE_EXEC_PROGRESS_H
#define RUV_ENGINE_EXEC_PROGRESS_H

#include <stdint.h>

#include <ruvector/engine.h>

/* Calls the host's callback, if any; eng may be NULL. */
void ruv__progress(const struct ruv_engine *eng, const char *phase, uint64_t done, uint64_t total);

#endif
