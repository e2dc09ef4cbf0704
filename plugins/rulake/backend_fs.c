/* FsBackend (rulake.md §10.2): each collection is one file in a root
 * directory, ruvec2 (written and read) or ruvector's ruvec1 (read).
 * describe reads only the header: the generation is ruvec2's write token
 * (new on every write) with its content digest, or ruvec1's best-effort
 * stat1 string with nanosecond times, never a whole-second mtime. The
 * data_ref uses the root's realpath, whatever its spelling. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ruvector/error.h>

#include "lake_backends.h"
#include "lake_error.h"
#include "lake_internal.h"
#include "ruvec.h"

struct fcoll {
    struct fcoll *next;
    char *name, *file;
};

struct ruv_lake_fs {
    atomic_uint refs;
    char name[LAKE_NAME_MAX + 1];
    char *root; /* realpath */
    int root_fd;
    pthread_mutex_t mu;
    struct fcoll *colls;
};

int ruv__lake_fs_new(const char *name, const char *root, struct ruv_lake_fs **out)
{
    if (!out || !root)
        return ruv__detail_set(RUV_E_INVAL, "fs_new: root or out is NULL");
    *out = NULL;
    int st = ruv__lake_name_check("backend", name);
    if (st != RUV_OK)
        return st;
    struct ruv_lake_fs *fb = calloc(1, sizeof *fb);
    if (!fb)
        return ruv__detail_set(RUV_E_NOMEM, "out of memory for an FsBackend");
    fb->root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fb->root_fd < 0 || !(fb->root = realpath(root, NULL))) {
        int e = errno;
        if (fb->root_fd >= 0)
            close(fb->root_fd);
        free(fb);
        return ruv__detail_set(e == ENOENT ? RUV_E_NOTFOUND : RUV_E_IO,
                               "FsBackend root %s: %s", root, strerror(e));
    }
    atomic_init(&fb->refs, 1);
    strcpy(fb->name, name);
    pthread_mutex_init(&fb->mu, NULL);
    *out = fb;
    return RUV_OK;
}

void ruv__lake_fs_release(struct ruv_lake_fs *fb)
{
    if (!fb || atomic_fetch_sub(&fb->refs, 1) != 1)
        return;
    for (struct fcoll *c = fb->colls, *next; c; c = next) {
        next = c->next;
        free(c->name);
        free(c->file);
        free(c);
    }
    close(fb->root_fd);
    free(fb->root);
    pthread_mutex_destroy(&fb->mu);
    free(fb);
}

int ruv__lake_fs_register(struct ruv_lake_fs *fb, const char *coll, const char *filename)
{
    if (!fb || !coll || !*coll)
        return ruv__detail_set(RUV_E_INVAL, "fs_register: backend or collection is NULL/empty");
    int st = ruv__lake_fs_name_check(filename);
    if (st != RUV_OK)
        return st;
    char *file = strdup(filename), *name = strdup(coll);
    struct fcoll *c = NULL;
    pthread_mutex_lock(&fb->mu);
    for (c = fb->colls; c && strcmp(c->name, coll) != 0; c = c->next)
        ;
    if (file && name && c) {
        free(c->file); /* re-registering points the collection at another file */
        c->file = file;
        free(name);
        file = name = NULL;
    } else if (file && name && (c = malloc(sizeof *c)) != NULL) {
        *c = (struct fcoll){fb->colls, name, file};
        fb->colls = c;
        file = name = NULL;
    } else {
        st = ruv__detail_set(RUV_E_NOMEM, "out of memory registering a collection");
    }
    pthread_mutex_unlock(&fb->mu);
    free(file);
    free(name);
    return st;
}

int ruv__lake_fs_write(struct ruv_lake_fs *fb, const char *filename, const uint64_t *ids,
                       const float *vectors, uint64_t n, uint32_t dim)
{
    if (!fb)
        return ruv__detail_set(RUV_E_INVAL, "fs_write: backend is NULL");
    if (n && (!ids || !vectors))
        return ruv__detail_set(RUV_E_INVAL, "%llu rows but ids or vectors is NULL",
                               (unsigned long long)n);
    return ruv__lake_ruvec2_write_at(fb->root_fd, filename, ids, vectors, n, dim, NULL);
}

/* The collection's file name, copied (the caller frees), or NULL with the
 * detail set. */
static char *file_of(struct ruv_lake_fs *fb, const char *coll)
{
    char *file = NULL;
    pthread_mutex_lock(&fb->mu);
    for (struct fcoll *c = fb->colls; c; c = c->next)
        if (strcmp(c->name, coll) == 0) {
            file = strdup(c->file);
            if (!file)
                ruv__detail_set(RUV_E_NOMEM, "out of memory");
            break;
        }
    pthread_mutex_unlock(&fb->mu);
    if (!file)
        ruv__detail_set(RUV_E_NOTFOUND, "unknown collection '%.200s'", coll);
    return file;
}

static int fill_desc(struct ruv_lake_fs *fb, const char *file,
                     const struct ruv__lake_ruvec_info *info, struct ruv_lake_desc *d)
{
    int len = snprintf(d->data_ref, sizeof d->data_ref, "file://%s/%s", fb->root, file);
    if (len < 0 || (size_t)len >= sizeof d->data_ref)
        return ruv__detail_set(RUV_E_INVAL, "data_ref of %s is over 4095 bytes", file);
    d->data_ref_len = (uint32_t)len;
    d->dim = info->dim;
    d->count = info->count;
    d->gen_is_opaque = 1;
    d->gen_len = (uint32_t)strlen(info->generation);
    memcpy(d->gen_opaque, info->generation, d->gen_len + 1);
    d->has_digest = (uint32_t)info->has_digest;
    if (info->has_digest)
        memcpy(d->content_digest, info->content_digest, 32);
    return RUV_OK;
}

static int fs_describe(void *state, const char *coll, struct ruv_lake_desc *d)
{
    struct ruv_lake_fs *fb = state;
    char *file = file_of(fb, coll);
    if (!file)
        return ruv__detail_prefix(RUV_E_NOTFOUND, "FsBackend '%s'", fb->name);
    struct ruv__lake_ruvec_info info;
    int st = ruv__lake_ruvec_describe_at(fb->root_fd, file, &info);
    if (st == RUV_OK)
        st = fill_desc(fb, file, &info, d);
    free(file);
    return st;
}

static void rows_release(void *owner)
{
    ruv__lake_ruvec_rows_free(owner);
    free(owner);
}

static int fs_pull(void *state, const char *coll, struct ruv_lake_batch *out)
{
    struct ruv_lake_fs *fb = state;
    char *file = file_of(fb, coll);
    if (!file)
        return ruv__detail_prefix(RUV_E_NOTFOUND, "FsBackend '%s'", fb->name);
    struct ruv__lake_ruvec_info info;
    struct ruv__lake_ruvec_rows *rows = calloc(1, sizeof *rows);
    int st = rows ? ruv__lake_ruvec_read_at(fb->root_fd, file, &info, rows)
                  : ruv__detail_set(RUV_E_NOMEM, "out of memory for a pull");
    if (st == RUV_OK)
        st = fill_desc(fb, file, &info, &out->desc);
    free(file);
    if (st != RUV_OK) {
        if (rows)
            rows_release(rows);
        return st;
    }
    out->dim = rows->dim;
    out->n = rows->n;
    out->ids = rows->ids;
    out->vectors = rows->vectors;
    out->release = rows_release;
    out->owner = rows;
    return RUV_OK;
}

static int fs_list(void *state, int (*emit)(void *ctx, const char *c), void *ctx)
{
    struct ruv_lake_fs *fb = state;
    int st = RUV_OK;
    pthread_mutex_lock(&fb->mu);
    for (struct fcoll *c = fb->colls; c && st == RUV_OK; c = c->next)
        st = emit(ctx, c->name);
    pthread_mutex_unlock(&fb->mu);
    return st;
}

static void fs_destroy(void *state) { ruv__lake_fs_release(state); }

int ruv__lake_fs_is(const struct ruv_lake_backend *b)
{
    return b && b->pull == fs_pull && b->describe == fs_describe;
}

int ruv__lake_fs_backend(struct ruv_lake_fs *fb, struct ruv_lake_backend *out)
{
    if (!fb || !out)
        return ruv__detail_set(RUV_E_INVAL, "fs_backend: NULL argument");
    atomic_fetch_add(&fb->refs, 1);
    *out = (struct ruv_lake_backend){.struct_size = sizeof *out,
                                     .flags = RUV_LAKE_BACKEND_THREADSAFE,
                                     .name = fb->name,
                                     .state = fb,
                                     .describe = fs_describe,
                                     .pull = fs_pull,
                                     .list_collections = fs_list,
                                     .destroy = fs_destroy};
    return RUV_OK;
}
