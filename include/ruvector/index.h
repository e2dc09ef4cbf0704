/* ruvector/index.h — vector indexes: exact flat search and RaBitQ.
 *
 * Types (names from ruvector's SDK plan):
 *   FLAT_F32     exact search over the stored float32 vectors.
 *   RABITQ       RaBitQ codes only (no originals): the paper's asymmetric,
 *                unbiased estimator; 1-bit codes by default, 2..8 bits
 *                (Extended RaBitQ) as an option.
 *   RABITQ_PLUS  codes + originals: candidates re-ranked exactly, driven by
 *                the estimator's error bound (rerank_factor caps it).
 *   RABITQ_ASYM  the same codes searched with the unquantised f32 query.
 * Optional IVF (nlist > 0): k-means centroids, residual codes, nprobe.
 *
 * Scores: results come best first. score is the squared L2 distance for
 * RUV_METRIC_L2 (ascending), the inner product for RUV_METRIC_IP and the
 * cosine similarity for RUV_METRIC_COSINE (both descending).
 *
 * Threads: an index borrows the engine's kernel table and thread count; the
 * engine must outlive it. Searches and saves only read the index (they take
 * it const and keep no scratch in it), so they may run concurrently with
 * each other; add/remove must not run concurrently with anything else on the
 * same index (a reader-writer contract, like std::shared_mutex).
 */
#ifndef RUVECTOR_INDEX_H
#define RUVECTOR_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include <ruvector/engine.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ruv_index ruv_index;

typedef enum ruv_index_type {
    RUV_INDEX_FLAT_F32 = 1,
    RUV_INDEX_RABITQ = 2,
    RUV_INDEX_RABITQ_PLUS = 3,
    RUV_INDEX_RABITQ_ASYM = 4
} ruv_index_type;

typedef enum ruv_metric { RUV_METRIC_L2 = 1, RUV_METRIC_IP = 2, RUV_METRIC_COSINE = 3 } ruv_metric;

/* "flat_f32", "rabitq", "rabitq_plus", "rabitq_asym" / "l2", "ip", "cosine";
 * NULL for unknown values. Parsers return RUV_E_INVAL naming the bad text. */
const char *ruv_index_type_name(int type);
const char *ruv_metric_name(int metric);
int ruv_index_type_parse(const char *text, int *type);
int ruv_metric_parse(const char *text, int *metric);

typedef struct ruv_index_params {
    uint32_t struct_size;   /* sizeof(ruv_index_params); set by ruv_index_params_init */
    uint32_t type;          /* ruv_index_type */
    uint32_t metric;        /* ruv_metric */
    uint32_t dim;           /* >= 1 */
    uint32_t bits;          /* RaBitQ code bits per dimension, 1..8; default RUV_INDEX_AUTO:
                               the plan's (see target_recall) */
    uint32_t nlist;         /* IVF lists; 0 = no IVF (data mean as the centroid); default
                               RUV_INDEX_AUTO: the plan's */
    uint32_t query_bits;    /* RaBitQ query quantisation: bits per FastScan table entry, 1..8 (default 8) */
    uint32_t rerank_factor; /* RABITQ_PLUS: cap on re-ranked candidates = k * factor; 0 = no cap,
                               the error bound alone decides (default 0) */
    uint32_t train_size;    /* k-means sample size; 0 = min(n, 256 * nlist,
                               max(65536, 64 * nlist)), or, when the plan chooses
                               nlist, min(n, max(4096, 64 * nlist)), 40 * nlist
                               from dim 512 on */
    uint32_t kmeans_iters;  /* k-means Lloyd iterations; 0 (the default) = the index's
                               choice: 10, or 4 when the plan chooses a RABITQ_PLUS
                               index's nlist at dim 512 and above; the build
                               reports the value it used */
    uint64_t seed;          /* rotation and k-means seed (default 42) */
    float epsilon;          /* error-bound multiplier epsilon0 (default 2.6: ~99% of pairs
                               inside the bound; the paper's 1.9 covers ~94%) */
    uint32_t reserved;
    /* ---- the plan (docs/indexes.md, "Defaults: a recall target") ---- */
    float target_recall;    /* recall@10 the build plans and calibrates for, in (0, 1]
                               (default 0.95). bits and nlist left at RUV_INDEX_AUTO are
                               chosen from n, dim and the type; with IVF and nprobe 0 the
                               build measures itself and stores the smallest nprobe that
                               reaches it. 0 = no plan: AUTO means bits 1, nlist 0 and
                               the fixed nprobe rule (the behaviour before plans) */
    uint32_t nprobe;        /* IVF lists a default search starts from; 0 = calibrated by the build
                               (target_recall > 0), else the fixed rule of
                               ruv_search_params.nprobe */
    /* Set by ruv_index_build (ignored on input): */
    float calibrated_recall;       /* recall@10 measured on calibration_queries of the
                                      index's own rows at the default nprobe; 0 = not measured */
    uint32_t calibration_queries;  /* rows used as queries (each excluded from its own answer) */
    uint32_t planned;              /* RUV_PLANNED_* bits: which values the plan chose */
    float calibrated_lower;        /* one-sided 95 % lower confidence bound of
                                      calibrated_recall (mean less 1.645 standard errors
                                      of the per-query recalls, at least 0): the value
                                      compared with target_recall (nprobe, the fewest bits,
                                      "NOT reached"); 0 = not stored (not measured, or a
                                      file from before the bound, which compares the mean) */
} ruv_index_params;

/* bits and nlist: "the build chooses" (ruv_index_params.target_recall). */
#define RUV_INDEX_AUTO UINT32_MAX
/* ruv_index_params.planned */
#define RUV_PLANNED_BITS 1u   /* bits chosen by the plan */
#define RUV_PLANNED_NLIST 2u  /* nlist chosen by the plan */
#define RUV_PLANNED_NPROBE 4u /* nprobe calibrated at build */
#define RUV_PLANNED_EXACT 8u  /* rabitq_plus, small n: searches scan the originals exactly */

/* Fills defaults for a type, metric and dimension: target_recall 0.95, bits
 * and nlist RUV_INDEX_AUTO (the plan chooses), the rest as documented per
 * field. */
int ruv_index_params_init(ruv_index_params *p, int type, int metric, uint32_t dim);

/* Empty index (no IVF training possible later: nlist must be 0 or
 * RUV_INDEX_AUTO, which gives 0; bits RUV_INDEX_AUTO gives the plan's). */
int ruv_index_new(ruv_engine *eng, const ruv_index_params *p, ruv_index **out);

/* Builds from n row-major float32 vectors (n * dim floats). ids may be NULL
 * (ids 0..n-1). Trains IVF centroids when nlist > 0. Multi-threaded. Rejects
 * NaN/Inf naming the row, and duplicate ids. */
int ruv_index_build(ruv_engine *eng, const ruv_index_params *p, const float *data, size_t n,
                    const uint64_t *ids, ruv_index **out);

/* Adds n vectors with caller ids (ids required). Atomic: on any error nothing
 * is added. RUV_E_INVAL for an id already present. */
int ruv_index_add(ruv_index *idx, const float *data, size_t n, const uint64_t *ids);

/* Removes the ids present; *removed (may be NULL) counts them. Unknown ids
 * are not an error. */
int ruv_index_remove(ruv_index *idx, const uint64_t *ids, size_t n, size_t *removed);

typedef struct ruv_search_params {
    uint32_t struct_size;   /* set by ruv_search_params_init */
    uint32_t k;             /* >= 1; more than len() returns len() results */
    uint32_t nprobe;        /* IVF lists to scan; 0 = default: with a plan, the calibrated
                               nprobe, then on while an unprobed list may still hold a
                               nearer vector than the k-th (adaptive probing, for queries
                               unlike the data); without one, all lists when nlist <= 16,
                               else max(1, nlist / 16) */
    int32_t rerank_factor;  /* RABITQ_PLUS: < 0 = index default; 0 = error bound alone */
    const uint64_t *allow;  /* optional allow-list of ids (NULL = all) */
    size_t nallow;
    float recall;           /* > 0 and nprobe 0: the smallest measured nprobe whose
                               calibrated recall@10 reaches this (all lists when none
                               does); 0 = the index's default nprobe. Monotone: asking
                               for more never probes fewer lists */
} ruv_search_params;

int ruv_search_params_init(ruv_search_params *sp, uint32_t k);

/* One query (dim floats). Writes up to k results, best first, to ids/scores
 * (arrays of k) and their number to *nfound. RUV_E_EMPTY on an empty index,
 * RUV_E_INVAL for k < 1 or a NaN/Inf query. The search's scratch memory
 * is kept per calling thread for the next search (any index): it is freed
 * when the thread exits, after 256 searches in a row that needed at most a
 * quarter of it, and never kept above 64 MiB. */
int ruv_index_search(const ruv_index *idx, const float *query, const ruv_search_params *sp,
                     uint64_t *ids, float *scores, size_t *nfound);

/* nq queries, parallel over the engine's threads. Row q of ids/scores (k
 * entries each) holds query q's results; nfound[q] their number (ids use all
 * 64 bits, so only nfound tells a result from padding); unused slots are id
 * UINT64_MAX, score NaN. RUV_E_NOMEM, before anything is written, when
 * nq * k * 12 bytes exceed the machine's physical memory. */
int ruv_index_search_batch(const ruv_index *idx, const float *queries, size_t nq,
                           const ruv_search_params *sp, uint64_t *ids, float *scores,
                           size_t *nfound);

/* RUV_E_DIM with "dimension mismatch: index has D, <what> has GOT" when
 * got != dim: hosts holding shaped input (CLI files, NumPy arrays) call this
 * before passing raw pointers. */
int ruv_index_check_dim(const ruv_index *idx, size_t got, const char *what);

size_t ruv_index_len(const ruv_index *idx);
uint32_t ruv_index_dim(const ruv_index *idx);
/* Bytes the index holds in memory (codes, factors, originals, ids, maps). */
size_t ruv_index_memory_bytes(const ruv_index *idx);
const ruv_index_params *ruv_index_params_get(const ruv_index *idx);
/* One line saying what the build chose and why (plan rule, calibration
 * result), e.g. "nlist 316 (planned: n >= 20000), bits 4 (planned), nprobe 9
 * (calibrated: recall@10 0.953 >= 0.95 on 200 own rows)". Writes at most len
 * bytes including the NUL (truncating); returns the length it needed. */
size_t ruv_index_describe_plan(const ruv_index *idx, char *buf, size_t len);
/* The build's calibration curve, what search(..., recall=R) reads: for
 * each measured nprobe (rising), the sample's recall@10 (mean, made
 * non-decreasing) and its one-sided 95 % lower confidence bound (the value
 * a recall target is compared with), or -1 where the plan stores no bounds
 * (a file from before them: its searches compare the means). Copies at
 * most cap points into the caller's arrays (any may be NULL when cap is
 * 0); returns how many the index has (0: no curve: no IVF calibration). */
size_t ruv_index_calibration_curve(const ruv_index *idx, uint32_t *nprobe, float *recall,
                                   float *lower, size_t cap);
/* How a search with no explicit nprobe picks the IVF lists it scans, in one
 * line: "adaptive: starts at the calibrated floor nprobe N of M lists, then
 * ..." (the bound, the list radii it uses, the reach and the stop rule),
 * "fixed: nprobe N of M lists (why)", or "none: ..." for a scan of
 * everything. Writes at most len bytes including the NUL (truncating);
 * returns the length it needed. */
size_t ruv_index_describe_probing(const ruv_index *idx, char *buf, size_t len);

/* Codes-only types (RUV_INDEX_RABITQ, RUV_INDEX_RABITQ_ASYM) with a recall
 * target and bits left to the plan (RUV_INDEX_AUTO): builds with the fewest
 * bits (1..8) whose build-time calibration reaches p->target_recall, and
 * returns that index in *out (the caller frees it; params.bits says which,
 * with RUV_PLANNED_BITS set). It builds 8 bits first, then bisects: up to
 * four builds. RUV_E_UNSUPPORTED when even 8 bits fall short, with a detail
 * naming the target and the best recall measured ("codes alone cannot
 * reach ..."); RUV_E_INVAL for another type, no target, explicit bits or
 * fewer than 2 vectors; else as ruv_index_build. */
int ruv_index_build_fewest_bits(ruv_engine *eng, const ruv_index_params *p, const float *data,
                                size_t n, const uint64_t *ids, ruv_index **out);

/* Copies the stored vector of id into out (dim floats). RUV_E_UNSUPPORTED
 * for RABITQ (codes only); RUV_E_NOTFOUND for an unknown id. For COSINE the
 * stored vector is the normalised one. */
int ruv_index_get(const ruv_index *idx, uint64_t id, float *out);
/* Row-major view of all stored vectors in row order (n * dim floats) and the
 * matching ids; borrowed until the next add/remove/free. RUV_E_UNSUPPORTED
 * for RABITQ. */
int ruv_index_vectors(const ruv_index *idx, const float **vectors, const uint64_t **ids);

/* Atomic save: temporary file in the same directory, fsync, rename, fsync
 * of the directory. */
int ruv_index_save(const ruv_index *idx, const char *path);
/* Loads and validates (magic, version, sizes, checksum of every section);
 * nothing half-loaded on error (RUV_E_CORRUPT names the path and what failed).
 * A non-regular path (FIFO, directory, device) is refused at once (RUV_E_IO)
 * without waiting on it. The whole file is read into memory: the loaded
 * index does not depend on the file afterwards, which may be truncated,
 * rewritten or deleted (docs/file-format.md, "Loading and replacing"). */
int ruv_index_load(ruv_engine *eng, const char *path, ruv_index **out);
/* ruv_index_load with flags. 0 and RUV_INDEX_LOAD_POPULATE read the whole
 * file into memory (what ruv_index_load does). RUV_INDEX_LOAD_MMAP maps it
 * instead (pages are read on demand and shared with the page cache): the
 * file stays open, and every search, get, add, remove and save first checks
 * that its size and mtime are unchanged, returning RUV_E_IO if the file was
 * truncated or rewritten in place (load it again). Replacing the file by
 * rename is safe with either mode. A truncation racing with a running search
 * of a mapped index can still raise SIGBUS: map only files nobody rewrites
 * in place. The two flags exclude each other (RUV_E_INVAL).
 * RUV_INDEX_LOAD_POPULATE also faults in the calling thread's search scratch
 * for a k = 10 search of this index (kept per thread, see ruv_index_search),
 * so a first search on that thread costs what later ones do. */
#define RUV_INDEX_LOAD_POPULATE 1u
#define RUV_INDEX_LOAD_MMAP 2u
int ruv_index_load_ex(ruv_engine *eng, const char *path, unsigned flags, ruv_index **out);

/* Bytes an index of n vectors with these params will hold in memory once
 * built (the accounting of ruv_index_memory_bytes, with ids in a table),
 * computed without building it. */
int ruv_index_estimate_bytes(ruv_engine *eng, const ruv_index_params *p, uint64_t n,
                             uint64_t *bytes);

/* Indexes are reference counted: build, new and load return one reference;
 * retain adds one and returns idx; free drops one and frees the index with
 * the last. Not a license to modify an index from two threads at once. */
ruv_index *ruv_index_retain(ruv_index *idx);
void ruv_index_free(ruv_index *idx);

#ifdef __cplusplus
}
#endif
#endif
