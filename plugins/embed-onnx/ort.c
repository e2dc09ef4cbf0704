/* ort.c — ONNX Runtime, found and loaded at run time (embed.md §3).
 *
 * The header question: the full API comes from onnxruntime_c_api.h
 * (scripts/fetch-ort-header.sh puts Debian trixie's, API 21, in _deps/).
 * Loading and version-checking need only OrtGetApiBase and the two members
 * of OrtApiBase, so they are declared here and the plugin builds on any
 * machine, CI included, without the fetch. The declarations below copy
 * onnxruntime_c_api.h (API 21):
 *     struct OrtApiBase {
 *         const OrtApi *(ORT_API_CALL *GetApi)(uint32_t version) NO_EXCEPTION;
 *         const char *(ORT_API_CALL *GetVersionString)(void) NO_EXCEPTION;
 *     };
 *     const OrtApiBase *ORT_API_CALL OrtGetApiBase(void) NO_EXCEPTION;
 * (ORT_API_CALL is empty off Windows). The members are in ABI order and
 * OrtApiBase is frozen upstream; the code that calls into OrtApi (sessions,
 * Run) will include the real header instead. */
#define _GNU_SOURCE
#include "ort.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/error.h>

struct ruv__ort_api_base {
    const void *(*GetApi)(uint32_t version);
    const char *(*GetVersionString)(void);
};
typedef const struct ruv__ort_api_base *(*ruv__ort_get_api_base_fn)(void);

#define RUV_ORT_SYSTEM_NAME "libonnxruntime.so.1"
#define RUV_ORT_MIN_MAJOR 1
#define RUV_ORT_MIN_MINOR 21

static pthread_mutex_t ort_mu = PTHREAD_MUTEX_INITIALIZER;
static struct ruv__ort ort_loaded;
static int ort_is_loaded;

const char *ruv__ort_source_name(enum ruv__ort_source s)
{
    switch (s) {
    case RUV__ORT_SETTING: return "setting";
    case RUV__ORT_WHEEL: return "wheel";
    case RUV__ORT_SYSTEM: return "system";
    }
    return "unknown";
}

/* "MAJOR.MINOR[.PATCH...]" >= 1.21; anything unparsable is too old. */
static int version_ok(const char *v)
{
    char *end = NULL;
    unsigned long major = strtoul(v, &end, 10);
    if (end == v || *end != '.')
        return 0;
    const char *m = end + 1;
    unsigned long minor = strtoul(m, &end, 10);
    if (end == m)
        return 0;
    return major > RUV_ORT_MIN_MAJOR || (major == RUV_ORT_MIN_MAJOR && minor >= RUV_ORT_MIN_MINOR);
}

/* dlopen + checks of one candidate. name is what was asked for (a path, or
 * the soname for the system step). Returns RUV_OK and fills *o, or
 * RUV_E_UNSUPPORTED with the reason. The handle is never closed, even on
 * failure: a library that ran its constructors is not safe to unload
 * (embed.md §3.3), and RTLD_NODELETE keeps it mapped anyway. */
static int try_open(const struct ruv_host *host, const char *name, enum ruv__ort_source src,
                    struct ruv__ort *o, int *not_opened)
{
    dlerror();
    void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    *not_opened = !h;
    if (!h) {
        const char *e = dlerror();
        return host->set_error(RUV_E_UNSUPPORTED, "onnxruntime at %s (%s) could not be loaded: %s",
                               name, ruv__ort_source_name(src), e ? e : "unknown dlopen error");
    }
    ruv__ort_get_api_base_fn get_base = NULL;
    void *sym = dlsym(h, "OrtGetApiBase");
    if (!sym)
        return host->set_error(RUV_E_UNSUPPORTED,
                               "%s (%s) is not ONNX Runtime: it has no OrtGetApiBase", name,
                               ruv__ort_source_name(src));
    memcpy(&get_base, &sym, sizeof get_base);
    Dl_info info;
    memset(&info, 0, sizeof info);
    const char *file = dladdr(sym, &info) && info.dli_fname ? info.dli_fname : name;
    const struct ruv__ort_api_base *base = get_base();
    const char *ver = base && base->GetVersionString ? base->GetVersionString() : NULL;
    if (!ver)
        return host->set_error(RUV_E_UNSUPPORTED, "onnxruntime at %s gives no version string",
                               file);
    /* Checked before GetApi: an older runtime prints to stderr when asked
     * for an API it lacks (embed.md §3.1). */
    if (!version_ok(ver))
        return host->set_error(RUV_E_UNSUPPORTED,
                               "onnxruntime %.31s at %s is too old: need >= %d.%d", ver, file,
                               RUV_ORT_MIN_MAJOR, RUV_ORT_MIN_MINOR);
    const void *api = base->GetApi ? base->GetApi(RUV_ORT_API) : NULL;
    if (!api)
        return host->set_error(RUV_E_UNSUPPORTED, "onnxruntime %.31s at %s has no API %u", ver,
                               file, RUV_ORT_API);
    memset(o, 0, sizeof *o);
    o->source = src;
    snprintf(o->path, sizeof o->path, "%s", file);
    snprintf(o->version, sizeof o->version, "%s", ver);
    o->api = api;
    return RUV_OK;
}

/* Whether path names the file already loaded (same inode after symlinks). */
static int same_file(const char *path, const char *loaded)
{
    char a[PATH_MAX], b[PATH_MAX];
    if (!realpath(path, a) || !realpath(loaded, b))
        return !strcmp(path, loaded);
    return !strcmp(a, b);
}

static int find(const struct ruv_host *host, const char *setting, const char *wheel,
                struct ruv__ort *o)
{
    int not_opened = 0;
    if (setting)
        return try_open(host, setting, RUV__ORT_SETTING, o, &not_opened);
    if (wheel)
        return try_open(host, wheel, RUV__ORT_WHEEL, o, &not_opened);
    int rc = try_open(host, RUV_ORT_SYSTEM_NAME, RUV__ORT_SYSTEM, o, &not_opened);
    if (rc == RUV_OK || !not_opened)
        return rc; /* found, or found but unusable: that reason is the one to show */
    return host->set_error(RUV_E_UNSUPPORTED,
                           "onnxruntime not found (searched: setting ort_lib -, wheel -, "
                           "system %s): install ruvector[text]",
                           RUV_ORT_SYSTEM_NAME);
}

int ruv__ort_load(const struct ruv_host *host, const struct ruv__ort **out)
{
    *out = NULL;
    const char *setting = host->config_get(host, "ort_lib");
    const char *wheel = host->config_get(host, "ort_lib_wheel");
    if (setting && !*setting)
        setting = NULL; /* the engine's default is the empty string: no setting */
    if (wheel && !*wheel)
        wheel = NULL;
    pthread_mutex_lock(&ort_mu);
    int rc = RUV_OK;
    if (ort_is_loaded) {
        if (setting && !same_file(setting, ort_loaded.path))
            rc = host->set_error(RUV_E_STATE,
                                 "onnxruntime is already loaded from %s in this process; "
                                 "ort_lib %s cannot replace it",
                                 ort_loaded.path, setting);
    } else {
        struct ruv__ort o;
        rc = find(host, setting, wheel, &o);
        if (rc == RUV_OK) {
            ort_loaded = o;
            ort_is_loaded = 1;
        }
    }
    if (rc == RUV_OK)
        *out = &ort_loaded;
    pthread_mutex_unlock(&ort_mu);
    return rc;
}
