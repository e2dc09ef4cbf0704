/* The settings table (settings.h) at work: API values, environment and
 * defaults resolved once at open, looked up by name, and reported. */
#define _GNU_SOURCE
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ruvector/engine.h>
#include <ruvector/error.h>

#include "base/error.h"
#include "base/source.h"
#include "base/util.h"
#include "core/settings.h"

#ifndef RUV_PLUGINDIR
#define RUV_PLUGINDIR "/usr/local/lib/ruvector/plugins"
#endif

enum type { STR, PATHS, NAME, UINT, LEVEL, BOOL };

static const struct row {
    const char *name;
    enum type type;
    const char *env;
    const char *plugin;
} rows[RUV_SET_COUNT] = {
#define X(name, type, envvar, plugin) {#name, type, envvar, plugin},
    RUV_SETTINGS(X)
#undef X
};

const char *ruv_setting_name(size_t i) { return i < RUV_SET_COUNT ? rows[i].name : NULL; }

int ruv__setting_find(const char *key)
{
    for (int i = 0; i < RUV_SET_COUNT; i++)
        if (strcmp(rows[i].name, key) == 0)
            return i;
    return -1;
}

int ruv__config_set(ruv_config *cfg, int id, const char *value, const char *fn)
{
    char *copy = ruv__strdup(value);
    if (!copy)
        return ruv__set_error(RUV_E_NOMEM, "%s: out of memory", fn);
    free(cfg->api[id]);
    cfg->api[id] = copy;
    return RUV_OK;
}

static const char *env(const char *name)
{
#ifdef HAVE_SECURE_GETENV
    const char *v = secure_getenv(name);
#else
    const char *v = getenv(name);
#endif
    return (v && *v) ? v : NULL;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The default plugin path: found from where libruvector itself was loaded,
 * so a build tree, an install under any prefix and a moved install all
 * work without RUVECTOR_PLUGIN_PATH; the configured directory last. */
static int default_plugin_path(struct ruv__settings *s)
{
    struct ruv__buf path = {0}, how = {0};
    Dl_info info;
    char lib[4096] = "";
    if (dladdr((void *)&ruv__setting_find, &info) && info.dli_fname &&
        strlen(info.dli_fname) < sizeof lib) {
        strcpy(lib, info.dli_fname);
        char *slash = strrchr(lib, '/');
        if (slash)
            *slash = '\0';
        else
            strcpy(lib, ".");
    }
    char dir[4200];
    if (*lib) {
        /* installed: <libdir>/libruvector.so -> <libdir>/ruvector/plugins */
        snprintf(dir, sizeof dir, "%s/ruvector/plugins", lib);
        if (!is_dir(dir)) /* the Python wheel: <pkg>/libruvector.so.0 and <pkg>/plugins */
            snprintf(dir, sizeof dir, "%s/plugins", lib);
        if (is_dir(dir)) {
            ruv__buf_printf(&path, "%s", dir);
            ruv__buf_printf(&how, "next to %s/libruvector", lib);
        }
        /* build tree: <build>/engine/.libs -> <build>/plugins/kernel-* */
        size_t n = strlen(lib);
        if (!path.len && n > 13 && strcmp(lib + n - 13, "/engine/.libs") == 0) {
            lib[n - 13] = '\0';
            static const char *const kernels[] = {"avx2", "avx512", "neon"};
            for (int k = 0; k < 3; k++) {
                snprintf(dir, sizeof dir, "%s/plugins/kernel-%s", lib, kernels[k]);
                if (is_dir(dir))
                    ruv__buf_printf(&path, "%s%s", path.len ? ":" : "", dir);
            }
            if (path.len)
                ruv__buf_printf(&how, "build tree of %s", lib);
        }
    }
    if (!path.len || strcmp(path.p, RUV_PLUGINDIR) != 0) {
        ruv__buf_printf(&path, "%s%s", path.len ? ":" : "", RUV_PLUGINDIR);
        ruv__buf_printf(&how, "%sconfigured directory", how.len ? ", then the " : "");
    }
    if (path.oom || how.oom) {
        free(path.p);
        free(how.p);
        return ruv__set_error(RUV_E_NOMEM, "out of memory");
    }
    s->value[RUV_SET_plugin_path] = path.p;
    s->detail[RUV_SET_plugin_path] = how.p;
    return RUV_OK;
}

/* The user's cache directory (XDG base directories), where the engine
 * keeps what it measured about this machine; "" when there is none. */
static int default_cache_dir(struct ruv__settings *s)
{
    struct ruv__buf dir = {0};
    const char *xdg = env("XDG_CACHE_HOME"), *home = env("HOME"), *how;
    if (xdg && xdg[0] == '/') {
        ruv__buf_printf(&dir, "%s/ruvector", xdg);
        how = "XDG_CACHE_HOME/ruvector";
    } else if (home && home[0] == '/') {
        ruv__buf_printf(&dir, "%s/.cache/ruvector", home);
        how = "HOME/.cache/ruvector";
    } else {
        ruv__buf_printf(&dir, "%s", "");
        how = "no XDG_CACHE_HOME or HOME: nothing is cached";
    }
    s->value[RUV_SET_cache_dir] = dir.p;
    s->detail[RUV_SET_cache_dir] = ruv__strdup(how);
    if (dir.oom || !dir.p || !s->detail[RUV_SET_cache_dir])
        return ruv__set_error(RUV_E_NOMEM, "out of memory");
    return RUV_OK;
}

static int default_value(struct ruv__settings *s, int id)
{
    char text[32];
    const char *v = "";
    switch (id) {
    case RUV_SET_kernel: v = "auto"; break;
    case RUV_SET_plugin_path: return default_plugin_path(s);
    case RUV_SET_threads: {
        ruv_topology t;
        ruv_topology_get(&t);
        snprintf(text, sizeof text, "%u", t.cores ? t.cores : (t.pus ? t.pus : 1));
        v = text;
        break;
    }
    case RUV_SET_verbose: v = "0"; break;
    case RUV_SET_kernel_measure: v = "1"; break;
    case RUV_SET_cache_dir: return default_cache_dir(s);
    default: break;
    }
    s->value[id] = ruv__strdup(v);
    return s->value[id] ? RUV_OK : ruv__set_error(RUV_E_NOMEM, "out of memory");
}

/* Checks a value from the API or the environment against the row's type;
 * `from` words the message ("RUVECTOR_VERBOSE", "ruv_config_set_threads"). */
static int check(int id, const char *v, const char *from, struct ruv__settings *s)
{
    char *end = NULL;
    switch (rows[id].type) {
    case UINT: {
        unsigned long u = strtoul(v, &end, 10);
        if (!*v || *end || *v == '-' || u < 1 || u > 4096)
            return ruv__set_error(RUV_E_INVAL, "%s='%s' is not a number from 1 to 4096", from,
                                  v);
        s->threads = (unsigned)u;
        return RUV_OK;
    }
    case LEVEL:
        if ((v[0] != '0' && v[0] != '1' && v[0] != '2') || v[1] != '\0')
            return ruv__set_error(RUV_E_INVAL, "%s='%s' is not 0, 1 or 2", from, v);
        s->verbose = v[0] - '0';
        return RUV_OK;
    case BOOL:
        if ((v[0] != '0' && v[0] != '1') || v[1] != '\0')
            return ruv__set_error(RUV_E_INVAL, "%s='%s' is not 0 or 1", from, v);
        s->kernel_measure = v[0] - '0'; /* the only BOOL row */
        return RUV_OK;
    default:
        return RUV_OK; /* names and paths are checked where they are used */
    }
}

static const char *plugin_option(const ruv_config *cfg, const char *plugin, const char *key)
{
    for (size_t i = 0; cfg && i < cfg->noptions; i++)
        if (!strcmp(cfg->options[i].plugin, plugin) && !strcmp(cfg->options[i].key, key))
            return cfg->options[i].value;
    return NULL;
}

int ruv__option_add(struct ruv__option **opts, size_t *n, const char *plugin, const char *key,
                    const char *value)
{
    struct ruv__option *o = realloc(*opts, (*n + 1) * sizeof *o);
    if (!o)
        return ruv__set_error(RUV_E_NOMEM, "out of memory");
    *opts = o;
    o += *n;
    o->plugin = ruv__strdup(plugin);
    o->key = ruv__strdup(key);
    o->value = ruv__strdup(value);
    if (!o->plugin || !o->key || !o->value) {
        free(o->plugin);
        free(o->key);
        free(o->value);
        return ruv__set_error(RUV_E_NOMEM, "out of memory");
    }
    (*n)++;
    return RUV_OK;
}

int ruv__settings_resolve(struct ruv__settings *s, const ruv_config *cfg,
                          struct ruv__option **options, size_t *noptions)
{
    memset(s, 0, sizeof *s);
    for (int id = 0; id < RUV_SET_COUNT; id++) {
        const struct row *r = &rows[id];
        const char *api = r->plugin ? plugin_option(cfg, r->plugin, r->name)
                                    : (cfg ? cfg->api[id] : NULL);
        const char *e = r->env ? env(r->env) : NULL;
        int rc;
        if (api) {
            s->source[id] = RUV_SRC_API;
            rc = (s->value[id] = ruv__strdup(api)) ? RUV_OK
                                                   : ruv__set_error(RUV_E_NOMEM, "out of memory");
        } else if (e) {
            s->source[id] = RUV_SRC_ENV;
            rc = (s->value[id] = ruv__strdup(e)) ? RUV_OK
                                                 : ruv__set_error(RUV_E_NOMEM, "out of memory");
            if (!rc && r->plugin)
                rc = ruv__option_add(options, noptions, r->plugin, r->name, e);
        } else {
            s->source[id] = RUV_SRC_DEFAULT;
            rc = default_value(s, id);
        }
        if (!rc)
            rc = check(id, s->value[id], s->source[id] == RUV_SRC_ENV ? r->env : r->name, s);
        if (rc)
            return rc;
    }
    return RUV_OK;
}

void ruv__settings_free(struct ruv__settings *s)
{
    for (int id = 0; id < RUV_SET_COUNT; id++) {
        free(s->value[id]);
        free(s->detail[id]);
        s->value[id] = s->detail[id] = NULL;
    }
}

void ruv__settings_report(struct ruv__buf *b, const struct ruv__settings *s)
{
    for (int id = 0; id < RUV_SET_COUNT; id++) {
        const struct row *r = &rows[id];
        ruv__buf_printf(b, "%s\"%s\":{\"value\":", id ? "," : "", r->name);
        if (r->type == UINT || r->type == LEVEL || r->type == BOOL)
            ruv__buf_printf(b, "%s", s->value[id]);
        else
            ruv__buf_json_str(b, s->value[id]);
        ruv__buf_printf(b, ",\"source\":\"%s\"", ruv__source_name(s->source[id]));
        if (r->env) {
            ruv__buf_printf(b, ",\"env\":");
            ruv__buf_json_str(b, r->env);
        }
        if (r->plugin) {
            ruv__buf_printf(b, ",\"plugin\":");
            ruv__buf_json_str(b, r->plugin);
        }
        if (s->detail[id]) {
            ruv__buf_printf(b, ",\"found\":");
            ruv__buf_json_str(b, s->detail[id]);
        }
        ruv__buf_printf(b, "}");
    }
}
