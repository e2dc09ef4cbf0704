# NEON kernel plugin, module "neon" (included from the top Makefile.am; paths
# are relative to the top directory).
#
# Built only for AArch64 hosts. Advanced SIMD is part of the AArch64 base
# ISA, so impl.c needs no extra -m flags and can share the descriptor's
# target: the plugin.c / impl convenience-library split of house style §3.9
# exists to keep ISA flags off the descriptor, and there are none here.
if ARCH_AARCH64
plugin_LTLIBRARIES += plugins/kernel-neon/neon.la
plugins_kernel_neon_neon_la_SOURCES = plugins/kernel-neon/plugin.c plugins/kernel-neon/impl.c \
	plugins/kernel-neon/impl.h plugins/kernel-neon/codes.c
# plugin.c never includes config.h (plugins see only the public headers), so
# hand it the package version directly.
plugins_kernel_neon_neon_la_CPPFLAGS = $(AM_CPPFLAGS) -DPACKAGE_VERSION='"$(PACKAGE_VERSION)"'
plugins_kernel_neon_neon_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
plugins_kernel_neon_neon_la_LDFLAGS = -module -avoid-version -no-undefined -Wl,-z,defs \
	-export-symbols-regex '^ruv_plugin_neon$$'
plugins_kernel_neon_neon_la_LIBADD = -lm
endif

# On every host: the same kernels cross-compiled for aarch64 and run under
# qemu-aarch64 against the loader's conformance check (SKIP, exit 77, when
# configure found no cross compiler or no qemu). tests/neon-qemu.sh is made
# by configure from tests/neon-qemu.sh.in, so distclean removes it already.
TESTS += tests/neon-qemu.sh
# Everything the script compiles must be in the tarball, whatever the host
# architecture of the machine that ran `make dist`.
EXTRA_DIST += tests/neon-qemu.sh.in tests/neon_main.c \
	plugins/kernel-neon/plugin.c plugins/kernel-neon/impl.c plugins/kernel-neon/impl.h \
	plugins/kernel-neon/codes.c \
	engine/plugin/conform.c engine/plugin/conform.h engine/plugin/kernel_scalar.c \
	engine/plugin/half.h engine/plugin/kernels.h \
	engine/cpu/cpu_arm.c engine/cpu/isa.h engine/base/util.h engine/base/error.h
CLEANFILES += tests/neon-conform.aarch64 tests/neon-probe.aarch64 tests/neon-probe.aarch64.c
