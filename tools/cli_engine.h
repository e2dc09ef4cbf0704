/* Opening the engine for a subcommand. */
#ifndef RUV_TOOLS_CLI_ENGINE_H
#define RUV_TOOLS_CLI_ENGINE_H

#include <ruvector/engine.h>

/* Opens an engine honouring --kernel NAME when given (NULL: auto, or
 * RUVECTOR_KERNEL). Returns a ruv_status; on success the caller closes
 * *out with ruv_engine_close(). */
int cli_open_engine(const char *kernel, ruv_engine **out);

/* The same for the index commands: threads < 0 means the default
 * (RUVECTOR_* settings, else one per core), and the engine's progress
 * callback draws one line per phase when stderr is a terminal. Returns 0,
 * or 1 after reporting the failure for cmd. */
int cli_open_index_engine(const char *cmd, const char *kernel, long threads, ruv_engine **out);

/* Prints how the engine's kernel table was put together and, when any slot
 * was raced, who supplied each slot with the measured times. */
void cli_print_kernel_slots(const ruv_engine *eng);

#endif
