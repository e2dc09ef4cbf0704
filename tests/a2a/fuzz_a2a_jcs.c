/* tests/a2a/fuzz_a2a_jcs.c — libFuzzer target for the JSON limits and the
 * RFC 8785 canonicalizer: bytes → ruv__json_parse → canonical form, which
 * must parse again and canonicalize to the same bytes
 * (canon(parse(canon(x))) == canon(x)); the a2a-python rendering is made
 * too, and checked the same way when numbers are doubles. The first byte
 * picks whether numbers are first read as doubles (as cards are) or as
 * jansson integers. */
#include "config.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/a2a/detail.h"
#include "../../plugins/a2a/jcs.h"
#include "../../plugins/a2a/json_in.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    struct ruv__json_limits lim = {
        .max_bytes = 1 << 16, .max_depth = 64, .numbers_as_doubles = data[0] & 1, .any_top_level = 1,
    };
    json_t *v;
    if (ruv__json_parse((const char *)data + 1, size - 1, &lim, &v) != RUV_OK)
        return 0;
    char *c1 = NULL, *c2 = NULL;
    size_t l1, l2;
    int rc = ruv__jcs_serialize(v, &c1, &l1);
    json_decref(v);
    if (rc != RUV_OK) {
        if (c1 != NULL || ruv__detail_get()[0] == '\0')
            abort();
        return 0;
    }
    /* The canonical form's numbers are IEEE doubles by definition (RFC 8785
     * §3.2.2.3): 1e20 comes out as 100000000000000000000, which jansson's
     * integer mode cannot hold, so the second reading is always as doubles. */
    lim.max_bytes = l1 + 1;
    lim.numbers_as_doubles = 1;
    if (ruv__json_parse(c1, l1, &lim, &v) != RUV_OK)
        abort(); /* our output must be JSON within the same depth */
    if (ruv__jcs_serialize(v, &c2, &l2) != RUV_OK || l1 != l2 || memcmp(c1, c2, l1) != 0)
        abort();
    /* a2a-python's rendering of the same value must exist too, and be
     * idempotent when every number is a double (Python ints would print
     * as ints once and as floats after a reread). */
    char *p1 = NULL, *p2 = NULL;
    size_t pl1, pl2;
    if (ruv__canon_serialize(v, RUV__CANON_PYTHON, &p1, &pl1) != RUV_OK)
        abort();
    if (data[0] & 1) {
        json_t *w;
        lim.max_bytes = pl1 + 1;
        if (ruv__json_parse(p1, pl1, &lim, &w) != RUV_OK ||
            ruv__canon_serialize(w, RUV__CANON_PYTHON, &p2, &pl2) != RUV_OK || pl1 != pl2 ||
            memcmp(p1, p2, pl1) != 0)
            abort();
        json_decref(w);
    }
    json_decref(v);
    free(p1);
    free(p2);
    free(c1);
    free(c2);
    return 0;
}
