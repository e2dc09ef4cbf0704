/* table.rulake.json (rulake.md §10.1, §6.4-6.5): the spec's example bundle
 * bit for bit, write/read round trips, ruvector's own bundles, and one
 * test per rejection rule of the strict reader and of the integrity checks. */
#include "config.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lake_example.h"
#include "crypto.h"
#include "sidecar.h"
#include "witness.h"

/* The §6.4 example, sealed (and signed with the RFC 8032 key when sign). */
static struct ruv__lake_sidecar *example(int sign)
{
    struct ruv__lake_sidecar *sc = example_unsealed();
    uint8_t priv[32];
    unhex_or_die(rfc8032_priv, priv, 32);
    assert_ok(ruv__lake_sidecar_seal(sc, sign ? priv : NULL));
    return sc;
}

static char *dump(const struct ruv__lake_sidecar *sc)
{
    char *text;
    assert_ok(ruv__lake_sidecar_dump(sc, &text));
    return text;
}

static int parse(const char *text, struct ruv__lake_sidecar *sc)
{
    return ruv__lake_sidecar_parse(text, strlen(text), sc);
}

static void spec_example_sealed(void **state)
{
    (void)state;
    struct ruv__lake_sidecar *sc = example(1);
    assert_int_equal(sc->format_version, 2);
    assert_hex(sc->rvf_witness, 32,
               "cfbc83a2e5561551db0843faa85b920d5bb6fa01f6b7190c61e32db7b9b0d365");
    assert_hex(sc->witness_v2, 32,
               "2f92ba472c8cd0a4dd6274fc67857aa0d567096be766d20148d0ea132dae1076");
    assert_hex(sc->meta_digest, 32,
               "6d4ab6e2f710ed5dc46adecd0d8462c524a84e2bef18f836522e8153f6aebad6");
    assert_string_equal(sc->key_id, "7cb16e94954c73e7");
    assert_hex(sc->signature, 64,
               "28cbcc13f55f71735bbf5c54a23f29fcfab3094bfa1cde16407f824c7adf6c81ef00b0bad27f3a39ba"
               "85c78b0e3b76de20fdfd624920b6bca9976824050dc603");
    /* ruvector's members first, in its order, then rulake_ext. */
    char *text = dump(sc);
    const char *order[] = {"format_version", "data_ref",    "dim",        "rotation_seed",
                           "rerank_factor",  "generation",  "rvf_witness", "pii_policy",
                           "lineage_id",     "rulake_ext"};
    const char *at = text;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        char key[40];
        snprintf(key, sizeof key, "\"%s\"", order[i]);
        const char *p = strstr(at, key);
        if (!p)
            fail_msg("'%s' missing or out of order in\n%s", order[i], text);
        at = p;
    }
    assert_null(strstr(text, "memory_class")); /* omitted when absent, as ruvector does */
    free(text);
    free(sc);
}

static void round_trip_through_a_directory(void **state)
{
    (void)state;
    char dir[] = "/tmp/rulake-sidecar-XXXXXX";
    assert_non_null(mkdtemp(dir));
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    assert_true(dfd >= 0);
    struct ruv__lake_sidecar *sc = example(1), *back = malloc(sizeof *back);
    sc->pii_policy.present = 1;
    strcpy(sc->pii_policy.s, "pii://policies/default");
    sc->memory_class.present = 1;
    strcpy(sc->memory_class.s, "episodic");
    sc->has_index = 1;
    strcpy(sc->index_file, "index-2f92ba472c8cd0a4dd6274fc67857aa0.idx");
    sc->index_bytes = 123456;
    memset(sc->index_shake256, 0xab, 32);
    uint8_t priv[32], pub[1][32];
    unhex_or_die(rfc8032_priv, priv, 32);
    unhex_or_die(rfc8032_pub, pub[0], 32);
    assert_ok(ruv__lake_sidecar_seal(sc, priv));
    assert_ok(ruv__lake_sidecar_write_at(dfd, sc));
    assert_ok(ruv__lake_sidecar_read_at(dfd, RUV_LAKE_SIDECAR_NAME, back));
    assert_memory_equal(sc, back, sizeof *sc);
    assert_ok(ruv__lake_sidecar_verify(back, pub, 1, dir));
    /* The write left no temp behind. */
    char cmd[128];
    snprintf(cmd, sizeof cmd, "test \"$(ls -A %s)\" = table.rulake.json", dir);
    assert_int_equal(system(cmd), 0);
    unlinkat(dfd, RUV_LAKE_SIDECAR_NAME, 0);
    close(dfd);
    rmdir(dir);
    free(sc);
    free(back);
}

/* A bundle as ruvector writes it: format 1, no rulake_ext. */
static void ruvector_bundle_reads_and_verifies(void **state)
{
    (void)state;
    static const char text[] =
        "{\n  \"format_version\": 1,\n  \"data_ref\": \"gs://bucket/x.parquet\",\n"
        "  \"dim\": 128,\n  \"rotation_seed\": 42,\n  \"rerank_factor\": 20,\n"
        "  \"generation\": 7,\n  \"rvf_witness\": "
        "\"7eac1775d1f76a4db88672655fc64977287ec60eda47c6df3a19bacfd0c038cd\",\n"
        "  \"pii_policy\": \"pii://policies/default\",\n  \"lineage_id\": null\n}";
    struct ruv__lake_sidecar *sc = malloc(sizeof *sc);
    assert_ok(parse(text, sc));
    assert_false(sc->has_ext);
    assert_int_equal(sc->format_version, 1);
    assert_int_equal(sc->gen_num, 7);
    assert_true(sc->pii_policy.present);
    assert_false(sc->lineage_id.present);
    assert_ok(ruv__lake_sidecar_verify(sc, NULL, 0, "ruvector"));
    /* An opaque generation with NUL bytes (spec vector 3) survives JSON. */
    static const char nul_gen[] =
        "{\"format_version\":1,\"data_ref\":\"x\",\"dim\":1,\"rotation_seed\":0,"
        "\"rerank_factor\":1,\"generation\":\"\\u0007\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000"
        "\\u0000\",\"rvf_witness\":"
        "\"a19518def03e50a5dd1c34204cf5ac2df34051041a358044c078f790cf0a3afc\","
        "\"pii_policy\":null,\"lineage_id\":null}";
    assert_ok(parse(nul_gen, sc));
    assert_int_equal(sc->gen_len, 8);
    assert_ok(ruv__lake_sidecar_verify(sc, NULL, 0, "nul"));
    char *again = dump(sc);
    struct ruv__lake_sidecar *back = malloc(sizeof *back);
    assert_ok(parse(again, back));
    assert_memory_equal(sc, back, sizeof *sc);
    free(again);
    free(back);
    free(sc);
}

/* Replaces the first occurrence of from with to in a copy of text. */
static char *edit(const char *text, const char *from, const char *to)
{
    const char *p = strstr(text, from);
    if (!p)
        fail_msg("'%s' not in\n%s", from, text);
    size_t a = (size_t)(p - text), fl = strlen(from), tl = strlen(to);
    char *out = malloc(strlen(text) - fl + tl + 1);
    memcpy(out, text, a);
    memcpy(out + a, to, tl);
    strcpy(out + a + tl, p + fl);
    return out;
}

/* Sets a member (by path "a" or "a.b") through jansson and re-dumps. */
static char *with_member(const char *text, const char *obj, const char *key, json_t *value)
{
    json_t *root = json_loads(text, 0, NULL);
    assert_non_null(root);
    json_t *target = obj ? json_object_get(root, obj) : root;
    if (obj && strchr(obj, '.')) {
        char a[32], *b;
        snprintf(a, sizeof a, "%s", obj);
        b = strchr(a, '.');
        *b++ = '\0';
        target = json_object_get(json_object_get(root, a), b);
    }
    assert_non_null(target);
    if (value)
        json_object_set_new(target, key, value);
    else
        json_object_del(target, key);
    char *out = json_dumps(root, JSON_INDENT(2));
    json_decref(root);
    return out;
}

struct refusal {
    const char *what;
    char *text;
    const char *fragment;
};

static void each_rule_refuses(void **state)
{
    (void)state;
    struct ruv__lake_sidecar *sc = example(1), *out = malloc(sizeof *out);
    sc->has_index = 1;
    strcpy(sc->index_file, "index-00112233445566778899aabbccddeeff.idx");
    sc->index_bytes = 10;
    assert_ok(ruv__lake_sidecar_seal(sc, NULL));
    sc->has_signature = 1; /* a signature object to damage (its value is not checked here) */
    strcpy(sc->key_id, "7cb16e94954c73e7");
    char *good = dump(sc);
    assert_ok(parse(good, out));
    char big[RUV_LAKE_STRING_MAX + 2], gen[RUV_LAKE_OPAQUE_GEN_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    memset(gen, 'g', sizeof gen - 1);
    gen[sizeof gen - 1] = '\0';
    struct refusal cases[] = {
        {"not JSON", strdup("{\"format_version\": 2,"), "invalid JSON"},
        {"trailing bytes", edit(good, "\n}", "\n} x"), "invalid JSON"},
        {"top level", strdup("[1, 2]"), "top level must be a JSON object"},
        {"duplicate key", edit(good, "\"dim\": 4", "\"dim\": 4, \"dim\": 4"), "duplicate"},
        {"duplicate in ext", edit(good, "\"count\": 4", "\"count\": 4, \"count\": 5"),
         "duplicate"},
        {"integer > 2^63-1", edit(good, "\"rotation_seed\": 42",
                                  "\"rotation_seed\": 9223372036854775808"), "2^63 - 1"},
        {"negative", edit(good, "\"rerank_factor\": 20", "\"rerank_factor\": -1"),
         "'rerank_factor' must not be negative"},
        {"real", edit(good, "\"dim\": 4", "\"dim\": 4.0"), "'dim' must be an integer"},
        {"dim 0", edit(good, "\"dim\": 4", "\"dim\": 0"), "'dim' must be at least 1"},
        {"format 3", edit(good, "\"format_version\": 2", "\"format_version\": 3"),
         "knows 0 to 2"},
        {"ext 2", edit(good, "\"ext_version\": 1", "\"ext_version\": 2"), "knows only 1"},
        {"ext 0", edit(good, "\"ext_version\": 1", "\"ext_version\": 0"), "knows only 1"},
        {"unknown in ext", with_member(good, "rulake_ext", "extra", json_true()),
         "unknown member 'extra' in rulake_ext"},
        {"unknown in index", with_member(good, "rulake_ext.index", "path", json_string("/x")),
         "unknown member 'path' in rulake_ext.index"},
        {"unknown in signature", with_member(good, "rulake_ext.signature", "x", json_null()),
         "unknown member 'x' in rulake_ext.signature"},
        {"string > 4 KiB", with_member(good, NULL, "data_ref", json_string(big)),
         "'data_ref' is 4097 bytes, over the 4096-byte limit"},
        {"label > 4 KiB", with_member(good, NULL, "lineage_id", json_string(big)),
         "'lineage_id' is 4097 bytes"},
        {"opaque gen > 1 KiB", with_member(good, NULL, "generation", json_string(gen)),
         "'generation' is 1025 bytes, over the 1024-byte limit"},
        {"NUL in a string", edit(good, "\"docs\"", "\"do\\u0000cs\""),
         "'rulake_ext.collection' contains a NUL character"},
        {"uppercase hex", edit(good, "\"cfbc83a2", "\"CFBC83A2"),
         "'rvf_witness' must be exactly 64 lowercase hex digits"},
        {"63 hex", edit(good, "\"3de7bfba", "\"3de7bfb"), "'rulake_ext.content_digest' must be"},
        {"65 hex", edit(good, "\"2f92ba47", "\"02f92ba47"), "'rulake_ext.witness_v2' must be"},
        {"hex as number", with_member(good, "rulake_ext", "meta_digest", json_integer(5)),
         "'rulake_ext.meta_digest' must be a string"},
        {"short signature", with_member(good, "rulake_ext.signature", "sig", json_string("ab")),
         "must be exactly 128 lowercase hex digits"},
        {"short key_id", with_member(good, "rulake_ext.signature", "key_id",
                                     json_string("7cb16e94")), "exactly 16 lowercase hex"},
        {"alg", with_member(good, "rulake_ext.signature", "alg", json_string("rsa")),
         "must be \"ed25519\""},
        {"signature, no meta", with_member(good, "rulake_ext", "meta_digest", NULL),
         "needs a meta_digest"},
        {"index file traversal", with_member(good, "rulake_ext.index", "file",
                                             json_string("../../etc/passwd")),
         "must be index-<32 lowercase hex>.idx"},
        {"index file suffix", edit(good, "eeff.idx", "eeff.idx2"), "index-<32"},
        {"missing dim", with_member(good, NULL, "dim", NULL), "missing 'dim'"},
        {"missing witness", with_member(good, NULL, "rvf_witness", NULL), "missing 'rvf_witness'"},
        {"missing v2", with_member(good, "rulake_ext", "witness_v2", NULL),
         "missing 'witness_v2' in rulake_ext"},
        {"missing index.bytes", with_member(good, "rulake_ext.index", "bytes", NULL),
         "missing 'bytes' in rulake_ext.index"},
        {"generation type", with_member(good, NULL, "generation", json_true()),
         "'generation' must be an integer or a string"},
        {"label type", with_member(good, NULL, "pii_policy", json_integer(1)),
         "'pii_policy' must be a string"},
        {"ext type", with_member(good, NULL, "rulake_ext", json_string("x")),
         "'rulake_ext' must be an object"},
        {"index type", with_member(good, "rulake_ext", "index", json_integer(3)),
         "must be an object or null"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int st = parse(cases[i].text, out);
        if (st != RUV_E_CORRUPT || !strstr(ruv__detail_get(), cases[i].fragment))
            fail_msg("case '%s': status %d, detail '%s', want '%s'", cases[i].what, st,
                     ruv__detail_get(), cases[i].fragment);
        free(cases[i].text);
    }
    /* Members we do not know at the top level are ignored, as ruvector's
     * reader ignores rulake_ext. */
    char *extra = with_member(good, NULL, "future_field", json_true());
    assert_ok(parse(extra, out));
    free(extra);
    free(good);
    free(sc);
    free(out);
}

static void integrity_checks(void **state)
{
    (void)state;
    uint8_t pub[2][32], priv2[32];
    unhex_or_die(rfc8032_pub, pub[0], 32);
    memset(priv2, 7, sizeof priv2);
    assert_ok(ruv__lake_ed25519_public(priv2, pub[1]));
    struct ruv__lake_sidecar *signed_sc = example(1), *sc = malloc(sizeof *sc);

    *sc = *signed_sc;
    assert_ok(ruv__lake_sidecar_verify(sc, pub, 2, "b"));
    assert_ok(ruv__lake_sidecar_verify(sc, NULL, 0, "b"));
    sc->dim = 5; /* any v1 field */
    assert_status(ruv__lake_sidecar_verify(sc, NULL, 0, "b/table.rulake.json"),
                  RUV_E_INTEGRITY, "b/table.rulake.json: rvf_witness (v1) does not match");
    *sc = *signed_sc;
    sc->gen_num = 2;
    assert_status(ruv__lake_sidecar_verify(sc, NULL, 0, "b"), RUV_E_INTEGRITY, "(v1)");
    *sc = *signed_sc;
    sc->content_digest[0] ^= 1;
    assert_status(ruv__lake_sidecar_verify(sc, NULL, 0, "b"), RUV_E_INTEGRITY,
                  "witness_v2 does not match");
    *sc = *signed_sc;
    strcpy(sc->index_params, "index=rabitq_plus;metric=ip;bits=1;nlist=0");
    assert_status(ruv__lake_sidecar_verify(sc, NULL, 0, "b"), RUV_E_INTEGRITY,
                  "witness_v2 does not match");
    *sc = *signed_sc;
    strcpy(sc->collection.s, "other"); /* a label: outside the witnesses, inside meta */
    assert_status(ruv__lake_sidecar_verify(sc, NULL, 0, "b"), RUV_E_INTEGRITY,
                  "meta_digest does not match");
    *sc = *signed_sc;
    sc->memory_class.present = 1;
    assert_status(ruv__lake_sidecar_verify(sc, NULL, 0, "b"), RUV_E_INTEGRITY,
                  "meta_digest");

    /* Authenticity only with keys: a resealed (edited) bundle passes the
     * checksums but not the signature. */
    *sc = *signed_sc;
    sc->signature[5] ^= 1;
    assert_ok(ruv__lake_sidecar_verify(sc, NULL, 0, "b"));
    assert_status(ruv__lake_sidecar_verify(sc, pub, 1, "b"), RUV_E_INTEGRITY,
                  "signature by key_id 7cb16e94954c73e7 does not verify");
    *sc = *signed_sc;
    assert_status(ruv__lake_sidecar_verify(sc, pub + 1, 1, "b"), RUV_E_INTEGRITY,
                  "not a configured public key");
    struct ruv__lake_sidecar *unsigned_sc = example(0);
    assert_false(unsigned_sc->has_signature);
    assert_ok(ruv__lake_sidecar_verify(unsigned_sc, NULL, 0, "b"));
    assert_status(ruv__lake_sidecar_verify(unsigned_sc, pub, 2, "b"), RUV_E_INTEGRITY,
                  "unsigned, but public keys are configured");
    /* Signed by the second key, checked against both. */
    *sc = *unsigned_sc;
    assert_ok(ruv__lake_sidecar_seal(sc, priv2));
    assert_ok(ruv__lake_sidecar_verify(sc, pub, 2, "b"));
    free(unsigned_sc);
    free(signed_sc);
    free(sc);
}

static void writer_refuses_what_the_reader_would(void **state)
{
    (void)state;
    struct ruv__lake_sidecar *sc = example(0);
    char *text;
    sc->rotation_seed = UINT64_C(1) << 63;
    assert_status(ruv__lake_sidecar_dump(sc, &text), RUV_E_INVAL, "'rotation_seed'");
    assert_null(text);
    sc->rotation_seed = 42;
    strcpy(sc->lineage_id.s, "\xff\xfe");
    sc->lineage_id.present = 1;
    assert_status(ruv__lake_sidecar_dump(sc, &text), RUV_E_INVAL, "'lineage_id'");
    sc->lineage_id.present = 0;
    sc->has_ext = 0;
    uint8_t key[32] = {1};
    assert_status(ruv__lake_sidecar_seal(sc, key), RUV_E_INVAL, "needs rulake_ext");
    free(sc);
}

static void file_rules(void **state)
{
    (void)state;
    char dir[] = "/tmp/rulake-sidecar-XXXXXX";
    assert_non_null(mkdtemp(dir));
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    struct ruv__lake_sidecar *sc = example(0), *out = malloc(sizeof *out);
    assert_status(ruv__lake_sidecar_read_at(dfd, RUV_LAKE_SIDECAR_NAME, out), RUV_E_NOTFOUND,
                  "table.rulake.json: no such file");
    assert_ok(ruv__lake_sidecar_write_at(dfd, sc));
    /* A symlink to a good sidecar is still refused. */
    assert_int_equal(symlinkat(RUV_LAKE_SIDECAR_NAME, dfd, "link.json"), 0);
    assert_status(ruv__lake_sidecar_read_at(dfd, "link.json", out), RUV_E_CORRUPT,
                  "symbolic link");
    assert_int_equal(mkdirat(dfd, "adir", 0700), 0);
    assert_status(ruv__lake_sidecar_read_at(dfd, "adir", out), RUV_E_CORRUPT,
                  "not a regular file");
    assert_int_equal(mkfifoat(dfd, "fifo", 0600), 0);
    assert_status(ruv__lake_sidecar_read_at(dfd, "fifo", out), RUV_E_CORRUPT,
                  "not a regular file");
    /* Over 64 KiB: refused from fstat, whatever the content. */
    int fd = openat(dfd, "big.json", O_WRONLY | O_CREAT, 0600);
    assert_int_equal(ftruncate(fd, RUV_LAKE_SIDECAR_MAX + 1), 0);
    close(fd);
    assert_status(ruv__lake_sidecar_read_at(dfd, "big.json", out), RUV_E_CORRUPT,
                  "65537 bytes, over the 65536-byte limit");
    /* Truncated: a prefix of a good file. */
    char *text = dump(sc);
    fd = openat(dfd, "cut.json", O_WRONLY | O_CREAT, 0600);
    assert_int_equal(write(fd, text, strlen(text) / 2), (ssize_t)(strlen(text) / 2));
    close(fd);
    assert_status(ruv__lake_sidecar_read_at(dfd, "cut.json", out), RUV_E_CORRUPT,
                  "cut.json: invalid JSON");
    /* Exactly at the limit is fine structurally (padded with spaces). */
    char *padded = malloc(RUV_LAKE_SIDECAR_MAX);
    memset(padded, ' ', RUV_LAKE_SIDECAR_MAX);
    memcpy(padded, text, strlen(text));
    fd = openat(dfd, "max.json", O_WRONLY | O_CREAT, 0600);
    assert_int_equal(write(fd, padded, RUV_LAKE_SIDECAR_MAX), RUV_LAKE_SIDECAR_MAX);
    close(fd);
    assert_ok(ruv__lake_sidecar_read_at(dfd, "max.json", out));
    free(padded);
    free(text);
    const char *names[] = {RUV_LAKE_SIDECAR_NAME, "link.json", "fifo", "big.json", "cut.json",
                           "max.json"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        unlinkat(dfd, names[i], 0);
    unlinkat(dfd, "adir", AT_REMOVEDIR);
    close(dfd);
    assert_int_equal(rmdir(dir), 0);
    free(sc);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spec_example_sealed),
        cmocka_unit_test(round_trip_through_a_directory),
        cmocka_unit_test(ruvector_bundle_reads_and_verifies),
        cmocka_unit_test(each_rule_refuses),
        cmocka_unit_test(integrity_checks),
        cmocka_unit_test(writer_refuses_what_the_reader_would),
        cmocka_unit_test(file_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
