/* plugins/a2a/concurrency.c — in-flight counts per (peer, skill), one
 * table for the process (a2a.md §5 step 5: "in process"). Entries live
 * while anything holds them, so the table is as small as the calls in
 * flight. */
#include "config.h"
#include "concurrency.h"
#include "detail.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct slot_key {
    struct slot_key *next;
    uint32_t in_flight;
    char key[]; /* peer "\n" skill */
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot_key *table;

int ruv__concurrency_acquire(const char *peer, const char *skill, uint32_t max, void **slot,
                             struct ruv_a2a_call_status *st)
{
    *slot = NULL;
    size_t n = strlen(peer) + 1 + strlen(skill) + 1;
    pthread_mutex_lock(&table_lock);
    struct slot_key *k = table;
    while (k && !(strncmp(k->key, peer, strlen(peer)) == 0 && k->key[strlen(peer)] == '\n' &&
                  strcmp(k->key + strlen(peer) + 1, skill) == 0))
        k = k->next;
    int rc = RUV_OK;
    if (k && k->in_flight >= max) {
        if (st)
            st->error = RUV_A2A_ERR_POLICY;
        rc = ruv__detail_set(RUV_E_POLICY,
                             "max_concurrency: %u calls to skill \"%s\" of this peer are in "
                             "flight, the limit is %u",
                             k->in_flight, skill, max);
    } else if (!k) {
        k = malloc(sizeof *k + n);
        if (!k) {
            rc = ruv__detail_set(RUV_E_NOMEM, "out of memory");
        } else {
            snprintf(k->key, n, "%s\n%s", peer, skill);
            k->in_flight = 0;
            k->next = table;
            table = k;
        }
    }
    if (rc == RUV_OK) {
        k->in_flight++;
        *slot = k;
    }
    pthread_mutex_unlock(&table_lock);
    return rc;
}

void ruv__concurrency_release(void *slot)
{
    if (!slot)
        return;
    pthread_mutex_lock(&table_lock);
    struct slot_key *k = slot;
    if (--k->in_flight == 0) {
        struct slot_key **pp = &table;
        while (*pp && *pp != k)
            pp = &(*pp)->next;
        if (*pp)
            *pp = k->next;
        free(k);
    }
    pthread_mutex_unlock(&table_lock);
}
