/* RaBitQ quantizer: sizes, 1-bit and extended codes with their factors.
 * Search-time parts are in rabitq_query.c; the math is in rabitq.h. */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include <ruvector/error.h>

#include "base/splitmix.h"
#include "index/rabitq/rabitq.h"
#include "index/rabitq/rotation.h"

/* ------------------------------------------------------------------ sizes */

size_t ruv__rabitq_words(size_t dim)
{
    return (dim + 63) / 64;
}

size_t ruv__rabitq_nsub(size_t dim)
{
    return (dim + 3) / 4;
}

/* Critical points the sorted sweep takes per dimension at most (more, and
 * best_t falls back to the heap): every point of B <= 5 bits fits, and on
 * rotated Gaussian data 8 bits needs about 10. */
#define EX_EVENTS_PER_DIM 16u

size_t ruv__rabitq_ex_scratch_bytes(size_t dim)
{
    /* |r_i| / |r| (float); the critical points: t (as float bits) and
     * coordinate, before and after sorting, each one's bucket, and the
     * bucket starts (one more); then one level byte per dimension. The
     * heap fallback reuses the first two arrays. */
    return dim * sizeof(float) + (6 * EX_EVENTS_PER_DIM * dim + 1) * sizeof(uint32_t) + dim;
}

size_t ruv__rabitq_byte_lut_len(size_t dim)
{
    return 256 * ((dim + 7) / 8);
}


/* ---------------------------------------------------------------- factors */

/* Sums that determine a vector's factors (double: they cancel in f_add). */
struct sums {
    double rr; /* |r|^2 */
    double yr; /* <y, r> */
    double yy; /* |y|^2 */
    double yc; /* <y, c> */
    double rc; /* <r, c> */
};

static void factors_degenerate(const struct sums *s, enum ruv__rabitq_metric metric,
                               struct ruv__rabitq_factors *f)
{
    double nr = sqrt(s->rr);
    f->f_rescale = 0.0f;
    if (metric == RUV__RABITQ_IP) {
        f->f_add = (float)-s->rc;
        f->f_error = (float)nr;
    } else {
        f->f_add = (float)s->rr;
        f->f_error = (float)(2.0 * nr);
    }
}

static void factors_finish(const struct sums *s, size_t dim, enum ruv__rabitq_metric metric,
                           float eps0, struct ruv__rabitq_factors *f)
{
    if (s->rr == 0.0) { /* o == c: est must reduce to g_add exactly */
        f->f_add = 0.0f;
        f->f_rescale = 0.0f;
        f->f_error = 0.0f;
        return;
    }
    if (!(s->yr > 0.0) || !(s->yy > 0.0)) {
        factors_degenerate(s, metric, f);
        return;
    }
    const double half = metric == RUV__RABITQ_IP ? 0.5 : 1.0;
    const double nr = sqrt(s->rr);
    const double rescale = -2.0 * half * s->rr / s->yr;
    const double add = (metric == RUV__RABITQ_IP ? -s->rc : s->rr) - rescale * s->yc;
    /* rho = <o_bar, o>; rounding can push it a hair above 1. */
    double rho = s->yr / (sqrt(s->yy) * nr);
    double one_m = 1.0 - rho * rho;
    if (one_m < 0.0)
        one_m = 0.0;
    const double dm1 = dim > 1 ? (double)(dim - 1) : 1.0;
    const double err = 2.0 * half * nr * sqrt(one_m) / rho * (double)eps0 / sqrt(dm1);
    f->f_add = (float)add;
    f->f_rescale = (float)rescale;
    f->f_error = (float)err;
    if (!isfinite(f->f_add) || !isfinite(f->f_rescale) || !isfinite(f->f_error))
        factors_degenerate(s, metric, f);
}

static double residual(const float *o, const float *c, size_t i)
{
    return c ? (double)o[i] - (double)c[i] : (double)o[i];
}

/* 1-bit code and the sums for y = b - 1/2 (<y, r> = sum|r_i| / 2, |y|^2 = dim/4). */
/* Branch-free: the sign of +-c_i / 2 is set by xor (negation is exact, so
 * the sums are those of the plain ternary), and the sums live in locals.
 * With a branch on each residual's sign this was ~14 % of a 1-bit IVF
 * build's CPU time at n = 1M. */
static void encode_bits(const float *o, const float *c, size_t dim, uint64_t *code, struct sums *s)
{
    size_t words = ruv__rabitq_words(dim);
    memset(code, 0, words * sizeof(*code));
    memset(s, 0, sizeof(*s));
    double rr = 0.0, sabs = 0.0, yc = 0.0, rc = 0.0;
    uint64_t word = 0; /* the code word being filled, kept out of memory */
    for (size_t i = 0; i < dim; i++) {
        double r = residual(o, c, i);
        double ci = c ? (double)c[i] : 0.0;
        uint64_t bit = r > 0.0;
        word |= bit << (i % 64);
        if (i % 64 == 63) {
            code[i / 64] = word;
            word = 0;
        }
        rr += r * r;
        sabs += fabs(r);
        double h = 0.5 * ci;
        uint64_t hb;
        memcpy(&hb, &h, sizeof hb);
        hb ^= (bit ^ 1u) << 63; /* bit ? c_i / 2 : -c_i / 2 */
        memcpy(&h, &hb, sizeof h);
        yc += h;
        rc += r * ci;
    }
    if (dim % 64)
        code[dim / 64] = word;
    s->rr = rr;
    s->yr = 0.5 * sabs;
    s->yy = 0.25 * (double)dim;
    s->yc = yc;
    s->rc = rc;
}

void ruv__rabitq_encode(const float *o, const float *c, size_t dim, enum ruv__rabitq_metric metric,
                        float eps0, uint64_t *code, struct ruv__rabitq_factors *f)
{
    struct sums s;
    encode_bits(o, c, dim, code, &s);
    factors_finish(&s, dim, metric, eps0, f);
}

/* ------------------------------------------------- extended RaBitQ (§2.5) */

/* Min-heap of critical points (t, coordinate) in two parallel arrays. */
struct heap {
    float *t;
    uint32_t *i;
    size_t n;
};

static void heap_sift_down(struct heap *h, size_t p)
{
    float t = h->t[p];
    uint32_t idx = h->i[p];
    for (;;) {
        size_t l = 2 * p + 1;
        if (l >= h->n)
            break;
        size_t m = (l + 1 < h->n && h->t[l + 1] < h->t[l]) ? l + 1 : l;
        if (!(h->t[m] < t))
            break;
        h->t[p] = h->t[m];
        h->i[p] = h->i[m];
        p = m;
    }
    h->t[p] = t;
    h->i[p] = idx;
}

static void heap_build(struct heap *h)
{
    for (size_t p = h->n / 2; p-- > 0;)
        heap_sift_down(h, p);
}

static unsigned ex_level(float t, float x, unsigned mask)
{
    /* +1e-5 so that t exactly at a critical point (k+1)/x lands on k+1.
     * t, x >= 0, so truncation is floor: without SSE4.1, floor() is a libm
     * call, and it was most of the extended codes' encoding time. */
    double v = (double)t * (double)x + 1e-5;
    return v >= (double)mask ? mask : (unsigned)v;
}

/* Fractions of t_end where the sweep starts, indexed by ex bits (§2.5). */
static const float sweep_start[RUV__RABITQ_MAX_BITS] = {0.0f,  0.15f, 0.20f, 0.52f,
                                                        0.59f, 0.71f, 0.75f, 0.77f};

/* The window [t0, t_end] of the sweep for t (§2.5): t_end = (2^ex - 1 + 10)
 * / max x, t0 = sweep_start * t_end. 0 when no coordinate is positive (any
 * t then gives the same code). */
static int sweep_window(const float *x, size_t dim, unsigned ex_bits, float *t0, float *t_end)
{
    float xmax = 0.0f;
    for (size_t i = 0; i < dim; i++)
        if (x[i] > xmax)
            xmax = x[i];
    if (!(xmax > 0.0f))
        return 0;
    *t_end = (float)(((1u << ex_bits) - 1u) + 10u) / xmax;
    *t0 = sweep_start[ex_bits] * *t_end;
    return 1;
}

/* The t maximising <o_bar, o> ~ sum (ex_i + 1/2) x_i / sqrt(sum (ex_i + 1/2)^2)
 * over the critical points t = (k + 1) / x_i in [start * t_end, t_end],
 * t_end = (2^ex - 1 + 10) / max x (§2.5), taking them from a min-heap (one
 * entry per coordinate, its next point). lev is dim bytes of work space. */
static float best_t_heap(const float *x, size_t dim, unsigned ex_bits, uint8_t *lev, float *ht,
                         uint32_t *hi)
{
    const unsigned mask = (1u << ex_bits) - 1u;
    float t0, t_end;
    if (!sweep_window(x, dim, ex_bits, &t0, &t_end))
        return 1.0f;

    struct heap h = {ht, hi, 0};
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < dim; i++) {
        unsigned e = ex_level(t0, x[i], mask);
        lev[i] = (uint8_t)e;
        num += (e + 0.5) * (double)x[i];
        den += (e + 0.5) * (e + 0.5);
        if (e < mask && x[i] > 0.0f) {
            h.t[h.n] = (float)(e + 1u) / x[i];
            h.i[h.n] = (uint32_t)i;
            h.n++;
        }
    }
    heap_build(&h);
    double best = num / sqrt(den);
    float tbest = t0;
    while (h.n > 0 && h.t[0] <= t_end) {
        float t = h.t[0];
        uint32_t i = h.i[0];
        unsigned e = ++lev[i];
        num += (double)x[i];
        den += 2.0 * e; /* (e + 1/2)^2 - (e - 1/2)^2 */
        double v = num / sqrt(den);
        if (v > best) {
            best = v;
            tbest = t;
        }
        if (e < mask) {
            h.t[0] = (float)(e + 1u) / x[i];
        } else {
            h.n--;
            h.t[0] = h.t[h.n];
            h.i[0] = h.i[h.n];
        }
        heap_sift_down(&h, 0);
    }
    return tbest;
}

struct ex_scratch {
    float *x;
    uint32_t *key, *val;   /* critical points: t's bits, coordinate */
    uint32_t *key2, *val2; /* the same, sorted */
    uint32_t *bkt;         /* bucket of each point */
    uint32_t *cnt;         /* bucket starts (cap + 1) */
    size_t cap;            /* critical points that fit */
    uint8_t *lev;
};

static struct ex_scratch carve(void *scratch, size_t dim)
{
    struct ex_scratch s;
    s.cap = EX_EVENTS_PER_DIM * dim;
    s.x = scratch;
    s.key = (uint32_t *)(void *)(s.x + dim);
    s.val = s.key + s.cap;
    s.key2 = s.val + s.cap;
    s.val2 = s.key2 + s.cap;
    s.bkt = s.val2 + s.cap;
    s.cnt = s.bkt + s.cap;
    s.lev = (uint8_t *)(void *)(s.cnt + s.cap + 1);
    return s;
}

/* Stable sort of n critical points by t, all in [t0, t_end], into
 * key2/val2: a counting sort into n buckets by (t - t0) * n / (t_end - t0),
 * which is monotone in t, then an insertion sort that only meets the few
 * points sharing a bucket. Positive floats order as their bits do. */
static void sort_points(const struct ex_scratch *w, size_t n, float t0, float t_end)
{
    const float scale = (float)n / (t_end - t0);
    uint32_t *cnt = w->cnt;
    memset(cnt, 0, (n + 1) * sizeof *cnt);
    for (size_t i = 0; i < n; i++) {
        float t;
        memcpy(&t, &w->key[i], sizeof t);
        float f = (t - t0) * scale;
        uint32_t b = f >= (float)(n - 1) ? (uint32_t)(n - 1) : f > 0.0f ? (uint32_t)f : 0u;
        w->bkt[i] = b;
        cnt[b + 1]++;
    }
    for (size_t b = 0; b < n; b++)
        cnt[b + 1] += cnt[b];
    for (size_t i = 0; i < n; i++) {
        uint32_t p = cnt[w->bkt[i]]++;
        w->key2[p] = w->key[i];
        w->val2[p] = w->val[i];
    }
    for (size_t i = 1; i < n; i++) {
        uint32_t k = w->key2[i], v = w->val2[i];
        size_t j = i;
        for (; j > 0 && w->key2[j - 1] > k; j--) {
            w->key2[j] = w->key2[j - 1];
            w->val2[j] = w->val2[j - 1];
        }
        w->key2[j] = k;
        w->val2[j] = v;
    }
}

/* The same sweep (best_t_heap) over the same points, listed and sorted
 * first: on 128-d rotated Gaussian data 2x faster at 4 bits (13 -> 6.6 us a
 * vector), where the heap's sift-downs were ~80 % of a 4-bit IVF
 * encoding. Points with equal t come in coordinate order (the heap's order
 * among them was its own); the chosen t was the heap's on all of 20,000
 * such vectors at 2-8 bits. More than cap points (B >= 6 bits, skewed
 * data): the heap instead. */
static float best_t(const float *x, size_t dim, unsigned ex_bits, const struct ex_scratch *w)
{
    const unsigned mask = (1u << ex_bits) - 1u;
    float t0, t_end;
    if (!sweep_window(x, dim, ex_bits, &t0, &t_end))
        return 1.0f;

    double num = 0.0, den = 0.0;
    size_t n = 0;
    for (size_t i = 0; i < dim; i++) {
        unsigned e = ex_level(t0, x[i], mask);
        w->lev[i] = (uint8_t)e;
        num += (e + 0.5) * (double)x[i];
        den += (e + 0.5) * (e + 0.5);
        for (unsigned k = e + 1; k <= mask && x[i] > 0.0f; k++) {
            float t = (float)k / x[i];
            if (!(t <= t_end))
                break;
            if (n == w->cap)
                return best_t_heap(x, dim, ex_bits, w->lev, (float *)(void *)w->key, w->val);
            memcpy(&w->key[n], &t, sizeof t);
            w->val[n++] = (uint32_t)i;
        }
    }
    double best = num / sqrt(den);
    float tbest = t0;
    if (n == 0)
        return tbest;
    sort_points(w, n, t0, t_end);
    for (size_t j = 0; j < n; j++) {
        uint32_t i = w->val2[j];
        unsigned e = ++w->lev[i];
        num += (double)x[i];
        den += 2.0 * e; /* (e + 1/2)^2 - (e - 1/2)^2 */
        double v = num / sqrt(den);
        if (v > best) {
            best = v;
            memcpy(&tbest, &w->key2[j], sizeof tbest);
        }
    }
    return tbest;
}

int ruv__rabitq_encode_ex(const float *o, const float *c, size_t dim, unsigned bits,
                          enum ruv__rabitq_metric metric, float eps0, float t_const, void *scratch,
                          uint64_t *code, uint8_t *ex, struct ruv__rabitq_factors *f1,
                          struct ruv__rabitq_factors *fex)
{
    if (bits < 2 || bits > RUV__RABITQ_MAX_BITS)
        return RUV_E_INVAL;
    const unsigned ex_bits = bits - 1, mask = (1u << ex_bits) - 1u;
    struct sums s1;
    encode_bits(o, c, dim, code, &s1);
    if (s1.rr == 0.0) {
        static const struct ruv__rabitq_factors zero = {0.0f, 0.0f, 0.0f};
        memset(ex, 0, dim);
        if (f1)
            *f1 = zero;
        *fex = zero;
        return RUV_OK;
    }
    if (f1)
        factors_finish(&s1, dim, metric, eps0, f1);

    struct ex_scratch w = carve(scratch, dim);
    const double inv = 1.0 / sqrt(s1.rr);
    for (size_t i = 0; i < dim; i++)
        w.x[i] = (float)(fabs(residual(o, c, i)) * inv);
    float t = t_const > 0.0f ? t_const : best_t(w.x, dim, ex_bits, &w);

    struct sums s = s1;
    s.yr = s.yy = s.yc = 0.0;
    /* Selects, not branches (the residuals' signs are random): negating
     * mag by its sign bit is exact, and mask - e == mask ^ e. */
    for (size_t i = 0; i < dim; i++) {
        unsigned e = ex_level(t, w.x[i], mask);
        double r = residual(o, c, i);
        double mag = e + 0.5;
        const unsigned neg = !(r > 0.0);
        /* negative coordinates store ~e so that u + c_B = -(e + 1/2) */
        ex[i] = (uint8_t)(e ^ (mask & (0u - neg)));
        uint64_t mb;
        memcpy(&mb, &mag, sizeof mb);
        mb ^= (uint64_t)neg << 63;
        double smag;
        memcpy(&smag, &mb, sizeof smag);
        s.yr += mag * fabs(r);
        s.yy += mag * mag;
        s.yc += smag * (c ? (double)c[i] : 0.0);
    }
    factors_finish(&s, dim, metric, eps0, fex);
    return RUV_OK;
}

/* Standard normal from two splitmix64 draws (Box-Muller, one output used). */
static double gauss(uint64_t *state)
{
    const double two53 = 9007199254740992.0;
    double u1 = ((double)(ruv__splitmix64(state) >> 11) + 0.5) / two53;
    double u2 = ((double)(ruv__splitmix64(state) >> 11) + 0.5) / two53;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* ruv__rabitq_ex_const_t's answers, one slot per (dim, bits) hash: the
 * 100 seeded searches cost ~6 ms at D = 1,024 (1 % of a planned build),
 * for a value that only depends on the two. A slot holds the key in its
 * high half and the float's bits in its low half, written whole, so a
 * reader sees either nothing or a complete answer; two threads computing
 * the same key store the same value. */
#define EX_T_SLOTS 16u
static _Atomic uint64_t ex_t_cache[EX_T_SLOTS];

static float ex_const_t_search(size_t dim, unsigned bits, void *scratch);

float ruv__rabitq_ex_const_t(size_t dim, unsigned bits, void *scratch)
{
    if (bits < 2 || bits > RUV__RABITQ_MAX_BITS || dim == 0)
        return 0.0f;
    if (dim >= (size_t)1 << 28) /* no key for it: not cached */
        return ex_const_t_search(dim, bits, scratch);
    const uint64_t key = (uint64_t)dim << 4 | bits; /* never 0: bits >= 2 */
    _Atomic uint64_t *slot = &ex_t_cache[(dim * 31u + bits) % EX_T_SLOTS];
    uint64_t v = atomic_load_explicit(slot, memory_order_relaxed);
    float t;
    if (v >> 32 == key) {
        uint32_t tb = (uint32_t)v;
        memcpy(&t, &tb, sizeof t);
        return t;
    }
    t = ex_const_t_search(dim, bits, scratch);
    uint32_t tb;
    memcpy(&tb, &t, sizeof tb);
    atomic_store_explicit(slot, key << 32 | tb, memory_order_relaxed);
    return t;
}

static float ex_const_t_search(size_t dim, unsigned bits, void *scratch)
{
    const unsigned ex_bits = bits - 1;
    const int trials = 100;
    struct ex_scratch w = carve(scratch, dim);
    uint64_t state = 42;
    double sum = 0.0;
    for (int k = 0; k < trials; k++) {
        double nn = 0.0;
        for (size_t i = 0; i < dim; i++) {
            double g = gauss(&state);
            w.x[i] = (float)g;
            nn += g * g;
        }
        double inv = nn > 0.0 ? 1.0 / sqrt(nn) : 0.0;
        for (size_t i = 0; i < dim; i++)
            w.x[i] = (float)fabs((double)w.x[i] * inv);
        sum += best_t(w.x, dim, ex_bits, &w);
    }
    return (float)(sum / trials);
}

float ruv__rabitq_ex_dot(const uint8_t *ex, const float *q, size_t dim)
{
    float s = 0.0f;
    for (size_t i = 0; i < dim; i++)
        s += (float)ex[i] * q[i];
    return s;
}
