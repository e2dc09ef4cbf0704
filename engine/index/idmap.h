/* Engine-private: the id -> row map of an index (index/idmap.c). */
#ifndef RUV_ENGINE_INDEX_IDMAP_H
#define RUV_ENGINE_INDEX_IDMAP_H

#include <stddef.h>
#include <stdint.h>

/* Slots hold rows only; ids are read through `keys` (row -> id: the index's
 * ids array, or the caller's id array for a batch check). A dense map (every
 * row's id is its row number) has no table. */
struct ruv__idmap {
    uint32_t *slots; /* cap rows, UINT32_MAX = empty; NULL while dense */
    size_t cap, n;   /* cap is a power of two */
    int dense;
};
void ruv__idmap_init_dense(struct ruv__idmap *m);
/* A table map with room for `expect` ids. */
int ruv__idmap_init(struct ruv__idmap *m, size_t expect);
void ruv__idmap_free(struct ruv__idmap *m);
/* Bytes of the table a map of n ids gets when it is built for them. */
size_t ruv__idmap_table_bytes(size_t n);
/* Makes room for `more` insertions without failing later; a dense map stays
 * dense when stays_dense (the new rows' ids are their row numbers), else it
 * becomes a table now. */
int ruv__idmap_reserve(struct ruv__idmap *m, const uint64_t *keys, size_t more, int stays_dense);
/* Returns 1 and the row if present. */
int ruv__idmap_get(const struct ruv__idmap *m, const uint64_t *keys, uint64_t id, uint32_t *row);
/* Inserts row under keys[row] (or overwrites); capacity must be reserved. */
void ruv__idmap_put(struct ruv__idmap *m, const uint64_t *keys, uint32_t row);
/* Points present id at another row (the caller then moves keys[row]). */
void ruv__idmap_move(struct ruv__idmap *m, const uint64_t *keys, uint64_t id, uint32_t row);
/* A dense map can only drop its last row: make it a table first otherwise. */
void ruv__idmap_del(struct ruv__idmap *m, const uint64_t *keys, uint64_t id);
size_t ruv__idmap_bytes(const struct ruv__idmap *m);

#endif
