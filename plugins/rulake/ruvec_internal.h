/* Shared between ruvec_common.c, ruvec1.c and ruvec2.c; not for the rest of
 * the plugin (ruvec.h is). */
#ifndef RULAKE_RUVEC_INTERNAL_H
#define RULAKE_RUVEC_INTERNAL_H

#include <stdint.h>
#include <sys/stat.h>

#include "ruvec.h"

/* count ≤ 10^8, 1 ≤ dim ≤ 8192, count·dim·4 ≤ 16 GiB. RUV_E_CORRUPT when
 * reading (what a header claims), as the detail says. */
int ruv__lake_ruvec_caps(uint64_t count, uint64_t dim, int status);

/* Reads exactly n bytes at off. A short file is RUV_E_CORRUPT. */
int ruv__lake_pread_all(int fd, void *buf, size_t n, uint64_t off, const char *what);

/* Version-specific halves of describe and read; st is the file's fstat. */
int ruv__lake_ruvec1_describe(int fd, const struct stat *st, struct ruv__lake_ruvec_info *out);
int ruv__lake_ruvec1_read(int fd, const struct stat *st, struct ruv__lake_ruvec_info *info,
                          struct ruv__lake_ruvec_rows *out);
int ruv__lake_ruvec2_describe(int fd, const struct stat *st, struct ruv__lake_ruvec_info *out);
int ruv__lake_ruvec2_read(int fd, const struct stat *st, struct ruv__lake_ruvec_info *info,
                          struct ruv__lake_ruvec_rows *out);

#endif
