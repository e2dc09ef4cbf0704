/* Take an index file apart into its sections and lay it out again, with
 * fresh CRC-32Cs, exactly as the writer does (engine/store/container.h has
 * the layout). The structure-aware fuzzer (fuzz_index_mutator.c) and the
 * semantic-validation tests (tests/test_hostile.c) edit the meaning of a
 * file through it, so their edits reach the index checks behind the CRCs.
 * Header-only, public headers only: each user is one translation unit. */
#ifndef RUV_TESTS_FUZZ_CONTAINER_EDIT_H
#define RUV_TESTS_FUZZ_CONTAINER_EDIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CE_MAGIC "RUVIDX\0\1"

/* CRC-32C (Castagnoli, reflected 0x82F63B78), table-driven. */
static inline uint32_t ce_crc32c(const void *data, size_t len)
{
    static uint32_t table[256];
    if (!table[1])
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
            table[i] = c;
        }
    const uint8_t *p = data;
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < len; i++)
        crc = table[(crc ^ p[i]) & 0xffu] ^ (crc >> 8);
    return crc ^ 0xffffffffu;
}

enum { CE_MAX_SECTIONS = 64, CE_HDR = 64, CE_ENT = 32 };

struct ce_section {
    char tag[4];
    uint8_t *data; /* malloc'd copy */
    size_t len;
};

struct ce_image {
    uint32_t version;
    size_t n;
    struct ce_section s[CE_MAX_SECTIONS];
};

static inline uint32_t ce_ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t ce_ld64(const uint8_t *p)
{
    return ce_ld32(p) | (uint64_t)ce_ld32(p + 4) << 32;
}
static inline void ce_st32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void ce_st64(uint8_t *p, uint64_t v)
{
    ce_st32(p, (uint32_t)v);
    ce_st32(p + 4, (uint32_t)(v >> 32));
}

static inline void ce_image_free(struct ce_image *im)
{
    for (size_t i = 0; i < im->n; i++)
        free(im->s[i].data);
    im->n = 0;
}

/* Lenient parse: the header's table, with bounds checked; CRCs ignored (the
 * re-layout recomputes them). 0 on success. */
static inline int ce_parse(const uint8_t *b, size_t size, struct ce_image *im)
{
    memset(im, 0, sizeof *im);
    if (size < CE_HDR || memcmp(b, CE_MAGIC, 8) != 0)
        return -1;
    im->version = ce_ld32(b + 8);
    uint32_t count = ce_ld32(b + 20);
    uint64_t toff = ce_ld64(b + 32);
    if (count > CE_MAX_SECTIONS || toff > size || (uint64_t)count * CE_ENT > size - toff)
        return -1;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = b + toff + (size_t)i * CE_ENT;
        uint64_t off = ce_ld64(e + 8), len = ce_ld64(e + 16);
        if (off > size || len > size - off)
            goto fail;
        struct ce_section *s = &im->s[im->n];
        memcpy(s->tag, e, 4);
        s->data = malloc(len ? len : 1);
        if (!s->data)
            goto fail;
        memcpy(s->data, b + off, len);
        s->len = len;
        im->n++;
    }
    return 0;
fail:
    ce_image_free(im);
    return -1;
}

static inline size_t ce_align64(size_t v) { return (v + 63) & ~(size_t)63; }

/* Lays im out as the writer would, CRCs included; returns the size, or 0
 * when it does not fit max_size. */
static inline size_t ce_layout(const struct ce_image *im, uint8_t *out, size_t max_size)
{
    size_t end = CE_HDR;
    for (size_t i = 0; i < im->n; i++)
        end = ce_align64(end) + im->s[i].len;
    size_t toff = ce_align64(end), total = toff + im->n * CE_ENT;
    if (total > max_size)
        return 0;
    memset(out, 0, total);
    uint8_t *table = out + toff;
    size_t off = CE_HDR;
    for (size_t i = 0; i < im->n; i++) {
        off = ce_align64(off);
        memcpy(out + off, im->s[i].data, im->s[i].len);
        uint8_t *e = table + i * CE_ENT;
        memcpy(e, im->s[i].tag, 4);
        ce_st64(e + 8, off);
        ce_st64(e + 16, im->s[i].len);
        ce_st32(e + 24, ce_crc32c(im->s[i].data, im->s[i].len));
        off += im->s[i].len;
    }
    memcpy(out, CE_MAGIC, 8);
    ce_st32(out + 8, im->version);
    ce_st32(out + 12, CE_HDR);
    ce_st32(out + 20, (uint32_t)im->n);
    ce_st64(out + 24, total);
    ce_st64(out + 32, toff);
    ce_st32(out + 40, ce_crc32c(table, im->n * CE_ENT));
    ce_st32(out + 44, ce_crc32c(out, CE_HDR));
    return total;
}

/* The section with this tag, or NULL. */
static inline struct ce_section *ce_find(struct ce_image *im, const char *tag)
{
    for (size_t i = 0; i < im->n; i++)
        if (!memcmp(im->s[i].tag, tag, 4))
            return &im->s[i];
    return NULL;
}

/* Removes section s of im. */
static inline void ce_drop(struct ce_image *im, struct ce_section *s)
{
    size_t i = (size_t)(s - im->s);
    free(s->data);
    memmove(&im->s[i], &im->s[i + 1], (im->n - i - 1) * sizeof im->s[0]);
    im->n--;
}

#endif
