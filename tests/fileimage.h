/* Index file images for the C tests that edit saved files: read a file
 * into memory, write it back, little-endian fields, the section table of
 * docs/file-format.md and its CRC-32Cs. Include after <cmocka.h> and
 * "store/persist.h" (ruv__crc32c). */
#ifndef RUV_TESTS_FILEIMAGE_H
#define RUV_TESTS_FILEIMAGE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *img = malloc(*len);
    assert_non_null(img);
    assert_int_equal(fread(img, 1, *len, f), *len);
    fclose(f);
    return img;
}

static inline void write_file(const char *path, const void *img, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(img, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static inline uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t le64(const unsigned char *p)
{
    return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static inline void put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* The section-table entry of tag in a file image, or NULL. */
static inline unsigned char *table_entry(unsigned char *img, const char *tag)
{
    uint32_t count = le32(img + 20);
    unsigned char *t = img + le64(img + 32);
    for (uint32_t i = 0; i < count; i++)
        if (!memcmp(t + 32 * i, tag, 4))
            return t + 32 * i;
    return NULL;
}

/* The header's CRC, after the header was edited. */
static inline void reseal_header(unsigned char *img)
{
    put_le32(img + 44, 0);
    put_le32(img + 44, ruv__crc32c(0, img, 64));
}

/* After editing section `entry`: every CRC the reader checks, recomputed. */
static inline void reseal(unsigned char *img, unsigned char *entry)
{
    put_le32(entry + 24, ruv__crc32c(0, img + le64(entry + 8), (size_t)le64(entry + 16)));
    put_le32(img + 40, ruv__crc32c(0, img + le64(img + 32), 32 * (size_t)le32(img + 20)));
    reseal_header(img);
}

#endif
