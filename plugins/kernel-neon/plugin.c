/* Descriptor of the "neon" kernel plugin. The engine reads it on every CPU
 * (ruv_plugin_neon() must run no NEON-specific code); the kernels live in
 * impl.c and are only called once requires_isa has been checked. */
#include <stddef.h>

#include <ruvector/kernel.h>
#include <ruvector/kernel_isa.h>
#include <ruvector/plugin.h>

/* Defined in impl.c; hidden, so only the descriptor is exported. */
extern const struct ruv_kernel_ops ruv_neon_ops;

#ifdef PACKAGE_VERSION
#define RUV_NEON_VERSION PACKAGE_VERSION
#else
#define RUV_NEON_VERSION "0.1.0"
#endif

static const struct ruv_plugin desc = {
    .struct_size = sizeof(struct ruv_plugin),
    .abi = RUV_PLUGIN_ABI,
    .name = "neon",
    .version = RUV_NEON_VERSION,
    .kind = RUV_PLUGIN_KERNEL,
    .flags = 0,
    .caps = RUV_CAP_THREADSAFE,
    .priority = 10,
    .requires_isa = RUV_KERNEL_ISA_NEON,
    .init = NULL,
    .fini = NULL,
    .self_test = NULL,
    .ops = &ruv_neon_ops,
};

RUV_PLUGIN_DEFINE(neon, desc)
