/* Machine topology, probed once per process: hwloc when the system has it
 * (found at run time), else the C library and the kernel (see topo.h).
 * Core counts size the thread pool, cache sizes size scan blocks; hwloc
 * reports no ISA flags, so those come from cpu_x86.c / cpu_arm.c. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <ruvector/engine.h>
#include <ruvector/error.h>

#include "base/error.h"
#include "cpu/topo.h"

void ruv__topo_probe(const char *const *names, size_t count, struct ruv__topo *out)
{
    memset(out, 0, sizeof *out);
    if (!names) {
        names = ruv__topo_hwloc_names;
        count = ruv__topo_hwloc_count;
    }
    char why[RUV__TOPO_DETAIL_SIZE - 96] = ""; /* leaves room for the words around it */
    if (ruv__topo_from_hwloc(names, count, out, why, sizeof why))
        return;
    size_t len = strlen(why);
    if (len >= 2 && why[len - 2] == ';')
        why[len - 2] = '\0';
    ruv__topo_from_system(out);
    snprintf(out->detail, sizeof out->detail,
             "sched_getaffinity, /sys/devices/system/cpu, sysconf, /proc/cpuinfo; no hwloc (%s)",
             why);
}

static struct ruv__topo probed;
static pthread_once_t probe_once = PTHREAD_ONCE_INIT;

static void probe(void)
{
    ruv__topo_probe(NULL, 0, &probed);
}

int ruv_topology_get(ruv_topology *out)
{
    if (!out)
        return ruv__set_error(RUV_E_INVAL, "ruv_topology_get: out is NULL");
    pthread_once(&probe_once, probe);
    *out = probed.t;
    return RUV_OK;
}

const char *ruv_cpu_model(void)
{
    pthread_once(&probe_once, probe);
    return probed.model;
}

const char *ruv_topology_source(void)
{
    pthread_once(&probe_once, probe);
    return probed.source;
}

const char *ruv__topology_detail(void)
{
    pthread_once(&probe_once, probe);
    return probed.detail;
}
