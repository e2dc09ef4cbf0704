/* The subcommands of the ruvector CLI, called by main() in ruvector.c.
 * Each takes the arguments from the command name on (argv[0] is "build",
 * "info", ...) and returns the process exit status: 0 success, 1 a failure
 * (file, library), 2 bad usage. */
#ifndef RUV_TOOLS_COMMANDS_H
#define RUV_TOOLS_COMMANDS_H

/* ruvector info [--json] */
int cmd_info(int argc, char **argv);
/* ruvector bench-kernels [--quick] */
int cmd_bench_kernels(int argc, char **argv);
/* ruvector build <base> -o <index-file> [options] */
int cmd_build(int argc, char **argv);
/* ruvector search <index-file> <queries> [options] */
int cmd_search(int argc, char **argv);
/* ruvector bench <base> <queries> [options] */
int cmd_bench(int argc, char **argv);

#endif
