/* The version-2 host services a plugin reaches through its struct ruv_host
 * (include/ruvector/plugin.h): the thread pool, index calls, durable file
 * writes, the error detail and the machine's memory. The loader copies this
 * table into every plugin's host; calls that need the engine find it
 * through the host pointer (ruv__host_owner). */
#include "config.h"

#include <stdlib.h>
#include <unistd.h>

#include <ruvector/cancel.h>
#include <ruvector/engine.h>
#include <ruvector/error.h>
#include <ruvector/index.h>
#include <ruvector/plugin.h>

#include "base/error.h"
#include "base/util.h"
#include "core/host.h"
#include "exec/pool.h"
#include "index/build.h"
#include "plugin/plugins.h"
#include "store/durable.h"

static ruv_engine *owner(const struct ruv_host *host) { return ruv__host_owner(host); }

/* ---- threads ---- */

static unsigned host_threads(const struct ruv_host *host)
{
    return ruv_engine_threads(owner(host));
}

static int host_submit(const struct ruv_host *host, void (*fn)(void *), void *ctx)
{
    (void)host;
    if (!fn)
        return ruv__set_error(RUV_E_INVAL, "host submit: fn is NULL");
    return ruv__pool_submit(fn, ctx);
}

static int host_parallel_for(const struct ruv_host *host, unsigned threads, size_t n,
                             size_t grain, void (*fn)(void *, size_t, size_t, unsigned),
                             void *ctx)
{
    if (!fn)
        return ruv__set_error(RUV_E_INVAL, "host parallel_for: fn is NULL");
    /* Plugins do not expect skipped chunks: their loops run to the end
     * whatever token the calling thread has bound (<ruvector/cancel.h>). */
    ruv_cancel *bound = ruv_cancel_bind(NULL);
    int rc = ruv__parallel_for(threads ? threads : ruv_engine_threads(owner(host)), n, grain, fn,
                               ctx);
    ruv_cancel_bind(bound);
    return rc;
}

/* ---- index calls ---- */

static int idx_build(const struct ruv_host *host, const ruv_index_params *p, const float *rows,
                     size_t n, const uint64_t *ids, unsigned threads, ruv_index **out)
{
    return ruv__index_build(owner(host), p, rows, n, ids, threads, out);
}

static int idx_estimate(const struct ruv_host *host, const ruv_index_params *p, uint64_t n,
                        uint64_t *bytes)
{
    return ruv_index_estimate_bytes(owner(host), p, n, bytes);
}

static int idx_load(const struct ruv_host *host, const char *path, unsigned flags,
                    ruv_index **out)
{
    return ruv_index_load_ex(owner(host), path, flags, out);
}

static const struct ruv_host_index index_calls = {
    .struct_size = sizeof(struct ruv_host_index),
    .build = idx_build,
    .estimate_bytes = idx_estimate,
    .search = ruv_index_search,
    .search_batch = ruv_index_search_batch,
    .memory_bytes = ruv_index_memory_bytes,
    .len = ruv_index_len,
    .params = ruv_index_params_get,
    .save = ruv_index_save,
    .load = idx_load,
    .retain = ruv_index_retain,
    .release = ruv_index_free,
    .params_init = ruv_index_params_init,
    .search_params_init = ruv_search_params_init,
    .vectors = ruv_index_vectors,
};

/* ---- durable files: the opaque handle is a heap struct ruv__durable ---- */

struct ruv_durable_file {
    struct ruv__durable d;
};

/* A new handle is kept only if its writer opened. */
static int handle_opened(ruv_durable_file *f, int rc, ruv_durable_file **out)
{
    if (rc)
        free(f);
    else
        *out = f;
    return rc;
}

static int file_open(const char *path, unsigned flags, ruv_durable_file **out)
{
    if (!out)
        return ruv__set_error(RUV_E_INVAL, "host file open: out is NULL");
    *out = NULL;
    if (flags & ~RUV_FILE_MKDIRS)
        return ruv__set_error(RUV_E_INVAL, "host file open: unknown flags 0x%x", flags);
    ruv_durable_file *f = malloc(sizeof *f);
    if (!f)
        return ruv__set_error(RUV_E_NOMEM, "out of memory");
    return handle_opened(
        f, ruv__durable_open(&f->d, path, flags & RUV_FILE_MKDIRS ? RUV__DURABLE_MKDIRS : 0), out);
}

static int file_openat(int dirfd, const char *name, unsigned flags, ruv_durable_file **out)
{
    if (!out)
        return ruv__set_error(RUV_E_INVAL, "host file openat: out is NULL");
    *out = NULL;
    if (flags)
        return ruv__set_error(RUV_E_INVAL, "host file openat: unknown flags 0x%x", flags);
    ruv_durable_file *f = malloc(sizeof *f);
    if (!f)
        return ruv__set_error(RUV_E_NOMEM, "out of memory");
    return handle_opened(f, ruv__durable_openat(&f->d, dirfd, name), out);
}

static int file_write(ruv_durable_file *f, const void *buf, size_t len)
{
    return f ? ruv__durable_write(&f->d, buf, len)
             : ruv__set_error(RUV_E_INVAL, "host file write: handle is NULL");
}

static int file_pwrite(ruv_durable_file *f, const void *buf, size_t len, uint64_t off)
{
    return f ? ruv__durable_pwrite(&f->d, buf, len, off)
             : ruv__set_error(RUV_E_INVAL, "host file pwrite: handle is NULL");
}

static int file_commit(ruv_durable_file *f)
{
    if (!f)
        return ruv__set_error(RUV_E_INVAL, "host file commit: handle is NULL");
    int rc = ruv__durable_commit(&f->d);
    ruv__durable_abort(&f->d); /* after a failure: nothing left to remove */
    free(f);
    return rc;
}

static void file_abort(ruv_durable_file *f)
{
    if (!f)
        return;
    ruv__durable_abort(&f->d);
    free(f);
}

static int file_write_all(const char *path, const void *buf, size_t len, unsigned flags)
{
    if (flags & ~RUV_FILE_MKDIRS)
        return ruv__set_error(RUV_E_INVAL, "host file write_all: unknown flags 0x%x", flags);
    return ruv__durable_write_file(path, buf, len,
                                   flags & RUV_FILE_MKDIRS ? RUV__DURABLE_MKDIRS : 0);
}

static const struct ruv_host_file file_calls = {
    .struct_size = sizeof(struct ruv_host_file),
    .open = file_open,
    .write = file_write,
    .pwrite = file_pwrite,
    .commit = file_commit,
    .abort = file_abort,
    .write_all = file_write_all,
    .openat = file_openat,
};

/* The loader fills struct_size, abi, engine_version, log, set_error and
 * config_get per plugin; the rest comes from here. */
const struct ruv_host ruv__host_services = {
    .struct_size = sizeof(struct ruv_host),
    .abi = RUV_PLUGIN_ABI,
    .last_error = ruv_last_error,
    .physical_memory = ruv__physical_memory,
    .threads = host_threads,
    .submit = host_submit,
    .parallel_for = host_parallel_for,
    .index = &index_calls,
    .file = &file_calls,
};
