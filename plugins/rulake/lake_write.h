/* Writing a file so that readers see the old content or the new, never a
 * mix. In the plugin, every write goes through the engine's one durable
 * routine (host->file: a flock-held unique temp, stale-temp cleanup, fsync,
 * rename, directory fsync; engine/store/durable.h). Without a host (the
 * unit tests and the fuzzers link this code on its own) a local fallback
 * does the same minus the lock and the cleanup. */
#ifndef RULAKE_LAKE_WRITE_H
#define RULAKE_LAKE_WRITE_H

#include <stddef.h>

struct ruv_host;

/* Routes ruv__lake_write_at through host->file (with host->last_error for
 * the detail; host table v2), or back to the local fallback with NULL. Set
 * at plugin init and fini, when no other thread writes; host must stay
 * valid until it is reset. */
void ruv__lake_write_use_host(const struct ruv_host *host);

/* Where a fill callback writes: an opaque handle of ruv__lake_write_at. */
struct ruv__lake_out;

/* Appends n bytes. Returns RUV_OK or RUV_E_IO ("write <what>: <why>"). */
int ruv__lake_out_write(struct ruv__lake_out *out, const void *p, size_t n, const char *what);

/* Writes the content that fill produces to dirfd/name (dirfd may be
 * AT_FDCWD). fill gets an empty temporary beside name and returns a
 * ruv_status; on any failure the temporary is removed and name is
 * untouched. Returns RUV_OK, fill's status, or RUV_E_IO naming the step
 * and the errno text. */
int ruv__lake_write_at(int dirfd, const char *name,
                       int (*fill)(struct ruv__lake_out *out, void *ctx), void *ctx);

/* Fills buf with n random bytes from the kernel (getentropy). */
int ruv__lake_random(void *buf, size_t n);

#endif
