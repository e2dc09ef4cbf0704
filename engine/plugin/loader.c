/* Plugin loader: libltdl under one process-wide mutex (ltdl's search path,
 * error string and handle list are global). Every plugin ends with a status
 * record, loaded or not, and the reason. No plugin code beyond the entry
 * point runs before the ISA check passes. */
#include "config.h"

#include <dlfcn.h>
#include <ltdl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ruvector/engine.h>
#include <ruvector/error.h>
#include <ruvector/kernel.h>
#include <ruvector/plugin.h>
#include <ruvector/version.h>

#include "base/error.h"
#include "base/log.h"
#include "base/util.h"
#include "cpu/isa.h"
#include "plugin/conform.h"
#include "plugin/kernels.h"
#include "plugin/plugins.h"

static pthread_mutex_t ltdl_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- records ---- */

struct ruv__plugin_rec *ruv__rec_find(const struct ruv__plugin_set *set, const char *name)
{
    for (size_t i = 0; i < set->nrecs; i++)
        if (strcmp(set->recs[i]->name, name) == 0)
            return set->recs[i];
    return NULL;
}

/* Records are allocated one by one and never move: the host table's
 * callbacks find their record through the host pointer a plugin holds. */
struct ruv__plugin_rec *ruv__rec_add(struct ruv__plugin_set *set, const char *name)
{
    if (set->nrecs == set->caprecs) {
        size_t cap = set->caprecs ? 2 * set->caprecs : 8;
        struct ruv__plugin_rec **r = realloc(set->recs, cap * sizeof *r);
        if (!r) {
            ruv__set_error(RUV_E_NOMEM, "out of memory");
            return NULL;
        }
        set->recs = r;
        set->caprecs = cap;
    }
    struct ruv__plugin_rec *rec = calloc(1, sizeof *rec);
    if (!rec) {
        ruv__set_error(RUV_E_NOMEM, "out of memory");
        return NULL;
    }
    rec->set = set;
    rec->name = ruv__strdup(name);
    rec->file = ruv__strdup("");
    rec->version = ruv__strdup("");
    rec->reason = ruv__strdup("");
    if (!rec->name || !rec->file || !rec->version || !rec->reason) {
        free(rec->name);
        free(rec->file);
        free(rec->version);
        free(rec->reason);
        free(rec);
        ruv__set_error(RUV_E_NOMEM, "out of memory");
        return NULL;
    }
    set->recs[set->nrecs++] = rec;
    return rec;
}

void *ruv__host_owner(const struct ruv_host *host)
{
    return ((const struct ruv__plugin_rec *)host)->set->owner;
}

static void set_str(char **slot, const char *v)
{
    char *c = ruv__strdup(v ? v : "");
    if (c) {
        free(*slot);
        *slot = c;
    }
}

/* Records the outcome and sets the thread's error detail to the same text. */
static int record(struct ruv__plugin_rec *rec, int state, int status, const char *fmt, ...)
    RUV_PRINTF(4, 5);
static int record(struct ruv__plugin_rec *rec, int state, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rec->state = state;
    rec->status = status;
    set_str(&rec->reason, msg);
    if (status != RUV_OK) {
        if (rec->file && *rec->file && rec->file[0] != '(')
            ruv__set_error(status, "plugin '%s' (%s): %s", rec->name, rec->file, msg);
        else
            ruv__set_error(status, "plugin '%s': %s", rec->name, msg);
    }
    ruv__log(rec->set->verbose, 1, "plugin %s: %s%s%s", rec->name,
             ruv_plugin_state_name(state), *msg ? ": " : "", msg);
    return status;
}

static int match_token(const char *tok, size_t len, void *ctx)
{
    const char *name = ctx;
    return strlen(name) == len && strncmp(tok, name, len) == 0;
}

int ruv__is_disabled(const struct ruv__plugin_set *set, const char *name)
{
    return set->disable && ruv__tokens(set->disable, match_token, (void *)name) != 0;
}

/* ---- host table given to plugins ---- */

static void host_log(const struct ruv_host *host, int level, const char *fmt, ...)
{
    const struct ruv__plugin_rec *rec = (const struct ruv__plugin_rec *)host;
    if (!rec || rec->set->verbose < level)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "ruvector: plugin %s: ", rec->name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int host_set_error(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ruv__set_errorv(status, fmt, ap);
    va_end(ap);
    return status;
}

static const char *host_config_get(const struct ruv_host *host, const char *key)
{
    const struct ruv__plugin_rec *rec = (const struct ruv__plugin_rec *)host;
    if (!rec || !key)
        return NULL;
    const struct ruv__plugin_set *set = rec->set;
    for (size_t i = 0; i < set->noptions; i++)
        if (strcmp(set->options[i].plugin, rec->name) == 0 &&
            strcmp(set->options[i].key, key) == 0)
            return set->options[i].value;
    return NULL;
}

static void host_init(struct ruv__plugin_rec *rec)
{
    if (rec->set->host_services)
        rec->host = *rec->set->host_services;
    else
        memset(&rec->host, 0, sizeof rec->host);
    rec->host.struct_size =
        rec->set->host_services ? sizeof(struct ruv_host) : (uint32_t)RUV_HOST_SIZE_V1;
    rec->host.abi = RUV_PLUGIN_ABI;
    rec->host.engine_version = ruv_version_string();
    rec->host.log = host_log;
    rec->host.set_error = host_set_error;
    rec->host.config_get = host_config_get;
}

/* ---- ltdl ---- */

/* libltdl is initialised once per process and never torn down: lt_dlexit
 * drops its handle list while resident (feature) modules stay mapped, so a
 * later lt_dlinit would open them again and leak a handle per engine. Kept
 * alive, the list lets a re-opened feature plugin be found and counted. */
static pthread_once_t ltdl_once = PTHREAD_ONCE_INIT;
static int ltdl_status;
static char ltdl_error[256];

static void ltdl_init_once(void)
{
    if (lt_dlinit() != 0) {
        const char *e = lt_dlerror();
        snprintf(ltdl_error, sizeof ltdl_error, "%s", e ? e : "unknown error");
        ltdl_status = RUV_E_PLUGIN;
    }
}

int ruv__loader_init(struct ruv__plugin_set *set)
{
    if (pthread_mutex_init(&set->lock, NULL) != 0)
        return ruv__set_error(RUV_E_NOMEM, "cannot create the plugin set's lock");
    pthread_mutex_lock(&ltdl_lock);
    pthread_once(&ltdl_once, ltdl_init_once);
    pthread_mutex_unlock(&ltdl_lock);
    if (ltdl_status) {
        pthread_mutex_destroy(&set->lock);
        return ruv__set_error(ltdl_status, "cannot initialise libltdl: %s", ltdl_error);
    }
    set->ltdl_inited = 1;
    return RUV_OK;
}

void ruv__loader_exit(struct ruv__plugin_set *set)
{
    for (size_t i = 0; i < set->nrecs; i++) {
        struct ruv__plugin_rec *r = set->recs[i];
        free(r->name);
        free(r->file);
        free(r->version);
        free(r->reason);
        free(r);
    }
    free(set->recs);
    set->recs = NULL;
    set->nrecs = set->caprecs = 0;
    if (set->ltdl_inited)
        pthread_mutex_destroy(&set->lock);
    set->ltdl_inited = 0;
}

static void close_handle(void *handle)
{
    if (!handle)
        return;
    pthread_mutex_lock(&ltdl_lock);
    lt_dlclose((lt_dlhandle)handle);
    pthread_mutex_unlock(&ltdl_lock);
}

/* ---- validation, eligibility, init, tests ---- */

static void build_effective(struct ruv__plugin_rec *rec, const struct ruv_kernel_ops *ops)
{
    const struct ruv_kernel_ops *ref = &ruv__kernel_scalar_ops;
    struct ruv_kernel_ops *e = &rec->effective;
    memset(e, 0, sizeof *e);
    e->struct_size = sizeof *e;
#define X(slot)                                                                          \
    e->slot = (offsetof(struct ruv_kernel_ops, slot) + sizeof(ops->slot) <= ops->struct_size && \
               ops->slot)                                                                \
                  ? ops->slot                                                            \
                  : ref->slot;
    RUV_KERNEL_SLOTS(X)
#undef X
}

static int describe_missing(struct ruv__buf *b, uint64_t need, uint64_t have)
{
    ruv__buf_printf(b, "needs ");
    ruv__isa_list(b, need & ~have, " ");
    ruv__buf_printf(b, "; this CPU has ");
    ruv__isa_list(b, have, " ");
    return b->oom ? RUV_E_NOMEM : RUV_OK;
}

static int validate_desc(struct ruv__plugin_rec *rec, const struct ruv_plugin *d)
{
    if (!d)
        return record(rec, RUV_PLUGIN_FAILED, RUV_E_PLUGIN, "entry point returned NULL");
    if (d->abi != RUV_PLUGIN_ABI)
        return record(rec, RUV_PLUGIN_FAILED, RUV_E_ABI,
                      "built for plugin ABI %u, engine speaks %u", d->abi, RUV_PLUGIN_ABI);
    if (d->struct_size < RUV_PLUGIN_SIZE_V1)
        return record(rec, RUV_PLUGIN_FAILED, RUV_E_ABI,
                      "descriptor struct_size %u is smaller than ABI 1's %zu", d->struct_size,
                      (size_t)RUV_PLUGIN_SIZE_V1);
    if (!d->name || strcmp(d->name, rec->name) != 0)
        return record(rec, RUV_PLUGIN_FAILED, RUV_E_PLUGIN,
                      "descriptor name '%s' does not match module name '%s'",
                      d->name ? d->name : "(null)", rec->name);
    if (d->flags != 0)
        return record(rec, RUV_PLUGIN_FAILED, RUV_E_PLUGIN,
                      "unknown must-understand flags 0x%x (ABI 1 defines none)", d->flags);
    if (d->kind != RUV_PLUGIN_KERNEL && d->kind != RUV_PLUGIN_FEATURE)
        return record(rec, RUV_PLUGIN_FAILED, RUV_E_PLUGIN, "unknown plugin kind %u", d->kind);
    if (!d->ops)
        return record(rec, RUV_PLUGIN_FAILED, RUV_E_PLUGIN, "descriptor has no ops table");
    uint32_t ops_size = *(const uint32_t *)d->ops;
    if (d->kind == RUV_PLUGIN_KERNEL && ops_size < RUV_KERNEL_OPS_SIZE_V1)
        return record(rec, RUV_PLUGIN_FAILED, RUV_E_ABI,
                      "kernel ops struct_size %u is smaller than ABI 1's %zu", ops_size,
                      (size_t)RUV_KERNEL_OPS_SIZE_V1);
    if (ops_size < sizeof(uint32_t) || ops_size > (1u << 20))
        return record(rec, RUV_PLUGIN_FAILED, RUV_E_PLUGIN, "ops struct_size %u is not sane",
                      ops_size);
    rec->desc = d;
    rec->kind = d->kind;
    rec->feature = d->struct_size >= RUV_PLUGIN_SIZE_V2 ? d->feature : 0;
    rec->priority = d->priority;
    rec->requires_isa = d->requires_isa;
    set_str(&rec->version, d->version ? d->version : "");
    return RUV_OK;
}

/* Eligibility, init, conformance and self-test for a validated descriptor. */
static int activate(struct ruv__plugin_set *set, struct ruv__plugin_rec *rec)
{
    const struct ruv_plugin *d = rec->desc;
    if ((set->isa & d->requires_isa) != d->requires_isa) {
        struct ruv__buf b = {0};
        describe_missing(&b, d->requires_isa, set->isa);
        int rc = record(rec, RUV_PLUGIN_INELIGIBLE, RUV_E_UNSUPPORTED, "%s",
                        b.p ? b.p : "needs ISA this CPU lacks");
        free(b.p);
        return rc;
    }
    host_init(rec);
    if (d->init) {
        ruv__set_error(RUV_E_PLUGIN, "init failed without detail");
        int rc = d->init(&rec->host, &rec->pstate);
        if (rc != RUV_OK) {
            char detail[256];
            snprintf(detail, sizeof detail, "%s", ruv_last_error());
            return record(rec, RUV_PLUGIN_FAILED, rc == RUV_E_UNSUPPORTED ? rc : RUV_E_PLUGIN,
                          "init %s (%s): %s", rc == RUV_E_UNSUPPORTED ? "declined" : "failed",
                          ruv_status_name(rc), detail);
        }
    }
    rec->inited = 1;
    if (d->kind == RUV_PLUGIN_KERNEL) {
        char why[256];
        if (ruv__conform_check(d->ops, &ruv__kernel_scalar_ops, why, sizeof why) != 0)
            return record(rec, RUV_PLUGIN_FAILED, RUV_E_SELFTEST,
                          "disagrees with the scalar reference: %s", why);
        build_effective(rec, d->ops);
    }
    if (d->self_test) {
        ruv__set_error(RUV_E_SELFTEST, "self-test failed without detail");
        int rc = d->self_test(rec->pstate);
        if (rc != RUV_OK) {
            char detail[256];
            snprintf(detail, sizeof detail, "%s", ruv_last_error());
            return record(rec, RUV_PLUGIN_FAILED, RUV_E_SELFTEST, "self-test failed: %s", detail);
        }
    }
    return record(rec, RUV_PLUGIN_LOADED, RUV_OK, "%s",
                  d->kind == RUV_PLUGIN_KERNEL ? "passed conformance checks" : "initialised");
}

static void deactivate(struct ruv__plugin_rec *rec)
{
    if (rec->inited && rec->desc && rec->desc->fini)
        rec->desc->fini(rec->pstate);
    rec->inited = 0;
    rec->pstate = NULL;
}

/* Looks for <dir>/<name>.la, then <dir>/<name>.so, in each path entry. */
static int find_file(const struct ruv__plugin_set *set, const char *name, char *out, size_t outlen)
{
    const char *p = set->plugin_path ? set->plugin_path : "";
    while (*p) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > 0 && len < outlen - 40) {
            static const char *const exts[] = {".la", ".so"};
            for (int e = 0; e < 2; e++) {
                snprintf(out, outlen, "%.*s/%s%s", (int)len, p, name, exts[e]);
                if (access(out, R_OK) == 0)
                    return 1;
            }
        }
        p += len + (end ? 1 : 0);
    }
    return 0;
}

/* libltdl reports any .so it cannot open (not ELF, wrong architecture, a
 * missing dependency) as "file not found", though the file is there. The
 * dynamic linker knows why: ask it, for a shared object only (an .la file
 * is text that libltdl reads itself). Called with ltdl_lock held. */
static void dl_reason(const char *file, char *err, size_t cap)
{
    size_t len = strlen(file);
    if (len < 3 || strcmp(file + len - 3, ".so") != 0)
        return;
    void *h = dlopen(file, RTLD_LAZY | RTLD_LOCAL);
    if (h) { /* opens now: keep libltdl's text */
        dlclose(h);
        return;
    }
    const char *e = dlerror();
    if (e)
        snprintf(err, cap, "%s", e);
}

int ruv__load_plugin(struct ruv__plugin_set *set, struct ruv__plugin_rec *rec)
{
    char file[4096];
    if (!find_file(set, rec->name, file, sizeof file))
        return record(rec, RUV_PLUGIN_NOT_FOUND, RUV_E_NOTFOUND,
                      "no %s.la or %s.so in plugin path '%s'", rec->name, rec->name,
                      set->plugin_path ? set->plugin_path : "");
    set_str(&rec->file, file);

    char sym[64];
    snprintf(sym, sizeof sym, "ruv_plugin_%s", rec->name);
    pthread_mutex_lock(&ltdl_lock);
    lt_dladvise advise;
    lt_dlhandle h = NULL;
    if (lt_dladvise_init(&advise) == 0) {
        lt_dladvise_local(&advise);
        h = lt_dlopenadvise(file, advise);
        lt_dladvise_destroy(&advise);
    }
    char err[256] = "";
    if (!h) {
        /* lt_dlerror clears the message it returns: read it once. */
        const char *e = lt_dlerror();
        snprintf(err, sizeof err, "%s", e ? e : "unknown error");
        dl_reason(file, err, sizeof err);
    }
    void *entry = h ? lt_dlsym(h, sym) : NULL;
    if (h && !entry) {
        const char *e = lt_dlerror();
        snprintf(err, sizeof err, "%s", e ? e : "symbol not found");
    }
    pthread_mutex_unlock(&ltdl_lock);
    if (!h)
        return record(rec, RUV_PLUGIN_FAILED, RUV_E_PLUGIN, "cannot open: %s", err);
    rec->handle = h;
    if (!entry) {
        int rc = record(rec, RUV_PLUGIN_FAILED, RUV_E_PLUGIN, "no entry point '%s': %s", sym, err);
        ruv__unload_plugin(rec);
        return rc;
    }
    /* ISO C forbids object-to-function pointer casts; POSIX guarantees they work. */
    const struct ruv_plugin *(*get)(void);
    memcpy(&get, &entry, sizeof get);
    int rc = validate_desc(rec, get());
    if (rc == RUV_OK)
        rc = activate(set, rec);
    if (rc != RUV_OK) {
        deactivate(rec);
        ruv__unload_plugin(rec);
        return rc;
    }
    if (rec->kind == RUV_PLUGIN_FEATURE) {
        /* Feature dependencies (libcurl, libcrypto, onnxruntime) keep process
         * state that does not survive unloading; pin them for the process. */
        pthread_mutex_lock(&ltdl_lock);
        lt_dlmakeresident((lt_dlhandle)rec->handle);
        pthread_mutex_unlock(&ltdl_lock);
    }
    return RUV_OK;
}

int ruv__load_registered(struct ruv__plugin_set *set, struct ruv__plugin_rec *rec,
                         const struct ruv_plugin *desc)
{
    set_str(&rec->file, "(registered)");
    int rc = validate_desc(rec, desc);
    if (rc == RUV_OK)
        rc = activate(set, rec);
    if (rc != RUV_OK)
        deactivate(rec);
    return rc;
}

void ruv__unload_plugin(struct ruv__plugin_rec *rec)
{
    deactivate(rec);
    if (rec->handle && !(rec->kind == RUV_PLUGIN_FEATURE && rec->state == RUV_PLUGIN_LOADED))
        close_handle(rec->handle);
    rec->handle = NULL;
    rec->desc = rec->state == RUV_PLUGIN_LOADED ? rec->desc : NULL;
}
