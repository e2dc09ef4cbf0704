/* Per-thread search scratch: the buffers one query needs, kept between
 * searches so a search does not map fresh pages (and fault on them) on
 * every call. */
#ifndef RUV_INDEX_SCRATCH_H
#define RUV_INDEX_SCRATCH_H

#include <stddef.h>
#include <stdint.h>

struct ruv__scratch {
    void *scratch;   /* scratch_bytes, 64-byte aligned */
    float *qbuf;     /* dim floats, 64-byte aligned (the normalised query) */
    float *hd;       /* k distances of the top-k heap */
    uint32_t *hr;    /* k rows of the top-k heap */
    void *block;     /* private: the one allocation holding all four */
    size_t cap;      /* private: its size */
    int cached;      /* private: 1 when block is this thread's cached area */
};

/* Fills *s with buffers for one query; they stay valid until
 * ruv__scratch_give(s) on the same thread. The thread's cached area is used
 * when it is free (a search nested in a search on one thread, e.g. queued
 * pool work run while waiting, gets its own block instead) and the need is
 * at most RUV__SCRATCH_CACHE_MAX. Contents are not zeroed. RUV_E_NOMEM
 * (detail set) when memory runs out; *s then needs no give. */
int ruv__scratch_take(size_t scratch_bytes, size_t dim, uint32_t k, struct ruv__scratch *s);

/* Returns what ruv__scratch_take handed out. */
void ruv__scratch_give(struct ruv__scratch *s);

/* Grows the calling thread's area to what take would need and touches its
 * pages, so a first search on this thread does not fault them in (a load
 * with RUV_INDEX_LOAD_POPULATE: the warm restart pays, not the first query).
 * A hint: does nothing when the area is held or memory is short. */
void ruv__scratch_reserve(size_t scratch_bytes, size_t dim, uint32_t k);

/* Frees the calling thread's cached area now (tests, and threads that are
 * done searching); the area is otherwise freed when its thread exits. */
void ruv__scratch_release(void);

/* Size of the calling thread's cached area in bytes (0: none); for tests. */
size_t ruv__scratch_cached_bytes(void);

/* Needs above this are allocated per call and never cached, so one huge
 * search cannot pin its memory on a thread. */
#define RUV__SCRATCH_CACHE_MAX ((size_t)64 << 20)

/* After this many searches in a row that each needed at most a quarter of
 * the cached area, the area is freed and the next search sizes it anew. */
#define RUV__SCRATCH_SHRINK_AFTER 256u

#endif
