/* id -> row hash map: open addressing with linear probing and backward-shift
 * deletion (no tombstones, so lookups never degrade after many removals). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "index_internal.h"

static size_t slot_of(uint64_t id, size_t cap)
{
    uint64_t h = id * UINT64_C(0x9E3779B97F4A7C15); /* Fibonacci hashing */
    h ^= h >> 29;
    return (size_t)h & (cap - 1);
}

static int alloc_table(struct ruv__idmap *m, size_t cap)
{
    m->keys = malloc(cap * sizeof *m->keys);
    m->rows = malloc(cap * sizeof *m->rows);
    m->used = calloc(cap, 1);
    if (!m->keys || !m->rows || !m->used) {
        free(m->keys);
        free(m->rows);
        free(m->used);
        memset(m, 0, sizeof *m);
        return ruv__set_error(RUV_E_NOMEM, "id map: out of memory (%zu slots)", cap);
    }
    m->cap = cap;
    m->n = 0;
    return RUV_OK;
}

int ruv__idmap_init(struct ruv__idmap *m, size_t expect)
{
    memset(m, 0, sizeof *m);
    size_t cap = 16;
    while (cap * 7 < expect * 10 + 10) /* load factor <= 0.7 */
        cap *= 2;
    return alloc_table(m, cap);
}

void ruv__idmap_free(struct ruv__idmap *m)
{
    free(m->keys);
    free(m->rows);
    free(m->used);
    memset(m, 0, sizeof *m);
}

int ruv__idmap_reserve(struct ruv__idmap *m, size_t more)
{
    if ((m->n + more) * 10 <= m->cap * 7) /* load factor <= 0.7 */
        return RUV_OK;
    struct ruv__idmap old = *m;
    size_t cap = m->cap ? m->cap : 16;
    while ((m->n + more) * 10 > cap * 7)
        cap *= 2;
    int rc = alloc_table(m, cap);
    if (rc != RUV_OK) {
        *m = old;
        return rc;
    }
    for (size_t i = 0; i < old.cap; i++)
        if (old.used[i])
            ruv__idmap_put(m, old.keys[i], old.rows[i]);
    ruv__idmap_free(&old);
    return RUV_OK;
}

int ruv__idmap_get(const struct ruv__idmap *m, uint64_t id, uint32_t *row)
{
    if (!m->cap)
        return 0;
    for (size_t i = slot_of(id, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (!m->used[i])
            return 0;
        if (m->keys[i] == id) {
            if (row)
                *row = m->rows[i];
            return 1;
        }
    }
}

void ruv__idmap_put(struct ruv__idmap *m, uint64_t id, uint32_t row)
{
    size_t i = slot_of(id, m->cap);
    while (m->used[i] && m->keys[i] != id)
        i = (i + 1) & (m->cap - 1);
    if (!m->used[i])
        m->n++;
    m->used[i] = 1;
    m->keys[i] = id;
    m->rows[i] = row;
}

void ruv__idmap_del(struct ruv__idmap *m, uint64_t id)
{
    if (!m->cap)
        return;
    size_t mask = m->cap - 1, i = slot_of(id, m->cap);
    while (m->used[i] && m->keys[i] != id)
        i = (i + 1) & mask;
    if (!m->used[i])
        return;
    /* Backward shift: pull later entries of the probe run into the hole when
     * their home slot does not lie cyclically within (hole, j]. */
    size_t hole = i;
    for (size_t j = (i + 1) & mask; m->used[j]; j = (j + 1) & mask) {
        size_t home = slot_of(m->keys[j], m->cap);
        int in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!in_range) {
            m->keys[hole] = m->keys[j];
            m->rows[hole] = m->rows[j];
            hole = j;
        }
    }
    m->used[hole] = 0;
    m->n--;
}

size_t ruv__idmap_bytes(const struct ruv__idmap *m)
{
    return m->cap * (sizeof *m->keys + sizeof *m->rows + 1);
}
