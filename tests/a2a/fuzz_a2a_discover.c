/* tests/a2a/fuzz_a2a_discover.c — libFuzzer target for the discovery state
 * machine (plugins/a2a/discover.c): the input is a script of HTTP answers,
 * each record [status selector][flags][length (2 bytes)][bytes], that
 * answers the GETs discovery asks for (cards, fallbacks, redirects whose
 * Location is the record's bytes, JWKS); when the script runs out, the
 * transfer fails. Two discoveries share one card cache, so cached,
 * revalidated and stale entries are driven too. Nothing may crash, leak or
 * loop: at most 32 GETs per discovery (3 redirects per document, two card
 * paths and one JWKS bound it well below). */
#include "config.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/a2a/card_cache.h"
#include "../../plugins/a2a/detail.h"
#include "../../plugins/a2a/discover.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const long statuses[] = {200, 304, 302, 404, 500, 301, 307, 503, 200, 308, 303, 204};

static void run(const uint8_t **data, size_t *size, struct ruv__card_cache *cache, int trusted)
{
    const char *jku_list[] = {"http://localhost:8080"};
    struct ruv_a2a_options vo = {.struct_size = sizeof vo,
                                 .trusted_jku = trusted ? jku_list : NULL,
                                 .n_trusted_jku = trusted ? 1 : 0};
    struct ruv_a2a_client_options o = {.struct_size = sizeof o, .verify = &vo,
                                       .flags = trusted ? RUV_A2A_UNSIGNED_OK : 0};
    struct ruv__discover *d = NULL;
    if (ruv__discover_new("http://127.0.0.1:8080/a/", &o, cache, &d) != RUV_OK)
        return;
    struct ruv__discover_get get;
    int gets = 0;
    while (ruv__discover_next(d, &get)) {
        if (++gets > 32 || !get.url || get.cap == 0)
            abort();
        struct ruv_a2a_call_status st = {.struct_size = sizeof st};
        struct ruv__http_resp resp;
        memset(&resp, 0, sizeof resp);
        resp.retry_after_s = -1;
        resp.max_age_s = -1;
        if (*size < 4) {
            st.error = RUV_A2A_ERR_TRANSPORT;
            ruv__discover_feed(d, ruv__detail_set(RUV_E_IO, "script ended"), &resp, &st);
            continue;
        }
        uint8_t sel = (*data)[0], flags = (*data)[1];
        size_t n = (size_t)(*data)[2] << 8 | (*data)[3];
        *data += 4;
        *size -= 4;
        if (n > *size)
            n = *size;
        resp.status = statuses[sel % (sizeof statuses / sizeof statuses[0])];
        strcpy(resp.content_type, flags & 1 ? "text/html" : "application/json");
        if (flags & 2)
            strcpy(resp.etag, "\"e1\"");
        if (flags & 4)
            resp.max_age_s = 60;
        resp.no_store = (flags & 8) != 0;
        char *bytes = malloc(n + 1);
        if (!bytes)
            abort();
        memcpy(bytes, *data, n);
        bytes[n] = '\0';
        if (resp.status / 100 == 3 && resp.status != 304)
            resp.redirect_url = bytes;
        else {
            resp.body.data = bytes;
            resp.body.len = n;
            resp.body.alloc = n + 1;
            resp.body.cap_bytes = get.cap;
        }
        *data += n;
        *size -= n;
        ruv__discover_feed(d, RUV_OK, &resp, &st);
    }
    json_t *card = NULL;
    char *url = NULL;
    struct ruv__card_verdict v;
    int verified = 0;
    struct ruv_a2a_call_status st = {.struct_size = sizeof st};
    if (ruv__discover_result(d, &card, &v, &verified, &url, &st) == RUV_OK && (!card || !url))
        abort();
    json_decref(card);
    free(url);
    ruv__discover_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ruv__card_cache *cache = NULL;
    if (ruv__card_cache_new(&cache) != RUV_OK)
        return 0;
    run(&data, &size, cache, 0);
    run(&data, &size, cache, 1);
    ruv__card_cache_free(cache);
    return 0;
}
