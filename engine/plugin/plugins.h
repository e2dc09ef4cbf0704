/* Engine-private: the plugins one engine considered (the plugin set), the
 * loader that fills it (loader.c) and kernel selection (select.c). The
 * engine object (core/engine.h) embeds one set and tells it, before
 * loading, which of its resolved settings the loader and selection read. */
#ifndef RUV_ENGINE_PLUGIN_PLUGINS_H
#define RUV_ENGINE_PLUGIN_PLUGINS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <ruvector/kernel.h>
#include <ruvector/plugin.h>

/* A per-plugin configuration key (ruv_config_set_plugin_option). */
struct ruv__option {
    char *plugin, *key, *value;
};

struct ruv__plugin_set;

/* One per plugin considered; the host table is first so a plugin's host
 * pointer leads back to its record. */
struct ruv__plugin_rec {
    struct ruv_host host;
    struct ruv__plugin_set *set;
    char *name, *file, *version, *reason;
    uint32_t kind;
    uint32_t feature; /* enum ruv_feature from a v2 descriptor, else 0 */
    int32_t priority;
    uint64_t requires_isa;
    int state;  /* ruv_plugin_state */
    int status; /* ruv_status of the load */
    int requested; /* named by ruv_config_add_plugin */
    void *handle;  /* lt_dlhandle, NULL for built-in/registered */
    const struct ruv_plugin *desc;
    void *pstate;
    int inited;
    struct ruv_kernel_ops effective; /* kernels: plugin slots + scalar fill */
};

struct ruv__plugin_set {
    /* Inputs: the owner's resolved settings (strings it owns and keeps for
     * the set's life), set before the first load. */
    const char *kernel_req; /* "auto" or a kernel name */
    int kernel_src;         /* enum ruv__source */
    const char *plugin_path;
    const char *disable;
    int disable_src;        /* enum ruv__source */
    int verbose;
    uint64_t isa;           /* of this CPU */
    const struct ruv__option *options;
    size_t noptions;
    /* The owner's version-2 host services (thread pool, index calls, file
     * writes), copied into every plugin's host table; NULL: version 1 only.
     * owner is what those services find through ruv__host_owner(). */
    const struct ruv_host *host_services;
    void *owner;
    /* The records, in the order considered. Each is allocated on its own
     * and never moves (a plugin holds a pointer to its host table), so
     * late loading can append while earlier records stay put. `lock`
     * guards recs and nrecs against a late load on another thread. */
    struct ruv__plugin_rec **recs;
    size_t nrecs, caprecs;
    size_t selected; /* index into recs */
    int ltdl_inited;
    pthread_mutex_t lock;
};

/* The plugin set's owner, from a host table the loader handed out. */
void *ruv__host_owner(const struct ruv_host *host);

/* loader.c */
int ruv__loader_init(struct ruv__plugin_set *set);
/* Frees every record (after ruv__unload_plugin) and the set's lock. */
void ruv__loader_exit(struct ruv__plugin_set *set);
struct ruv__plugin_rec *ruv__rec_add(struct ruv__plugin_set *set, const char *name);
struct ruv__plugin_rec *ruv__rec_find(const struct ruv__plugin_set *set, const char *name);
/* Opens <dir>/<name> from the plugin path, validates, checks eligibility,
 * initialises and tests. Fills rec; returns rec->status. */
int ruv__load_plugin(struct ruv__plugin_set *set, struct ruv__plugin_rec *rec);
/* Same for a descriptor linked into the program. */
int ruv__load_registered(struct ruv__plugin_set *set, struct ruv__plugin_rec *rec,
                         const struct ruv_plugin *desc);
void ruv__unload_plugin(struct ruv__plugin_rec *rec);
int ruv__is_disabled(const struct ruv__plugin_set *set, const char *name);

/* select.c */
int ruv__select_kernel(struct ruv__plugin_set *set);

#endif
