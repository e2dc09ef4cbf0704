/* Topology without hwloc (contract in topo.h): what the C library and the
 * kernel tell any process. The numbers mean what hwloc's mean, so the
 * engine sizes threads and blocks the same either way:
 *   pus    the CPUs this process may run on (sched_getaffinity, which a
 *          container's cpuset narrows just as hwloc drops disallowed PUs),
 *          else sysconf(_SC_NPROCESSORS_ONLN);
 *   cores  distinct SMT sibling groups among those CPUs
 *          (/sys/devices/system/cpu/cpuN/topology), else pus;
 *   caches the first allowed CPU's data/unified caches from
 *          /sys/devices/system/cpu/cpuN/cache (what hwloc reads on Linux),
 *          else sysconf(_SC_LEVEL*_CACHE_SIZE). sysfs comes first because
 *          glibc's cpuid-based answer can be far off in a VM: on the AMD
 *          EPYC VM this was written on, sysconf says 256 MiB of L3 where
 *          sysfs and hwloc both say 32 MiB;
 *   model  the first "model name" line of /proc/cpuinfo (x86; ARM kernels
 *          print none, and the model stays "" as with hwloc there). */
#include "config.h"

#include <ctype.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ruvector/engine.h>

#include "cpu/topo.h"

#define SYS_CPU "/sys/devices/system/cpu"
#define MAX_CACHE_INDEX 16

/* First line of a small file, without the newline; 0 on success. */
static int read_line(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *ok = fgets(buf, (int)size, f);
    fclose(f);
    if (!ok)
        return -1;
    buf[strcspn(buf, "\n")] = '\0';
    return 0;
}

/* Number of CPUs (or nodes) in a kernel list such as "0-3,8,10-11"; 0 if
 * the text is not such a list. */
static unsigned list_count(const char *s)
{
    unsigned n = 0;
    while (*s) {
        char *end;
        unsigned long a = strtoul(s, &end, 10), b = a;
        if (end == s)
            return 0;
        s = end;
        if (*s == '-') {
            b = strtoul(s + 1, &end, 10);
            if (end == s + 1 || b < a)
                return 0;
            s = end;
        }
        n += (unsigned)(b - a + 1);
        if (*s == ',')
            s++;
        else if (*s)
            return 0;
    }
    return n;
}

#if defined(__linux__)
/* "32K" -> 32768 (the kernel prints cache sizes in K; M and G for safety). */
static size_t parse_size(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s)
        return 0;
    switch (toupper((unsigned char)*end)) {
    case 'K': v <<= 10; break;
    case 'M': v <<= 20; break;
    case 'G': v <<= 30; break;
    default: break;
    }
    return (size_t)v;
}

/* Fills set with the CPUs this process may run on; returns their number. */
static unsigned allowed_cpus(cpu_set_t *set)
{
    CPU_ZERO(set);
    if (sched_getaffinity(0, sizeof *set, set) == 0 && CPU_COUNT(set) > 0)
        return (unsigned)CPU_COUNT(set);
    /* No affinity (seccomp, odd kernels): assume CPUs 0..n-1 are online. */
    CPU_ZERO(set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    for (long i = 0; i < n && i < CPU_SETSIZE; i++)
        CPU_SET((int)i, set);
    return (unsigned)n;
}

/* Distinct SMT sibling groups among the allowed CPUs, named by the lowest
 * CPU in each group (which itself may be outside the set); 0 if sysfs
 * cannot tell. */
static unsigned count_cores(const cpu_set_t *set)
{
    cpu_set_t leaders;
    CPU_ZERO(&leaders);
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (!CPU_ISSET(cpu, set))
            continue;
        char path[96], buf[256];
        snprintf(path, sizeof path, SYS_CPU "/cpu%d/topology/core_cpus_list", cpu);
        if (read_line(path, buf, sizeof buf) != 0) { /* before Linux 5.6 */
            snprintf(path, sizeof path, SYS_CPU "/cpu%d/topology/thread_siblings_list", cpu);
            if (read_line(path, buf, sizeof buf) != 0)
                return 0;
        }
        char *end;
        unsigned long leader = strtoul(buf, &end, 10);
        if (end == buf || leader >= CPU_SETSIZE)
            return 0;
        CPU_SET((int)leader, &leaders);
    }
    return (unsigned)CPU_COUNT(&leaders);
}

static int first_cpu(const cpu_set_t *set)
{
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, set))
            return cpu;
    return 0;
}

/* Data and unified caches of one CPU from sysfs; sizes it lacks stay 0. */
static void sysfs_caches(int cpu, ruv_topology *t)
{
    for (int i = 0; i < MAX_CACHE_INDEX; i++) {
        char dir[96], path[128], level[16], type[32], size[32];
        snprintf(dir, sizeof dir, SYS_CPU "/cpu%d/cache/index%d", cpu, i);
        snprintf(path, sizeof path, "%s/level", dir);
        if (read_line(path, level, sizeof level) != 0)
            break;
        snprintf(path, sizeof path, "%s/type", dir);
        if (read_line(path, type, sizeof type) != 0 || strcmp(type, "Instruction") == 0)
            continue;
        snprintf(path, sizeof path, "%s/size", dir);
        if (read_line(path, size, sizeof size) != 0)
            continue;
        size_t *slot = !strcmp(level, "1")   ? &t->l1d_bytes
                       : !strcmp(level, "2") ? &t->l2_bytes
                       : !strcmp(level, "3") ? &t->l3_bytes
                                             : NULL;
        if (slot && !*slot)
            *slot = parse_size(size);
    }
}
#endif

/* glibc's answer for the caches sysfs did not give. */
static void sysconf_caches(ruv_topology *t)
{
#if defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE) && \
    defined(_SC_LEVEL3_CACHE_SIZE)
    long v;
    if (!t->l1d_bytes && (v = sysconf(_SC_LEVEL1_DCACHE_SIZE)) > 0)
        t->l1d_bytes = (size_t)v;
    if (!t->l2_bytes && (v = sysconf(_SC_LEVEL2_CACHE_SIZE)) > 0)
        t->l2_bytes = (size_t)v;
    if (!t->l3_bytes && (v = sysconf(_SC_LEVEL3_CACHE_SIZE)) > 0)
        t->l3_bytes = (size_t)v;
#else
    (void)t;
#endif
}

static void cpuinfo_model(char *model, size_t size)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0)
            continue;
        const char *v = strchr(line, ':');
        if (!v)
            break;
        v++;
        while (*v == ' ' || *v == '\t')
            v++;
        size_t n = strcspn(v, "\n");
        while (n > 0 && isspace((unsigned char)v[n - 1]))
            n--;
        snprintf(model, size, "%.*s", (int)n, v);
        break;
    }
    fclose(f);
}

void ruv__topo_from_system(struct ruv__topo *out)
{
    memset(&out->t, 0, sizeof out->t);
    out->model[0] = '\0';
#if defined(__linux__)
    cpu_set_t set;
    out->t.pus = allowed_cpus(&set);
    out->t.cores = count_cores(&set);
    sysfs_caches(first_cpu(&set), &out->t);
#else
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    out->t.pus = n > 0 ? (unsigned)n : 1;
#endif
    if (!out->t.cores || out->t.cores > out->t.pus)
        out->t.cores = out->t.pus;
    sysconf_caches(&out->t);

    /* hwloc always reports at least one NUMA node. */
    char buf[256];
    if (read_line("/sys/devices/system/node/online", buf, sizeof buf) == 0)
        out->t.numa_nodes = list_count(buf);
    if (!out->t.numa_nodes)
        out->t.numa_nodes = 1;

    cpuinfo_model(out->model, sizeof out->model);
    snprintf(out->source, sizeof out->source, "sysconf");
}
