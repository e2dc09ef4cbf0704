/* Option iterator and number parsers of the CLI (see cli_options.h). */
#include <inttypes.h>
#include <string.h>

#include "cli_messages.h"
#include "cli_options.h"

static int find_spec(const struct opt_spec *specs, size_t n, const char *arg, size_t *len)
{
    if (arg[1] == '-') {
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        *len = 2 + nlen;
        for (size_t s = 0; s < n; s++)
            if (strlen(specs[s].name) == nlen && !strncmp(specs[s].name, name, nlen))
                return (int)s;
        return -1;
    }
    *len = 2;
    for (size_t s = 0; s < n; s++)
        if (specs[s].short_name && specs[s].short_name == arg[1])
            return (int)s;
    return -1;
}

/* Accepts --name value, --name=value, -k value and -k10. */
int opt_next(struct opt_iter *it, const struct opt_spec *specs, size_t n, const char **value)
{
    if (it->i >= it->argc)
        return OPT_END;
    const char *arg = it->argv[it->i++];
    *value = arg;
    if (it->positional_only || arg[0] != '-' || arg[1] == '\0')
        return OPT_POSITIONAL;
    if (!strcmp(arg, "--")) {
        it->positional_only = 1;
        return opt_next(it, specs, n, value);
    }
    size_t len;
    int s = find_spec(specs, n, arg, &len);
    if (s < 0) {
        say_error(EXIT_USAGE, it->cmd, "unknown option '%s' (see --help)", arg);
        return OPT_BAD;
    }
    /* find_spec stops a long name at '=' or the end, a short one after its letter. */
    const char *attached = arg[1] == '-' ? (arg[len] == '=' ? arg + len + 1 : NULL)
                                         : (arg[len] ? arg + len : NULL);
    if (!specs[s].takes_value) {
        if (attached) {
            say_error(EXIT_USAGE, it->cmd, "option '%s' takes no value", arg);
            return OPT_BAD;
        }
        return s;
    }
    if (!attached) {
        if (it->i >= it->argc) {
            say_error(EXIT_USAGE, it->cmd, "option '%s' needs a value", arg);
            return OPT_BAD;
        }
        attached = it->argv[it->i++];
    }
    *value = attached;
    return s;
}

int parse_uint(const char *cmd, const char *opt, const char *text, uint64_t lo,
               uint64_t hi, uint64_t *out)
{
    uint64_t v = 0;
    int ok = text[0] != '\0';
    for (const char *p = text; ok && *p; p++) {
        unsigned digit = (unsigned)(*p - '0');
        ok = *p >= '0' && *p <= '9' && v <= (UINT64_MAX - digit) / 10;
        v = v * 10 + digit;
    }
    if (!ok || v < lo || v > hi)
        return say_error(EXIT_USAGE, cmd, "%s: expected an integer in %" PRIu64 "..%" PRIu64
                         ", got '%s'", opt, lo, hi, text);
    *out = v;
    return 0;
}

int parse_u32(const char *cmd, const char *opt, const char *text, uint32_t lo,
              uint32_t hi, uint32_t *out)
{
    uint64_t v;
    int rc = parse_uint(cmd, opt, text, lo, hi, &v);
    if (rc == 0)
        *out = (uint32_t)v;
    return rc;
}

int parse_list(const char *cmd, const char *opt, const char *text, uint64_t lo,
               uint64_t hi, struct uint_list *out)
{
    out->n = 0;
    const char *p = text;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char item[32];
        if (len == 0 || len >= sizeof item)
            return say_error(EXIT_USAGE, cmd, "%s: expected integers separated by commas, "
                             "got '%s'", opt, text);
        if (out->n == MAX_LIST)
            return say_error(EXIT_USAGE, cmd, "%s: more than %d values", opt, MAX_LIST);
        memcpy(item, p, len);
        item[len] = '\0';
        if (parse_uint(cmd, opt, item, lo, hi, &out->v[out->n]) != 0)
            return EXIT_USAGE;
        out->n++;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}
