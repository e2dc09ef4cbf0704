/* Ctrl-C in the index subcommands (build, search, bench).
 *
 * The first SIGINT raises a cancel token bound to the main thread
 * (<ruvector/cancel.h>): the running build or batch search stops at its next
 * check (milliseconds), frees what it holds and returns RUV_E_CANCELED; the
 * command says so and exits with EXIT_INTERRUPTED, having written nothing
 * (saves are atomic: a file is complete or absent). The handler resets
 * itself, so a second Ctrl-C kills the process as usual: the way out of
 * what does not look at the token (reading the input, a save under way). */
#ifndef RUV_TOOLS_CLI_CANCEL_H
#define RUV_TOOLS_CLI_CANCEL_H

/* 128 + SIGINT, what shells report for a process stopped by Ctrl-C. */
#define EXIT_INTERRUPTED 130

/* Creates and binds the token and installs the handler; 0, or 1 after
 * saying why for cmd. */
int cli_cancel_install(const char *cmd);
/* Whether Ctrl-C was pressed since cli_cancel_install. */
int cli_interrupted(void);
/* Restores SIGINT, unbinds and frees the token. */
void cli_cancel_remove(void);

#endif
