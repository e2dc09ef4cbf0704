/* libFuzzer target: any bytes as an FsBackend file (ruvec1 or ruvec2, by
 * magic), through describe and the full read on a memfd, plus the ruvec2
 * header decoder alone. Built twice (make fuzz-lake): fuzz_lake_ruvec
 * skips the header check and content digest comparisons
 * (FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION) so mutations reach the
 * structural rules; fuzz_lake_ruvec_strict is the reader as shipped. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lake_error.h"
#include "ruvec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ruv__lake_ruvec_info d, r;
    struct ruv__lake_ruvec_rows rows;
    if (size >= RUV_LAKE_RUVEC2_HEADER_BYTES)
        (void)ruv__lake_ruvec2_header_decode(data, &d);
    int fd = memfd_create("fuzz.ruvec", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    int described = ruv__lake_ruvec_describe_fd(fd, &d);
    int read = ruv__lake_ruvec_read_fd(fd, &r, &rows);
    close(fd);
    if (read == RUV_OK) {
        /* A file that reads must describe the same, and hold sorted ids. */
        if (described != RUV_OK || d.count != rows.n || d.dim != rows.dim)
            abort();
        for (uint64_t i = 1; i < rows.n; i++)
            if (rows.ids[i] <= rows.ids[i - 1])
                abort();
        ruv__lake_ruvec_rows_free(&rows);
    }
    return 0;
}
