/* Witnesses, content digest, meta digest (contract in witness.h). The byte
 * strings hashed here are the format: any change is a new witness version,
 * and tests/rulake checks them against Python's hashlib. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "crypto.h"
#include "lake_error.h"
#include "witness.h"

#define LIT(s) {(s), sizeof(s) - 1}

int ruv__lake_witness_v1(const char *data_ref, size_t data_ref_len, uint64_t dim,
                         uint64_t rotation_seed, uint64_t rerank_factor,
                         const struct ruv__lake_gen *gen, uint8_t out[32])
{
    uint8_t ref_len[8], params[24], g_head[9], g_len[8];
    ruv__lake_put_u64le(ref_len, data_ref_len);
    ruv__lake_put_u64le(params, dim);
    ruv__lake_put_u64le(params + 8, rotation_seed);
    ruv__lake_put_u64le(params + 16, rerank_factor);
    /* G = 0x00 ‖ u64le(n) or 0x01 ‖ utf8(s): the tag keeps 7 and "7" apart. */
    size_t g_head_len, g_total;
    const void *g_tail = NULL;
    size_t g_tail_len = 0;
    if (gen->opaque) {
        g_head[0] = 1;
        g_head_len = 1;
        g_tail = gen->str;
        g_tail_len = gen->len;
    } else {
        g_head[0] = 0;
        ruv__lake_put_u64le(g_head + 1, gen->num);
        g_head_len = 9;
    }
    g_total = g_head_len + g_tail_len;
    ruv__lake_put_u64le(g_len, g_total);
    const struct ruv__lake_span spans[] = {
        LIT("rulake-bundle-witness-v1|"), {ref_len, 8}, {data_ref, data_ref_len}, LIT("|"),
        {params, 24}, LIT("|"), {g_len, 8}, {g_head, g_head_len}, {g_tail, g_tail_len},
    };
    return ruv__lake_shake256(spans, sizeof spans / sizeof spans[0], out, 32);
}

int ruv__lake_index_params(char *buf, size_t size, const char *metric, unsigned bits,
                           uint64_t nlist)
{
    if (!metric || (strcmp(metric, "l2") != 0 && strcmp(metric, "ip") != 0 &&
                    strcmp(metric, "cosine") != 0))
        return ruv__detail_set(RUV_E_INVAL, "metric '%s' is not l2, ip or cosine",
                               metric ? metric : "(null)");
    if (bits < 1 || bits > 8)
        return ruv__detail_set(RUV_E_INVAL, "bits %u is outside 1..8", bits);
    int n = snprintf(buf, size, "index=rabitq_plus;metric=%s;bits=%u;nlist=%" PRIu64, metric, bits,
                     nlist);
    if (n < 0 || (size_t)n >= size)
        return ruv__detail_set(RUV_E_INVAL, "parameter string does not fit %zu bytes", size);
    return RUV_OK;
}

int ruv__lake_witness_v2(const uint8_t v1[32], const char *params, size_t params_len,
                         const uint8_t content_digest[32], uint8_t out[32])
{
    uint8_t plen[8];
    ruv__lake_put_u64le(plen, params_len);
    const struct ruv__lake_span spans[] = {
        LIT("rulake-bundle-witness-v2|"), {v1, 32}, {plen, 8}, {params, params_len},
        {content_digest, 32},
    };
    return ruv__lake_shake256(spans, sizeof spans / sizeof spans[0], out, 32);
}

static uint64_t row_of(const uint64_t *order, uint64_t i) { return order ? order[i] : i; }

int ruv__lake_rows_check(const uint64_t *ids, const float *vectors, const uint64_t *order,
                         uint64_t n, uint32_t dim)
{
    if (dim == 0)
        return ruv__detail_set(RUV_E_INVAL, "dim must be at least 1");
    for (uint64_t i = 0; i < n; i++) {
        uint64_t r = row_of(order, i);
        uint64_t id = ids[r];
        if (i > 0) {
            uint64_t prev = ids[row_of(order, i - 1)];
            if (id == prev)
                return ruv__detail_set(RUV_E_INVAL, "duplicate id %" PRIu64, id);
            if (id < prev)
                return ruv__detail_set(RUV_E_INVAL, "ids not ascending at id %" PRIu64
                                                    " (after %" PRIu64 ")", id, prev);
        }
        const float *v = vectors + r * dim;
        for (uint32_t c = 0; c < dim; c++)
            if (!ruv__lake_f32_is_finite(v[c]))
                return ruv__detail_set(RUV_E_INVAL, "id %" PRIu64 ": component %u is %s", id, c,
                                       v[c] != v[c] ? "NaN" : "infinite");
    }
    return RUV_OK;
}

/* Feeds one row as u64le(id) ‖ dim × f32le. On little-endian hosts the
 * floats are already in file order and go in as they are. */
static int hash_row(struct ruv__lake_shake *h, uint64_t id, const float *v, uint32_t dim,
                    uint8_t *scratch)
{
    uint8_t idle[8];
    ruv__lake_put_u64le(idle, id);
    int st = ruv__lake_shake_update(h, idle, 8);
    if (st != RUV_OK)
        return st;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    (void)scratch;
    return ruv__lake_shake_update(h, v, (size_t)dim * 4);
#else
    for (uint32_t c = 0; c < dim; c++)
        ruv__lake_put_u32le(scratch + 4 * (size_t)c, ruv__lake_f32_bits(v[c]));
    return ruv__lake_shake_update(h, scratch, (size_t)dim * 4);
#endif
}

int ruv__lake_content_leaf(uint64_t j, const uint64_t *ids, const float *vectors,
                           const uint64_t *order, uint64_t rows, uint32_t dim, uint8_t out[32])
{
    uint8_t head[16];
    ruv__lake_put_u64le(head, j);
    ruv__lake_put_u64le(head + 8, rows);
    uint8_t *scratch = NULL;
#if !(defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
    scratch = malloc((size_t)dim * 4);
    if (!scratch)
        return ruv__detail_set(RUV_E_NOMEM, "out of memory for a row of %u floats", dim);
#endif
    struct ruv__lake_shake *h;
    int st = ruv__lake_shake_new(&h);
    if (st == RUV_OK)
        st = ruv__lake_shake_update(h, "rulake-content-leaf-v1|", 23);
    if (st == RUV_OK)
        st = ruv__lake_shake_update(h, head, 16);
    uint64_t first = j * RUV_LAKE_CONTENT_LEAF_ROWS;
    for (uint64_t i = first; st == RUV_OK && i < first + rows; i++) {
        uint64_t r = row_of(order, i);
        st = hash_row(h, ids[r], vectors + r * dim, dim, scratch);
    }
    free(scratch);
    if (st != RUV_OK) {
        ruv__lake_shake_free(h);
        return st;
    }
    return ruv__lake_shake_final(h, out, 32);
}

int ruv__lake_content_root(uint64_t n, uint32_t dim, const uint8_t *leaves, uint64_t nleaves,
                           uint8_t out[32])
{
    uint8_t head[24];
    ruv__lake_put_u64le(head, n);
    ruv__lake_put_u64le(head + 8, dim);
    ruv__lake_put_u64le(head + 16, RUV_LAKE_CONTENT_LEAF_ROWS);
    const struct ruv__lake_span spans[] = {
        LIT("rulake-content-v1|"), {head, 24}, {leaves, (size_t)nleaves * 32},
    };
    return ruv__lake_shake256(spans, 3, out, 32);
}

int ruv__lake_content_digest(const uint64_t *ids, const float *vectors, const uint64_t *order,
                             uint64_t n, uint32_t dim, uint8_t out[32])
{
    int st = ruv__lake_rows_check(ids, vectors, order, n, dim);
    if (st != RUV_OK)
        return st;
    return ruv__lake_content_hash(ids, vectors, order, n, dim, out);
}

int ruv__lake_content_hash(const uint64_t *ids, const float *vectors, const uint64_t *order,
                           uint64_t n, uint32_t dim, uint8_t out[32])
{
    int st = RUV_OK;
    uint64_t nleaves = (n + RUV_LAKE_CONTENT_LEAF_ROWS - 1) / RUV_LAKE_CONTENT_LEAF_ROWS;
    uint8_t *leaves = malloc(nleaves ? (size_t)nleaves * 32 : 1);
    if (!leaves)
        return ruv__detail_set(RUV_E_NOMEM, "out of memory for %" PRIu64 " leaf digests",
                               nleaves);
    for (uint64_t j = 0; st == RUV_OK && j < nleaves; j++) {
        uint64_t rows = n - j * RUV_LAKE_CONTENT_LEAF_ROWS;
        if (rows > RUV_LAKE_CONTENT_LEAF_ROWS)
            rows = RUV_LAKE_CONTENT_LEAF_ROWS;
        st = ruv__lake_content_leaf(j, ids, vectors, order, rows, dim, leaves + j * 32);
    }
    if (st == RUV_OK)
        st = ruv__lake_content_root(n, dim, leaves, nleaves, out);
    free(leaves);
    return st;
}

/* F(absent or null) = 0x00, F(s) = 0x01 ‖ u64le(len) ‖ utf8(s). */
static int hash_field(struct ruv__lake_shake *h, const char *s)
{
    uint8_t head[9] = {0};
    if (!s)
        return ruv__lake_shake_update(h, head, 1);
    size_t len = strlen(s);
    head[0] = 1;
    ruv__lake_put_u64le(head + 1, len);
    int st = ruv__lake_shake_update(h, head, 9);
    return st == RUV_OK ? ruv__lake_shake_update(h, s, len) : st;
}

int ruv__lake_meta_digest(const struct ruv__lake_meta *m, uint8_t out[32])
{
    uint8_t versions[8], bytes[8];
    static const uint8_t zeros[32];
    ruv__lake_put_u32le(versions, m->format_version);
    ruv__lake_put_u32le(versions + 4, m->ext_version);
    ruv__lake_put_u64le(bytes, m->index_bytes);
    struct ruv__lake_shake *h;
    int st = ruv__lake_shake_new(&h);
    if (st == RUV_OK)
        st = ruv__lake_shake_update(h, "rulake-bundle-meta-v1|", 22);
    if (st == RUV_OK)
        st = ruv__lake_shake_update(h, versions, 8);
    const char *fields[] = {m->backend,    m->collection,   m->pii_policy,
                            m->lineage_id, m->memory_class, m->index_file};
    for (size_t i = 0; st == RUV_OK && i < sizeof fields / sizeof fields[0]; i++)
        st = hash_field(h, fields[i]);
    if (st == RUV_OK)
        st = ruv__lake_shake_update(h, bytes, 8);
    if (st == RUV_OK)
        st = ruv__lake_shake_update(h, m->index_shake ? m->index_shake : zeros, 32);
    if (st != RUV_OK) {
        ruv__lake_shake_free(h);
        return st;
    }
    return ruv__lake_shake_final(h, out, 32);
}

void ruv__lake_signature_message(const uint8_t v2[32], const uint8_t meta[32],
                                 uint8_t msg[RUV_LAKE_SIG_MSG_BYTES])
{
    size_t p = sizeof(RUV_LAKE_SIG_PREFIX) - 1;
    memcpy(msg, RUV_LAKE_SIG_PREFIX, p);
    memcpy(msg + p, v2, 32);
    memcpy(msg + p + 32, meta, 32);
}

int ruv__lake_key_id(const uint8_t pub[32], char hex[17])
{
    uint8_t d[32];
    const struct ruv__lake_span span = {pub, 32};
    int st = ruv__lake_shake256(&span, 1, d, 32);
    if (st == RUV_OK)
        ruv__lake_hex(d, 8, hex);
    return st;
}
