/* What ruvec1 and ruvec2 share: filename rules, caps, opening, sorting, and
 * the dispatch on the magic (contracts in ruvec.h, ruvec_internal.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lake_error.h"
#include "ruvec_internal.h"

void ruv__lake_ruvec_rows_free(struct ruv__lake_ruvec_rows *rows)
{
    if (!rows)
        return;
    free(rows->ids);
    free(rows->vectors);
    memset(rows, 0, sizeof *rows);
}

int ruv__lake_fs_name_check(const char *name)
{
    if (!name || !name[0])
        return ruv__detail_set(RUV_E_INVAL, "file name is empty");
    size_t len = strlen(name);
    if (len > 255)
        return ruv__detail_set(RUV_E_INVAL, "file name is %zu bytes, over 255", len);
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return ruv__detail_set(RUV_E_INVAL, "file name '%s' is not allowed", name);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f)
            return ruv__detail_set(RUV_E_INVAL, "file name has control byte 0x%02x at %zu", c, i);
        if (c == '/' || c == '\\' || c == ':')
            return ruv__detail_set(RUV_E_INVAL, "file name has '%c' at %zu", c, i);
    }
    return RUV_OK;
}

int ruv__lake_ruvec_caps(uint64_t count, uint64_t dim, int status)
{
    if (dim < 1 || dim > RUV_LAKE_RUVEC_MAX_DIM)
        return ruv__detail_set(status, "dim %" PRIu64 " is outside 1..%u", dim,
                               RUV_LAKE_RUVEC_MAX_DIM);
    if (count > RUV_LAKE_RUVEC_MAX_COUNT)
        return ruv__detail_set(status, "count %" PRIu64 " is over %u", count,
                               RUV_LAKE_RUVEC_MAX_COUNT);
    if (count * dim * 4 > RUV_LAKE_RUVEC_MAX_VECTOR_BYTES) /* no overflow: both capped */
        return ruv__detail_set(status, "count %" PRIu64 " x dim %" PRIu64
                               " x 4 bytes is over 16 GiB", count, dim);
    return RUV_OK;
}

int ruv__lake_pread_all(int fd, void *buf, size_t n, uint64_t off, const char *what)
{
    uint8_t *p = buf;
    while (n > 0) {
        ssize_t r = pread(fd, p, n, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return ruv__detail_set(RUV_E_IO, "read %s: %s", what, strerror(errno));
        if (r == 0)
            return ruv__detail_set(RUV_E_CORRUPT, "truncated in %s", what);
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return RUV_OK;
}

struct id_row {
    uint64_t id, row;
};

static int by_id(const void *a, const void *b)
{
    uint64_t x = ((const struct id_row *)a)->id, y = ((const struct id_row *)b)->id;
    return x < y ? -1 : x > y;
}

/* LSD radix sort of (id, row) pairs by id, a byte per pass, skipping the
 * bytes every id shares: about a tenth of qsort's time at 100k ids (no
 * comparator call per comparison). Stable, though only duplicates (which
 * the callers refuse) could tell. tmp has n pairs of room. */
static void radix_by_id(struct id_row *a, struct id_row *tmp, uint64_t n)
{
    static const size_t B = 256;
    size_t (*count)[256] = calloc(8, sizeof *count);
    if (!count) { /* no room for the counts: the comparison sort */
        qsort(a, (size_t)n, sizeof *a, by_id);
        return;
    }
    for (uint64_t i = 0; i < n; i++)
        for (unsigned byte = 0; byte < 8; byte++)
            count[byte][(a[i].id >> (8 * byte)) & 0xff]++;
    struct id_row *from = a, *to = tmp;
    for (unsigned byte = 0; byte < 8; byte++) {
        size_t *c = count[byte], sum = 0;
        if (c[(a[0].id >> (8 * byte)) & 0xff] == n)
            continue; /* every id has this byte: the pass would not move a row */
        for (size_t d = 0; d < B; d++) {
            size_t k = c[d];
            c[d] = sum;
            sum += k;
        }
        for (uint64_t i = 0; i < n; i++)
            to[c[(from[i].id >> (8 * byte)) & 0xff]++] = from[i];
        struct id_row *t = from;
        from = to;
        to = t;
    }
    if (from != a)
        memcpy(a, from, (size_t)n * sizeof *a);
    free(count);
}

int ruv__lake_sort_order(const uint64_t *ids, uint64_t n, uint64_t **order)
{
    *order = NULL;
    if (n == 0)
        return RUV_OK;
    int radix = n >= 1024;
    struct id_row *pairs = malloc((size_t)n * (radix ? 2 : 1) * sizeof *pairs);
    uint64_t *o = malloc((size_t)n * sizeof *o);
    if (!pairs || !o) {
        free(pairs);
        free(o);
        return ruv__detail_set(RUV_E_NOMEM, "out of memory sorting %" PRIu64 " ids", n);
    }
    for (uint64_t i = 0; i < n; i++)
        pairs[i] = (struct id_row){ids[i], i};
    if (radix)
        radix_by_id(pairs, pairs + n, n);
    else
        qsort(pairs, (size_t)n, sizeof *pairs, by_id);
    for (uint64_t i = 0; i < n; i++)
        o[i] = pairs[i].row;
    free(pairs);
    *order = o;
    return RUV_OK;
}

/* Reads the magic and hands the file to its version. */
static int dispatch(int fd, struct ruv__lake_ruvec_info *info, struct ruv__lake_ruvec_rows *rows)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return ruv__detail_set(RUV_E_IO, "fstat: %s", strerror(errno));
    if (!S_ISREG(st.st_mode))
        return ruv__detail_set(RUV_E_CORRUPT, "not a regular file");
    uint8_t magic[8];
    if ((uint64_t)st.st_size < sizeof magic)
        return ruv__detail_set(RUV_E_CORRUPT, "%lld bytes: too short for a ruvec magic",
                               (long long)st.st_size);
    int rc = ruv__lake_pread_all(fd, magic, sizeof magic, 0, "the magic");
    if (rc != RUV_OK)
        return rc;
    if (memcmp(magic, "ruvec2\0\0", 8) == 0)
        return rows ? ruv__lake_ruvec2_read(fd, &st, info, rows)
                    : ruv__lake_ruvec2_describe(fd, &st, info);
    if (memcmp(magic, "ruvec1\0\0", 8) == 0)
        return rows ? ruv__lake_ruvec1_read(fd, &st, info, rows)
                    : ruv__lake_ruvec1_describe(fd, &st, info);
    return ruv__detail_set(RUV_E_CORRUPT, "not a ruvec file (bad magic)");
}

int ruv__lake_ruvec_describe_fd(int fd, struct ruv__lake_ruvec_info *out)
{
    memset(out, 0, sizeof *out);
    return dispatch(fd, out, NULL);
}

int ruv__lake_ruvec_read_fd(int fd, struct ruv__lake_ruvec_info *info,
                            struct ruv__lake_ruvec_rows *out)
{
    struct ruv__lake_ruvec_info scratch;
    memset(out, 0, sizeof *out);
    if (!info)
        info = &scratch;
    memset(info, 0, sizeof *info);
    int rc = dispatch(fd, info, out);
    if (rc != RUV_OK)
        ruv__lake_ruvec_rows_free(out);
    return rc;
}

int ruv__lake_open_read_at(int dirfd, const char *name, int *fd)
{
    /* O_NONBLOCK: a FIFO planted under the name must not hang the open. */
    *fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (*fd >= 0)
        return RUV_OK;
    if (errno == ENOENT)
        return ruv__detail_set(RUV_E_NOTFOUND, "%s: no such file", name);
    if (errno == ELOOP)
        return ruv__detail_set(RUV_E_CORRUPT, "%s: is a symbolic link (refused)", name);
    return ruv__detail_set(RUV_E_IO, "%s: open: %s", name, strerror(errno));
}

static int open_at(int root_fd, const char *name, int *fd)
{
    int rc = ruv__lake_fs_name_check(name);
    return rc == RUV_OK ? ruv__lake_open_read_at(root_fd, name, fd) : rc;
}

int ruv__lake_ruvec_describe_at(int root_fd, const char *name, struct ruv__lake_ruvec_info *out)
{
    int fd;
    memset(out, 0, sizeof *out);
    int rc = open_at(root_fd, name, &fd);
    if (rc != RUV_OK)
        return rc;
    rc = ruv__lake_ruvec_describe_fd(fd, out);
    close(fd);
    return rc == RUV_OK ? rc : ruv__detail_prefix(rc, "%s", name);
}

int ruv__lake_ruvec_read_at(int root_fd, const char *name, struct ruv__lake_ruvec_info *info,
                            struct ruv__lake_ruvec_rows *out)
{
    int fd;
    memset(out, 0, sizeof *out);
    int rc = open_at(root_fd, name, &fd);
    if (rc != RUV_OK)
        return rc;
    rc = ruv__lake_ruvec_read_fd(fd, info, out);
    close(fd);
    return rc == RUV_OK ? rc : ruv__detail_prefix(rc, "%s", name);
}
