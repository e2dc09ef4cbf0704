/* Index options shared by build and bench (see index_opts.h). */
#include <stdlib.h>
#include <string.h>

#include <ruvector/error.h>

#include "cli_messages.h"
#include "cli_options.h"
#include "index_opts.h"

void index_opts_init(struct index_opts *o)
{
    memset(o, 0, sizeof *o);
    o->type = RUV_INDEX_RABITQ_PLUS;
    o->metric = RUV_METRIC_L2;
}

int index_option(const char *cmd, const char *name, const char *value, struct index_opts *o)
{
    if (!strcmp(name, "type")) {
        if (ruv_index_type_parse(value, &o->type) != RUV_OK)
            return say_error(EXIT_USAGE, cmd, "--type: unknown index type '%s' (expected "
                             "flat_f32, rabitq, rabitq_plus or rabitq_asym)", value);
        return 0;
    }
    if (!strcmp(name, "metric")) {
        if (ruv_metric_parse(value, &o->metric) != RUV_OK)
            return say_error(EXIT_USAGE, cmd, "--metric: unknown metric '%s' (expected l2, ip "
                             "or cosine)", value);
        return 0;
    }
    if (!strcmp(name, "bits")) {
        o->has_bits = 1;
        return parse_u32(cmd, "--bits", value, 1, 8, &o->bits);
    }
    if (!strcmp(name, "nlist")) {
        o->has_nlist = 1;
        return parse_u32(cmd, "--nlist", value, 0, 1u << 24, &o->nlist);
    }
    if (!strcmp(name, "seed")) {
        o->has_seed = 1;
        return parse_uint(cmd, "--seed", value, 0, UINT64_MAX, &o->seed);
    }
    if (!strcmp(name, "kernel")) {
        o->kernel = value;
        return 0;
    }
    if (!strcmp(name, "train-size")) {
        o->has_train = 1;
        return parse_u32(cmd, "--train-size", value, 0, UINT32_MAX, &o->train_size);
    }
    if (!strcmp(name, "kmeans-iters")) {
        o->has_iters = 1;
        return parse_u32(cmd, "--kmeans-iters", value, 0, 1000, &o->kmeans_iters);
    }
    if (!strcmp(name, "query-bits")) {
        o->has_qbits = 1;
        return parse_u32(cmd, "--query-bits", value, 1, 8, &o->query_bits);
    }
    if (!strcmp(name, "epsilon")) {
        char *end = NULL;
        double e = strtod(value, &end);
        if (!end || *end || !(e > 0 && e < 100))
            return say_error(EXIT_USAGE, cmd, "--epsilon: '%s' is not a number in (0, 100)", value);
        o->epsilon = (float)e;
        o->has_epsilon = 1;
        return 0;
    }
    if (!strcmp(name, "target-recall")) {
        char *end = NULL;
        double t = strtod(value, &end);
        if (!end || *end || !(t >= 0 && t <= 1))
            return say_error(EXIT_USAGE, cmd,
                             "--target-recall: '%s' is not a number in 0..1 (0: no plan)", value);
        o->target_recall = (float)t;
        o->has_target = 1;
        return 0;
    }
    return -1;
}

int make_params(const char *cmd, const struct index_opts *o, int type, size_t dim,
                ruv_index_params *p)
{
    int rc = ruv_index_params_init(p, type, o->metric, (uint32_t)dim);
    if (rc != RUV_OK)
        return lib_error(cmd, rc, "index parameters");
    if (o->has_bits)
        p->bits = o->bits;
    if (o->has_nlist)
        p->nlist = o->nlist;
    if (o->has_seed)
        p->seed = o->seed;
    if (o->has_epsilon)
        p->epsilon = o->epsilon;
    if (o->has_qbits)
        p->query_bits = o->query_bits;
    if (o->has_train)
        p->train_size = o->train_size;
    if (o->has_iters)
        p->kmeans_iters = o->kmeans_iters;
    if (o->has_target)
        p->target_recall = o->target_recall;
    return 0;
}

const char *type_name(int type)
{
    const char *s = ruv_index_type_name(type);
    return s ? s : "?";
}

const char *metric_name(int metric)
{
    const char *s = ruv_metric_name(metric);
    return s ? s : "?";
}

