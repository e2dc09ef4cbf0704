/* The engine's kernel table, slot by slot (kernel_slots.h): decides whether
 * to race, takes the speeds from the per-machine cache when it matches,
 * else races and saves them with the durable writer, and words every
 * decision for ruvector info, the JSON report and show_runtime(). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ruvector/engine.h>
#include <ruvector/error.h>

#include "base/error.h"
#include "base/log.h"
#include "base/source.h"
#include "base/util.h"
#include "core/engine.h"
#include "core/kernel_cache.h"
#include "core/kernel_slots.h"
#include "core/settings.h"
#include "plugin/kernels.h"
#include "plugin/plugins.h"
#include "store/durable.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The note is for people: a long path may cut it short. */
static void set_note(struct ruv__slot_table *t, const char *fmt, ...) RUV_PRINTF(2, 3);
static void set_note(struct ruv__slot_table *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->note, sizeof t->note, fmt, ap);
    va_end(ap);
}

static const char *rec_name(const struct ruv__plugin_set *set, size_t i)
{
    return set->recs[i]->name;
}

/* Races and saves; `ignored` is why a cache file present was not used. */
static int measure(struct ruv_engine *eng, const char *path, const char *key, const char *ignored)
{
    struct ruv__plugin_set *set = &eng->plugins;
    struct ruv__slot_table *t = &set->slots;
    double t0 = now_ms();
    int rc = ruv__slots_race(set);
    if (rc != RUV_OK)
        return rc;
    double ms = now_ms() - t0;
    char saved[300];
    if (!*path) {
        snprintf(saved, sizeof saved, "not saved: no cache directory");
    } else {
        struct ruv__buf b = {0};
        ruv__kernel_cache_format(&b, key, t);
        int wrc = b.oom ? ruv__set_error(RUV_E_NOMEM, "out of memory")
                        : ruv__durable_write_file(path, b.p, b.len, RUV__DURABLE_MKDIRS);
        free(b.p);
        if (wrc == RUV_OK)
            snprintf(saved, sizeof saved, "saved to %s", path);
        else
            snprintf(saved, sizeof saved, "not saved: %s", ruv_last_error());
    }
    set_note(t, "measured now in %.1f ms, %s%s%s", ms, saved,
             ignored ? "; the cache file was ignored: " : "", ignored ? ignored : "");
    return RUV_OK;
}

/* A parsed file must time the selected kernel on every slot it shares. */
static int times_cover_races(struct ruv__plugin_set *set, char *why, size_t whylen)
{
    for (size_t s = 0; s < RUV__SLOT_COUNT; s++)
        if (ruv__slot_contested(set, s) && !(set->slots.ns[s][0] > 0)) {
            snprintf(why, whylen, "no time for %s's %s", rec_name(set, set->selected),
                     ruv__kernel_slot_names[s]);
            return 0;
        }
    return 1;
}

int ruv__kernel_slots_resolve(struct ruv_engine *eng)
{
    struct ruv__plugin_set *set = &eng->plugins;
    struct ruv__slot_table *t = &set->slots;
    const struct ruv__settings *st = &eng->settings;
    int forced = strcmp(st->value[RUV_SET_kernel], "auto") != 0;
    ruv__slots_init(set, forced);
    const char *first = rec_name(set, set->selected);
    if (forced) {
        set_note(t, "forced by %s: every slot from %s",
                 st->source[RUV_SET_kernel] == RUV_SRC_API ? "ruv_config_set_kernel"
                                                           : "RUVECTOR_KERNEL",
                 first);
        return RUV_OK;
    }
    int contested = 0;
    for (size_t s = 0; s < RUV__SLOT_COUNT; s++)
        contested += ruv__slot_contested(set, s);
    if (t->nracers < 2 || !contested) {
        snprintf(t->note, sizeof t->note,
                 t->nracers < 2 ? "one kernel plugin (%s): every slot from it, nothing to measure"
                                : "no slot is supplied by two kernel plugins: every slot from %s, "
                                  "the highest priority",
                 first);
        return RUV_OK;
    }
    if (!st->kernel_measure) {
        snprintf(t->note, sizeof t->note,
                 "measuring off (%s): every slot from %s, the highest priority",
                 st->source[RUV_SET_kernel_measure] == RUV_SRC_API
                     ? "ruv_config_set_kernel_measure"
                     : "RUVECTOR_KERNEL_MEASURE=0",
                 first);
        return RUV_OK;
    }

    struct ruv__buf key = {0}, path = {0};
    ruv__kernel_cache_key(&key, set);
    const char *dir = st->value[RUV_SET_cache_dir];
    if (*dir)
        ruv__buf_printf(&path, "%s/%s", dir, RUV__KERNEL_CACHE_FILE);
    else
        ruv__buf_printf(&path, "%s", "");
    if (key.oom || path.oom) {
        free(key.p);
        free(path.p);
        return ruv__set_error(RUV_E_NOMEM, "out of memory");
    }
    char why[300] = "";
    char *buf = NULL;
    size_t len = 0;
    int have = *dir ? ruv__kernel_cache_read(path.p, &buf, &len, why, sizeof why) : 0;
    int rc = RUV_OK;
    if (have == 1 && ruv__kernel_cache_parse(buf, len, key.p, t->nracers, t->ns, why,
                                             sizeof why) == 0 &&
        times_cover_races(set, why, sizeof why))
        snprintf(t->note, sizeof t->note,
                 "speeds measured earlier on this CPU with these plugins, from %s", path.p);
    else
        rc = measure(eng, path.p, key.p, have != 0 ? why : NULL);
    free(buf);
    free(key.p);
    free(path.p);
    if (rc != RUV_OK)
        return rc;
    ruv__slots_pick(set);
    ruv__log(st->verbose, 1, "kernel slots: %s", t->note);
    for (size_t s = 0; s < RUV__SLOT_COUNT; s++)
        if (t->supplier[s] != set->selected)
            ruv__log(st->verbose, 1, "kernel slot %s: from %s (measured faster)",
                     ruv__kernel_slot_names[s], rec_name(set, t->supplier[s]));
    return RUV_OK;
}

/* ---- describing ---- */

static const char *how_name(int how)
{
    switch (how) {
    case RUV__SLOT_FORCED: return "forced";
    case RUV__SLOT_MEASURED: return "faster";
    case RUV__SLOT_CLOSE: return "kept";
    default: return "priority";
    }
}

/* "avx2 812 ns, avx512 1490 ns" for a raced slot, else "". */
static void times_text(const struct ruv__plugin_set *set, size_t s, char *out, size_t cap)
{
    const struct ruv__slot_table *t = &set->slots;
    out[0] = '\0';
    if (t->how[s] != RUV__SLOT_MEASURED && t->how[s] != RUV__SLOT_CLOSE)
        return;
    size_t at = 0;
    for (size_t r = 0; r < t->nracers && at < cap; r++) {
        if (t->ns[s][r] <= 0)
            continue;
        int w = snprintf(out + at, cap - at, "%s%s %.0f ns", at ? ", " : "",
                         rec_name(set, t->racers[r]), t->ns[s][r]);
        if (w < 0)
            break;
        at += (size_t)w;
    }
}

size_t ruv_kernel_slot_count(void) { return RUV__SLOT_COUNT; }

int ruv_engine_kernel_slot(const ruv_engine *eng, size_t i, ruv_kernel_slot_info *out)
{
    if (!eng || !out)
        return ruv__set_error(RUV_E_INVAL, "ruv_engine_kernel_slot: NULL argument");
    if (i >= RUV__SLOT_COUNT)
        return ruv__set_error(RUV_E_INVAL, "ruv_engine_kernel_slot: slot %zu >= count %d", i,
                              (int)RUV__SLOT_COUNT);
    const struct ruv__plugin_set *set = &eng->plugins;
    out->slot = ruv__kernel_slot_names[i];
    out->kernel = rec_name(set, set->slots.supplier[i]);
    out->how = how_name(set->slots.how[i]);
    times_text(set, i, out->detail, sizeof out->detail);
    return RUV_OK;
}

const char *ruv_engine_kernel_selection(const ruv_engine *eng)
{
    return eng ? eng->plugins.slots.note : NULL;
}

void ruv__kernel_slots_report(struct ruv__buf *b, const struct ruv_engine *eng)
{
    const struct ruv__plugin_set *set = &eng->plugins;
    const struct ruv__slot_table *t = &set->slots;
    ruv__buf_printf(b, "\"selection\":");
    ruv__buf_json_str(b, t->note);
    ruv__buf_printf(b, ",\"slots\":[");
    for (size_t s = 0; s < RUV__SLOT_COUNT; s++) {
        ruv__buf_printf(b, "%s{\"slot\":\"%s\",\"kernel\":", s ? "," : "",
                        ruv__kernel_slot_names[s]);
        ruv__buf_json_str(b, rec_name(set, t->supplier[s]));
        ruv__buf_printf(b, ",\"how\":\"%s\",\"ns\":{", how_name(t->how[s]));
        int n = 0;
        for (size_t r = 0; r < t->nracers; r++) {
            if (t->ns[s][r] <= 0 || (t->how[s] != RUV__SLOT_MEASURED && t->how[s] != RUV__SLOT_CLOSE))
                continue;
            ruv__buf_printf(b, "%s", n++ ? "," : "");
            ruv__buf_json_str(b, rec_name(set, t->racers[r]));
            ruv__buf_printf(b, ":%.1f", t->ns[s][r]);
        }
        ruv__buf_printf(b, "}}");
    }
    ruv__buf_printf(b, "]");
}
