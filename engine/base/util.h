/* Engine-private string and buffer helpers (base/util.c). */
#ifndef RUV_ENGINE_BASE_UTIL_H
#define RUV_ENGINE_BASE_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* A copy the caller frees; NULL when out of memory. */
char *ruv__strdup(const char *s);
/* Appends printf-style text to the NUL-terminated buf of size bytes,
 * truncating silently: for messages meant for people. */
void ruv__append(char *buf, size_t size, const char *fmt, ...) RUV_PRINTF(3, 4);
/* A growable text buffer: start from {0}, free p when done. oom is set (and
 * further output dropped) once an allocation fails. */
struct ruv__buf {
    char *p;
    size_t len, cap;
    int oom;
};
void ruv__buf_printf(struct ruv__buf *b, const char *fmt, ...) RUV_PRINTF(2, 3);
void ruv__buf_json_str(struct ruv__buf *b, const char *s); /* quoted, escaped */
/* Splits a list on commas and whitespace; calls fn for each token.
 * Returns the first non-zero fn result. */
int ruv__tokens(const char *list, int (*fn)(const char *tok, size_t len, void *ctx), void *ctx);
/* 1 if name is a valid module name: [a-z0-9_]{1,31} */
int ruv__valid_module_name(const char *name);
/* Installed physical memory in bytes; 0 if unknown. Here, at the bottom,
 * so that every layer can check a large allocation against it. */
uint64_t ruv__physical_memory(void);

#endif
