/* Durable replacement of one file: the only way the engine and its plugins
 * (index save, ruLake sidecars and cache files) put a file in place.
 *
 * open  creates "<dir>/.<name>.tmp.<pid>.<tid>.<16 hex>" with
 *       O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC beside the destination, holds
 *       flock(LOCK_EX) on it for its whole life, and first deletes the stale
 *       temporaries of that destination (same pattern) whose writer is gone:
 *       those whose flock(LOCK_EX|LOCK_NB) succeeds, so a live writer's temp
 *       is never touched and pid reuse cannot fool the test.
 * write the caller's bytes (write/pwrite through this module, so tests can
 *       fail them).
 * commit fsync the file, close it, rename it over the destination, fsync the
 *       directory (and the parents of directories that open created).
 * abort removes the temporary; the destination is untouched.
 *
 * Any failure leaves the destination as it was (old content or absent),
 * removes the temporary, and sets the error detail naming the step and the
 * path. A crash at any point leaves either the old or the new file, never a
 * mix; a temporary it leaves behind is removed by the next writer.
 * One struct per writer; different writers may run on different threads. */
#ifndef RUV_STORE_DURABLE_H
#define RUV_STORE_DURABLE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Create missing parent directories of the destination (mode 0777 less
 * the umask), and fsync the directory holding each one created. */
#define RUV__DURABLE_MKDIRS 1u

struct ruv__durable {
    int fd;     /* the temporary, open for writing; -1 when closed */
    int dirfd;  /* the destination's directory */
    char *path; /* destination as given */
    char *tmp;  /* temporary's name inside dirfd */
    const char *base; /* destination's name inside dirfd (points into path) */
    char **made_dirs; /* directories created by MKDIRS, outermost first */
    size_t nmade;
    int status; /* first failure, sticky */
};

/* Starts a replacement of path. On failure the struct needs no abort. */
int ruv__durable_open(struct ruv__durable *d, const char *path, unsigned flags);
/* The same for `name` relative to an open directory (the writer keeps a
 * descriptor of its own, so the caller may close dirfd): the directory
 * cannot be swapped by a rename or a symlink between the caller's open and
 * this write. name may hold subdirectories, which must exist. */
int ruv__durable_openat(struct ruv__durable *d, int dirfd, const char *name);
/* Appends / writes at an offset; RUV_E_IO names the temporary. */
int ruv__durable_write(struct ruv__durable *d, const void *buf, size_t len);
int ruv__durable_pwrite(struct ruv__durable *d, const void *buf, size_t len, uint64_t off);
/* Makes the new content durable and visible under path; frees everything. */
int ruv__durable_commit(struct ruv__durable *d);
/* Drops the temporary; safe after a failed call and on a zeroed struct. */
void ruv__durable_abort(struct ruv__durable *d);

/* One call for a whole buffer: open, write, commit. */
int ruv__durable_write_file(const char *path, const void *buf, size_t len, unsigned flags);

/* Failure injection for tests (SQLite's xSetSystemCall idea): every system
 * call of this module goes through this table. NULL restores the real
 * calls. Not thread-safe against running writers. */
struct ruv__durable_sys {
    int (*openat)(int dirfd, const char *path, int flags, mode_t mode);
    int (*flock)(int fd, int op);
    ssize_t (*write)(int fd, const void *buf, size_t len);
    ssize_t (*pwrite)(int fd, const void *buf, size_t len, off_t off);
    int (*fsync)(int fd);
    int (*close)(int fd);
    int (*renameat)(int olddir, const char *oldpath, int newdir, const char *newpath);
    int (*mkdirat)(int dirfd, const char *path, mode_t mode);
    int (*unlinkat)(int dirfd, const char *path, int flags);
};
void ruv__durable_set_sys(const struct ruv__durable_sys *sys);
/* The real calls, for a test that wraps only some of them. */
extern const struct ruv__durable_sys ruv__durable_real_sys;

#endif
