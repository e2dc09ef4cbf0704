# Tests run against the build tree: plugins resolve from their build
# directories (libltdl reads the uninstalled .la files), and the operator's
# own RUVECTOR_* settings are cleared so they cannot change a verdict.
RUV_TEST_PLUGIN_PATH = $(abs_top_builddir)/plugins/kernel-avx2:$(abs_top_builddir)/plugins/kernel-avx512:$(abs_top_builddir)/plugins/kernel-neon:$(abs_top_builddir)/tests/fixtures:$(abs_top_builddir)/plugins/a2a:$(abs_top_builddir)/plugins/rulake:$(abs_top_builddir)/plugins/embed-onnx
AM_TESTS_ENVIRONMENT = \
	unset RUVECTOR_KERNEL RUVECTOR_DISABLE RUVECTOR_VERBOSE RUVECTOR_ORT_LIB RUVECTOR_LIBCRYPTO \
	RUVECTOR_KERNEL_MEASURE; \
	RUVECTOR_CACHE_DIR='$(abs_top_builddir)/tests/cache'; export RUVECTOR_CACHE_DIR; \
	RUVECTOR_PLUGIN_PATH='$(RUV_TEST_PLUGIN_PATH)'; export RUVECTOR_PLUGIN_PATH; \
	RUV_TEST_FIXTURES='$(abs_top_builddir)/tests/fixtures'; export RUV_TEST_FIXTURES; \
	RUV_TEST_BUILDDIR='$(abs_top_builddir)'; export RUV_TEST_BUILDDIR; \
	RUV_TEST_SRCDIR='$(abs_top_srcdir)'; export RUV_TEST_SRCDIR; \
	RUV_TEST_INCLUDED_LTDL='$(RUV_INCLUDED_LTDL)'; export RUV_TEST_INCLUDED_LTDL;

# The kernel-slot cache the tests write. A machine with two kernel plugins
# that load (AVX-512) races them and writes it; distcheck on such a machine
# failed on the file left behind after distclean.
clean-local: clean-test-cache
clean-test-cache:
	rm -rf tests/cache
.PHONY: clean-test-cache

# ---- fixture plugins: deliberately good and broken modules ----
RUV_FIXTURE_LDFLAGS = -module -avoid-version -rpath $(abs_builddir) -no-undefined -Wl,-z,defs
RUV_FIXTURE_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
check_LTLIBRARIES += \
	tests/fixtures/feature_echo.la tests/fixtures/bad_abi.la tests/fixtures/no_symbol.la \
	tests/fixtures/wrong_name.la tests/fixtures/fails_selftest.la tests/fixtures/wrong_kernel.la \
	tests/fixtures/needs_impossible_isa.la tests/fixtures/declines.la tests/fixtures/bad_flags.la \
	tests/fixtures/broken/avx2.la tests/fixtures/feature_host.la \
	tests/fixtures/race/avx2.la tests/fixtures/race/avx512.la
# The per-slot race's fixtures (test_kernel_slots): named like the real x86
# kernels, in a folder of their own so that only that test discovers them.
tests_fixtures_race_avx2_la_SOURCES = tests/fixtures/race/avx2.c tests/fixtures/race/race_kernel.h
tests_fixtures_race_avx2_la_CFLAGS = $(RUV_FIXTURE_CFLAGS)
tests_fixtures_race_avx2_la_LDFLAGS = $(RUV_FIXTURE_LDFLAGS)
tests_fixtures_race_avx512_la_SOURCES = tests/fixtures/race/avx512.c tests/fixtures/race/race_kernel.h
tests_fixtures_race_avx512_la_CFLAGS = $(RUV_FIXTURE_CFLAGS)
tests_fixtures_race_avx512_la_LDFLAGS = $(RUV_FIXTURE_LDFLAGS)
tests_fixtures_feature_host_la_SOURCES = tests/fixtures/feature_host.c tests/fixtures/fixture_host.h
tests_fixtures_feature_host_la_CFLAGS = $(RUV_FIXTURE_CFLAGS) $(PTHREAD_CFLAGS)
tests_fixtures_feature_host_la_LDFLAGS = $(RUV_FIXTURE_LDFLAGS)
tests_fixtures_feature_echo_la_SOURCES = tests/fixtures/feature_echo.c tests/fixtures/fixture_feature.h
tests_fixtures_feature_echo_la_CFLAGS = $(RUV_FIXTURE_CFLAGS)
tests_fixtures_feature_echo_la_LDFLAGS = $(RUV_FIXTURE_LDFLAGS)
tests_fixtures_bad_abi_la_SOURCES = tests/fixtures/bad_abi.c
tests_fixtures_bad_abi_la_CFLAGS = $(RUV_FIXTURE_CFLAGS)
tests_fixtures_bad_abi_la_LDFLAGS = $(RUV_FIXTURE_LDFLAGS)
tests_fixtures_no_symbol_la_SOURCES = tests/fixtures/no_symbol.c
tests_fixtures_no_symbol_la_CFLAGS = $(RUV_FIXTURE_CFLAGS)
tests_fixtures_no_symbol_la_LDFLAGS = $(RUV_FIXTURE_LDFLAGS)
tests_fixtures_wrong_name_la_SOURCES = tests/fixtures/wrong_name.c
tests_fixtures_wrong_name_la_CFLAGS = $(RUV_FIXTURE_CFLAGS)
tests_fixtures_wrong_name_la_LDFLAGS = $(RUV_FIXTURE_LDFLAGS)
tests_fixtures_fails_selftest_la_SOURCES = tests/fixtures/fails_selftest.c tests/fixtures/fixture_kernel.h
tests_fixtures_fails_selftest_la_CFLAGS = $(RUV_FIXTURE_CFLAGS)
tests_fixtures_fails_selftest_la_LDFLAGS = $(RUV_FIXTURE_LDFLAGS)
tests_fixtures_wrong_kernel_la_SOURCES = tests/fixtures/wrong_kernel.c
tests_fixtures_wrong_kernel_la_CFLAGS = $(RUV_FIXTURE_CFLAGS)
tests_fixtures_wrong_kernel_la_LDFLAGS = $(RUV_FIXTURE_LDFLAGS)
tests_fixtures_needs_impossible_isa_la_SOURCES = tests/fixtures/needs_impossible_isa.c
tests_fixtures_needs_impossible_isa_la_CFLAGS = $(RUV_FIXTURE_CFLAGS)
tests_fixtures_needs_impossible_isa_la_LDFLAGS = $(RUV_FIXTURE_LDFLAGS)
tests_fixtures_declines_la_SOURCES = tests/fixtures/declines.c
tests_fixtures_declines_la_CFLAGS = $(RUV_FIXTURE_CFLAGS)
tests_fixtures_declines_la_LDFLAGS = $(RUV_FIXTURE_LDFLAGS)
tests_fixtures_bad_flags_la_SOURCES = tests/fixtures/bad_flags.c
tests_fixtures_bad_flags_la_CFLAGS = $(RUV_FIXTURE_CFLAGS)
tests_fixtures_bad_flags_la_LDFLAGS = $(RUV_FIXTURE_LDFLAGS)
tests_fixtures_broken_avx2_la_SOURCES = tests/fixtures/broken/avx2.c
tests_fixtures_broken_avx2_la_CFLAGS = $(RUV_FIXTURE_CFLAGS)
tests_fixtures_broken_avx2_la_LDFLAGS = $(RUV_FIXTURE_LDFLAGS)

# ---- one translation unit per public header, and the C host example ----
check_PROGRAMS += tests/test_headers examples/host
tests_test_headers_SOURCES = tests/test_headers.c tests/headers/error.c tests/headers/cpu.c \
	tests/headers/engine.c tests/headers/kernel.c tests/headers/plugin.c \
	tests/headers/version.c tests/headers/ruvector.c tests/headers/index.c \
	tests/headers/kernel_isa.c tests/headers/feature_a2a.c tests/headers/feature_lake.c tests/headers/feature_embed.c tests/headers/cancel.c
tests_test_headers_LDADD = engine/libruvector.la
examples_host_SOURCES = examples/host.c
examples_host_LDADD = engine/libruvector.la
TESTS += tests/test_headers tests/host-scalar.sh

# ---- kernel matrix: the same checks once per kernel (SKIP when the CPU lacks its ISA) ----
TESTS += tests/kernel-scalar.sh tests/kernel-avx2.sh tests/kernel-avx512.sh tests/kernel-neon.sh
EXTRA_DIST += tests/host-scalar.sh tests/kernel-scalar.sh tests/kernel-avx2.sh \
	tests/kernel-avx512.sh tests/kernel-neon.sh tests/cli.sh tests/cli-index.sh \
	tests/cli-interrupt.sh

# ---- engine layering: no upward include, no include cycle (tests/layers.sh) ----
TESTS += tests/layers.sh
EXTRA_DIST += tests/layers.sh

# ---- what libruvector links (no hwloc; no libltdl with --with-included-ltdl) ----
TESTS += tests/lib-deps.sh
EXTRA_DIST += tests/lib-deps.sh

# ---- CLI behaviour (info, forcing, errors) ----
TESTS += tests/cli.sh tests/cli-index.sh tests/cli-interrupt.sh

if HAVE_CMOCKA
RUV_CMOCKA_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
RUV_CMOCKA_LDADD = engine/libruvector.la $(CMOCKA_LIBS) -lpthread -lm
# White-box tests reach the engine-private ruv__ functions (not exported
# from libruvector) by linking the engine's core library instead.
RUV_WHITEBOX_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/engine
RUV_WHITEBOX_LDADD = $(RUV_CORE_LIBS) $(CMOCKA_LIBS)
check_PROGRAMS += tests/test_errors tests/test_config tests/test_cpu tests/test_loader \
	tests/test_kernels
tests_test_errors_SOURCES = tests/test_errors.c
tests_test_errors_CFLAGS = $(RUV_CMOCKA_CFLAGS)
tests_test_errors_LDADD = $(RUV_CMOCKA_LDADD)
tests_test_config_SOURCES = tests/test_config.c
tests_test_config_CFLAGS = $(RUV_CMOCKA_CFLAGS)
tests_test_config_LDADD = $(RUV_CMOCKA_LDADD)
tests_test_cpu_SOURCES = tests/test_cpu.c
tests_test_cpu_CFLAGS = $(RUV_CMOCKA_CFLAGS)
tests_test_cpu_LDADD = $(RUV_CMOCKA_LDADD)
check_PROGRAMS += tests/test_host
TESTS += tests/test_host
tests_test_host_SOURCES = tests/test_host.c tests/fixtures/fixture_host.h
tests_test_host_CFLAGS = $(RUV_CMOCKA_CFLAGS)
tests_test_host_LDADD = $(RUV_CMOCKA_LDADD)
tests_test_loader_SOURCES = tests/test_loader.c tests/fixtures/fixture_feature.h
tests_test_loader_CFLAGS = $(RUV_CMOCKA_CFLAGS)
tests_test_loader_LDADD = $(RUV_CMOCKA_LDADD)
# The kernel matrix calls the engine's conformance check itself (a private
# function, not exported from libruvector): it links the core library.
tests_test_kernels_SOURCES = tests/test_kernels.c
tests_test_kernels_CPPFLAGS = $(RUV_WHITEBOX_CPPFLAGS)
tests_test_kernels_CFLAGS = $(RUV_CMOCKA_CFLAGS)
tests_test_kernels_LDADD = $(RUV_WHITEBOX_LDADD)
TESTS += tests/test_errors tests/test_config tests/test_cpu tests/test_loader
# Per-slot kernel selection over the race fixtures; builds cache files with
# the engine's CRC-32C (white-box).
check_PROGRAMS += tests/test_kernel_slots
TESTS += tests/test_kernel_slots
tests_test_kernel_slots_SOURCES = tests/test_kernel_slots.c
tests_test_kernel_slots_CPPFLAGS = $(RUV_WHITEBOX_CPPFLAGS)
tests_test_kernel_slots_CFLAGS = $(RUV_CMOCKA_CFLAGS)
tests_test_kernel_slots_LDADD = $(RUV_WHITEBOX_LDADD)
check_PROGRAMS += tests/test_index
tests_test_index_SOURCES = tests/test_index.c tests/testdata.h
tests_test_index_CFLAGS = $(RUV_CMOCKA_CFLAGS)
tests_test_index_LDADD = $(RUV_CMOCKA_LDADD)
TESTS += tests/test_index
# FlatF32Index's exact scans (single and batch) against a reference scan.
check_PROGRAMS += tests/test_flat_scan
tests_test_flat_scan_SOURCES = tests/test_flat_scan.c tests/testdata.h
tests_test_flat_scan_CFLAGS = $(RUV_CMOCKA_CFLAGS)
tests_test_flat_scan_LDADD = $(RUV_CMOCKA_LDADD)
TESTS += tests/test_flat_scan
# The plan and calibration; reads the calibration curve (white-box).
check_PROGRAMS += tests/test_plan
tests_test_plan_SOURCES = tests/test_plan.c tests/testdata.h tests/fileimage.h
tests_test_plan_CPPFLAGS = $(RUV_WHITEBOX_CPPFLAGS)
tests_test_plan_CFLAGS = $(RUV_CMOCKA_CFLAGS)
tests_test_plan_LDADD = $(RUV_WHITEBOX_LDADD)
TESTS += tests/test_plan
check_PROGRAMS += tests/test_plan_bounds
tests_test_plan_bounds_SOURCES = tests/test_plan_bounds.c tests/testdata.h tests/fileimage.h
tests_test_plan_bounds_CPPFLAGS = $(RUV_WHITEBOX_CPPFLAGS)
tests_test_plan_bounds_CFLAGS = $(RUV_CMOCKA_CFLAGS)
tests_test_plan_bounds_LDADD = $(RUV_WHITEBOX_LDADD)
TESTS += tests/test_plan_bounds

check_PROGRAMS += tests/test_adaptive
tests_test_adaptive_SOURCES = tests/test_adaptive.c tests/testdata.h tests/fileimage.h
tests_test_adaptive_CPPFLAGS = $(RUV_WHITEBOX_CPPFLAGS)
tests_test_adaptive_CFLAGS = $(RUV_CMOCKA_CFLAGS)
tests_test_adaptive_LDADD = $(RUV_WHITEBOX_LDADD)
TESTS += tests/test_adaptive

check_PROGRAMS += tests/test_rq_screen
tests_test_rq_screen_SOURCES = tests/test_rq_screen.c tests/testdata.h
tests_test_rq_screen_CPPFLAGS = $(RUV_WHITEBOX_CPPFLAGS)
tests_test_rq_screen_CFLAGS = $(RUV_CMOCKA_CFLAGS)
tests_test_rq_screen_LDADD = $(RUV_WHITEBOX_LDADD)
TESTS += tests/test_rq_screen

check_PROGRAMS += tests/test_fewest_bits
tests_test_fewest_bits_SOURCES = tests/test_fewest_bits.c tests/testdata.h
tests_test_fewest_bits_CPPFLAGS = $(RUV_WHITEBOX_CPPFLAGS)
tests_test_fewest_bits_CFLAGS = $(RUV_CMOCKA_CFLAGS)
tests_test_fewest_bits_LDADD = $(RUV_WHITEBOX_LDADD)
TESTS += tests/test_fewest_bits
check_PROGRAMS += tests/test_hostile tests/test_hostile_data
tests_test_hostile_SOURCES = tests/test_hostile.c tests/hostile.h tests/fuzz/container_edit.h
tests_test_hostile_CFLAGS = $(RUV_CMOCKA_CFLAGS)
tests_test_hostile_LDADD = $(RUV_CMOCKA_LDADD)
tests_test_hostile_data_SOURCES = tests/test_hostile_data.c tests/hostile.h
tests_test_hostile_data_CFLAGS = $(RUV_CMOCKA_CFLAGS)
tests_test_hostile_data_LDADD = $(RUV_CMOCKA_LDADD)
TESTS += tests/test_hostile tests/test_hostile_data
# Topology sources (private ruv__ names).
check_PROGRAMS += tests/test_topo
tests_test_topo_SOURCES = tests/test_topo.c
tests_test_topo_CPPFLAGS = $(RUV_WHITEBOX_CPPFLAGS)
tests_test_topo_CFLAGS = $(RUV_CMOCKA_CFLAGS) $(PTHREAD_CFLAGS)
tests_test_topo_LDADD = $(RUV_WHITEBOX_LDADD)
TESTS += tests/test_topo
if HAVE_HWLOC_H
# engine/cpu/hwloc_abi.h against the installed hwloc.h (headers only, no libhwloc).
check_PROGRAMS += tests/test_hwloc_abi
tests_test_hwloc_abi_SOURCES = tests/test_hwloc_abi.c
tests_test_hwloc_abi_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/engine
tests_test_hwloc_abi_CFLAGS = $(RUV_CMOCKA_CFLAGS) $(HWLOC_CFLAGS)
tests_test_hwloc_abi_LDADD = $(CMOCKA_LIBS)
TESTS += tests/test_hwloc_abi
endif
endif
if HAVE_CMOCKA
# Run-time BLAS and k-means for IVF.
check_PROGRAMS += tests/test_kmeans
TESTS += tests/test_kmeans
tests_test_kmeans_SOURCES = tests/test_kmeans.c
tests_test_kmeans_CPPFLAGS = $(RUV_WHITEBOX_CPPFLAGS)
tests_test_kmeans_CFLAGS = $(RUV_CMOCKA_CFLAGS) $(PTHREAD_CFLAGS)
tests_test_kmeans_LDADD = $(RUV_WHITEBOX_LDADD)
# The index file container (engine/store).
check_PROGRAMS += tests/test_durable tests/test_pool tests/test_cancel
TESTS += tests/test_durable tests/test_pool tests/test_cancel
tests_test_durable_SOURCES = tests/test_durable.c
tests_test_durable_CPPFLAGS = $(RUV_WHITEBOX_CPPFLAGS)
tests_test_durable_CFLAGS = $(RUV_CMOCKA_CFLAGS)
tests_test_durable_LDADD = $(RUV_WHITEBOX_LDADD)
tests_test_pool_SOURCES = tests/test_pool.c
tests_test_pool_CPPFLAGS = $(RUV_WHITEBOX_CPPFLAGS)
tests_test_pool_CFLAGS = $(RUV_CMOCKA_CFLAGS) $(PTHREAD_CFLAGS)
tests_test_pool_LDADD = $(RUV_WHITEBOX_LDADD)
# Cancel tokens: builds, adds and batch searches stopped from every side.
tests_test_cancel_SOURCES = tests/test_cancel.c tests/testdata.h
tests_test_cancel_CPPFLAGS = $(RUV_WHITEBOX_CPPFLAGS)
tests_test_cancel_CFLAGS = $(RUV_CMOCKA_CFLAGS) $(PTHREAD_CFLAGS)
tests_test_cancel_LDADD = $(RUV_WHITEBOX_LDADD) $(PTHREAD_LIBS)

check_PROGRAMS += tests/test_persist
TESTS += tests/test_persist
tests_test_persist_SOURCES = tests/test_persist.c
tests_test_persist_CPPFLAGS = $(RUV_WHITEBOX_CPPFLAGS)
tests_test_persist_CFLAGS = $(RUV_CMOCKA_CFLAGS)
tests_test_persist_LDADD = $(RUV_WHITEBOX_LDADD)
# The RaBitQ numerical core (engine/index/rabitq).
check_PROGRAMS += tests/test_rabitq
TESTS += tests/test_rabitq
tests_test_rabitq_SOURCES = tests/test_rabitq.c
tests_test_rabitq_CPPFLAGS = $(RUV_WHITEBOX_CPPFLAGS)
tests_test_rabitq_CFLAGS = $(RUV_CMOCKA_CFLAGS)
tests_test_rabitq_LDADD = $(RUV_WHITEBOX_LDADD)
# The 1-bit list scan of the RaBitQ search against a one-lane-at-a-time reference.
check_PROGRAMS += tests/test_rabitq_scan
TESTS += tests/test_rabitq_scan
tests_test_rabitq_scan_SOURCES = tests/test_rabitq_scan.c
tests_test_rabitq_scan_CPPFLAGS = $(RUV_WHITEBOX_CPPFLAGS)
tests_test_rabitq_scan_CFLAGS = $(RUV_CMOCKA_CFLAGS)
tests_test_rabitq_scan_LDADD = $(RUV_WHITEBOX_LDADD)
# The integer query of the whole-code dot: its error bound, the bounds it
# widens, and rabitq_plus's top-10 through it.
check_PROGRAMS += tests/test_rabitq_int
TESTS += tests/test_rabitq_int
tests_test_rabitq_int_SOURCES = tests/test_rabitq_int.c tests/testdata.h
tests_test_rabitq_int_CPPFLAGS = $(RUV_WHITEBOX_CPPFLAGS)
tests_test_rabitq_int_CFLAGS = $(RUV_CMOCKA_CFLAGS)
tests_test_rabitq_int_LDADD = $(RUV_WHITEBOX_LDADD)
endif
# The per-thread search scratch: reuse, threads, nesting (white-box).
check_PROGRAMS += tests/test_search_scratch
tests_test_search_scratch_SOURCES = tests/test_search_scratch.c tests/testdata.h
tests_test_search_scratch_CPPFLAGS = $(RUV_WHITEBOX_CPPFLAGS)
tests_test_search_scratch_CFLAGS = $(RUV_CMOCKA_CFLAGS)
tests_test_search_scratch_LDADD = $(RUV_WHITEBOX_LDADD)
TESTS += tests/test_search_scratch

check_PROGRAMS += tests/test_cal_truth
tests_test_cal_truth_SOURCES = tests/test_cal_truth.c tests/testdata.h
tests_test_cal_truth_CPPFLAGS = $(RUV_WHITEBOX_CPPFLAGS)
tests_test_cal_truth_CFLAGS = $(RUV_CMOCKA_CFLAGS)
tests_test_cal_truth_LDADD = $(RUV_WHITEBOX_LDADD)
TESTS += tests/test_cal_truth

check_PROGRAMS += tests/test_cal_ladder
tests_test_cal_ladder_SOURCES = tests/test_cal_ladder.c tests/testdata.h
tests_test_cal_ladder_CPPFLAGS = $(RUV_WHITEBOX_CPPFLAGS)
tests_test_cal_ladder_CFLAGS = $(RUV_CMOCKA_CFLAGS)
tests_test_cal_ladder_LDADD = $(RUV_WHITEBOX_LDADD)
TESTS += tests/test_cal_ladder
