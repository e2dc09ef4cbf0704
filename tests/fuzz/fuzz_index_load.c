/* libFuzzer target for the index loader: ruv_index_load on arbitrary bytes,
 * through the public API, so every index-level check runs (META fields, ids,
 * vectors, centroids, list sizes and rows, 1-bit codes and their popcounts,
 * ex codes and their range, factors) behind the container's.
 *
 * Any input must be refused with a status and a message naming the file, or
 * load into an index that works: len, dim and memory_bytes are sane, a k = 3
 * search on a fixed query succeeds (RUV_E_EMPTY when empty), the index saves,
 * the saved file loads again and searches bit for bit the same, and saving
 * that copy gives the same bytes. Then one id is removed from the copy and
 * added back, with a search after each. Sanitizers
 * report the rest (out-of-bounds, leaks, UB); libFuzzer reports hangs and
 * allocations beyond -malloc_limit_mb.
 *
 * Built with -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION the container
 * ignores checksum mismatches, so mutations reach the index-level checks;
 * without it (fuzz_index_load_strict) the loader is as shipped.
 *
 * The loader takes a path and maps it. The input goes to a memfd opened as
 * /proc/self/fd/N (RUV_FUZZ_INPUT=file writes a file in the temporary
 * directory instead); saves go to a per-process directory under
 * RUV_FUZZ_TMPDIR, else /dev/shm, else TMPDIR, else /tmp, removed at exit.
 * Build, seeds and run: tests/fuzz/local.mk; measurements:
 * docs/file-format.md. */
#define _GNU_SOURCE
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ruvector/ruvector.h>

#include "scalar_engine.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { K = 3 };

static ruv_engine *eng;
static char dir[512];
static char in_path[600], out_path[600], out2_path[600];
static int memfd = -1;

static void die(const char *what, int rc)
{
    fprintf(stderr, "fuzz_index_load: %s: %s (%s)\n", what, ruv_status_name(rc),
            ruv_last_error());
    abort();
}

static void cleanup(void)
{
    ruv_engine_close(eng);
    eng = NULL;
    if (memfd >= 0)
        close(memfd);
    if (!dir[0])
        return;
    /* the inputs and outputs, plus any temporary file a failed save left */
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            unlinkat(dirfd(d), e->d_name, 0);
    if (d)
        closedir(d);
    rmdir(dir);
}

static int is_dir(const char *p)
{
    struct stat st;
    return p && *p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *base = getenv("RUV_FUZZ_TMPDIR");
    if (!is_dir(base))
        base = is_dir("/dev/shm") ? "/dev/shm" : getenv("TMPDIR");
    if (!is_dir(base))
        base = "/tmp";
    snprintf(dir, sizeof dir, "%s/ruv-fuzz-index-XXXXXX", base);
    if (!mkdtemp(dir)) {
        perror("fuzz_index_load: mkdtemp");
        abort();
    }
    atexit(cleanup);
    snprintf(out_path, sizeof out_path, "%s/out.ruv", dir);
    snprintf(out2_path, sizeof out2_path, "%s/out2.ruv", dir);
    const char *mode = getenv("RUV_FUZZ_INPUT");
    if (mode && !strcmp(mode, "file")) {
        snprintf(in_path, sizeof in_path, "%s/in.ruv", dir);
    } else {
        memfd = memfd_create("ruv-fuzz-input", MFD_CLOEXEC);
        if (memfd < 0) {
            perror("fuzz_index_load: memfd_create");
            abort();
        }
        snprintf(in_path, sizeof in_path, "/proc/self/fd/%d", memfd);
    }

    /* A system OpenBLAS, if the engine finds one, gets one thread too. */
    setenv("OPENBLAS_NUM_THREADS", "1", 0);
    /* no plugin search: the plugin path is an empty directory */
    int rc = fuzz_scalar_engine(dir, &eng);
    if (rc)
        die("engine open", rc);
    return 0;
}

static void put_input(const uint8_t *data, size_t size)
{
    if (memfd >= 0) {
        if (ftruncate(memfd, (off_t)size) != 0)
            abort();
        size_t off = 0;
        while (off < size) {
            ssize_t w = pwrite(memfd, data + off, size - off, (off_t)off);
            if (w <= 0)
                abort();
            off += (size_t)w;
        }
        return;
    }
    FILE *f = fopen(in_path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
        abort();
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        abort();
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
    if (n < 0 || !b || fread(b, 1, (size_t)n, f) != (size_t)n)
        abort();
    fclose(f);
    *len = (size_t)n;
    return b;
}

struct result {
    int rc;
    size_t nfound;
    uint64_t ids[K];
    float scores[K];
};

static struct result search(const ruv_index *idx, const float *q)
{
    struct result res;
    memset(&res, 0, sizeof res);
    ruv_search_params sp;
    ruv_search_params_init(&sp, K);
    res.rc = ruv_index_search(idx, q, &sp, res.ids, res.scores, &res.nfound);
    size_t n = ruv_index_len(idx);
    if (n == 0) {
        if (res.rc != RUV_E_EMPTY)
            die("search on an empty index", res.rc);
        return res;
    }
    if (res.rc != RUV_OK)
        die("search", res.rc);
    /* A flat index scans every row, and its loader (like add) takes only
     * values within +-1e16, whose squared distances stay finite: exactly
     * min(n, k). RaBitQ: at most that, since IVF probes only some lists and
     * a file's factors (any finite floats) can give estimates that overflow
     * to +Inf or NaN, which the scans drop. */
    size_t want = n < K ? n : K;
    if (res.nfound > want ||
        (ruv_index_params_get(idx)->type == RUV_INDEX_FLAT_F32 && res.nfound != want))
        abort();
    for (size_t i = 0; i < res.nfound; i++)
        for (size_t j = 0; j < i; j++)
            if (res.ids[i] == res.ids[j])
                abort(); /* one id reported twice: rows mapped twice */
    for (size_t i = res.nfound; i < K; i++)
        if (res.ids[i] != UINT64_MAX)
            abort();
    return res;
}

static void check_loaded(const ruv_index *idx)
{
    const ruv_index_params *p = ruv_index_params_get(idx);
    uint32_t dim = ruv_index_dim(idx);
    size_t n = ruv_index_len(idx);
    if (!p || dim != p->dim || dim < 1 || dim > 65536 || !ruv_index_type_name((int)p->type) ||
        !ruv_metric_name((int)p->metric))
        abort();
    if (ruv_index_memory_bytes(idx) < n * sizeof(uint64_t))
        abort();
    const float *vecs = NULL;
    const uint64_t *ids = NULL;
    int rc = ruv_index_vectors(idx, &vecs, &ids);
    if (rc == RUV_OK && n > 0) {
        float *v = malloc((size_t)dim * sizeof *v);
        if (!v)
            abort();
        /* first and last rows through the id map */
        if ((rc = ruv_index_get(idx, ids[0], v)) || memcmp(v, vecs, dim * sizeof *v))
            die("get of the first id", rc);
        if ((rc = ruv_index_get(idx, ids[n - 1], v)) ||
            memcmp(v, vecs + (n - 1) * dim, dim * sizeof *v))
            die("get of the last id", rc);
        free(v);
    } else if (rc != RUV_OK && rc != RUV_E_UNSUPPORTED) {
        die("vectors", rc);
    }
}

static void same_results(const struct result *a, const struct result *b)
{
    if (a->rc != b->rc || a->nfound != b->nfound || memcmp(a->ids, b->ids, sizeof a->ids) ||
        memcmp(a->scores, b->scores, sizeof a->scores)) {
        fprintf(stderr, "fuzz_index_load: results differ after save and load\n");
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    put_input(data, size);
    ruv_index *idx = (ruv_index *)1;
    int rc = ruv_index_load(eng, in_path, &idx);
    if (rc != RUV_OK) {
        /* refused cleanly: nothing handed out, a known status, a message
         * naming the file */
        const char *err = ruv_last_error();
        if (idx != NULL || !strcmp(ruv_status_name(rc), "RUV_E_UNKNOWN") ||
            (rc != RUV_E_CORRUPT && rc != RUV_E_IO && rc != RUV_E_NOMEM) ||
            !strstr(err, in_path))
            die("refusal", rc);
        return 0;
    }

    check_loaded(idx);
    uint32_t dim = ruv_index_dim(idx);
    float *q = malloc((size_t)dim * sizeof *q);
    if (!q)
        abort();
    for (uint32_t i = 0; i < dim; i++)
        q[i] = 0.75f - (float)((i * 7u + 3u) % 11u) * 0.125f; /* never all zero */
    struct result a = search(idx, q);

    if ((rc = ruv_index_save(idx, out_path)))
        die("save of a loaded index", rc);
    ruv_index *b = NULL;
    if ((rc = ruv_index_load(eng, out_path, &b)))
        die("load of a saved index", rc);
    if (ruv_index_len(b) != ruv_index_len(idx) ||
        memcmp(ruv_index_params_get(b), ruv_index_params_get(idx), sizeof(ruv_index_params)))
        abort();
    check_loaded(b);
    struct result bres = search(b, q);
    same_results(&a, &bres);
    if ((rc = ruv_index_save(b, out2_path)))
        die("second save", rc);
    size_t l1, l2;
    unsigned char *f1 = slurp(out_path, &l1), *f2 = slurp(out2_path, &l2);
    if (l1 != l2 || memcmp(f1, f2, l1)) {
        fprintf(stderr, "fuzz_index_load: save(load(save(x))) != save(x)\n");
        abort();
    }
    free(f1);
    free(f2);
    ruv_index_free(idx);

    /* Changes on the loaded copy: a removal walks the row maps the loader
     * built, and an add copies the arrays out of the mapping and encodes
     * against the loaded centroids. */
    if (a.nfound > 0) {
        size_t removed = 0;
        if ((rc = ruv_index_remove(b, &a.ids[0], 1, &removed)) || removed != 1)
            die("remove of a found id", rc);
        (void)search(b, q);
        if ((rc = ruv_index_add(b, q, 1, &a.ids[0])))
            die("add after remove", rc);
        (void)search(b, q);
    }
    ruv_index_free(b);
    free(q);
    return 0;
}
