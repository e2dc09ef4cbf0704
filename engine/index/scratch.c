/* Per-thread search scratch (see scratch.h). glibc serves blocks above its
 * mmap threshold with fresh mappings, so a search that mallocs and frees
 * ~1 MB of scratch per call pays hundreds of page faults each time until
 * the threshold adapts; a grow-only area per thread pays them once. */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/error.h>

#include "base/error.h"
#include "index/common.h"
#include "index/scratch.h"

struct thread_area {
    void *block;
    size_t cap;
    unsigned small_run; /* searches in a row that needed <= cap / 4 */
    int in_use;
    struct thread_area *prev, *next; /* in all_areas */
};

static pthread_key_t area_key;
static pthread_once_t area_once = PTHREAD_ONCE_INIT;
static int area_key_ok;

/* Every live area, besides its thread's key. A forked child has only the
 * forking thread: the pool workers' areas stay owned by this list (leak
 * checkers in the child see them held, not lost, and nothing else holds
 * the memory of threads that no longer exist). */
static pthread_mutex_t areas_mu = PTHREAD_MUTEX_INITIALIZER;
static struct thread_area *all_areas;

static void areas_lock(void) { pthread_mutex_lock(&areas_mu); }
static void areas_unlock(void) { pthread_mutex_unlock(&areas_mu); }

static void area_free(void *v)
{
    struct thread_area *a = v;
    if (!a)
        return;
    areas_lock();
    if (a->prev)
        a->prev->next = a->next;
    else
        all_areas = a->next;
    if (a->next)
        a->next->prev = a->prev;
    areas_unlock();
    free(a->block);
    free(a);
}

static void area_key_create(void)
{
    area_key_ok = pthread_key_create(&area_key, area_free) == 0;
    /* A fork while another thread holds the list lock must not leave the
     * child's copy locked. */
    if (area_key_ok)
        pthread_atfork(areas_lock, areas_unlock, areas_unlock);
}

static size_t round64(size_t n)
{
    return (n + 63) / 64 * 64;
}

/* The calling thread's area, created on first use; NULL if that fails. */
static struct thread_area *this_area(void)
{
    pthread_once(&area_once, area_key_create);
    if (!area_key_ok)
        return NULL;
    struct thread_area *a = pthread_getspecific(area_key);
    if (a || !(a = calloc(1, sizeof *a)))
        return a;
    if (pthread_setspecific(area_key, a) != 0) {
        free(a);
        return NULL;
    }
    areas_lock();
    a->next = all_areas;
    if (all_areas)
        all_areas->prev = a;
    all_areas = a;
    areas_unlock();
    return a;
}

/* Block big enough for need from the thread's area, or NULL to allocate
 * one for this call only. */
static void *area_block(struct thread_area *a, size_t need, size_t *cap)
{
    if (!a || a->in_use || need > RUV__SCRATCH_CACHE_MAX)
        return NULL;
    if (a->block && need <= a->cap / 4 && ++a->small_run >= RUV__SCRATCH_SHRINK_AFTER) {
        free(a->block);
        a->block = NULL;
        a->cap = 0;
    }
    if (need > a->cap / 4)
        a->small_run = 0;
    if (need > a->cap) {
        void *nb = ruv__alloc(need);
        if (!nb)
            return NULL; /* the caller tries a one-off block, then reports */
        free(a->block);
        a->block = nb;
        a->cap = need;
        a->small_run = 0;
    }
    a->in_use = 1;
    *cap = a->cap;
    return a->block;
}

int ruv__scratch_take(size_t scratch_bytes, size_t dim, uint32_t k, struct ruv__scratch *s)
{
    const size_t qoff = round64(scratch_bytes);
    const size_t hdoff = qoff + round64(dim * sizeof(float));
    const size_t hroff = hdoff + round64((size_t)k * sizeof(float));
    const size_t need = hroff + (size_t)k * sizeof(uint32_t);
    if (scratch_bytes > SIZE_MAX / 2 || qoff > need) /* overflow */
        return ruv__set_error(RUV_E_NOMEM, "search scratch of %zu bytes is too large",
                              scratch_bytes);
    s->cached = 0;
    s->block = area_block(this_area(), need, &s->cap);
    if (s->block) {
        s->cached = 1;
    } else {
        s->block = ruv__alloc(need);
        s->cap = need;
        if (!s->block)
            return ruv__set_error(RUV_E_NOMEM, "out of memory for %zu bytes of search "
                                               "buffers (k = %u)", need, k);
    }
    char *b = s->block;
    s->scratch = b;
    s->qbuf = (float *)(void *)(b + qoff);
    s->hd = (float *)(void *)(b + hdoff);
    s->hr = (uint32_t *)(void *)(b + hroff);
    return RUV_OK;
}

void ruv__scratch_give(struct ruv__scratch *s)
{
    if (!s->block)
        return;
    if (s->cached) {
        struct thread_area *a = pthread_getspecific(area_key);
        if (a)
            a->in_use = 0;
    } else {
        free(s->block);
    }
    s->block = NULL;
}

void ruv__scratch_reserve(size_t scratch_bytes, size_t dim, uint32_t k)
{
    struct ruv__scratch s;
    if (ruv__scratch_take(scratch_bytes, dim, k, &s) != RUV_OK)
        return;
    if (s.cached)
        memset(s.block, 0, s.cap);
    ruv__scratch_give(&s);
}

void ruv__scratch_release(void)
{
    pthread_once(&area_once, area_key_create);
    if (!area_key_ok)
        return;
    struct thread_area *a = pthread_getspecific(area_key);
    if (a && !a->in_use) {
        pthread_setspecific(area_key, NULL);
        area_free(a);
    }
}

size_t ruv__scratch_cached_bytes(void)
{
    pthread_once(&area_once, area_key_create);
    struct thread_area *a = area_key_ok ? pthread_getspecific(area_key) : NULL;
    return a ? a->cap : 0;
}

/* The main thread's area when the process exits or the library unloads
 * (key destructors run only for threads that exit), so valgrind sees no
 * block left behind. Other threads' areas go with their threads. */
__attribute__((destructor)) static void release_at_unload(void)
{
    if (area_key_ok)
        ruv__scratch_release();
}
