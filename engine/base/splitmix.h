/* splitmix64 (Steele, Lea, Flood 2014): the engine's one seeded random
 * stream. Tiny, seedable with any value and identical on every platform,
 * which the determinism contract (same seed, same index bytes) needs; the
 * rotation's signs, k-means seeding and the calibration sample all draw
 * from it. */
#ifndef RUV_BASE_SPLITMIX_H
#define RUV_BASE_SPLITMIX_H

#include <stdint.h>

/* Advances *state and returns the next output. */
static inline uint64_t ruv__splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

#endif
