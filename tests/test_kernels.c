/* Kernel matrix: run once per kernel (RUVECTOR_KERNEL=scalar|avx2|avx512|neon
 * set by tests/kernel-*.sh). Exits 77 (SKIP) when the CPU lacks the kernel's
 * ISA; a kernel the CPU can run must load, be selected and agree with the
 * scalar reference on the loader's checks plus randomised sizes here. */
#define _GNU_SOURCE
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <ruvector/ruvector.h>

#include "plugin/conform.h"
#include "plugin/kernels.h"

static const struct ruv_kernel_ops *K;
static const char *name;

static uint64_t rng = 12345;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static float frand(void) { return (float)((double)(next() >> 11) / 9007199254740992.0 * 2 - 1); }

static void test_selected_and_conformant(void **state)
{
    (void)state;
    char why[256];
    assert_int_equal(ruv__conform_check(K, &ruv__kernel_scalar_ops, why, sizeof why), 0);
    assert_int_equal(ruv__conform_slots_checked(), 16); /* the effective table is full */
}

/* D values the index issue cares about, random data, relative tolerance. */
static void test_f32_dims(void **state)
{
    (void)state;
    static const size_t dims[] = {1, 63, 64, 65, 100, 128, 300, 384, 1000, 1536};
    float *a = malloc(2000 * sizeof(float)), *rows = malloc(17 * 2000 * sizeof(float));
    float out[17], ref[17];
    for (size_t t = 0; t < sizeof dims / sizeof dims[0]; t++) {
        size_t d = dims[t];
        for (size_t i = 0; i < d; i++)
            a[i] = frand();
        for (size_t i = 0; i < 17 * d; i++)
            rows[i] = frand();
        K->l2sq_f32_1xN(a, rows, d, d, 17, out);
        ruv__kernel_scalar_ops.l2sq_f32_1xN(a, rows, d, d, 17, ref);
        for (int r = 0; r < 17; r++)
            assert_true(fabsf(out[r] - ref[r]) <= 1e-5f * (float)d * 4);
        K->dot_f32_1xN(a, rows, d, d, 17, out);
        ruv__kernel_scalar_ops.dot_f32_1xN(a, rows, d, d, 17, ref);
        for (int r = 0; r < 17; r++)
            assert_true(fabsf(out[r] - ref[r]) <= 1e-5f * (float)d);
        float c = K->cos_f32(a, rows, d);
        assert_true(c >= -1.0001f && c <= 1.0001f);
        assert_true(fabsf(K->cos_f32(a, a, d) - 1.0f) < 1e-5f);
    }
    free(a);
    free(rows);
}

/* The fused threshold scans, used as a top-k filter over many blocks, must
 * find exactly the top-k the plain scan finds (distinct distances): the L2
 * form (rows below the k-th distance) and the inner-product form (rows above
 * the k-th dot product), for a D that is a multiple of 8 and one that is not
 * (the masked tail), with a block that does not divide n. */
static void topk_via_threshold(int l2, size_t d)
{
    const size_t n = 5000, k = 10, block = 256;
    float *base = malloc(n * d * sizeof(float)), q[96];
    float *all = malloc(n * sizeof(float));
    uint32_t idx[256];
    float dist[256];
    for (size_t i = 0; i < n * d; i++)
        base[i] = frand();
    for (size_t i = 0; i < d; i++)
        q[i] = frand();
    if (l2) {
        ruv__kernel_scalar_ops.l2sq_f32_1xN(q, base, d, d, n, all);
    } else {
        ruv__kernel_scalar_ops.dot_f32_1xN(q, base, d, d, n, all);
        for (size_t i = 0; i < n; i++)
            all[i] = -all[i]; /* lower is better, as for distances */
    }
    float best[10];
    size_t bi[10], have = 0;
    float thr = INFINITY;
    for (size_t start = 0; start < n; start += block) {
        size_t cnt = n - start < block ? n - start : block;
        const float passed = thr;
        size_t m = l2 ? K->l2sq_f32_1xN_below(q, base + start * d, d, d, cnt, thr, idx, dist)
                      : K->dot_f32_1xN_above(q, base + start * d, d, d, cnt, -thr, idx, dist);
        for (size_t j = 0; j < m; j++) {
            float dj = l2 ? dist[j] : -dist[j];
            assert_true(dj < passed); /* only rows that pass come back */
            if (have == k && dj >= best[k - 1])
                continue;
            size_t pos = have < k ? have++ : k - 1; /* append, or replace the worst */
            best[pos] = dj;
            bi[pos] = start + idx[j];
            for (; pos > 0 && best[pos] < best[pos - 1]; pos--) { /* keep ascending */
                float tf = best[pos]; best[pos] = best[pos - 1]; best[pos - 1] = tf;
                size_t ti = bi[pos]; bi[pos] = bi[pos - 1]; bi[pos - 1] = ti;
            }
            if (have == k)
                thr = best[k - 1];
        }
    }
    assert_int_equal(have, k);
    /* reference: the k smallest of all */
    for (size_t r = 0; r < k; r++) {
        size_t arg = 0;
        for (size_t i = 1; i < n; i++)
            if (all[i] < all[arg])
                arg = i;
        assert_int_equal(bi[r], arg);
        all[arg] = INFINITY;
    }
    free(base);
    free(all);
}

static void test_topk_via_threshold(void **state)
{
    (void)state;
    topk_via_threshold(1, 96);
    topk_via_threshold(1, 37);
    topk_via_threshold(0, 96);
    topk_via_threshold(0, 37);
    topk_via_threshold(1, 24); /* rows of at most 128 bytes: four at a time */
    topk_via_threshold(0, 24);
}

static void test_bit_kernels_random_sizes(void **state)
{
    (void)state;
    uint64_t *codes = malloc(300 * 40 * sizeof(uint64_t)), planes[8 * 40];
    uint32_t a[300], b[300];
    for (int iter = 0; iter < 200; iter++) {
        size_t words = 1 + next() % 40, n = next() % 300;
        unsigned np = 1 + (unsigned)(next() % 8);
        for (size_t i = 0; i < n * words; i++)
            codes[i] = next();
        for (size_t i = 0; i < np * words; i++)
            planes[i] = next();
        K->xor_popcnt_1xN(planes, codes, words, n, a);
        ruv__kernel_scalar_ops.xor_popcnt_1xN(planes, codes, words, n, b);
        assert_memory_equal(a, b, n * sizeof a[0]);
        K->bitplane_dot_1xN(planes, np, codes, words, n, a);
        ruv__kernel_scalar_ops.bitplane_dot_1xN(planes, np, codes, words, n, b);
        assert_memory_equal(a, b, n * sizeof a[0]);
        assert_int_equal(K->popcnt_u64(codes, words), ruv__kernel_scalar_ops.popcnt_u64(codes, words));
    }
    free(codes);
}

static void test_fastscan_random(void **state)
{
    (void)state;
    uint8_t *codes = malloc(5 * 256 * 16), lut[256 * 16];
    uint16_t a[5 * 32], b[5 * 32];
    for (int iter = 0; iter < 100; iter++) {
        size_t nsub = 1 + next() % 256, nb = next() % 6;
        for (size_t i = 0; i < nb * nsub * 16; i++)
            codes[i] = (uint8_t)next();
        for (size_t i = 0; i < nsub * 16; i++)
            lut[i] = (uint8_t)next();
        K->fastscan_u8(codes, nsub, nb, lut, a);
        ruv__kernel_scalar_ops.fastscan_u8(codes, nsub, nb, lut, b);
        assert_memory_equal(a, b, nb * 32 * sizeof a[0]);
    }
    free(codes);
}

/* The whole-code dot against the int16 query: bit-exact with the scalar
 * reference at random lengths (most not multiples of 16 or 32, some past
 * the 2,048-element int32 stretches of the SIMD kernels), at offsets that
 * break vector alignment, with random values and with the largest code
 * against the extreme query values, where an int32 sum would overflow. */
static void test_dot_u8_i16_random(void **state)
{
    (void)state;
    enum { MAXLEN = 9000 };
    uint8_t *a = malloc(MAXLEN + 3);
    int16_t *b = malloc((MAXLEN + 3) * sizeof *b);
    for (int iter = 0; iter < 300; iter++) {
        size_t n = iter < 40 ? (size_t)iter : next() % (iter % 4 ? 1100 : MAXLEN);
        size_t oa = next() % 3, ob = next() % 3;
        int extreme = iter % 5 == 4;
        for (size_t i = 0; i < n; i++) {
            uint64_t r = next();
            a[oa + i] = extreme ? 255 : (uint8_t)r;
            b[ob + i] = extreme     ? (r >> 40 & 1 ? INT16_MIN : INT16_MAX)
                        : (int16_t)(uint16_t)(r >> 16);
        }
        int64_t got = K->dot_u8_i16(a + oa, b + ob, n);
        int64_t want = ruv__kernel_scalar_ops.dot_u8_i16(a + oa, b + ob, n);
        if (got != want)
            fail_msg("dot_u8_i16 n=%zu offsets %zu/%zu: got %lld, want %lld", n, oa, ob,
                     (long long)got, (long long)want);
    }
    /* all 255 x 32767 over 9,000 elements: 7.5e10, far past int32 */
    for (size_t i = 0; i < MAXLEN; i++) {
        a[i] = 255;
        b[i] = INT16_MAX;
    }
    assert_true(K->dot_u8_i16(a, b, MAXLEN) == (int64_t)255 * INT16_MAX * MAXLEN);
    /* the packed form: whole blocks of 32, 15 in every nibble at the top */
    for (int iter = 0; iter < 200; iter++) {
        size_t n = 32 * (iter < 20 ? (size_t)iter : next() % (MAXLEN / 32));
        size_t oa = next() % 3, ob = next() % 3;
        int extreme = iter % 5 == 4;
        for (size_t i = 0; i < n; i++) {
            uint64_t r = next();
            a[oa + i / 2] = extreme ? 0xff : (uint8_t)r;
            b[ob + i] = extreme     ? (r >> 40 & 1 ? INT16_MIN : INT16_MAX)
                        : (int16_t)(uint16_t)(r >> 16);
        }
        int64_t got = K->dot_u4_i16(a + oa, b + ob, n);
        int64_t want = ruv__kernel_scalar_ops.dot_u4_i16(a + oa, b + ob, n);
        if (got != want)
            fail_msg("dot_u4_i16 n=%zu offsets %zu/%zu: got %lld, want %lld", n, oa, ob,
                     (long long)got, (long long)want);
    }
    free(a);
    free(b);
}

static void test_fht_involution(void **state)
{
    (void)state;
    float x[4096], y[4096];
    for (size_t n = 1; n <= 4096; n *= 2) {
        for (size_t i = 0; i < n; i++)
            x[i] = y[i] = frand();
        K->fht_f32(y, n);
        K->fht_f32(y, n);
        for (size_t i = 0; i < n; i++)
            assert_true(fabsf(y[i] / (float)n - x[i]) < 1e-5f);
    }
}

/* Same codes and same ids from every kernel: build a RaBitQ index with the
 * scalar kernel and with the kernel under test; the files must be identical
 * byte for byte (rotation and encoding are exact across kernels) and the
 * searches must return the same ids. */
static ruv_engine *scalar_engine(void)
{
    ruv_config *cfg = NULL;
    ruv_engine *e = NULL;
    assert_int_equal(ruv_config_new(&cfg), RUV_OK);
    assert_int_equal(ruv_config_set_kernel(cfg, "scalar"), RUV_OK); /* API beats the env */
    assert_int_equal(ruv_engine_open(cfg, &e), RUV_OK);
    ruv_config_free(cfg);
    return e;
}

static ruv_engine *test_engine;

static void read_file(const char *path, unsigned char **buf, long *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = ftell(f);
    fseek(f, 0, SEEK_SET);
    *buf = malloc((size_t)*len);
    assert_int_equal(fread(*buf, 1, (size_t)*len, f), (size_t)*len);
    fclose(f);
}

static void test_rabitq_same_across_kernels(void **state)
{
    (void)state;
    const size_t n = 3000, d = 100, nq = 25;
    float *x = malloc((n + nq) * d * sizeof(float));
    for (size_t i = 0; i < (n + nq) * d; i++)
        x[i] = frand();
    ruv_engine *se = scalar_engine();
    char dir[] = "/tmp/ruv-kernels-XXXXXX";
    assert_non_null(mkdtemp(dir));
    const int types[] = {RUV_INDEX_RABITQ, RUV_INDEX_RABITQ_PLUS, RUV_INDEX_RABITQ_ASYM};
    for (int t = 0; t < 3; t++) {
        ruv_index_params p;
        ruv_index_params_init(&p, types[t], RUV_METRIC_L2, (uint32_t)d);
        p.bits = t == 2 ? 3 : 1;
        ruv_index *a = NULL, *b = NULL;
        assert_int_equal(ruv_index_build(se, &p, x, n, NULL, &a), RUV_OK);
        assert_int_equal(ruv_index_build(test_engine, &p, x, n, NULL, &b), RUV_OK);
        char pa[64], pb[64];
        snprintf(pa, sizeof pa, "%s/a.ruv", dir);
        snprintf(pb, sizeof pb, "%s/b.ruv", dir);
        assert_int_equal(ruv_index_save(a, pa), RUV_OK);
        assert_int_equal(ruv_index_save(b, pb), RUV_OK);
        unsigned char *ba, *bb;
        long la, lb;
        read_file(pa, &ba, &la);
        read_file(pb, &bb, &lb);
        assert_int_equal(la, lb);
        if (memcmp(ba, bb, (size_t)la) != 0)
            fail_msg("%s: index files built with scalar and %s differ",
                     ruv_index_type_name(types[t]), name);
        free(ba);
        free(bb);
        ruv_search_params sp;
        ruv_search_params_init(&sp, 10);
        for (size_t i = 0; i < nq; i++) {
            uint64_t ia[10], ib[10];
            float sa[10], sb[10];
            size_t na, nb;
            const float *q = x + (n + i) * d;
            assert_int_equal(ruv_index_search(a, q, &sp, ia, sa, &na), RUV_OK);
            assert_int_equal(ruv_index_search(b, q, &sp, ib, sb, &nb), RUV_OK);
            assert_int_equal(na, nb);
            for (size_t r = 0; r < na; r++)
                if (ia[r] != ib[r])
                    fail_msg("%s query %zu rank %zu: scalar id %llu, %s id %llu",
                             ruv_index_type_name(types[t]), i, r, (unsigned long long)ia[r], name,
                             (unsigned long long)ib[r]);
        }
        ruv_index_free(a);
        ruv_index_free(b);
        unlink(pa);
        unlink(pb);
    }
    rmdir(dir);
    ruv_engine_close(se);
    free(x);
}

int main(void)
{
    name = getenv("RUVECTOR_KERNEL");
    if (!name || !*name) {
        fprintf(stderr, "set RUVECTOR_KERNEL to the kernel to test\n");
        return 1;
    }
    /* Decide SKIP from the CPU, not from whether loading worked: a kernel the
     * CPU can run that fails to load is a failure. */
    uint64_t need = 0;
#define X(n, isa) if (!strcmp(name, #n)) need = (isa);
    RUV_KERNEL_NAMES(X)
#undef X
    if ((ruv_cpu_isa() & need) != need) {
        printf("SKIP: this CPU lacks the ISA kernel '%s' needs\n", name);
        return 77;
    }
    ruv_engine *eng = NULL;
    int rc = ruv_engine_open(NULL, &eng);
    if (rc != RUV_OK) {
        fprintf(stderr, "kernel %s: %s: %s\n", name, ruv_status_name(rc), ruv_last_error());
        return 1;
    }
    if (strcmp(ruv_engine_kernel_name(eng), name) != 0 ||
        strcmp(ruv_engine_kernel_source(eng), "env") != 0) {
        fprintf(stderr, "asked for %s, engine selected %s (%s)\n", name,
                ruv_engine_kernel_name(eng), ruv_engine_kernel_source(eng));
        return 1;
    }
    K = ruv_engine_kernel(eng);
    test_engine = eng;
    printf("kernel under test: %s\n", name);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selected_and_conformant),
        cmocka_unit_test(test_f32_dims),
        cmocka_unit_test(test_topk_via_threshold),
        cmocka_unit_test(test_bit_kernels_random_sizes),
        cmocka_unit_test(test_fastscan_random),
        cmocka_unit_test(test_dot_u8_i16_random),
        cmocka_unit_test(test_fht_involution),
        cmocka_unit_test(test_rabitq_same_across_kernels),
    };
    rc = cmocka_run_group_tests_name(name, tests, NULL, NULL);
    ruv_engine_close(eng);
    return rc;
}
