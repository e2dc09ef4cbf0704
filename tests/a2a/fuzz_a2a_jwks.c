/* tests/a2a/fuzz_a2a_jwks.c — libFuzzer target for the JWK Set reader
 * (plugins/a2a/jwks.c): any bytes as a JWKS, the key looked up under kid
 * "k1", then under "k0". Nothing may crash or leak; a found key must be one
 * the verifier can use (EVP_PKEY with a known type). */
#include "config.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/a2a/detail.h"
#include "../../plugins/a2a/jwks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const kids[] = {"k1", "k0"};
    for (size_t i = 0; i < 2; i++) {
        EVP_PKEY *key = NULL;
        int rc = ruv__jwks_find((const char *)data, size, kids[i], &key);
        if (rc == RUV_OK) {
            if (!key || EVP_PKEY_get_base_id(key) == EVP_PKEY_NONE)
                abort();
        } else if (key) {
            abort();
        }
        EVP_PKEY_free(key);
    }
    return 0;
}
