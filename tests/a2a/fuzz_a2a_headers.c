/* tests/a2a/fuzz_a2a_headers.c — libFuzzer target for the response-header
 * parsers of plugins/a2a/http.c: ruv__http_retry_after (delay-seconds or an
 * HTTP-date through curl_getdate) and ruv__http_on_header (Content-Type,
 * ETag, Cache-Control, Retry-After, the 64 KiB header cap).
 *
 * The input is split at '\n' into header lines fed one by one, as curl
 * would; each line is also read as a Retry-After value on its own.
 * Invariants: a Retry-After is -1 or within 0..100000000 s; the kept
 * Content-Type is NUL-terminated lowercase without ';', the ETag
 * NUL-terminated; max-age is -1 or non-negative; the header byte count is
 * the bytes fed (until the cap refuses a line). */
#include "config.h"
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/a2a/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ruv__http_resp r;
    memset(&r, 0, sizeof r);
    r.retry_after_s = -1;
    r.max_age_s = -1;
    size_t fed = 0;
    int refused = 0;
    for (size_t start = 0; start < size && !refused;) {
        const uint8_t *nl = memchr(data + start, '\n', size - start);
        size_t n = nl ? (size_t)(nl - (data + start)) + 1 : size - start;
        /* curl hands the callback a buffer it owns: give it a copy. */
        char *line = malloc(n ? n : 1);
        if (!line)
            return 0;
        memcpy(line, data + start, n);
        long v = ruv__http_retry_after(line, n);
        if (v < -1 || v > 100000000)
            abort();
        size_t got = ruv__http_on_header(line, 1, n, &r);
        if (got == n)
            fed += n;
        else if (got == 0)
            refused = 1;
        else
            abort();
        free(line);
        start += n;
    }
    if (!refused && r.header_bytes != fed)
        abort();
    if (r.retry_after_s < -1 || r.retry_after_s > 100000000)
        abort();
    if (r.max_age_s < -1)
        abort();
    size_t ct = strnlen(r.content_type, sizeof r.content_type);
    if (ct == sizeof r.content_type || strnlen(r.etag, sizeof r.etag) == sizeof r.etag)
        abort();
    for (size_t i = 0; i < ct; i++)
        if (r.content_type[i] == ';' || isupper((unsigned char)r.content_type[i]))
            abort();
    return 0;
}
