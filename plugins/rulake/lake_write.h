/* Writing a file so that readers see the old content or the new, never a
 * mix: a unique temp in the same directory, fsync, rename, directory fsync.
 *
 * TEMPORARY: rulake.md §10.3 makes this one engine routine (flock on the
 * temp, stale-temp cleanup, fault injection) reached through the host
 * table v2. When that lands, ruv__lake_write_at becomes a call to it and
 * this file goes away; callers do not change. */
#ifndef RULAKE_LAKE_WRITE_H
#define RULAKE_LAKE_WRITE_H

#include <stddef.h>

/* Writes the content that fill produces to dirfd/name. fill gets an open,
 * empty temp file (O_EXCL, O_NOFOLLOW, named .<name>.tmp.<pid>.<tid>.<16
 * hex>) and returns a ruv_status; on failure the temp is removed and name
 * is untouched. Returns RUV_OK, fill's status, or RUV_E_IO naming the step
 * (create, fsync, rename, directory fsync) and the errno text. */
int ruv__lake_write_at(int dirfd, const char *name, int (*fill)(int fd, void *ctx), void *ctx);

/* Writes all n bytes at the current offset, retrying short writes and
 * EINTR. Returns RUV_OK or RUV_E_IO ("write <what>: <errno text>"). */
int ruv__lake_write_all(int fd, const void *p, size_t n, const char *what);

/* Fills buf with n random bytes from the kernel (getentropy). */
int ruv__lake_random(void *buf, size_t n);

#endif
