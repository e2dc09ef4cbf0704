/* The part of hwloc's 2.x binary interface (soname libhwloc.so.15) that
 * topo_hwloc.c uses, declared here so that libruvector neither includes
 * hwloc.h nor links libhwloc: hwloc is opened at run time (see topo.h).
 *
 * Why these declarations are safe for every libhwloc.so.15 (hwloc 2.0 to
 * 2.x): hwloc's own inline helpers in hwloc.h / hwloc/inlines.h, which every
 * program built against 2.0 carries compiled in, read obj->attr,
 * attr->cache.size, obj->infos and obj->infos_count and pass these enum
 * values. A 2.x release that moved any of them would break those programs
 * without a soname bump, so the soname freezes them (and for the same
 * reason a later 2.x can only add fields after them, beyond what we read).
 *
 * tests/test_hwloc_abi.c compares every offset and value below with the
 * installed hwloc.h when one is present at build time. The functions
 * topo_hwloc.c calls have had the same signatures since hwloc 2.0. */
#ifndef RUV_ENGINE_HWLOC_ABI_H
#define RUV_ENGINE_HWLOC_ABI_H

#include <stdint.h>

/* hwloc_obj_type_t: values in hwloc 2.x's enum order (HWLOC_OBJ_MACHINE = 0). */
enum ruv__hwloc_type {
    RUV__HWLOC_OBJ_MACHINE = 0,
    RUV__HWLOC_OBJ_PACKAGE = 1,
    RUV__HWLOC_OBJ_CORE = 2,
    RUV__HWLOC_OBJ_PU = 3,
    RUV__HWLOC_OBJ_L1CACHE = 4,
    RUV__HWLOC_OBJ_L2CACHE = 5,
    RUV__HWLOC_OBJ_L3CACHE = 6,
    RUV__HWLOC_OBJ_NUMANODE = 13
};

/* Special values hwloc_get_type_depth returns. */
enum {
    RUV__HWLOC_TYPE_DEPTH_UNKNOWN = -1,
    RUV__HWLOC_TYPE_DEPTH_MULTIPLE = -2
};

struct ruv__hwloc_info {
    char *name;
    char *value;
};

struct ruv__hwloc_cache_attr {
    uint64_t size;
    unsigned depth;
    unsigned linesize;
    int associativity;
    int type;
};

/* union hwloc_obj_attr_u: every member starts at offset 0; we read only
 * the cache member. */
union ruv__hwloc_attr {
    struct ruv__hwloc_cache_attr cache;
};

/* struct hwloc_obj up to infos_count (the fields after it are not read). */
struct ruv__hwloc_obj {
    enum ruv__hwloc_type type;
    char *subtype;
    unsigned os_index;
    char *name;
    uint64_t total_memory;
    union ruv__hwloc_attr *attr;
    int depth;
    unsigned logical_index;
    struct ruv__hwloc_obj *next_cousin;
    struct ruv__hwloc_obj *prev_cousin;
    struct ruv__hwloc_obj *parent;
    unsigned sibling_rank;
    struct ruv__hwloc_obj *next_sibling;
    struct ruv__hwloc_obj *prev_sibling;
    unsigned arity;
    struct ruv__hwloc_obj **children;
    struct ruv__hwloc_obj *first_child;
    struct ruv__hwloc_obj *last_child;
    int symmetric_subtree;
    unsigned memory_arity;
    struct ruv__hwloc_obj *memory_first_child;
    unsigned io_arity;
    struct ruv__hwloc_obj *io_first_child;
    unsigned misc_arity;
    struct ruv__hwloc_obj *misc_first_child;
    void *cpuset;
    void *complete_cpuset;
    void *nodeset;
    void *complete_nodeset;
    struct ruv__hwloc_info *infos;
    unsigned infos_count;
};

/* hwloc_topology_t is an opaque pointer. */
typedef struct ruv__hwloc_topology *ruv__hwloc_topology_t;

/* The functions, as hwloc 2.x declares them. */
typedef unsigned (*ruv__hwloc_get_api_version_fn)(void);
typedef int (*ruv__hwloc_topology_init_fn)(ruv__hwloc_topology_t *topology);
typedef int (*ruv__hwloc_topology_load_fn)(ruv__hwloc_topology_t topology);
typedef void (*ruv__hwloc_topology_destroy_fn)(ruv__hwloc_topology_t topology);
typedef int (*ruv__hwloc_get_type_depth_fn)(ruv__hwloc_topology_t topology,
                                            enum ruv__hwloc_type type);
typedef unsigned (*ruv__hwloc_get_nbobjs_by_depth_fn)(ruv__hwloc_topology_t topology, int depth);
typedef struct ruv__hwloc_obj *(*ruv__hwloc_get_obj_by_depth_fn)(ruv__hwloc_topology_t topology,
                                                                  int depth, unsigned idx);

#endif
