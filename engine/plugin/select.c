/* Kernel selection: among loaded kernels the highest priority wins (ties by
 * name, so the choice is deterministic); a forced name must pass the same
 * checks as an automatic choice and fails with a reason, never SIGILL. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <ruvector/engine.h>
#include <ruvector/error.h>
#include <ruvector/plugin.h>

#include "base/error.h"
#include "base/log.h"
#include "base/source.h"
#include "base/util.h"
#include "cpu/isa.h"
#include "plugin/kernels.h"
#include "plugin/plugins.h"

static const char *source_words(int src)
{
    return src == RUV_SRC_API ? "ruv_config_set_kernel" : "RUVECTOR_KERNEL";
}

static int forced(struct ruv__plugin_set *set)
{
    const char *name = set->kernel_req;
    struct ruv__plugin_rec *rec = ruv__rec_find(set, name);
    if (!rec || (rec->kind != RUV_PLUGIN_KERNEL && rec->state == RUV_PLUGIN_LOADED)) {
        struct ruv__buf b = {0};
        ruv__known_kernel_list(&b);
        int rc = ruv__set_error(RUV_E_NOTFOUND, "unknown kernel '%s' (from %s); known kernels: %s",
                                name, source_words(set->kernel_src), b.p ? b.p : "?");
        free(b.p);
        return rc;
    }
    switch (rec->state) {
    case RUV_PLUGIN_LOADED:
        for (size_t i = 0; i < set->nrecs; i++)
            if (set->recs[i] == rec)
                set->selected = i;
        return RUV_OK;
    case RUV_PLUGIN_DISABLED:
        return ruv__set_error(RUV_E_INVAL, "kernel '%s' is forced by %s but disabled by %s", name,
                              source_words(set->kernel_src),
                              set->disable_src == RUV_SRC_API ? "ruv_config_set_disable"
                                                              : "RUVECTOR_DISABLE");
    case RUV_PLUGIN_NOT_FOUND: {
        uint64_t need = ruv__known_kernel_isa(name);
        if ((set->isa & need) != need) {
            struct ruv__buf b = {0};
            ruv__buf_printf(&b, "needs ");
            ruv__isa_list(&b, need & ~set->isa, " ");
            int rc = ruv__set_error(RUV_E_UNSUPPORTED,
                                    "kernel '%s' (from %s) cannot run on this CPU: %s", name,
                                    source_words(set->kernel_src), b.p ? b.p : "");
            free(b.p);
            return rc;
        }
        return ruv__set_error(RUV_E_NOTFOUND, "kernel '%s' (from %s): %s", name,
                              source_words(set->kernel_src), rec->reason);
    }
    case RUV_PLUGIN_INELIGIBLE:
        return ruv__set_error(RUV_E_UNSUPPORTED, "kernel '%s' (from %s) cannot run on this CPU: %s",
                              name, source_words(set->kernel_src), rec->reason);
    default:
        return ruv__set_error(rec->status ? rec->status : RUV_E_PLUGIN,
                              "kernel '%s' (from %s) failed to load: %s", name,
                              source_words(set->kernel_src), rec->reason);
    }
}

int ruv__select_kernel(struct ruv__plugin_set *set)
{
    if (strcmp(set->kernel_req, "auto") != 0) {
        int rc = forced(set);
        if (rc == RUV_OK)
            ruv__log(set->verbose, 1, "kernel %s: forced by %s", set->kernel_req,
                     source_words(set->kernel_src));
        return rc;
    }
    size_t best = (size_t)-1;
    for (size_t i = 0; i < set->nrecs; i++) {
        const struct ruv__plugin_rec *r = set->recs[i];
        if (r->kind != RUV_PLUGIN_KERNEL || r->state != RUV_PLUGIN_LOADED)
            continue;
        if (best == (size_t)-1 || r->priority > set->recs[best]->priority ||
            (r->priority == set->recs[best]->priority && strcmp(r->name, set->recs[best]->name) < 0))
            best = i;
    }
    if (best == (size_t)-1) /* cannot happen: scalar is always loaded */
        return ruv__set_error(RUV_E_STATE, "no kernel loaded");
    set->selected = best;
    ruv__log(set->verbose, 1, "kernel %s: highest priority (%d) of the loaded kernels",
             set->recs[best]->name, set->recs[best]->priority);
    return RUV_OK;
}
