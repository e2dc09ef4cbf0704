/* Private to libruvector: never installed, never included by plugins. */
#ifndef RUV_ENGINE_INTERNAL_H
#define RUV_ENGINE_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <ruvector/cpu.h>
#include <ruvector/engine.h>
#include <ruvector/error.h>
#include <ruvector/kernel.h>
#include <ruvector/plugin.h>
#include <ruvector/version.h>

#ifndef RUV_THREAD_LOCAL
#define RUV_THREAD_LOCAL _Thread_local
#endif

#if defined(__GNUC__)
#define RUV_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define RUV_PRINTF(f, a)
#endif

/* ---- errors (error.c) ---- */
/* Sets the thread-local detail and returns status. */
int ruv__set_error(int status, const char *fmt, ...) RUV_PRINTF(2, 3);
int ruv__set_errorv(int status, const char *fmt, va_list ap);

/* ---- the built-in kernel (kernel_scalar.c) ---- */
extern const struct ruv_kernel_ops ruv__kernel_scalar_ops;

/* ---- kernel names: one table for discovery, forcing and messages. The ISA
 * column only words messages when a kernel's file is missing; a loaded
 * plugin's own descriptor is what eligibility checks. ---- */
#define RUV_ISA_AVX512_KERNEL                                                     \
    (RUV_ISA_AVX512F | RUV_ISA_AVX512BW | RUV_ISA_AVX512VL | RUV_ISA_AVX512DQ |   \
     RUV_ISA_AVX512VPOPCNTDQ | RUV_ISA_AVX2 | RUV_ISA_FMA | RUV_ISA_POPCNT)
#define RUV_KERNEL_NAMES(X)                                   \
    X(scalar, 0)                                              \
    X(avx2, RUV_ISA_AVX2 | RUV_ISA_FMA | RUV_ISA_POPCNT)      \
    X(avx512, RUV_ISA_AVX512_KERNEL)                          \
    X(neon, RUV_ISA_NEON)

/* Every slot of struct ruv_kernel_ops, in order (fills the effective table). */
#define RUV_KERNEL_SLOTS(X)                                                      \
    X(dot_f32) X(l2sq_f32) X(cos_f32) X(dot_f32_1xN) X(l2sq_f32_1xN)             \
    X(l2sq_f32_1xN_below) X(xor_popcnt_1xN) X(bitplane_dot_1xN) X(popcnt_u64)    \
    X(fastscan_u8) X(fht_f32) X(dot_u8_f32) X(dot_f16_1xN)

/* ---- small string helpers (util.c) ---- */
char *ruv__strdup(const char *s);
/* Appends printf-style text to the NUL-terminated buf of size bytes,
 * truncating silently: for messages meant for people. */
void ruv__append(char *buf, size_t size, const char *fmt, ...) RUV_PRINTF(3, 4);
/* Appends to a growable buffer; returns 0 or RUV_E_NOMEM. */
struct ruv__buf {
    char *p;
    size_t len, cap;
    int oom;
};
void ruv__buf_printf(struct ruv__buf *b, const char *fmt, ...) RUV_PRINTF(2, 3);
void ruv__buf_json_str(struct ruv__buf *b, const char *s); /* quoted, escaped */
/* Splits a list on commas and whitespace; calls fn for each token.
 * Returns the first non-zero fn result. */
int ruv__tokens(const char *list, int (*fn)(const char *tok, size_t len, void *ctx), void *ctx);
/* 1 if name is a valid module name: [a-z0-9_]{1,31} */
int ruv__valid_module_name(const char *name);

/* ---- CPU (cpu.c, cpu_x86.c, cpu_arm.c, topo.c) ---- */
uint64_t ruv__probe_isa_x86(void);
uint64_t ruv__probe_isa_aarch64(void);
/* Appends the names of the set bits, separated by sep; "(none)" if none. */
void ruv__isa_list(struct ruv__buf *b, uint64_t bits, const char *sep);

/* ---- verbose output (gated; the library prints nothing otherwise) ---- */
void ruv__log(int verbose, int level, const char *fmt, ...) RUV_PRINTF(3, 4);

/* ---- configuration (config.c) ---- */
struct ruv__option {
    char *plugin, *key, *value;
};

struct ruv_config {
    char *kernel;         /* NULL: not set through the API */
    char *plugin_path;    /* NULL: not set */
    char *disable;        /* NULL: not set */
    char *blas_path;      /* NULL: not set */
    char **plugins;       /* ruv_config_add_plugin, in order */
    size_t nplugins;
    const struct ruv_plugin **registered;
    size_t nregistered;
    unsigned threads;
    int threads_set;
    int verbose;
    int verbose_set;
    ruv_progress_fn progress;
    void *progress_ctx;
    struct ruv__option *options;
    size_t noptions;
};

/* Where a resolved setting came from. */
enum ruv__source { RUV_SRC_DEFAULT = 0, RUV_SRC_ENV = 1, RUV_SRC_API = 2 };
const char *ruv__source_name(int src);

/* ---- engine (engine.c, loader.c, select.c, report.c) ---- */
struct ruv_engine;

/* One per plugin considered; the host table is first so a plugin's host
 * pointer leads back to its record. */
struct ruv__plugin_rec {
    struct ruv_host host;
    struct ruv_engine *eng;
    char *name, *file, *version, *reason;
    uint32_t kind;
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

struct ruv_engine {
    /* resolved settings and their sources */
    char *kernel_req; int kernel_src;     /* "auto" or a name */
    char *plugin_path; int plugin_path_src;
    char *disable; int disable_src;
    char *blas_path; /* NULL: system search only */
    ruv_progress_fn progress;
    void *progress_ctx;
    unsigned threads; int threads_src;
    int verbose; int verbose_src;
    char threads_str[16], verbose_str[4];
    struct ruv__option *options;
    size_t noptions;
    uint64_t isa;
    struct ruv__plugin_rec *recs;
    size_t nrecs, caprecs;
    size_t selected; /* index into recs */
    int ltdl_inited;
};

/* loader.c */
int ruv__loader_init(struct ruv_engine *eng);
void ruv__loader_exit(struct ruv_engine *eng);
struct ruv__plugin_rec *ruv__rec_add(struct ruv_engine *eng, const char *name);
struct ruv__plugin_rec *ruv__rec_find(const struct ruv_engine *eng, const char *name);
/* Opens <dir>/<name> from the plugin path, validates, checks eligibility,
 * initialises and tests. Fills rec; returns rec->status. */
int ruv__load_plugin(struct ruv_engine *eng, struct ruv__plugin_rec *rec);
/* Same for a descriptor linked into the program. */
int ruv__load_registered(struct ruv_engine *eng, struct ruv__plugin_rec *rec,
                         const struct ruv_plugin *desc);
void ruv__unload_plugin(struct ruv__plugin_rec *rec);
int ruv__is_disabled(const struct ruv_engine *eng, const char *name);
/* Required ISA of a known kernel name (for messages when its file is missing). */
uint64_t ruv__known_kernel_isa(const char *name);
int ruv__is_known_kernel(const char *name);
void ruv__known_kernel_list(struct ruv__buf *b);

/* Reports progress to the host's callback, if any (engine.c). */
void ruv__progress(const struct ruv_engine *eng, const char *phase, uint64_t done, uint64_t total);

/* select.c */
int ruv__select_kernel(struct ruv_engine *eng);

#endif
