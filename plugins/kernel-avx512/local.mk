# AVX-512 kernel plugin: the descriptor (plugin.c) is built with baseline
# flags, only the kernels (f32.c, bits.c, fht.c and their table, ops.c) get
# the -mavx512* flags.
if ARCH_X86_64
plugin_LTLIBRARIES += plugins/kernel-avx512/avx512.la
plugins_kernel_avx512_avx512_la_SOURCES = plugins/kernel-avx512/plugin.c
plugins_kernel_avx512_avx512_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
plugins_kernel_avx512_avx512_la_LDFLAGS = -module -avoid-version -no-undefined -Wl,-z,defs -export-symbols-regex '^ruv_plugin_avx512$$'
plugins_kernel_avx512_avx512_la_LIBADD = plugins/kernel-avx512/libavx512_impl.la -lm
noinst_LTLIBRARIES += plugins/kernel-avx512/libavx512_impl.la
RUV_AVX512_IMPL = plugins/kernel-avx512/f32.c plugins/kernel-avx512/bits.c \
	plugins/kernel-avx512/fht.c plugins/kernel-avx512/ops.c
plugins_kernel_avx512_libavx512_impl_la_SOURCES = plugins/common/prefetch.h \
	plugins/kernel-avx512/impl.h $(RUV_AVX512_IMPL)
plugins_kernel_avx512_libavx512_impl_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden \
	-mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vpopcntdq -mavx512vnni -mavx2 -mfma -mpopcnt

# The same kernels built against SIMDe (no -mavx512*), so every x86-64 CPU runs
# the loader's conformance check on them. Per-target CFLAGS make automake
# compile the kernels a second time for this program; that is intended.
# -Wno-psabi: SIMDe passes 64-byte vectors by value, on which GCC prints a
# note about a 2011 ABI change.
if HAVE_SIMDE
check_PROGRAMS += plugins/kernel-avx512/test-avx512-emulated
TESTS += plugins/kernel-avx512/test-avx512-emulated
plugins_kernel_avx512_test_avx512_emulated_SOURCES = \
	plugins/kernel-avx512/test_emulated.c $(RUV_AVX512_IMPL)
plugins_kernel_avx512_test_avx512_emulated_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/engine
plugins_kernel_avx512_test_avx512_emulated_CFLAGS = $(AM_CFLAGS) -DRUV_SIMDE -mavx2 -mfma -mpopcnt -mf16c -Wno-psabi
# The conformance check and the scalar reference come from the engine core.
plugins_kernel_avx512_test_avx512_emulated_LDADD = $(RUV_CORE_LIBS)
else
TESTS += plugins/kernel-avx512/test-avx512-emulated-skip.sh
endif
endif

EXTRA_DIST += plugins/kernel-avx512/test-avx512-emulated-skip.sh
