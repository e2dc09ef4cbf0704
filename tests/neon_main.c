/* NEON kernel check, cross-compiled and run under qemu-aarch64 by
 * tests/neon-qemu.sh: probes the ISA, checks the plugin descriptor, runs the
 * loader's conformance check against the scalar oracle, then checks what the
 * conformance sizes cannot reach: long inputs (byte-counter overflow) and
 * inputs that end right before an unmapped page (reads past the end).
 *
 * Usage: neon_main [+NAME|-NAME]...  where NAME is NEON, ASIMDDP or SVE:
 * require (+) or forbid (-) that bit in the probe, so the script can prove
 * the probe reads the emulated CPU rather than a constant. Exit 0 or 1. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <ruvector/cpu.h>
#include <ruvector/kernel.h>
#include <ruvector/plugin.h>

#include "cpu/isa.h"
#include "plugin/conform.h"
#include "plugin/kernels.h"

/* This binary links only the kernels, the conformance check and the probe. */
const struct ruv_plugin *ruv_plugin_neon(void);

static const struct {
    const char *name;
    uint64_t bit;
} ISA[] = {{"NEON", RUV_ISA_NEON}, {"ASIMDDP", RUV_ISA_ASIMDDP}, {"SVE", RUV_ISA_SVE}};
#define NISA (sizeof ISA / sizeof ISA[0])

static uint64_t isa_bit(const char *name)
{
    for (size_t i = 0; i < NISA; i++)
        if (strcmp(ISA[i].name, name) == 0)
            return ISA[i].bit;
    return 0;
}

static uint64_t rng_state = UINT64_C(0x243F6A8885A308D3);

static uint64_t rng(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * UINT64_C(0x2545F4914F6CDD1D);
}

/* Bit kernels on long strings: runs of more than 31 (u8) or 1023 (u16)
 * vector steps, which the conformance sizes (<= 16 words) never reach. All
 * ones is the worst case for every counter width. */
static int check_long_bits(const struct ruv_kernel_ops *ops, const struct ruv_kernel_ops *ref)
{
    static const size_t WORDS[] = {61, 62, 63, 64, 65, 200, 4095, 8193};
    enum { ROWS = 6, MAXW = 8193, PLANES = 16 };
    uint64_t *q = malloc(sizeof(uint64_t) * PLANES * MAXW);
    uint64_t *c = malloc(sizeof(uint64_t) * ROWS * MAXW);
    int bad = 0;
    if (!q || !c) {
        fprintf(stderr, "out of memory\n");
        free(q);
        free(c);
        return 1;
    }
    for (int ones = 0; ones < 2 && !bad; ones++) {
        for (size_t i = 0; i < (size_t)PLANES * MAXW; i++)
            q[i] = ones ? ~UINT64_C(0) : rng();
        for (size_t i = 0; i < (size_t)ROWS * MAXW; i++)
            c[i] = ones ? ~UINT64_C(0) : rng();
        if (ones) /* XOR of all-ones is zero: make the XOR side saturate too */
            memset(q, 0, sizeof(uint64_t) * MAXW);
        for (size_t k = 0; k < sizeof WORDS / sizeof WORDS[0] && !bad; k++) {
            size_t words = WORDS[k];
            uint32_t a[ROWS], b[ROWS];
            ops->xor_popcnt_1xN(q, c, words, ROWS, a);
            ref->xor_popcnt_1xN(q, c, words, ROWS, b);
            for (int r = 0; r < ROWS; r++)
                if (a[r] != b[r]) {
                    fprintf(stderr, "long xor_popcnt_1xN words=%zu row %d: got %u want %u\n",
                            words, r, a[r], b[r]);
                    bad = 1;
                }
            ops->bitplane_dot_1xN(q, PLANES, c, words, ROWS, a);
            ref->bitplane_dot_1xN(q, PLANES, c, words, ROWS, b);
            for (int r = 0; r < ROWS; r++)
                if (a[r] != b[r]) {
                    fprintf(stderr, "long bitplane_dot_1xN words=%zu row %d: got %u want %u\n",
                            words, r, a[r], b[r]);
                    bad = 1;
                }
            /* up to ROWS * 8193 words: past the 1023-step u16 chunk */
            const size_t lens[3] = {words, ROWS * words - 1, ROWS * words};
            for (int l = 0; l < 3; l++) {
                uint64_t x = ops->popcnt_u64(c, lens[l]), y = ref->popcnt_u64(c, lens[l]);
                if (x != y) {
                    fprintf(stderr, "long popcnt_u64 words=%zu: got %llu want %llu\n", lens[l],
                            (unsigned long long)x, (unsigned long long)y);
                    bad = 1;
                }
            }
        }
    }
    free(q);
    free(c);
    return bad;
}

/* Every input ends exactly at a page followed by an inaccessible one, so a
 * kernel that loads a full vector past its tail faults instead of passing. */
struct guarded {
    unsigned char *map;
    size_t len;
};

static void *guard_end(struct guarded *g, size_t bytes, long page)
{
    size_t span = (bytes + (size_t)page - 1) / (size_t)page * (size_t)page;
    g->len = span + (size_t)page;
    g->map = mmap(NULL, g->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g->map == MAP_FAILED)
        return NULL;
    if (mprotect(g->map + span, (size_t)page, PROT_NONE) != 0)
        return NULL;
    return g->map + span - bytes;
}

static int check_tails(const struct ruv_kernel_ops *ops, const struct ruv_kernel_ops *ref)
{
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0)
        page = 4096;
    int bad = 0;
    for (size_t n = 0; n <= 37 && !bad; n++) {
        struct guarded ga, gb, gc, gq, gf, gl, gi;
        float *a = guard_end(&ga, n * sizeof(float), page);
        float *b = guard_end(&gb, 5 * n * sizeof(float), page); /* 5 rows, stride n */
        uint64_t *codes = guard_end(&gc, 5 * n * sizeof(uint64_t), page);
        uint64_t *planes = guard_end(&gq, 16 * n * sizeof(uint64_t), page);
        uint8_t *fs = guard_end(&gf, (n ? n : 1) * 16, page); /* one block, nsub = max(n,1) */
        uint8_t *lut = guard_end(&gl, (n ? n : 1) * 16, page);
        int16_t *qi = guard_end(&gi, n * sizeof(int16_t), page);
        if (!a || !b || !codes || !planes || !fs || !lut || !qi) {
            fprintf(stderr, "mmap failed\n");
            return 1;
        }
        for (size_t i = 0; i < n; i++)
            a[i] = (float)(rng() % 7) - 3.0f;
        for (size_t i = 0; i < 5 * n; i++) {
            b[i] = (float)(rng() % 7) - 3.0f;
            codes[i] = rng();
        }
        for (size_t i = 0; i < 16 * n; i++)
            planes[i] = rng();
        for (size_t i = 0; i < n; i++)
            qi[i] = (int16_t)(uint16_t)rng();
        for (size_t i = 0; i < (n ? n : 1) * 16; i++) {
            fs[i] = (uint8_t)rng();
            lut[i] = (uint8_t)rng();
        }
        float o[5], p[5];
        uint32_t u[5], v[5], idx[5];
        (void)ops->dot_f32(a, b + 4 * n, n);
        (void)ops->l2sq_f32(a, b + 4 * n, n);
        (void)ops->cos_f32(a, b + 4 * n, n);
        ops->dot_f32_1xN(a, b, n, n, 5, o);
        ops->l2sq_f32_1xN(a, b, n, n, 5, o);
        (void)ops->l2sq_f32_1xN_below(a, b, n, n, 5, 1e30f, idx, p);
        (void)ops->dot_f32_1xN_above(a, b, n, n, 5, -1e30f, idx, p);
        ops->xor_popcnt_1xN(codes + 4 * n, codes, n, 5, u);
        ref->xor_popcnt_1xN(codes + 4 * n, codes, n, 5, v);
        bad |= memcmp(u, v, sizeof u) != 0;
        ops->bitplane_dot_1xN(planes, 16, codes, n, 5, u);
        ref->bitplane_dot_1xN(planes, 16, codes, n, 5, v);
        bad |= memcmp(u, v, sizeof u) != 0;
        bad |= ops->popcnt_u64(codes + 4 * n, n) != ref->popcnt_u64(codes + 4 * n, n);
        uint16_t s[RUV_FASTSCAN_BLOCK], t[RUV_FASTSCAN_BLOCK];
        ops->fastscan_u8(fs, n ? n : 1, 1, lut, s);
        ref->fastscan_u8(fs, n ? n : 1, 1, lut, t);
        bad |= memcmp(s, t, sizeof s) != 0;
        /* the whole-code dot over the last n bytes of fs: both operands end
         * at a guard page */
        const uint8_t *ub = fs + (n ? n : 1) * 16 - n;
        bad |= ops->dot_u8_i16(ub, qi, n) != ref->dot_u8_i16(ub, qi, n);
        /* packed: n / 32 blocks, 16 bytes each, ending at the guard page */
        const size_t nb = n / 32 * 32;
        const uint8_t *pb = fs + (n ? n : 1) * 16 - nb / 2;
        bad |= ops->dot_u4_i16(pb, qi + (n - nb), nb) != ref->dot_u4_i16(pb, qi + (n - nb), nb);
        if (n && (n & (n - 1)) == 0)
            ops->fht_f32(a, n);
        if (bad)
            fprintf(stderr, "guarded tails: mismatch at n=%zu\n", n);
        munmap(ga.map, ga.len);
        munmap(gb.map, gb.len);
        munmap(gc.map, gc.len);
        munmap(gq.map, gq.len);
        munmap(gf.map, gf.len);
        munmap(gl.map, gl.len);
        munmap(gi.map, gi.len);
    }
    return bad;
}

int main(int argc, char **argv)
{
    uint64_t isa = ruv__probe_isa_aarch64();
    printf("probed isa: 0x%016llx", (unsigned long long)isa);
    for (size_t i = 0; i < NISA; i++)
        if (isa & ISA[i].bit)
            printf(" %s", ISA[i].name);
    printf("\n");

    int bad = 0;
    for (int i = 1; i < argc; i++) {
        uint64_t bit = (argv[i][0] == '+' || argv[i][0] == '-') ? isa_bit(argv[i] + 1) : 0;
        if (!bit) {
            fprintf(stderr, "usage: %s [+NAME|-NAME]... (NAME: NEON ASIMDDP SVE)\n", argv[0]);
            return 2;
        }
        int want = argv[i][0] == '+';
        if (!!(isa & bit) != want) {
            fprintf(stderr, "probe: %s expected %s\n", argv[i] + 1, want ? "present" : "absent");
            bad = 1;
        }
    }

    const struct ruv_plugin *d = ruv_plugin_neon();
    if (!d || d->struct_size < RUV_PLUGIN_SIZE_V1 || d->abi != RUV_PLUGIN_ABI || !d->name ||
        strcmp(d->name, "neon") != 0 || d->kind != RUV_PLUGIN_KERNEL || d->flags != 0 ||
        !d->ops) {
        fprintf(stderr, "descriptor: bad abi/name/kind/flags/ops\n");
        return 1;
    }
    printf("descriptor: %s %s priority %d requires 0x%016llx\n", d->name,
           d->version ? d->version : "(null)", (int)d->priority,
           (unsigned long long)d->requires_isa);
    if ((d->requires_isa & isa) != d->requires_isa) {
        fprintf(stderr, "descriptor: requires_isa not satisfied by the probe\n");
        return 1;
    }

    const struct ruv_kernel_ops *ops = d->ops;
    char why[512] = "";
    if (ruv__conform_check(ops, &ruv__kernel_scalar_ops, why, sizeof why) != 0) {
        printf("neon conformance: FAILED: %s\n", why);
        return 1;
    }
    unsigned slots = ruv__conform_slots_checked();
    printf("neon conformance: %u slots passed\n", slots);
    if (slots != 16) {
        fprintf(stderr, "expected all 16 slots to be provided\n");
        bad = 1;
    }

    if (check_long_bits(ops, &ruv__kernel_scalar_ops) != 0)
        bad = 1;
    else
        printf("neon long bit strings: ok\n");
    if (check_tails(ops, &ruv__kernel_scalar_ops) != 0)
        bad = 1;
    else
        printf("neon guarded tails: ok\n");
    return bad ? 1 : 0;
}
