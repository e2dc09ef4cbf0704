/* publish_bundle (rulake.md §9): tell other processes "this is the current
 * state of the collection". A FRESH check first: the backend describes the
 * collection now; the key's entry is used when it names that state, else
 * the key primes again. The bundle is then written as a cache directory
 * (index file and the sidecar, signed when the lake has a signing key),
 * through the engine's durable write; the sidecar's rename commits it. A
 * reader can refresh_from_bundle_dir against it, or warm_from_dir from it
 * without a pull. */
#include "config.h"

#include <string.h>

#include <ruvector/error.h>

#include "lake_error.h"
#include "lake_internal.h"

/* Whether e names the state d describes (v1 and, when d has one, the
 * content digest: with P the entry's own, v2 equal follows). */
static int entry_names(const struct ruv_lake *lake, const struct lake_entry *e,
                       const struct ruv_lake_desc *d, int *same)
{
    const struct ruv__lake_gen g = {(int)d->gen_is_opaque, d->gen_num, d->gen_opaque,
                                    d->gen_len};
    uint8_t v1[32];
    int st = ruv__lake_witness_v1(d->data_ref, d->data_ref_len, d->dim, lake->cfg.rotation_seed,
                                  lake->cfg.rerank_factor, &g, v1);
    *same = st == RUV_OK && memcmp(e->v1, v1, 32) == 0 &&
            (!d->has_digest || memcmp(e->digest, d->content_digest, 32) == 0);
    return st;
}

/* The key's live entry, retained, or NULL. */
static struct lake_entry *slot_entry(struct lake_slot *slot)
{
    pthread_mutex_lock(&slot->mu);
    struct lake_entry *e = slot->entry;
    e = e && !atomic_load(&e->evicted) ? ruv__lake_entry_retain(e) : NULL;
    pthread_mutex_unlock(&slot->mu);
    return e;
}

int ruv__lake_publish(struct ruv_lake *lake, const struct ruv_lake_target *key, const char *dir,
                      char w2[65])
{
    if (!dir)
        return ruv__detail_set(RUV_E_INVAL, "publish_bundle: dir is NULL");
    unsigned b;
    struct lake_slot *slot;
    int st = ruv__lake_key_slot(lake, key, 1, &b, &slot);
    if (st != RUV_OK)
        return st;
    struct ruv_lake_desc d;
    if ((st = ruv__lake_describe(lake, b, key->collection, &d)) != RUV_OK)
        return st;
    struct lake_entry *e = slot_entry(slot);
    int same = 0;
    if (e && (st = entry_names(lake, e, &d, &same)) != RUV_OK) {
        ruv__lake_entry_release(lake, e);
        return st;
    }
    if (!same) {
        /* Older than the backend (or absent): drop it and prime, whatever
         * the consistency mode; the entry then describes its own pull. */
        pthread_mutex_lock(&slot->mu);
        struct lake_entry *dropped = e && slot->entry == e ? ruv__lake_slot_drop(lake, slot)
                                                           : NULL;
        slot->last_checked_ns = 0;
        pthread_mutex_unlock(&slot->mu);
        ruv__lake_entry_release(lake, dropped);
        ruv__lake_entry_release(lake, e);
        e = NULL;
        if ((st = ruv__lake_acquire(lake, b, key->collection, d.dim, 0, &e)) != RUV_OK)
            return st;
    }
    st = ruv__lake_save_entry(lake, key, ruv__lake_backend_at(lake, b)->name, e, dir, 1, w2);
    ruv__lake_entry_release(lake, e);
    return st;
}
