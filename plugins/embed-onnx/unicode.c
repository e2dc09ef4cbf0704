/* unicode.c — lookups over the generated tables (unicode_tables.c). */
#include "unicode.h"

unsigned ruv__uni_flags(uint32_t cp)
{
    if (cp > 0x10FFFF)
        return RUV__UNI_DELETE;
    size_t lo = 0, hi = ruv__uni_nruns; /* find the last run starting at or before cp */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if ((ruv__uni_runs[mid] >> 8) <= cp)
            lo = mid;
        else
            hi = mid;
    }
    return ruv__uni_runs[lo] & 0xFFu;
}

enum { SBASE = 0xAC00, LBASE = 0x1100, VBASE = 0x1161, TBASE = 0x11A7, TCOUNT = 28,
       NCOUNT = 588, SCOUNT = 11172 };

size_t ruv__uni_strip(uint32_t cp, unsigned flags, uint32_t *out)
{
    if (cp >= SBASE && cp < SBASE + SCOUNT) { /* Hangul: algorithmic, UAX #15 */
        uint32_t s = cp - SBASE;
        out[0] = LBASE + s / NCOUNT;
        out[1] = VBASE + (s % NCOUNT) / TCOUNT;
        if (s % TCOUNT == 0)
            return 2;
        out[2] = TBASE + s % TCOUNT;
        return 3;
    }
    if (flags & RUV__UNI_DROP)
        return 0;
    size_t lo = 0, hi = ruv__uni_ndecomps;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ruv__uni_decomps[mid].cp < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < ruv__uni_ndecomps && ruv__uni_decomps[lo].cp == cp) {
        const struct ruv__uni_decomp *d = &ruv__uni_decomps[lo];
        for (size_t i = 0; i < d->len; i++)
            out[i] = ruv__uni_decomp_pool[d->offset + i];
        return d->len;
    }
    out[0] = cp;
    return 1;
}

size_t ruv__uni_lower(uint32_t cp, uint32_t *out)
{
    for (size_t i = 0; i < ruv__uni_nlower_multis; i++) {
        if (ruv__uni_lower_multis[i].cp == cp) {
            for (size_t k = 0; k < ruv__uni_lower_multis[i].len; k++)
                out[k] = ruv__uni_lower_multis[i].out[k];
            return ruv__uni_lower_multis[i].len;
        }
    }
    size_t lo = 0, hi = ruv__uni_nlower_runs; /* first run whose last >= cp */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ruv__uni_lower_runs[mid].last < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < ruv__uni_nlower_runs) {
        const struct ruv__uni_lower_run *r = &ruv__uni_lower_runs[lo];
        if (cp >= r->first && (cp - r->first) % r->stride == 0) {
            out[0] = (uint32_t)((int32_t)cp + r->delta);
            return 1;
        }
    }
    out[0] = cp;
    return 1;
}

unsigned ruv__uni_ccc(uint32_t cp)
{
    size_t lo = 0, hi = ruv__uni_ncccs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ruv__uni_cccs[mid].cp < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < ruv__uni_ncccs && ruv__uni_cccs[lo].cp == cp ? ruv__uni_cccs[lo].ccc : 0;
}
