/* Generates a clustered dataset shaped like ruvector's demo data (rabitq.md
 * §1.7): `clusters` centres uniform in [-2, 2]^dim, each row a random centre
 * plus N(0, sigma) noise. Writes <out>/base.fvecs and <out>/query.fvecs.
 * Our own generator (xoshiro-style PRNG + Box-Muller): the same recipe, not
 * the same bits as the Rust original.
 *
 *   gen_clustered OUTDIR [n=1000000] [nq=1000] [dim=128] [clusters=100]
 *                 [sigma=0.6] [seed=2024]                                   */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t state;

static uint64_t next(void) /* splitmix64 */
{
    uint64_t z = (state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static double uniform(void) { return (double)(next() >> 11) * (1.0 / 9007199254740992.0); }

static double gauss(void)
{
    double u = uniform(), v = uniform();
    return sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

static int write_rows(const char *path, const float *centres, size_t n, int dim, size_t clusters,
                      double sigma)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        return 1;
    }
    float *row = malloc((size_t)dim * sizeof(float));
    for (size_t i = 0; i < n && row; i++) {
        const float *c = centres + (size_t)(next() % clusters) * (size_t)dim;
        for (int j = 0; j < dim; j++)
            row[j] = c[j] + (float)(sigma * gauss());
        if (fwrite(&dim, sizeof dim, 1, f) != 1 || fwrite(row, sizeof(float), (size_t)dim, f) != (size_t)dim) {
            perror(path);
            fclose(f);
            free(row);
            return 1;
        }
    }
    free(row);
    return fclose(f) != 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s OUTDIR [n] [nq] [dim] [clusters] [sigma] [seed]\n", argv[0]);
        return 2;
    }
    size_t n = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000;
    size_t nq = argc > 3 ? strtoull(argv[3], NULL, 10) : 1000;
    int dim = argc > 4 ? atoi(argv[4]) : 128;
    size_t clusters = argc > 5 ? strtoull(argv[5], NULL, 10) : 100;
    double sigma = argc > 6 ? atof(argv[6]) : 0.6;
    state = argc > 7 ? strtoull(argv[7], NULL, 10) : 2024;
    if (n == 0 || nq == 0 || dim <= 0 || clusters == 0 || !(sigma >= 0)) {
        fprintf(stderr, "%s: n, nq, dim and clusters must be positive\n", argv[0]);
        return 2;
    }
    float *centres = malloc(clusters * (size_t)dim * sizeof(float));
    if (!centres)
        return 1;
    for (size_t i = 0; i < clusters * (size_t)dim; i++)
        centres[i] = (float)(uniform() * 4.0 - 2.0);
    char path[4096];
    snprintf(path, sizeof path, "%s/base.fvecs", argv[1]);
    int rc = write_rows(path, centres, n, dim, clusters, sigma);
    snprintf(path, sizeof path, "%s/query.fvecs", argv[1]);
    rc |= write_rows(path, centres, nq, dim, clusters, sigma);
    free(centres);
    return rc;
}
