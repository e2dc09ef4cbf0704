/* Machine topology (cores, caches, NUMA nodes, CPU model) and where it came
 * from. Two sources, tried in this order:
 *   1. hwloc, opened at run time with dlopen (topo_hwloc.c), never linked:
 *      the Python wheel must carry libruvector and the kernel plugins and
 *      nothing else, and libhwloc would bring libudev along;
 *   2. what the C library and the kernel give (topo_sys.c): the CPUs this
 *      process may run on, /sys/devices/system/cpu for cores and caches,
 *      sysconf for caches sysfs does not list, /proc/cpuinfo for the model.
 * topo.c runs the probe once per process and serves ruv_topology_get,
 * ruv_cpu_model and ruv_topology_source from its result. */
#ifndef RUV_ENGINE_TOPO_H
#define RUV_ENGINE_TOPO_H

#include <stddef.h>

#include <ruvector/engine.h>

#define RUV__TOPO_MODEL_SIZE 128
#define RUV__TOPO_SOURCE_SIZE 64
#define RUV__TOPO_DETAIL_SIZE 768

struct ruv__topo {
    ruv_topology t;
    char model[RUV__TOPO_MODEL_SIZE];   /* "" when unknown */
    char source[RUV__TOPO_SOURCE_SIZE]; /* "hwloc 2.9.0" or "sysconf" */
    char detail[RUV__TOPO_DETAIL_SIZE]; /* the library used, or why hwloc was not */
};

/* The sonames ruv__topo_probe tries when given none: libhwloc.so.15 (every
 * hwloc 2.x), then the development symlink libhwloc.so (accepted only if it
 * is a 2.x library). */
extern const char *const ruv__topo_hwloc_names[];
extern const size_t ruv__topo_hwloc_count;

/* Tries each name in turn with dlopen; the first library that is hwloc 2.x
 * and loads a topology fills out (t, model, source, detail: the library's
 * path) and returns 1. Otherwise returns 0 with "<name>: <why>; " appended
 * to why for every name tried. The library is closed again before return:
 * nothing of hwloc stays in the process. */
int ruv__topo_from_hwloc(const char *const *names, size_t count, struct ruv__topo *out,
                         char *why, size_t why_size);

/* The fallback; always fills out. cores and pus are at least 1. Cache
 * sizes the machine does not describe stay 0. source is "sysconf". */
void ruv__topo_from_system(struct ruv__topo *out);

/* hwloc from names (NULL: the default list above), else the fallback with
 * detail saying why hwloc was not used. Called once per process by topo.c;
 * tests call it with names that cannot load to force the fallback. */
void ruv__topo_probe(const char *const *names, size_t count, struct ruv__topo *out);

/* The process's probe result's detail (ruv_topology_source's companion, for
 * the report): hwloc's file, or why hwloc was not used. Static storage. */
const char *ruv__topology_detail(void);

#endif
