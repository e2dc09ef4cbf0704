/* Seed corpus for tests/fuzz/fuzz_index_load: small valid index files of
 * every type, metric and layout, written through the public API.
 *
 *   gen_index_seeds DIR
 *
 * Types flat_f32, rabitq, rabitq_plus and rabitq_asym; metrics l2, ip and
 * cosine; dimensions 1, 3, 64 and 65; RaBitQ with 1-bit and 4-bit codes
 * (and a few 2- and 8-bit ones), with and without IVF (3 lists), and two
 * of dimension 1100 (chunked FastScan sums). A few
 * vectors are removed after the build, so list rows are not in order, and
 * ids are large and sparse. Each type also gets an empty index. The engine
 * runs the scalar kernel on one thread, so the files are the same on every
 * machine. Built and run by `make fuzz-index-seeds` (tests/fuzz/local.mk). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <ruvector/ruvector.h>

#include "scalar_engine.h"

static uint64_t rs = 0x9e3779b97f4a7c15u;
static float frand(void) /* xorshift64, uniform in [-1, 1) */
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (float)((double)(rs >> 11) / 4503599627370496.0 - 1.0);
}

static int write_one(ruv_engine *eng, const char *dir, int type, int metric, uint32_t dim,
                     uint32_t bits, uint32_t nlist, size_t n, size_t drop)
{
    ruv_index_params p;
    ruv_index_params_init(&p, type, metric, dim);
    p.bits = bits;
    p.nlist = nlist;
    if (bits == 2)
        p.query_bits = 4; /* and a non-default query quantisation */
    float *x = malloc((n ? n : 1) * dim * sizeof *x);
    uint64_t *ids = malloc((n ? n : 1) * sizeof *ids);
    if (!x || !ids)
        return 1;
    for (size_t i = 0; i < n; i++) {
        float c = (float)(i % 3) * 2.0f - 2.0f; /* three loose clusters */
        for (uint32_t j = 0; j < dim; j++)
            x[i * dim + j] = c + 0.5f * frand();
        ids[i] = (uint64_t)i * UINT64_C(0x100000001b3) + 7; /* large and sparse */
    }
    ruv_index *idx = NULL;
    int rc = ruv_index_build(eng, &p, x, n, ids, &idx);
    for (size_t i = 0; !rc && i < drop; i++) {
        uint64_t id = ids[(i * 5 + 1) % n];
        rc = ruv_index_remove(idx, &id, 1, NULL);
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/%s-%s-d%u-b%u-l%u-n%zu.ruv", dir, ruv_index_type_name(type),
             ruv_metric_name(metric), dim, bits, nlist, n - drop);
    if (!rc)
        rc = ruv_index_save(idx, path);
    if (rc)
        fprintf(stderr, "gen_index_seeds: %s: %s %s\n", path, ruv_status_name(rc),
                ruv_last_error());
    ruv_index_free(idx);
    free(x);
    free(ids);
    return rc != RUV_OK;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_index_seeds DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    ruv_engine *eng = NULL;
    int rc = fuzz_scalar_engine(NULL, &eng);
    if (rc) {
        fprintf(stderr, "gen_index_seeds: %s %s\n", ruv_status_name(rc), ruv_last_error());
        return 1;
    }
    static const uint32_t dims[] = {1, 3, 64, 65};
    static const struct { uint32_t bits, nlist; } layouts[] = {{1, 0}, {1, 3}, {4, 0}, {4, 3}};
    int fails = 0, files = 0;
    for (int metric = RUV_METRIC_L2; metric <= RUV_METRIC_COSINE; metric++)
        for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++) {
            /* n = 13: one partial FastScan block; drop 2 so rows move */
            fails += write_one(eng, dir, RUV_INDEX_FLAT_F32, metric, dims[d], 1, 0, 13, 2);
            files++;
            for (int type = RUV_INDEX_RABITQ; type <= RUV_INDEX_RABITQ_ASYM; type++)
                for (size_t l = 0; l < sizeof layouts / sizeof layouts[0]; l++) {
                    fails += write_one(eng, dir, type, metric, dims[d], layouts[l].bits,
                                       layouts[l].nlist, 13, 2);
                    files++;
                }
        }
    /* other code widths, a list longer than one FastScan block, empty indexes */
    fails += write_one(eng, dir, RUV_INDEX_RABITQ, RUV_METRIC_L2, 65, 2, 0, 40, 3);
    fails += write_one(eng, dir, RUV_INDEX_RABITQ_PLUS, RUV_METRIC_IP, 3, 8, 3, 40, 3);
    fails += write_one(eng, dir, RUV_INDEX_RABITQ_ASYM, RUV_METRIC_COSINE, 64, 8, 0, 40, 0);
    /* past 1024 dimensions the FastScan sums go in chunks */
    fails += write_one(eng, dir, RUV_INDEX_RABITQ, RUV_METRIC_L2, 1100, 1, 0, 5, 0);
    fails += write_one(eng, dir, RUV_INDEX_RABITQ, RUV_METRIC_IP, 1100, 4, 0, 5, 0);
    files += 5;
    for (int type = RUV_INDEX_FLAT_F32; type <= RUV_INDEX_RABITQ_ASYM; type++, files++)
        fails += write_one(eng, dir, type, RUV_METRIC_L2, 3, 1, 0, 0, 0);
    ruv_engine_close(eng);
    if (fails) {
        fprintf(stderr, "gen_index_seeds: %d of %d files failed\n", fails, files);
        return 1;
    }
    printf("gen_index_seeds: %d files in %s\n", files, dir);
    return 0;
}
