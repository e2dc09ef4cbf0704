/* The plugin's own backends, LocalBackend (backend_local.c) and FsBackend
 * (backend_fs.c): the functions behind the local_* and fs_* ops of
 * feature-lake.h, whose contracts they have. */
#ifndef RULAKE_LAKE_BACKENDS_H
#define RULAKE_LAKE_BACKENDS_H

#include <stdint.h>

#include <ruvector/feature-lake.h>
#include <ruvector/plugin.h>

/* host (not owned, may be NULL): whose pool hashes rows as they are put. */
int ruv__lake_local_new(const char *name, const struct ruv_host *host,
                        struct ruv_lake_local **out);
int ruv__lake_local_upsert(struct ruv_lake_local *lb, const char *coll, const uint64_t *ids,
                           const float *vectors, uint64_t n, uint32_t dim);
int ruv__lake_local_put_collection(struct ruv_lake_local *lb, const char *coll,
                                   const uint64_t *ids, const float *vectors, uint64_t n,
                                   uint32_t dim);
int ruv__lake_local_delete(struct ruv_lake_local *lb, const char *coll, const uint64_t *ids,
                           uint64_t n, uint64_t *removed);
int ruv__lake_local_drop(struct ruv_lake_local *lb, const char *coll);
int ruv__lake_local_backend(struct ruv_lake_local *lb, struct ruv_lake_backend *out);
void ruv__lake_local_release(struct ruv_lake_local *lb);
/* Whether b is this plugin's LocalBackend: its pulls share rows that it
 * checked when they were put and whose digest it computed itself, so a
 * prime neither checks nor hashes them again. */
int ruv__lake_local_is(const struct ruv_lake_backend *b);

int ruv__lake_fs_new(const char *name, const char *root, struct ruv_lake_fs **out);
int ruv__lake_fs_register(struct ruv_lake_fs *fb, const char *coll, const char *filename);
int ruv__lake_fs_write(struct ruv_lake_fs *fb, const char *filename, const uint64_t *ids,
                       const float *vectors, uint64_t n, uint32_t dim);
int ruv__lake_fs_backend(struct ruv_lake_fs *fb, struct ruv_lake_backend *out);
void ruv__lake_fs_release(struct ruv_lake_fs *fb);
/* Whether b is this plugin's FsBackend: a pull's rows were checked by the
 * file reader and, when its description has a digest (ruvec2), hashed
 * against it (ruvec1 carries none), so a prime need not hash them again. */
int ruv__lake_fs_is(const struct ruv_lake_backend *b);

#endif
