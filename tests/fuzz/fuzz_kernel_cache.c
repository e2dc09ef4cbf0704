/* libFuzzer target for the kernel-slot speed cache parser
 * (engine/core/kernel_cache.c). Each input is parsed twice: as it is (the
 * reader as shipped, where almost everything fails the checksum) and with a
 * correct checksum line appended, so the fuzzer reaches the line parser.
 * Whatever parses must format back into a file that parses to the same
 * times. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "core/kernel_cache.h"
#include "plugin/plugins.h"
#include "store/persist.h"

static const char key[] = "ruvector kernel slots 2\n"
                          "cpu Fuzz CPU\n"
                          "isa 000000000004001f\n"
                          "racer avx512 40 c86a1eb5297ba20e\n"
                          "racer avx2 20 9f09987398f5ea54\n";

static void check(const char *buf, size_t len)
{
    double ns[RUV__SLOT_COUNT][RUV__MAX_RACERS];
    char why[300];
    if (ruv__kernel_cache_parse(buf, len, key, 2, ns, why, sizeof why) != 0) {
        if (!why[0] || !memchr(why, '\0', sizeof why))
            abort(); /* a failure always says why */
        return;
    }
    struct ruv__slot_table t;
    memset(&t, 0, sizeof t);
    t.nracers = 2;
    memcpy(t.ns, ns, sizeof ns);
    struct ruv__buf b = {0};
    ruv__kernel_cache_format(&b, key, &t);
    if (b.oom)
        abort();
    double again[RUV__SLOT_COUNT][RUV__MAX_RACERS];
    if (ruv__kernel_cache_parse(b.p, b.len, key, 2, again, why, sizeof why) != 0)
        abort();
    for (size_t s = 0; s < RUV__SLOT_COUNT; s++)
        for (size_t r = 0; r < 2; r++)
            if (again[s][r] != ns[s][r])
                abort();
    free(b.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > RUV__KERNEL_CACHE_MAX)
        return 0;
    char *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    check(copy, size);
    char *with = malloc(size + 17);
    if (with) {
        memcpy(with, data, size);
        int n = snprintf(with + size, 17, "crc32c %08x\n", (unsigned)ruv__crc32c(0, data, size));
        check(with, size + (size_t)n);
        free(with);
    }
    free(copy);
    return 0;
}
