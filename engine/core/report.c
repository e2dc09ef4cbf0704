/* The JSON report: every decision made at open, with its reason and source. */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/cpu.h>
#include <ruvector/engine.h>
#include <ruvector/error.h>
#include <ruvector/plugin.h>
#include <ruvector/version.h>

#include "base/error.h"
#include "base/source.h"
#include "base/util.h"
#include "core/engine.h"
#include "core/host.h"
#include "core/kernel_slots.h"
#include "exec/pool.h"
#include "core/settings.h"
#include "cpu/topo.h"
#include "exec/blas.h"
#include "plugin/kernels.h"
#include "plugin/plugins.h"

static void isa_array(struct ruv__buf *b, uint64_t bits)
{
    ruv__buf_printf(b, "[");
    int first = 1;
    for (int i = 0; i < 64; i++) {
        uint64_t bit = UINT64_C(1) << i;
        const char *n = (bits & bit) ? ruv_isa_name(bit) : NULL;
        if (!n)
            continue;
        ruv__buf_printf(b, "%s", first ? "" : ",");
        ruv__buf_json_str(b, n);
        first = 0;
    }
    ruv__buf_printf(b, "]");
}

/* The bits that matter on this architecture, so isa_missing is meaningful. */
static uint64_t arch_bits(void)
{
    uint64_t known = ruv_isa_known() & ~RUV_ISA_TEST_IMPOSSIBLE;
#if defined(__aarch64__)
    return known & RUV_ISA_AARCH64_BITS;
#elif defined(__x86_64__) || defined(__i386__)
    return known & ~RUV_ISA_AARCH64_BITS;
#else
    return 0;
#endif
}

static const char *arch_name(void)
{
#if defined(__aarch64__)
    return "aarch64";
#elif defined(__x86_64__)
    return "x86_64";
#else
    return "other";
#endif
}

/* A plugin's own report entries (descriptor v2 `report`). */
struct fragment {
    struct ruv__buf *b;
    int n;
};

static void emit_entry(void *ctx, const char *key, const char *value)
{
    struct fragment *f = ctx;
    if (!key || !ruv__valid_module_name(key)) /* [a-z0-9_]{1,31}, as documented */
        return;
    ruv__buf_printf(f->b, "%s\"%s\":", f->n++ ? "," : "", key);
    ruv__buf_json_str(f->b, value ? value : "");
}

static void features(struct ruv__buf *b, const struct ruv__plugin_set *set)
{
    ruv__buf_printf(b, "\"features\":{");
    int n = 0;
    for (size_t i = 0; i < set->nrecs; i++) {
        const struct ruv__plugin_rec *r = set->recs[i];
        if (r->kind != RUV_PLUGIN_FEATURE || r->state != RUV_PLUGIN_LOADED || !r->desc)
            continue;
        ruv__buf_printf(b, "%s", n++ ? "," : "");
        ruv__buf_json_str(b, r->name);
        ruv__buf_printf(b, ":{");
        struct fragment f = {b, 0};
        if (r->desc->struct_size >= RUV_PLUGIN_SIZE_V2 && r->desc->report)
            r->desc->report(r->pstate, emit_entry, &f);
        ruv__buf_printf(b, "}");
    }
    ruv__buf_printf(b, "},");
}

int ruv_engine_report(const ruv_engine *eng, char **json_out)
{
    if (!eng || !json_out)
        return ruv__set_error(RUV_E_INVAL, "ruv_engine_report: NULL argument");
    *json_out = NULL;
    struct ruv__buf b = {0};
    ruv_topology t;
    ruv_topology_get(&t);

    ruv__buf_printf(&b, "{\"ruvector\":{\"version\":");
    ruv__buf_json_str(&b, ruv_version_string());
    ruv__buf_printf(&b, "},\"cpu\":{\"model\":");
    ruv__buf_json_str(&b, ruv_cpu_model());
    ruv__buf_printf(&b, ",\"arch\":\"%s\",\"isa_found\":", arch_name());
    isa_array(&b, eng->isa);
    ruv__buf_printf(&b, ",\"isa_missing\":");
    isa_array(&b, arch_bits() & ~eng->isa);
    ruv__buf_printf(&b,
                    ",\"topology\":{\"cores\":%u,\"pus\":%u,\"numa_nodes\":%u,"
                    "\"l1d_bytes\":%zu,\"l2_bytes\":%zu,\"l3_bytes\":%zu},",
                    t.cores, t.pus, t.numa_nodes, t.l1d_bytes, t.l2_bytes, t.l3_bytes);
    ruv__buf_printf(&b, "\"topology_source\":");
    ruv__buf_json_str(&b, ruv_topology_source());
    ruv__buf_printf(&b, ",\"topology_detail\":");
    ruv__buf_json_str(&b, ruv__topology_detail());
    ruv__buf_printf(&b, "},");

    pthread_mutex_lock((pthread_mutex_t *)&eng->plugins.lock); /* a late load may grow it */
    const struct ruv__plugin_rec *sel = eng->plugins.recs[eng->plugins.selected];
    ruv__buf_printf(&b, "\"kernel\":{\"name\":");
    ruv__buf_json_str(&b, sel->name);
    ruv__buf_printf(&b, ",\"source\":\"%s\",\"priority\":%d,\"reason\":",
                    ruv_engine_kernel_source(eng), sel->priority);
    if (strcmp(eng->settings.value[RUV_SET_kernel], "auto") == 0)
        ruv__buf_json_str(&b, "highest priority of the kernels that loaded and passed "
                              "conformance checks");
    else
        ruv__buf_json_str(&b, eng->settings.source[RUV_SET_kernel] == RUV_SRC_API
                                  ? "forced by ruv_config_set_kernel"
                                                             : "forced by RUVECTOR_KERNEL");
    ruv__buf_printf(&b, ",");
    ruv__kernel_slots_report(&b, eng);
    ruv__buf_printf(&b, "},\"blas\":");
    ruv__buf_json_str(&b, ruv__blas_describe());
    ruv__buf_printf(&b,
                    ",\"pool\":{\"workers\":%u,\"default_workers\":%u},"
                    "\"physical_memory_bytes\":%llu,",
                    ruv__pool_workers(), ruv__pool_default_workers(),
                    (unsigned long long)ruv__physical_memory());
    features(&b, &eng->plugins);
    ruv__buf_printf(&b, "\"plugins\":[");
    for (size_t i = 0; i < eng->plugins.nrecs; i++) {
        const struct ruv__plugin_rec *r = eng->plugins.recs[i];
        ruv__buf_printf(&b, "%s{\"name\":", i ? "," : "");
        ruv__buf_json_str(&b, r->name);
        ruv__buf_printf(&b, ",\"file\":");
        ruv__buf_json_str(&b, r->file);
        ruv__buf_printf(&b, ",\"version\":");
        ruv__buf_json_str(&b, r->version);
        ruv__buf_printf(&b, ",\"kind\":\"%s\",\"priority\":%d,\"requires\":",
                        r->kind == RUV_PLUGIN_KERNEL    ? "kernel"
                        : r->kind == RUV_PLUGIN_FEATURE ? "feature"
                                                        : "unknown",
                        r->priority);
        uint64_t req = r->requires_isa;
        if (!r->kind && ruv__is_known_kernel(r->name))
            req = ruv__known_kernel_isa(r->name);
        isa_array(&b, req);
        ruv__buf_printf(&b, ",\"state\":\"%s\",\"status\":\"%s\",\"selected\":%s,\"reason\":",
                        ruv_plugin_state_name(r->state), ruv_status_name(r->status),
                        i == eng->plugins.selected ? "true" : "false");
        ruv__buf_json_str(&b, r->reason);
        ruv__buf_printf(&b, "}");
    }
    ruv__buf_printf(&b, "],\"config\":{");
    ruv__settings_report(&b, &eng->settings);
    ruv__buf_printf(&b, ",");
    ruv__buf_printf(&b, "\"plugins_requested\":[");
    int first = 1;
    for (size_t i = 0; i < eng->plugins.nrecs; i++) {
        if (!eng->plugins.recs[i]->requested)
            continue;
        ruv__buf_printf(&b, "%s", first ? "" : ",");
        ruv__buf_json_str(&b, eng->plugins.recs[i]->name);
        first = 0;
    }
    pthread_mutex_unlock((pthread_mutex_t *)&eng->plugins.lock);
    ruv__buf_printf(&b, "]}}\n");
    if (b.oom) {
        free(b.p);
        return ruv__set_error(RUV_E_NOMEM, "ruv_engine_report: out of memory");
    }
    *json_out = b.p;
    return RUV_OK;
}
