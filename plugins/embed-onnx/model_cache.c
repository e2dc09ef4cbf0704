/* model_cache.c — the verified model cache (model_cache.h, embed.md §6.2). */
#include "config.h"
#include "model_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/detail.h"
#include "manifest.h"

#define PATH_CAP 4096

/* out = "<a>/<b>"; 0 if it does not fit. */
static int join(char *out, size_t cap, const char *a, const char *b)
{
    int n = snprintf(out, cap, "%s/%s", a, b);
    return n >= 0 && (size_t)n < cap;
}

int ruv__embed_default_cache_dir(char **out)
{
    const char *home = getenv("HOME");
    struct passwd pw, *found = NULL;
    char buf[4096];
    if ((!home || !*home) && getpwuid_r(getuid(), &pw, buf, sizeof buf, &found) == 0 && found)
        home = found->pw_dir;
    if (!home || !*home)
        return ruv__detail_set(RUV_E_INVAL, "embed cache: no home folder known (HOME unset); pass a cache folder");
    size_t n = strlen(home) + sizeof "/.cache/ruvector/models";
    char *s = malloc(n);
    if (!s)
        return ruv__detail_set(RUV_E_NOMEM, "embed cache: out of memory");
    snprintf(s, n, "%s/.cache/ruvector/models", home);
    *out = s;
    return RUV_OK;
}

int ruv__embed_sha256_file(const char *path, char hex[65], uint64_t *size)
{
    static const char digits[] = "0123456789abcdef";
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ruv__detail_set(RUV_E_IO, "embed cache: cannot open %s: %s", path, strerror(errno));
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char *buf = malloc(1 << 20);
    uint64_t total = 0;
    int rc = RUV_OK;
    if (!md || !buf || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        rc = ruv__detail_set(RUV_E_NOMEM, "embed cache: cannot start SHA-256 for %s", path);
        goto out;
    }
    for (;;) {
        ssize_t r = read(fd, buf, 1 << 20);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = ruv__detail_set(RUV_E_IO, "embed cache: reading %s: %s", path, strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        if (EVP_DigestUpdate(md, buf, (size_t)r) != 1) {
            rc = ruv__detail_set(RUV_E_NOMEM, "embed cache: SHA-256 of %s failed", path);
            goto out;
        }
        total += (uint64_t)r;
    }
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    if (EVP_DigestFinal_ex(md, d, &dlen) != 1 || dlen != 32) {
        rc = ruv__detail_set(RUV_E_NOMEM, "embed cache: SHA-256 of %s failed", path);
        goto out;
    }
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[64] = '\0';
    *size = total;
out:
    free(buf);
    EVP_MD_CTX_free(md);
    close(fd);
    return rc;
}

/* mkdir -p for the folder `path` itself. */
static int make_dirs(const char *path)
{
    char tmp[PATH_CAP];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof tmp)
        return ruv__detail_set(RUV_E_INVAL, "embed cache: folder path empty or too long");
    memcpy(tmp, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (tmp[i] != '/' && tmp[i] != '\0')
            continue;
        char saved = tmp[i];
        tmp[i] = '\0';
        struct stat st;
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return ruv__detail_set(RUV_E_IO, "embed cache: cannot create folder %s: %s", tmp, strerror(errno));
        if (stat(tmp, &st) != 0 || !S_ISDIR(st.st_mode))
            return ruv__detail_set(RUV_E_IO, "embed cache: %s exists and is not a folder", tmp);
        tmp[i] = saved;
    }
    return RUV_OK;
}

static int64_t mtime_ns(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000000000 + (int64_t)st->st_mtim.tv_nsec;
}

/* Reads <dir>/verified; a missing, unreadable or malformed manifest is an
 * empty one (every file is then hashed again), never an error. */
static void read_manifest(const char *path, struct ruv__embed_manifest *m)
{
    m->n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    char *buf = malloc(RUV_EMBED_MANIFEST_MAX_BYTES + 1);
    size_t len = 0;
    ssize_t r = 0;
    while (buf && len <= RUV_EMBED_MANIFEST_MAX_BYTES &&
           ((r = read(fd, buf + len, RUV_EMBED_MANIFEST_MAX_BYTES + 1 - len)) > 0 || (r < 0 && errno == EINTR)))
        if (r > 0)
            len += (size_t)r;
    close(fd);
    if (buf && r == 0)
        ruv__embed_manifest_parse(buf, len, m);
    free(buf);
}

/* Writes the manifest to <dir>/verified.tmp, fsyncs it, renames it over
 * <dir>/verified and fsyncs the folder. */
static int write_manifest(const char *dir, const struct ruv__embed_manifest *m)
{
    char path[PATH_CAP], tmp[PATH_CAP];
    if (!join(path, sizeof path, dir, RUV_EMBED_MANIFEST_NAME) ||
        !join(tmp, sizeof tmp, dir, RUV_EMBED_MANIFEST_NAME ".tmp"))
        return ruv__detail_set(RUV_E_INVAL, "embed cache: folder path too long: %s", dir);
    char *text = ruv__embed_manifest_dump(m);
    if (!text)
        return RUV_E_NOMEM;
    int rc = RUV_OK;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = ruv__detail_set(RUV_E_IO, "embed cache: cannot create %s: %s", tmp, strerror(errno));
        goto out;
    }
    size_t len = strlen(text);
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = ruv__detail_set(RUV_E_IO, "embed cache: writing %s: %s", tmp, w < 0 ? strerror(errno) : "short write");
            break;
        }
        off += (size_t)w;
    }
    if (rc == RUV_OK && fsync(fd) != 0)
        rc = ruv__detail_set(RUV_E_IO, "embed cache: fsync %s: %s", tmp, strerror(errno));
    close(fd);
    if (rc == RUV_OK && rename(tmp, path) != 0)
        rc = ruv__detail_set(RUV_E_IO, "embed cache: rename %s: %s", tmp, strerror(errno));
    if (rc != RUV_OK) {
        unlink(tmp);
        goto out;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) != 0)
        rc = ruv__detail_set(RUV_E_IO, "embed cache: fsync of folder %s: %s", dir, strerror(errno));
    if (dfd >= 0)
        close(dfd);
out:
    free(text);
    return rc;
}

/* Records path's digest, size and mtime (from st) in m. */
static void remember(struct ruv__embed_manifest *m, const char *rel, const char *sha256, const struct stat *st)
{
    struct ruv__embed_manifest_file *r = &m->files[m->n++];
    snprintf(r->path, sizeof r->path, "%s", rel);
    memcpy(r->sha256, sha256, 65);
    r->size = (uint64_t)st->st_size;
    r->mtime_ns = mtime_ns(st);
}

/* 1 if the file a record describes still has its size and mtime. */
static int derived_unchanged(const char *dir, const struct ruv__embed_manifest_file *rec)
{
    char path[PATH_CAP];
    struct stat st;
    return join(path, sizeof path, dir, rec->path) && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
           (uint64_t)st.st_size == rec->size && mtime_ns(&st) == rec->mtime_ns;
}

/* Opens and flocks <lock> (exclusive); the fd, or -1 with the detail set. */
static int lock_open(const char *lock)
{
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        ruv__detail_set(RUV_E_IO, "embed cache: cannot open lock %s: %s", lock, strerror(errno));
        return -1;
    }
    int rc;
    while ((rc = flock(fd, LOCK_EX)) != 0 && errno == EINTR)
        ;
    if (rc != 0) {
        ruv__detail_set(RUV_E_IO, "embed cache: flock %s: %s", lock, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* One file of the entry: reuse, re-hash or download it, then record it. */
static int ensure_file(const struct ruv__embed_entry *e, const struct ruv__embed_file *f, const char *dir,
                       const char *base, const struct ruv__embed_fetch_opts *o, const struct ruv__embed_manifest *old,
                       struct ruv__embed_manifest *now, struct ruv__embed_fetch_stats *stats)
{
    char path[PATH_CAP];
    if (!join(path, sizeof path, dir, f->path))
        return ruv__detail_set(RUV_E_INVAL, "embed cache: path of %s too long", f->path);
    struct stat st;
    int exists = stat(path, &st) == 0;
    if (!exists && errno != ENOENT)
        return ruv__detail_set(RUV_E_IO, "embed cache: cannot stat %s: %s", path, strerror(errno));
    if (exists && !S_ISREG(st.st_mode))
        return ruv__detail_set(RUV_E_IO, "embed cache: %s is not a regular file", path);
    const struct ruv__embed_manifest_file *rec = ruv__embed_manifest_find(old, f->path);
    if (exists && rec && rec->size == (uint64_t)st.st_size && rec->mtime_ns == mtime_ns(&st) &&
        rec->size == f->size && strcmp(rec->sha256, f->sha256) == 0) {
        remember(now, f->path, f->sha256, &st);
        stats->reused++;
        return RUV_OK;
    }
    char got[65] = "";
    if (exists) {
        uint64_t size = 0;
        int rc = ruv__embed_sha256_file(path, got, &size);
        if (rc != RUV_OK)
            return rc;
        stats->hashed++;
        if (size == f->size && strcmp(got, f->sha256) == 0) {
            /* Bytes that moved while being read were not the ones hashed. */
            struct stat again;
            if (stat(path, &again) != 0 || again.st_size != st.st_size || mtime_ns(&again) != mtime_ns(&st))
                return ruv__detail_set(RUV_E_IO, "embed cache: %s changed while it was hashed", path);
            remember(now, f->path, f->sha256, &st);
            return RUV_OK;
        }
        if (o->offline)
            return ruv__detail_set(RUV_E_INTEGRITY,
                                   "embed cache: %s: %s has SHA-256 %s (%llu bytes), the registry expects %s "
                                   "(%llu bytes); downloads are off",
                                   e->name, path, got, (unsigned long long)size, f->sha256,
                                   (unsigned long long)f->size);
    } else if (o->offline) {
        return ruv__detail_set(RUV_E_MISS, "embed cache: %s: %s is not in the cache and downloads are off",
                               e->name, path);
    }
    /* The file's own folder (1_Pooling/...). */
    char *slash = strrchr(path, '/');
    *slash = '\0';
    int rc = make_dirs(path);
    *slash = '/';
    if (rc != RUV_OK)
        return rc;
    char url[PATH_CAP];
    if ((size_t)snprintf(url, sizeof url, "%s/%s/resolve/%s/%s", base, e->repo, e->revision, f->path) >= sizeof url)
        return ruv__detail_set(RUV_E_INVAL, "embed cache: URL of %s too long", f->path);
    rc = ruv__embed_download(url, path, f->path, f->size, f->sha256, &o->net);
    if (rc != RUV_OK) {
        if (got[0])
            ruv__detail_prefix(rc, "cached %s had SHA-256 %s, expected %s; downloading it again failed", f->path,
                               got, f->sha256);
        return rc;
    }
    stats->downloaded++;
    if (stat(path, &st) != 0)
        return ruv__detail_set(RUV_E_IO, "embed cache: cannot stat %s: %s", path, strerror(errno));
    remember(now, f->path, f->sha256, &st);
    return RUV_OK;
}

int ruv__embed_model_fetch(const struct ruv__embed_entry *e, const struct ruv__embed_fetch_opts *opts,
                           char **dir_out, struct ruv__embed_fetch_stats *stats_out)
{
    static const struct ruv__embed_fetch_opts defaults = {0};
    const struct ruv__embed_fetch_opts *o = opts ? opts : &defaults;
    struct ruv__embed_fetch_stats stats = {0};
    if (!dir_out)
        return ruv__detail_set(RUV_E_INVAL, "embed cache: NULL output");
    *dir_out = NULL;
    int rc = ruv__embed_entry_check(e);
    if (rc != RUV_OK)
        return rc;
    char *cache = NULL;
    if (o->cache_dir && *o->cache_dir) {
        cache = strdup(o->cache_dir);
        if (!cache)
            return ruv__detail_set(RUV_E_NOMEM, "embed cache: out of memory");
    } else if ((rc = ruv__embed_default_cache_dir(&cache)) != RUV_OK) {
        return rc;
    }
    /* The base URL without trailing slashes, so paths join with one. */
    char base[1024];
    const char *b = o->base_url && *o->base_url ? o->base_url : RUV_EMBED_DEFAULT_BASE_URL;
    size_t blen = strlen(b);
    while (blen > 0 && b[blen - 1] == '/')
        blen--;
    char model[PATH_CAP], dir[PATH_CAP], lock[PATH_CAP], mpath[PATH_CAP];
    struct ruv__embed_manifest *old = NULL, *now = NULL;
    int lock_fd = -1;
    if (blen >= sizeof base || !join(model, sizeof model, cache, e->name) ||
        !join(dir, sizeof dir - 300, model, e->revision) || !join(lock, sizeof lock, model, ".lock") ||
        !join(mpath, sizeof mpath, dir, RUV_EMBED_MANIFEST_NAME)) {
        rc = ruv__detail_set(RUV_E_INVAL, "embed cache: cache folder or base URL too long");
        goto out;
    }
    memcpy(base, b, blen);
    base[blen] = '\0';
    if ((rc = make_dirs(dir)) != RUV_OK)
        goto out;
    if ((lock_fd = lock_open(lock)) < 0) {
        rc = RUV_E_IO;
        goto out;
    }
    old = malloc(sizeof *old);
    now = malloc(sizeof *now);
    if (!old || !now) {
        rc = ruv__detail_set(RUV_E_NOMEM, "embed cache: out of memory");
        goto out;
    }
    read_manifest(mpath, old);
    now->n = 0;
    size_t i = 0;
    for (; i < e->n_files && rc == RUV_OK; i++)
        rc = ensure_file(e, &e->files[i], dir, base, o, old, now, &stats);
    /* After a failure the files not looked at keep their old records: the
     * next open still checks their size and mtime. */
    for (; i < e->n_files; i++) {
        const struct ruv__embed_manifest_file *rec = ruv__embed_manifest_find(old, e->files[i].path);
        if (rec && strcmp(rec->sha256, e->files[i].sha256) == 0)
            now->files[now->n++] = *rec;
    }
    /* Files made from the model (a locally built model.onnx) keep their
     * records while their size and mtime still match. */
    for (size_t k = 0; k < old->n; k++) {
        const struct ruv__embed_manifest_file *rec = &old->files[k];
        if (ruv__embed_entry_file(e, rec->path) || now->n >= RUV_EMBED_MANIFEST_MAX_FILES)
            continue;
        if (derived_unchanged(dir, rec))
            now->files[now->n++] = *rec;
    }
    /* Record what is verified, even after a failure, unless nothing changed. */
    int changed = stats.hashed || stats.downloaded || now->n != old->n;
    if (changed) {
        int wrc = write_manifest(dir, now);
        if (rc == RUV_OK)
            rc = wrc;
    }
    if (rc == RUV_OK && !(*dir_out = strdup(dir)))
        rc = ruv__detail_set(RUV_E_NOMEM, "embed cache: out of memory");
out:
    if (lock_fd >= 0)
        close(lock_fd); /* releases the flock */
    free(old);
    free(now);
    free(cache);
    if (stats_out)
        *stats_out = stats;
    return rc;
}

int ruv__embed_model_resolve(const char *name_or_dir, const struct ruv__embed_fetch_opts *opts, char **dir,
                             const struct ruv__embed_entry **entry, struct ruv__embed_fetch_stats *stats)
{
    if (entry)
        *entry = NULL;
    if (stats)
        *stats = (struct ruv__embed_fetch_stats){0};
    if (!name_or_dir || !dir)
        return ruv__detail_set(RUV_E_INVAL, "embed cache: NULL argument");
    *dir = NULL;
    struct stat st;
    if (stat(name_or_dir, &st) == 0 && S_ISDIR(st.st_mode)) {
        if (!(*dir = strdup(name_or_dir)))
            return ruv__detail_set(RUV_E_NOMEM, "embed cache: out of memory");
        return RUV_OK;
    }
    const struct ruv__embed_entry *e = ruv__embed_registry_find(name_or_dir);
    if (!e)
        return RUV_E_NOTFOUND;
    if (entry)
        *entry = e;
    return ruv__embed_model_fetch(e, opts, dir, stats);
}

/* The lock and manifest paths of a revision folder <cache>/<name>/<revision>. */
static int revision_paths(const char *dir, char *lock, char *mpath)
{
    const char *slash = strrchr(dir, '/');
    size_t n = slash ? (size_t)(slash - dir) : 0;
    if (n == 0 || n + sizeof "/.lock" > PATH_CAP || !join(mpath, PATH_CAP, dir, RUV_EMBED_MANIFEST_NAME))
        return ruv__detail_set(RUV_E_INVAL, "embed cache: '%s' is not a cached revision folder", dir);
    memcpy(lock, dir, n);
    memcpy(lock + n, "/.lock", sizeof "/.lock");
    return RUV_OK;
}

int ruv__embed_cache_add_derived(const char *dir, const char *rel, char sha256[65])
{
    if (!dir || !rel || !ruv__embed_safe_relpath(rel) || strcmp(rel, RUV_EMBED_MANIFEST_NAME) == 0)
        return ruv__detail_set(RUV_E_INVAL, "embed cache: derived file '%s' is not a safe relative path",
                               rel ? rel : "(null)");
    char lock[PATH_CAP], mpath[PATH_CAP], path[PATH_CAP];
    int rc = revision_paths(dir, lock, mpath);
    if (rc != RUV_OK)
        return rc;
    if (!join(path, sizeof path, dir, rel))
        return ruv__detail_set(RUV_E_INVAL, "embed cache: path of %s too long", rel);
    struct ruv__embed_manifest *m = malloc(sizeof *m);
    if (!m)
        return ruv__detail_set(RUV_E_NOMEM, "embed cache: out of memory");
    int fd = lock_open(lock);
    if (fd < 0) {
        free(m);
        return RUV_E_IO;
    }
    read_manifest(mpath, m);
    char hex[65];
    uint64_t size = 0;
    struct stat before, after;
    if (stat(path, &before) != 0) {
        rc = ruv__detail_set(RUV_E_IO, "embed cache: cannot stat %s: %s", path, strerror(errno));
        goto out;
    }
    if ((rc = ruv__embed_sha256_file(path, hex, &size)) != RUV_OK)
        goto out;
    /* A file still being written would record a digest of other bytes. */
    if (stat(path, &after) != 0 || (uint64_t)after.st_size != size || mtime_ns(&after) != mtime_ns(&before)) {
        rc = ruv__detail_set(RUV_E_IO, "embed cache: %s changed while it was hashed", path);
        goto out;
    }
    size_t k = 0;
    while (k < m->n && strcmp(m->files[k].path, rel) != 0)
        k++;
    if (k == RUV_EMBED_MANIFEST_MAX_FILES) {
        rc = ruv__detail_set(RUV_E_INVAL, "embed cache: %s: the manifest is full", dir);
        goto out;
    }
    if (k == m->n)
        m->n++;
    snprintf(m->files[k].path, sizeof m->files[k].path, "%s", rel);
    memcpy(m->files[k].sha256, hex, 65);
    m->files[k].size = size;
    m->files[k].mtime_ns = mtime_ns(&after);
    rc = write_manifest(dir, m);
    if (rc == RUV_OK && sha256)
        memcpy(sha256, hex, 65);
out:
    close(fd);
    free(m);
    return rc;
}

int ruv__embed_cache_check_derived(const char *dir, const char *rel, char sha256[65])
{
    if (!dir || !rel || !ruv__embed_safe_relpath(rel))
        return ruv__detail_set(RUV_E_INVAL, "embed cache: derived file '%s' is not a safe relative path",
                               rel ? rel : "(null)");
    char lock[PATH_CAP], mpath[PATH_CAP];
    int rc = revision_paths(dir, lock, mpath);
    if (rc != RUV_OK)
        return rc;
    struct ruv__embed_manifest *m = malloc(sizeof *m);
    if (!m)
        return ruv__detail_set(RUV_E_NOMEM, "embed cache: out of memory");
    /* Shared with writers through the manifest's atomic rename: no lock. */
    read_manifest(mpath, m);
    const struct ruv__embed_manifest_file *rec = ruv__embed_manifest_find(m, rel);
    if (!rec)
        rc = ruv__detail_set(RUV_E_MISS, "embed cache: %s/%s is not recorded as built", dir, rel);
    else if (!derived_unchanged(dir, rec))
        rc = ruv__detail_set(RUV_E_INTEGRITY,
                             "embed cache: %s/%s changed (size or mtime) since it was recorded with SHA-256 %s",
                             dir, rel, rec->sha256);
    else if (sha256)
        memcpy(sha256, rec->sha256, 65);
    free(m);
    return rc;
}
