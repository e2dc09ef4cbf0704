/* The CLI's data readers and writers (tools/dataio.c): every format round
 * trips, and every malformed file gets a message that names the path and the
 * problem. All files are generated in a temporary directory. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <ruvector/error.h>

#include "dataio.h"

/* ---- fixture: a private temporary directory per run ---- */

struct fixture {
    char dir[256];
    char path[512];
    char err[1024];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/test_dataio-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    DIR *d = opendir(f->dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", f->dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(f->dir);
    free(f);
    return 0;
}

static const char *path_of(struct fixture *f, const char *name)
{
    snprintf(f->path, sizeof f->path, "%s/%s", f->dir, name);
    return f->path;
}

/* ---- byte builders (little-endian, like the formats) ---- */

struct bytes {
    unsigned char p[4096];
    size_t len;
};

static void put_raw(struct bytes *b, const void *src, size_t n)
{
    assert_true(b->len + n <= sizeof b->p);
    memcpy(b->p + b->len, src, n);
    b->len += n;
}

static void put_u32(struct bytes *b, uint32_t v)
{
    unsigned char c[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    put_raw(b, c, 4);
}

static void put_u64(struct bytes *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}

static void put_i32(struct bytes *b, int32_t v) { put_u32(b, (uint32_t)v); }

static void put_f32(struct bytes *b, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    put_u32(b, u);
}

static void put_f64(struct bytes *b, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    put_u64(b, u);
}

/* An .fvecs row of dim values start, start+1, ... */
static void put_fvecs_row(struct bytes *b, int32_t dim, float start)
{
    put_i32(b, dim);
    for (int32_t i = 0; i < dim; i++)
        put_f32(b, start + (float)i);
}

/* .npy preamble with the given version and header text (no padding). */
static void put_npy_header(struct bytes *b, int major, const char *dict)
{
    static const unsigned char magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
    size_t hlen = strlen(dict);
    put_raw(b, magic, 6);
    unsigned char ver[2] = {(unsigned char)major, 0};
    put_raw(b, ver, 2);
    if (major == 1) {
        unsigned char l[2] = {(unsigned char)hlen, (unsigned char)(hlen >> 8)};
        put_raw(b, l, 2);
    } else {
        put_u32(b, (uint32_t)hlen);
    }
    put_raw(b, dict, hlen);
}

static void write_file(const char *path, const struct bytes *b)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(b->p, 1, b->len, fp), b->len);
    assert_int_equal(fclose(fp), 0);
}

/* Parses b as vectors of format fmt; expects failure with a message that
 * names the buffer and contains `fragment`. */
static void expect_vectors_error(const struct bytes *b, enum data_format fmt, const char *fragment)
{
    struct data_matrix m;
    char err[1024] = "";
    int rc = data_parse_vectors(b->p, b->len, fmt, "sample.bin", &m, err, sizeof err);
    if (rc == RUV_OK || !strstr(err, fragment) || strncmp(err, "sample.bin: ", 12) != 0)
        fail_msg("expected an error containing \"%s\", got rc %d \"%s\"", fragment, rc, err);
    assert_null(m.data);
    assert_int_equal(m.n, 0);
}

static void expect_ids_error(const struct bytes *b, enum data_format fmt, const char *fragment)
{
    struct data_ids m;
    char err[1024] = "";
    int rc = data_parse_ids(b->p, b->len, fmt, "sample.bin", &m, err, sizeof err);
    if (rc == RUV_OK || !strstr(err, fragment))
        fail_msg("expected an error containing \"%s\", got rc %d \"%s\"", fragment, rc, err);
    assert_null(m.data);
}

static void expect_npy_vectors_error(const char *dict, const struct bytes *data,
                                     const char *fragment)
{
    struct bytes b = {{0}, 0};
    put_npy_header(&b, 1, dict);
    if (data)
        put_raw(&b, data->p, data->len);
    expect_vectors_error(&b, DATA_FORMAT_NPY, fragment);
}

/* ---- round trips ---- */

static const float sample[3 * 4] = {0.0f, -1.5f,  3.25f,  1e-38f,  1e30f, -0.0f,
                                    7.0f, 8.125f, -9e-3f, 123456.f, 0.5f, 2.0f};

static void check_sample(const struct data_matrix *m)
{
    assert_int_equal(m->n, 3);
    assert_int_equal(m->dim, 4);
    assert_memory_equal(m->data, sample, sizeof sample);
}

static void test_fvecs_round_trip(void **state)
{
    struct fixture *f = *state;
    const char *p = path_of(f, "v.fvecs");
    assert_int_equal(data_write_vectors(p, sample, 3, 4, f->err, sizeof f->err), RUV_OK);
    struct data_matrix m;
    assert_int_equal(data_read_vectors(p, &m, f->err, sizeof f->err), RUV_OK);
    check_sample(&m);
    data_matrix_free(&m);
    assert_null(m.data);
}

static void test_npy_round_trip(void **state)
{
    struct fixture *f = *state;
    const char *p = path_of(f, "v.npy");
    assert_int_equal(data_write_vectors(p, sample, 3, 4, f->err, sizeof f->err), RUV_OK);
    struct data_matrix m;
    assert_int_equal(data_read_vectors(p, &m, f->err, sizeof f->err), RUV_OK);
    check_sample(&m);
    data_matrix_free(&m);

    /* The header is padded to 64 bytes and ends in a newline, as NumPy writes it. */
    FILE *fp = fopen(p, "rb");
    assert_non_null(fp);
    unsigned char head[128];
    assert_int_equal(fread(head, 1, sizeof head, fp), sizeof head);
    fclose(fp);
    size_t hlen = (size_t)head[8] | (size_t)head[9] << 8;
    assert_int_equal((10 + hlen) % 64, 0);
    assert_int_equal(head[10 + hlen - 1], '\n');
    assert_non_null(strstr((const char *)head + 10, "'shape': (3, 4)"));
}

static void test_ids_round_trip(void **state)
{
    struct fixture *f = *state;
    const int64_t ids[2 * 3] = {0, 7, -1, 2147483647, -2147483647 - 1, 42};
    const int64_t wide[2] = {INT64_C(5000000000), -1};
    struct data_ids m;

    const char *p = path_of(f, "ids.ivecs");
    assert_int_equal(data_write_ids(p, ids, 2, 3, f->err, sizeof f->err), RUV_OK);
    assert_int_equal(data_read_ids(p, &m, f->err, sizeof f->err), RUV_OK);
    assert_int_equal(m.n, 2);
    assert_int_equal(m.dim, 3);
    assert_memory_equal(m.data, ids, sizeof ids);
    data_ids_free(&m);

    p = path_of(f, "ids.npy");
    assert_int_equal(data_write_ids(p, wide, 1, 2, f->err, sizeof f->err), RUV_OK);
    assert_int_equal(data_read_ids(p, &m, f->err, sizeof f->err), RUV_OK);
    assert_int_equal(m.n, 1);
    assert_int_equal(m.dim, 2);
    assert_memory_equal(m.data, wide, sizeof wide);
    data_ids_free(&m);
}

static void test_ivecs_rejects_wide_ids(void **state)
{
    struct fixture *f = *state;
    const int64_t wide[2] = {1, INT64_C(5000000000)};
    const char *p = path_of(f, "wide.ivecs");
    assert_int_equal(data_write_ids(p, wide, 1, 2, f->err, sizeof f->err), RUV_E_INVAL);
    assert_non_null(strstr(f->err, "row 0, column 1: id 5000000000 does not fit"));
    assert_int_equal(access(p, F_OK), -1); /* nothing written */
}

static void test_bvecs(void **state)
{
    (void)state;
    struct bytes b = {{0}, 0};
    for (int r = 0; r < 2; r++) {
        put_i32(&b, 3);
        unsigned char v[3] = {0, (unsigned char)(100 + r), 255};
        put_raw(&b, v, 3);
    }
    struct data_matrix m;
    char err[256];
    assert_int_equal(data_parse_vectors(b.p, b.len, DATA_FORMAT_BVECS, "x.bvecs", &m, err,
                                        sizeof err), RUV_OK);
    assert_int_equal(m.n, 2);
    assert_int_equal(m.dim, 3);
    const float want[6] = {0, 100, 255, 0, 101, 255};
    assert_memory_equal(m.data, want, sizeof want);
    data_matrix_free(&m);
}

static void parse_npy_ok(const struct bytes *b, size_t n, size_t dim, const float *want)
{
    struct data_matrix m;
    char err[512] = "";
    int rc = data_parse_vectors(b->p, b->len, DATA_FORMAT_NPY, "x.npy", &m, err, sizeof err);
    if (rc != RUV_OK)
        fail_msg("unexpected error: %s", err);
    assert_int_equal(m.n, n);
    assert_int_equal(m.dim, dim);
    for (size_t i = 0; i < n * dim; i++)
        assert_true(m.data[i] == want[i]);
    data_matrix_free(&m);
}

static void test_npy_variants(void **state)
{
    (void)state;
    const float want[4] = {1, 2, 3, 4};
    struct bytes b = {{0}, 0};

    /* float64, converted; version 2.0; double quotes, no trailing comma. */
    put_npy_header(&b, 2, "{\"descr\": \"<f8\", \"shape\": (2, 2), \"fortran_order\": False}\n");
    for (int i = 0; i < 4; i++)
        put_f64(&b, want[i]);
    parse_npy_ok(&b, 2, 2, want);

    /* uint8, version 3.0, Python 2 long suffixes and odd spacing. */
    b.len = 0;
    put_npy_header(&b, 3, "{ 'fortran_order' :False,'descr':'|u1' , 'shape':( 1L ,4L ) , }   ");
    unsigned char u[4] = {1, 2, 3, 4};
    put_raw(&b, u, 4);
    parse_npy_ok(&b, 1, 4, want);

    /* 1-D: one vector. */
    b.len = 0;
    put_npy_header(&b, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }");
    for (int i = 0; i < 4; i++)
        put_f32(&b, want[i]);
    parse_npy_ok(&b, 1, 4, want);

    /* int32 ids. */
    b.len = 0;
    put_npy_header(&b, 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (1, 2), }");
    put_i32(&b, -1);
    put_i32(&b, 9);
    struct data_ids ids;
    char err[256];
    assert_int_equal(data_parse_ids(b.p, b.len, DATA_FORMAT_NPY, "i.npy", &ids, err, sizeof err),
                     RUV_OK);
    assert_int_equal(ids.data[0], -1);
    assert_int_equal(ids.data[1], 9);
    data_ids_free(&ids);
}

static void test_format_from_path(void **state)
{
    (void)state;
    assert_int_equal(data_format_from_path("a/b.fvecs"), DATA_FORMAT_FVECS);
    assert_int_equal(data_format_from_path("B.BVECS"), DATA_FORMAT_BVECS);
    assert_int_equal(data_format_from_path("gt.ivecs"), DATA_FORMAT_IVECS);
    assert_int_equal(data_format_from_path("x.tar.npy"), DATA_FORMAT_NPY);
    assert_int_equal(data_format_from_path("dir.npy/file"), DATA_FORMAT_UNKNOWN);
    assert_int_equal(data_format_from_path("fvecs"), DATA_FORMAT_UNKNOWN);
    assert_int_equal(data_format_from_path("x.fvecs.gz"), DATA_FORMAT_UNKNOWN);
}

/* ---- malformed .fvecs / .ivecs ---- */

static void test_xvecs_structure_errors(void **state)
{
    (void)state;
    struct bytes b = {{0}, 0};
    expect_vectors_error(&b, DATA_FORMAT_FVECS, "empty file");

    put_fvecs_row(&b, 4, 0);
    put_fvecs_row(&b, 4, 0);
    put_i32(&b, 4);
    put_f32(&b, 1); /* row 2: 1 of 4 values */
    expect_vectors_error(&b, DATA_FORMAT_FVECS, "row 2 is truncated: the file ends after 8 of "
                         "its 20 bytes");

    b.len = 0;
    put_fvecs_row(&b, 4, 0);
    put_raw(&b, "\x04\x00", 2);
    expect_vectors_error(&b, DATA_FORMAT_FVECS, "row 1 is truncated: the file ends 2 bytes into "
                         "its 4-byte dimension header");

    b.len = 0;
    put_raw(&b, "\x04\x00", 2);
    expect_vectors_error(&b, DATA_FORMAT_FVECS, "less than the 4-byte dimension header");

    b.len = 0;
    put_fvecs_row(&b, 4, 0);
    put_fvecs_row(&b, 3, 0);
    expect_vectors_error(&b, DATA_FORMAT_FVECS, "row 1 has dimension 3, expected 4 (as row 0)");

    b.len = 0;
    put_i32(&b, 0);
    expect_vectors_error(&b, DATA_FORMAT_FVECS, "row 0 declares dimension 0 (must be at least 1)");

    b.len = 0;
    put_i32(&b, -7);
    put_f32(&b, 0);
    expect_vectors_error(&b, DATA_FORMAT_FVECS, "dimension -7");

    b.len = 0;
    put_i32(&b, 1000001);
    put_f32(&b, 0);
    expect_vectors_error(&b, DATA_FORMAT_FVECS, "above the limit of 1000000");

    b.len = 0;
    put_npy_header(&b, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }");
    put_f32(&b, 0);
    expect_vectors_error(&b, DATA_FORMAT_FVECS, "this looks like a .npy file");

    b.len = 0;
    put_i32(&b, 2);
    put_i32(&b, 1);
    put_i32(&b, 2);
    put_i32(&b, 2);
    put_i32(&b, 3);
    expect_ids_error(&b, DATA_FORMAT_IVECS, "row 1 is truncated");
    expect_vectors_error(&b, DATA_FORMAT_IVECS, "holds integers (ids), not vectors");
    expect_ids_error(&b, DATA_FORMAT_FVECS, "holds vectors, not ids");
}

static void test_nonfinite_values(void **state)
{
    (void)state;
    struct bytes b = {{0}, 0};
    put_fvecs_row(&b, 4, 0);
    put_i32(&b, 4);
    put_f32(&b, 1);
    put_f32(&b, 2);
    put_f32(&b, NAN);
    put_f32(&b, 3);
    expect_vectors_error(&b, DATA_FORMAT_FVECS, "row 1, column 2 is NaN");

    b.len = 0;
    put_fvecs_row(&b, 2, 0);
    put_i32(&b, 2);
    put_f32(&b, -INFINITY);
    put_f32(&b, INFINITY);
    expect_vectors_error(&b, DATA_FORMAT_FVECS, "row 1, column 0 is -Inf");

    b.len = 0;
    put_npy_header(&b, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 1), }");
    put_f64(&b, 1.0);
    put_f64(&b, 1e300);
    expect_vectors_error(&b, DATA_FORMAT_NPY, "row 1, column 0: 1e+300 does not fit in float32");

    b.len = 0;
    put_npy_header(&b, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }");
    put_f64(&b, 1.0);
    put_f64(&b, INFINITY);
    expect_vectors_error(&b, DATA_FORMAT_NPY, "row 0, column 1 is +Inf");
}

/* ---- malformed .npy ---- */

static void test_npy_preamble_errors(void **state)
{
    (void)state;
    struct bytes b = {{0}, 0};
    put_raw(&b, "\x93NUMPX\x01\x00\x10\x00", 10);
    expect_vectors_error(&b, DATA_FORMAT_NPY, "not a .npy file (no \\x93NUMPY magic)");

    b.len = 0;
    put_raw(&b, "\x93NUMPY\x04\x00\x10\x00", 10);
    expect_vectors_error(&b, DATA_FORMAT_NPY, "unsupported .npy format version 4.0");

    b.len = 0;
    put_raw(&b, "\x93NUMPY\x01", 7);
    expect_vectors_error(&b, DATA_FORMAT_NPY, "truncated .npy preamble");

    b.len = 0;
    put_raw(&b, "\x93NUMPY\x02\x00\x10\x00", 10);
    expect_vectors_error(&b, DATA_FORMAT_NPY, "truncated .npy preamble");

    b.len = 0;
    put_raw(&b, "\x93NUMPY\x01\x00\xff\x00{'descr'", 18);
    expect_vectors_error(&b, DATA_FORMAT_NPY, "the header declares 255 bytes, 8 follow");
}

static void test_npy_header_errors(void **state)
{
    (void)state;
    static const struct {
        const char *dict, *fragment;
    } cases[] = {
        {"['descr']", "not a dict"},
        {"{'descr': '<f4', 'fortran_order': False}", "no 'shape' key"},
        {"{'shape': (1, 1), 'fortran_order': False}", "no 'descr' key"},
        {"{'descr': '<f4', 'descr': '<f4'", "key 'descr' appears twice"},
        {"{'foo': 1}", "unexpected key 'foo'"},
        {"{'descr' '<f4'}", "expected ':' after a key"},
        {"{'descr: '<f4'}", "unexpected key 'descr: '"},
        {"{'descr': '<f4", "unterminated string"},
        {"{'descr': '<f\\4'}", "unsupported character 0x5c"},
        {"{'descr': [('a', '<f4')]}", "structured dtypes are not supported"},
        {"{'descr': '<f4' 'shape': (1, 1)}", "expected '}' or ',' after a value"},
        {"{'fortran_order': Falsey}", "expected True or False"},
        {"{'fortran_order': 0}", "expected True or False"},
        {"{'shape': [1, 1]}", "expected '(' to open 'shape'"},
        {"{'shape': (1, -1)}", "expected a non-negative integer"},
        {"{'shape': (1 2)}", "expected ')' or ',' in 'shape'"},
        {"{'shape': (1, 2, 3)}", "'shape' has more than 2 dimensions"},
        {"{'shape': (99999999999999999999, 1)}", "'shape' value too large"},
        {"{'descr': 'abcdefghijklmnopqrstuvwxyz'}", "string longer than 15 characters"},
        {"{}}", "unexpected text after the dict"},
        {"", "expected '{' at the start"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_npy_vectors_error(cases[i].dict, NULL, cases[i].fragment);
}

static void test_npy_semantic_errors(void **state)
{
    (void)state;
    struct bytes four = {{0}, 0};
    for (int i = 0; i < 4; i++)
        put_f32(&four, (float)i);
    static const struct {
        const char *dict, *fragment;
    } cases[] = {
        {"{'descr': '<i2', 'fortran_order': False, 'shape': (2, 2), }",
         "unsupported dtype '<i2'; expected float32 ('<f4'), float64 ('<f8') or uint8 ('|u1')"},
        {"{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }", "big-endian"},
        {"{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", "fortran_order is True"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (), }", "a scalar"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (0, 2), }", "no rows"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (4, 0), }", "dimension 0"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2000000), }",
         "above the limit of 1000000"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 1000000), }",
         "too large (size overflow)"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }",
         "truncated: shape (3, 2) of '<f4' needs 24 data bytes, the file has 16"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), }",
         "4 unexpected bytes after the data of shape (1, 3)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_npy_vectors_error(cases[i].dict, &four, cases[i].fragment);

    struct bytes b = {{0}, 0};
    put_npy_header(&b, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 4), }");
    put_raw(&b, four.p, four.len);
    expect_ids_error(&b, DATA_FORMAT_NPY, "unsupported dtype '<f4'; expected int32 ('<i4') or "
                     "int64 ('<i8')");
}

/* ---- files: paths, types, writers ---- */

static void test_file_errors(void **state)
{
    struct fixture *f = *state;
    struct data_matrix m;
    struct data_ids ids;

    const char *p = path_of(f, "missing.fvecs");
    assert_int_equal(data_read_vectors(p, &m, f->err, sizeof f->err), RUV_E_NOTFOUND);
    assert_non_null(strstr(f->err, "missing.fvecs: cannot open: "));

    p = path_of(f, "empty.fvecs");
    struct bytes none = {{0}, 0};
    write_file(p, &none);
    assert_int_equal(data_read_vectors(p, &m, f->err, sizeof f->err), RUV_E_CORRUPT);
    assert_non_null(strstr(f->err, "empty.fvecs: empty file"));

    assert_int_equal(data_read_vectors(f->dir, &m, f->err, sizeof f->err), RUV_E_INVAL);
    assert_non_null(strstr(f->err, "unknown file type"));
    assert_int_equal(data_read_vectors(path_of(f, "x.txt"), &m, f->err, sizeof f->err),
                     RUV_E_INVAL);
    assert_non_null(strstr(f->err, "x.txt: unknown file type (expected .fvecs, .bvecs or .npy)"));

    p = path_of(f, "sub.npy");
    assert_int_equal(mkdir(p, 0700), 0);
    assert_int_equal(data_read_vectors(p, &m, f->err, sizeof f->err), RUV_E_IO);
    assert_non_null(strstr(f->err, "sub.npy: is a directory"));
    rmdir(p);

    assert_int_equal(data_read_vectors(path_of(f, "gt.ivecs"), &m, f->err, sizeof f->err),
                     RUV_E_INVAL);
    assert_non_null(strstr(f->err, "holds integers (ids), not vectors"));
    assert_int_equal(data_read_ids(path_of(f, "gt.fvecs"), &ids, f->err, sizeof f->err),
                     RUV_E_INVAL);
    assert_non_null(strstr(f->err, "unknown file type for ids"));

    /* A bad row in a real file is named with the path. */
    struct bytes b = {{0}, 0};
    put_fvecs_row(&b, 2, 0);
    put_i32(&b, 2);
    put_f32(&b, NAN);
    put_f32(&b, 0);
    p = path_of(f, "nan.fvecs");
    write_file(p, &b);
    assert_int_equal(data_read_vectors(p, &m, f->err, sizeof f->err), RUV_E_INVAL);
    assert_non_null(strstr(f->err, "nan.fvecs: row 1, column 0 is NaN"));
}

static void test_special_files(void **state)
{
    struct fixture *f = *state;
    struct data_matrix m;
    const char *p = path_of(f, "pipe.fvecs");
    assert_int_equal(mkfifo(p, 0600), 0);
    assert_int_equal(data_read_vectors(p, &m, f->err, sizeof f->err), RUV_E_IO);
    assert_non_null(strstr(f->err, "pipe.fvecs: not a regular file"));
    unlink(p);

    /* A full disk: the error surfaces (at the latest when the file is
     * closed) and the partial file is removed. */
    const float v[4] = {1, 2, 3, 4};
    struct stat st;
    if (stat("/dev/full", &st) != 0 || !S_ISCHR(st.st_mode))
        skip(); /* never let fopen create a regular /dev/full */
    p = path_of(f, "full.fvecs");
    if (symlink("/dev/full", p) != 0)
        skip();
    assert_int_equal(data_write_vectors(p, v, 2, 2, f->err, sizeof f->err), RUV_E_IO);
    assert_non_null(strstr(f->err, "full.fvecs: cannot write: "));
    unlink(p);
}

static void test_writer_errors(void **state)
{
    struct fixture *f = *state;
    const float v[2] = {1, 2};
    assert_int_equal(data_write_vectors(path_of(f, "v.bvecs"), v, 1, 2, f->err, sizeof f->err),
                     RUV_E_INVAL);
    assert_non_null(strstr(f->err, "cannot write vectors here"));
    assert_int_equal(data_write_vectors(path_of(f, "v.fvecs"), v, 1, 0, f->err, sizeof f->err),
                     RUV_E_INVAL);
    assert_non_null(strstr(f->err, "cannot write dimension 0"));
    assert_int_equal(data_write_vectors(path_of(f, "no/such/dir.fvecs"), v, 1, 2, f->err,
                                        sizeof f->err), RUV_E_IO);
    assert_non_null(strstr(f->err, "cannot create: "));
    const int64_t ids[1] = {1};
    assert_int_equal(data_write_ids(path_of(f, "i.fvecs"), ids, 1, 1, f->err, sizeof f->err),
                     RUV_E_INVAL);
    assert_non_null(strstr(f->err, "cannot write ids here"));
}

/* A tiny err buffer truncates the message but never overflows. */
static void test_small_error_buffer(void **state)
{
    (void)state;
    struct bytes b = {{0}, 0};
    struct data_matrix m;
    char err[8];
    memset(err, 'x', sizeof err);
    assert_int_equal(data_parse_vectors(b.p, 0, DATA_FORMAT_FVECS, "abcdefghij", &m, err, 5),
                     RUV_E_CORRUPT);
    assert_string_equal(err, "abcd");
    assert_int_equal(err[5], 'x');
    assert_int_equal(data_parse_vectors(b.p, 0, DATA_FORMAT_FVECS, "a", &m, NULL, 0),
                     RUV_E_CORRUPT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fvecs_round_trip),
        cmocka_unit_test(test_npy_round_trip),
        cmocka_unit_test(test_ids_round_trip),
        cmocka_unit_test(test_ivecs_rejects_wide_ids),
        cmocka_unit_test(test_bvecs),
        cmocka_unit_test(test_npy_variants),
        cmocka_unit_test(test_format_from_path),
        cmocka_unit_test(test_xvecs_structure_errors),
        cmocka_unit_test(test_nonfinite_values),
        cmocka_unit_test(test_npy_preamble_errors),
        cmocka_unit_test(test_npy_header_errors),
        cmocka_unit_test(test_npy_semantic_errors),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_special_files),
        cmocka_unit_test(test_writer_errors),
        cmocka_unit_test(test_small_error_buffer),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
