/* libcrypto shim and witnesses (rulake.md §6): the spec's vectors, RFC 8032
 * Ed25519, the row checks of the content digest, and a missing libcrypto. */
#include "config.h"

#include <stdlib.h>

#include "lake_test.h"
#include "crypto.h"
#include "witness.h"

static const char *const rfc8032_sig_empty =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b"
    "46bd25bf5f0595bbe24655141438e7a100b";

/* Runs first: nothing has loaded libcrypto yet in this process. */
static void missing_libcrypto_is_a_clear_error(void **state)
{
    (void)state;
    assert_status(ruv__lake_crypto_load("/nonexistent/libcrypto.so.3"), RUV_E_UNSUPPORTED,
                  "OpenSSL 3 libcrypto is needed");
    assert_non_null(strstr(ruv__detail_get(), "/nonexistent/libcrypto.so.3"));
    assert_non_null(strstr(ruv__lake_crypto_report(), "not loaded: cannot open"));
    /* A library that is not libcrypto: the missing symbol is named. */
    assert_status(ruv__lake_crypto_load("libc.so.6"), RUV_E_UNSUPPORTED, "has no EVP_MD_fetch");
    /* A failure is not sticky: the system library loads afterwards. */
    assert_ok(ruv__lake_crypto_load(NULL));
    const char *r = ruv__lake_crypto_report();
    assert_non_null(strstr(r, "libcrypto"));
    assert_non_null(strstr(r, "(OpenSSL 3."));
    assert_non_null(strchr(r, '/')); /* a path, not the bare name */
}

struct v1_case {
    const char *ref;
    uint64_t dim, seed, rerank;
    int opaque;
    uint64_t num;
    const char *str;
    size_t len;
    const char *hex;
};

static void spec_v1_vectors(void **state)
{
    (void)state;
    static const struct v1_case cases[] = {
        {"gs://bucket/x.parquet", 128, 42, 20, 0, 7, NULL, 0,
         "7eac1775d1f76a4db88672655fc64977287ec60eda47c6df3a19bacfd0c038cd"},
        {"x", 1, 0, 1, 0, 7, NULL, 0,
         "1cc8073588bc0c76ef87dd44d7be3440e306a089ca313ba05c2db6710205983b"},
        {"x", 1, 0, 1, 1, 0, "\x07\0\0\0\0\0\0\0", 8,
         "a19518def03e50a5dd1c34204cf5ac2df34051041a358044c078f790cf0a3afc"},
        {"iceberg://catalog/db/table", 384, 0xdeadbeef, 5, 1, 0, "01JCX7NK6G5R9G1YZ7QH", 20,
         "6b1a75410b684054ec05c6c717a4e75204419722d5ce64e37ac1a2703c8e940b"},
        {"local://b/c", 8, 42, 20, 0, 1, NULL, 0,
         "aaa52194b87ddea9b60b1df3c8cf6c39b489a6b172454c7ece8a66fffe61816f"},
        {"", 1, 0, 0, 1, 0, "", 0,
         "8d70cab4edfff48f1375c75a33aa4a59f2f425967eea865ce209222fc1e59c1c"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct v1_case *c = &cases[i];
        struct ruv__lake_gen g = {c->opaque, c->num, c->str, c->len};
        uint8_t w[32];
        assert_ok(ruv__lake_witness_v1(c->ref, strlen(c->ref), c->dim, c->seed, c->rerank, &g, w));
        assert_hex(w, 32, c->hex);
    }
}

/* Ports of ruvector's bundle tests: every field moves v1, and the length
 * prefixes keep "a|b" and "ab|" apart. */
static void v1_moves_with_every_field(void **state)
{
    (void)state;
    struct ruv__lake_gen g7 = {0, 7, NULL, 0}, g8 = {0, 8, NULL, 0};
    static const char x[] = "gs://bucket/x.parquet", y[] = "gs://bucket/y.parquet";
    uint8_t base[32], w[6][32];
    assert_ok(ruv__lake_witness_v1(x, sizeof x - 1, 128, 42, 20, &g7, base));
    assert_ok(ruv__lake_witness_v1(y, sizeof y - 1, 128, 42, 20, &g7, w[0]));
    assert_ok(ruv__lake_witness_v1(x, sizeof x - 1, 256, 42, 20, &g7, w[1]));
    assert_ok(ruv__lake_witness_v1(x, sizeof x - 1, 128, 43, 20, &g7, w[2]));
    assert_ok(ruv__lake_witness_v1(x, sizeof x - 1, 128, 42, 5, &g7, w[3]));
    assert_ok(ruv__lake_witness_v1(x, sizeof x - 1, 128, 42, 20, &g8, w[4]));
    for (int i = 0; i < 5; i++)
        assert_memory_not_equal(base, w[i], 32);
    struct ruv__lake_gen a = {1, 0, "a|b", 3}, b = {1, 0, "ab|", 3}, seven = {1, 0, "7", 1};
    assert_ok(ruv__lake_witness_v1("x", 1, 1, 0, 1, &a, w[0]));
    assert_ok(ruv__lake_witness_v1("x", 1, 1, 0, 1, &b, w[1]));
    assert_memory_not_equal(w[0], w[1], 32);
    /* Numeric 7 and opaque "7" differ (the generation tag). */
    assert_ok(ruv__lake_witness_v1("x", 1, 1, 0, 1, &g7, w[2]));
    assert_ok(ruv__lake_witness_v1("x", 1, 1, 0, 1, &seven, w[3]));
    assert_memory_not_equal(w[2], w[3], 32);
    /* data_ref "ab" + dim vs data_ref "a" + ...: the length prefix again. */
    assert_ok(ruv__lake_witness_v1("ab", 2, 1, 0, 1, &g7, w[4]));
    assert_ok(ruv__lake_witness_v1("a", 1, 1, 0, 1, &g7, w[5]));
    assert_memory_not_equal(w[4], w[5], 32);
}

static const uint64_t doc_ids[4] = {7, 42, 99, 2000};
static const float doc_rows[16] = {1, 2, 3, 4, 0.5f, -0.5f, 0.25f, -0.25f,
                                   -1, -2, -3, -4, 8, 16, 32, 64};
#define DOC_DIGEST "3de7bfbad5f7366a26d126d44b23a0037301c24f5c4a99fb7d7c02dda20fd7c3"

static void spec_content_digest_v2(void **state)
{
    (void)state;
    uint8_t d[32], v1[32], v2[32];
    assert_ok(ruv__lake_content_digest(doc_ids, doc_rows, NULL, 4, 4, d));
    assert_hex(d, 32, DOC_DIGEST);

    /* The same rows pulled in another order, hashed through a permutation. */
    uint64_t ids_rev[4] = {2000, 99, 42, 7};
    float rows_rev[16];
    for (int r = 0; r < 4; r++)
        memcpy(rows_rev + 4 * r, doc_rows + 4 * (3 - r), 16);
    const uint64_t order[4] = {3, 2, 1, 0};
    assert_ok(ruv__lake_content_digest(ids_rev, rows_rev, order, 4, 4, d));
    assert_hex(d, 32, DOC_DIGEST);

    char p[RUV_LAKE_PARAMS_MAX];
    assert_ok(ruv__lake_index_params(p, sizeof p, "l2", 1, 0));
    assert_string_equal(p, "index=rabitq_plus;metric=l2;bits=1;nlist=0");
    struct ruv__lake_gen g = {0, 1, NULL, 0};
    static const char ref[] = "local://hot-shard/docs";
    assert_ok(ruv__lake_witness_v1(ref, sizeof ref - 1, 4, 42, 20, &g, v1));
    assert_hex(v1, 32, "cfbc83a2e5561551db0843faa85b920d5bb6fa01f6b7190c61e32db7b9b0d365");
    assert_ok(ruv__lake_witness_v2(v1, p, strlen(p), d, v2));
    assert_hex(v2, 32, "2f92ba472c8cd0a4dd6274fc67857aa0d567096be766d20148d0ea132dae1076");

    float changed[16];
    memcpy(changed, doc_rows, sizeof changed);
    changed[11] = -4.5f;
    assert_ok(ruv__lake_content_digest(doc_ids, changed, NULL, 4, 4, d));
    assert_hex(d, 32, "00d564df51bc4e34287195b787c9cf18f6faa9db616e539d621792551a178368");
    assert_ok(ruv__lake_witness_v2(v1, p, strlen(p), d, v2));
    assert_hex(v2, 32, "b3b782b8bfe257ba6e88ca2512561e1870df2190d72e122e32cb937fc94a2e7e");

    /* -0.0 and +0.0 are different bytes, so a different digest. */
    uint8_t plus[32], minus[32];
    const float pz = 0.0f, mz = -0.0f;
    const uint64_t one = 1;
    assert_ok(ruv__lake_content_digest(&one, &pz, NULL, 1, 1, plus));
    assert_ok(ruv__lake_content_digest(&one, &mz, NULL, 1, 1, minus));
    assert_memory_not_equal(plus, minus, 32);

    assert_ok(ruv__lake_content_digest(NULL, NULL, NULL, 0, 4, d));
    assert_hex(d, 32, "2d02d3a8bdc3d98e2cd790b287f80c75bb61fc7be6b1fb6c8af4ee9249660561");
}

static void spec_two_leaves(void **state)
{
    (void)state;
    enum { N = 20000 };
    uint64_t *ids = malloc(N * sizeof *ids);
    float *rows = malloc(N * 4 * sizeof *rows);
    assert_non_null(ids);
    assert_non_null(rows);
    for (int i = 0; i < N; i++) {
        ids[i] = 3u * (uint64_t)i + 1;
        rows[4 * i] = (float)(i % 7);
        rows[4 * i + 1] = (i % 5) ? -(float)(i % 5) : 0.0f; /* 0 is +0.0 */
        rows[4 * i + 2] = 0.5f;
        rows[4 * i + 3] = 1.0f;
    }
    uint8_t d[32];
    assert_ok(ruv__lake_content_digest(ids, rows, NULL, N, 4, d));
    assert_hex(d, 32, "51fe9d213a9534df13b6c6bb3c52fce384b95deb67cf490bc250342f5524d473");
    free(ids);
    free(rows);
}

static void rows_refused(void **state)
{
    (void)state;
    uint8_t d[32];
    const uint64_t dup[2] = {5, 5}, back[3] = {1, 9, 4};
    const float ok3[3] = {1, 2, 3};
    assert_status(ruv__lake_content_digest(dup, ok3, NULL, 2, 1, d), RUV_E_INVAL,
                  "duplicate id 5");
    assert_status(ruv__lake_content_digest(back, ok3, NULL, 3, 1, d), RUV_E_INVAL,
                  "ids not ascending at id 4");
    const float nan_row[2] = {1, __builtin_nanf("")};
    assert_status(ruv__lake_content_digest(dup, nan_row, NULL, 1, 2, d), RUV_E_INVAL,
                  "id 5: component 1 is NaN");
    const float inf_row[1] = {__builtin_inff()};
    assert_status(ruv__lake_content_digest(back, inf_row, NULL, 1, 1, d), RUV_E_INVAL,
                  "id 1: component 0 is infinite");
    assert_status(ruv__lake_content_digest(dup, ok3, NULL, 0, 0, d), RUV_E_INVAL, "dim");
    char p[RUV_LAKE_PARAMS_MAX];
    assert_status(ruv__lake_index_params(p, sizeof p, "hamming", 1, 0), RUV_E_INVAL,
                  "metric 'hamming'");
    assert_status(ruv__lake_index_params(p, sizeof p, "ip", 9, 0), RUV_E_INVAL, "bits 9");
}

static void meta_digest_and_signature(void **state)
{
    (void)state;
    struct ruv__lake_meta m = {.format_version = 2, .ext_version = 1, .backend = "hot-shard",
                               .collection = "docs"};
    uint8_t meta[32], v2[32], priv[32], pub[32], sig[64], msg[RUV_LAKE_SIG_MSG_BYTES];
    assert_ok(ruv__lake_meta_digest(&m, meta));
    assert_hex(meta, 32, "6d4ab6e2f710ed5dc46adecd0d8462c524a84e2bef18f836522e8153f6aebad6");
    /* An empty string is present, not null. */
    uint8_t other[32];
    m.pii_policy = "";
    assert_ok(ruv__lake_meta_digest(&m, other));
    assert_memory_not_equal(meta, other, 32);

    unhex_or_die(rfc8032_priv, priv, 32);
    assert_ok(ruv__lake_ed25519_public(priv, pub));
    assert_hex(pub, 32, rfc8032_pub);
    char kid[17];
    assert_ok(ruv__lake_key_id(pub, kid));
    assert_string_equal(kid, "7cb16e94954c73e7");

    /* RFC 8032 test 1: the empty message. */
    assert_ok(ruv__lake_ed25519_sign(priv, "", 0, sig));
    assert_hex(sig, 64, rfc8032_sig_empty);
    assert_ok(ruv__lake_ed25519_verify(pub, "", 0, sig));

    unhex_or_die("2f92ba472c8cd0a4dd6274fc67857aa0d567096be766d20148d0ea132dae1076", v2, 32);
    ruv__lake_signature_message(v2, meta, msg);
    assert_ok(ruv__lake_ed25519_sign(priv, msg, sizeof msg, sig));
    assert_hex(sig, 64,
               "28cbcc13f55f71735bbf5c54a23f29fcfab3094bfa1cde16407f824c7adf6c81ef00b0bad27f3a39ba"
               "85c78b0e3b76de20fdfd624920b6bca9976824050dc603");
    assert_ok(ruv__lake_ed25519_verify(pub, msg, sizeof msg, sig));
    sig[10] ^= 1;
    assert_status(ruv__lake_ed25519_verify(pub, msg, sizeof msg, sig), RUV_E_INTEGRITY,
                  "does not verify");
    sig[10] ^= 1;
    msg[sizeof msg - 1] ^= 0x80;
    assert_status(ruv__lake_ed25519_verify(pub, msg, sizeof msg, sig), RUV_E_INTEGRITY,
                  "does not verify");
}

static void streaming_equals_one_shot(void **state)
{
    (void)state;
    uint8_t a[64], b[64];
    struct ruv__lake_shake *h;
    assert_ok(ruv__lake_shake_new(&h));
    assert_ok(ruv__lake_shake_update(h, "hello ", 6));
    assert_ok(ruv__lake_shake_update(h, "", 0));
    assert_ok(ruv__lake_shake_update(h, "world", 5));
    assert_ok(ruv__lake_shake_final(h, a, sizeof a));
    const struct ruv__lake_span s = {"hello world", 11};
    assert_ok(ruv__lake_shake256(&s, 1, b, sizeof b));
    assert_memory_equal(a, b, sizeof a);
    /* FIPS 202 SHAKE256("") starts 46b9dd2b0ba88d13. */
    const struct ruv__lake_span e = {"", 0};
    assert_ok(ruv__lake_shake256(&e, 1, b, 8));
    assert_hex(b, 8, "46b9dd2b0ba88d13");
    assert_status(ruv__lake_shake_update(NULL, "x", 1), RUV_E_INVAL, "without a context");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(missing_libcrypto_is_a_clear_error),
        cmocka_unit_test(spec_v1_vectors),
        cmocka_unit_test(v1_moves_with_every_field),
        cmocka_unit_test(spec_content_digest_v2),
        cmocka_unit_test(spec_two_leaves),
        cmocka_unit_test(rows_refused),
        cmocka_unit_test(meta_digest_and_signature),
        cmocka_unit_test(streaming_equals_one_shot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
