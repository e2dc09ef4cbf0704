/* ruvector build: reads a base file, builds an index (ids = row numbers)
 * and saves it. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <ruvector/ruvector.h>
#include <ruvector/index.h>

#include "cli_engine.h"
#include "cli_messages.h"
#include "cli_options.h"
#include "cli_util.h"
#include "commands.h"
#include "dataio.h"
#include "index_opts.h"

static const char build_help[] =
    "usage: ruvector build <base> -o <index-file> [options]\n"
    "Reads vectors (.fvecs, .bvecs or .npy), builds an index (ids = row numbers)\n"
    "and saves it.\n"
    "\n"
    "  -o, --output FILE   index file to write (required)\n"
    "  --type T            flat_f32 | rabitq | rabitq_plus (default) | rabitq_asym\n"
    "  --metric M          l2 (default) | ip | cosine\n"
    "  --target-recall R   recall@10 the build plans for (default 0.95): it chooses\n"
    "                      bits, nlist and a calibrated nprobe (0: no plan, bits 1,\n"
    "                      nlist 0); given options win. rabitq and rabitq_asym\n"
    "                      with R given and no --bits: the fewest bits reaching R\n"
    "  --bits N            RaBitQ code bits per dimension, 1..8 (default: planned)\n"
    "  --nlist N           IVF lists (default: planned; 0: no IVF)\n"
    "  --train-size N      k-means sample rows (default 0: the index's choice)\n"
    "  --kmeans-iters N    k-means Lloyd iterations (default 0: the index's, 10,\n"
    "                      or 4 when the plan chooses rabitq_plus's nlist at D >= 512)\n"
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
    char plan[1024], probing[1024];
    ruv_index_describe_plan(idx, plan, sizeof plan);
    ruv_index_describe_probing(idx, probing, sizeof probing);
    printf("plan      %s\n", plan);
    printf("probing   %s\n", probing);
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
    int code = cli_open_index_engine("build", o->idx.kernel, o->threads, &eng);
    if (code == 0)
        code = make_params("build", &o->idx, o->idx.type, base.dim, &p);
    if (code == 0) {
        progress(&pr, "building %s index of %zu x %zu...", type_name(o->idx.type), base.n,
                 base.dim);
        double t0 = now_seconds();
        /* codes-only with a target of the caller's and bits left open: the
         * narrowest code that reaches it, or the refusal that says none does */
        const int fewest = o->idx.has_target && !o->idx.has_bits && p.target_recall > 0.0f &&
                           (p.type == RUV_INDEX_RABITQ || p.type == RUV_INDEX_RABITQ_ASYM);
        int rc = fewest ? ruv_index_build_fewest_bits(eng, &p, base.data, base.n, NULL, &idx)
                        : ruv_index_build(eng, &p, base.data, base.n, NULL, &idx);
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
