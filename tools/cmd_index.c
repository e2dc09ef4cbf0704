/* ruvector build / search / bench: indexes from vector files.
 *
 * build   reads a base file, builds an index, saves it.
 * search  loads an index and answers a file of queries in one batch.
 * bench   builds, then measures recall@1/10/100 (each searched at that k,
 *         never truncated from a larger k; a hit is a result whose exact
 *         distance is within the k-th ground-truth distance x (1 + 1e-6),
 *         so ties count), single-query latency and QPS on 1 thread, batch
 *         QPS on each thread count, build time, memory and file bytes.
 *
 * Exit status: 0 success, 1 a failure (file, library), 2 bad usage.
 * Every message is "ruvector <cmd>: <what>" and names the file or option.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ruvector/ruvector.h>
#include <ruvector/index.h>

#include "cmd_index.h"
#include "dataio.h"

#if defined(__GNUC__) || defined(__clang__)
#define CMD_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CMD_PRINTF(f, a)
#endif

#define EXIT_USAGE 2
#define MAX_LIST 32         /* values in --nprobe / --rerank / --threads lists */
#define MAX_K 100000        /* -k limit: results are nq x k buffers */
#define MAX_THREADS 1024
#define SHOW_QUERIES 10     /* search prints this many queries unless --all */
#define GT_DEPTH 100        /* ground truth computed to this depth */
#define TIE_TOLERANCE 1e-6  /* relative slack on the k-th ground-truth distance */

/* ------------------------------------------------------------------ */
/* messages and small utilities                                         */

CMD_PRINTF(3, 4)
static int say_error(int code, const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "ruvector %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

/* A library call failed: what we were doing, then the library's detail. */
CMD_PRINTF(3, 4)
static int lib_error(const char *cmd, int status, const char *fmt, ...)
{
    char detail[512], what[512];
    /* Copied first: any later ruvector call may replace the detail text. */
    snprintf(detail, sizeof detail, "%s", ruv_last_error());
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    fprintf(stderr, "ruvector %s: %s: %s (%s)\n", cmd, what,
            detail[0] ? detail : ruv_status_str(status), ruv_status_name(status));
    return 1;
}

/* Phase messages ("reading...") for a person watching a terminal; silent
 * when stderr is a file or pipe so logs and scripts stay clean. */
struct progress {
    const char *cmd;
    int on;
};

static void progress_init(struct progress *p, const char *cmd)
{
    p->cmd = cmd;
    p->on = isatty(STDERR_FILENO);
}

CMD_PRINTF(2, 3)
static void progress(const struct progress *p, const char *fmt, ...)
{
    if (!p->on)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "ruvector %s: ", p->cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of the whole process (every thread): next to the wall time it
 * shows how much of a build was waiting for a core on a shared machine. */
static double cpu_seconds(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
        return 0.0;
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int file_size(const char *path, uint64_t *out)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    *out = (uint64_t)st.st_size;
    return 0;
}

/* calloc of n * size with the overflow check spelled out. */
static void *alloc_array(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    return calloc(n ? n : 1, size);
}

/* ------------------------------------------------------------------ */
/* options                                                              */

struct opt_spec {
    const char *name; /* long name, without "--" */
    char short_name;  /* 0: none */
    int takes_value;
};

struct opt_iter {
    const char *cmd;
    int argc;
    char **argv;
    int i;
    int positional_only; /* after "--" */
};

enum { OPT_END = -1, OPT_POSITIONAL = -2, OPT_BAD = -3 };

static int find_spec(const struct opt_spec *specs, size_t n, const char *arg, size_t *len)
{
    if (arg[1] == '-') {
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        *len = 2 + nlen;
        for (size_t s = 0; s < n; s++)
            if (strlen(specs[s].name) == nlen && !strncmp(specs[s].name, name, nlen))
                return (int)s;
        return -1;
    }
    *len = 2;
    for (size_t s = 0; s < n; s++)
        if (specs[s].short_name && specs[s].short_name == arg[1])
            return (int)s;
    return -1;
}

/* Next argument: an index into specs (*value its value, if it takes one),
 * OPT_POSITIONAL (*value the argument), OPT_END, or OPT_BAD (reported).
 * Accepts --name value, --name=value, -k value and -k10. */
static int opt_next(struct opt_iter *it, const struct opt_spec *specs, size_t n,
                    const char **value)
{
    if (it->i >= it->argc)
        return OPT_END;
    const char *arg = it->argv[it->i++];
    *value = arg;
    if (it->positional_only || arg[0] != '-' || arg[1] == '\0')
        return OPT_POSITIONAL;
    if (!strcmp(arg, "--")) {
        it->positional_only = 1;
        return opt_next(it, specs, n, value);
    }
    size_t len;
    int s = find_spec(specs, n, arg, &len);
    if (s < 0) {
        say_error(EXIT_USAGE, it->cmd, "unknown option '%s' (see --help)", arg);
        return OPT_BAD;
    }
    /* find_spec stops a long name at '=' or the end, a short one after its letter. */
    const char *attached = arg[1] == '-' ? (arg[len] == '=' ? arg + len + 1 : NULL)
                                         : (arg[len] ? arg + len : NULL);
    if (!specs[s].takes_value) {
        if (attached) {
            say_error(EXIT_USAGE, it->cmd, "option '%s' takes no value", arg);
            return OPT_BAD;
        }
        return s;
    }
    if (!attached) {
        if (it->i >= it->argc) {
            say_error(EXIT_USAGE, it->cmd, "option '%s' needs a value", arg);
            return OPT_BAD;
        }
        attached = it->argv[it->i++];
    }
    *value = attached;
    return s;
}

/* Decimal integer in lo..hi, digits only (no sign, spaces or suffix).
 * Returns 0, or EXIT_USAGE after reporting. */
static int parse_uint(const char *cmd, const char *opt, const char *text, uint64_t lo,
                      uint64_t hi, uint64_t *out)
{
    uint64_t v = 0;
    int ok = text[0] != '\0';
    for (const char *p = text; ok && *p; p++) {
        unsigned digit = (unsigned)(*p - '0');
        ok = *p >= '0' && *p <= '9' && v <= (UINT64_MAX - digit) / 10;
        v = v * 10 + digit;
    }
    if (!ok || v < lo || v > hi)
        return say_error(EXIT_USAGE, cmd, "%s: expected an integer in %" PRIu64 "..%" PRIu64
                         ", got '%s'", opt, lo, hi, text);
    *out = v;
    return 0;
}

static int parse_u32(const char *cmd, const char *opt, const char *text, uint32_t lo,
                     uint32_t hi, uint32_t *out)
{
    uint64_t v;
    int rc = parse_uint(cmd, opt, text, lo, hi, &v);
    if (rc == 0)
        *out = (uint32_t)v;
    return rc;
}

struct uint_list {
    uint64_t v[MAX_LIST];
    size_t n;
};

/* Comma-separated integers in lo..hi: "1,2" or "8". */
static int parse_list(const char *cmd, const char *opt, const char *text, uint64_t lo,
                      uint64_t hi, struct uint_list *out)
{
    out->n = 0;
    const char *p = text;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char item[32];
        if (len == 0 || len >= sizeof item)
            return say_error(EXIT_USAGE, cmd, "%s: expected integers separated by commas, "
                             "got '%s'", opt, text);
        if (out->n == MAX_LIST)
            return say_error(EXIT_USAGE, cmd, "%s: more than %d values", opt, MAX_LIST);
        memcpy(item, p, len);
        item[len] = '\0';
        if (parse_uint(cmd, opt, item, lo, hi, &out->v[out->n]) != 0)
            return EXIT_USAGE;
        out->n++;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

/* ------------------------------------------------------------------ */
/* index options shared by build and bench                              */

struct index_opts {
    int type, metric;
    uint32_t bits, nlist;
    uint64_t seed;
    float epsilon;
    uint32_t query_bits, train_size, kmeans_iters;
    int has_bits, has_nlist, has_seed, has_epsilon, has_qbits, has_train, has_iters;
    const char *kernel; /* NULL: auto / RUVECTOR_KERNEL */
};

static void index_opts_init(struct index_opts *o)
{
    memset(o, 0, sizeof *o);
    o->type = RUV_INDEX_RABITQ_PLUS;
    o->metric = RUV_METRIC_L2;
}

#define INDEX_OPT_SPECS                                                                       \
    {"type", 0, 1}, {"metric", 0, 1}, {"bits", 0, 1}, {"nlist", 0, 1}, {"seed", 0, 1},        \
        {"kernel", 0, 1}, {"epsilon", 0, 1}, {"query-bits", 0, 1}, {"train-size", 0, 1},   \
        {"kmeans-iters", 0, 1}

/* Handles one of INDEX_OPT_SPECS; returns 0, EXIT_USAGE, or -1 when name is
 * not one of them. */
static int index_option(const char *cmd, const char *name, const char *value,
                        struct index_opts *o)
{
    if (!strcmp(name, "type")) {
        if (ruv_index_type_parse(value, &o->type) != RUV_OK)
            return say_error(EXIT_USAGE, cmd, "--type: unknown index type '%s' (expected "
                             "flat_f32, rabitq, rabitq_plus or rabitq_asym)", value);
        return 0;
    }
    if (!strcmp(name, "metric")) {
        if (ruv_metric_parse(value, &o->metric) != RUV_OK)
            return say_error(EXIT_USAGE, cmd, "--metric: unknown metric '%s' (expected l2, ip "
                             "or cosine)", value);
        return 0;
    }
    if (!strcmp(name, "bits")) {
        o->has_bits = 1;
        return parse_u32(cmd, "--bits", value, 1, 8, &o->bits);
    }
    if (!strcmp(name, "nlist")) {
        o->has_nlist = 1;
        return parse_u32(cmd, "--nlist", value, 0, 1u << 24, &o->nlist);
    }
    if (!strcmp(name, "seed")) {
        o->has_seed = 1;
        return parse_uint(cmd, "--seed", value, 0, UINT64_MAX, &o->seed);
    }
    if (!strcmp(name, "kernel")) {
        o->kernel = value;
        return 0;
    }
    if (!strcmp(name, "train-size")) {
        o->has_train = 1;
        return parse_u32(cmd, "--train-size", value, 0, UINT32_MAX, &o->train_size);
    }
    if (!strcmp(name, "kmeans-iters")) {
        o->has_iters = 1;
        return parse_u32(cmd, "--kmeans-iters", value, 0, 1000, &o->kmeans_iters);
    }
    if (!strcmp(name, "query-bits")) {
        o->has_qbits = 1;
        return parse_u32(cmd, "--query-bits", value, 1, 8, &o->query_bits);
    }
    if (!strcmp(name, "epsilon")) {
        char *end = NULL;
        double e = strtod(value, &end);
        if (!end || *end || !(e > 0 && e < 100))
            return say_error(EXIT_USAGE, cmd, "--epsilon: '%s' is not a number in (0, 100)", value);
        o->epsilon = (float)e;
        o->has_epsilon = 1;
        return 0;
    }
    return -1;
}

static int make_params(const char *cmd, const struct index_opts *o, int type, size_t dim,
                       ruv_index_params *p)
{
    int rc = ruv_index_params_init(p, type, o->metric, (uint32_t)dim);
    if (rc != RUV_OK)
        return lib_error(cmd, rc, "index parameters");
    if (o->has_bits)
        p->bits = o->bits;
    if (o->has_nlist)
        p->nlist = o->nlist;
    if (o->has_seed)
        p->seed = o->seed;
    if (o->has_epsilon)
        p->epsilon = o->epsilon;
    if (o->has_qbits)
        p->query_bits = o->query_bits;
    if (o->has_train)
        p->train_size = o->train_size;
    if (o->has_iters)
        p->kmeans_iters = o->kmeans_iters;
    return 0;
}

/* threads < 0: the default (RUVECTOR_* settings, else one per core). */
/* The engine's progress callback, shown only on a terminal: one line per
 * phase, rewritten in place at each whole percent. */
struct live_progress {
    const char *cmd;
    const char *phase;
    int last_pct;
};

static void show_progress(void *vctx, const char *phase, uint64_t done, uint64_t total)
{
    struct live_progress *lp = vctx;
    int pct = total ? (int)(100.0 * (double)done / (double)total) : 100;
    if (lp->phase == phase && pct == lp->last_pct)
        return;
    lp->phase = phase;
    lp->last_pct = pct;
    fprintf(stderr, "\rruvector %s: %s %3d%%%s", lp->cmd, phase, pct, done >= total ? "\n" : "");
    fflush(stderr);
}

static int open_engine(const char *cmd, const char *kernel, long threads, ruv_engine **out)
{
    static struct live_progress lp;
    ruv_config *cfg = NULL;
    *out = NULL;
    int rc = ruv_config_new(&cfg);
    if (rc == RUV_OK && isatty(STDERR_FILENO)) {
        lp.cmd = cmd;
        lp.phase = NULL;
        rc = ruv_config_set_progress(cfg, show_progress, &lp);
    }
    if (rc == RUV_OK && kernel)
        rc = ruv_config_set_kernel(cfg, kernel);
    if (rc == RUV_OK && threads >= 0)
        rc = ruv_config_set_threads(cfg, (unsigned)threads);
    if (rc == RUV_OK)
        rc = ruv_engine_open(cfg, out);
    ruv_config_free(cfg);
    return rc == RUV_OK ? 0 : lib_error(cmd, rc, "cannot open the engine");
}

static const char *type_name(int type)
{
    const char *s = ruv_index_type_name(type);
    return s ? s : "?";
}

static const char *metric_name(int metric)
{
    const char *s = ruv_metric_name(metric);
    return s ? s : "?";
}

static const char *plural(unsigned n) { return n == 1 ? "" : "s"; }

/* Fails early, before a long build, when the output directory cannot take
 * the file (the save itself still reports anything else). */
static int check_output_dir(const char *cmd, const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    size_t len = slash ? (size_t)(slash - path) : 0;
    if (len >= sizeof dir)
        return 0; /* let the save report it */
    if (slash && len == 0)
        len = 1; /* "/file": the root directory */
    memcpy(dir, slash ? path : ".", slash ? len : 1);
    dir[slash ? len : 1] = '\0';
    if (access(dir, W_OK | X_OK) != 0)
        return say_error(1, cmd, "%s: cannot write into directory %s: %s", path, dir,
                         strerror(errno));
    return 0;
}

static void print_help(const char *text)
{
    fputs(text, stdout);
}

/* ------------------------------------------------------------------ */
/* ruvector build                                                       */

static const char build_help[] =
    "usage: ruvector build <base> -o <index-file> [options]\n"
    "Reads vectors (.fvecs, .bvecs or .npy), builds an index (ids = row numbers)\n"
    "and saves it.\n"
    "\n"
    "  -o, --output FILE   index file to write (required)\n"
    "  --type T            flat_f32 | rabitq | rabitq_plus (default) | rabitq_asym\n"
    "  --metric M          l2 (default) | ip | cosine\n"
    "  --bits N            RaBitQ code bits per dimension, 1..8 (default 1)\n"
    "  --nlist N           IVF lists (default 0: no IVF)\n"
    "  --train-size N      k-means sample rows (default 0: the index's choice)\n"
    "  --kmeans-iters N    k-means Lloyd iterations (default 0: the index's, 10)\n"
    "  --seed N            rotation and k-means seed (default 42)\n"
    "  --epsilon E         RaBitQ error-bound multiplier (default 2.6)\n"
    "  --query-bits N      RaBitQ query quantisation: bits per FastScan table entry,\n"
    "                      1..8 (default 8)\n"
    "  --threads N         worker threads (default: one per core)\n"
    "  --kernel NAME       force a kernel (scalar, avx2, avx512, neon)\n";

struct build_opts {
    const char *base, *out;
    struct index_opts idx;
    long threads;
};

static const struct opt_spec build_specs[] = {
    INDEX_OPT_SPECS, {"output", 'o', 1}, {"threads", 0, 1}, {"help", 'h', 0}};

/* Returns -1 to go on, else the exit status. */
static int build_parse(int argc, char **argv, struct build_opts *o)
{
    memset(o, 0, sizeof *o);
    index_opts_init(&o->idx);
    o->threads = -1;
    struct opt_iter it = {"build", argc, argv, 1, 0};
    const char *v;
    int s;
    while ((s = opt_next(&it, build_specs, sizeof build_specs / sizeof build_specs[0], &v)) !=
           OPT_END) {
        if (s == OPT_BAD)
            return EXIT_USAGE;
        if (s == OPT_POSITIONAL) {
            if (o->base)
                return say_error(EXIT_USAGE, "build", "unexpected argument '%s'", v);
            o->base = v;
            continue;
        }
        const char *name = build_specs[s].name;
        if (!strcmp(name, "help")) {
            print_help(build_help);
            return 0;
        }
        if (!strcmp(name, "output")) {
            o->out = v;
        } else if (!strcmp(name, "threads")) {
            uint64_t t;
            if (parse_uint("build", "--threads", v, 0, MAX_THREADS, &t))
                return EXIT_USAGE;
            o->threads = (long)t;
        } else if (index_option("build", name, v, &o->idx) != 0) {
            return EXIT_USAGE;
        }
    }
    if (!o->base)
        return say_error(EXIT_USAGE, "build", "missing the base vector file (see --help)");
    if (!o->out)
        return say_error(EXIT_USAGE, "build", "missing -o <index-file>");
    return check_output_dir("build", o->out) ? 1 : -1;
}

static void print_build_summary(const struct build_opts *o, const ruv_index *idx,
                                const ruv_engine *eng, size_t n, double seconds,
                                uint64_t file_bytes)
{
    const ruv_index_params *p = ruv_index_params_get(idx);
    size_t mem = ruv_index_memory_bytes(idx);
    printf("index     %s\n", o->out);
    printf("vectors   %zu x %u from %s\n", n, ruv_index_dim(idx), o->base);
    printf("type      %s, metric %s, bits %u, nlist %u, seed %" PRIu64 "\n", type_name((int)p->type),
           metric_name((int)p->metric), p->bits, p->nlist, p->seed);
    unsigned threads = ruv_engine_threads(eng);
    printf("build     %.3f s on %u thread%s (kernel %s)\n", seconds, threads, plural(threads),
           ruv_engine_kernel_name(eng));
    printf("memory    %zu bytes (%.1f B/vector)\n", mem, (double)mem / (double)n);
    printf("file      %" PRIu64 " bytes (%.1f B/vector)\n", file_bytes,
           (double)file_bytes / (double)n);
}

static int build_run(const struct build_opts *o)
{
    struct progress pr;
    progress_init(&pr, "build");
    char err[1024];
    struct data_matrix base;
    progress(&pr, "reading %s...", o->base);
    if (data_read_vectors(o->base, &base, err, sizeof err) != RUV_OK)
        return say_error(1, "build", "%s", err);
    ruv_engine *eng = NULL;
    ruv_index *idx = NULL;
    ruv_index_params p;
    int code = open_engine("build", o->idx.kernel, o->threads, &eng);
    if (code == 0)
        code = make_params("build", &o->idx, o->idx.type, base.dim, &p);
    if (code == 0) {
        progress(&pr, "building %s index of %zu x %zu...", type_name(o->idx.type), base.n,
                 base.dim);
        double t0 = now_seconds();
        int rc = ruv_index_build(eng, &p, base.data, base.n, NULL, &idx);
        double seconds = now_seconds() - t0;
        if (rc != RUV_OK) {
            code = lib_error("build", rc, "building from %s", o->base);
        } else {
            progress(&pr, "saving %s...", o->out);
            rc = ruv_index_save(idx, o->out);
            uint64_t bytes = 0;
            if (rc != RUV_OK)
                code = lib_error("build", rc, "saving %s", o->out);
            else if (file_size(o->out, &bytes) != 0)
                code = say_error(1, "build", "%s: cannot stat the saved file", o->out);
            else
                print_build_summary(o, idx, eng, base.n, seconds, bytes);
        }
    }
    if (idx)
        ruv_index_free(idx);
    ruv_engine_close(eng);
    data_matrix_free(&base);
    return code;
}

int cmd_build(int argc, char **argv)
{
    struct build_opts o;
    int code = build_parse(argc, argv, &o);
    return code >= 0 ? code : build_run(&o);
}

/* ------------------------------------------------------------------ */
/* ruvector search                                                      */

static const char search_help[] =
    "usage: ruvector search <index-file> <queries> [options]\n"
    "Loads an index and searches every query (.fvecs, .bvecs or .npy) in one batch.\n"
    "Prints ids and scores of the first queries, or writes them to files.\n"
    "\n"
    "  -k N                results per query (default 10)\n"
    "  --nprobe N          IVF lists to scan (default: the index's)\n"
    "  --rerank N          RABITQ_PLUS rerank factor, 0 = error bound alone\n"
    "                      (default: the index's)\n"
    "  --out FILE          write ids, nq x k, to .ivecs or .npy (-1: no result)\n"
    "  --scores FILE       write scores, nq x k, to .fvecs or .npy (NaN: no result)\n"
    "  --all               print every query, not the first 10\n"
    "  --threads N         worker threads (default: one per core)\n"
    "  --kernel NAME       force a kernel\n"
    "Scores: squared L2 distance (ascending), inner product or cosine (descending).\n";

struct search_opts {
    const char *index, *queries, *out, *scores, *kernel;
    uint32_t k, nprobe, rerank;
    int has_rerank, all;
    long threads;
};

static const struct opt_spec search_specs[] = {
    {"k", 'k', 1},      {"nprobe", 0, 1},  {"rerank", 0, 1}, {"out", 0, 1},   {"scores", 0, 1},
    {"all", 0, 0},      {"threads", 0, 1}, {"kernel", 0, 1}, {"help", 'h', 0}};

static int search_option(struct search_opts *o, const char *name, const char *v)
{
    uint64_t t;
    if (!strcmp(name, "k"))
        return parse_u32("search", "-k", v, 1, MAX_K, &o->k);
    if (!strcmp(name, "nprobe"))
        return parse_u32("search", "--nprobe", v, 0, UINT32_MAX, &o->nprobe);
    if (!strcmp(name, "rerank")) {
        o->has_rerank = 1;
        return parse_u32("search", "--rerank", v, 0, INT32_MAX, &o->rerank);
    }
    if (!strcmp(name, "threads")) {
        if (parse_uint("search", "--threads", v, 0, MAX_THREADS, &t) != 0)
            return EXIT_USAGE;
        o->threads = (long)t;
        return 0;
    }
    if (!strcmp(name, "out"))
        o->out = v;
    else if (!strcmp(name, "scores"))
        o->scores = v;
    else if (!strcmp(name, "kernel"))
        o->kernel = v;
    else if (!strcmp(name, "all"))
        o->all = 1;
    return 0;
}

static int search_parse(int argc, char **argv, struct search_opts *o)
{
    memset(o, 0, sizeof *o);
    o->k = 10;
    o->threads = -1;
    struct opt_iter it = {"search", argc, argv, 1, 0};
    const char *v;
    int s;
    while ((s = opt_next(&it, search_specs, sizeof search_specs / sizeof search_specs[0], &v)) !=
           OPT_END) {
        if (s == OPT_BAD)
            return EXIT_USAGE;
        if (s == OPT_POSITIONAL) {
            if (o->queries)
                return say_error(EXIT_USAGE, "search", "unexpected argument '%s'", v);
            *(o->index ? &o->queries : &o->index) = v;
            continue;
        }
        if (!strcmp(search_specs[s].name, "help")) {
            print_help(search_help);
            return 0;
        }
        if (search_option(o, search_specs[s].name, v) != 0)
            return EXIT_USAGE;
    }
    if (!o->queries)
        return say_error(EXIT_USAGE, "search", "expected <index-file> <queries> (see --help)");
    enum data_format f;
    if (o->out && (f = data_format_from_path(o->out)) != DATA_FORMAT_IVECS && f != DATA_FORMAT_NPY)
        return say_error(EXIT_USAGE, "search", "--out %s: ids go to .ivecs or .npy", o->out);
    if (o->scores && (f = data_format_from_path(o->scores)) != DATA_FORMAT_FVECS &&
        f != DATA_FORMAT_NPY)
        return say_error(EXIT_USAGE, "search", "--scores %s: scores go to .fvecs or .npy",
                         o->scores);
    return -1;
}

/* Results of one batch: nq rows of k. */
struct results {
    uint64_t *ids;
    float *scores;
    size_t *nfound;
    size_t nq, k;
};

static int results_alloc(struct results *r, size_t nq, size_t k)
{
    r->nq = nq;
    r->k = k;
    r->ids = nq <= SIZE_MAX / k ? alloc_array(nq * k, sizeof *r->ids) : NULL;
    r->scores = nq <= SIZE_MAX / k ? alloc_array(nq * k, sizeof *r->scores) : NULL;
    r->nfound = alloc_array(nq, sizeof *r->nfound);
    return r->ids && r->scores && r->nfound ? 0 : -1;
}

static void results_free(struct results *r)
{
    free(r->ids);
    free(r->scores);
    free(r->nfound);
    memset(r, 0, sizeof *r);
}

static void print_results(const struct results *r, size_t show)
{
    for (size_t q = 0; q < show; q++) {
        printf("query %zu:", q);
        for (size_t j = 0; j < r->nfound[q]; j++)
            printf(" %" PRIu64 ":%.6g", r->ids[q * r->k + j], (double)r->scores[q * r->k + j]);
        putchar('\n');
    }
    if (show < r->nq)
        printf("... %zu more queries (--all prints them, --out writes them)\n", r->nq - show);
}

/* ids as int64 for the writers; -1 where a query found fewer than k. */
static int write_ids(const struct results *r, const char *path, char *err, size_t errlen)
{
    int64_t *out = alloc_array(r->nq * r->k, sizeof *out);
    if (!out) {
        snprintf(err, errlen, "%s: out of memory", path);
        return RUV_E_NOMEM;
    }
    for (size_t q = 0; q < r->nq; q++)
        for (size_t j = 0; j < r->k; j++) {
            uint64_t id = r->ids[q * r->k + j];
            out[q * r->k + j] = j < r->nfound[q] && id <= INT64_MAX ? (int64_t)id : -1;
        }
    int rc = data_write_ids(path, out, r->nq, r->k, err, errlen);
    free(out);
    return rc;
}

static int search_write(const struct search_opts *o, const struct results *r)
{
    char err[1024];
    if (o->out && write_ids(r, o->out, err, sizeof err) != RUV_OK)
        return say_error(1, "search", "%s", err);
    if (o->scores && data_write_vectors(o->scores, r->scores, r->nq, r->k, err, sizeof err) !=
                         RUV_OK)
        return say_error(1, "search", "%s", err);
    return 0;
}

static int search_batch(const struct search_opts *o, const ruv_index *idx, const ruv_engine *eng,
                        const struct data_matrix *q)
{
    ruv_search_params sp;
    int rc = ruv_search_params_init(&sp, o->k);
    if (rc != RUV_OK)
        return lib_error("search", rc, "search parameters");
    sp.nprobe = o->nprobe;
    if (o->has_rerank)
        sp.rerank_factor = (int32_t)o->rerank;
    struct results r;
    if (results_alloc(&r, q->n, o->k) != 0) {
        results_free(&r);
        return say_error(1, "search", "out of memory for %zu x %u results", q->n, o->k);
    }
    double t0 = now_seconds();
    rc = ruv_index_search_batch(idx, q->data, q->n, &sp, r.ids, r.scores, r.nfound);
    double seconds = now_seconds() - t0;
    int code = 0;
    if (rc != RUV_OK) {
        code = lib_error("search", rc, "searching %s", o->queries);
    } else if (o->out || o->scores) {
        code = search_write(o, &r);
    } else {
        print_results(&r, o->all || r.nq < SHOW_QUERIES ? r.nq : SHOW_QUERIES);
    }
    if (code == 0)
        printf("%zu queries, k=%u, %.4f s (%.0f QPS on %u thread%s, kernel %s)%s%s\n", r.nq,
               o->k, seconds, (double)r.nq / (seconds > 0 ? seconds : 1e-9),
               ruv_engine_threads(eng), plural(ruv_engine_threads(eng)),
               ruv_engine_kernel_name(eng), o->out ? "; ids in " : "", o->out ? o->out : "");
    results_free(&r);
    return code;
}

static int search_run(const struct search_opts *o)
{
    struct progress pr;
    progress_init(&pr, "search");
    ruv_engine *eng = NULL;
    ruv_index *idx = NULL;
    struct data_matrix q = {NULL, 0, 0};
    char err[1024];
    int code = open_engine("search", o->kernel, o->threads, &eng);
    if (code == 0) {
        progress(&pr, "loading %s...", o->index);
        int rc = ruv_index_load(eng, o->index, &idx);
        if (rc != RUV_OK)
            code = lib_error("search", rc, "loading %s", o->index);
    }
    if (code == 0) {
        progress(&pr, "reading %s...", o->queries);
        if (data_read_vectors(o->queries, &q, err, sizeof err) != RUV_OK)
            code = say_error(1, "search", "%s", err);
        else if (q.dim != ruv_index_dim(idx))
            code = say_error(1, "search", "%s has dimension %zu, the index %s has %u",
                             o->queries, q.dim, o->index, ruv_index_dim(idx));
    }
    if (code == 0) {
        progress(&pr, "searching %zu queries...", q.n);
        code = search_batch(o, idx, eng, &q);
    }
    data_matrix_free(&q);
    if (idx)
        ruv_index_free(idx);
    ruv_engine_close(eng);
    return code;
}

int cmd_search(int argc, char **argv)
{
    struct search_opts o;
    int code = search_parse(argc, argv, &o);
    return code >= 0 ? code : search_run(&o);
}

/* ------------------------------------------------------------------ */
/* ruvector bench                                                       */

static const char bench_help[] =
    "usage: ruvector bench <base> <queries> [options]\n"
    "Builds an index over <base> (ids = row numbers) and measures, for every\n"
    "combination of --nprobe and --rerank values:\n"
    "  recall@1, @10, @100, each from a search at that k (never truncated from a\n"
    "    larger k); a result is a hit if its exact distance is within the k-th\n"
    "    ground-truth distance x (1 + 1e-6), so ties count;\n"
    "  QPS and p50/p99 latency of a single-query loop on 1 thread (at -k);\n"
    "  QPS of one batch of all queries on each --threads count (at -k);\n"
    "and build time, memory and file bytes per vector. Timings: a warm-up pass,\n"
    "then the median of --repeats runs.\n"
    "\n"
    "  --gt FILE           ground truth (.ivecs/.npy row numbers of <base>, nearest\n"
    "                      first); default: computed with an exact flat_f32 index\n"
    "  --type T            flat_f32 | rabitq | rabitq_plus (default) | rabitq_asym\n"
    "  --metric M          l2 (default) | ip | cosine\n"
    "  --bits N            RaBitQ code bits, 1..8     --nlist N   IVF lists\n"
    "  --train-size N      k-means sample rows        --kmeans-iters N  iterations\n"
    "  --seed N            rotation and k-means seed\n"
    "  --epsilon E         RaBitQ error-bound multiplier (default 2.6)\n"
    "  --query-bits N      RaBitQ query quantisation: bits per FastScan table entry,\n"
    "                      1..8 (default 8)\n"
    "  --nprobe N[,N...]   IVF lists to scan (0 = index default)\n"
    "  --rerank N[,N...]   RABITQ_PLUS rerank factors (default: the index's)\n"
    "  -k N                k for the QPS and latency runs (default 10)\n"
    "  --threads N[,N...]  batch thread counts (default 1,2); the build uses the\n"
    "                      largest\n"
    "  --repeats N         timed repeats, median reported (default 3)\n"
    "  --json              one JSON object on stdout instead of the table\n"
    "  --kernel NAME       force a kernel\n";

#define NRECALL 3
static const uint32_t recall_ks[NRECALL] = {1, 10, 100};

struct bench_opts {
    const char *base, *queries, *gt;
    struct index_opts idx;
    struct uint_list nprobe, rerank, threads;
    int has_rerank, json;
    uint32_t k, repeats;
};

struct bench_result {
    uint32_t nprobe;
    int32_t rerank; /* < 0: the index default */
    double recall[NRECALL];
    int has_recall[NRECALL];
    double qps_single, p50_us, p99_us;
    double qps_batch[MAX_LIST];
};

struct bench {
    struct bench_opts o;
    struct progress pr;
    struct data_matrix base, queries;
    struct data_ids gt;           /* nq x depth row numbers, nearest first */
    double *cutoff[NRECALL];      /* per query: hit if exact badness <= this; NULL: n/a */
    double build_seconds, build_cpu_seconds;
    unsigned build_threads;
    unsigned batch_threads[MAX_LIST]; /* actual engine threads per --threads value */
    char kernel[64];
    size_t memory_bytes;
    uint64_t file_bytes;
    char tmpdir[512], index_path[600];
    struct bench_result *results;
    size_t nresults;
};

static const struct opt_spec bench_specs[] = {
    INDEX_OPT_SPECS,   {"gt", 0, 1},      {"nprobe", 0, 1},  {"rerank", 0, 1},
    {"k", 'k', 1},     {"threads", 0, 1}, {"repeats", 0, 1}, {"json", 0, 0},
    {"help", 'h', 0}};

static int bench_option(struct bench_opts *o, const char *name, const char *v)
{
    int rc = index_option("bench", name, v, &o->idx);
    if (rc >= 0)
        return rc;
    if (!strcmp(name, "gt")) {
        o->gt = v;
        return 0;
    }
    if (!strcmp(name, "json")) {
        o->json = 1;
        return 0;
    }
    if (!strcmp(name, "k"))
        return parse_u32("bench", "-k", v, 1, MAX_K, &o->k);
    if (!strcmp(name, "repeats"))
        return parse_u32("bench", "--repeats", v, 1, 100, &o->repeats);
    if (!strcmp(name, "nprobe"))
        return parse_list("bench", "--nprobe", v, 0, UINT32_MAX, &o->nprobe);
    if (!strcmp(name, "threads"))
        return parse_list("bench", "--threads", v, 0, MAX_THREADS, &o->threads);
    if (!strcmp(name, "rerank")) {
        o->has_rerank = 1;
        return parse_list("bench", "--rerank", v, 0, INT32_MAX, &o->rerank);
    }
    return say_error(EXIT_USAGE, "bench", "option --%s is not handled", name);
}

static int bench_parse(int argc, char **argv, struct bench_opts *o)
{
    memset(o, 0, sizeof *o);
    index_opts_init(&o->idx);
    o->k = 10;
    o->repeats = 3;
    o->nprobe.n = 1; /* {0}: the index default */
    o->threads.v[0] = 1;
    o->threads.v[1] = 2;
    o->threads.n = 2;
    struct opt_iter it = {"bench", argc, argv, 1, 0};
    const char *v;
    int s;
    while ((s = opt_next(&it, bench_specs, sizeof bench_specs / sizeof bench_specs[0], &v)) !=
           OPT_END) {
        if (s == OPT_BAD)
            return EXIT_USAGE;
        if (s == OPT_POSITIONAL) {
            if (o->queries)
                return say_error(EXIT_USAGE, "bench", "unexpected argument '%s'", v);
            *(o->base ? &o->queries : &o->base) = v;
            continue;
        }
        if (!strcmp(bench_specs[s].name, "help")) {
            print_help(bench_help);
            return 0;
        }
        if (bench_option(o, bench_specs[s].name, v) != 0)
            return EXIT_USAGE;
    }
    if (!o->queries)
        return say_error(EXIT_USAGE, "bench", "expected <base> <queries> (see --help)");
    return -1;
}

/* ---- exact distances (double precision), as "badness": lower is better ---- */

static double exact_badness(int metric, const float *q, const float *x, size_t dim)
{
    double dot = 0, qq = 0, xx = 0, l2 = 0;
    for (size_t i = 0; i < dim; i++) {
        double a = q[i], b = x[i];
        dot += a * b;
        qq += a * a;
        xx += b * b;
        l2 += (a - b) * (a - b);
    }
    if (metric == RUV_METRIC_L2)
        return l2;
    if (metric == RUV_METRIC_IP)
        return -dot;
    return qq > 0 && xx > 0 ? -dot / sqrt(qq * xx) : 0.0;
}

static double badness_of_row(const struct bench *b, size_t q, size_t row)
{
    return exact_badness(b->o.idx.metric, b->queries.data + q * b->queries.dim,
                         b->base.data + row * b->base.dim, b->base.dim);
}

/* ---- ground truth ---- */

static size_t gt_depth_needed(const struct bench *b)
{
    return b->base.n < GT_DEPTH ? b->base.n : GT_DEPTH;
}

/* Exact top-depth rows of every query, from a flat_f32 index. */
static int exact_search(struct bench *b, ruv_engine *eng, size_t depth, struct results *r)
{
    ruv_index_params p;
    if (make_params("bench", &b->o.idx, RUV_INDEX_FLAT_F32, b->base.dim, &p) != 0)
        return 1;
    p.nlist = 0;
    ruv_index *flat = NULL;
    int rc = ruv_index_build(eng, &p, b->base.data, b->base.n, NULL, &flat);
    if (rc != RUV_OK)
        return lib_error("bench", rc, "building the exact index for ground truth");
    ruv_search_params sp;
    rc = ruv_search_params_init(&sp, (uint32_t)depth);
    if (rc == RUV_OK)
        rc = ruv_index_search_batch(flat, b->queries.data, b->queries.n, &sp, r->ids, r->scores,
                                    r->nfound);
    int code = rc == RUV_OK ? 0 : lib_error("bench", rc, "exact search for ground truth");
    ruv_index_free(flat);
    return code;
}

static int compute_ground_truth(struct bench *b, ruv_engine *eng)
{
    size_t depth = gt_depth_needed(b), nq = b->queries.n;
    progress(&b->pr, "ground truth: exact flat_f32 search, top %zu...", depth);
    struct results r;
    int code = results_alloc(&r, nq, depth) == 0 ? 0 : say_error(1, "bench", "out of memory");
    if (code == 0)
        code = exact_search(b, eng, depth, &r);
    if (code == 0 && !(b->gt.data = alloc_array(nq * depth, sizeof *b->gt.data)))
        code = say_error(1, "bench", "out of memory");
    b->gt.n = nq;
    b->gt.dim = depth;
    for (size_t q = 0; code == 0 && q < nq; q++) {
        if (r.nfound[q] != depth)
            code = say_error(1, "bench", "exact search returned %zu of %zu results for query %zu",
                             r.nfound[q], depth, q);
        for (size_t j = 0; code == 0 && j < depth; j++)
            b->gt.data[q * depth + j] = (int64_t)r.ids[q * depth + j];
    }
    results_free(&r);
    return code;
}

static int load_ground_truth(struct bench *b)
{
    char err[1024];
    progress(&b->pr, "reading ground truth %s...", b->o.gt);
    if (data_read_ids(b->o.gt, &b->gt, err, sizeof err) != RUV_OK)
        return say_error(1, "bench", "%s", err);
    if (b->gt.n != b->queries.n)
        return say_error(1, "bench", "%s has %zu rows, %s has %zu queries", b->o.gt, b->gt.n,
                         b->o.queries, b->queries.n);
    size_t cols = b->gt.dim < gt_depth_needed(b) ? b->gt.dim : gt_depth_needed(b);
    for (size_t q = 0; q < b->gt.n; q++)
        for (size_t j = 0; j < cols; j++) {
            int64_t id = b->gt.data[q * b->gt.dim + j];
            if (id < 0 || (uint64_t)id >= b->base.n)
                return say_error(1, "bench", "%s: row %zu, column %zu: %" PRId64 " is not a row "
                                 "of %s (0..%zu)", b->o.gt, q, j, id, b->o.base, b->base.n - 1);
        }
    return 0;
}

/* Per query, the cut-off for recall@k: the largest exact distance among the
 * first min(k, n) ground-truth rows (the k-th distance when the ground truth
 * is exact) plus the relative tie tolerance. */
static int make_cutoffs(struct bench *b)
{
    for (size_t ki = 0; ki < NRECALL; ki++) {
        size_t kk = recall_ks[ki] < b->base.n ? recall_ks[ki] : b->base.n;
        if (kk > b->gt.dim)
            continue; /* ground truth too shallow: recall@k not reported */
        b->cutoff[ki] = alloc_array(b->queries.n, sizeof(double));
        if (!b->cutoff[ki])
            return say_error(1, "bench", "out of memory");
        for (size_t q = 0; q < b->queries.n; q++) {
            double worst = -INFINITY;
            for (size_t j = 0; j < kk; j++) {
                double d = badness_of_row(b, q, (size_t)b->gt.data[q * b->gt.dim + j]);
                worst = d > worst ? d : worst;
            }
            b->cutoff[ki][q] = worst + TIE_TOLERANCE * fabs(worst);
        }
    }
    return 0;
}

/* Distinct returned rows of query q whose exact distance makes the cut. */
static size_t count_hits(const struct bench *b, size_t q, const uint64_t *ids, size_t nfound,
                         double cutoff)
{
    size_t hits = 0;
    for (size_t j = 0; j < nfound; j++) {
        if (ids[j] >= b->base.n)
            continue;
        int seen = 0;
        for (size_t i = 0; i < j && !seen; i++)
            seen = ids[i] == ids[j];
        if (!seen && badness_of_row(b, q, (size_t)ids[j]) <= cutoff)
            hits++;
    }
    return hits;
}

/* ---- timing ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return (v[(n - 1) / 2] + v[n / 2]) / 2;
}

/* Nearest-rank percentile of sorted values. */
static double percentile(const double *sorted, size_t n, double p)
{
    size_t rank = (size_t)ceil(p * (double)n);
    return sorted[rank > 0 ? rank - 1 : 0];
}

static double per_second(size_t count, double seconds)
{
    return (double)count / (seconds > 1e-9 ? seconds : 1e-9);
}

static void search_params_for(const struct bench_result *res, uint32_t k, ruv_search_params *sp)
{
    (void)ruv_search_params_init(sp, k); /* cannot fail: k >= 1 */
    sp->nprobe = res->nprobe;
    if (res->rerank >= 0)
        sp->rerank_factor = res->rerank;
}

static int setting_error(const struct bench_result *res, int rc, const char *what)
{
    return lib_error("bench", rc, "%s (nprobe %u, rerank %" PRId32 ")", what, res->nprobe,
                     res->rerank);
}

/* recall@1/10/100, each from its own batch search at that k. */
static int measure_recall(struct bench *b, const ruv_index *idx, struct bench_result *res)
{
    size_t nq = b->queries.n;
    for (size_t ki = 0; ki < NRECALL; ki++) {
        if (!b->cutoff[ki])
            continue;
        uint32_t k = recall_ks[ki];
        size_t kk = k < b->base.n ? k : b->base.n;
        struct results r;
        ruv_search_params sp;
        search_params_for(res, k, &sp);
        if (results_alloc(&r, nq, k) != 0) {
            results_free(&r);
            return say_error(1, "bench", "out of memory");
        }
        int rc = ruv_index_search_batch(idx, b->queries.data, nq, &sp, r.ids, r.scores, r.nfound);
        double sum = 0;
        for (size_t q = 0; rc == RUV_OK && q < nq; q++)
            sum += (double)count_hits(b, q, r.ids + q * k, r.nfound[q], b->cutoff[ki][q]) /
                   (double)kk;
        results_free(&r);
        if (rc != RUV_OK)
            return setting_error(res, rc, "recall search");
        res->recall[ki] = sum / (double)nq;
        res->has_recall[ki] = 1;
    }
    return 0;
}

/* One pass of the single-query loop; latencies (seconds) into lat. */
static int single_pass(const struct bench *b, const ruv_index *idx, const ruv_search_params *sp,
                       struct results *r, double *lat, double *seconds)
{
    double start = now_seconds();
    for (size_t q = 0; q < b->queries.n; q++) {
        double t0 = now_seconds();
        int rc = ruv_index_search(idx, b->queries.data + q * b->queries.dim, sp, r->ids,
                                  r->scores, r->nfound);
        if (lat)
            lat[q] = now_seconds() - t0;
        if (rc != RUV_OK)
            return rc;
    }
    *seconds = now_seconds() - start;
    return RUV_OK;
}

static int measure_single(struct bench *b, const ruv_index *idx, struct bench_result *res)
{
    size_t nq = b->queries.n, reps = b->o.repeats;
    struct results r;
    ruv_search_params sp;
    search_params_for(res, b->o.k, &sp);
    double *lat = alloc_array(nq * reps, sizeof *lat);
    double qps[100], seconds;
    if (results_alloc(&r, 1, b->o.k) != 0 || !lat) {
        results_free(&r);
        free(lat);
        return say_error(1, "bench", "out of memory");
    }
    int rc = single_pass(b, idx, &sp, &r, NULL, &seconds); /* warm-up */
    for (size_t i = 0; rc == RUV_OK && i < reps; i++) {
        rc = single_pass(b, idx, &sp, &r, lat + i * nq, &seconds);
        qps[i] = per_second(nq, seconds);
    }
    if (rc == RUV_OK) {
        res->qps_single = median(qps, reps);
        qsort(lat, nq * reps, sizeof *lat, cmp_double);
        res->p50_us = percentile(lat, nq * reps, 0.50) * 1e6;
        res->p99_us = percentile(lat, nq * reps, 0.99) * 1e6;
    }
    results_free(&r);
    free(lat);
    return rc == RUV_OK ? 0 : setting_error(res, rc, "single-query search");
}

static int measure_batch(struct bench *b, const ruv_index *idx, struct bench_result *res,
                         double *qps_out)
{
    size_t nq = b->queries.n;
    struct results r;
    ruv_search_params sp;
    search_params_for(res, b->o.k, &sp);
    double qps[100];
    if (results_alloc(&r, nq, b->o.k) != 0) {
        results_free(&r);
        return say_error(1, "bench", "out of memory");
    }
    int rc = RUV_OK;
    for (size_t i = 0; rc == RUV_OK && i <= b->o.repeats; i++) { /* i == 0: warm-up */
        double t0 = now_seconds();
        rc = ruv_index_search_batch(idx, b->queries.data, nq, &sp, r.ids, r.scores, r.nfound);
        if (i > 0)
            qps[i - 1] = per_second(nq, now_seconds() - t0);
    }
    results_free(&r);
    if (rc != RUV_OK)
        return setting_error(res, rc, "batch search");
    *qps_out = median(qps, b->o.repeats);
    return 0;
}

/* ---- phases ---- */

static int bench_read(struct bench *b)
{
    char err[1024];
    progress(&b->pr, "reading %s...", b->o.base);
    if (data_read_vectors(b->o.base, &b->base, err, sizeof err) != RUV_OK)
        return say_error(1, "bench", "%s", err);
    progress(&b->pr, "reading %s...", b->o.queries);
    if (data_read_vectors(b->o.queries, &b->queries, err, sizeof err) != RUV_OK)
        return say_error(1, "bench", "%s", err);
    if (b->queries.dim != b->base.dim)
        return say_error(1, "bench", "%s has dimension %zu, %s has %zu", b->o.queries,
                         b->queries.dim, b->o.base, b->base.dim);
    return 0;
}

/* The build uses the largest --threads value (0, one per core, counts as
 * the largest). */
static long build_thread_count(const struct uint_list *threads)
{
    uint64_t most = 0;
    for (size_t i = 0; i < threads->n; i++) {
        if (threads->v[i] == 0)
            return 0;
        most = threads->v[i] > most ? threads->v[i] : most;
    }
    return (long)most;
}

static int make_temp_dir(struct bench *b)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(b->tmpdir, sizeof b->tmpdir, "%s/ruvector-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(b->tmpdir)) {
        int code = say_error(1, "bench", "cannot create a temporary directory %s", b->tmpdir);
        b->tmpdir[0] = '\0';
        return code;
    }
    snprintf(b->index_path, sizeof b->index_path, "%s/index.ruv", b->tmpdir);
    return 0;
}

static int build_and_save(struct bench *b, ruv_engine *eng)
{
    ruv_index_params p;
    ruv_index *idx = NULL;
    if (make_params("bench", &b->o.idx, b->o.idx.type, b->base.dim, &p) != 0)
        return 1;
    progress(&b->pr, "building %s index of %zu x %zu...", type_name(b->o.idx.type), b->base.n,
             b->base.dim);
    double t0 = now_seconds(), c0 = cpu_seconds();
    int rc = ruv_index_build(eng, &p, b->base.data, b->base.n, NULL, &idx);
    b->build_seconds = now_seconds() - t0;
    b->build_cpu_seconds = cpu_seconds() - c0;
    if (rc != RUV_OK)
        return lib_error("bench", rc, "building from %s", b->o.base);
    b->memory_bytes = ruv_index_memory_bytes(idx);
    int code = make_temp_dir(b);
    if (code == 0 && (rc = ruv_index_save(idx, b->index_path)) != RUV_OK)
        code = lib_error("bench", rc, "saving to %s", b->index_path);
    if (code == 0 && file_size(b->index_path, &b->file_bytes) != 0)
        code = say_error(1, "bench", "%s: cannot stat the saved index", b->index_path);
    ruv_index_free(idx);
    return code;
}

/* Build (timed), save (file size), ground truth: all on one engine with the
 * build's thread count. */
static int bench_prepare(struct bench *b)
{
    ruv_engine *eng = NULL;
    int code = open_engine("bench", b->o.idx.kernel, build_thread_count(&b->o.threads), &eng);
    if (code != 0)
        return code;
    b->build_threads = ruv_engine_threads(eng);
    snprintf(b->kernel, sizeof b->kernel, "%s", ruv_engine_kernel_name(eng));
    code = build_and_save(b, eng);
    if (code == 0)
        code = b->o.gt ? load_ground_truth(b) : compute_ground_truth(b, eng);
    ruv_engine_close(eng);
    return code == 0 ? make_cutoffs(b) : code;
}

/* Loads the saved index into an engine of `threads` threads. */
static int load_on(struct bench *b, long threads, ruv_engine **eng, ruv_index **idx)
{
    *idx = NULL;
    int code = open_engine("bench", b->o.idx.kernel, threads, eng);
    if (code != 0)
        return code;
    int rc = ruv_index_load(*eng, b->index_path, idx);
    if (rc != RUV_OK) {
        ruv_engine_close(*eng);
        *eng = NULL;
        return lib_error("bench", rc, "loading the saved index %s", b->index_path);
    }
    return 0;
}

static void unload(ruv_engine *eng, ruv_index *idx)
{
    if (idx)
        ruv_index_free(idx);
    ruv_engine_close(eng);
}

static int bench_settings_init(struct bench *b)
{
    size_t nr = b->o.has_rerank ? b->o.rerank.n : 1;
    b->nresults = b->o.nprobe.n * nr;
    b->results = alloc_array(b->nresults, sizeof *b->results);
    if (!b->results)
        return say_error(1, "bench", "out of memory");
    for (size_t i = 0; i < b->nresults; i++) {
        b->results[i].nprobe = (uint32_t)b->o.nprobe.v[i / nr];
        b->results[i].rerank = b->o.has_rerank ? (int32_t)b->o.rerank.v[i % nr] : -1;
    }
    return 0;
}

/* Recall and the single-query loop, on a 1-thread engine. */
static int bench_single_thread(struct bench *b)
{
    ruv_engine *eng;
    ruv_index *idx;
    int code = load_on(b, 1, &eng, &idx);
    if (code != 0)
        return code;
    for (size_t i = 0; code == 0 && i < b->nresults; i++) {
        struct bench_result *res = &b->results[i];
        progress(&b->pr, "recall and single-query loop: nprobe %u, rerank %" PRId32 "...",
                 res->nprobe, res->rerank);
        code = measure_recall(b, idx, res);
        if (code == 0)
            code = measure_single(b, idx, res);
    }
    unload(eng, idx);
    return code;
}

static int bench_batches(struct bench *b)
{
    for (size_t t = 0; t < b->o.threads.n; t++) {
        ruv_engine *eng;
        ruv_index *idx;
        int code = load_on(b, (long)b->o.threads.v[t], &eng, &idx);
        if (code != 0)
            return code;
        b->batch_threads[t] = ruv_engine_threads(eng);
        for (size_t i = 0; code == 0 && i < b->nresults; i++) {
            progress(&b->pr, "batch, %u threads: nprobe %u, rerank %" PRId32 "...",
                     b->batch_threads[t], b->results[i].nprobe, b->results[i].rerank);
            code = measure_batch(b, idx, &b->results[i], &b->results[i].qps_batch[t]);
        }
        unload(eng, idx);
        if (code != 0)
            return code;
    }
    return 0;
}

/* ---- output ---- */

static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void print_json_result(const struct bench *b, const struct bench_result *r)
{
    printf("{\"nprobe\":%u,\"rerank\":%" PRId32, r->nprobe, r->rerank);
    for (size_t ki = 0; ki < NRECALL; ki++) {
        printf(",\"recall@%u\":", recall_ks[ki]);
        if (r->has_recall[ki])
            printf("%.6f", r->recall[ki]);
        else
            fputs("null", stdout);
    }
    printf(",\"k\":%u,\"qps_single\":%.1f,\"latency_p50_us\":%.1f,\"latency_p99_us\":%.1f,"
           "\"batch\":[", b->o.k, r->qps_single, r->p50_us, r->p99_us);
    for (size_t t = 0; t < b->o.threads.n; t++)
        printf("%s{\"threads\":%u,\"qps\":%.1f}", t ? "," : "", b->batch_threads[t],
               r->qps_batch[t]);
    fputs("]}", stdout);
}

static void print_json(const struct bench *b)
{
    size_t n = b->base.n;
    fputs("{\"base\":", stdout);
    json_string(b->o.base);
    fputs(",\"queries\":", stdout);
    json_string(b->o.queries);
    fputs(",\"ground_truth\":", stdout);
    json_string(b->o.gt ? b->o.gt : "computed:flat_f32");
    printf(",\"n\":%zu,\"dim\":%zu,\"nq\":%zu,\"type\":\"%s\",\"metric\":\"%s\","
           "\"kernel\":", n, b->base.dim, b->queries.n, type_name(b->o.idx.type),
           metric_name(b->o.idx.metric));
    json_string(b->kernel);
    printf(",\"build_seconds\":%.4f,\"build_cpu_seconds\":%.4f,\"build_threads\":%u,"
           "\"memory_bytes\":%zu,"
           "\"bytes_per_vector\":%.2f,\"file_bytes\":%" PRIu64 ",\"file_bytes_per_vector\":%.2f,"
           "\"repeats\":%u,\"results\":[", b->build_seconds, b->build_cpu_seconds,
           b->build_threads, b->memory_bytes,
           (double)b->memory_bytes / (double)n, b->file_bytes, (double)b->file_bytes / (double)n,
           b->o.repeats);
    for (size_t i = 0; i < b->nresults; i++) {
        if (i)
            putchar(',');
        print_json_result(b, &b->results[i]);
    }
    puts("]}");
}

static void format_setting(char *buf, size_t cap, int64_t v, int64_t default_value)
{
    if (v == default_value)
        snprintf(buf, cap, "auto");
    else
        snprintf(buf, cap, "%" PRId64, v);
}

static void print_table(const struct bench *b)
{
    size_t n = b->base.n;
    printf("data      %s: %zu x %zu; %zu queries from %s\n", b->o.base, n, b->base.dim,
           b->queries.n, b->o.queries);
    printf("index     %s, metric %s, kernel %s\n", type_name(b->o.idx.type),
           metric_name(b->o.idx.metric), b->kernel);
    printf("build     %.3f s on %u thread%s (CPU %.3f s)\n", b->build_seconds, b->build_threads,
           plural(b->build_threads), b->build_cpu_seconds);
    printf("size      memory %.1f B/vector (%zu bytes), file %.1f B/vector (%" PRIu64 " bytes)\n",
           (double)b->memory_bytes / (double)n, b->memory_bytes,
           (double)b->file_bytes / (double)n, b->file_bytes);
    printf("truth     %s\n", b->o.gt ? b->o.gt : "computed (exact flat_f32 search)");
    printf("timings   k=%u, warm-up then median of %u; latency of the 1-thread query loop\n\n",
           b->o.k, b->o.repeats);
    printf("%6s %6s %9s %9s %10s %9s %9s %9s", "nprobe", "rerank", "recall@1", "recall@10",
           "recall@100", "QPS 1q", "p50 us", "p99 us");
    for (size_t t = 0; t < b->o.threads.n; t++) {
        char head[32];
        snprintf(head, sizeof head, "batch %ut", b->batch_threads[t]);
        printf(" %10s", head);
    }
    putchar('\n');
    for (size_t i = 0; i < b->nresults; i++) {
        const struct bench_result *r = &b->results[i];
        char np[24], rr[24];
        format_setting(np, sizeof np, r->nprobe, 0);
        format_setting(rr, sizeof rr, r->rerank, -1);
        printf("%6s %6s", np, rr);
        static const int widths[NRECALL] = {9, 9, 10};
        for (size_t ki = 0; ki < NRECALL; ki++) {
            if (r->has_recall[ki])
                printf(" %*.4f", widths[ki], r->recall[ki]);
            else
                printf(" %*s", widths[ki], "-");
        }
        printf(" %9.0f %9.1f %9.1f", r->qps_single, r->p50_us, r->p99_us);
        for (size_t t = 0; t < b->o.threads.n; t++)
            printf(" %10.0f", r->qps_batch[t]);
        putchar('\n');
    }
}

static void bench_cleanup(struct bench *b)
{
    if (b->tmpdir[0]) {
        remove(b->index_path);
        remove(b->tmpdir);
    }
    for (size_t ki = 0; ki < NRECALL; ki++)
        free(b->cutoff[ki]);
    free(b->results);
    data_ids_free(&b->gt);
    data_matrix_free(&b->queries);
    data_matrix_free(&b->base);
}

int cmd_bench(int argc, char **argv)
{
    struct bench *b = calloc(1, sizeof *b);
    if (!b)
        return say_error(1, "bench", "out of memory");
    int code = bench_parse(argc, argv, &b->o);
    if (code < 0) {
        progress_init(&b->pr, "bench");
        code = bench_read(b);
        if (code == 0)
            code = bench_settings_init(b);
        if (code == 0)
            code = bench_prepare(b);
        if (code == 0)
            code = bench_single_thread(b);
        if (code == 0)
            code = bench_batches(b);
        if (code == 0 && b->o.json)
            print_json(b);
        else if (code == 0)
            print_table(b);
    }
    bench_cleanup(b);
    free(b);
    return code;
}
