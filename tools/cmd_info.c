/* ruvector info: what the engine decided at open, and why. */
#include <stdio.h>
#include <string.h>

#include <ruvector/ruvector.h>

#include "cli_engine.h"
#include "cli_messages.h"
#include "commands.h"

static void print_isa(const char *label, uint64_t bits)
{
    printf("%-13s", label);
    int any = 0;
    for (int i = 0; i < 64; i++) {
        uint64_t bit = UINT64_C(1) << i;
        const char *n = (bits & bit) ? ruv_isa_name(bit) : NULL;
        if (n && bit != RUV_ISA_TEST_IMPOSSIBLE) {
            printf(" %s", n);
            any = 1;
        }
    }
    puts(any ? "" : " (none)");
}

static uint64_t arch_bits(void)
{
    uint64_t arm = RUV_ISA_AARCH64_BITS;
    uint64_t known = ruv_isa_known() & ~RUV_ISA_TEST_IMPOSSIBLE;
#if defined(__aarch64__)
    return known & arm;
#else
    return known & ~arm;
#endif
}

static void print_human(const ruv_engine *eng)
{
    ruv_topology t;
    ruv_topology_get(&t);
    const char *model = ruv_cpu_model();
    printf("ruvector %s\n\n", ruv_version_string());
    printf("CPU          %s\n", *model ? model : "(unknown model)");
    printf("topology     %u cores, %u logical CPUs, L1d %zu KiB, L2 %zu KiB, L3 %zu MiB (%s)\n",
           t.cores, t.pus, t.l1d_bytes >> 10, t.l2_bytes >> 10, t.l3_bytes >> 20,
           ruv_topology_source());
    uint64_t isa = ruv_cpu_isa();
    print_isa("ISA found", isa);
    print_isa("ISA missing", arch_bits() & ~isa);

    const char *src = ruv_engine_kernel_source(eng);
    printf("\nkernel       %s (%s)\n", ruv_engine_kernel_name(eng),
           !strcmp(src, "auto") ? "auto: highest priority of the kernels that loaded and passed "
                                  "conformance checks"
           : !strcmp(src, "env") ? "forced by RUVECTOR_KERNEL"
                                 : "forced by the API");
    cli_print_kernel_slots(eng);

    printf("blas         %s\n", ruv_engine_blas(eng));
    printf("\nplugins\n  %-10s %-8s %-11s %4s  %s\n", "name", "kind", "state", "prio",
           "file / reason");
    size_t n = ruv_engine_plugin_count(eng);
    for (size_t i = 0; i < n; i++) {
        ruv_plugin_info p;
        if (ruv_engine_plugin_info(eng, i, &p) != RUV_OK)
            continue;
        const char *kind = p.kind == 1 ? "kernel" : p.kind == 2 ? "feature" : "-";
        int sel = !strcmp(p.name, ruv_engine_kernel_name(eng));
        printf("%c %-10s %-8s %-11s %4d  ", sel ? '*' : ' ', p.name, kind,
               ruv_plugin_state_name(p.state), p.priority);
        if (*p.file)
            printf("%s\n  %-10s %-8s %-11s %4s  ", p.file, "", "", "", "");
        printf("%s\n", p.reason);
    }

    printf("\nsettings\n");
    for (size_t i = 0; ruv_setting_name(i); i++) {
        const char *key = ruv_setting_name(i), *v = NULL, *s = NULL;
        if (ruv_engine_setting(eng, key, &v, &s) == RUV_OK)
            printf("  %-12s %s (%s)\n", key, *v ? v : "\"\"", s);
    }
}

/* The calibration curve search(..., recall=R) reads: "nprobe:mean/bound"
 * per point (the bound "-" in files from before it). */
static void print_curve(const ruv_index *idx)
{
    uint32_t np[64];
    float mean[64], lower[64];
    const size_t n = ruv_index_calibration_curve(idx, np, mean, lower, 64);
    if (!n)
        return;
    printf("curve        recall@10 mean/95%% lower bound by nprobe:");
    for (size_t i = 0; i < n && i < 64; i++) {
        if (lower[i] < 0.0f)
            printf(" %u:%.3f/-", np[i], (double)mean[i]);
        else
            printf(" %u:%.3f/%.3f", np[i], (double)mean[i], (double)lower[i]);
    }
    printf("\n");
}

/* ruvector info FILE: the parameters a file holds and what its build chose. */
static int print_index_file(ruv_engine *eng, const char *path)
{
    ruv_index *idx = NULL;
    int rc = ruv_index_load(eng, path, &idx);
    if (rc != RUV_OK)
        return rc;
    const ruv_index_params *p = ruv_index_params_get(idx);
    char plan[1024], probing[1024];
    ruv_index_describe_plan(idx, plan, sizeof plan);
    ruv_index_describe_probing(idx, probing, sizeof probing);
    printf("index        %s\n", path);
    printf("vectors      %zu x %u\n", ruv_index_len(idx), p->dim);
    printf("type         %s, metric %s\n", ruv_index_type_name((int)p->type),
           ruv_metric_name((int)p->metric));
    if (p->type != RUV_INDEX_FLAT_F32)
        printf("params       bits %u, nlist %u, nprobe %u, query_bits %u, rerank_factor %u, "
               "epsilon %g, seed %llu\n",
               p->bits, p->nlist, p->nprobe, p->query_bits, p->rerank_factor, (double)p->epsilon,
               (unsigned long long)p->seed);
    printf("plan         %s\n", plan);
    print_curve(idx);
    printf("probing      %s\n", probing);
    printf("memory       %zu bytes\n", ruv_index_memory_bytes(idx));
    ruv_index_free(idx);
    return RUV_OK;
}

int cmd_info(int argc, char **argv)
{
    int json = 0;
    const char *file = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            puts("usage: ruvector info [--json] [INDEX-FILE]\n"
                 "Opens an engine and prints the CPU, every plugin with its state and reason,\n"
                 "the selected kernel and how it was chosen, and every setting's source.\n"
                 "With an index file: its parameters and what its build planned and measured.");
            return 0;
        } else if (argv[i][0] != '-' && !file) {
            file = argv[i];
        } else {
            fprintf(stderr, "ruvector info: unknown option '%s'\n", argv[i]);
            return 2;
        }
    }
    ruv_engine *eng = NULL;
    int rc = cli_open_engine(NULL, &eng);
    if (rc != RUV_OK)
        return cli_fail(rc);
    if (file) {
        rc = print_index_file(eng, file);
        ruv_engine_close(eng);
        return rc == RUV_OK ? 0 : cli_fail(rc);
    }
    if (json) {
        char *s = NULL;
        rc = ruv_engine_report(eng, &s);
        if (rc == RUV_OK)
            fputs(s, stdout);
        ruv_free(s);
    } else {
        print_human(eng);
    }
    ruv_engine_close(eng);
    return rc == RUV_OK ? 0 : cli_fail(rc);
}
