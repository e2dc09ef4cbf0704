/* Cache directories and bundle refresh (rulake.md §9, §10.1): save a key's
 * entry as its index file plus the sidecar written from the entry's own
 * description (the sidecar's rename is the one commit; no backend call),
 * warm a lake from such a directory keeping u64 ids, and refresh a key
 * from a bundle directory, ignoring bundles of other keys or other
 * parameters (FOREIGN) instead of invalidating. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ruvector/error.h>

#include "bytes.h"
#include "crypto.h"
#include "lake_error.h"
#include "lake_internal.h"
#include "ruvec.h"
#include "sidecar.h"

#define LOCK_NAME ".rulake.lock"
#define INDEX_PREFIX "index-"
#define INDEX_SUFFIX ".idx"

/* A retained, live entry of the key, or RUV_E_NOTFOUND "not cached". */
static int cached_entry(struct ruv_lake *lake, const struct ruv_lake_target *key,
                        struct lake_slot **slot, struct lake_entry **out)
{
    int st = ruv__lake_key_slot(lake, key, 0, NULL, slot);
    if (st != RUV_OK)
        return st;
    *out = NULL;
    if (*slot) {
        pthread_mutex_lock(&(*slot)->mu);
        struct lake_entry *e = (*slot)->entry;
        if (e && !atomic_load(&e->evicted))
            *out = ruv__lake_entry_retain(e);
        pthread_mutex_unlock(&(*slot)->mu);
    }
    if (!*out)
        return ruv__detail_set(RUV_E_NOTFOUND, "collection '%.200s' is not cached",
                               key->collection);
    return RUV_OK;
}

/* Size and SHAKE-256 of dfd/name, size taken by fstat before reading. */
static int hash_file_at(int dfd, const char *name, uint64_t *bytes, uint8_t out[32])
{
    int fd;
    int st = ruv__lake_open_read_at(dfd, name, &fd);
    if (st != RUV_OK)
        return st;
    struct stat sb;
    struct ruv__lake_shake *h = NULL;
    st = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode)
             ? ruv__lake_shake_new(&h)
             : ruv__detail_set(RUV_E_CORRUPT, "%s is not a regular file", name);
    static const size_t chunk = 1u << 20;
    char *buf = st == RUV_OK ? malloc(chunk) : NULL;
    if (st == RUV_OK && !buf)
        st = ruv__detail_set(RUV_E_NOMEM, "out of memory hashing %s", name);
    uint64_t left = st == RUV_OK ? (uint64_t)sb.st_size : 0;
    while (st == RUV_OK && left > 0) {
        ssize_t got = read(fd, buf, left < chunk ? left : chunk);
        if (got <= 0)
            st = ruv__detail_set(RUV_E_IO, "%s: read: %s", name,
                                 got < 0 ? strerror(errno) : "file shrank while hashed");
        else {
            st = ruv__lake_shake_update(h, buf, (size_t)got);
            left -= (uint64_t)got;
        }
    }
    if (st == RUV_OK) {
        st = ruv__lake_shake_final(h, out, 32);
        h = NULL;
        *bytes = (uint64_t)sb.st_size;
    }
    ruv__lake_shake_free(h);
    free(buf);
    close(fd);
    return st;
}

/* Opens (creating one level) and locks the directory: *dfd and *lfd. */
static int lock_dir(const char *dir, int *dfd, int *lfd)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return ruv__detail_set(RUV_E_IO, "cache directory %s: %s", dir, strerror(errno));
    *dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (*dfd < 0)
        return ruv__detail_set(RUV_E_IO, "cache directory %s: %s", dir, strerror(errno));
    *lfd = openat(*dfd, LOCK_NAME, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (*lfd < 0 || flock(*lfd, LOCK_EX) != 0) {
        int e = errno;
        if (*lfd >= 0)
            close(*lfd);
        close(*dfd);
        return ruv__detail_set(RUV_E_IO, "%s/%s: %s", dir, LOCK_NAME, strerror(e));
    }
    return RUV_OK;
}

/* Removes index files other than keep (after the sidecar that names keep
 * is committed). Best effort: a leftover file is harmless. */
static void remove_other_indexes(int dfd, const char *keep)
{
    /* A new open file description: a dup would share dfd's offset, which
     * the durable writes' temp scan has left at the end. */
    int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    struct dirent *de;
    size_t pl = strlen(INDEX_PREFIX), sl = strlen(INDEX_SUFFIX);
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n > pl + sl && strncmp(de->d_name, INDEX_PREFIX, pl) == 0 &&
            strcmp(de->d_name + n - sl, INDEX_SUFFIX) == 0 && strcmp(de->d_name, keep) != 0)
            unlinkat(dfd, de->d_name, 0);
    }
    closedir(d);
}

/* The sidecar of entry e for key (its own description, not the backend's). */
static int sidecar_of(const struct ruv_lake *lake, const struct lake_entry *e,
                      const struct ruv_lake_target *key, const char *backend,
                      struct ruv__lake_sidecar *sc)
{
    memset(sc, 0, sizeof *sc);
    const struct ruv_lake_desc *d = &e->desc;
    if (d->data_ref_len > RUV_LAKE_STRING_MAX || memchr(d->data_ref, 0, d->data_ref_len) ||
        (d->gen_is_opaque && d->gen_len > RUV_LAKE_OPAQUE_GEN_MAX))
        return ruv__detail_set(RUV_E_INVAL, "the entry's data_ref or generation cannot be "
                                            "written to a sidecar");
    memcpy(sc->data_ref, d->data_ref, d->data_ref_len);
    sc->dim = e->dim;
    sc->rotation_seed = lake->cfg.rotation_seed;
    sc->rerank_factor = lake->cfg.rerank_factor;
    sc->gen_opaque = (int)d->gen_is_opaque;
    sc->gen_num = d->gen_num;
    if (d->gen_is_opaque) {
        memcpy(sc->gen_str, d->gen_opaque, d->gen_len);
        sc->gen_len = d->gen_len;
    }
    sc->has_ext = 1;
    sc->backend.present = sc->collection.present = 1;
    snprintf(sc->backend.s, sizeof sc->backend.s, "%s", backend);
    snprintf(sc->collection.s, sizeof sc->collection.s, "%s", key->collection);
    snprintf(sc->index_params, sizeof sc->index_params, "%s", e->params);
    sc->count = e->count;
    memcpy(sc->content_digest, e->digest, 32);
    return RUV_OK;
}

int ruv__lake_save_cache(struct ruv_lake *lake, const struct ruv_lake_target *key,
                         const char *dir, char w2[65])
{
    struct lake_slot *slot;
    struct lake_entry *e = NULL;
    if (!dir)
        return ruv__detail_set(RUV_E_INVAL, "save_cache_to_dir: dir is NULL");
    int st = cached_entry(lake, key, &slot, &e);
    if (st != RUV_OK)
        return st;
    st = ruv__lake_save_entry(lake, key, ruv__lake_backend_at(lake, slot->backend)->name, e,
                              dir, 0, w2);
    ruv__lake_entry_release(lake, e);
    return st;
}

int ruv__lake_save_entry(struct ruv_lake *lake, const struct ruv_lake_target *key,
                         const char *backend, const struct lake_entry *e, const char *dir,
                         int allow_empty, char w2[65])
{
    int st = RUV_OK;
    struct ruv__lake_sidecar *sc = malloc(sizeof *sc);
    char name[64], path[4200];
    int dfd = -1, lfd = -1;
    if (!sc)
        st = ruv__detail_set(RUV_E_NOMEM, "out of memory for a sidecar");
    else if (!e->idx && !allow_empty)
        st = ruv__detail_set(RUV_E_EMPTY, "collection '%.200s' is empty: nothing to save",
                             key->collection);
    if (st == RUV_OK)
        st = sidecar_of(lake, e, key, backend, sc);
    if (st == RUV_OK)
        st = lock_dir(dir, &dfd, &lfd);
    if (st != RUV_OK)
        goto done;
    char v2hex[65];
    ruv__lake_hex(e->v2, 32, v2hex);
    snprintf(name, sizeof name, INDEX_PREFIX "%.32s" INDEX_SUFFIX, v2hex);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (e->idx && faccessat(dfd, name, F_OK, AT_SYMLINK_NOFOLLOW) != 0 &&
        (st = lake->host->index->save(e->idx, path)) != RUV_OK) {
        st = ruv__detail_set(st, "%s: %s", path, lake->host->last_error());
        goto done;
    }
    /* An empty collection's bundle names no index (a sidecar only). */
    sc->has_index = e->idx != NULL;
    if (e->idx)
        snprintf(sc->index_file, sizeof sc->index_file, "%s", name);
    if ((e->idx &&
         (st = hash_file_at(dfd, name, &sc->index_bytes, sc->index_shake256)) != RUV_OK) ||
        (st = ruv__lake_sidecar_seal(sc, lake->cfg.has_signing_key ? lake->cfg.signing_key
                                                                    : NULL)) != RUV_OK)
        goto done;
    if (memcmp(sc->witness_v2, e->v2, 32) != 0) {
        st = ruv__detail_set(RUV_E_INTEGRITY, "the sidecar's v2 differs from the entry's");
        goto done;
    }
    if ((st = ruv__lake_sidecar_write_at(dfd, sc)) != RUV_OK) /* the commit */
        goto done;
    remove_other_indexes(dfd, e->idx ? name : "");
    if (w2)
        memcpy(w2, v2hex, 65);
done:
    if (lfd >= 0)
        close(lfd); /* drops the flock */
    if (dfd >= 0)
        close(dfd);
    free(sc);
    return st;
}

/* Reads and checks (§6.5) dir's sidecar, with the lake's public keys when
 * it has some; dfd stays open for the caller. */
static int read_sidecar(const struct ruv_lake *lake, const char *dir, int *dfd,
                        struct ruv__lake_sidecar *sc)
{
    *dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (*dfd < 0)
        return ruv__detail_set(errno == ENOENT ? RUV_E_NOTFOUND : RUV_E_IO, "%s: %s", dir,
                               strerror(errno));
    int st = ruv__lake_sidecar_read_at(*dfd, RUV_LAKE_SIDECAR_NAME, sc);
    if (st != RUV_OK)
        return ruv__detail_prefix(st, "%s", dir);
    char where[4200];
    snprintf(where, sizeof where, "%s/%s", dir, RUV_LAKE_SIDECAR_NAME);
    return ruv__lake_sidecar_verify(sc, lake->cfg.public_keys, lake->cfg.npublic_keys, where);
}

/* The lake's own parameters against a sidecar's: NULL when they agree,
 * else the field that differs. P is compared with entry_params (an
 * entry's own) when given, else with the lake's: equal to its fixed P, or,
 * where the plan chooses bits or nlist, any value of them with its metric. */
static const char *params_differ(const struct ruv_lake *lake, const struct ruv__lake_sidecar *sc,
                                 const char *entry_params)
{
    const struct ruv_lake_config *c = &lake->cfg;
    if (sc->rotation_seed != c->rotation_seed)
        return "rotation_seed";
    if (sc->rerank_factor != c->rerank_factor)
        return "rerank_factor";
    if (!sc->has_ext)
        return NULL;
    if (entry_params || !ruv__lake_planned(c))
        return strcmp(sc->index_params, entry_params ? entry_params : lake->params) != 0
                   ? "index_params"
                   : NULL;
    char metric[8];
    unsigned bits;
    unsigned long long nlist;
    int used = 0;
    if (sscanf(sc->index_params, "index=rabitq_plus;metric=%7[a-z0-9];bits=%u;nlist=%llu%n", metric,
               &bits, &nlist, &used) != 3 ||
        sc->index_params[used] != '\0' || strcmp(metric, ruv__lake_metric_text(c->metric)) ||
        (c->bits != RUV_INDEX_AUTO && bits != c->bits) ||
        (c->nlist != RUV_INDEX_AUTO && nlist != c->nlist))
        return "index_params";
    return NULL;
}

int ruv__lake_warm(struct ruv_lake *lake, const struct ruv_lake_target *key, const char *dir,
                   uint64_t *n)
{
    if (!dir || !n)
        return ruv__detail_set(RUV_E_INVAL, "warm_from_dir: dir or n is NULL");
    struct lake_slot *slot;
    int st = ruv__lake_warm_slot(lake, key, &slot); /* no backend needed */
    if (st != RUV_OK)
        return st;
    const struct ruv_host *host = lake->host;
    struct ruv__lake_sidecar *sc = malloc(sizeof *sc);
    int dfd = -1;
    ruv_index *idx = NULL;
    struct lake_entry *e = NULL;
    const char *bad;
    if (!sc) {
        st = ruv__detail_set(RUV_E_NOMEM, "out of memory for a sidecar");
        goto done;
    }
    if ((st = read_sidecar(lake, dir, &dfd, sc)) != RUV_OK)
        goto done;
    if (!sc->has_ext || !sc->has_index) {
        st = ruv__detail_set(RUV_E_UNSUPPORTED, "%s is not a rulake cache directory (no "
                                                "rulake_ext index; ruvector's index.rbpx is not "
                                                "read)", dir);
        goto done;
    }
    if ((bad = params_differ(lake, sc, NULL)) != NULL) {
        st = ruv__detail_set(RUV_E_INVAL, "%s: %s differs from this lake's", dir, bad);
        goto done;
    }
    uint64_t bytes;
    uint8_t shake[32];
    if ((st = hash_file_at(dfd, sc->index_file, &bytes, shake)) != RUV_OK)
        goto done;
    if (bytes != sc->index_bytes || memcmp(shake, sc->index_shake256, 32) != 0) {
        st = ruv__detail_set(RUV_E_INTEGRITY, "%s/%s: %s does not match the sidecar", dir,
                             sc->index_file, bytes != sc->index_bytes ? "size" : "shake256");
        goto done;
    }
    char path[8400];
    snprintf(path, sizeof path, "%s/%s", dir, sc->index_file);
    if ((st = host->index->load(host, path, RUV_INDEX_LOAD_POPULATE, &idx)) != RUV_OK) {
        st = ruv__detail_set(st, "%s", host->last_error());
        goto done;
    }
    const ruv_index_params *p = host->index->params(idx);
    char loaded[RUV_LAKE_PARAMS_MAX];
    if ((st = ruv__lake_entry_params(lake, idx, loaded)) != RUV_OK)
        goto done;
    if (host->index->len(idx) != sc->count || p->dim != sc->dim ||
        p->type != RUV_INDEX_RABITQ_PLUS || p->metric != lake->cfg.metric ||
        strcmp(loaded, sc->index_params) != 0) {
        st = ruv__detail_set(RUV_E_INTEGRITY, "%s: the index (n %zu, dim %u) does not match its "
                                              "sidecar (n %llu, dim %llu) or the lake's "
                                              "parameters", path, host->index->len(idx), p->dim,
                             (unsigned long long)sc->count, (unsigned long long)sc->dim);
        goto done;
    }
    if (!(e = calloc(1, sizeof *e))) {
        st = ruv__detail_set(RUV_E_NOMEM, "out of memory for a cache entry");
        goto done;
    }
    atomic_init(&e->refs, 1);
    memcpy(e->params, loaded, sizeof e->params);
    memcpy(e->v1, sc->rvf_witness, 32);
    memcpy(e->v2, sc->witness_v2, 32);
    memcpy(e->digest, sc->content_digest, 32);
    e->dim = (uint32_t)sc->dim;
    e->count = sc->count;
    e->desc.struct_size = sizeof e->desc;
    e->desc.dim = e->dim;
    e->desc.count = e->count;
    e->desc.data_ref_len = (uint32_t)strlen(sc->data_ref);
    memcpy(e->desc.data_ref, sc->data_ref, e->desc.data_ref_len + 1);
    e->desc.gen_is_opaque = (uint32_t)sc->gen_opaque;
    e->desc.gen_num = sc->gen_num;
    e->desc.gen_len = (uint32_t)sc->gen_len;
    memcpy(e->desc.gen_opaque, sc->gen_str, sc->gen_len);
    e->desc.has_digest = 1;
    memcpy(e->desc.content_digest, sc->content_digest, 32);
    e->idx = idx;
    idx = NULL;
    e->bytes = host->index->memory_bytes(e->idx) + sizeof *e;
    struct lake_entry *victims = NULL, *installed = NULL;
    int shared = 0, same = 0;
    pthread_mutex_lock(&slot->mu);
    same = slot->entry && !atomic_load(&slot->entry->evicted) &&
           memcmp(slot->entry->v2, e->v2, 32) == 0;
    if (!same) {
        installed = ruv__lake_cache_install(lake, slot, e, &shared, &victims);
        slot->last_checked_ns = ruv__lake_now_ns(); /* STALE: counts as the first prime */
        /* The sidecar's v1 was checked against these very fields (§6.5) and
         * its seed and rerank are the lake's: remembered as coherence.c
         * would, so the first FRESH check of an unchanged source hashes
         * nothing (rulake.md §12 T2). */
        slot->wit_desc = e->desc;
        memcpy(slot->wit_v1, e->v1, 32);
        slot->wit_ok = 1;
        atomic_fetch_add(&slot->c.warm_installs, 1);
    }
    pthread_mutex_unlock(&slot->mu);
    ruv__lake_cache_evict_finish(lake, victims);
    ruv__lake_entry_release(lake, installed);
    *n = sc->count;
done:
    if (idx)
        host->index->release(idx);
    ruv__lake_entry_release(lake, e);
    if (dfd >= 0)
        close(dfd);
    free(sc);
    return st;
}

int ruv__lake_refresh(struct ruv_lake *lake, const struct ruv_lake_target *key, const char *dir,
                      int *result)
{
    if (!dir || !result)
        return ruv__detail_set(RUV_E_INVAL, "refresh_from_bundle_dir: dir or result is NULL");
    struct lake_slot *slot;
    unsigned b;
    int st = ruv__lake_key_slot(lake, key, 0, &b, &slot);
    if (st != RUV_OK)
        return st;
    struct ruv__lake_sidecar *sc = malloc(sizeof *sc);
    int dfd = -1;
    if (!sc)
        return ruv__detail_set(RUV_E_NOMEM, "out of memory for a sidecar");
    st = read_sidecar(lake, dir, &dfd, sc);
    if (dfd >= 0)
        close(dfd);
    if (st == RUV_E_NOTFOUND) {
        *result = RUV_LAKE_BUNDLE_MISSING;
        free(sc);
        return RUV_OK;
    }
    if (st != RUV_OK) {
        free(sc);
        return st;
    }
    const char *bname = ruv__lake_backend_at(lake, b)->name;
    *result = -1;
    if (sc->has_ext && ((sc->backend.present && strcmp(sc->backend.s, bname) != 0) ||
                        (sc->collection.present && strcmp(sc->collection.s, key->collection))))
        *result = RUV_LAKE_FOREIGN;
    struct lake_entry *e = NULL, *dropped = NULL;
    if (slot)
        pthread_mutex_lock(&slot->mu);
    if (slot && slot->entry && !atomic_load(&slot->entry->evicted))
        e = slot->entry;
    if (*result < 0 && !e)
        *result = RUV_LAKE_NOT_CACHED;
    if (*result < 0 && (strlen(sc->data_ref) != e->desc.data_ref_len ||
                        memcmp(sc->data_ref, e->desc.data_ref, e->desc.data_ref_len) != 0 ||
                        sc->dim != e->dim || params_differ(lake, sc, e->params)))
        *result = RUV_LAKE_FOREIGN;
    if (*result < 0) {
        int equal = sc->has_ext ? memcmp(sc->witness_v2, e->v2, 32) == 0
                                : memcmp(sc->rvf_witness, e->v1, 32) == 0;
        if (equal) {
            *result = RUV_LAKE_UP_TO_DATE;
        } else {
            dropped = ruv__lake_slot_drop(lake, slot);
            slot->last_checked_ns = 0;
            atomic_fetch_add(&slot->c.invalidations, 1);
            *result = RUV_LAKE_INVALIDATED;
        }
    }
    if (slot)
        pthread_mutex_unlock(&slot->mu);
    ruv__lake_entry_release(lake, dropped);
    free(sc);
    return RUV_OK;
}
