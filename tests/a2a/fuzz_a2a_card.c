/* tests/a2a/fuzz_a2a_card.c — libFuzzer target for the JWS and card
 * verifier. The first byte picks the entry point:
 *   'P'  the rest is a JWS protected header (base64url text);
 *   'K'  the rest is a JWK to import;
 *   'U'  the rest is a jku URL checked against a card URL and a trusted origin;
 *   else the rest is an agent card, verified with the V1 Ed25519 key pinned
 *        as "ed-1" and its AgentID expected ('I') or not (anything else).
 * Nothing may crash or leak; a verified card must have a signature. */
#include "config.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/a2a/detail.h"
#include "../../plugins/a2a/identity.h"
#include "../../plugins/a2a/json_in.h"
#include "../../plugins/a2a/jwk.h"
#include "../../plugins/a2a/jws.h"
#include "../../plugins/a2a/origin.h"
#include "../../plugins/a2a/verify.h"

static struct ruv__pins *pins_plain, *pins_id;

static struct ruv__pins *make_pins(int expect_id)
{
    static const unsigned char v1_pub[32] = {
        0xea, 0x4a, 0x6c, 0x63, 0xe2, 0x9c, 0x52, 0x0a, 0xbe, 0xf5, 0x50, 0x7b, 0x13, 0x2e, 0xc5, 0xf9,
        0x95, 0x47, 0x76, 0xae, 0xbe, 0xbe, 0x7b, 0x92, 0x42, 0x1e, 0xea, 0x69, 0x14, 0x46, 0xd2, 0x2c};
    struct ruv__pins *p;
    EVP_PKEY *key;
    if (ruv__pins_new(&p) != RUV_OK || ruv__key_from_ed25519(v1_pub, &key) != RUV_OK ||
        ruv__pins_add_key(p, "ed-1", key, 0, 0) != RUV_OK)
        abort();
    if (expect_id &&
        ruv__pins_add_agent_id(p, "bb42f5a06cec4f36e3e9173236e88cdba7aa1a7bf737f6c6c372aa4c9268573e") != RUV_OK)
        abort();
    return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (pins_plain == NULL) {
        pins_plain = make_pins(0);
        pins_id = make_pins(1);
    }
    if (size == 0)
        return 0;
    const char *rest = (const char *)data + 1;
    size_t n = size - 1;
    if (data[0] == 'P') {
        struct ruv__jws_header h;
        if (ruv__jws_parse_protected(rest, n, &h) == RUV_OK &&
            (h.kid[0] == '\0' || strlen(h.kid) > RUV__JWS_KID_MAX))
            abort();
    } else if (data[0] == 'K') {
        static const struct ruv__json_limits lim = {.max_bytes = 1 << 16, .max_depth = 8};
        json_t *jwk;
        if (ruv__json_parse(rest, n, &lim, &jwk) == RUV_OK) {
            EVP_PKEY *key;
            if (ruv__jwk_import(jwk, &key) == RUV_OK)
                EVP_PKEY_free(key);
            json_decref(jwk);
        }
    } else if (data[0] == 'U') {
        char *url = malloc(n + 1);
        memcpy(url, rest, n);
        url[n] = '\0';
        static const char *const trusted[] = {"https://keys.example"};
        int rc = ruv__origin_check_jku("https://agent.example/.well-known/agent-card.json", url,
                                       trusted, 1);
        struct ruv__origin o;
        if (rc == RUV_OK && (ruv__origin_of(url, &o) != RUV_OK || strcmp(o.scheme, "https") != 0))
            abort(); /* an accepted jku is always https here */
        free(url);
    } else {
        struct ruv__card_verdict v;
        json_t *view;
        int rc = ruv__card_verify(rest, n, data[0] == 'I' ? pins_id : pins_plain, 1000, &view, &v);
        if (rc == RUV_OK) {
            if (v.good_signatures == 0 || view == NULL)
                abort();
            json_decref(view);
        } else if (view != NULL || v.good_signatures != 0) {
            abort();
        }
    }
    return 0;
}
