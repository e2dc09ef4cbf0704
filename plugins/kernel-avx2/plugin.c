/* Descriptor of the "avx2" kernel plugin. Built without ISA flags: the engine
 * reads it on every CPU before deciding whether the kernels may run. The
 * kernels themselves live in f32.c, bits.c, fht.c and ops.c (impl.h), the
 * only files built with -mavx2. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <ruvector/kernel.h>
#include <ruvector/kernel_isa.h>
#include <ruvector/plugin.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif

extern const struct ruv_kernel_ops ruv_avx2_ops;

static const struct ruv_plugin desc = {
    .struct_size = sizeof(struct ruv_plugin),
    .abi = RUV_PLUGIN_ABI,
    .name = "avx2",
    .version = PACKAGE_VERSION,
    .kind = RUV_PLUGIN_KERNEL,
    .flags = 0,
    .caps = RUV_CAP_THREADSAFE,
    .priority = 20,
    .requires_isa = RUV_KERNEL_ISA_AVX2,
    .init = NULL,
    .fini = NULL,
    .self_test = NULL,
    .ops = &ruv_avx2_ops,
};

RUV_PLUGIN_DEFINE(avx2, desc)
