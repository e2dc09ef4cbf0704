/* Engine-private: the per-machine file of measured kernel slot speeds
 * (kernel_cache.c). It holds the race's times, not its verdict, so a change
 * of the margin never needs a new file; it is keyed by the CPU and by the
 * build of every racing plugin, so new plugins or another CPU measure anew. */
#ifndef RUV_ENGINE_CORE_KERNEL_CACHE_H
#define RUV_ENGINE_CORE_KERNEL_CACHE_H

#include <stddef.h>

#include "base/util.h"
#include "plugin/plugins.h"

/* The cache file's name inside the cache directory. */
#define RUV__KERNEL_CACHE_FILE "kernel-slots"
/* Larger files are not ours. */
#define RUV__KERNEL_CACHE_MAX 65536

/* The key: format line, CPU model and ISA bits, and one line per racer
 * (name, priority, build id: the ELF build-id note of the module holding
 * its descriptor, else the module's size and modification time). */
void ruv__kernel_cache_key(struct ruv__buf *b, const struct ruv__plugin_set *set);

/* Key, then every slot's times per racer, then a CRC-32C line. */
void ruv__kernel_cache_format(struct ruv__buf *b, const char *key,
                              const struct ruv__slot_table *t);

/* Parses a cache file of len bytes (any bytes) made for key with nracers
 * racers into ns. Returns 0, or -1 with the reason in why (truncated,
 * checksum, another CPU or plugin set, a bad line) and ns untouched. */
int ruv__kernel_cache_parse(const char *buf, size_t len, const char *key, size_t nracers,
                            double ns[RUV__SLOT_COUNT][RUV__MAX_RACERS], char *why,
                            size_t whylen);

/* Reads a whole regular file of at most RUV__KERNEL_CACHE_MAX bytes into a
 * malloc'ed buffer (*out, free it). 1 = read; 0 = there is no file; -1 =
 * unreadable, reason in why. */
int ruv__kernel_cache_read(const char *path, char **out, size_t *len, char *why, size_t whylen);

#endif
