/* libFuzzer target: any bytes as table.rulake.json. The strict reader must
 * refuse or accept without a sanitizer report; what it accepts must verify
 * or fail cleanly, and must survive dump → parse unchanged (the writer
 * never writes what the reader refuses, and loses nothing). Build: make
 * fuzz-lake (plugins/rulake/local.mk). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lake_error.h"
#include "sidecar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ruv__lake_sidecar a, b;
    if (ruv__lake_sidecar_parse((const char *)data, size, &a) != RUV_OK)
        return 0;
    (void)ruv__lake_sidecar_verify(&a, NULL, 0, "fuzz");
    char *text;
    if (ruv__lake_sidecar_dump(&a, &text) != RUV_OK)
        return 0; /* e.g. indentation pushed it past 64 KiB */
    if (ruv__lake_sidecar_parse(text, strlen(text), &b) != RUV_OK ||
        memcmp(&a, &b, sizeof a) != 0)
        abort(); /* a sidecar we wrote and cannot read back the same */
    free(text);
    return 0;
}
