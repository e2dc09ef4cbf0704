/* The index file container (engine/store: writer, reader, cursors, crc32c.c): CRC-32C
 * vectors and hardware/table agreement, round trips in both load modes,
 * rejection of every single-byte corruption and every truncation, hostile
 * headers that carry valid checksums, and atomic save under real write and
 * rename failures. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ruvector/cpu.h>
#include <ruvector/error.h>

#include "store/persist.h"

/* ------------------------------------------------------------- helpers */

static char tmpdir[256];

static void path_in(char *out, size_t cap, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", tmpdir, name);
    assert_true(n > 0 && (size_t)n < cap);
}

static uint64_t rng_state = 0x1234567887654321u;

static uint64_t rnd(void)
{
    uint64_t x = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

static void fill_random(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)rnd();
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    assert_non_null(p);
    return p;
}

static unsigned char *read_whole(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    unsigned char *p = xmalloc((size_t)n);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

static void write_whole(const char *path, const void *p, size_t n)
{
    /* A fresh inode each time: truncating a just-written file makes ext4
     * (auto_da_alloc) start writeback, seconds of I/O over these loops. */
    unlink(path);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (n)
        assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* Hidden files left in the test directory: temporaries are ".<name>.tmp.*". */
static int count_temporaries(void)
{
    DIR *d = opendir(tmpdir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".tmp."))
            n++;
    closedir(d);
    return n;
}

static void assert_error_contains(const char *text)
{
    const char *msg = ruv_last_error();
    if (!strstr(msg, text))
        fail_msg("error detail \"%s\" lacks \"%s\"", msg, text);
}

/* The small file of the corruption tests: a META of scalars, a payload, an
 * empty section and an id array (about 450 bytes). */
static const uint64_t small_ids[3] = {7, UINT64_C(0xdeadbeefcafe), 42};

static void write_small(const char *path)
{
    unsigned char meta[20], *q = meta;
    q = ruv__put_u32(q, 128);
    q = ruv__put_u64(q, UINT64_C(0x0102030405060708));
    q = ruv__put_f32(q, 1.5f);
    ruv__put_u32(q, 0xffffffffu);
    unsigned char code[100];
    for (int i = 0; i < 100; i++)
        code[i] = (unsigned char)(i * 7 + 1);
    struct ruv__writer w;
    assert_int_equal(ruv__writer_open(&w, path), RUV_OK);
    assert_int_equal(ruv__writer_section(&w, "META", meta, sizeof meta), RUV_OK);
    assert_int_equal(ruv__writer_section(&w, "CODE", code, sizeof code), RUV_OK);
    assert_int_equal(ruv__writer_section(&w, "EMPT", NULL, 0), RUV_OK);
    assert_int_equal(ruv__writer_section(&w, "IDS_", small_ids, sizeof small_ids), RUV_OK);
    assert_int_equal(ruv__writer_commit(&w), RUV_OK);
    ruv__writer_abort(&w); /* safe after commit */
}

/* Written once (each save costs two fsyncs, slow on a busy disk); callers
 * get their own copy. */
static unsigned char *small_cache;
static size_t small_cache_len;

static unsigned char *small_image(size_t *len)
{
    if (!small_cache) {
        char path[512];
        path_in(path, sizeof path, "small.idx");
        write_small(path);
        small_cache = read_whole(path, &small_cache_len);
    }
    unsigned char *copy = xmalloc(small_cache_len);
    memcpy(copy, small_cache, small_cache_len);
    *len = small_cache_len;
    return copy;
}

/* Re-seals a modified image of len bytes: table CRC and header CRC
 * recomputed, so the structural checks are exercised on their own. The
 * table CRC is only refreshed while the header still places the table
 * inside the image (a hostile count or offset is caught before it). */
static void reseal(unsigned char *img, size_t len)
{
    uint64_t n = ruv__load_u32(img + 20);
    uint64_t toff = ruv__load_u64(img + 32);
    if (toff <= len && n * 32 <= len - toff)
        ruv__put_u32(img + 40, ruv__crc32c(0, img + toff, (size_t)n * 32));
    ruv__put_u32(img + 44, 0);
    ruv__put_u32(img + 44, ruv__crc32c(0, img, 64));
}

static int open_image(const unsigned char *img, size_t len)
{
    struct ruv__reader r;
    int rc = ruv__reader_open_mem(&r, img, len, "image");
    ruv__reader_close(&r);
    return rc;
}

/* ------------------------------------------------------------- CRC */

static uint32_t crc_reference(uint32_t crc, const unsigned char *p, size_t n)
{
    crc = ~crc;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc & 1) ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
    }
    return ~crc;
}

static void test_crc_vectors(void **state)
{
    (void)state;
    const char *s = "123456789";
    assert_int_equal(ruv__crc32c(0, s, 9), 0xE3069283u);
    assert_int_equal(ruv__crc32c_sw(0, s, 9), 0xE3069283u);
    assert_int_equal(ruv__crc32c_hw(0, s, 9), 0xE3069283u);
    assert_int_equal(ruv__crc32c(0, NULL, 0), 0);
    /* RFC 3720 (iSCSI) B.4 vectors. */
    unsigned char b[32];
    memset(b, 0, 32);
    assert_int_equal(ruv__crc32c(0, b, 32), 0x8A9136AAu);
    memset(b, 0xff, 32);
    assert_int_equal(ruv__crc32c(0, b, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++)
        b[i] = (unsigned char)i;
    assert_int_equal(ruv__crc32c(0, b, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++)
        b[i] = (unsigned char)(31 - i);
    assert_int_equal(ruv__crc32c(0, b, 32), 0x113FDB5Cu);
    /* Chaining. */
    assert_int_equal(ruv__crc32c(ruv__crc32c(0, s, 4), s + 4, 5), 0xE3069283u);
}

static void test_crc_hw_matches_table(void **state)
{
    (void)state;
    /* Larger than three long lanes (3 x 8 KiB) so every loop of the
     * interleaved path runs, plus slack for offsets. */
    size_t cap = 3 * 8192 * 2 + 4096;
    unsigned char *buf = xmalloc(cap);
    fill_random(buf, cap);
    for (size_t off = 0; off < 16; off++) {
        for (size_t len = 0; len <= 1100; len++) {
            uint32_t seed = (uint32_t)rnd();
            uint32_t sw = ruv__crc32c_sw(seed, buf + off, len);
            assert_int_equal(ruv__crc32c_hw(seed, buf + off, len), sw);
            if (len < 300 && off < 4)
                assert_int_equal(crc_reference(seed, buf + off, len), sw);
        }
    }
    for (int t = 0; t < 300; t++) {
        size_t off = rnd() % 64, len = rnd() % (cap - 64);
        if (t < 8) /* lane boundaries exactly */
            len = (size_t[]){768, 769, 767, 24576, 24575, 24577, 24576 + 768, 49152}[t];
        uint32_t sw = ruv__crc32c_sw(0, buf + off, len);
        assert_int_equal(ruv__crc32c_hw(0, buf + off, len), sw);
        if (t < 20)
            assert_int_equal(crc_reference(0, buf + off, len), sw);
        /* Any split chains to the same value. */
        size_t cut = len ? rnd() % len : 0;
        assert_int_equal(ruv__crc32c(ruv__crc32c(0, buf + off, cut), buf + off + cut, len - cut),
                         sw);
    }
    free(buf);
}

/* The hardware path is taken exactly when the engine's ISA probe reports the
 * instructions (RUV_ISA_SSE42 on x86-64, RUV_ISA_CRC32 on AArch64), which
 * test_cpu checks against /proc/cpuinfo: no second CPUID probe to disagree. */
static void test_crc_hw_follows_isa_probe(void **state)
{
    (void)state;
#if defined(__x86_64__)
    assert_int_equal(ruv__crc32c_hw_available(), (ruv_cpu_isa() & RUV_ISA_SSE42) != 0);
#elif defined(__aarch64__) && defined(HAVE_GETAUXVAL)
    assert_int_equal(ruv__crc32c_hw_available(), (ruv_cpu_isa() & RUV_ISA_CRC32) != 0);
#else
    assert_int_equal(ruv__crc32c_hw_available(), 0);
#endif
}

/* ------------------------------------------------------------- scalars */

static void test_scalars(void **state)
{
    (void)state;
    unsigned char b[20], *q = b;
    q = ruv__put_u32(q, 0x11223344u);
    q = ruv__put_u64(q, UINT64_C(0x8877665544332211));
    q = ruv__put_f32(q, -2.0f);
    assert_ptr_equal(q, b + 16);
    assert_int_equal(b[0], 0x44);
    assert_int_equal(b[3], 0x11);
    assert_int_equal(b[4], 0x11);
    assert_int_equal(b[11], 0x88);
    assert_int_equal(b[15], 0xc0); /* -2.0f = 0xC0000000 */
    assert_int_equal(ruv__load_u32(b), 0x11223344u);
    assert_true(ruv__load_u64(b + 4) == UINT64_C(0x8877665544332211));
    assert_true(ruv__load_f32(b + 12) == -2.0f);
    struct ruv__cursor c;
    ruv__cursor_init(&c, b, 16, "x.idx", "META");
    uint32_t u32;
    uint64_t u64;
    float f;
    assert_int_equal(ruv__get_u32(&c, &u32), RUV_OK);
    assert_int_equal(u32, 0x11223344u);
    assert_int_equal(ruv__cursor_end(&c), RUV_E_CORRUPT);
    assert_int_equal(ruv__get_u64(&c, &u64), RUV_OK);
    assert_true(u64 == UINT64_C(0x8877665544332211));
    assert_int_equal(ruv__get_f32(&c, &f), RUV_OK);
    assert_true(f == -2.0f);
    assert_int_equal(ruv__cursor_end(&c), RUV_OK);
    /* Short input: refused, cursor unchanged. */
    assert_int_equal(ruv__get_u32(&c, &u32), RUV_E_CORRUPT);
    assert_error_contains("'x.idx'");
    assert_error_contains("section 'META' is truncated");
    ruv__cursor_init(&c, b, 6, NULL, "META");
    assert_int_equal(ruv__get_u32(&c, &u32), RUV_OK);
    assert_int_equal(ruv__get_u64(&c, &u64), RUV_E_CORRUPT);
    assert_int_equal(c.pos, 4);
    unsigned char two[2];
    assert_int_equal(ruv__get_bytes(&c, two, 2), RUV_OK);
    assert_int_equal(ruv__cursor_end(&c), RUV_OK);
}

/* ------------------------------------------------------------- round trip */

static void check_roundtrip(int use_mmap)
{
    char path[512];
    path_in(path, sizeof path, use_mmap ? "rt_mmap.idx" : "rt_read.idx");
    size_t ncode = 3 * 1024 * 1024 + 13; /* past the write buffer and the CRC slice */
    unsigned char *code = xmalloc(ncode);
    fill_random(code, ncode);
    size_t nvec = 1000;
    float *vecs = xmalloc(nvec * 16 * sizeof(float));
    for (size_t i = 0; i < nvec * 16; i++)
        vecs[i] = (float)i * 0.25f;
    unsigned char meta[16], *q = meta;
    q = ruv__put_u32(q, 16);
    q = ruv__put_u64(q, nvec);
    ruv__put_f32(q, 1.9f);

    struct ruv__writer w;
    assert_int_equal(ruv__writer_open(&w, path), RUV_OK);
    assert_int_equal(ruv__writer_section(&w, "META", meta, sizeof meta), RUV_OK);
    assert_int_equal(ruv__writer_section(&w, "CODE", code, ncode), RUV_OK);
    assert_int_equal(ruv__writer_section(&w, "EMPT", NULL, 0), RUV_OK);
    /* VECS from pieces: one row at a time, then a bulk remainder. */
    assert_int_equal(ruv__writer_section_begin(&w, "VECS"), RUV_OK);
    for (size_t i = 0; i < 10; i++)
        assert_int_equal(ruv__writer_section_append(&w, vecs + i * 16, 16 * sizeof(float)),
                         RUV_OK);
    assert_int_equal(ruv__writer_section_append(&w, NULL, 0), RUV_OK);
    assert_int_equal(ruv__writer_section_append(&w, vecs + 160, (nvec - 10) * 16 * sizeof(float)),
                     RUV_OK);
    assert_int_equal(ruv__writer_section_end(&w), RUV_OK);
    assert_int_equal(ruv__writer_section(&w, "Z_9a", "x", 1), RUV_OK);
    assert_int_equal(ruv__writer_commit(&w), RUV_OK);
    assert_int_equal(count_temporaries(), 0);

    struct ruv__reader r;
    assert_int_equal(ruv__reader_open(&r, path, use_mmap), RUV_OK);
    assert_int_equal(r.nsections, 5);
    const void *p;
    size_t len;
    assert_int_equal(ruv__reader_section(&r, "CODE", &p, &len), RUV_OK);
    assert_int_equal(len, ncode);
    assert_int_equal((uintptr_t)p % 64, 0);
    assert_memory_equal(p, code, ncode);
    assert_int_equal(ruv__reader_section(&r, "VECS", &p, &len), RUV_OK);
    assert_int_equal(len, nvec * 16 * sizeof(float));
    assert_int_equal((uintptr_t)p % 64, 0);
    const float *fv = p; /* used in place, as the index will */
    assert_true(fv[16 * 999 + 15] == vecs[16 * 999 + 15]);
    assert_memory_equal(p, vecs, len);
    assert_int_equal(ruv__reader_section(&r, "EMPT", &p, &len), RUV_OK);
    assert_int_equal(len, 0);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 64, 0);
    assert_int_equal(ruv__reader_section(&r, "Z_9a", &p, &len), RUV_OK);
    assert_int_equal(len, 1);
    assert_int_equal(*(const char *)p, 'x');
    assert_true(ruv__reader_has(&r, "META"));
    assert_false(ruv__reader_has(&r, "CENT"));
    assert_int_equal(ruv__reader_section(&r, "CENT", &p, &len), RUV_E_CORRUPT);
    assert_error_contains("missing section 'CENT'");
    assert_error_contains(path);

    char tag[5];
    assert_int_equal(ruv__reader_entry(&r, 3, tag, &p, &len), RUV_OK);
    assert_string_equal(tag, "VECS");
    assert_int_equal(ruv__reader_entry(&r, 5, tag, &p, &len), RUV_E_INVAL);

    struct ruv__cursor c;
    assert_int_equal(ruv__reader_cursor(&r, "META", &c), RUV_OK);
    uint32_t dim;
    uint64_t n;
    float eps;
    assert_int_equal(ruv__get_u32(&c, &dim), RUV_OK);
    assert_int_equal(ruv__get_u64(&c, &n), RUV_OK);
    assert_int_equal(ruv__get_f32(&c, &eps), RUV_OK);
    assert_int_equal(ruv__cursor_end(&c), RUV_OK);
    assert_int_equal(dim, 16);
    assert_int_equal(n, nvec);
    assert_true(eps == 1.9f);

    /* Detach: the index keeps the image after the reader is gone. */
    assert_int_equal(ruv__reader_section(&r, "CODE", &p, &len), RUV_OK);
    void *base;
    size_t blen;
    int is_mmap = ruv__reader_detach(&r, &base, &blen);
    assert_int_equal(is_mmap, use_mmap);
    assert_non_null(base);
    ruv__reader_close(&r);
    assert_memory_equal(p, code, ncode); /* still valid */
    ruv__mapping_release(base, blen, is_mmap);

    free(code);
    free(vecs);
}

static void test_roundtrip_mmap(void **state)
{
    (void)state;
    check_roundtrip(1);
}

static void test_roundtrip_read(void **state)
{
    (void)state;
    check_roundtrip(0);
}

static void test_empty_container(void **state)
{
    (void)state;
    char path[512];
    path_in(path, sizeof path, "none.idx");
    struct ruv__writer w;
    assert_int_equal(ruv__writer_open(&w, path), RUV_OK);
    assert_int_equal(ruv__writer_commit(&w), RUV_OK);
    size_t len;
    unsigned char *img = read_whole(path, &len);
    assert_int_equal(len, 64);
    free(img);
    struct ruv__reader r;
    assert_int_equal(ruv__reader_open(&r, path, 1), RUV_OK);
    assert_int_equal(r.nsections, 0);
    assert_int_equal(ruv__reader_section(&r, "META", NULL, NULL), RUV_E_CORRUPT);
    ruv__reader_close(&r);
    ruv__reader_close(&r); /* idempotent */
}

/* ------------------------------------------------------------- corruption */

static void test_every_byte_flip_rejected(void **state)
{
    (void)state;
    size_t len;
    unsigned char *img = small_image(&len);
    assert_int_equal(open_image(img, len), RUV_OK);
    assert_true(len > 300 && len < 1024);
    static const unsigned char flips[] = {0x01, 0x80, 0xff, 0x5a};
    for (size_t i = 0; i < len; i++) {
        for (size_t f = 0; f < sizeof flips; f++) {
            img[i] ^= flips[f];
            int rc = open_image(img, len);
            if (rc != RUV_E_CORRUPT)
                fail_msg("flip 0x%02x at byte %zu: status %d", flips[f], i, rc);
            img[i] ^= flips[f];
        }
    }
    /* Through the file path too, both modes (one flip per byte). */
    char path[512];
    path_in(path, sizeof path, "flip.idx");
    for (size_t i = 0; i < len; i++) {
        img[i] ^= 0xff;
        write_whole(path, img, len);
        img[i] ^= 0xff;
        for (int m = 0; m < 2; m++) {
            struct ruv__reader r;
            int rc = ruv__reader_open(&r, path, m);
            if (rc != RUV_E_CORRUPT)
                fail_msg("file flip at byte %zu (mmap=%d): status %d", i, m, rc);
            assert_error_contains(path);
            ruv__reader_close(&r);
        }
    }
    free(img);
}

static void test_truncation_rejected(void **state)
{
    (void)state;
    size_t len;
    unsigned char *img = small_image(&len);
    char path[512];
    path_in(path, sizeof path, "trunc.idx");
    for (size_t n = 0; n < len; n++) {
        /* An exact-size copy, so a read past the end is an ASan error. */
        unsigned char *cut = xmalloc(n);
        memcpy(cut, img, n);
        assert_int_equal(open_image(cut, n), RUV_E_CORRUPT);
        free(cut);
        write_whole(path, img, n);
        struct ruv__reader r;
        assert_int_equal(ruv__reader_open(&r, path, (int)(n & 1)), RUV_E_CORRUPT);
        assert_error_contains(path);
        if (n >= 64) {
            char want[128];
            snprintf(want, sizeof want, "truncated: header says %zu bytes, file has %zu", len, n);
            assert_error_contains(want);
        } else if (n >= 8) {
            assert_error_contains("truncated");
        }
    }
    free(img);
}

static void test_trailing_bytes_rejected(void **state)
{
    (void)state;
    size_t len;
    unsigned char *img = small_image(&len);
    unsigned char *big = xmalloc(len + 64);
    memcpy(big, img, len);
    memset(big + len, 0, 64);
    char path[512];
    path_in(path, sizeof path, "trail.idx");
    for (size_t extra = 1; extra <= 64; extra += 21) {
        write_whole(path, big, len + extra);
        for (int m = 0; m < 2; m++) {
            struct ruv__reader r;
            assert_int_equal(ruv__reader_open(&r, path, m), RUV_E_CORRUPT);
            char want[128];
            snprintf(want, sizeof want, "trailing bytes: header says %zu bytes, file has %zu",
                     len, len + extra);
            assert_error_contains(want);
            assert_error_contains(path);
        }
    }
    free(big);
    free(img);
}

static void test_foreign_files_rejected(void **state)
{
    (void)state;
    char path[512];
    struct ruv__reader r;
    path_in(path, sizeof path, "foreign.txt");
    const char *text = "this is a text file, long enough to hold a header, surely it is, yes.\n";
    write_whole(path, text, strlen(text));
    assert_int_equal(ruv__reader_open(&r, path, 1), RUV_E_CORRUPT);
    assert_error_contains("not a ruvector index file");
    assert_error_contains(path);
    write_whole(path, "", 0);
    assert_int_equal(ruv__reader_open(&r, path, 1), RUV_E_CORRUPT);
    assert_error_contains("not a ruvector index file");
    assert_int_equal(ruv__reader_open(&r, path, 0), RUV_E_CORRUPT);

    /* A newer format version, properly sealed. */
    size_t len;
    unsigned char *img = small_image(&len);
    ruv__put_u32(img + 8, 4);
    reseal(img, len);
    path_in(path, sizeof path, "v4.idx");
    write_whole(path, img, len);
    assert_int_equal(ruv__reader_open(&r, path, 0), RUV_E_CORRUPT);
    assert_error_contains("format version 4 is newer than this library's 3");
    free(img);

    path_in(path, sizeof path, "missing.idx");
    assert_int_equal(ruv__reader_open(&r, path, 1), RUV_E_NOTFOUND);
    assert_error_contains(path);
    assert_error_contains("No such file");
    assert_int_equal(ruv__reader_open(&r, tmpdir, 1), RUV_E_IO);
    assert_error_contains("not a regular file");
    ruv__reader_close(&r);
}

/* Structural checks with valid checksums (a buggy or hostile writer). */
static void test_hostile_structure(void **state)
{
    (void)state;
    size_t len;
    unsigned char *img = small_image(&len);
    unsigned char *m = xmalloc(len);
    uint64_t toff = ruv__load_u64(img + 32);
    unsigned char *t; /* first entry in m */
    struct {
        const char *what;
        const char *expect;
    } cases[] = {
        {"count huge", "sections, more than the limit"},
        {"count +1", "section table"},
        {"table offset", "section table"},
        {"file size", "truncated"},
        {"header size", "header size"},
        {"header flags", "flags"},
        {"reserved", "reserved header bytes"},
        {"entry offset overlap", "expected"},
        {"entry length huge", "runs past"},
        {"entry length +1", "unaccounted"},
        {"entry flags", "unknown flags"},
        {"bad tag", "invalid tag"},
        {"duplicate", "duplicate section 'META'"},
        {"padding", "nonzero padding"},
        {"misaligned", "expected"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        memcpy(m, img, len);
        t = m + toff;
        switch (k) {
        case 0: ruv__put_u32(m + 20, 0xffffffffu); break;
        case 1: ruv__put_u32(m + 20, ruv__load_u32(m + 20) + 1); break;
        case 2: ruv__put_u64(m + 32, toff + 64); break;
        case 3: ruv__put_u64(m + 24, UINT64_MAX); break;
        case 4: ruv__put_u32(m + 12, 128); break;
        case 5: ruv__put_u32(m + 16, 1); break;
        case 6: m[63] = 1; break;
        case 7: ruv__put_u64(t + 32 + 8, 64); break;                       /* CODE onto META */
        case 8: ruv__put_u64(t + 16, UINT64_MAX - 8); break;               /* META length */
        case 9: ruv__put_u64(t + 3 * 32 + 16, 0); break;                 /* IDS_ emptied */
        case 10: ruv__put_u32(t + 4, 2); break;
        case 11: t[0] = '\''; break;
        case 12: memcpy(t + 32, "META", 4); break;
        case 13: m[64 + 25] = 1; break;                                    /* META padding */
        case 14: ruv__put_u64(t + 32 + 8, ruv__load_u64(t + 32 + 8) + 8); break;
        }
        if (k != 13)
            reseal(m, len);
        int rc = open_image(m, len);
        if (rc != RUV_E_CORRUPT)
            fail_msg("%s: status %d", cases[k].what, rc);
        if (!strstr(ruv_last_error(), cases[k].expect))
            fail_msg("%s: \"%s\" lacks \"%s\"", cases[k].what, ruv_last_error(), cases[k].expect);
    }
    free(m);
    free(img);
}

/* ------------------------------------------------------------- atomic save */

static void test_save_failure_keeps_old_file(void **state)
{
    (void)state;
    char path[512];
    path_in(path, sizeof path, "keep.idx");
    write_small(path);
    size_t oldlen;
    unsigned char *old = read_whole(path, &oldlen);

    /* A real write failure mid-stream: a file size limit makes write()
     * fail with EFBIG (works for root, unlike a read-only directory). */
    struct rlimit saved;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
    void (*oldsig)(int) = signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = saved;
    lim.rlim_cur = 1024 * 1024;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    size_t nbig = 4 * 1024 * 1024;
    unsigned char *big = calloc(1, nbig);
    assert_non_null(big);
    struct ruv__writer w;
    assert_int_equal(ruv__writer_open(&w, path), RUV_OK);
    assert_int_equal(ruv__writer_section(&w, "META", "m", 1), RUV_OK);
    int rc = ruv__writer_section(&w, "CODE", big, nbig);
    if (rc == RUV_OK) /* the write-behind buffer may defer the error */
        rc = ruv__writer_commit(&w);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
    signal(SIGXFSZ, oldsig);
    assert_int_equal(rc, RUV_E_IO);
    assert_error_contains(path);
    assert_error_contains("write");
    assert_error_contains(strerror(EFBIG));
    /* Sticky: later calls fail the same way and do nothing. */
    assert_int_equal(ruv__writer_section(&w, "IDS_", "x", 1), RUV_E_IO);
    assert_int_equal(ruv__writer_commit(&w), RUV_E_IO);
    ruv__writer_abort(&w);
    ruv__writer_abort(&w);
    free(big);
    size_t nowlen;
    unsigned char *now = read_whole(path, &nowlen);
    assert_int_equal(nowlen, oldlen);
    assert_memory_equal(now, old, oldlen);
    free(now);
    assert_int_equal(count_temporaries(), 0);

    /* Abort before commit: destination untouched, temporary gone. */
    assert_int_equal(ruv__writer_open(&w, path), RUV_OK);
    assert_int_equal(count_temporaries(), 1);
    assert_int_equal(ruv__writer_section(&w, "META", "m", 1), RUV_OK);
    ruv__writer_abort(&w);
    assert_int_equal(count_temporaries(), 0);
    now = read_whole(path, &nowlen);
    assert_int_equal(nowlen, oldlen);
    assert_memory_equal(now, old, oldlen);
    free(now);

    /* Misuse poisons the writer and cleans up too. */
    assert_int_equal(ruv__writer_open(&w, path), RUV_OK);
    assert_int_equal(ruv__writer_section(&w, "META", "m", 1), RUV_OK);
    assert_int_equal(ruv__writer_section(&w, "META", "m", 1), RUV_E_INVAL);
    assert_error_contains("duplicate section 'META'");
    assert_int_equal(count_temporaries(), 0);
    assert_int_equal(ruv__writer_commit(&w), RUV_E_INVAL);
    ruv__writer_abort(&w);
    assert_int_equal(ruv__writer_open(&w, path), RUV_OK);
    assert_int_equal(ruv__writer_section(&w, "ME\nA", "m", 1), RUV_E_INVAL);
    ruv__writer_abort(&w);
    assert_int_equal(ruv__writer_open(&w, path), RUV_OK);
    assert_int_equal(ruv__writer_section_begin(&w, "META"), RUV_OK);
    assert_int_equal(ruv__writer_commit(&w), RUV_E_STATE);
    assert_error_contains("'META' was not ended");
    ruv__writer_abort(&w);
    assert_int_equal(count_temporaries(), 0);
    now = read_whole(path, &nowlen);
    assert_memory_equal(now, old, oldlen);
    free(now);

    /* The final rename fails (the destination is a directory): the
     * directory stays, the temporary is removed. */
    char dpath[512];
    path_in(dpath, sizeof dpath, "adir.idx");
    assert_int_equal(mkdir(dpath, 0700), 0);
    char inner[600];
    snprintf(inner, sizeof inner, "%s/keep", dpath);
    write_whole(inner, "k", 1);
    assert_int_equal(ruv__writer_open(&w, dpath), RUV_OK);
    assert_int_equal(ruv__writer_section(&w, "META", "m", 1), RUV_OK);
    assert_int_equal(ruv__writer_commit(&w), RUV_E_IO);
    assert_error_contains(dpath);
    assert_error_contains("rename");
    ruv__writer_abort(&w);
    assert_int_equal(count_temporaries(), 0);
    struct stat st;
    assert_int_equal(stat(inner, &st), 0);
    unlink(inner);
    rmdir(dpath);

    /* A directory that does not exist. */
    char npath[512];
    path_in(npath, sizeof npath, "no/such/dir.idx");
    assert_int_equal(ruv__writer_open(&w, npath), RUV_E_NOTFOUND);
    assert_error_contains(npath);
    assert_error_contains("No such file");
    ruv__writer_abort(&w);
    assert_int_equal(ruv__writer_open(&w, ""), RUV_E_INVAL);
    assert_int_equal(ruv__writer_open(&w, "dir/"), RUV_E_INVAL);

    /* Read-only directory (meaningless for root, who may write anyway). */
    if (geteuid() != 0) {
        char rdir[512], rpath[600];
        path_in(rdir, sizeof rdir, "ro");
        assert_int_equal(mkdir(rdir, 0700), 0);
        snprintf(rpath, sizeof rpath, "%s/x.idx", rdir);
        write_whole(rpath, old, oldlen);
        assert_int_equal(chmod(rdir, 0500), 0);
        assert_int_equal(ruv__writer_open(&w, rpath), RUV_E_IO);
        assert_error_contains(rpath);
        ruv__writer_abort(&w);
        assert_int_equal(chmod(rdir, 0700), 0);
        now = read_whole(rpath, &nowlen);
        assert_memory_equal(now, old, oldlen);
        free(now);
        unlink(rpath);
        rmdir(rdir);
    }

    /* And a successful save over the old file replaces it. */
    assert_int_equal(ruv__writer_open(&w, path), RUV_OK);
    assert_int_equal(ruv__writer_section(&w, "META", "new", 3), RUV_OK);
    assert_int_equal(ruv__writer_commit(&w), RUV_OK);
    struct ruv__reader r;
    assert_int_equal(ruv__reader_open(&r, path, 1), RUV_OK);
    assert_int_equal(r.nsections, 1);
    ruv__reader_close(&r);
    free(old);
}

/* ------------------------------------------------------------- setup */

static int group_setup(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    snprintf(tmpdir, sizeof tmpdir, "%s/ruv_persist_XXXXXX", base);
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    free(small_cache);
    DIR *d = opendir(tmpdir);
    if (d) {
        struct dirent *e;
        char p[600];
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    return rmdir(tmpdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc_vectors),
        cmocka_unit_test(test_crc_hw_matches_table),
        cmocka_unit_test(test_crc_hw_follows_isa_probe),
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_roundtrip_mmap),
        cmocka_unit_test(test_roundtrip_read),
        cmocka_unit_test(test_empty_container),
        cmocka_unit_test(test_every_byte_flip_rejected),
        cmocka_unit_test(test_truncation_rejected),
        cmocka_unit_test(test_trailing_bytes_rejected),
        cmocka_unit_test(test_foreign_files_rejected),
        cmocka_unit_test(test_hostile_structure),
        cmocka_unit_test(test_save_failure_keeps_old_file),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
