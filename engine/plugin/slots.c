/* Per-slot kernel selection. Every kernel plugin that loaded has passed the
 * same conformance check against the scalar reference, so any of them may
 * supply any slot; priority alone assumes the widest is fastest, which is
 * not so on CPUs that split 512-bit operations in two. Where two plugins
 * supply a slot, a short race on a fixed, cache-resident workload decides,
 * and a rival must win by a margin so that noise does not move slots. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ruvector/error.h>
#include <ruvector/kernel.h>
#include <ruvector/plugin.h>

#include "base/error.h"
#include "base/splitmix.h"
#include "plugin/kernels.h"
#include "plugin/plugins.h"

static int prefer(const struct ruv__plugin_rec *a, const struct ruv__plugin_rec *b)
{
    return a->priority > b->priority || (a->priority == b->priority && strcmp(a->name, b->name) < 0);
}

void ruv__slots_init(struct ruv__plugin_set *set, int forced)
{
    struct ruv__slot_table *t = &set->slots;
    memset(t, 0, sizeof *t);
    t->racers[t->nracers++] = set->selected;
    for (size_t i = 0; i < set->nrecs && !forced; i++) {
        const struct ruv__plugin_rec *r = set->recs[i];
        if (i == set->selected || r->kind != RUV_PLUGIN_KERNEL || r->state != RUV_PLUGIN_LOADED ||
            !r->desc || t->nracers == RUV__MAX_RACERS)
            continue; /* !desc: the built-in scalar kernel, the fill of every table */
        size_t at = t->nracers++;
        while (at > 1 && prefer(r, set->recs[t->racers[at - 1]])) {
            t->racers[at] = t->racers[at - 1];
            at--;
        }
        t->racers[at] = i;
    }
    t->ops = set->recs[set->selected]->effective;
    for (size_t s = 0; s < RUV__SLOT_COUNT; s++) {
        t->supplier[s] = set->selected;
        t->how[s] = forced ? RUV__SLOT_FORCED : RUV__SLOT_PRIORITY;
    }
}

/* Racer r's own function for slot s: the preferred racer runs what its
 * table holds (its own or the scalar fill); a rival only what it supplies. */
static ruv__slot_fn racer_fn(const struct ruv__plugin_set *set, size_t r, size_t s)
{
    const struct ruv__plugin_rec *rec = set->recs[set->slots.racers[r]];
    if (r == 0)
        return ruv__kernel_slot_get(&rec->effective, s);
    ruv__slot_fn own = rec->desc ? ruv__kernel_slot_get(rec->desc->ops, s) : NULL;
    ruv__slot_fn first = ruv__kernel_slot_get(&set->recs[set->slots.racers[0]]->effective, s);
    return own && own != first ? own : NULL;
}

int ruv__slot_contested(const struct ruv__plugin_set *set, size_t s)
{
    for (size_t r = 1; r < set->slots.nracers; r++)
        if (racer_fn(set, r, s))
            return 1;
    return 0;
}

/* ---- the race ---- */

/* The whole-code slots run as the search calls them, one code of WHOLE_D
 * elements at a time: one 4,096-element call hid their per-call cost, and
 * on a Zen 4 machine the race then gave dot_u4_i16 to the plugin that was
 * slower at D = 384. */
enum { DIM = 128, ROWS = 256, CODES = 4096, WORDS = 2, FS_NSUB = 32, FS_BLOCKS = 64,
       FHT_N = 1024, LONG_N = 4096, WHOLE_D = 384, WHOLE_CODES = LONG_N / WHOLE_D };

struct workload {
    float *a, *b, *rows, *fht, *fht_src, *out;
    uint64_t *codes, *planes;
    uint32_t *u32, *idx;
    uint8_t *fs, *lut, *bytes;
    uint16_t *u16, *halves;
    int16_t *i16;
};

static void free_workload(struct workload *w)
{
    free(w->a); free(w->b); free(w->rows); free(w->fht); free(w->fht_src); free(w->out);
    free(w->codes); free(w->planes); free(w->u32); free(w->idx); free(w->fs); free(w->lut);
    free(w->bytes); free(w->u16); free(w->halves); free(w->i16);
}

/* Buffers on 64-byte boundaries, as the indexes hand them to the kernels
 * (queries, codes and rows are 64-byte aligned there): malloc's 16-byte
 * alignment split every 512-bit load across two cache lines and made the
 * avx512 plugin lose whole-code races it wins in a search. */
static void *walloc(size_t bytes)
{
    return aligned_alloc(64, (bytes + 63) / 64 * 64);
}

static int make_workload(struct workload *w)
{
    memset(w, 0, sizeof *w);
    w->a = walloc(LONG_N * sizeof(float));
    w->b = walloc(LONG_N * sizeof(float));
    w->rows = walloc((size_t)ROWS * DIM * sizeof(float));
    w->fht = walloc(FHT_N * sizeof(float));
    w->fht_src = walloc(FHT_N * sizeof(float));
    w->out = walloc(ROWS * sizeof(float));
    w->codes = walloc((size_t)CODES * WORDS * sizeof(uint64_t));
    w->planes = walloc(4 * WORDS * sizeof(uint64_t));
    w->u32 = walloc(CODES * sizeof(uint32_t));
    w->idx = walloc(ROWS * sizeof(uint32_t));
    w->fs = walloc((size_t)FS_BLOCKS * FS_NSUB * 16);
    w->lut = walloc(FS_NSUB * 16);
    w->bytes = walloc(LONG_N);
    w->u16 = walloc((size_t)FS_BLOCKS * RUV_FASTSCAN_BLOCK * sizeof(uint16_t));
    w->halves = walloc((size_t)ROWS * DIM * sizeof(uint16_t));
    w->i16 = walloc(LONG_N * sizeof(int16_t));
    if (!w->i16 || !w->a || !w->b || !w->rows || !w->fht || !w->fht_src || !w->out || !w->codes ||
        !w->planes || !w->u32 || !w->idx || !w->fs || !w->lut || !w->bytes || !w->u16 ||
        !w->halves) {
        free_workload(w);
        return ruv__set_error(RUV_E_NOMEM, "kernel slot race: out of memory");
    }
    uint64_t seed = 14;
    for (size_t i = 0; i < LONG_N; i++) {
        w->a[i] = (float)(ruv__splitmix64(&seed) >> 40) / 16777216.0f - 0.5f;
        w->b[i] = (float)(ruv__splitmix64(&seed) >> 40) / 16777216.0f - 0.5f;
        w->bytes[i] = (uint8_t)ruv__splitmix64(&seed);
        w->i16[i] = (int16_t)(uint16_t)(ruv__splitmix64(&seed) >> 48);
    }
    for (size_t i = 0; i < (size_t)ROWS * DIM; i++) {
        w->rows[i] = (float)(ruv__splitmix64(&seed) >> 40) / 16777216.0f - 0.5f;
        w->halves[i] = (uint16_t)(0x3c00u | (ruv__splitmix64(&seed) & 0x3ffu)); /* [1, 2) */
    }
    for (size_t i = 0; i < FHT_N; i++)
        w->fht_src[i] = w->a[i];
    for (size_t i = 0; i < (size_t)CODES * WORDS; i++)
        w->codes[i] = ruv__splitmix64(&seed);
    for (size_t i = 0; i < 4 * WORDS; i++)
        w->planes[i] = ruv__splitmix64(&seed);
    for (size_t i = 0; i < (size_t)FS_BLOCKS * FS_NSUB * 16; i++)
        w->fs[i] = (uint8_t)ruv__splitmix64(&seed);
    for (size_t i = 0; i < FS_NSUB * 16; i++)
        w->lut[i] = (uint8_t)ruv__splitmix64(&seed);
    return RUV_OK;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Calls of slot s per timing: about 10-25 us for an AVX2 kernel on a Zen 3
 * core, long enough for the clock, short enough that both x86 plugins race
 * all sixteen slots in a few milliseconds. */
static const unsigned reps_of[RUV__SLOT_COUNT] = {
    [RUV__SLOT_dot_f32] = 32, [RUV__SLOT_l2sq_f32] = 32, [RUV__SLOT_cos_f32] = 32,
    [RUV__SLOT_dot_f32_1xN] = 8, [RUV__SLOT_l2sq_f32_1xN] = 8, [RUV__SLOT_l2sq_f32_1xN_below] = 8,
    [RUV__SLOT_xor_popcnt_1xN] = 8, [RUV__SLOT_bitplane_dot_1xN] = 4, [RUV__SLOT_popcnt_u64] = 32,
    [RUV__SLOT_fastscan_u8] = 16, [RUV__SLOT_fht_f32] = 32, [RUV__SLOT_dot_u8_f32] = 32,
    [RUV__SLOT_dot_f16_1xN] = 8, [RUV__SLOT_dot_f32_1xN_above] = 8, [RUV__SLOT_dot_u8_i16] = 64,
    [RUV__SLOT_dot_u4_i16] = 64, /* the three whole-code slots: WHOLE_CODES calls a rep */
};

/* The unnormalised FHT multiplies magnitudes by up to sqrt(n) = 32 a call:
 * the input is restored every FHT_RUN calls, well before floats overflow. */
#define FHT_RUN 8

/* The function pointer types of the slots, to call a generic slot. */
typedef float (*pair_fn)(const float *, const float *, size_t);
typedef void (*rows_fn)(const float *, const float *, size_t, size_t, size_t, float *);
typedef size_t (*below_fn)(const float *, const float *, size_t, size_t, size_t, float, uint32_t *,
                           float *);
typedef void (*xor_fn)(const uint64_t *, const uint64_t *, size_t, size_t, uint32_t *);
typedef void (*plane_fn)(const uint64_t *, unsigned, const uint64_t *, size_t, size_t, uint32_t *);
typedef uint64_t (*popcnt_fn)(const uint64_t *, size_t);
typedef void (*fastscan_fn)(const uint8_t *, size_t, size_t, const uint8_t *, uint16_t *);
typedef void (*fht_fn)(float *, size_t);
typedef float (*u8_fn)(const uint8_t *, const float *, size_t);
typedef int64_t (*u8i16_fn)(const uint8_t *, const int16_t *, size_t);
typedef void (*f16_fn)(const float *, const uint16_t *, size_t, size_t, size_t, float *);

/* ns per call of fn (slot s) on the workload. */
static double time_slot(size_t s, ruv__slot_fn fn, struct workload *w)
{
    const unsigned reps = reps_of[s];
    volatile double sink = 0;
    double t0 = now_ns();
    for (unsigned i = 0; i < reps; i++) {
        if (s == RUV__SLOT_fht_f32 && i % FHT_RUN == 0)
            memcpy(w->fht, w->fht_src, FHT_N * sizeof(float));
        switch (s) {
        case RUV__SLOT_dot_f32:
        case RUV__SLOT_l2sq_f32:
        case RUV__SLOT_cos_f32: sink += ((pair_fn)fn)(w->a, w->b, LONG_N); break;
        case RUV__SLOT_dot_f32_1xN:
        case RUV__SLOT_l2sq_f32_1xN: ((rows_fn)fn)(w->a, w->rows, DIM, DIM, ROWS, w->out); break;
        case RUV__SLOT_l2sq_f32_1xN_below:
            sink += (double)((below_fn)fn)(w->a, w->rows, DIM, DIM, ROWS, 0.0f, w->idx, w->out);
            break;
        case RUV__SLOT_dot_f32_1xN_above: /* same signature as below */
            sink += (double)((below_fn)fn)(w->a, w->rows, DIM, DIM, ROWS, 0.0f, w->idx, w->out);
            break;
        case RUV__SLOT_xor_popcnt_1xN: ((xor_fn)fn)(w->planes, w->codes, WORDS, CODES, w->u32); break;
        case RUV__SLOT_bitplane_dot_1xN:
            ((plane_fn)fn)(w->planes, 4, w->codes, WORDS, CODES, w->u32);
            break;
        case RUV__SLOT_popcnt_u64:
            sink += (double)((popcnt_fn)fn)(w->codes, (size_t)CODES * WORDS / 4);
            break;
        case RUV__SLOT_fastscan_u8: ((fastscan_fn)fn)(w->fs, FS_NSUB, FS_BLOCKS, w->lut, w->u16); break;
        case RUV__SLOT_fht_f32: ((fht_fn)fn)(w->fht, FHT_N); break;
        case RUV__SLOT_dot_u8_f32:
            for (size_t c = 0; c < WHOLE_CODES; c++)
                sink += ((u8_fn)fn)(w->bytes + c * WHOLE_D, w->a, WHOLE_D);
            break;
        case RUV__SLOT_dot_u8_i16:
            for (size_t c = 0; c < WHOLE_CODES; c++)
                sink += (double)((u8i16_fn)fn)(w->bytes + c * WHOLE_D, w->i16, WHOLE_D);
            break;
        case RUV__SLOT_dot_u4_i16: /* WHOLE_D elements in WHOLE_D / 2 bytes */
            for (size_t c = 0; c < WHOLE_CODES; c++)
                sink += (double)((u8i16_fn)fn)(w->bytes + c * WHOLE_D / 2, w->i16, WHOLE_D);
            break;
        case RUV__SLOT_dot_f16_1xN: ((f16_fn)fn)(w->a, w->halves, DIM, DIM, ROWS, w->out); break;
        default: break;
        }
    }
    double t = now_ns() - t0;
    (void)sink;
    return t / reps;
}

/* Rounds per racer and slot: the best of them counts, so a preemption in
 * one round does not decide. */
#define ROUNDS 5

int ruv__slots_race(struct ruv__plugin_set *set)
{
    struct ruv__slot_table *t = &set->slots;
    struct workload w;
    int rc = make_workload(&w);
    if (rc != RUV_OK)
        return rc;
    for (size_t s = 0; s < RUV__SLOT_COUNT; s++) {
        if (!ruv__slot_contested(set, s))
            continue;
        ruv__slot_fn fns[RUV__MAX_RACERS];
        for (size_t r = 0; r < t->nracers; r++) {
            fns[r] = racer_fn(set, r, s);
            t->ns[s][r] = 0;
            if (fns[r])
                time_slot(s, fns[r], &w); /* warm-up: code and data into cache */
        }
        for (int round = 0; round < ROUNDS; round++)
            for (size_t r = 0; r < t->nracers; r++) {
                if (!fns[r])
                    continue;
                double ns = time_slot(s, fns[r], &w);
                if (ns <= 0) /* a coarse clock: never report a zero time */
                    ns = 1e-3;
                if (t->ns[s][r] == 0 || ns < t->ns[s][r])
                    t->ns[s][r] = ns;
            }
    }
    free_workload(&w);
    return RUV_OK;
}

void ruv__slots_pick(struct ruv__plugin_set *set)
{
    struct ruv__slot_table *t = &set->slots;
    for (size_t s = 0; s < RUV__SLOT_COUNT; s++) {
        if (!ruv__slot_contested(set, s))
            continue;
        size_t best = 0;
        for (size_t r = 1; r < t->nracers; r++)
            if (t->ns[s][r] > 0 && racer_fn(set, r, s) && t->ns[s][r] < t->ns[s][best])
                best = r;
        int wins = best != 0 && t->ns[s][best] < t->ns[s][0] * (1.0 - RUV__SLOT_MARGIN);
        size_t r = wins ? best : 0;
        t->supplier[s] = t->racers[r];
        t->how[s] = wins ? RUV__SLOT_MEASURED : RUV__SLOT_CLOSE;
        ruv__kernel_slot_set(&t->ops, s, racer_fn(set, r, s));
    }
}
