/* Durable replacement of one file (contract in lake_write.h): the engine's
 * routine through host->file when the plugin has a host, else a local
 * temp + fsync + rename + directory fsync. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ruvector/plugin.h>

#include "bytes.h"
#include "lake_error.h"
#include "lake_write.h"

static _Atomic(const struct ruv_host *) write_host;

void ruv__lake_write_use_host(const struct ruv_host *host)
{
    atomic_store_explicit(&write_host, host, memory_order_release);
}

struct ruv__lake_out {
    const struct ruv_host *host; /* NULL: fd is a local temporary */
    ruv_durable_file *df;
    int fd;
};

int ruv__lake_random(void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n > 0) {
        size_t chunk = n > 256 ? 256 : n; /* getentropy's limit */
        if (getentropy(p, chunk) != 0)
            return ruv__detail_set(RUV_E_IO, "getentropy: %s", strerror(errno));
        p += chunk;
        n -= chunk;
    }
    return RUV_OK;
}

static int write_fd(int fd, const void *p, size_t n, const char *what)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return ruv__detail_set(RUV_E_IO, "write %s: %s", what, strerror(errno));
        }
        b += w;
        n -= (size_t)w;
    }
    return RUV_OK;
}

/* The engine recorded its detail in its own thread-local slot; copy it
 * into ours so that ruv__detail_get and the forward agree. */
static int host_failed(const struct ruv_host *host, int status)
{
    return ruv__detail_set(status, "%s", host->last_error());
}

int ruv__lake_out_write(struct ruv__lake_out *out, const void *p, size_t n, const char *what)
{
    if (!out->host)
        return write_fd(out->fd, p, n, what);
    int st = out->host->file->write(out->df, p, n);
    return st == RUV_OK ? RUV_OK : host_failed(out->host, st);
}

/* The engine's routine: openat when the host table has it (the directory
 * the caller opened, whatever happens to its path), else the path. */
static int write_with_host(const struct ruv_host *host, int dirfd, const char *name,
                           int (*fill)(struct ruv__lake_out *, void *), void *ctx)
{
    const struct ruv_host_file *file = host->file;
    int st;
    struct ruv__lake_out out = {host, NULL, -1};
    if (dirfd == AT_FDCWD)
        st = file->open(name, 0, &out.df);
    else
        st = file->openat(dirfd, name, 0, &out.df);
    if (st != RUV_OK)
        return host_failed(host, st);
    if ((st = fill(&out, ctx)) != RUV_OK) {
        char keep[1024]; /* abort must not replace fill's detail */
        snprintf(keep, sizeof keep, "%s", ruv__detail_get());
        file->abort(out.df);
        return ruv__detail_set(st, "%s", keep);
    }
    st = file->commit(out.df);
    return st == RUV_OK ? RUV_OK : host_failed(host, st);
}

static int write_local(int dirfd, const char *name, int (*fill)(struct ruv__lake_out *, void *),
                       void *ctx)
{
    uint8_t rnd[8];
    char rhex[17], tmp[512];
    int st = ruv__lake_random(rnd, sizeof rnd);
    if (st != RUV_OK)
        return st;
    ruv__lake_hex(rnd, sizeof rnd, rhex);
    /* The engine's temporary pattern, so its cleanup also matches ours. */
    int len = snprintf(tmp, sizeof tmp, ".%s.tmp.%ld.%lu.%s", name, (long)getpid(),
                       (unsigned long)(uintptr_t)pthread_self(), rhex);
    if (len < 0 || (size_t)len >= sizeof tmp)
        return ruv__detail_set(RUV_E_INVAL, "file name '%s' is too long", name);
    int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return ruv__detail_set(RUV_E_IO, "create %s: %s", tmp, strerror(errno));
    struct ruv__lake_out out = {NULL, NULL, fd};
    st = fill(&out, ctx);
    if (st == RUV_OK && fsync(fd) != 0)
        st = ruv__detail_set(RUV_E_IO, "fsync %s: %s", tmp, strerror(errno));
    if (close(fd) != 0 && st == RUV_OK)
        st = ruv__detail_set(RUV_E_IO, "close %s: %s", tmp, strerror(errno));
    if (st == RUV_OK && renameat(dirfd, tmp, dirfd, name) != 0)
        st = ruv__detail_set(RUV_E_IO, "rename %s to %s: %s", tmp, name, strerror(errno));
    if (st != RUV_OK) {
        unlinkat(dirfd, tmp, 0);
        return st;
    }
    /* The rename is durable only once the directory entry is. */
    int dfd = dirfd == AT_FDCWD ? open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : dirfd;
    if (dfd < 0 || fsync(dfd) != 0)
        st = ruv__detail_set(RUV_E_IO, "fsync of the directory of %s: %s", name,
                             strerror(errno));
    if (dfd >= 0 && dfd != dirfd)
        close(dfd);
    return st;
}

int ruv__lake_write_at(int dirfd, const char *name, int (*fill)(struct ruv__lake_out *, void *),
                       void *ctx)
{
    const struct ruv_host *host = atomic_load_explicit(&write_host, memory_order_acquire);
    /* The local routine serves only where no engine is (unit tests, fuzzers). */
    if (host && (dirfd == AT_FDCWD || host->file->struct_size >=
                                          offsetof(struct ruv_host_file, openat) +
                                              sizeof host->file->openat))
        return write_with_host(host, dirfd, name, fill, ctx);
    return write_local(dirfd, name, fill, ctx);
}
