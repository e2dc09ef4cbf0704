/* libFuzzer target for the CLI's file parsers (tools/dataio*.c): the .npy
 * header parser and the .fvecs/.bvecs/.ivecs row walkers, through the same
 * in-memory entry points the file readers use.
 *
 * Input: byte 0 picks the format (bits 0-1) and vectors or ids (bit 2); the
 * rest is the file. Beyond the sanitizers, it checks the parsers' promises:
 * a success yields a sane shape and finite values, a failure yields an
 * empty result and a message that starts with the name.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Itools \
 *       tests/fuzz/fuzz_dataio.c tools/dataio.c tools/dataio_parse.c tools/dataio_npy.c \
 *       tools/dataio_write.c -lm -o fuzz_dataio
 *   ./fuzz_dataio -max_total_time=60 corpus/
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/error.h>

#include "dataio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_message(int rc, const char *err)
{
    if (rc == RUV_OK)
        return;
    if (strncmp(err, "f: ", 3) != 0 || strlen(err) < 5)
        abort();
}

static void check_shape(size_t n, size_t dim, size_t file_bytes)
{
    /* Every value costs at least one byte of input (uint8 is the smallest). */
    if (n == 0 || dim == 0 || dim > DATA_MAX_DIM || n > file_bytes / dim)
        abort();
}

static void fuzz_vectors(const uint8_t *buf, size_t len, enum data_format fmt)
{
    struct data_matrix m;
    char err[256] = "";
    int rc = data_parse_vectors(buf, len, fmt, "f", &m, err, sizeof err);
    check_message(rc, err);
    if (rc != RUV_OK) {
        if (m.data || m.n || m.dim)
            abort();
        return;
    }
    check_shape(m.n, m.dim, len);
    for (size_t i = 0; i < m.n * m.dim; i++)
        if (!isfinite(m.data[i]))
            abort();
    data_matrix_free(&m);
}

static void fuzz_ids(const uint8_t *buf, size_t len, enum data_format fmt)
{
    struct data_ids m;
    char err[256] = "";
    int rc = data_parse_ids(buf, len, fmt, "f", &m, err, sizeof err);
    check_message(rc, err);
    if (rc != RUV_OK) {
        if (m.data || m.n || m.dim)
            abort();
        return;
    }
    check_shape(m.n, m.dim, len);
    volatile uint64_t sink = 0;
    for (size_t i = 0; i < m.n * m.dim; i++)
        sink ^= (uint64_t)m.data[i]; /* touch every value: ASan checks the allocation size */
    (void)sink;
    data_ids_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum data_format formats[4] = {DATA_FORMAT_NPY, DATA_FORMAT_FVECS,
                                                 DATA_FORMAT_BVECS, DATA_FORMAT_IVECS};
    if (size < 1)
        return 0;
    enum data_format fmt = formats[data[0] & 3];
    /* A copy of exactly the file's bytes, so ASan sees any read past the end. */
    size_t len = size - 1;
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return 0;
    memcpy(buf, data + 1, len);
    if (data[0] & 4)
        fuzz_ids(buf, len, fmt);
    else
        fuzz_vectors(buf, len, fmt);
    free(buf);
    return 0;
}
