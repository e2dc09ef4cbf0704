/* What the issue-13 tests (test_hostile.c: files; test_hostile_data.c:
 * data, ids, messages, memory) share: one engine and a temporary directory
 * per program and the seeded stream (both testdata.h), random rows, the
 * four index types. Each test program is one translation unit that
 * includes this once. */
#ifndef RUV_TESTS_HOSTILE_H
#define RUV_TESTS_HOSTILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <ruvector/ruvector.h>

#define TESTDATA_SEED 0x9e3779b97f4a7c15u
#define TESTDATA_TMPDIR "/tmp/ruv-hostile-test-XXXXXX"
#include "testdata.h"

static float frand(void) /* uniform in [-1, 1) */
{
    return (float)(urand() * 2.0 - 1.0);
}

static float *random_rows(size_t n, size_t d)
{
    float *x = malloc(n * d * sizeof(float));
    for (size_t i = 0; i < n * d; i++)
        x[i] = frand();
    return x;
}

static void path_in(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmpdir, name);
}

static const int all_types[4] = {RUV_INDEX_FLAT_F32, RUV_INDEX_RABITQ, RUV_INDEX_RABITQ_PLUS,
                                 RUV_INDEX_RABITQ_ASYM};

#endif
