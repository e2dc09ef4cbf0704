/* What the CLI tells its user: errors on stderr, each one line that starts
 * with "ruvector <cmd>: " and names the file or option, and progress lines
 * for a person watching a terminal. */
#ifndef RUV_TOOLS_CLI_MESSAGES_H
#define RUV_TOOLS_CLI_MESSAGES_H

#if defined(__GNUC__) || defined(__clang__)
#define CLI_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CLI_PRINTF(f, a)
#endif

/* Exit status of a command given bad arguments. */
#define EXIT_USAGE 2

/* Prints "ruvector <cmd>: <message>" to stderr; returns code. */
CLI_PRINTF(3, 4)
int say_error(int code, const char *cmd, const char *fmt, ...);

/* A library call failed: prints what we were doing, then ruv_last_error()
 * (or the status's message) and the status name. Returns 1; for
 * RUV_E_CANCELED (Ctrl-C) says "interrupted while <what>" and returns
 * EXIT_INTERRUPTED. */
CLI_PRINTF(3, 4)
int lib_error(const char *cmd, int status, const char *fmt, ...);

/* Prints "ruvector: <STATUS>: <detail>" to stderr; returns 1. */
int cli_fail(int status);

/* Phase messages ("reading...") for a person watching a terminal; silent
 * when stderr is a file or pipe so logs and scripts stay clean. */
struct progress {
    const char *cmd;
    int on;
};

void progress_init(struct progress *p, const char *cmd);
CLI_PRINTF(2, 3)
void progress(const struct progress *p, const char *fmt, ...);

/* A command's --help text, on stdout. */
void print_help(const char *text);

/* "" for 1, "s" otherwise. */
const char *plural(unsigned n);

#endif
