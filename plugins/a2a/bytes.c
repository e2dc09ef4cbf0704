/* plugins/a2a/bytes.c — a growable byte string. */
#include "config.h"
#include "bytes.h"

#include <stdlib.h>
#include <string.h>

int ruv__bytes_append(struct ruv__bytes *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (p == NULL)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    if (n > 0)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

int ruv__bytes_set(struct ruv__bytes *b, const char *s, size_t n)
{
    b->len = 0;
    return ruv__bytes_append(b, s, n);
}

void ruv__bytes_free(struct ruv__bytes *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}
