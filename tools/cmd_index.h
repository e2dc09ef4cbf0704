/* Index subcommands of the ruvector CLI; each returns the process exit
 * status (0 success, 1 failure, 2 bad usage). argv[0] is the command name. */
#ifndef RUV_TOOLS_CMD_INDEX_H
#define RUV_TOOLS_CMD_INDEX_H

/* ruvector build <base> -o <index-file> [options] */
int cmd_build(int argc, char **argv);
/* ruvector search <index-file> <queries> [options] */
int cmd_search(int argc, char **argv);
/* ruvector bench <base> <queries> [options] */
int cmd_bench(int argc, char **argv);

#endif
