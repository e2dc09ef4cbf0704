/* Topology sources (engine/cpu/topo.h): hwloc found at run time names itself in
 * the source; when it cannot be loaded (forced here by offering only names
 * that do not load) the fallback still gives sane, nonzero numbers, and on
 * a machine that has hwloc the two agree. Links the engine's topology
 * sources directly: the ruv__ names are not exported from libruvector. */
#define _GNU_SOURCE
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <ruvector/error.h>

#include "cpu/topo.h"

static const char *const missing[] = {"libruvector-test-no-such-hwloc.so.15"};

static void check_sane(const struct ruv__topo *p)
{
    assert_true(p->t.cores >= 1);
    assert_true(p->t.pus >= p->t.cores);
    assert_true(p->t.numa_nodes >= 1);
    /* Every x86-64 and ARMv8 Linux machine we run on has an L1d and an L2. */
    assert_true(p->t.l1d_bytes >= 4096);
    assert_true(p->t.l2_bytes >= p->t.l1d_bytes);
    if (p->t.l3_bytes)
        assert_true(p->t.l3_bytes >= p->t.l2_bytes);
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    if (online > 0)
        assert_true(p->t.pus <= (unsigned long)online);
}

/* 1 if hwloc loads here (filling *p), else 0. */
static int with_hwloc(struct ruv__topo *p)
{
    char why[RUV__TOPO_DETAIL_SIZE] = "";
    memset(p, 0, sizeof *p);
    return ruv__topo_from_hwloc(ruv__topo_hwloc_names, ruv__topo_hwloc_count, p, why,
                                sizeof why);
}

static void test_fallback_when_hwloc_cannot_load(void **state)
{
    (void)state;
    struct ruv__topo p;
    ruv__topo_probe(missing, 1, &p);
    assert_string_equal(p.source, "sysconf");
    if (!strstr(p.detail, "libruvector-test-no-such-hwloc.so.15: not found"))
        fail_msg("detail does not say why hwloc was not used: %s", p.detail);
    check_sane(&p);
#if defined(__x86_64__)
    assert_true(p.model[0] != '\0'); /* /proc/cpuinfo "model name" */
#endif
}

static void test_a_library_that_is_not_hwloc_is_refused(void **state)
{
    (void)state;
    static const char *const libc[] = {"libc.so.6"};
    struct ruv__topo p;
    ruv__topo_probe(libc, 1, &p);
    assert_string_equal(p.source, "sysconf");
    if (!strstr(p.detail, "libc.so.6: no hwloc_get_api_version"))
        fail_msg("detail: %s", p.detail);
}

static void test_hwloc_names_its_release(void **state)
{
    (void)state;
    struct ruv__topo p;
    if (!with_hwloc(&p))
        skip(); /* no libhwloc.so.15 on this machine: nothing to name */
    if (strncmp(p.source, "hwloc 2.", 8) != 0)
        fail_msg("source: %s", p.source);
    if (!strstr(p.detail, "libhwloc"))
        fail_msg("detail should name the library file: %s", p.detail);
    check_sane(&p);
    /* A failing name first does not stop the search. */
    const char *const chain[] = {missing[0], "libhwloc.so.15"};
    struct ruv__topo q;
    ruv__topo_probe(chain, 2, &q);
    assert_string_equal(q.source, p.source);
}

/* Both sources describe the same machine the same way, so the engine's
 * thread and block sizes do not depend on whether hwloc is installed. */
static void test_fallback_agrees_with_hwloc(void **state)
{
    (void)state;
    struct ruv__topo h, s;
    if (!with_hwloc(&h))
        skip();
    ruv__topo_probe(missing, 1, &s);
    cpu_set_t set;
    /* hwloc ignores a narrowed affinity (taskset); the fallback follows it. */
    if (sched_getaffinity(0, sizeof set, &set) == 0 &&
        (unsigned)CPU_COUNT(&set) == h.t.pus) {
        assert_int_equal(s.t.pus, h.t.pus);
        assert_int_equal(s.t.cores, h.t.cores);
    }
    assert_int_equal(s.t.numa_nodes, h.t.numa_nodes);
    if (h.t.l1d_bytes)
        assert_int_equal(s.t.l1d_bytes, h.t.l1d_bytes);
    if (h.t.l2_bytes)
        assert_int_equal(s.t.l2_bytes, h.t.l2_bytes);
    if (h.t.l3_bytes)
        assert_int_equal(s.t.l3_bytes, h.t.l3_bytes);
}

/* The public functions serve the default probe, whichever source won. */
static void test_public_functions_report_the_source(void **state)
{
    (void)state;
    struct ruv__topo p;
    ruv__topo_probe(NULL, 0, &p);
    assert_string_equal(ruv_topology_source(), p.source);
    assert_string_equal(ruv__topology_detail(), p.detail);
    assert_string_equal(ruv_cpu_model(), p.model);
    ruv_topology t;
    assert_int_equal(ruv_topology_get(&t), RUV_OK);
    assert_int_equal(t.cores, p.t.cores);
    assert_int_equal(t.l2_bytes, p.t.l2_bytes);
    struct ruv__topo h;
    if (with_hwloc(&h))
        assert_string_equal(ruv_topology_source(), h.source);
    else
        assert_string_equal(ruv_topology_source(), "sysconf");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fallback_when_hwloc_cannot_load),
        cmocka_unit_test(test_a_library_that_is_not_hwloc_is_refused),
        cmocka_unit_test(test_hwloc_names_its_release),
        cmocka_unit_test(test_fallback_agrees_with_hwloc),
        cmocka_unit_test(test_public_functions_report_the_source),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
