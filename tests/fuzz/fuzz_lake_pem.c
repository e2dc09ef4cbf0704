/* libFuzzer target: any bytes as an Ed25519 PEM key (the first byte picks
 * public or private, the rest is the text). The label check and
 * libcrypto's PEM readers must refuse or accept without a sanitizer report;
 * a refused key leaves the output untouched, and an accepted private key
 * must give its public key. Build: make fuzz-lake (plugins/rulake/local.mk). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "lake_error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int private_key = data[0] & 1;
    uint8_t raw[32], pub[32];
    memset(raw, 0x5A, sizeof raw);
    int st = ruv__lake_ed25519_from_pem((const char *)data + 1, size - 1, private_key, raw);
    if (st != RUV_OK) {
        for (size_t i = 0; i < sizeof raw; i++)
            if (raw[i] != 0x5A)
                abort(); /* written although refused */
        if (!ruv__detail_get()[0])
            abort(); /* refused without saying why */
        return 0;
    }
    if (private_key && ruv__lake_ed25519_public(raw, pub) != RUV_OK)
        abort(); /* an accepted private key OpenSSL cannot use */
    return 0;
}
