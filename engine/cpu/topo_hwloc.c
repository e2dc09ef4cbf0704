/* Topology from hwloc found at run time (contract in topo.h). dlopen, not
 * libltdl: hwloc is a system library found by soname, not a ruvector
 * plugin; RTLD_LOCAL keeps its symbols from interposing on the host's. */
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "cpu/hwloc_abi.h"
#include "cpu/topo.h"

#if defined(__APPLE__)
const char *const ruv__topo_hwloc_names[] = {"libhwloc.15.dylib", "libhwloc.dylib"};
#else
const char *const ruv__topo_hwloc_names[] = {"libhwloc.so.15", "libhwloc.so"};
#endif
const size_t ruv__topo_hwloc_count =
    sizeof ruv__topo_hwloc_names / sizeof ruv__topo_hwloc_names[0];

struct hwloc {
    ruv__hwloc_get_api_version_fn get_api_version;
    ruv__hwloc_topology_init_fn topology_init;
    ruv__hwloc_topology_load_fn topology_load;
    ruv__hwloc_topology_destroy_fn topology_destroy;
    ruv__hwloc_get_type_depth_fn get_type_depth;
    ruv__hwloc_get_nbobjs_by_depth_fn get_nbobjs_by_depth;
    ruv__hwloc_get_obj_by_depth_fn get_obj_by_depth;
};

/* dlsym returns an object pointer; POSIX guarantees it converts to a
 * function pointer, and memcpy says so without a pedantic cast warning. */
#define BIND(h, f, field, name)                   \
    do {                                          \
        void *p_ = dlsym((h), (name));            \
        if (!p_)                                  \
            return (name);                        \
        memcpy(&(f)->field, &p_, sizeof p_);      \
    } while (0)

/* Returns NULL when every function was found, else the missing one's name. */
static const char *bind(void *h, struct hwloc *f)
{
    BIND(h, f, get_api_version, "hwloc_get_api_version");
    BIND(h, f, topology_init, "hwloc_topology_init");
    BIND(h, f, topology_load, "hwloc_topology_load");
    BIND(h, f, topology_destroy, "hwloc_topology_destroy");
    BIND(h, f, get_type_depth, "hwloc_get_type_depth");
    BIND(h, f, get_nbobjs_by_depth, "hwloc_get_nbobjs_by_depth");
    BIND(h, f, get_obj_by_depth, "hwloc_get_obj_by_depth");
    return NULL;
}

/* hwloc_get_nbobjs_by_type and hwloc_get_obj_by_type are inline in hwloc.h;
 * these are the same two steps through the exported functions. */
static int type_depth(const struct hwloc *f, ruv__hwloc_topology_t t, enum ruv__hwloc_type type)
{
    int depth = f->get_type_depth(t, type);
    return depth == RUV__HWLOC_TYPE_DEPTH_MULTIPLE ? RUV__HWLOC_TYPE_DEPTH_UNKNOWN : depth;
}

static unsigned nobjs(const struct hwloc *f, ruv__hwloc_topology_t t, enum ruv__hwloc_type type)
{
    int depth = type_depth(f, t, type);
    return depth == RUV__HWLOC_TYPE_DEPTH_UNKNOWN ? 0 : f->get_nbobjs_by_depth(t, depth);
}

static struct ruv__hwloc_obj *first(const struct hwloc *f, ruv__hwloc_topology_t t,
                                    enum ruv__hwloc_type type)
{
    int depth = type_depth(f, t, type);
    return depth == RUV__HWLOC_TYPE_DEPTH_UNKNOWN ? NULL : f->get_obj_by_depth(t, depth, 0);
}

static size_t cache_size(const struct hwloc *f, ruv__hwloc_topology_t t, enum ruv__hwloc_type type)
{
    struct ruv__hwloc_obj *o = first(f, t, type);
    return (o && o->attr) ? (size_t)o->attr->cache.size : 0;
}

static const char *info(const struct ruv__hwloc_obj *o, const char *name)
{
    for (unsigned i = 0; o && i < o->infos_count; i++)
        if (o->infos[i].name && o->infos[i].value && strcmp(o->infos[i].name, name) == 0)
            return o->infos[i].value;
    return NULL;
}

static void copy(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

static void read_topology(const struct hwloc *f, ruv__hwloc_topology_t t, unsigned api,
                          struct ruv__topo *out)
{
    out->t.cores = nobjs(f, t, RUV__HWLOC_OBJ_CORE);
    out->t.pus = nobjs(f, t, RUV__HWLOC_OBJ_PU);
    out->t.numa_nodes = nobjs(f, t, RUV__HWLOC_OBJ_NUMANODE);
    out->t.l1d_bytes = cache_size(f, t, RUV__HWLOC_OBJ_L1CACHE);
    out->t.l2_bytes = cache_size(f, t, RUV__HWLOC_OBJ_L2CACHE);
    out->t.l3_bytes = cache_size(f, t, RUV__HWLOC_OBJ_L3CACHE);
    /* Some machines have PUs and no Core objects (hwloc then has no SMT
     * information): the thread pool sizes from cores, so count PUs. */
    if (!out->t.cores)
        out->t.cores = out->t.pus;

    struct ruv__hwloc_obj *root = f->get_obj_by_depth(t, 0, 0);
    const char *model = info(first(f, t, RUV__HWLOC_OBJ_PACKAGE), "CPUModel");
    copy(out->model, sizeof out->model, model ? model : info(root, "CPUModel"));
    /* The release ("2.9.0") is a root info attribute; the API version
     * (0x00020800 for 2.8 and 2.9) stands in if a build lacks it. */
    const char *release = info(root, "hwlocVersion");
    if (release)
        snprintf(out->source, sizeof out->source, "hwloc %.40s", release);
    else
        snprintf(out->source, sizeof out->source, "hwloc API %u.%u", api >> 16, (api >> 8) & 0xff);
}

/* Tries one library; on failure appends why and returns 0. */
static int try_lib(const char *name, struct ruv__topo *out, char *why, size_t why_size)
{
    void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        /* A missing library is the common case and says "not found";
         * anything else (wrong architecture, broken file) keeps the
         * loader's text, minus the name it repeats. */
        const char *err = dlerror();
        size_t nlen = strlen(name);
        if (err && strncmp(err, name, nlen) == 0 && strncmp(err + nlen, ": ", 2) == 0)
            err += nlen + 2;
        if (!err || strstr(err, "No such file"))
            err = "not found";
        ruv__append(why, why_size, "%s: %s; ", name, err);
        return 0;
    }
    struct hwloc f;
    const char *missing = bind(h, &f);
    unsigned api = missing ? 0 : f.get_api_version();
    int ok = 0;
    ruv__hwloc_topology_t t = NULL;
    if (missing) {
        ruv__append(why, why_size, "%s: no %s; ", name, missing);
    } else if ((api >> 16) != 2) {
        /* Only the 2.x binary interface is declared in hwloc_abi.h. */
        ruv__append(why, why_size, "%s: hwloc API %u.%u, not 2.x; ", name, api >> 16,
               (api >> 8) & 0xff);
    } else if (f.topology_init(&t) != 0) {
        ruv__append(why, why_size, "%s: hwloc_topology_init failed; ", name);
    } else if (f.topology_load(t) != 0) {
        ruv__append(why, why_size, "%s: hwloc_topology_load failed; ", name);
        f.topology_destroy(t);
    } else {
        read_topology(&f, t, api, out);
        f.topology_destroy(t);
        /* Name the file the loader picked, so the report shows which one. */
        Dl_info dl;
        void *sym;
        memcpy(&sym, &f.topology_load, sizeof sym);
        if (dladdr(sym, &dl) && dl.dli_fname && *dl.dli_fname)
            copy(out->detail, sizeof out->detail, dl.dli_fname);
        else
            copy(out->detail, sizeof out->detail, name);
        ok = 1;
    }
    /* Nothing of hwloc is kept: the probe runs once and its results are
     * copied out, and hwloc unloads its own plugins with the last topology. */
    dlclose(h);
    return ok;
}

int ruv__topo_from_hwloc(const char *const *names, size_t count, struct ruv__topo *out,
                         char *why, size_t why_size)
{
    for (size_t i = 0; i < count; i++)
        if (names[i] && try_lib(names[i], out, why, why_size))
            return 1;
    return 0;
}
