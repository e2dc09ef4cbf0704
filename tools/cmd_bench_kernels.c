/* ruvector bench-kernels: throughput of every kernel this CPU can run, next
 * to the machine's streaming read bandwidth, so each figure reads as a
 * fraction of the hardware limit. For people, not CI: timings are noisy. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/ruvector.h>

#include "cli_engine.h"
#include "cli_messages.h"
#include "cli_util.h"
#include "commands.h"

static void *alloc_filled(size_t bytes, uint64_t seed)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes ? bytes : 64) != 0)
        return NULL;
    /* Touch and fill every page so page faults stay out of the timings. */
    uint64_t s = seed;
    unsigned char *c = p;
    for (size_t i = 0; i + 8 <= bytes; i += 8) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        uint32_t f = (uint32_t)(s >> 41) | 0x3f000000u; /* finite floats in [0.5, 1) */
        uint64_t w = ((uint64_t)f << 32) | f;
        memcpy(c + i, &w, 8);
    }
    return p;
}

struct bench_ctx {
    const struct ruv_kernel_ops *k;
    float *q, *rows, *out;
    uint64_t *codes, *planes;
    uint32_t *u32;
    uint8_t *fs, *lut;
    uint16_t *u16, *halves;
    float *q384;     /* a D = 384 query, float and int16, for the whole-code dots */
    int16_t *qi384;
    size_t n;
};

typedef void (*bench_fn)(struct bench_ctx *c);

static void run_l2sq(struct bench_ctx *c) { c->k->l2sq_f32_1xN(c->q, c->rows, 128, 128, c->n, c->out); }
/* The flat index's fused scans, with thresholds no row passes (rows and
 * query in [0.5, 1)): the scan alone, as FlatF32Index runs it from DRAM. */
static void run_below(struct bench_ctx *c)
{
    (void)c->k->l2sq_f32_1xN_below(c->q, c->rows, 128, 128, c->n, 0.0f, c->u32, c->out);
}
static void run_above(struct bench_ctx *c)
{
    (void)c->k->dot_f32_1xN_above(c->q, c->rows, 128, 128, c->n, 1e30f, c->u32, c->out);
}
static void run_f16(struct bench_ctx *c)
{
    c->k->dot_f16_1xN(c->q, c->halves, 128, 128, c->n, c->out);
}
static void run_xor(struct bench_ctx *c) { c->k->xor_popcnt_1xN(c->planes, c->codes, 2, c->n, c->u32); }
static void run_bitplane(struct bench_ctx *c)
{
    c->k->bitplane_dot_1xN(c->planes, 4, c->codes, 2, c->n, c->u32);
}
static void run_fastscan(struct bench_ctx *c) { c->k->fastscan_u8(c->fs, 32, c->n / 32, c->lut, c->u16); }
static void run_fht(struct bench_ctx *c)
{
    for (size_t i = 0; i < c->n; i++)
        c->k->fht_f32(c->rows + (i % 64) * 1024, 1024);
}
/* Extended RaBitQ's whole-code look: one call per 384-byte code, codes in
 * a row (the search reads them sparsely, prefetched), against the float
 * query (the old form) and the int16 one (what the search calls for bits
 * 5..8; bits <= 4 take the packed form below). */
enum { WHOLE_D = 384 };
static void run_whole_f32(struct bench_ctx *c)
{
    const uint8_t *codes = (const uint8_t *)c->codes;
    float s = 0.0f;
    for (size_t i = 0; i < c->n; i++)
        s += c->k->dot_u8_f32(codes + i * WHOLE_D, c->q384, WHOLE_D);
    volatile float sink = s;
    (void)sink;
}
static void run_whole_i16(struct bench_ctx *c)
{
    const uint8_t *codes = (const uint8_t *)c->codes;
    int64_t s = 0;
    for (size_t i = 0; i < c->n; i++)
        s += c->k->dot_u8_i16(codes + i * WHOLE_D, c->qi384, WHOLE_D);
    volatile int64_t sink = s;
    (void)sink;
}

/* The same codes at 4 bits, two dimensions a byte (192 bytes a code). */
static void run_whole_u4(struct bench_ctx *c)
{
    const uint8_t *codes = (const uint8_t *)c->codes;
    int64_t s = 0;
    for (size_t i = 0; i < c->n; i++)
        s += c->k->dot_u4_i16(codes + i * (WHOLE_D / 2), c->qi384, WHOLE_D);
    volatile int64_t sink = s;
    (void)sink;
}

static void run_dot_stream(struct bench_ctx *c)
{
    volatile float sink = c->k->dot_f32(c->rows, c->rows, c->n);
    (void)sink;
}

/* Best of `reps` timings, each repeating fn for at least min_s seconds. */
static double best_seconds(bench_fn fn, struct bench_ctx *c, double min_s, int reps)
{
    fn(c); /* warm-up */
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        long iters = 0;
        double t0 = now_seconds(), t;
        do {
            fn(c);
            iters++;
            t = now_seconds() - t0;
        } while (t < min_s);
        if (t / (double)iters < best)
            best = t / (double)iters;
    }
    return best;
}

struct bench_case {
    const char *name;
    bench_fn fn;
    size_t n;
    double bytes_per_item; /* bytes streamed per row/code (for GB/s) */
    const char *unit;      /* what an item is */
    const char *where;
};

int cmd_bench_kernels(int argc, char **argv)
{
    int quick = 0, json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            quick = 1;
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            puts("usage: ruvector bench-kernels [--quick] [--json]\n"
                 "Times each kernel the CPU can run (D=128 unless named) on 1 thread,\n"
                 "L2-resident and DRAM-resident, next to the streaming read bandwidth of\n"
                 "this machine.\n"
                 "Run it pinned for stable numbers: taskset -c 0 ruvector bench-kernels");
            return 0;
        } else {
            fprintf(stderr, "ruvector bench-kernels: unknown option '%s'\n", argv[i]);
            return 2;
        }
    }
    const double min_s = quick ? 0.02 : 0.2;
    const int reps = quick ? 2 : 5;
    const size_t big_rows = quick ? (size_t)1 << 17 : (size_t)1 << 20; /* 64 MiB / 512 MiB */
    const size_t big_codes = quick ? (size_t)1 << 20 : (size_t)1 << 23; /* 16 / 128 MiB */

    struct bench_ctx c;
    memset(&c, 0, sizeof c);
    c.q = alloc_filled(128 * sizeof(float), 1);
    c.rows = alloc_filled(big_rows * 128 * sizeof(float), 2);
    c.out = alloc_filled(big_rows * sizeof(float), 3);
    c.codes = alloc_filled(big_codes * 16, 4);
    c.planes = alloc_filled(4 * 16, 5);
    c.u32 = alloc_filled(big_codes * sizeof(uint32_t), 6);
    c.fs = alloc_filled(big_codes / 32 * 32 * 16, 7);
    c.lut = alloc_filled(32 * 16, 8);
    c.u16 = alloc_filled(big_codes * sizeof(uint16_t), 9);
    c.halves = alloc_filled(4096 * 128 * sizeof(uint16_t), 10);
    c.q384 = alloc_filled(WHOLE_D * sizeof(float), 11);
    c.qi384 = alloc_filled(WHOLE_D * sizeof(int16_t), 12); /* any int16 is a valid query */
    if (!c.q || !c.rows || !c.out || !c.codes || !c.planes || !c.u32 || !c.fs || !c.lut || !c.u16 ||
        !c.halves || !c.q384 || !c.qi384) {
        fprintf(stderr, "ruvector bench-kernels: out of memory\n");
        return 1;
    }

    for (size_t i = 0; i < 4096 * 128; i++) /* binary16 values in [1, 2): finite */
        c.halves[i] = (uint16_t)(0x3c00u | (i * 37u & 0x3ffu));

    /* Reference: streaming read bandwidth, one thread, through the selected
     * kernel's dot_f32(a, a) (one stream: the second operand hits L1). */
    ruv_engine *eng = NULL;
    int rc = cli_open_engine(NULL, &eng);
    if (rc != RUV_OK)
        return cli_fail(rc);
    c.k = ruv_engine_kernel(eng);
    c.n = big_rows * 128;
    double bw_dram = (double)c.n * 4 / best_seconds(run_dot_stream, &c, min_s, reps) / 1e9;
    c.n = 1 << 17; /* 512 KiB */
    double bw_l2 = (double)c.n * 4 / best_seconds(run_dot_stream, &c, min_s, reps) / 1e9;
    char *report = NULL;
    ruv_engine_report(eng, &report);
    const char *selected = ruv_engine_kernel_name(eng);
    if (json)
        printf("{\"bandwidth_gbs\":{\"dram\":%.2f,\"l2\":%.2f,\"kernel\":\"%s\"},\"results\":[",
               bw_dram, bw_l2, selected);
    else
        printf("streaming read bandwidth, 1 thread (dot_f32 of the %s kernel): "
               "DRAM %.1f GB/s (%zu MiB), L2 %.1f GB/s (512 KiB)\n\n"
               "%-8s %-34s %10s %12s %12s %8s\n",
               selected, bw_dram, big_rows * 512 >> 20, bw_l2, "kernel",
               "benchmark (D=128 unless named)",
               "n", "items/s", "GB/s", "% of BW");

    const struct bench_case cases[] = {
        {"l2sq_f32_1xN", run_l2sq, 2048, 512, "rows", "L2"},
        {"l2sq_f32_1xN", run_l2sq, big_rows, 512, "rows", "DRAM"},
        {"l2sq_f32_1xN_below (flat L2)", run_below, big_rows, 512, "rows", "DRAM"},
        {"dot_f32_1xN_above (flat IP)", run_above, big_rows, 512, "rows", "DRAM"},
        /* the IVF probe: 1,000 centroids, f32 against their binary16 copy */
        {"l2sq_f32_1xN (probe)", run_l2sq, 1000, 512, "rows", "L2"},
        {"dot_f16_1xN (probe)", run_f16, 1000, 256, "rows", "L2"},
        {"xor_popcnt_1xN (1-bit)", run_xor, 10000, 16, "codes", "L2"},
        {"xor_popcnt_1xN (1-bit)", run_xor, big_codes, 16, "codes", "DRAM"},
        {"bitplane_dot_1xN (4-bit q)", run_bitplane, 10000, 16, "codes", "L2"},
        {"fastscan_u8 (nsub=32)", run_fastscan, 10016, 16, "codes", "L2"},
        {"fht_f32 (n=1024)", run_fht, 64, 4096, "transforms", "L1/L2"},
        /* big_codes * 16 bytes hold big_codes / 24 codes of 384 bytes */
        {"dot_u8_f32 (D=384 codes)", run_whole_f32, 1000, WHOLE_D, "codes", "L2"},
        {"dot_u8_i16 (D=384 codes)", run_whole_i16, 1000, WHOLE_D, "codes", "L2"},
        {"dot_u4_i16 (D=384 codes)", run_whole_u4, 1000, WHOLE_D / 2, "codes", "L2"},
        {"dot_u8_f32 (D=384 codes)", run_whole_f32, big_codes / 24, WHOLE_D, "codes", "DRAM"},
        {"dot_u8_i16 (D=384 codes)", run_whole_i16, big_codes / 24, WHOLE_D, "codes", "DRAM"},
        {"dot_u4_i16 (D=384 codes)", run_whole_u4, big_codes / 12, WHOLE_D / 2, "codes", "DRAM"},
    };
    /* "mixed": the engine's own table when its slots come from more than
     * one plugin (it should match the best row of every benchmark). */
    static const char *const kernels[] = {"scalar", "avx2", "avx512", "neon", "mixed"};
    int mixed = 0;
    for (size_t i = 0; i < ruv_kernel_slot_count(); i++) {
        ruv_kernel_slot_info si;
        if (ruv_engine_kernel_slot(eng, i, &si) == RUV_OK &&
            strcmp(si.kernel, ruv_engine_kernel_name(eng)) != 0)
            mixed = 1;
    }
    int first = 1;
    for (size_t kk = 0; kk < sizeof kernels / sizeof kernels[0]; kk++) {
        ruv_engine *ke = NULL;
        if (!strcmp(kernels[kk], "mixed")) {
            if (!mixed)
                continue;
        } else if (cli_open_engine(kernels[kk], &ke) != RUV_OK) {
            if (!json)
                printf("%-8s skipped: %s\n", kernels[kk], ruv_last_error());
            continue;
        }
        c.k = ruv_engine_kernel(ke ? ke : eng);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            const struct bench_case *b = &cases[i];
            c.n = b->n;
            double s = best_seconds(b->fn, &c, min_s, reps);
            double items = (double)b->n / s;
            double gbs = items * b->bytes_per_item / 1e9;
            double ref = !strcmp(b->where, "DRAM") ? bw_dram : bw_l2;
            if (json) {
                printf("%s{\"kernel\":\"%s\",\"benchmark\":\"%s\",\"where\":\"%s\",\"n\":%zu,"
                       "\"items_per_s\":%.4g,\"unit\":\"%s\",\"gbs\":%.3f,\"pct_bw\":%.1f}",
                       first ? "" : ",", kernels[kk], b->name, b->where, b->n, items, b->unit,
                       gbs, 100 * gbs / ref);
                first = 0;
            } else {
                char label[64];
                snprintf(label, sizeof label, "%s, %s", b->name, b->where);
                printf("%-8s %-34s %10zu %9.3g %-2s %12.2f %7.0f%%\n", kernels[kk], label, b->n,
                       items, b->unit[0] == 'r' ? "r" : b->unit[0] == 'c' ? "c" : "t", gbs,
                       100 * gbs / ref);
            }
        }
        ruv_engine_close(ke);
    }
    if (json)
        printf("],\"engine\":%s}\n", report ? report : "null");
    else {
        printf("\nitems: r = rows, c = codes, t = transforms. %% of BW compares with the DRAM or\n"
               "L2 bandwidth above (L2 for cache-resident cases). \"mixed\" is the engine's own\n"
               "table when its slots come from several plugins; slot by slot:\n");
        cli_print_kernel_slots(eng);
    }
    ruv_free(report);
    ruv_engine_close(eng);
    free(c.q); free(c.rows); free(c.out); free(c.codes); free(c.planes);
    free(c.u32); free(c.fs); free(c.lut); free(c.u16); free(c.halves); free(c.q384); free(c.qi384);
    return 0;
}
