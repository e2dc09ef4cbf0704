/* One rabitq_plus search, timed in thread CPU: builds an index over the
 * first N rows of an fvecs file (rulake.md §12 T3: 50k x 128, bits 1,
 * nlist 0, rerank 20, seed 42 unless told otherwise) and runs every query
 * REPS times on one thread. Prints the median and mean CPU microseconds per
 * search and the recall@10 against a flat index of the same rows.
 *
 *   bench/rq_search_profile BASE.fvecs QUERY.fvecs [n] [bits] [nlist] [reps] [plus|codes|asym] [rerank]
 *
 * Built by `make bench`; never in CI. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ruvector/engine.h>
#include <ruvector/error.h>
#include <ruvector/index.h>

static float *read_fvecs(const char *path, size_t limit, size_t *n, size_t *dim)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    int32_t d;
    if (fread(&d, 4, 1, f) != 1 || d <= 0) {
        fclose(f);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    size_t rows = (size_t)ftell(f) / (4 + 4 * (size_t)d);
    fseek(f, 0, SEEK_SET);
    if (limit && rows > limit)
        rows = limit;
    float *v = malloc(rows * (size_t)d * sizeof *v);
    for (size_t i = 0; v && i < rows; i++) {
        if (fread(&d, 4, 1, f) != 1 || fread(v + i * (size_t)d, 4, (size_t)d, f) != (size_t)d) {
            free(v);
            v = NULL;
        }
    }
    fclose(f);
    *n = rows;
    *dim = (size_t)d;
    return v;
}

static double thread_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s BASE.fvecs QUERY.fvecs [n] [bits] [nlist] [reps] [plus|codes|asym] [rerank]\n", argv[0]);
        return 2;
    }
    size_t limit = argc > 3 ? strtoul(argv[3], NULL, 10) : 50000;
    unsigned bits = argc > 4 ? (unsigned)strtoul(argv[4], NULL, 10) : 1;
    unsigned nlist = argc > 5 ? (unsigned)strtoul(argv[5], NULL, 10) : 0;
    unsigned reps = argc > 6 ? (unsigned)strtoul(argv[6], NULL, 10) : 20;
    const char *type = argc > 7 ? argv[7] : "plus";
    int itype = !strcmp(type, "codes") ? RUV_INDEX_RABITQ
                : !strcmp(type, "asym") ? RUV_INDEX_RABITQ_ASYM
                                        : RUV_INDEX_RABITQ_PLUS;
    size_t n, dim, nq, qdim;
    float *base = read_fvecs(argv[1], limit, &n, &dim);
    float *qs = read_fvecs(argv[2], 0, &nq, &qdim);
    if (!base || !qs || qdim != dim) {
        fprintf(stderr, "cannot read the vectors\n");
        return 1;
    }
    ruv_engine *eng;
    if (ruv_engine_open(NULL, &eng) != RUV_OK) {
        fprintf(stderr, "engine: %s\n", ruv_last_error());
        return 1;
    }
    ruv_index_params p, pf;
    ruv_index_params_init(&p, itype, RUV_METRIC_L2, (uint32_t)dim);
    p.bits = bits;
    p.nlist = nlist;
    p.rerank_factor = argc > 8 ? (uint32_t)strtoul(argv[8], NULL, 10) : 20;
    p.seed = 42;
    ruv_index_params_init(&pf, RUV_INDEX_FLAT_F32, RUV_METRIC_L2, (uint32_t)dim);
    ruv_index *idx, *flat;
    if (ruv_index_build(eng, &p, base, n, NULL, &idx) != RUV_OK ||
        ruv_index_build(eng, &pf, base, n, NULL, &flat) != RUV_OK) {
        fprintf(stderr, "build: %s\n", ruv_last_error());
        return 1;
    }
    ruv_search_params sp;
    ruv_search_params_init(&sp, 10);
    uint64_t ids[10], tids[10];
    float sc[10];
    size_t nf, tn;
    double hit = 0;
    double *us = malloc(nq * reps * sizeof *us), sum = 0;
    size_t m = 0;
    uint64_t h = 1469598103934665603ull; /* FNV-1a of every id and score bit */
    for (size_t q = 0; q < nq; q++) {
        ruv_index_search(flat, qs + q * dim, &sp, tids, sc, &tn);
        ruv_index_search(idx, qs + q * dim, &sp, ids, sc, &nf);
        for (size_t i = 0; i < nf; i++) {
            uint32_t b;
            memcpy(&b, &sc[i], 4);
            h = (h ^ ids[i]) * 1099511628211ull;
            h = (h ^ b) * 1099511628211ull;
        }
        for (size_t i = 0; i < nf; i++)
            for (size_t j = 0; j < tn; j++)
                hit += ids[i] == tids[j];
    }
    for (unsigned r = 0; r < reps; r++)
        for (size_t q = 0; q < nq; q++) {
            double t = thread_us();
            ruv_index_search(idx, qs + q * dim, &sp, ids, sc, &nf);
            us[m] = thread_us() - t;
            sum += us[m++];
        }
    qsort(us, m, sizeof *us, cmp_double);
    printf("%s n %zu dim %zu bits %u nlist %u rerank %u: %zu searches, CPU us median %.1f mean %.1f p90 %.1f, "
           "recall@10 %.4f, results hash %016llx\n",
           type, n, dim, bits, nlist, p.rerank_factor, m, us[m / 2], sum / m, us[m * 9 / 10], hit / (10.0 * nq), (unsigned long long)h);
    free(us);
    ruv_index_free(idx);
    ruv_index_free(flat);
    ruv_engine_close(eng);
    free(base);
    free(qs);
    return 0;
}
