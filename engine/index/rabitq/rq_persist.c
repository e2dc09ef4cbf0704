/* RaBitQ index persistence: centroids and every list, concatenated in list
 * order, in the sections docs/file-format.md lists. */
#include "config.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/error.h>
#include <ruvector/index.h>

#include "base/error.h"
#include "index/common.h"
#include "index/rabitq/rabitq.h"
#include "index/rabitq/rq.h"
#include "store/persist.h"

/* ---- persistence: centroids and every list, concatenated in list order ---- */

/* Format 1 files keep plain 1-bit codes (CODE), their popcounts (POPC) and
 * the ex bits alone (EXCD); memory keeps FastScan blocks and whole B-bit
 * codes. Each exporter writes list l's n entries of one section to out. */
typedef void (*list_export_fn)(const struct ruv_index *idx, const struct rq_list *l,
                               uint8_t *out);

static void export_codes(const struct ruv_index *idx, const struct rq_list *l, uint8_t *out)
{
    const struct rq *r = idx->impl;
    for (size_t j = 0; j < l->n; j++) {
        uint64_t code[MAX_WORDS];
        ruv__rq_lane_get(r, l, j, code);
        memcpy(out + j * r->words * sizeof(uint64_t), code, r->words * sizeof(uint64_t));
    }
}

static void export_popcounts(const struct ruv_index *idx, const struct rq_list *l, uint8_t *out)
{
    const struct rq *r = idx->impl;
    for (size_t j = 0; j < l->n; j++) {
        uint64_t code[MAX_WORDS];
        ruv__rq_lane_get(r, l, j, code);
        uint32_t pc = (uint32_t)idx->k->popcnt_u64(code, r->words);
        memcpy(out + j * sizeof pc, &pc, sizeof pc);
    }
}

static void export_ex(const struct ruv_index *idx, const struct rq_list *l, uint8_t *out)
{
    const uint8_t mask = (uint8_t)((1u << (idx->p.bits - 1)) - 1u); /* drop the sign bit */
    const struct rq *r = idx->impl;
    if (ruv__rq_packed(&idx->p)) { /* two dimensions a byte (rq.h) */
        const size_t blocks = l->n * r->dim_pad / 32;
        for (size_t b = 0; b < blocks; b++)
            for (size_t j = 0; j < 16; j++) {
                const uint8_t v = l->ucode[b * 16 + j];
                out[b * 32 + j] = (uint8_t)(v & 0x0fu) & mask;
                out[b * 32 + 16 + j] = (uint8_t)(v >> 4) & mask;
            }
        return;
    }
    const size_t len = l->n * ruv__rq_ex_bytes(r);
    for (size_t b = 0; b < len; b++)
        out[b] = l->ucode[b] & mask;
}

/* One section of per_vector bytes per vector, every list in order, each list
 * converted by fn into a buffer sized for the longest. */
static int save_lists(const struct ruv_index *idx, struct ruv__writer *w, const char *tag,
                      size_t per_vector, list_export_fn fn)
{
    const struct rq *r = idx->impl;
    uint8_t *buf = malloc((r->max_list + 1) * per_vector);
    if (!buf)
        return ruv__set_error(RUV_E_NOMEM, "out of memory");
    int rc = ruv__writer_section_begin(w, tag);
    for (uint32_t i = 0; !rc && i < r->nlist; i++) {
        fn(idx, &r->lists[i], buf);
        rc = ruv__writer_section_append(w, buf, r->lists[i].n * per_vector);
    }
    if (!rc)
        rc = ruv__writer_section_end(w);
    free(buf);
    return rc;
}

static int save_radii(const struct rq *r, struct ruv__writer *w)
{
    float *rad = malloc(r->nlist * sizeof *rad);
    if (!rad)
        return ruv__set_error(RUV_E_NOMEM, "out of memory");
    for (uint32_t i = 0; i < r->nlist; i++)
        rad[i] = r->lists[i].radius;
    int rc = ruv__writer_section(w, "LRAD", rad, r->nlist * sizeof *rad);
    free(rad);
    return rc;
}

int ruv__rq_save(const struct ruv_index *idx, struct ruv__writer *w)
{
    const struct rq *r = idx->impl;
    int rc = ruv__writer_section(w, "CENT", r->centroids,
                                 (size_t)r->nlist * idx->p.dim * sizeof(float));
    if (!rc && r->origin) {
        rc = ruv__writer_section(w, "ORIG", r->origin, idx->p.dim * sizeof(float));
    } else if (!rc && r->metric == RUV__RABITQ_L2) {
        /* Loaded from a version 1 file: its codes are relative to 0, which
         * an all-zero ORIG says exactly (x - 0 == x), as version 2 requires. */
        float *zero = calloc(idx->p.dim ? idx->p.dim : 1, sizeof *zero);
        rc = zero ? ruv__writer_section(w, "ORIG", zero, idx->p.dim * sizeof(float))
                  : ruv__set_error(RUV_E_NOMEM, "out of memory");
        free(zero);
    }
    if (rc)
        return rc;
    uint64_t *sizes = malloc(r->nlist * sizeof *sizes);
    if (!sizes)
        return ruv__set_error(RUV_E_NOMEM, "out of memory");
    for (uint32_t i = 0; i < r->nlist; i++)
        sizes[i] = r->lists[i].n;
    rc = ruv__writer_section(w, "LSIZ", sizes, r->nlist * sizeof *sizes);
    free(sizes);
    if (!rc && r->radii) /* per-list radii: adaptive probing (rq_search.c) */
        rc = save_radii(r, w);
#define LIST_SECTION(tag, field, elem)                                                       \
    if (!rc) {                                                                               \
        rc = ruv__writer_section_begin(w, tag);                                              \
        for (uint32_t i = 0; !rc && i < r->nlist; i++)                                       \
            rc = ruv__writer_section_append(w, r->lists[i].field, r->lists[i].n * (elem));    \
        if (!rc)                                                                             \
            rc = ruv__writer_section_end(w);                                                 \
    }
    LIST_SECTION("LROW", rows, sizeof(uint32_t))
    if (!rc)
        rc = save_lists(idx, w, "CODE", r->words * sizeof(uint64_t), export_codes);
    if (!rc)
        rc = save_lists(idx, w, "POPC", sizeof(uint32_t), export_popcounts);
    LIST_SECTION("FADD", f_add, sizeof(float))
    LIST_SECTION("FRSC", f_rescale, sizeof(float))
    LIST_SECTION("FERR", f_error, sizeof(float))
    if (idx->p.bits > 1) {
        if (!rc)
            rc = save_lists(idx, w, "EXCD", ruv__rq_ex_bytes(r), export_ex);
        LIST_SECTION("XADD", x_add, sizeof(float))
        LIST_SECTION("XRSC", x_rescale, sizeof(float))
        LIST_SECTION("XERR", x_error, sizeof(float))
    }
#undef LIST_SECTION
    return rc;
}

static int section_exact(const struct ruv__reader *rd, const char *tag, size_t want,
                         const void **data)
{
    size_t len = 0;
    int rc = ruv__reader_section(rd, tag, data, &len);
    if (rc)
        return rc;
    if (len != want)
        return ruv__set_error(RUV_E_CORRUPT, "section '%.4s' holds %zu bytes, expected %zu", tag,
                              len, want);
    return RUV_OK;
}

/* The encoder's invariants (rabitq.c, factors_finish): every factor finite,
 * the error bound >= 0 and the rescale <= 0. A file that breaks them would
 * give NaN, infinite or wrong-signed estimates, whatever its checksums say. */
static int check_factors(const void *add, const void *rescale, const void *error, size_t n,
                         const char *which)
{
    for (size_t i = 0; i < n; i++) {
        float a, s, e;
        memcpy(&a, (const float *)add + i, sizeof a);
        memcpy(&s, (const float *)rescale + i, sizeof s);
        memcpy(&e, (const float *)error + i, sizeof e);
        if (!isfinite(a) || !isfinite(s) || !isfinite(e))
            return ruv__set_error(RUV_E_CORRUPT, "vector %zu: %sfactors (%g, %g, %g) are not all "
                                  "finite", i, which, (double)a, (double)s, (double)e);
        if (e < 0.0f || s > 0.0f)
            return ruv__set_error(RUV_E_CORRUPT, "vector %zu: %sfactors out of range (rescale %g "
                                  "must be <= 0, error bound %g >= 0)", i, which, (double)s,
                                  (double)e);
    }
    return RUV_OK;
}

/* |r| of one vector from a (rescale, error) factor pair and |y|^2 of its
 * code (rabitq.c, factors_finish): error / -rescale = A sqrt(1 - rho^2) |y|
 * gives rho, and -rescale = 2h |r| / (rho |y|) then gives |r|. -1 when the
 * pair carries no such information (a zero or degenerate vector). */
static double norm_from_factors(float rescale, float error, double yy, double a, double h)
{
    if (!(rescale < 0.0f) || !(yy > 0.0))
        return -1.0;
    double t = (double)error / (-(double)rescale * a * sqrt(yy));
    double rho = t < 1.0 ? sqrt(1.0 - t * t) : 0.0;
    return -(double)rescale * rho * sqrt(yy) / (2.0 * h);
}

/* The 1-bit and the B-bit factors of a vector describe the same residual,
 * so the |r| each implies must agree. |y|^2 of the B-bit code depends on
 * bits (a level e is stored as e, or as 2^(bits-1) - 1 - e for a negative
 * coordinate), so a file whose META bits do not match its codes (say 3
 * edited to 8) disagrees by far more than rounding. */
static int check_ex_bits(const struct ruv_index *idx, const struct rq *r, const uint64_t *codes,
                         const uint8_t *exc, const float *frs, const float *fer, const float *xrs,
                         const float *xer, size_t n)
{
    const size_t dim = r->dim_pad;
    const unsigned mask = (1u << (idx->p.bits - 1)) - 1u;
    const double a = (double)idx->p.epsilon / sqrt(dim > 1 ? (double)(dim - 1) : 1.0);
    const double h = r->metric == RUV__RABITQ_IP ? 0.5 : 1.0;
    if (!(a > 0.0) || !isfinite(a))
        return RUV_OK;
    /* |y|^2 sums (m + 1/2)^2 over the coordinates, m the level's magnitude:
     * summed as (2m + 1)^2 in integers from a table, a quarter of it is the
     * same number the sum of doubles gave (quarter-integers below 2^51 add
     * exactly), at a fraction of the cost every open pays (a 1M x 128
     * 4-bit file: 128M coordinates; the double loop made opening 4x
     * slower). The caller refused every level above mask before. */
    uint32_t sq4[2 * 256];
    for (unsigned e = 0; e <= mask; e++) {
        sq4[e] = (2u * (mask - e) + 1u) * (2u * (mask - e) + 1u); /* negative: mask - e */
        sq4[256 + e] = (2u * e + 1u) * (2u * e + 1u);
    }
    for (size_t j = 0; j < n; j++) {
        const uint64_t *code = codes + j * r->words;
        const uint8_t *ex = exc + j * ruv__rq_ex_bytes(r);
        uint64_t s4 = 0;
        for (size_t i = 0; i < dim; i++)
            s4 += sq4[(((code[i / 64] >> (i % 64)) & 1u) << 8) | ex[i]];
        const double yy = 0.25 * (double)s4;
        float f1s, f1e, fxs, fxe;
        memcpy(&f1s, frs + j, sizeof f1s);
        memcpy(&f1e, fer + j, sizeof f1e);
        memcpy(&fxs, xrs + j, sizeof fxs);
        memcpy(&fxe, xer + j, sizeof fxe);
        double n1 = norm_from_factors(f1s, f1e, 0.25 * (double)dim, a, h);
        double nx = norm_from_factors(fxs, fxe, yy, a, h);
        if (n1 < 0.0 || nx < 0.0)
            continue;
        if (fabs(n1 - nx) > 1e-3 * fmax(n1, nx) + 1e-30)
            return ruv__set_error(RUV_E_CORRUPT,
                                  "vector %zu: its %u-bit factors and codes imply |r| = %g, its "
                                  "1-bit ones %g: META bits (%u) do not match the codes",
                                  j, idx->p.bits, nx, n1, idx->p.bits);
    }
    return RUV_OK;
}

/* LRAD: one radius per list (absent before adaptive probing: the index
 * then probes a fixed number of lists, as it did). Each must be finite and
 * >= 0; that it bounds the list's vectors is not checked (that needs the
 * originals), and a smaller one only makes a search probe fewer lists. */
static int load_radii(struct rq *r, const struct ruv__reader *rd, const float **out)
{
    *out = NULL;
    r->radii = 0;
    if (!ruv__reader_has(rd, "LRAD"))
        return RUV_OK;
    const void *v;
    int rc = section_exact(rd, "LRAD", r->nlist * sizeof(float), &v);
    if (rc)
        return rc;
    for (uint32_t i = 0; i < r->nlist; i++) {
        float x;
        memcpy(&x, (const char *)v + i * sizeof x, sizeof x);
        if (!(x >= 0.0f) || !isfinite(x))
            return ruv__set_error(RUV_E_CORRUPT, "LRAD: list %u has radius %g (must be finite "
                                  "and >= 0)", i, (double)x);
    }
    *out = v;
    r->radii = 1;
    return RUV_OK;
}

int ruv__rq_load(struct ruv_index *idx, const struct ruv__reader *rd)
{
    struct rq *r = idx->impl;
    const void *cent, *sizes_v;
    int rc = section_exact(rd, "CENT", (size_t)r->nlist * idx->p.dim * sizeof(float), &cent);
    if (!rc)
        rc = section_exact(rd, "LSIZ", r->nlist * sizeof(uint64_t), &sizes_v);
    if (rc)
        return rc;
    memcpy(r->centroids, cent, (size_t)r->nlist * idx->p.dim * sizeof(float));
    if ((rc = ruv__check_finite(r->centroids, r->nlist, idx->p.dim, "centroid")))
        return ruv__set_error(RUV_E_CORRUPT, "%s", ruv_last_error());
    if (r->metric == RUV__RABITQ_L2 && rd->version >= 2 && !ruv__reader_has(rd, "ORIG"))
        return ruv__set_error(RUV_E_CORRUPT,
                              "a version %u L2 index needs section 'ORIG' (its codes are "
                              "relative to it); only version 1 files go without",
                              rd->version);
    if (ruv__reader_has(rd, "ORIG")) { /* absent: version 1, or not L2 */
        const void *orig;
        if (r->metric != RUV__RABITQ_L2)
            return ruv__set_error(RUV_E_CORRUPT, "section 'ORIG' in a %s index",
                                  ruv_metric_name((int)idx->p.metric));
        if ((rc = section_exact(rd, "ORIG", idx->p.dim * sizeof(float), &orig)))
            return rc;
        r->origin = malloc((idx->p.dim ? idx->p.dim : 1) * sizeof *r->origin);
        if (!r->origin)
            return ruv__set_error(RUV_E_NOMEM, "out of memory");
        memcpy(r->origin, orig, idx->p.dim * sizeof(float));
        if ((rc = ruv__check_finite(r->origin, 1, idx->p.dim, "frame origin")))
            return ruv__set_error(RUV_E_CORRUPT, "%s", ruv_last_error());
    }
    if ((rc = ruv__rq_derive_centroid_tables(idx, r)))
        return rc;
    const float *radii = NULL;
    if ((rc = load_radii(r, rd, &radii)))
        return rc;
    const uint64_t *sizes = sizes_v;
    size_t total = 0;
    for (uint32_t i = 0; i < r->nlist; i++) {
        if (sizes[i] > idx->n - total)
            return ruv__set_error(RUV_E_CORRUPT, "list sizes add up to more than %zu vectors",
                                  idx->n);
        total += sizes[i];
    }
    if (total != idx->n)
        return ruv__set_error(RUV_E_CORRUPT, "list sizes add up to %zu, header says %zu", total,
                              idx->n);
    const int ex = idx->p.bits > 1;
    static const char *const ex_tags[] = {"EXCD", "XADD", "XRSC", "XERR"};
    for (size_t t = 0; !ex && t < 4; t++)
        if (ruv__reader_has(rd, ex_tags[t]))
            return ruv__set_error(RUV_E_CORRUPT,
                                  "section '%s' (B-bit codes) in a 1-bit index: META bits do not "
                                  "match the sections", ex_tags[t]);
    const void *rows, *codes, *pop, *fa, *fr, *fe, *exc = NULL, *xa = NULL, *xr = NULL, *xe = NULL;
    size_t n = idx->n;
    if ((rc = section_exact(rd, "LROW", n * sizeof(uint32_t), &rows)) ||
        (rc = section_exact(rd, "CODE", n * r->words * sizeof(uint64_t), &codes)) ||
        (rc = section_exact(rd, "POPC", n * sizeof(uint32_t), &pop)) ||
        (rc = section_exact(rd, "FADD", n * sizeof(float), &fa)) ||
        (rc = section_exact(rd, "FRSC", n * sizeof(float), &fr)) ||
        (rc = section_exact(rd, "FERR", n * sizeof(float), &fe)))
        return rc;
    if (ex && ((rc = section_exact(rd, "EXCD", n * ruv__rq_ex_bytes(r), &exc)) ||
               (rc = section_exact(rd, "XADD", n * sizeof(float), &xa)) ||
               (rc = section_exact(rd, "XRSC", n * sizeof(float), &xr)) ||
               (rc = section_exact(rd, "XERR", n * sizeof(float), &xe))))
        return rc;
    if ((rc = check_factors(fa, fr, fe, n, "")) ||
        (ex && (rc = check_factors(xa, xr, xe, n, "ex "))))
        return rc;
    if (ex) { /* each ex byte holds bits - 1 bits; more would corrupt the sign bit */
        const uint8_t *e = exc;
        const uint8_t mask = (uint8_t)((1u << (idx->p.bits - 1)) - 1u);
        uint64_t any = 0; /* OR of every byte, 8 at a time (ruv__rq_ex_bytes is a multiple of 64) */
        for (size_t i = 0; i < n * ruv__rq_ex_bytes(r); i += 8) {
            uint64_t w8;
            memcpy(&w8, e + i, 8);
            any |= w8;
        }
        any |= any >> 32;
        any |= any >> 16;
        any |= any >> 8;
        for (size_t i = 0; (any & 0xffu & ~mask) && i < n * ruv__rq_ex_bytes(r); i++)
            if (e[i] & ~mask)
                return ruv__set_error(RUV_E_CORRUPT,
                                      "ex code byte %zu is %u, out of range for %u-bit codes", i,
                                      e[i], idx->p.bits);
        if ((rc = check_ex_bits(idx, r, codes, exc, fr, fe, xr, xe, n)))
            return rc;
    }
    uint8_t *seen = calloc(n ? n : 1, 1);
    if (!seen)
        return ruv__set_error(RUV_E_NOMEM, "out of memory");
    size_t off = 0;
    for (uint32_t i = 0; i < r->nlist && !rc; i++) {
        struct rq_list *l = &r->lists[i];
        if ((rc = ruv__rq_list_reserve(idx, r, l, sizes[i])))
            break;
        for (size_t j = 0; j < sizes[i]; j++, off++) {
            uint32_t row = ((const uint32_t *)rows)[off];
            if (row >= n || seen[row]) {
                rc = ruv__set_error(RUV_E_CORRUPT, "list %u names row %u twice or out of range",
                                    i, row);
                break;
            }
            seen[row] = 1;
            const uint64_t *code = (const uint64_t *)codes + off * r->words;
            uint32_t pc;
            memcpy(&pc, (const uint32_t *)pop + off, sizeof pc);
            if (pc != idx->k->popcnt_u64(code, r->words)) {
                rc = ruv__set_error(RUV_E_CORRUPT, "list %u: code %zu does not match its popcount",
                                    i, j);
                break;
            }
            struct encoded en = {.list = i};
            en.f = (struct ruv__rabitq_factors){((const float *)fa)[off], ((const float *)fr)[off],
                                                ((const float *)fe)[off]};
            if (ex)
                en.fx = (struct ruv__rabitq_factors){((const float *)xa)[off],
                                                     ((const float *)xr)[off],
                                                     ((const float *)xe)[off]};
            ruv__rq_list_put(idx, r, l, row, code,
                     ex ? (const uint8_t *)exc + off * ruv__rq_ex_bytes(r) : NULL, &en);
        }
        if (radii) /* may be unaligned in the mapped file */
            memcpy(&l->radius, (const char *)radii + i * sizeof(float), sizeof(float));
    }
    free(seen);
    return rc;
}
