/* The kernel-slot speed cache (kernel_cache.h): a small text file, one line
 * per fact, ending in a CRC-32C of everything before it. Any damage, a
 * different CPU or a rebuilt plugin makes it a miss with a reason; it is
 * never trusted in part. */
#define _GNU_SOURCE
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ruvector/cpu.h>

#include "base/util.h"
#include "core/kernel_cache.h"
#include "plugin/kernels.h"
#include "plugin/plugins.h"
#include "store/persist.h"

/* Version 2: the whole-code slots are raced one 384-element code a call. */
#define MAGIC "ruvector kernel slots 2\n"

/* ---- build ids ---- */

struct id_search {
    uintptr_t addr;
    struct ruv__buf *out;
    int found;
};

static int object_holds(const struct dl_phdr_info *info, uintptr_t addr)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && addr >= lo && addr - lo < ph->p_memsz)
            return 1;
    }
    return 0;
}

/* The GNU build-id note of the loaded object holding addr, as hex. */
static int find_build_id(struct dl_phdr_info *info, size_t size, void *ctx)
{
    struct id_search *s = ctx;
    (void)size;
    if (!object_holds(info, s->addr))
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
        const unsigned char *end = p + ph->p_memsz;
        while ((size_t)(end - p) >= sizeof(ElfW(Nhdr))) {
            const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)(const void *)p;
            size_t name = (nh->n_namesz + 3u) & ~(size_t)3, desc = (nh->n_descsz + 3u) & ~(size_t)3;
            const unsigned char *n = p + sizeof *nh;
            if ((size_t)(end - n) < name + desc)
                break;
            if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && !memcmp(n, "GNU", 4)) {
                for (size_t k = 0; k < nh->n_descsz; k++)
                    ruv__buf_printf(s->out, "%02x", n[name + k]);
                s->found = 1;
                return 1;
            }
            p = n + name + desc;
        }
    }
    return 1; /* the object holding addr has no build id */
}

static void build_id(struct ruv__buf *b, const void *addr)
{
    struct id_search s = {(uintptr_t)addr, b, 0};
    dl_iterate_phdr(find_build_id, &s);
    if (s.found)
        return;
    /* Linked without --build-id: the module file's size and time stand in. */
    Dl_info info;
    struct stat st;
    if (dladdr(addr, &info) && info.dli_fname && stat(info.dli_fname, &st) == 0)
        ruv__buf_printf(b, "file:%lld:%lld.%09ld", (long long)st.st_size,
                        (long long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec);
    else
        ruv__buf_printf(b, "unknown");
}

void ruv__kernel_cache_key(struct ruv__buf *b, const struct ruv__plugin_set *set)
{
    const char *model = ruv_cpu_model();
    ruv__buf_printf(b, "%scpu ", MAGIC);
    for (const char *c = *model ? model : "unknown"; *c; c++) /* one line, whatever it says */
        ruv__buf_printf(b, "%c", *c == '\n' || *c == '\r' ? ' ' : *c);
    ruv__buf_printf(b, "\nisa %016llx\n", (unsigned long long)set->isa);
    for (size_t r = 0; r < set->slots.nracers; r++) {
        const struct ruv__plugin_rec *rec = set->recs[set->slots.racers[r]];
        ruv__buf_printf(b, "racer %s %d ", rec->name, (int)rec->priority);
        build_id(b, rec->desc);
        ruv__buf_printf(b, "\n");
    }
}

void ruv__kernel_cache_format(struct ruv__buf *b, const char *key, const struct ruv__slot_table *t)
{
    ruv__buf_printf(b, "%s", key);
    for (size_t s = 0; s < RUV__SLOT_COUNT; s++) {
        ruv__buf_printf(b, "slot %s", ruv__kernel_slot_names[s]);
        for (size_t r = 0; r < t->nracers; r++)
            ruv__buf_printf(b, " %.17g", t->ns[s][r]);
        ruv__buf_printf(b, "\n");
    }
    if (!b->oom)
        ruv__buf_printf(b, "crc32c %08x\n", (unsigned)ruv__crc32c(0, b->p, b->len));
}

/* ---- parsing ---- */

static int fail(char *why, size_t whylen, const char *fmt, ...) RUV_PRINTF(3, 4);
static int fail(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return -1;
}

/* Length of the line at p (without its newline) within end, or -1 when it
 * has no newline. */
static long line_len(const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    return nl ? (long)(nl - p) : -1;
}

/* Which key line differs, for the reason. */
static int key_mismatch(const char *buf, size_t len, const char *key, char *why, size_t whylen)
{
    const char *p = buf, *end = buf + len, *k = key;
    while (*k) {
        const char *knl = strchr(k, '\n');
        size_t kl = (size_t)(knl - k);
        long l = line_len(p, end);
        if (l < 0 || (size_t)l != kl || memcmp(p, k, kl) != 0) {
            const char *what = !strncmp(k, "cpu ", 4)   ? "another CPU model"
                               : !strncmp(k, "isa ", 4) ? "a CPU with other instruction sets"
                               : !strncmp(k, "racer ", 6)
                                   ? "another set or build of kernel plugins"
                                   : "another file format";
            return fail(why, whylen, "made for %s (expected '%.*s')", what, (int)kl, k);
        }
        p += kl + 1;
        k = knl + 1;
    }
    return 0;
}

int ruv__kernel_cache_parse(const char *buf, size_t len, const char *key, size_t nracers,
                            double ns[RUV__SLOT_COUNT][RUV__MAX_RACERS], char *why, size_t whylen)
{
    static const char crc_tag[] = "crc32c ";
    const size_t crc_line = sizeof crc_tag - 1 + 8 + 1;
    if (len > RUV__KERNEL_CACHE_MAX)
        return fail(why, whylen, "%zu bytes, more than a kernel-slots file holds", len);
    if (len < crc_line || buf[len - 1] != '\n' ||
        memcmp(buf + len - crc_line, crc_tag, sizeof crc_tag - 1) != 0 ||
        (len > crc_line && buf[len - crc_line - 1] != '\n'))
        return fail(why, whylen, "truncated (no checksum line at the end)");
    unsigned want = 0;
    for (size_t i = len - 9; i < len - 1; i++) {
        int c = (unsigned char)buf[i], v = c >= '0' && c <= '9' ? c - '0'
                                           : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0)
            return fail(why, whylen, "the checksum line is not 8 hex digits");
        want = want << 4 | (unsigned)v;
    }
    size_t body = len - crc_line;
    unsigned got = (unsigned)ruv__crc32c(0, buf, body);
    if (got != want)
        return fail(why, whylen, "checksum mismatch (stored %08x, content %08x): damaged", want,
                    got);
    if (key_mismatch(buf, body, key, why, whylen))
        return -1;
    const char *p = buf + strlen(key), *end = buf + body;
    double got_ns[RUV__SLOT_COUNT][RUV__MAX_RACERS] = {{0}};
    for (size_t s = 0; s < RUV__SLOT_COUNT; s++) {
        long l = line_len(p, end);
        const char *name = ruv__kernel_slot_names[s];
        size_t nl = strlen(name);
        if (l < 0)
            return fail(why, whylen, "ends before slot %s", name);
        char line[512];
        if ((size_t)l >= sizeof line || memchr(p, '\0', (size_t)l))
            return fail(why, whylen, "slot %s: line too long or not text", name);
        memcpy(line, p, (size_t)l);
        line[l] = '\0';
        if (strncmp(line, "slot ", 5) != 0 || strncmp(line + 5, name, nl) != 0 ||
            (line[5 + nl] != ' ' && line[5 + nl] != '\0'))
            return fail(why, whylen, "expected slot %s, found '%.40s'", name, line);
        const char *q = line + 5 + nl;
        for (size_t r = 0; r < nracers; r++) {
            char *e = NULL;
            if (*q != ' ')
                return fail(why, whylen, "slot %s: %zu times for %zu kernels", name, r, nracers);
            double v = strtod(q + 1, &e);
            if (e == q + 1 || !isfinite(v) || v < 0 || v > 1e12)
                return fail(why, whylen, "slot %s: time %zu is not a number of ns", name, r + 1);
            got_ns[s][r] = v;
            q = e;
        }
        if (*q)
            return fail(why, whylen, "slot %s: more times than the %zu kernels", name, nracers);
        p += l + 1;
    }
    if (p != end)
        return fail(why, whylen, "unexpected lines after the slots");
    memcpy(ns, got_ns, sizeof got_ns);
    return 0;
}

int ruv__kernel_cache_read(const char *path, char **out, size_t *len, char *why, size_t whylen)
{
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        return fail(why, whylen, "cannot open: %s", strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > RUV__KERNEL_CACHE_MAX) {
        close(fd);
        return fail(why, whylen, "not a regular file of at most %d bytes", RUV__KERNEL_CACHE_MAX);
    }
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        close(fd);
        return fail(why, whylen, "out of memory");
    }
    size_t have = 0;
    while (have < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + have, (size_t)st.st_size - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* shorter than fstat said: parse what is there */
        have += (size_t)n;
    }
    close(fd);
    *out = buf;
    *len = have;
    return 1;
}
