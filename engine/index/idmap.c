/* id -> row map. The ids themselves live in the caller's row -> id array
 * (`keys`), so a slot holds only a row: 4 bytes instead of 13, looked up
 * through keys[row]. While every row's id is its row number (a build or add
 * without caller ids), the map is "dense" and holds no table at all.
 * Open addressing, linear probing, backward-shift deletion (no tombstones,
 * so lookups never degrade after many removals). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <ruvector/error.h>

#include "base/error.h"
#include "index/idmap.h"

#define EMPTY UINT32_MAX

static size_t slot_of(uint64_t id, size_t cap)
{
    uint64_t h = id * UINT64_C(0x9E3779B97F4A7C15); /* Fibonacci hashing */
    h ^= h >> 29;
    return (size_t)h & (cap - 1);
}

/* load factor <= 0.7 */
static size_t cap_for(size_t n)
{
    size_t cap = 16;
    while (cap * 7 < n * 10 + 10)
        cap *= 2;
    return cap;
}

static void insert(struct ruv__idmap *m, const uint64_t *keys, uint32_t row)
{
    size_t i = slot_of(keys[row], m->cap);
    while (m->slots[i] != EMPTY && keys[m->slots[i]] != keys[row])
        i = (i + 1) & (m->cap - 1);
    if (m->slots[i] == EMPTY)
        m->n++;
    m->slots[i] = row;
}

/* Replaces the table by one of cap slots holding the same entries (or rows
 * 0..n-1 when the map was dense). */
static int rebuild(struct ruv__idmap *m, const uint64_t *keys, size_t cap)
{
    uint32_t *slots = malloc(cap * sizeof *slots);
    if (!slots)
        return ruv__set_error(RUV_E_NOMEM, "id map: out of memory (%zu slots)", cap);
    memset(slots, 0xff, cap * sizeof *slots);
    struct ruv__idmap old = *m;
    m->slots = slots;
    m->cap = cap;
    m->n = 0;
    m->dense = 0;
    if (old.dense) {
        for (size_t r = 0; r < old.n; r++)
            insert(m, keys, (uint32_t)r);
    } else {
        for (size_t i = 0; i < old.cap; i++)
            if (old.slots[i] != EMPTY)
                insert(m, keys, old.slots[i]);
    }
    free(old.slots);
    return RUV_OK;
}

void ruv__idmap_init_dense(struct ruv__idmap *m)
{
    memset(m, 0, sizeof *m);
    m->dense = 1;
}

size_t ruv__idmap_table_bytes(size_t n)
{
    return cap_for(n) * sizeof(((struct ruv__idmap *)0)->slots[0]);
}

int ruv__idmap_init(struct ruv__idmap *m, size_t expect)
{
    memset(m, 0, sizeof *m);
    return rebuild(m, NULL, cap_for(expect));
}

void ruv__idmap_free(struct ruv__idmap *m)
{
    free(m->slots);
    memset(m, 0, sizeof *m);
}

int ruv__idmap_reserve(struct ruv__idmap *m, const uint64_t *keys, size_t more, int stays_dense)
{
    if (m->dense)
        return stays_dense ? RUV_OK : rebuild(m, keys, cap_for(m->n + more));
    if ((m->n + more) * 10 <= m->cap * 7)
        return RUV_OK;
    return rebuild(m, keys, cap_for(m->n + more));
}

/* Slot holding id, or EMPTY's index when absent (table maps only). */
static size_t find(const struct ruv__idmap *m, const uint64_t *keys, uint64_t id)
{
    size_t i = slot_of(id, m->cap);
    while (m->slots[i] != EMPTY && keys[m->slots[i]] != id)
        i = (i + 1) & (m->cap - 1);
    return i;
}

int ruv__idmap_get(const struct ruv__idmap *m, const uint64_t *keys, uint64_t id, uint32_t *row)
{
    uint32_t r;
    if (m->dense) {
        if (id >= m->n)
            return 0;
        r = (uint32_t)id;
    } else {
        if (!m->cap || (r = m->slots[find(m, keys, id)]) == EMPTY)
            return 0;
    }
    if (row)
        *row = r;
    return 1;
}

void ruv__idmap_put(struct ruv__idmap *m, const uint64_t *keys, uint32_t row)
{
    if (m->dense)
        m->n++; /* the caller reserved with stays_dense: row == n, id == row */
    else
        insert(m, keys, row);
}

void ruv__idmap_move(struct ruv__idmap *m, const uint64_t *keys, uint64_t id, uint32_t row)
{
    size_t i = find(m, keys, id);
    if (m->slots[i] != EMPTY)
        m->slots[i] = row;
}

void ruv__idmap_del(struct ruv__idmap *m, const uint64_t *keys, uint64_t id)
{
    if (m->dense) { /* only the last row can go without breaking density */
        if (m->n && id == m->n - 1)
            m->n--;
        return;
    }
    size_t mask = m->cap - 1, i = find(m, keys, id);
    if (m->slots[i] == EMPTY)
        return;
    /* Backward shift: pull later entries of the probe run into the hole when
     * their home slot does not lie cyclically within (hole, j]. */
    size_t hole = i;
    for (size_t j = (i + 1) & mask; m->slots[j] != EMPTY; j = (j + 1) & mask) {
        size_t home = slot_of(keys[m->slots[j]], m->cap);
        int in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!in_range) {
            m->slots[hole] = m->slots[j];
            hole = j;
        }
    }
    m->slots[hole] = EMPTY;
    m->n--;
}

size_t ruv__idmap_bytes(const struct ruv__idmap *m)
{
    return m->cap * sizeof *m->slots;
}
