/* Ctrl-C in the index subcommands (see cli_cancel.h). */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stddef.h>
#include <string.h>

#include <ruvector/cancel.h>
#include <ruvector/error.h>

#include "cli_cancel.h"
#include "cli_messages.h"

static ruv_cancel *token;
static struct sigaction previous;

static void on_sigint(int sig)
{
    (void)sig;
    ruv_cancel_request(token); /* one lock-free store: async-signal-safe */
}

int cli_cancel_install(const char *cmd)
{
    if (ruv_cancel_new(&token) != RUV_OK)
        return lib_error(cmd, RUV_E_NOMEM, "setting up Ctrl-C");
    ruv_cancel_bind(token);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND | SA_RESTART; /* the second Ctrl-C kills */
    if (sigaction(SIGINT, &sa, &previous) != 0) {
        ruv_cancel_bind(NULL);
        ruv_cancel_free(token);
        token = NULL;
        return say_error(1, cmd, "cannot install the SIGINT handler");
    }
    return 0;
}

int cli_interrupted(void) { return ruv_cancel_requested(token); }

void cli_cancel_remove(void)
{
    if (!token)
        return;
    sigaction(SIGINT, &previous, NULL);
    ruv_cancel_bind(NULL);
    ruv_cancel_free(token);
    token = NULL;
}
