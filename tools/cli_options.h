/* Command-line options of the subcommands: an iterator over argv that
 * accepts --name value, --name=value, -k value and -k10 (and "--" before
 * positional arguments), and checked parsers of the numbers they take. Every
 * bad argument is reported through say_error() as a usage error. */
#ifndef RUV_TOOLS_CLI_OPTIONS_H
#define RUV_TOOLS_CLI_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#define MAX_LIST 32     /* values in --nprobe / --rerank / --threads lists */
#define MAX_K 100000    /* -k limit: results are nq x k buffers */
#define MAX_THREADS 1024

struct opt_spec {
    const char *name; /* long name, without "--" */
    char short_name;  /* 0: none */
    int takes_value;
};

struct opt_iter {
    const char *cmd;
    int argc;
    char **argv;
    int i;
    int positional_only; /* after "--" */
};

enum { OPT_END = -1, OPT_POSITIONAL = -2, OPT_BAD = -3 };

/* Next argument: an index into specs (*value its value, if it takes one),
 * OPT_POSITIONAL (*value the argument), OPT_END, or OPT_BAD (reported). */
int opt_next(struct opt_iter *it, const struct opt_spec *specs, size_t n, const char **value);

/* Decimal integer in lo..hi, digits only (no sign, spaces or suffix) into
 * *out. Returns 0, or EXIT_USAGE after reporting "<opt>: expected ...". */
int parse_uint(const char *cmd, const char *opt, const char *text, uint64_t lo, uint64_t hi,
               uint64_t *out);
int parse_u32(const char *cmd, const char *opt, const char *text, uint32_t lo, uint32_t hi,
              uint32_t *out);

struct uint_list {
    uint64_t v[MAX_LIST];
    size_t n;
};

/* Comma-separated integers in lo..hi ("1,2" or "8"), at most MAX_LIST.
 * Returns 0, or EXIT_USAGE after reporting. */
int parse_list(const char *cmd, const char *opt, const char *text, uint64_t lo, uint64_t hi,
               struct uint_list *out);

#endif
