/* Durable replacement of one file (contract in durable.h). */
#define _GNU_SOURCE
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <ruvector/error.h>

#include "base/error.h"
#include "store/durable.h"

/* ---- system calls, replaceable by tests ---- */

static int real_openat(int dirfd, const char *path, int flags, mode_t mode)
{
    return openat(dirfd, path, flags, mode);
}

const struct ruv__durable_sys ruv__durable_real_sys = {
    real_openat, flock, write, pwrite, fsync, close, renameat, mkdirat, unlinkat,
};

static const struct ruv__durable_sys *S = &ruv__durable_real_sys;

void ruv__durable_set_sys(const struct ruv__durable_sys *sys)
{
    S = sys ? sys : &ruv__durable_real_sys;
}

/* ---- helpers ---- */

static char *dup_range(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static int retry_fsync(int fd)
{
    int r;
    do
        r = S->fsync(fd);
    while (r && errno == EINTR);
    return r;
}

/* fsync of a directory: some file systems cannot (EINVAL, ENOTSUP), and
 * nothing more can be done there. */
static int fsync_dir(int fd)
{
    int r = retry_fsync(fd);
    return (r && errno != EINVAL && errno != ENOTSUP) ? -1 : 0;
}

static void release(struct ruv__durable *d)
{
    if (d->fd >= 0) {
        S->close(d->fd);
        d->fd = -1;
    }
    if (d->tmp) {
        S->unlinkat(d->dirfd, strrchr(d->tmp, '/') + 1, 0);
        free(d->tmp);
        d->tmp = NULL;
    }
    if (d->dirfd >= 0) {
        S->close(d->dirfd);
        d->dirfd = -1;
    }
    for (size_t i = 0; i < d->nmade; i++)
        free(d->made_dirs[i]);
    free(d->made_dirs);
    d->made_dirs = NULL;
    d->nmade = 0;
    free(d->path);
    d->path = NULL;
    d->base = NULL;
}

static int fail(struct ruv__durable *d, int status, const char *fmt, ...)
    RUV_PRINTF(3, 4);
static int fail(struct ruv__durable *d, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ruv__set_errorv(status, fmt, ap);
    va_end(ap);
    release(d);
    d->status = status;
    return status;
}

static int fail_tmp(struct ruv__durable *d, const char *call)
{
    int e = errno;
    return fail(d, RUV_E_IO, "cannot save '%s': %s of temporary file '%s' failed: %s", d->path,
                call, d->tmp, strerror(e));
}

/* The temporaries of one destination: ".<base>.tmp.<digits>.<digits>.<16
 * lowercase hex>", nothing more and nothing less. */
static int is_temp_of(const char *name, const char *base)
{
    size_t bl = strlen(base);
    if (name[0] != '.' || strncmp(name + 1, base, bl) != 0 || strncmp(name + 1 + bl, ".tmp.", 5))
        return 0;
    const char *p = name + 1 + bl + 5;
    for (int field = 0; field < 2; field++) {
        const char *start = p;
        while (*p >= '0' && *p <= '9')
            p++;
        if (p == start || p - start > 20 || *p++ != '.')
            return 0;
    }
    for (int i = 0; i < 16; i++, p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return *p == '\0';
}

static int same_file(int dirfd, const char *name, int fd)
{
    struct stat a, b;
    return fstat(fd, &a) == 0 && fstatat(dirfd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
           a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Deletes the temporaries of base left by writers that are gone (their
 * lock is free). Best effort: a failure here never fails the save. */
static void remove_stale(int dirfd, const char *base)
{
    int fd = dup(dirfd);
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    if (!dir) {
        if (fd >= 0)
            close(fd);
        return;
    }
    rewinddir(dir);
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (!is_temp_of(e->d_name, base))
            continue;
        int t = S->openat(dirfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0);
        if (t < 0)
            continue;
        struct stat st;
        if (fstat(t, &st) == 0 && S_ISREG(st.st_mode) && S->flock(t, LOCK_EX | LOCK_NB) == 0 &&
            same_file(dirfd, e->d_name, t))
            S->unlinkat(dirfd, e->d_name, 0);
        S->close(t); /* releases the lock */
    }
    closedir(dir);
}

static uint64_t random64(void)
{
    uint64_t r = 0;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) == (ssize_t)sizeof r)
        return r;
    /* No entropy yet (early boot): names need to be unlikely, not secret. */
    static atomic_uint_least64_t counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    r = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ ((uint64_t)getpid() << 48) ^
        atomic_fetch_add(&counter, 1) * UINT64_C(0x9e3779b97f4a7c15);
    r ^= r >> 31;
    r *= UINT64_C(0xbf58476d1ce4e5b9);
    return r ^ (r >> 29);
}

/* mkdir -p of the directory part dir (length n): records what it created. */
static int make_dirs(struct ruv__durable *d, const char *dir, size_t n)
{
    for (size_t i = 1; i <= n; i++) {
        if (i < n && dir[i] != '/')
            continue;
        char *prefix = dup_range(dir, i);
        if (!prefix)
            return fail(d, RUV_E_NOMEM, "cannot save '%s': out of memory", d->path);
        if (S->mkdirat(AT_FDCWD, prefix, 0777) == 0) {
            char **m = realloc(d->made_dirs, (d->nmade + 1) * sizeof *m);
            if (!m) {
                free(prefix);
                return fail(d, RUV_E_NOMEM, "cannot save '%s': out of memory", d->path);
            }
            d->made_dirs = m;
            d->made_dirs[d->nmade++] = prefix;
        } else {
            int e = errno;
            free(prefix);
            if (e != EEXIST)
                return fail(d, RUV_E_IO, "cannot save '%s': creating directory '%.*s' failed: %s", d->path,
                            (int)i, dir, strerror(e));
        }
    }
    return RUV_OK;
}

/* With d->dirfd, d->path and d->base set: removes the destination's stale
 * temporaries, then creates, locks and checks the new one. `dirs` words
 * the directory in messages. */
static int create_temp(struct ruv__durable *d, const char *dirs)
{
    const char *path = d->path;
    const size_t dn = strlen(dirs);
    remove_stale(d->dirfd, d->base);

    /* "<dir>/.<base>.tmp.<pid>.<tid>.<16 hex>" */
    size_t cap = dn + 2 + strlen(d->base) + 5 + 2 * 21 + 16 + 1;
    char *tmp = malloc(cap);
    if (!tmp)
        return fail(d, RUV_E_NOMEM, "cannot save '%s': out of memory", path);
    long tid = (long)syscall(SYS_gettid);
    int err = 0;
    for (int attempt = 0; attempt < 100; attempt++) {
        int off = snprintf(tmp, cap, "%s/", dirs);
        snprintf(tmp + off, cap - (size_t)off, ".%s.tmp.%ld.%ld.%016llx", d->base, (long)getpid(),
                 tid, (unsigned long long)random64());
        const char *name = tmp + off;
        int fd = S->openat(d->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                           0666); /* the umask decides the mode, as for any new file */
        if (fd < 0) {
            err = errno;
            if (err == EEXIST || err == EINTR)
                continue;
            break;
        }
        d->fd = fd;
        d->tmp = tmp;
        int r;
        do
            r = S->flock(fd, LOCK_EX);
        while (r && errno == EINTR);
        if (r)
            return fail_tmp(d, "flock");
        /* A cleaner may have taken it for stale between create and lock. */
        if (same_file(d->dirfd, name, fd))
            return RUV_OK;
        S->close(fd);
        d->fd = -1;
        d->tmp = NULL;
        err = ENOENT;
    }
    int rc = fail(d, RUV_E_IO, "cannot save '%s': creating temporary file '%s' failed: %s", path,
                  tmp, strerror(err));
    free(tmp);
    return rc;
}

int ruv__durable_open(struct ruv__durable *d, const char *path, unsigned flags)
{
    memset(d, 0, sizeof *d);
    d->fd = d->dirfd = -1;
    if (!path || !*path)
        return d->status = ruv__set_error(RUV_E_INVAL, "cannot save: empty path");
    size_t plen = strlen(path);
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) : 0; /* without the '/' */
    const char *base = slash ? slash + 1 : path;
    if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
        return d->status = ruv__set_error(RUV_E_INVAL, "cannot save '%s': names a directory",
                                          path);
    if (!(d->path = dup_range(path, plen)))
        return fail(d, RUV_E_NOMEM, "cannot save '%s': out of memory", path);
    d->base = d->path + (base - path);
    const char *dirname = slash ? (dirlen ? path : "/") : ".";
    size_t dn = slash ? (dirlen ? dirlen : 1) : 1;
    if ((flags & RUV__DURABLE_MKDIRS) && slash && dirlen) {
        int rc = make_dirs(d, path, dirlen);
        if (rc)
            return rc;
    }
    char *dirs = dup_range(dirname, dn);
    if (!dirs)
        return fail(d, RUV_E_NOMEM, "cannot save '%s': out of memory", path);
    do
        d->dirfd = S->openat(AT_FDCWD, dirs, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    while (d->dirfd < 0 && errno == EINTR);
    if (d->dirfd < 0) {
        int e = errno;
        int rc = fail(d, e == ENOENT ? RUV_E_NOTFOUND : RUV_E_IO,
                      "cannot save '%s': open of directory '%s' failed: %s", path, dirs,
                      strerror(e));
        free(dirs);
        return rc;
    }

    int rc = create_temp(d, dirs);
    free(dirs);
    return rc;
}

int ruv__durable_openat(struct ruv__durable *d, int dirfd, const char *name)
{
    memset(d, 0, sizeof *d);
    d->fd = d->dirfd = -1;
    const char *slash = name ? strrchr(name, '/') : NULL;
    const char *base = slash ? slash + 1 : name;
    if (!name || name[0] == '/' || !*base || !strcmp(base, ".") || !strcmp(base, ".."))
        return d->status = ruv__set_error(RUV_E_INVAL, "cannot save '%s': not a file name",
                                          name ? name : "");
    /* Messages name the directory as the kernel knows it, where it can say. */
    char dirs[4096] = "";
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
    ssize_t n = readlink(link, dirs, sizeof dirs - 1);
    if (n <= 0 || (size_t)n >= sizeof dirs - 1)
        snprintf(dirs, sizeof dirs, "(directory fd %d)", dirfd);
    else
        dirs[n] = '\0';
    size_t dn = strlen(dirs), nn = strlen(name);
    if (!(d->path = malloc(dn + 1 + nn + 1)))
        return fail(d, RUV_E_NOMEM, "cannot save '%s': out of memory", name);
    snprintf(d->path, dn + 1 + nn + 1, "%s/%s", dirs, name);
    d->base = d->path + dn + 1 + (size_t)(base - name);
    if (slash) { /* a subdirectory of dirfd: opened relative to it */
        size_t sub = (size_t)(slash - name);
        char *subdir = dup_range(name, sub);
        if (!subdir)
            return fail(d, RUV_E_NOMEM, "cannot save '%s': out of memory", d->path);
        do
            d->dirfd = S->openat(dirfd, subdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
        while (d->dirfd < 0 && errno == EINTR);
        free(subdir);
    } else { /* our own descriptor: the caller may close theirs while we write */
        d->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    }
    if (d->dirfd < 0) {
        int e = errno;
        return fail(d, e == ENOENT ? RUV_E_NOTFOUND : RUV_E_IO,
                    "cannot save '%s': open of its directory failed: %s", d->path, strerror(e));
    }
    /* the directory as messages show it: everything before the base */
    char *shown = dup_range(d->path, (size_t)(d->base - d->path - 1));
    if (!shown)
        return fail(d, RUV_E_NOMEM, "cannot save '%s': out of memory", d->path);
    int rc = create_temp(d, shown);
    free(shown);
    return rc;
}

static int check_open(struct ruv__durable *d)
{
    if (d->status)
        return d->status;
    if (d->fd < 0)
        return ruv__set_error(RUV_E_STATE, "durable writer is not open");
    return RUV_OK;
}

/* Writes all of buf, at off when positioned, else at the file offset;
 * EINTR retried, a short write continued. */
static int put(struct ruv__durable *d, const void *buf, size_t len, uint64_t off, int positioned)
{
    int rc = check_open(d);
    const char *p = buf;
    while (!rc && len) {
        if (positioned && off > (uint64_t)INT64_MAX - len) {
            errno = EFBIG;
            return fail_tmp(d, "write");
        }
        ssize_t k = positioned ? S->pwrite(d->fd, p, len, (off_t)off) : S->write(d->fd, p, len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            if (k == 0)
                errno = ENOSPC;
            return fail_tmp(d, "write");
        }
        p += k;
        len -= (size_t)k;
        off += (uint64_t)k;
    }
    return rc;
}

int ruv__durable_write(struct ruv__durable *d, const void *buf, size_t len)
{
    return put(d, buf, len, 0, 0);
}

int ruv__durable_pwrite(struct ruv__durable *d, const void *buf, size_t len, uint64_t off)
{
    return put(d, buf, len, off, 1);
}

int ruv__durable_commit(struct ruv__durable *d)
{
    int rc = check_open(d);
    if (rc)
        return rc;
    /* Data and size on disk before the name points at them: otherwise a
     * crash after the rename could leave an empty or partial file. */
    if (retry_fsync(d->fd))
        return fail_tmp(d, "fsync");
    int r = S->close(d->fd);
    d->fd = -1;
    /* After fsync, EINTR from close (the descriptor is gone on Linux) loses
     * nothing; other errors (e.g. NFS) mean the data may not be there. */
    if (r && errno != EINTR)
        return fail_tmp(d, "close");
    const char *name = strrchr(d->tmp, '/') + 1;
    if (S->renameat(d->dirfd, name, d->dirfd, d->base)) {
        int e = errno;
        return fail(d, RUV_E_IO, "cannot save '%s': rename of '%s' over it failed: %s", d->path,
                    d->tmp, strerror(e));
    }
    free(d->tmp); /* the name now belongs to the destination */
    d->tmp = NULL;
    if (fsync_dir(d->dirfd)) {
        int e = errno;
        return fail(d, RUV_E_IO,
                    "saved '%s', but fsync of its directory failed: %s (the new file may not "
                    "survive a crash)",
                    d->path, strerror(e));
    }
    /* Directories created on the way exist durably only once their parent
     * is synced: innermost first, each one's parent. */
    for (size_t i = d->nmade; i-- > 0;) {
        const char *dir = d->made_dirs[i];
        const char *s = strrchr(dir, '/');
        char *parent = s ? dup_range(dir, s == dir ? 1 : (size_t)(s - dir)) : dup_range(".", 1);
        int pfd = parent ? S->openat(AT_FDCWD, parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0)
                         : -1;
        int bad = pfd < 0 || fsync_dir(pfd);
        int e = errno;
        if (pfd >= 0)
            S->close(pfd);
        if (bad) {
            rc = fail(d, RUV_E_IO,
                      "saved '%s', but fsync of directory '%s' failed: %s (the new file may "
                      "not survive a crash)",
                      d->path, parent ? parent : dir, strerror(e));
            free(parent);
            return rc;
        }
        free(parent);
    }
    release(d);
    return RUV_OK;
}

void ruv__durable_abort(struct ruv__durable *d)
{
    if (d && d->path) /* set only between a good start of open and the end */
        release(d);
}

int ruv__durable_write_file(const char *path, const void *buf, size_t len, unsigned flags)
{
    struct ruv__durable d;
    int rc = ruv__durable_open(&d, path, flags);
    if (!rc)
        rc = ruv__durable_write(&d, buf, len);
    if (!rc)
        rc = ruv__durable_commit(&d);
    return rc;
}
