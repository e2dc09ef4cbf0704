/* Temp + fsync + rename (contract and the TEMPORARY note in lake_write.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bytes.h"
#include "lake_error.h"
#include "lake_write.h"

int ruv__lake_random(void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n > 0) {
        size_t chunk = n > 256 ? 256 : n; /* getentropy's limit */
        if (getentropy(p, chunk) != 0)
            return ruv__lake_error(RUV_E_IO, "getentropy: %s", strerror(errno));
        p += chunk;
        n -= chunk;
    }
    return RUV_OK;
}

int ruv__lake_write_all(int fd, const void *p, size_t n, const char *what)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return ruv__lake_error(RUV_E_IO, "write %s: %s", what, strerror(errno));
        }
        b += w;
        n -= (size_t)w;
    }
    return RUV_OK;
}

int ruv__lake_write_at(int dirfd, const char *name, int (*fill)(int fd, void *ctx), void *ctx)
{
    uint8_t rnd[8];
    char rhex[17], tmp[512];
    int st = ruv__lake_random(rnd, sizeof rnd);
    if (st != RUV_OK)
        return st;
    ruv__lake_hex(rnd, sizeof rnd, rhex);
    /* The thread id keeps two threads of one process apart even before the
     * random part does; the pattern is the one §10.3's cleanup matches. */
    int len = snprintf(tmp, sizeof tmp, ".%s.tmp.%ld.%lu.%s", name, (long)getpid(),
                       (unsigned long)(uintptr_t)pthread_self(), rhex);
    if (len < 0 || (size_t)len >= sizeof tmp)
        return ruv__lake_error(RUV_E_INVAL, "file name '%s' is too long", name);
    int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return ruv__lake_error(RUV_E_IO, "create %s: %s", tmp, strerror(errno));
    st = fill(fd, ctx);
    if (st == RUV_OK && fsync(fd) != 0)
        st = ruv__lake_error(RUV_E_IO, "fsync %s: %s", tmp, strerror(errno));
    if (close(fd) != 0 && st == RUV_OK)
        st = ruv__lake_error(RUV_E_IO, "close %s: %s", tmp, strerror(errno));
    if (st == RUV_OK && renameat(dirfd, tmp, dirfd, name) != 0)
        st = ruv__lake_error(RUV_E_IO, "rename %s to %s: %s", tmp, name, strerror(errno));
    if (st != RUV_OK) {
        unlinkat(dirfd, tmp, 0);
        return st;
    }
    /* The rename is durable only once the directory entry is. */
    int dfd = dirfd == AT_FDCWD ? open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : dirfd;
    if (dfd < 0 || fsync(dfd) != 0)
        st = ruv__lake_error(RUV_E_IO, "fsync of the directory of %s: %s", name,
                             strerror(errno));
    if (dfd >= 0 && dfd != dirfd)
        close(dfd);
    return st;
}
