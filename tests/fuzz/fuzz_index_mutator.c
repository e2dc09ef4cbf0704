/* Structure-aware mutations for the index loader (issue 13, item 5).
 *
 * Linked with fuzz_index_load.c into fuzz_index_struct: the loader is the
 * one that ships (checksums enforced), and this custom mutator keeps every
 * input a well-formed container. It takes the input apart into sections,
 * changes their meaning (a META field, a factor, a row number, a section
 * dropped, cut or grown, the format version) and lays the file out again
 * with fresh CRC-32Cs, so each mutation reaches the index-level checks
 * instead of dying at a checksum. Inputs that are not containers (the
 * fuzzer's own byte mutations, a cross-over) get libFuzzer's mutation and
 * the same re-layout when they parse.
 *
 * The container is taken apart and laid out by container_edit.h.
 * Build and run: tests/fuzz/local.mk ("fuzz-index-struct"). */
#define _GNU_SOURCE
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "container_edit.h"

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

static uint32_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (uint32_t)(*s >> 11);
}

/* Values a careless or hostile edit would write. */
static const uint32_t interesting_u32[] = {0, 1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 63, 64, 65,
                                           255, 256, 1024, 65535, 65536, 65537, 0x7fffffffu,
                                           0x80000000u, 0xffffffffu};
static float interesting_f32(uint64_t *s)
{
    static const float v[] = {0.0f, -0.0f, 1.0f, -1.0f, 1e-38f, 1e-45f, 1e16f, -1e16f, 3e38f,
                              -3e38f, 1e-23f, 2.6f, 0.5f};
    uint32_t k = rnd(s) % 16;
    if (k < sizeof v / sizeof v[0])
        return v[k];
    return k == 13 ? NAN : k == 14 ? INFINITY : -INFINITY;
}

/* META: ten u32 fields at 0..36, the seed (u64) at 40, epsilon (f32) at 48,
 * padding at 52 and n (u64) at 56 (index_persist.c). */
static void mutate_meta(struct ce_section *m, uint64_t *s)
{
    if (m->len < 64)
        return;
    switch (rnd(s) % 4) {
    case 0: /* a u32 field: bits, nlist, type, metric, dim, ... */
        ce_st32(m->data + 4 * (rnd(s) % 10),
             interesting_u32[rnd(s) % (sizeof interesting_u32 / sizeof interesting_u32[0])]);
        break;
    case 1: { /* epsilon */
        float f = interesting_f32(s);
        memcpy(m->data + 48, &f, 4);
        break;
    }
    case 2: /* n, off by a little */
        ce_st64(m->data + 56,
                ce_ld64(m->data + 56) + (uint64_t)(int64_t)((int)(rnd(s) % 5) - 2));
        break;
    default: /* padding that must stay zero */
        m->data[52 + rnd(s) % 4] ^= (uint8_t)(1u + rnd(s) % 255);
        break;
    }
}

static const char *const float_tags[] = {"FADD", "FRSC", "FERR", "XADD", "XRSC",
                                         "XERR", "CENT", "ORIG", "VECS", "LRAD"};
static const char *const u32_tags[] = {"LROW", "POPC", "EXCD", "CODE"};

static void mutate_one(struct ce_image *im, uint64_t *s)
{
    switch (rnd(s) % 9) {
    case 0:
    case 1: {
        struct ce_section *m = ce_find(im, "META");
        if (m)
            mutate_meta(m, s);
        break;
    }
    case 2:
    case 3: { /* a float of a factor, centroid, origin, vector or radius section */
        struct ce_section *f = ce_find(im, float_tags[rnd(s) % 10]);
        if (f && f->len >= 4) {
            float v = interesting_f32(s);
            memcpy(f->data + 4 * (rnd(s) % (f->len / 4)), &v, 4);
        }
        break;
    }
    case 4: { /* a word of rows, popcounts or codes */
        struct ce_section *f = ce_find(im, u32_tags[rnd(s) % 4]);
        if (f && f->len >= 4) {
            size_t at = 4 * (rnd(s) % (f->len / 4));
            uint32_t old = ce_ld32(f->data + at);
            ce_st32(f->data + at, rnd(s) % 2 ? old + 1 - 2 * (rnd(s) % 2)
                                          : interesting_u32[rnd(s) % 23]);
        }
        break;
    }
    case 5: /* a section dropped */
        if (im->n) {
            ce_drop(im, &im->s[rnd(s) % im->n]);
        }
        break;
    case 6: /* a section cut short or grown by a few elements */
        if (im->n) {
            struct ce_section *f = &im->s[rnd(s) % im->n];
            size_t step = rnd(s) % 2 ? 4 : 8, k = 1 + rnd(s) % 3;
            if (rnd(s) % 2 && f->len >= step * k) {
                f->len -= step * k;
            } else {
                uint8_t *g = realloc(f->data, f->len + step * k);
                if (g) {
                    memset(g + f->len, 0, step * k);
                    f->data = g;
                    f->len += step * k;
                }
            }
        }
        break;
    case 7: /* the format version: 1 drops ORIG's requirement, 3 is too new */
        im->version = 1 + rnd(s) % 3;
        break;
    default: /* two sections trade places (order and content checks) */
        if (im->n >= 2) {
            size_t a = rnd(s) % im->n, b = rnd(s) % im->n;
            struct ce_section t = im->s[a];
            im->s[a] = im->s[b];
            im->s[b] = t;
        }
        break;
    }
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    uint64_t s = (uint64_t)seed * 0x9e3779b97f4a7c15u | 1u;
    struct ce_image im;
    if (rnd(&s) % 8 == 0 || ce_parse(data, size, &im) != 0) {
        /* bytes as libFuzzer sees them, then re-checksummed if still a container */
        size = LLVMFuzzerMutate(data, size, max_size);
        if (ce_parse(data, size, &im) != 0)
            return size;
    } else {
        unsigned edits = 1 + rnd(&s) % 3;
        for (unsigned i = 0; i < edits; i++)
            mutate_one(&im, &s);
    }
    uint8_t *out = malloc(max_size ? max_size : 1);
    size_t len = out ? ce_layout(&im, out, max_size) : 0;
    if (len) {
        memcpy(data, out, len);
        size = len;
    }
    free(out);
    ce_image_free(&im);
    return size;
}
