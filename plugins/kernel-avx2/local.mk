# AVX2 kernel plugin: the descriptor (plugin.c) is built with baseline flags,
# only the kernels (f32.c, bits.c, fht.c and their table, ops.c) get -mavx2
# -mfma -mpopcnt -mf16c.
if ARCH_X86_64
plugin_LTLIBRARIES += plugins/kernel-avx2/avx2.la
plugins_kernel_avx2_avx2_la_SOURCES = plugins/kernel-avx2/plugin.c
plugins_kernel_avx2_avx2_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
plugins_kernel_avx2_avx2_la_LDFLAGS = -module -avoid-version -no-undefined -Wl,-z,defs -export-symbols-regex '^ruv_plugin_avx2$$'
plugins_kernel_avx2_avx2_la_LIBADD = plugins/kernel-avx2/libavx2_impl.la -lm
noinst_LTLIBRARIES += plugins/kernel-avx2/libavx2_impl.la
plugins_kernel_avx2_libavx2_impl_la_SOURCES = plugins/common/prefetch.h plugins/kernel-avx2/impl.h \
	plugins/kernel-avx2/f32.c plugins/kernel-avx2/bits.c plugins/kernel-avx2/fht.c \
	plugins/kernel-avx2/ops.c
plugins_kernel_avx2_libavx2_impl_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden -mavx2 -mfma -mpopcnt -mf16c
endif
