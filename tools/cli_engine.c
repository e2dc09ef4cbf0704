/* Opening the engine for a subcommand (see cli_engine.h). */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <ruvector/error.h>

#include "cli_engine.h"
#include "cli_messages.h"

/* The engine's progress callback: one line per phase, rewritten in place
 * at each whole percent. */
struct live_progress {
    const char *cmd;
    const char *phase;
    int last_pct;
};

static void show_progress(void *vctx, const char *phase, uint64_t done, uint64_t total)
{
    struct live_progress *lp = vctx;
    int pct = total ? (int)(100.0 * (double)done / (double)total) : 100;
    if (lp->phase == phase && pct == lp->last_pct)
        return;
    lp->phase = phase;
    lp->last_pct = pct;
    fprintf(stderr, "\rruvector %s: %s %3d%%%s", lp->cmd, phase, pct, done >= total ? "\n" : "");
    fflush(stderr);
}

/* progress_cmd NULL: no progress lines. */
static int open_with(const char *kernel, long threads, const char *progress_cmd,
                     ruv_engine **out)
{
    static struct live_progress lp;
    ruv_config *cfg = NULL;
    *out = NULL;
    int rc = ruv_config_new(&cfg);
    if (rc == RUV_OK && progress_cmd && isatty(STDERR_FILENO)) {
        lp.cmd = progress_cmd;
        lp.phase = NULL;
        rc = ruv_config_set_progress(cfg, show_progress, &lp);
    }
    if (rc == RUV_OK && kernel)
        rc = ruv_config_set_kernel(cfg, kernel);
    if (rc == RUV_OK && threads >= 0)
        rc = ruv_config_set_threads(cfg, (unsigned)threads);
    if (rc == RUV_OK)
        rc = ruv_engine_open(cfg, out);
    ruv_config_free(cfg);
    return rc;
}

int cli_open_engine(const char *kernel, ruv_engine **out)
{
    return open_with(kernel, -1, NULL, out);
}

int cli_open_index_engine(const char *cmd, const char *kernel, long threads, ruv_engine **out)
{
    int rc = open_with(kernel, threads, cmd, out);
    return rc == RUV_OK ? 0 : lib_error(cmd, rc, "cannot open the engine");
}

void cli_print_kernel_slots(const ruv_engine *eng)
{
    printf("slots        %s\n", ruv_engine_kernel_selection(eng));
    size_t n = ruv_kernel_slot_count();
    int raced = 0;
    for (size_t i = 0; i < n; i++) {
        ruv_kernel_slot_info s;
        if (ruv_engine_kernel_slot(eng, i, &s) == RUV_OK && *s.detail)
            raced = 1;
    }
    if (!raced)
        return;
    for (size_t i = 0; i < n; i++) {
        ruv_kernel_slot_info s;
        if (ruv_engine_kernel_slot(eng, i, &s) != RUV_OK)
            continue;
        if (*s.detail)
            printf("  %-20s %-8s %-9s %s\n", s.slot, s.kernel, s.how, s.detail);
        else
            printf("  %-20s %-8s %s\n", s.slot, s.kernel, s.how);
    }
}
