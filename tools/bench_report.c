/* ruvector bench: the results on stdout, as a table for people or as one
 * JSON object (--json) for scripts. */
#include <inttypes.h>
#include <stdio.h>

#include "bench.h"

static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void print_json_result(const struct bench *b, const struct bench_result *r)
{
    printf("{\"nprobe\":%u,\"rerank\":%" PRId32, r->nprobe, r->rerank);
    for (size_t ki = 0; ki < NRECALL; ki++) {
        printf(",\"recall@%u\":", recall_ks[ki]);
        if (r->has_recall[ki])
            printf("%.6f", r->recall[ki]);
        else
            fputs("null", stdout);
    }
    printf(",\"k\":%u,\"qps_single\":%.1f,\"latency_p50_us\":%.1f,\"latency_p99_us\":%.1f,"
           "\"batch\":[", b->o.k, r->qps_single, r->p50_us, r->p99_us);
    for (size_t t = 0; t < b->o.threads.n; t++)
        printf("%s{\"threads\":%u,\"qps\":%.1f}", t ? "," : "", b->batch_threads[t],
               r->qps_batch[t]);
    fputs("]}", stdout);
}

void bench_print_json(const struct bench *b)
{
    size_t n = b->base.n;
    fputs("{\"base\":", stdout);
    json_string(b->o.base);
    fputs(",\"queries\":", stdout);
    json_string(b->o.queries);
    fputs(",\"ground_truth\":", stdout);
    json_string(b->o.gt ? b->o.gt : "computed:flat_f32");
    printf(",\"n\":%zu,\"dim\":%zu,\"nq\":%zu,\"type\":\"%s\",\"metric\":\"%s\","
           "\"kernel\":", n, b->base.dim, b->queries.n, type_name(b->o.idx.type),
           metric_name(b->o.idx.metric));
    json_string(b->kernel);
    printf(",\"build_seconds\":%.4f,\"build_cpu_seconds\":%.4f,\"build_threads\":%u,"
           "\"memory_bytes\":%zu,"
           "\"bytes_per_vector\":%.2f,\"file_bytes\":%" PRIu64 ",\"file_bytes_per_vector\":%.2f,"
           "\"repeats\":%u,\"results\":[", b->build_seconds, b->build_cpu_seconds,
           b->build_threads, b->memory_bytes,
           (double)b->memory_bytes / (double)n, b->file_bytes, (double)b->file_bytes / (double)n,
           b->o.repeats);
    for (size_t i = 0; i < b->nresults; i++) {
        if (i)
            putchar(',');
        print_json_result(b, &b->results[i]);
    }
    puts("]}");
}

static void format_setting(char *buf, size_t cap, int64_t v, int64_t default_value)
{
    if (v == default_value)
        snprintf(buf, cap, "auto");
    else
        snprintf(buf, cap, "%" PRId64, v);
}

void bench_print_table(const struct bench *b)
{
    size_t n = b->base.n;
    printf("data      %s: %zu x %zu; %zu queries from %s\n", b->o.base, n, b->base.dim,
           b->queries.n, b->o.queries);
    printf("index     %s, metric %s, kernel %s\n", type_name(b->o.idx.type),
           metric_name(b->o.idx.metric), b->kernel);
    printf("build     %.3f s on %u thread%s (CPU %.3f s)\n", b->build_seconds, b->build_threads,
           plural(b->build_threads), b->build_cpu_seconds);
    printf("size      memory %.1f B/vector (%zu bytes), file %.1f B/vector (%" PRIu64 " bytes)\n",
           (double)b->memory_bytes / (double)n, b->memory_bytes,
           (double)b->file_bytes / (double)n, b->file_bytes);
    printf("truth     %s\n", b->o.gt ? b->o.gt : "computed (exact flat_f32 search)");
    printf("timings   k=%u, warm-up then median of %u; latency of the 1-thread query loop\n\n",
           b->o.k, b->o.repeats);
    printf("%6s %6s %9s %9s %10s %9s %9s %9s", "nprobe", "rerank", "recall@1", "recall@10",
           "recall@100", "QPS 1q", "p50 us", "p99 us");
    for (size_t t = 0; t < b->o.threads.n; t++) {
        char head[32];
        snprintf(head, sizeof head, "batch %ut", b->batch_threads[t]);
        printf(" %10s", head);
    }
    putchar('\n');
    for (size_t i = 0; i < b->nresults; i++) {
        const struct bench_result *r = &b->results[i];
        char np[24], rr[24];
        format_setting(np, sizeof np, r->nprobe, 0);
        format_setting(rr, sizeof rr, r->rerank, -1);
        printf("%6s %6s", np, rr);
        static const int widths[NRECALL] = {9, 9, 10};
        for (size_t ki = 0; ki < NRECALL; ki++) {
            if (r->has_recall[ki])
                printf(" %*.4f", widths[ki], r->recall[ki]);
            else
                printf(" %*s", widths[ki], "-");
        }
        printf(" %9.0f %9.1f %9.1f", r->qps_single, r->p50_us, r->p99_us);
        for (size_t t = 0; t < b->o.threads.n; t++)
            printf(" %10.0f", r->qps_batch[t]);
        putchar('\n');
    }
}
