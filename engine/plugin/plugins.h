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

#include "plugin/kernels.h"

/* A per-plugin configuration key (ruv_config_set_plugin_option). */
struct ruv__option {
    char *plugin, *key, *value;
};

struct ruv__plugin_set;

/* How a slot of the engine's table got its supplier (slots.c). */
enum ruv__slot_how {
    RUV__SLOT_PRIORITY = 0, /* the preferred kernel's: nothing measured */
    RUV__SLOT_FORCED,       /* RUVECTOR_KERNEL / ruv_config_set_kernel */
    RUV__SLOT_MEASURED,     /* raced; the supplier was measurably faster */
    RUV__SLOT_CLOSE         /* raced; no rival beat the preferred by the margin */
};

/* At most this many kernel plugins race for a slot (the known kernels
 * for one architecture are two: avx2 and avx512). */
#define RUV__MAX_RACERS 4

/* The engine's kernel table, slot by slot. racers are record indices of
 * the loaded kernel plugins other than the built-in scalar, most preferred
 * first (priority, then name); racer 0 is the selected kernel. */
struct ruv__slot_table {
    struct ruv_kernel_ops ops; /* what ruv_engine_kernel returns */
    size_t supplier[RUV__SLOT_COUNT];   /* index into recs */
    int how[RUV__SLOT_COUNT];           /* enum ruv__slot_how */
    size_t racers[RUV__MAX_RACERS];
    size_t nracers;
    /* ns per call of each racer's slot on the race's fixed workload; 0 when
     * that racer did not race for the slot (it does not supply it) */
    double ns[RUV__SLOT_COUNT][RUV__MAX_RACERS];
    char note[512]; /* how the table came about, for reports */
};

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
    size_t selected; /* index into recs: the preferred kernel */
    struct ruv__slot_table slots;
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

/* slots.c. Fills slots.racers (loaded kernel plugins but scalar, most
 * preferred first, at most RUV__MAX_RACERS) and slots.ops / supplier / how
 * with every slot from the selected kernel (how = priority, or forced). */
void ruv__slots_init(struct ruv__plugin_set *set, int forced);
/* 1 when slot i has a rival worth racing: a racer other than the first
 * supplies a function of its own there. */
int ruv__slot_contested(const struct ruv__plugin_set *set, size_t i);
/* Times every contested slot of every racer that supplies it on a fixed
 * workload (best of a few interleaved rounds) into slots.ns. RUV_E_NOMEM
 * only; kernels never fail. */
int ruv__slots_race(struct ruv__plugin_set *set);
/* From slots.ns: each contested slot goes to the fastest racer when it
 * beats the first racer by more than RUV__SLOT_MARGIN, else stays. */
void ruv__slots_pick(struct ruv__plugin_set *set);
/* A rival must be this much faster (fraction of the preferred's time) to
 * take a slot: timing noise must not move slots between runs. */
#define RUV__SLOT_MARGIN 0.05

#endif
