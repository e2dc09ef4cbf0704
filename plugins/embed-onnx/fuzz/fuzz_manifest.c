/* libFuzzer target: the cache's `verified` manifest parser (manifest.c) on
 * any bytes. A parse either fails with RUV_E_CORRUPT, a detail and no
 * records, or gives records that are safe to use: relative paths without
 * "." or ".." parts, 64-hex digests, distinct paths; and dumping them and
 * parsing the text again gives the same records. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/error.h>

#include "../../common/detail.h"
#include "../manifest.h"
#include "../registry.h"

static struct ruv__embed_manifest m, again;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int rc = ruv__embed_manifest_parse((const char *)data, size, &m);
    if (rc != RUV_OK) {
        if (rc != RUV_E_CORRUPT || m.n != 0 || !*ruv__detail_get())
            abort();
        return 0;
    }
    for (size_t i = 0; i < m.n; i++) {
        if (!ruv__embed_safe_relpath(m.files[i].path) || !ruv__embed_is_sha256_hex(m.files[i].sha256))
            abort();
        for (size_t j = 0; j < i; j++)
            if (strcmp(m.files[i].path, m.files[j].path) == 0)
                abort();
    }
    char *text = ruv__embed_manifest_dump(&m);
    if (!text)
        abort();
    if (ruv__embed_manifest_parse(text, strlen(text), &again) != RUV_OK || again.n != m.n)
        abort();
    for (size_t i = 0; i < m.n; i++)
        if (strcmp(m.files[i].path, again.files[i].path) != 0 || strcmp(m.files[i].sha256, again.files[i].sha256) ||
            m.files[i].size != again.files[i].size || m.files[i].mtime_ns != again.files[i].mtime_ns)
            abort();
    free(text);
    return 0;
}
