/* plugins/a2a/bytes.h — a growable byte string, shared by the SSE framer and
 * the canonical JSON writer. */
#ifndef RUV_A2A_BYTES_H
#define RUV_A2A_BYTES_H

#include <stddef.h>

/* Start from {0}; p is NUL-terminated whenever it is not NULL (the NUL is not
 * counted in len). The owner releases it with ruv__bytes_free (or free(p)). */
struct ruv__bytes {
    char *p;
    size_t len, cap;
};

/* Appends n bytes of s (n may be 0, which still allocates p). Returns 0, or
 * -1 out of memory with b unchanged. */
int ruv__bytes_append(struct ruv__bytes *b, const char *s, size_t n);

/* Replaces the contents with n bytes of s. Returns 0, or -1 out of memory
 * (then b is left empty). */
int ruv__bytes_set(struct ruv__bytes *b, const char *s, size_t n);

/* Frees p and leaves b as {0}. */
void ruv__bytes_free(struct ruv__bytes *b);

#endif
