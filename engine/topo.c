/* Machine topology from hwloc: core counts size the thread pool, cache sizes
 * size scan blocks. Probed once per process; hwloc reports no ISA flags, so
 * those come from cpu_x86.c / cpu_arm.c. */
#include "config.h"

#include <hwloc.h>
#include <pthread.h>
#include <string.h>

#include "internal.h"

static ruv_topology topo;
static char model[128];
static pthread_once_t topo_once = PTHREAD_ONCE_INIT;

static size_t cache_size(hwloc_topology_t t, hwloc_obj_type_t type)
{
    hwloc_obj_t o = hwloc_get_obj_by_type(t, type, 0);
    return (o && o->attr) ? (size_t)o->attr->cache.size : 0;
}

static void load(void)
{
    hwloc_topology_t t;
    if (hwloc_topology_init(&t) != 0)
        return;
    if (hwloc_topology_load(t) != 0) {
        hwloc_topology_destroy(t);
        return;
    }
    int n = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_CORE);
    topo.cores = n > 0 ? (unsigned)n : 0;
    n = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PU);
    topo.pus = n > 0 ? (unsigned)n : 0;
    n = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE);
    topo.numa_nodes = n > 0 ? (unsigned)n : 0;
    topo.l1d_bytes = cache_size(t, HWLOC_OBJ_L1CACHE);
    topo.l2_bytes = cache_size(t, HWLOC_OBJ_L2CACHE);
    topo.l3_bytes = cache_size(t, HWLOC_OBJ_L3CACHE);
    hwloc_obj_t pkg = hwloc_get_obj_by_type(t, HWLOC_OBJ_PACKAGE, 0);
    const char *m = pkg ? hwloc_obj_get_info_by_name(pkg, "CPUModel") : NULL;
    if (!m)
        m = hwloc_obj_get_info_by_name(hwloc_get_root_obj(t), "CPUModel");
    if (m) {
        strncpy(model, m, sizeof model - 1);
        model[sizeof model - 1] = '\0';
    }
    hwloc_topology_destroy(t);
}

int ruv_topology_get(ruv_topology *out)
{
    if (!out)
        return ruv__set_error(RUV_E_INVAL, "ruv_topology_get: out is NULL");
    pthread_once(&topo_once, load);
    *out = topo;
    return RUV_OK;
}

const char *ruv_cpu_model(void)
{
    pthread_once(&topo_once, load);
    return model;
}
