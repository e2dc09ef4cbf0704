/* Error and progress messages of the CLI (see cli_messages.h). */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ruvector/error.h>

#include "cli_cancel.h"
#include "cli_messages.h"

int say_error(int code, const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "ruvector %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

int lib_error(const char *cmd, int status, const char *fmt, ...)
{
    char detail[512], what[512];
    /* Copied first: any later ruvector call may replace the detail text. */
    snprintf(detail, sizeof detail, "%s", ruv_last_error());
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (status == RUV_E_CANCELED) { /* Ctrl-C (cli_cancel.h): not a failure of the input */
        /* the engine's detail says where; a check of our own left none */
        int engine = strncmp(detail, "canceled", 8) == 0;
        fprintf(stderr, "ruvector %s: interrupted while %s%s%s%s; nothing written\n", cmd, what,
                engine ? " (" : "", engine ? detail : "", engine ? ")" : "");
        return EXIT_INTERRUPTED;
    }
    fprintf(stderr, "ruvector %s: %s: %s (%s)\n", cmd, what,
            detail[0] ? detail : ruv_status_str(status), ruv_status_name(status));
    return 1;
}

int cli_fail(int status)
{
    fprintf(stderr, "ruvector: %s: %s\n", ruv_status_name(status), ruv_last_error());
    return 1;
}

void progress_init(struct progress *p, const char *cmd)
{
    p->cmd = cmd;
    p->on = isatty(STDERR_FILENO);
}

void progress(const struct progress *p, const char *fmt, ...)
{
    if (!p->on)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "ruvector %s: ", p->cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void print_help(const char *text)
{
    fputs(text, stdout);
}

const char *plural(unsigned n) { return n == 1 ? "" : "s"; }
