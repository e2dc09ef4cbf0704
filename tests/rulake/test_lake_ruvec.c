/* FsBackend files (rulake.md §10.2): ruvec2 written and read back, the
 * filename rules, and one test per rejection rule of the ruvec2 and ruvec1
 * readers, on files damaged in place. */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/host.h"
#include "crypto.h"
#include "lake_test.h"
#include "lake_write.h"
#include "ruvec.h"
#include "witness.h"

static char dir[] = "/tmp/rulake-ruvec-XXXXXX";
static int dfd = -1;

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    dfd = open(dir, O_RDONLY | O_DIRECTORY);
    return dfd >= 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[64];
    close(dfd);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* The §6.4 rows, pulled in another order, plus 2^64 - 1. */
static const uint64_t ids5[5] = {2000, UINT64_MAX, 7, 99, 42};
static const float rows5[20] = {8, 16, 32, 64, 9, 9, 9, 9, 1, 2, 3, 4, -1, -2, -3, -4,
                                0.5f, -0.5f, 0.25f, -0.25f};

static void write_read_round_trip(void **state)
{
    (void)state;
    struct ruv__lake_ruvec_info w, d, r;
    struct ruv__lake_ruvec_rows rows;
    assert_ok(ruv__lake_ruvec2_write_at(dfd, "five.ruvec", ids5, rows5, 5, 4, &w));
    assert_int_equal(w.version, 2);
    assert_int_equal(w.count, 5);
    assert_int_equal(w.vectors_offset, 192); /* 128 + 40 rounded up to 64 */
    assert_int_equal(w.file_size, 192 + 5 * 16);
    assert_int_equal(strlen(w.generation), 32);
    assert_ok(ruv__lake_ruvec_describe_at(dfd, "five.ruvec", &d));
    assert_memory_equal(&w, &d, sizeof w);
    assert_ok(ruv__lake_ruvec_read_at(dfd, "five.ruvec", &r, &rows));
    assert_memory_equal(&w, &r, sizeof w);
    const uint64_t want_ids[5] = {7, 42, 99, 2000, UINT64_MAX};
    const float want[20] = {1, 2, 3, 4, 0.5f, -0.5f, 0.25f, -0.25f, -1, -2, -3, -4,
                            8, 16, 32, 64, 9, 9, 9, 9};
    assert_int_equal(rows.n, 5);
    assert_memory_equal(rows.ids, want_ids, sizeof want_ids);
    assert_memory_equal(rows.vectors, want, sizeof want);
    ruv__lake_ruvec_rows_free(&rows);

    /* The spec's four rows give the spec's content digest in the header. */
    assert_ok(ruv__lake_ruvec2_write_at(dfd, "docs.ruvec", ids5 + 2, rows5 + 8, 3, 4, &w));
    const uint64_t four_ids[4] = {2000, 7, 99, 42};
    float four[16];
    memcpy(four, rows5, 16);
    memcpy(four + 4, rows5 + 8, 48);
    assert_ok(ruv__lake_ruvec2_write_at(dfd, "docs.ruvec", four_ids, four, 4, 4, &w));
    assert_hex(w.content_digest, 32,
               "3de7bfbad5f7366a26d126d44b23a0037301c24f5c4a99fb7d7c02dda20fd7c3");

    /* Same rows again: same digest, new generation (no mtime involved). */
    struct ruv__lake_ruvec_info again;
    assert_ok(ruv__lake_ruvec2_write_at(dfd, "docs.ruvec", four_ids, four, 4, 4, &again));
    assert_memory_equal(w.content_digest, again.content_digest, 32);
    assert_string_not_equal(w.generation, again.generation);

    /* Empty collection. */
    assert_ok(ruv__lake_ruvec2_write_at(dfd, "empty.ruvec", NULL, NULL, 0, 3, &w));
    assert_ok(ruv__lake_ruvec_read_at(dfd, "empty.ruvec", &r, &rows));
    assert_int_equal(rows.n, 0);
    assert_int_equal(r.file_size, 128);
    ruv__lake_ruvec_rows_free(&rows);
}

static void writer_refusals(void **state)
{
    (void)state;
    const uint64_t dup[2] = {3, 3};
    const float two[2] = {1, 2}, nan1[2] = {1, __builtin_nanf("")};
    assert_status(ruv__lake_ruvec2_write_at(dfd, "w.ruvec", dup, two, 2, 1, NULL), RUV_E_INVAL,
                  "duplicate id 3");
    assert_status(ruv__lake_ruvec2_write_at(dfd, "w.ruvec", ids5, nan1, 1, 2, NULL),
                  RUV_E_INVAL, "is NaN");
    assert_status(ruv__lake_ruvec2_write_at(dfd, "w.ruvec", ids5, two, 1, 0, NULL), RUV_E_INVAL,
                  "dim 0 is outside 1..8192");
    assert_status(ruv__lake_ruvec2_write_at(dfd, "w.ruvec", ids5, two, 1, 8193, NULL),
                  RUV_E_INVAL, "dim 8193");
    assert_status(ruv__lake_ruvec2_write_at(dfd, "../w.ruvec", ids5, two, 1, 1, NULL),
                  RUV_E_INVAL, "file name has '/'");
    assert_int_equal(faccessat(dfd, "w.ruvec", F_OK, 0), -1); /* nothing written */
}

static int fill_then_fail(struct ruv__lake_out *out, void *ctx)
{
    (void)ctx;
    assert_ok(ruv__lake_out_write(out, "partial", 7, "partial"));
    return ruv__detail_set(RUV_E_NOMEM, "simulated failure");
}

static int fill_hello(struct ruv__lake_out *out, void *ctx)
{
    return ruv__lake_out_write(out, ctx, strlen(ctx), "hello");
}

/* A failing fill leaves the old file and no temp, through the local
 * fallback (host NULL) and through the engine's routine (the whitebox
 * host table the loader gives plugins). */
static void write_at_all_or_nothing_in(const char *subdir)
{
    char sub[64], buf[16] = {0};
    snprintf(sub, sizeof sub, "%s/%s", dir, subdir);
    assert_int_equal(mkdir(sub, 0700), 0);
    int sfd = open(sub, O_RDONLY | O_DIRECTORY);
    assert_ok(ruv__lake_write_at(sfd, "f", fill_hello, "first"));
    assert_status(ruv__lake_write_at(sfd, "f", fill_then_fail, NULL), RUV_E_NOMEM,
                  "simulated failure");
    int fd = openat(sfd, "f", O_RDONLY);
    assert_int_equal(read(fd, buf, sizeof buf - 1), 5);
    close(fd);
    assert_string_equal(buf, "first");
    assert_ok(ruv__lake_write_at(sfd, "f", fill_hello, "second"));
    char cmd[256];
    snprintf(cmd, sizeof cmd, "test \"$(ls -A %s)\" = f && grep -qx second %s/f", sub, sub);
    assert_int_equal(system(cmd), 0);
    close(sfd);
}

static void write_at_is_all_or_nothing(void **state)
{
    (void)state;
    write_at_all_or_nothing_in("atomic");
}

static void write_at_through_the_host(void **state)
{
    (void)state;
    ruv__lake_write_use_host(&ruv__host_services);
    write_at_all_or_nothing_in("hosted");
    /* Only the engine's routine removes a dead writer's temporary (its
     * lock is free): the sign that the write went through host->file. */
    char stale[128], sub[64];
    snprintf(sub, sizeof sub, "%s/hosted", dir);
    snprintf(stale, sizeof stale, "%s/.f.tmp.1.2.0123456789abcdef", sub);
    int fd = open(stale, O_WRONLY | O_CREAT | O_EXCL, 0644);
    assert_true(fd >= 0);
    close(fd);
    int sfd = open(sub, O_RDONLY | O_DIRECTORY);
    assert_ok(ruv__lake_write_at(sfd, "f", fill_hello, "third"));
    assert_int_equal(access(stale, F_OK), -1);
    /* A failing host call's detail reaches ours. */
    assert_status(ruv__lake_write_at(sfd, "no-such-dir/f", fill_hello, "x"), RUV_E_NOTFOUND,
                  "no-such-dir");
    close(sfd);
    ruv__lake_write_use_host(NULL);
}

static void filename_rules(void **state)
{
    (void)state;
    char longest[256], too_long[257];
    memset(longest, 'n', 255);
    longest[255] = '\0';
    memset(too_long, 'n', 256);
    too_long[256] = '\0';
    assert_ok(ruv__lake_fs_name_check(longest));
    assert_ok(ruv__lake_fs_name_check("docs.v2 (copy).ruvec"));
    assert_ok(ruv__lake_fs_name_check("..."));
    struct {
        const char *name, *fragment;
    } bad[] = {
        {"", "empty"},        {".", "not allowed"},        {"..", "not allowed"},
        {too_long, "over 255"}, {"a/b", "'/'"},            {"a\\b", "'\\'"},
        {"c:x", "':'"},       {"tab\there", "0x09"},       {"del\x7f", "0x7f"},
        {"\x1b[31m", "0x1b"}, {"../../etc/passwd", "'/'"}, {"/abs", "'/'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ruv__lake_ruvec_info info;
        assert_status(ruv__lake_fs_name_check(bad[i].name), RUV_E_INVAL, bad[i].fragment);
        assert_status(ruv__lake_ruvec_describe_at(dfd, bad[i].name, &info), RUV_E_INVAL,
                      bad[i].fragment);
    }
}

/* ---- damaging a good ruvec2 file ---- */

static void fresh_copy(const char *name)
{
    assert_ok(ruv__lake_ruvec2_write_at(dfd, name, ids5, rows5, 5, 4, NULL));
}

static void poke(const char *name, uint64_t off, const void *p, size_t n)
{
    int fd = openat(dfd, name, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, p, n, (off_t)off), (ssize_t)n);
    close(fd);
}

/* Inverts one byte: a change whatever the byte was (write_token is random,
 * so writing a fixed value there left it unchanged once in 256 runs). */
static void flip(const char *name, uint64_t off)
{
    int fd = openat(dfd, name, O_RDWR);
    uint8_t b;
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &b, 1, (off_t)off), 1);
    b = (uint8_t)~b;
    assert_int_equal(pwrite(fd, &b, 1, (off_t)off), 1);
    close(fd);
}

static void poke_u32(const char *name, uint64_t off, uint32_t v)
{
    uint8_t b[4];
    ruv__lake_put_u32le(b, v);
    poke(name, off, b, 4);
}

static void poke_u64(const char *name, uint64_t off, uint64_t v)
{
    uint8_t b[8];
    ruv__lake_put_u64le(b, v);
    poke(name, off, b, 8);
}

/* Recomputes the header check, so a damaged field reaches its own rule. */
static void reseal(const char *name)
{
    uint8_t h[128], d[32];
    int fd = openat(dfd, name, O_RDWR);
    assert_int_equal(pread(fd, h, 128, 0), 128);
    const struct ruv__lake_span s = {h, 120};
    assert_ok(ruv__lake_shake256(&s, 1, d, 32));
    assert_int_equal(pwrite(fd, d, 8, 120), 8);
    close(fd);
}

static void resize(const char *name, off_t size)
{
    int fd = openat(dfd, name, O_RDWR);
    assert_int_equal(ftruncate(fd, size), 0);
    close(fd);
}

enum { HEADER_FIELD, RESEALED, BODY };

static void expect_read(const char *name, int status, const char *fragment)
{
    struct ruv__lake_ruvec_info info;
    struct ruv__lake_ruvec_rows rows;
    int st = ruv__lake_ruvec_read_at(dfd, name, &info, &rows);
    if (st != status || !strstr(ruv__detail_get(), fragment))
        fail_msg("%s: status %d detail '%s', want %d '%s'", name, st, ruv__detail_get(),
                 status, fragment);
    assert_null(rows.ids);
    assert_null(rows.vectors);
    /* Each detail names the file. */
    assert_true(strncmp(ruv__detail_get(), name, strlen(name)) == 0);
}

static void ruvec2_rejections(void **state)
{
    (void)state;
    const char *f = "d.ruvec";
    const uint8_t x = 0x5a;
    float nan = __builtin_nanf(""), changed = 1.0625f;

    fresh_copy(f), poke(f, 0, "ruvecX", 6);
    expect_read(f, RUV_E_CORRUPT, "not a ruvec file (bad magic)");
    fresh_copy(f), flip(f, 60); /* inside write_token, not resealed */
    expect_read(f, RUV_E_INTEGRITY, "header check does not match");
    fresh_copy(f), poke(f, 80, &x, 1); /* inside the content digest */
    expect_read(f, RUV_E_INTEGRITY, "header check does not match");
    fresh_copy(f), poke_u32(f, 8, 64), reseal(f);
    expect_read(f, RUV_E_CORRUPT, "header_size 64, expected 128");
    fresh_copy(f), poke_u32(f, 12, 1), reseal(f);
    expect_read(f, RUV_E_CORRUPT, "unknown must-understand flags 0x00000001");
    fresh_copy(f), poke_u32(f, 28, 1), reseal(f);
    expect_read(f, RUV_E_CORRUPT, "reserved header bytes");
    fresh_copy(f), poke(f, 110, &x, 1), reseal(f);
    expect_read(f, RUV_E_CORRUPT, "reserved header bytes");
    fresh_copy(f), poke_u64(f, 16, 100000001), reseal(f);
    expect_read(f, RUV_E_CORRUPT, "count 100000001 is over 100000000");
    fresh_copy(f), poke_u32(f, 24, 0), reseal(f);
    expect_read(f, RUV_E_CORRUPT, "dim 0 is outside");
    fresh_copy(f), poke_u32(f, 24, 8193), reseal(f);
    expect_read(f, RUV_E_CORRUPT, "dim 8193 is outside");
    fresh_copy(f), poke_u64(f, 16, 100000000), poke_u32(f, 24, 8192), reseal(f);
    expect_read(f, RUV_E_CORRUPT, "over 16 GiB");
    fresh_copy(f), poke_u64(f, 32, 136), reseal(f);
    expect_read(f, RUV_E_CORRUPT, "ids_offset 136");
    fresh_copy(f), poke_u64(f, 40, 168), reseal(f);
    expect_read(f, RUV_E_CORRUPT, "vectors_offset 168, expected 192");
    fresh_copy(f), poke_u64(f, 48, 999), reseal(f);
    expect_read(f, RUV_E_CORRUPT, "file_size 999, expected 272");
    /* A count that changes every derived field consistently still fails on
     * the real size (fstat before any body read). */
    fresh_copy(f), poke_u64(f, 16, 1000000), poke_u64(f, 40, 8000128),
        poke_u64(f, 48, 8000128 + 16000000), reseal(f);
    expect_read(f, RUV_E_CORRUPT, "file is 272 bytes, header says 24000128");
    fresh_copy(f), resize(f, 271);
    expect_read(f, RUV_E_CORRUPT, "truncated or appended");
    fresh_copy(f), resize(f, 273);
    expect_read(f, RUV_E_CORRUPT, "truncated or appended");
    fresh_copy(f), resize(f, 100);
    expect_read(f, RUV_E_CORRUPT, "truncated in the 128-byte header");
    fresh_copy(f), resize(f, 5);
    expect_read(f, RUV_E_CORRUPT, "too short for a ruvec magic");
    /* Body: ids at 128.., padding 168..191, vectors 192.. */
    fresh_copy(f), poke_u64(f, 128, 50); /* 50 > 42, the next id */
    expect_read(f, RUV_E_CORRUPT, "body: ids not ascending at id 42");
    fresh_copy(f), poke_u64(f, 136, 7);
    expect_read(f, RUV_E_CORRUPT, "body: duplicate id 7");
    fresh_copy(f), poke(f, 170, &x, 1);
    expect_read(f, RUV_E_CORRUPT, "padding between ids and vectors is not zero");
    fresh_copy(f), poke(f, 192 + 4, &nan, 4);
    expect_read(f, RUV_E_CORRUPT, "body: id 7: component 1 is NaN");
    fresh_copy(f), poke(f, 192 + 16 * 3, &changed, 4);
    expect_read(f, RUV_E_INTEGRITY, "content digest does not match the header");
    fresh_copy(f), poke_u64(f, 128 + 8 * 4, UINT64_MAX - 1); /* ascending, but not the ids */
    expect_read(f, RUV_E_INTEGRITY, "content digest does not match");
}

static void file_kinds(void **state)
{
    (void)state;
    struct ruv__lake_ruvec_info info;
    struct ruv__lake_ruvec_rows rows;
    fresh_copy("real.ruvec");
    assert_int_equal(symlinkat("real.ruvec", dfd, "link.ruvec"), 0);
    assert_status(ruv__lake_ruvec_read_at(dfd, "link.ruvec", &info, &rows), RUV_E_CORRUPT,
                  "symbolic link");
    assert_status(ruv__lake_ruvec_describe_at(dfd, "link.ruvec", &info), RUV_E_CORRUPT,
                  "symbolic link");
    assert_status(ruv__lake_ruvec_describe_at(dfd, "absent.ruvec", &info), RUV_E_NOTFOUND,
                  "absent.ruvec: no such file");
    assert_int_equal(mkdirat(dfd, "sub", 0700), 0);
    assert_status(ruv__lake_ruvec_describe_at(dfd, "sub", &info), RUV_E_CORRUPT,
                  "not a regular file");
    assert_int_equal(mkfifoat(dfd, "pipe", 0600), 0);
    assert_status(ruv__lake_ruvec_read_at(dfd, "pipe", &info, &rows), RUV_E_CORRUPT,
                  "not a regular file");
}

/* ---- ruvec1, written by hand as ruvector does ---- */

static void write_v1(const char *name, const uint64_t *ids, const float *v, uint64_t n,
                     uint32_t dim, uint64_t claimed_count, uint32_t reserved, long extra)
{
    int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    uint8_t h[24];
    memcpy(h, "ruvec1\0\0", 8);
    ruv__lake_put_u64le(h + 8, claimed_count);
    ruv__lake_put_u32le(h + 16, dim);
    ruv__lake_put_u32le(h + 20, reserved);
    assert_int_equal(write(fd, h, 24), 24);
    for (uint64_t i = 0; i < n; i++) {
        uint8_t b[8];
        ruv__lake_put_u64le(b, ids[i]);
        assert_int_equal(write(fd, b, 8), 8);
        for (uint32_t c = 0; c < dim; c++) {
            ruv__lake_put_u32le(b, ruv__lake_f32_bits(v[i * dim + c]));
            assert_int_equal(write(fd, b, 4), 4);
        }
    }
    if (extra > 0)
        assert_int_equal(write(fd, "zzzzzzzz", (size_t)extra), extra);
    close(fd);
    if (extra < 0)
        resize(name, 24 + (off_t)(n * (8 + 4 * dim)) + extra);
}

static void ruvec1_reads_sorted_with_stat_generation(void **state)
{
    (void)state;
    struct ruv__lake_ruvec_info info;
    struct ruv__lake_ruvec_rows rows;
    write_v1("old.ruvec", ids5, rows5, 5, 4, 5, 0, 0);
    assert_ok(ruv__lake_ruvec_read_at(dfd, "old.ruvec", &info, &rows));
    assert_int_equal(info.version, 1);
    assert_false(info.has_digest);
    const uint64_t want_ids[5] = {7, 42, 99, 2000, UINT64_MAX};
    assert_memory_equal(rows.ids, want_ids, sizeof want_ids);
    assert_memory_equal(rows.vectors + 4, rows5 + 16, 16); /* id 42's row */
    ruv__lake_ruvec_rows_free(&rows);

    struct stat st;
    assert_int_equal(fstatat(dfd, "old.ruvec", &st, 0), 0);
    char want[RUV_LAKE_RUVEC_GEN_MAX];
    snprintf(want, sizeof want, "stat1:%ju:%ju:%lld:%lld:%lld", (uintmax_t)st.st_dev,
             (uintmax_t)st.st_ino, (long long)st.st_size,
             (long long)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec,
             (long long)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec);
    assert_ok(ruv__lake_ruvec_describe_at(dfd, "old.ruvec", &info));
    assert_string_equal(info.generation, want);
}

/* Rows wider than the reader's 1 MiB chunk cross chunk boundaries; the
 * result must equal the same rows written as ruvec2 by the other code path. */
static void ruvec1_large_rows_equal_ruvec2(void **state)
{
    (void)state;
    enum { N = 70, DIM = 8192 };
    uint64_t *ids = malloc(N * sizeof *ids);
    float *v = malloc((size_t)N * DIM * sizeof *v);
    for (int i = 0; i < N; i++) {
        ids[i] = (uint64_t)(N - i) * 1000003u; /* descending: the reader sorts */
        for (int c = 0; c < DIM; c++)
            v[(size_t)i * DIM + c] = (float)((i * 31 + c) % 97) - 48.5f;
    }
    write_v1("wide1.ruvec", ids, v, N, DIM, N, 0, 0);
    struct ruv__lake_ruvec_info i1, i2;
    struct ruv__lake_ruvec_rows r1, r2;
    assert_ok(ruv__lake_ruvec_read_at(dfd, "wide1.ruvec", &i1, &r1));
    assert_ok(ruv__lake_ruvec2_write_at(dfd, "wide2.ruvec", ids, v, N, DIM, NULL));
    assert_ok(ruv__lake_ruvec_read_at(dfd, "wide2.ruvec", &i2, &r2));
    assert_int_equal(r1.n, N);
    assert_memory_equal(r1.ids, r2.ids, N * sizeof *ids);
    assert_memory_equal(r1.vectors, r2.vectors, (size_t)N * DIM * sizeof *v);
    uint8_t d[32];
    assert_ok(ruv__lake_content_digest(r1.ids, r1.vectors, NULL, r1.n, r1.dim, d));
    assert_memory_equal(d, i2.content_digest, 32);
    ruv__lake_ruvec_rows_free(&r1);
    ruv__lake_ruvec_rows_free(&r2);
    free(ids);
    free(v);
}

static void expect_v1(int status, const char *fragment)
{
    expect_read("v1.ruvec", status, fragment);
}

static void ruvec1_rejections(void **state)
{
    (void)state;
    const uint64_t dup[2] = {5, 5};
    const float nan2[2] = {1, __builtin_nanf("")}, inf1[1] = {-__builtin_inff()};
    write_v1("v1.ruvec", ids5, rows5, 5, 4, 5, 0, -1);
    expect_v1(RUV_E_CORRUPT, "file is 143 bytes; count 5 and dim 4 need exactly 144");
    write_v1("v1.ruvec", ids5, rows5, 5, 4, 5, 0, 1);
    expect_v1(RUV_E_CORRUPT, "file is 145 bytes; count 5 and dim 4 need exactly 144");
    write_v1("v1.ruvec", ids5, rows5, 5, 4, 6, 0, 0);
    expect_v1(RUV_E_CORRUPT, "count 6 and dim 4 need exactly 168");
    write_v1("v1.ruvec", ids5, rows5, 0, 4, 100000001, 0, 0);
    expect_v1(RUV_E_CORRUPT, "count 100000001 is over");
    write_v1("v1.ruvec", ids5, rows5, 0, 0, 0, 0, 0);
    expect_v1(RUV_E_CORRUPT, "dim 0 is outside");
    write_v1("v1.ruvec", ids5, rows5, 0, 9000, 0, 0, 0);
    expect_v1(RUV_E_CORRUPT, "dim 9000 is outside");
    write_v1("v1.ruvec", ids5, rows5, 0, 8192, 100000000, 0, 0);
    expect_v1(RUV_E_CORRUPT, "over 16 GiB");
    write_v1("v1.ruvec", ids5, rows5, 5, 4, 5, 7, 0);
    expect_v1(RUV_E_CORRUPT, "reserved header field is not zero");
    write_v1("v1.ruvec", ids5, rows5, 0, 4, 0, 0, 0);
    resize("v1.ruvec", 20);
    expect_v1(RUV_E_CORRUPT, "truncated in the 24-byte header");
    write_v1("v1.ruvec", dup, rows5, 2, 1, 2, 0, 0);
    expect_v1(RUV_E_CORRUPT, "rows: duplicate id 5");
    write_v1("v1.ruvec", ids5, nan2, 1, 2, 1, 0, 0);
    expect_v1(RUV_E_CORRUPT, "rows: id 2000: component 1 is NaN");
    write_v1("v1.ruvec", ids5, inf1, 1, 1, 1, 0, 0);
    expect_v1(RUV_E_CORRUPT, "component 0 is infinite");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(write_read_round_trip),
        cmocka_unit_test(writer_refusals),
        cmocka_unit_test(write_at_is_all_or_nothing),
        cmocka_unit_test(write_at_through_the_host),
        cmocka_unit_test(filename_rules),
        cmocka_unit_test(ruvec2_rejections),
        cmocka_unit_test(file_kinds),
        cmocka_unit_test(ruvec1_reads_sorted_with_stat_generation),
        cmocka_unit_test(ruvec1_large_rows_equal_ruvec2),
        cmocka_unit_test(ruvec1_rejections),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
