/* engine/cpu/hwloc_abi.h against the installed hwloc.h: every field offset,
 * size and enum value libruvector relies on when it reads hwloc objects
 * through dlopen. Built only when configure found hwloc's headers; skipped
 * when those are not hwloc 2.x (another ABI, which the engine refuses at
 * run time). Needs no libhwloc: only types and constants are compared. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <hwloc.h>

#include "cpu/hwloc_abi.h"

#define SAME_FIELD(field)                                                         \
    do {                                                                          \
        assert_int_equal(offsetof(struct hwloc_obj, field),                       \
                         offsetof(struct ruv__hwloc_obj, field));                 \
        assert_int_equal(sizeof(((struct hwloc_obj *)0)->field),                  \
                         sizeof(((struct ruv__hwloc_obj *)0)->field));            \
    } while (0)

static void test_object_fields(void **state)
{
    (void)state;
#if HWLOC_API_VERSION >> 16 != 2
    skip();
#else
    SAME_FIELD(type);
    SAME_FIELD(subtype);
    SAME_FIELD(os_index);
    SAME_FIELD(name);
    SAME_FIELD(total_memory);
    SAME_FIELD(attr);
    SAME_FIELD(depth);
    SAME_FIELD(logical_index);
    SAME_FIELD(next_cousin);
    SAME_FIELD(parent);
    SAME_FIELD(sibling_rank);
    SAME_FIELD(arity);
    SAME_FIELD(children);
    SAME_FIELD(symmetric_subtree);
    SAME_FIELD(memory_arity);
    SAME_FIELD(memory_first_child);
    SAME_FIELD(io_arity);
    SAME_FIELD(io_first_child);
    SAME_FIELD(misc_arity);
    SAME_FIELD(misc_first_child);
    SAME_FIELD(cpuset);
    SAME_FIELD(complete_nodeset);
    SAME_FIELD(infos);
    SAME_FIELD(infos_count);
#endif
}

static void test_attributes_and_infos(void **state)
{
    (void)state;
#if HWLOC_API_VERSION >> 16 != 2
    skip();
#else
    assert_int_equal(offsetof(union hwloc_obj_attr_u, cache.size),
                     offsetof(union ruv__hwloc_attr, cache.size));
    assert_int_equal(sizeof(((union hwloc_obj_attr_u *)0)->cache.size),
                     sizeof(((union ruv__hwloc_attr *)0)->cache.size));
    assert_int_equal(offsetof(struct hwloc_info_s, name), offsetof(struct ruv__hwloc_info, name));
    assert_int_equal(offsetof(struct hwloc_info_s, value),
                     offsetof(struct ruv__hwloc_info, value));
    assert_int_equal(sizeof(struct hwloc_info_s), sizeof(struct ruv__hwloc_info));
    assert_int_equal(sizeof(hwloc_obj_type_t), sizeof(enum ruv__hwloc_type));
#endif
}

static void test_constants(void **state)
{
    (void)state;
#if HWLOC_API_VERSION >> 16 != 2
    skip();
#else
    assert_int_equal(HWLOC_OBJ_MACHINE, RUV__HWLOC_OBJ_MACHINE);
    assert_int_equal(HWLOC_OBJ_PACKAGE, RUV__HWLOC_OBJ_PACKAGE);
    assert_int_equal(HWLOC_OBJ_CORE, RUV__HWLOC_OBJ_CORE);
    assert_int_equal(HWLOC_OBJ_PU, RUV__HWLOC_OBJ_PU);
    assert_int_equal(HWLOC_OBJ_L1CACHE, RUV__HWLOC_OBJ_L1CACHE);
    assert_int_equal(HWLOC_OBJ_L2CACHE, RUV__HWLOC_OBJ_L2CACHE);
    assert_int_equal(HWLOC_OBJ_L3CACHE, RUV__HWLOC_OBJ_L3CACHE);
    assert_int_equal(HWLOC_OBJ_NUMANODE, RUV__HWLOC_OBJ_NUMANODE);
    assert_int_equal(HWLOC_TYPE_DEPTH_UNKNOWN, RUV__HWLOC_TYPE_DEPTH_UNKNOWN);
    assert_int_equal(HWLOC_TYPE_DEPTH_MULTIPLE, RUV__HWLOC_TYPE_DEPTH_MULTIPLE);
#endif
}

/* hwloc.h declares the functions with the signatures hwloc_abi.h gives
 * them (hwloc types in place of ours). __typeof__ evaluates nothing, so no
 * hwloc symbol is referenced and the test links no libhwloc. */
#define SAME_TYPE(fn, type) assert_true(__builtin_types_compatible_p(__typeof__(&(fn)), type))

static void test_function_types(void **state)
{
    (void)state;
#if HWLOC_API_VERSION >> 16 != 2 || !defined(__GNUC__)
    skip();
#else
    SAME_TYPE(hwloc_get_api_version, unsigned (*)(void));
    SAME_TYPE(hwloc_topology_init, int (*)(hwloc_topology_t *));
    SAME_TYPE(hwloc_topology_load, int (*)(hwloc_topology_t));
    SAME_TYPE(hwloc_topology_destroy, void (*)(hwloc_topology_t));
    SAME_TYPE(hwloc_get_type_depth, int (*)(hwloc_topology_t, hwloc_obj_type_t));
    SAME_TYPE(hwloc_get_nbobjs_by_depth, unsigned (*)(hwloc_topology_t, int));
    SAME_TYPE(hwloc_get_obj_by_depth, hwloc_obj_t (*)(hwloc_topology_t, int, unsigned));
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_object_fields),
        cmocka_unit_test(test_attributes_and_infos),
        cmocka_unit_test(test_constants),
        cmocka_unit_test(test_function_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
