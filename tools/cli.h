/* Subcommands of the ruvector CLI; each returns the process exit status. */
#ifndef RUV_TOOLS_CLI_H
#define RUV_TOOLS_CLI_H

#include <ruvector/ruvector.h>

#include "cmd_index.h"

int cmd_info(int argc, char **argv);
int cmd_bench_kernels(int argc, char **argv);

/* Prints "ruvector: <STATUS>: <detail>" to stderr; returns 1. */
int cli_fail(int status);
/* Opens an engine honouring --kernel NAME when given (NULL: auto/env). */
int cli_open_engine(const char *kernel, ruv_engine **out);

#endif
