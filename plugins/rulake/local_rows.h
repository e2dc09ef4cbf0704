/* The rows of one LocalBackend collection (backend_local.c): ids ascending,
 * their vectors, and the §6.2 digest of each leaf (L rows in id order) with
 * the root, filled in by the backend under its lock.
 *
 * Reference counted: a pull shares the rows instead of copying them, and
 * the backend holds a reference while it hashes them with its lock
 * released. A change edits the rows in place when the caller's reference is
 * the only one (checked under the backend's lock, which every new reference
 * is taken under), else writes new rows and leaves the shared ones as they
 * were. Either way a leaf keeps its digest when its rows are byte for byte
 * those it had (same count, same ids, same vector bytes), and loses it
 * otherwise. All three changes cost O(m log n) to find their places plus
 * the bytes of the rows that move; none hashes. */
#ifndef RULAKE_LOCAL_ROWS_H
#define RULAKE_LOCAL_ROWS_H

#include <stdatomic.h>
#include <stdint.h>

struct lrows {
    atomic_uint refs;
    uint32_t dim;
    uint64_t n, cap; /* rows held, rows there is room for */
    uint64_t *ids;   /* n ascending ids */
    float *vecs;     /* n * dim */
    uint64_t nleaves, leaf_cap;
    uint8_t *leaves;  /* nleaves * 32: leaf j's digest when leaf_ok[j] */
    uint8_t *leaf_ok; /* nleaves */
    int root_ok;      /* root is the digest of all n rows */
    uint8_t root[32];
};

/* Drops one reference (owner is a struct lrows *, may be NULL); the last
 * frees the rows. The release callback of a pulled batch. */
void ruv__lrows_release(void *owner);

/* Inserts m rows (ids unique and vectors finite, already checked; row k in
 * id order is ids[order[k]] / vectors + order[k]*dim, or row k itself when
 * order is NULL), replacing the rows with their ids. *r is the collection's
 * rows (NULL: none yet) and becomes the result: the same rows edited, or new
 * ones (the old reference then dropped). Returns RUV_OK or RUV_E_NOMEM
 * (*r untouched). */
int ruv__lrows_upsert(struct lrows **r, uint32_t dim, const uint64_t *ids, const float *vectors,
                      const uint64_t *order, uint64_t m);

/* The same for put_collection: the rows become exactly these m (m 0: *r
 * becomes NULL). */
int ruv__lrows_replace(struct lrows **r, uint32_t dim, const uint64_t *ids, const float *vectors,
                       const uint64_t *order, uint64_t m);

/* Deletes the rows whose id is among ids[0..m) (absent ids and repeats
 * are ignored); *removed counts the rows that went. Order is kept; *r
 * becomes NULL when no row is left, and is untouched when none went.
 * Returns RUV_OK or RUV_E_NOMEM (*r untouched, *removed 0). */
int ruv__lrows_delete(struct lrows **r, const uint64_t *ids, uint64_t m, uint64_t *removed);

#endif
