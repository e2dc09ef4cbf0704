/* Index options shared by ruvector build and bench (--type, --metric,
 * --bits, ...), turned into ruv_index_params, and the names of types and
 * metrics for what the commands print. */
#ifndef RUV_TOOLS_INDEX_OPTS_H
#define RUV_TOOLS_INDEX_OPTS_H

#include <stddef.h>
#include <stdint.h>

#include <ruvector/index.h>

struct index_opts {
    int type, metric;
    uint32_t bits, nlist;
    uint64_t seed;
    float epsilon;
    uint32_t query_bits, train_size, kmeans_iters;
    float target_recall;
    int has_bits, has_nlist, has_seed, has_epsilon, has_qbits, has_train, has_iters, has_target;
    const char *kernel; /* NULL: auto / RUVECTOR_KERNEL */
};

/* Defaults: RABITQ_PLUS, L2, every other field the index's own default. */
void index_opts_init(struct index_opts *o);

/* The option specs (struct opt_spec) that index_option() handles. */
#define INDEX_OPT_SPECS                                                                       \
    {"type", 0, 1}, {"metric", 0, 1}, {"bits", 0, 1}, {"nlist", 0, 1}, {"seed", 0, 1},        \
        {"kernel", 0, 1}, {"epsilon", 0, 1}, {"query-bits", 0, 1}, {"train-size", 0, 1},   \
        {"kmeans-iters", 0, 1}, {"target-recall", 0, 1}

/* Handles one of INDEX_OPT_SPECS; returns 0, EXIT_USAGE (reported), or -1
 * when name is not one of them. */
int index_option(const char *cmd, const char *name, const char *value, struct index_opts *o);

/* Index parameters of the given type for dim-dimensional data: the index's
 * defaults, then whatever o sets. Returns 0, or 1 (reported). */
int make_params(const char *cmd, const struct index_opts *o, int type, size_t dim,
                ruv_index_params *p);

/* Names for printing; "?" for a value the library does not know. */
const char *type_name(int type);
const char *metric_name(int metric);

#endif
