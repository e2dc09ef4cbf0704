/* bench_tok — single-thread throughput of the embed_onnx tokenizer.
 * Usage: bench_tok vocab.txt|tokenizer.json TEXTS [max_length] [repeats]
 * TEXTS holds one text per line (the newline is not part of the text).
 * Prints MB/s and texts/s over the best of the repeats, and a checksum of
 * the ids so that bench_tokenizer.py can compare them with HF's. Run by
 * bench/bench_tokenizer.py; not a test. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "../plugins/embed-onnx/tokenizer.h"

#include <ruvector/error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: the machine may be shared */
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s vocab.txt|tokenizer.json TEXTS [max_length] [repeats]\n", argv[0]);
        return 2;
    }
    struct ruv__tok_opts o = {argc > 3 ? strtoul(argv[3], NULL, 10) : 256, 0};
    int repeats = argc > 4 ? atoi(argv[4]) : 5;
    struct ruv__tok *tok = NULL;
    if (ruv__tok_open(argv[1], &o, &tok) != RUV_OK) {
        fprintf(stderr, "%s\n", ruv__detail_get());
        return 1;
    }
    char *buf;
    size_t len;
    if (ruv__tok_read_file(argv[2], &buf, &len) != RUV_OK) {
        fprintf(stderr, "%s\n", ruv__detail_get());
        ruv__tok_free(tok);
        return 1;
    }
    size_t ntexts = 0, bytes = 0;
    for (size_t i = 0; i < len; i++)
        ntexts += buf[i] == '\n';
    int64_t ids[4096];
    double best = 1e30;
    unsigned long long checksum = 0, nids = 0;
    for (int r = 0; r < repeats; r++) {
        double t0 = now();
        unsigned long long sum = 0, cnt = 0;
        bytes = 0;
        for (char *p = buf, *end = buf + len; p < end;) {
            char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t tl = nl ? (size_t)(nl - p) : (size_t)(end - p);
            size_t n = 0;
            if (ruv__tok_encode(tok, p, tl, ids, 4096, &n) != RUV_OK) {
                fprintf(stderr, "encode: %s\n", ruv__detail_get());
                return 1;
            }
            for (size_t i = 0; i < n; i++)
                sum = sum * 1000003u + (unsigned long long)ids[i];
            cnt += n;
            bytes += tl;
            p += tl + 1;
        }
        double dt = now() - t0;
        if (dt < best)
            best = dt;
        checksum = sum;
        nids = cnt;
    }
    printf("{\"texts\": %zu, \"bytes\": %zu, \"ids\": %llu, \"seconds\": %.6f, \"mb_per_s\": %.2f, "
           "\"texts_per_s\": %.0f, \"checksum\": \"%016llx\"}\n",
           ntexts, bytes, nids, best, (double)bytes / best / 1e6, (double)ntexts / best, checksum);
    free(buf);
    ruv__tok_free(tok);
    return 0;
}
