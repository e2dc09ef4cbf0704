/* libFuzzer target for the index file reader (engine/store/reader.c): any byte
 * string must be refused cleanly or accepted with every section inside the
 * image. Build and run: see tests/fuzz/local.mk.
 *
 * Built with -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION the reader ignores
 * checksum mismatches (it still computes them over the same ranges), so the
 * fuzzer reaches the structural checks behind the CRCs; without it, the
 * target checks the production reader as shipped. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/error.h>

#include "store/persist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size heap copy: a read one byte past the image is an ASan
     * report, not a silent read of libFuzzer's buffer. */
    unsigned char *img = malloc(size ? size : 1);
    if (!img)
        return 0;
    if (size)
        memcpy(img, data, size);

    struct ruv__reader r;
    if (ruv__reader_open_mem(&r, img, size, "fuzz") == RUV_OK) {
        /* Touch every byte of every section the reader vouches for. */
        volatile uint32_t sink = 0;
        for (uint32_t i = 0; i < r.nsections; i++) {
            char tag[5];
            const void *p = NULL;
            size_t len = 0;
            if (ruv__reader_entry(&r, i, tag, &p, &len) != RUV_OK)
                abort(); /* a validated entry must be readable */
            const unsigned char *b = p;
            if (b < img || len > size || (size_t)(b - img) > size - len)
                abort(); /* outside the image */
            sink ^= ruv__crc32c(0, p, len);
            const void *q = NULL;
            size_t qlen = 0;
            if (ruv__reader_section(&r, tag, &q, &qlen) != RUV_OK || q != p || qlen != len)
                abort(); /* lookup disagrees with the table */
        }
        /* Walk the first section as META-style scalars until it runs out. */
        if (r.nsections) {
            char tag[5];
            const void *p = NULL;
            size_t len = 0;
            ruv__reader_entry(&r, 0, tag, &p, &len);
            struct ruv__cursor c;
            if (ruv__reader_cursor(&r, tag, &c) == RUV_OK) {
                uint32_t u32;
                uint64_t u64;
                float f;
                while (ruv__get_u32(&c, &u32) == RUV_OK && ruv__get_u64(&c, &u64) == RUV_OK &&
                       ruv__get_f32(&c, &f) == RUV_OK)
                    sink ^= u32 ^ (uint32_t)u64;
                (void)ruv__cursor_end(&c);
            }
        }
        (void)ruv__reader_has(&r, "CODE");
        (void)sink;
    }
    ruv__reader_close(&r);
    free(img);
    return 0;
}
