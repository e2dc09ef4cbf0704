/* The kernels the engine knows by name (discovery, forcing, messages), and
 * the compile-time proof that RUV_KERNEL_SLOTS lists every slot of struct
 * ruv_kernel_ops in order, which the loader relies on to fill a plugin's
 * empty slots from the scalar reference. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <ruvector/kernel.h>
#include <ruvector/kernel_isa.h>

#include "base/util.h"
#include "plugin/kernels.h"

/* ---- the slot list against the struct ---- */

/* Slots follow the two uint32 header fields, one function pointer each. */
#define SLOTS_BEGIN (offsetof(struct ruv_kernel_ops, reserved) + sizeof(uint32_t))
#define SLOT_SIZE sizeof(void (*)(void))

#define X(slot)                                                                          \
    _Static_assert(offsetof(struct ruv_kernel_ops, slot) ==                              \
                       SLOTS_BEGIN + (size_t)RUV__SLOT_##slot * SLOT_SIZE,              \
                   "RUV_KERNEL_SLOTS: '" #slot "' is not where the list puts it");       \
    _Static_assert(sizeof(((struct ruv_kernel_ops *)0)->slot) == SLOT_SIZE,              \
                   "RUV_KERNEL_SLOTS: '" #slot "' is not a function pointer");
RUV_KERNEL_SLOTS(X)
#undef X
_Static_assert(sizeof(struct ruv_kernel_ops) == SLOTS_BEGIN + (size_t)RUV__SLOT_COUNT * SLOT_SIZE,
               "RUV_KERNEL_SLOTS does not list every slot of struct ruv_kernel_ops");

const char *const ruv__kernel_slot_names[RUV__SLOT_COUNT] = {
#define X(slot) #slot,
    RUV_KERNEL_SLOTS(X)
#undef X
};

ruv__slot_fn ruv__kernel_slot_get(const struct ruv_kernel_ops *ops, size_t i)
{
    size_t off = SLOTS_BEGIN + i * SLOT_SIZE;
    ruv__slot_fn fn = NULL;
    if (i < RUV__SLOT_COUNT && off + SLOT_SIZE <= ops->struct_size)
        memcpy(&fn, (const char *)ops + off, sizeof fn);
    return fn;
}

void ruv__kernel_slot_set(struct ruv_kernel_ops *ops, size_t i, ruv__slot_fn fn)
{
    if (i < RUV__SLOT_COUNT)
        memcpy((char *)ops + SLOTS_BEGIN + i * SLOT_SIZE, &fn, sizeof fn);
}

/* ---- names ---- */

static const struct {
    const char *name;
    uint64_t isa;
} known_kernels[] = {
#define X(n, isa) {#n, isa},
    RUV_KERNEL_NAMES(X)
#undef X
};

int ruv__is_known_kernel(const char *name)
{
    for (size_t i = 0; i < sizeof known_kernels / sizeof known_kernels[0]; i++)
        if (strcmp(known_kernels[i].name, name) == 0)
            return 1;
    return 0;
}

uint64_t ruv__known_kernel_isa(const char *name)
{
    for (size_t i = 0; i < sizeof known_kernels / sizeof known_kernels[0]; i++)
        if (strcmp(known_kernels[i].name, name) == 0)
            return known_kernels[i].isa;
    return 0;
}

void ruv__known_kernel_list(struct ruv__buf *b)
{
    for (size_t i = 0; i < sizeof known_kernels / sizeof known_kernels[0]; i++)
        ruv__buf_printf(b, "%s%s", i ? ", " : "", known_kernels[i].name);
}
