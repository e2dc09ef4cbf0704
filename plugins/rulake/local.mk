# ruLake (issue 10): the `rulake` feature plugin (plugin.c: descriptor and
# the first ops of include/ruvector/feature-lake.h) over a convenience
# library (libcrypto shim, witnesses, sidecar, FsBackend file formats) that
# the unit tests also link on their own. It links jansson, never libcrypto
# (dlopen) and never libruvector (the host table).
# jansson in the wheel: Debian's libjansson.a is not PIC (value.o has
# R_X86_64_PC32 relocations), so it cannot go into a plugin .so; either let
# auditwheel vendor libjansson.so.4 (53 KB of text) or build jansson 2.14
# from source with -fPIC and link that static library.
if HAVE_JANSSON
noinst_LTLIBRARIES += plugins/rulake/liblake_core.la
plugins_rulake_liblake_core_la_SOURCES = \
	plugins/rulake/bytes.h \
	plugins/common/detail.c plugins/common/detail.h plugins/rulake/lake_error.h \
	plugins/rulake/crypto.c plugins/rulake/crypto.h plugins/rulake/crypto_abi.h \
	plugins/rulake/witness.c plugins/rulake/witness.h \
	plugins/rulake/lake_write.c plugins/rulake/lake_write.h \
	plugins/rulake/sidecar.h plugins/rulake/sidecar_read.c plugins/rulake/sidecar_write.c \
	plugins/rulake/ruvec.h plugins/rulake/ruvec_internal.h plugins/rulake/ruvec_common.c \
	plugins/rulake/ruvec1.c plugins/rulake/ruvec2.c \
	plugins/rulake/digest_pool.c plugins/rulake/digest_pool.h
plugins_rulake_liblake_core_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/rulake
plugins_rulake_liblake_core_la_CFLAGS = $(AM_CFLAGS) $(PTHREAD_CFLAGS) $(JANSSON_CFLAGS) \
	-fvisibility=hidden
plugins_rulake_liblake_core_la_LIBADD = $(JANSSON_LIBS) $(PTHREAD_LIBS) -ldl

plugin_LTLIBRARIES += plugins/rulake/rulake.la
plugins_rulake_rulake_la_SOURCES = plugins/rulake/plugin.c \
	plugins/rulake/lake_internal.h plugins/rulake/lake_backends.h \
	plugins/rulake/lake.c plugins/rulake/cache.c plugins/rulake/coherence.c \
	plugins/rulake/search.c plugins/rulake/backend_local.c plugins/rulake/backend_fs.c \
	plugins/rulake/local_rows.c plugins/rulake/local_rows.h \
	plugins/rulake/cachedir.c plugins/rulake/submit.c plugins/rulake/bundle.c
plugins_rulake_rulake_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/rulake
plugins_rulake_rulake_la_CFLAGS = $(AM_CFLAGS) $(PTHREAD_CFLAGS) $(JANSSON_CFLAGS) \
	-fvisibility=hidden
plugins_rulake_rulake_la_LDFLAGS = -module -avoid-version -no-undefined -Wl,-z,defs \
	-export-symbols-regex '^ruv_plugin_rulake$$'
plugins_rulake_rulake_la_LIBADD = plugins/rulake/liblake_core.la $(JANSSON_LIBS) \
	$(PTHREAD_LIBS) -ldl -lm

# A small program the hashlib cross-check drives (stdin → hex lines).
check_PROGRAMS += tests/rulake/witness_cli
tests_rulake_witness_cli_SOURCES = tests/rulake/witness_cli.c
tests_rulake_witness_cli_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/rulake
tests_rulake_witness_cli_LDADD = plugins/rulake/liblake_core.la
TESTS += tests/rulake/witness-hashlib.sh
EXTRA_DIST += tests/rulake/witness-hashlib.sh tests/rulake/witness_hashlib.py \
	tests/rulake/lake_ref.py

# Our libcrypto declarations against the real headers (compile-time only).
if HAVE_OPENSSL_H
check_PROGRAMS += tests/rulake/test_lake_crypto_abi
TESTS += tests/rulake/test_lake_crypto_abi
tests_rulake_test_lake_crypto_abi_SOURCES = tests/rulake/test_lake_crypto_abi.c
tests_rulake_test_lake_crypto_abi_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/rulake \
	$(OPENSSL_CFLAGS)
endif

if HAVE_CMOCKA
RUV_LAKE_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/rulake
RUV_LAKE_TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS)
RUV_LAKE_TEST_LDADD = plugins/rulake/liblake_core.la $(CMOCKA_LIBS)
check_PROGRAMS += tests/rulake/test_lake_witness
TESTS += tests/rulake/test_lake_witness
tests_rulake_test_lake_witness_SOURCES = tests/rulake/test_lake_witness.c tests/rulake/lake_test.h
tests_rulake_test_lake_witness_CPPFLAGS = $(RUV_LAKE_TEST_CPPFLAGS)
tests_rulake_test_lake_witness_CFLAGS = $(RUV_LAKE_TEST_CFLAGS)
tests_rulake_test_lake_witness_LDADD = $(RUV_LAKE_TEST_LDADD)
check_PROGRAMS += tests/rulake/test_lake_digest
TESTS += tests/rulake/test_lake_digest
tests_rulake_test_lake_digest_SOURCES = tests/rulake/test_lake_digest.c tests/rulake/lake_test.h
tests_rulake_test_lake_digest_CPPFLAGS = $(RUV_LAKE_TEST_CPPFLAGS)
tests_rulake_test_lake_digest_CFLAGS = $(RUV_LAKE_TEST_CFLAGS) $(PTHREAD_CFLAGS)
tests_rulake_test_lake_digest_LDADD = $(RUV_LAKE_TEST_LDADD) $(PTHREAD_LIBS)
check_PROGRAMS += tests/rulake/test_lake_sidecar
TESTS += tests/rulake/test_lake_sidecar
tests_rulake_test_lake_sidecar_SOURCES = tests/rulake/test_lake_sidecar.c tests/rulake/lake_test.h tests/rulake/lake_example.h
tests_rulake_test_lake_sidecar_CPPFLAGS = $(RUV_LAKE_TEST_CPPFLAGS)
tests_rulake_test_lake_sidecar_CFLAGS = $(RUV_LAKE_TEST_CFLAGS)
tests_rulake_test_lake_sidecar_LDADD = $(RUV_LAKE_TEST_LDADD) $(JANSSON_LIBS)
check_PROGRAMS += tests/rulake/test_lake_ruvec
TESTS += tests/rulake/test_lake_ruvec
tests_rulake_test_lake_ruvec_SOURCES = tests/rulake/test_lake_ruvec.c tests/rulake/lake_test.h
tests_rulake_test_lake_ruvec_CPPFLAGS = $(RUV_LAKE_TEST_CPPFLAGS) -I$(top_srcdir)/engine
tests_rulake_test_lake_ruvec_CFLAGS = $(RUV_LAKE_TEST_CFLAGS)
# RUV_CORE_LIBS: the engine's host table, so the durable-write path runs
# through host->file as it does in the plugin.
tests_rulake_test_lake_ruvec_LDADD = $(RUV_LAKE_TEST_LDADD) $(RUV_CORE_LIBS)
# The plugin loaded by an engine (tests/local.mk puts plugins/rulake on
# RUVECTOR_PLUGIN_PATH); links the convenience library only to write
# sidecars for sidecar_verify to read.
check_PROGRAMS += tests/rulake/test_lake_plugin
TESTS += tests/rulake/test_lake_plugin
tests_rulake_test_lake_plugin_SOURCES = tests/rulake/test_lake_plugin.c tests/rulake/lake_test.h tests/rulake/lake_example.h
tests_rulake_test_lake_plugin_CPPFLAGS = $(RUV_LAKE_TEST_CPPFLAGS)
tests_rulake_test_lake_plugin_CFLAGS = $(RUV_LAKE_TEST_CFLAGS) $(PTHREAD_CFLAGS)
tests_rulake_test_lake_plugin_LDADD = $(RUV_LAKE_TEST_LDADD) engine/libruvector.la $(PTHREAD_LIBS)
# The lake (ops version 2) through the loaded plugin: backends, coherence,
# single-flight, eviction, federation, the §11 rows it covers.
RUV_LAKE_CACHE_TEST_SOURCES = tests/rulake/lake_test.h tests/rulake/lake_cache_test.h
RUV_LAKE_CACHE_TEST_CFLAGS = $(RUV_LAKE_TEST_CFLAGS) $(PTHREAD_CFLAGS)
RUV_LAKE_CACHE_TEST_LDADD = $(RUV_LAKE_TEST_LDADD) engine/libruvector.la $(PTHREAD_LIBS)
check_PROGRAMS += tests/rulake/test_lake_cache
TESTS += tests/rulake/test_lake_cache
tests_rulake_test_lake_cache_SOURCES = tests/rulake/test_lake_cache.c $(RUV_LAKE_CACHE_TEST_SOURCES)
tests_rulake_test_lake_cache_CPPFLAGS = $(RUV_LAKE_TEST_CPPFLAGS)
tests_rulake_test_lake_cache_CFLAGS = $(RUV_LAKE_CACHE_TEST_CFLAGS)
tests_rulake_test_lake_cache_LDADD = $(RUV_LAKE_CACHE_TEST_LDADD)
check_PROGRAMS += tests/rulake/test_lake_share
TESTS += tests/rulake/test_lake_share
tests_rulake_test_lake_share_SOURCES = tests/rulake/test_lake_share.c $(RUV_LAKE_CACHE_TEST_SOURCES)
tests_rulake_test_lake_share_CPPFLAGS = $(RUV_LAKE_TEST_CPPFLAGS)
tests_rulake_test_lake_share_CFLAGS = $(RUV_LAKE_CACHE_TEST_CFLAGS)
tests_rulake_test_lake_share_LDADD = $(RUV_LAKE_CACHE_TEST_LDADD)
check_PROGRAMS += tests/rulake/test_lake_leaves
TESTS += tests/rulake/test_lake_leaves
tests_rulake_test_lake_leaves_SOURCES = tests/rulake/test_lake_leaves.c $(RUV_LAKE_CACHE_TEST_SOURCES)
tests_rulake_test_lake_leaves_CPPFLAGS = $(RUV_LAKE_TEST_CPPFLAGS)
tests_rulake_test_lake_leaves_CFLAGS = $(RUV_LAKE_CACHE_TEST_CFLAGS)
tests_rulake_test_lake_leaves_LDADD = $(RUV_LAKE_CACHE_TEST_LDADD)
# The LocalBackend's writes: in place or copied, against a model.
check_PROGRAMS += tests/rulake/test_lake_local_writes
TESTS += tests/rulake/test_lake_local_writes
tests_rulake_test_lake_local_writes_SOURCES = tests/rulake/test_lake_local_writes.c \
	$(RUV_LAKE_CACHE_TEST_SOURCES)
tests_rulake_test_lake_local_writes_CPPFLAGS = $(RUV_LAKE_TEST_CPPFLAGS)
tests_rulake_test_lake_local_writes_CFLAGS = $(RUV_LAKE_CACHE_TEST_CFLAGS)
tests_rulake_test_lake_local_writes_LDADD = $(RUV_LAKE_CACHE_TEST_LDADD)
check_PROGRAMS += tests/rulake/test_lake_warm
TESTS += tests/rulake/test_lake_warm
tests_rulake_test_lake_warm_SOURCES = tests/rulake/test_lake_warm.c $(RUV_LAKE_CACHE_TEST_SOURCES)
tests_rulake_test_lake_warm_CPPFLAGS = $(RUV_LAKE_TEST_CPPFLAGS)
tests_rulake_test_lake_warm_CFLAGS = $(RUV_LAKE_CACHE_TEST_CFLAGS)
tests_rulake_test_lake_warm_LDADD = $(RUV_LAKE_CACHE_TEST_LDADD)
check_PROGRAMS += tests/rulake/test_lake_cachedir
TESTS += tests/rulake/test_lake_cachedir
tests_rulake_test_lake_cachedir_SOURCES = tests/rulake/test_lake_cachedir.c \
	$(RUV_LAKE_CACHE_TEST_SOURCES)
tests_rulake_test_lake_cachedir_CPPFLAGS = $(RUV_LAKE_TEST_CPPFLAGS)
tests_rulake_test_lake_cachedir_CFLAGS = $(RUV_LAKE_CACHE_TEST_CFLAGS)
tests_rulake_test_lake_cachedir_LDADD = $(RUV_LAKE_CACHE_TEST_LDADD)
check_PROGRAMS += tests/rulake/test_lake_bundle
TESTS += tests/rulake/test_lake_bundle
tests_rulake_test_lake_bundle_SOURCES = tests/rulake/test_lake_bundle.c $(RUV_LAKE_CACHE_TEST_SOURCES)
tests_rulake_test_lake_bundle_CPPFLAGS = $(RUV_LAKE_TEST_CPPFLAGS)
tests_rulake_test_lake_bundle_CFLAGS = $(RUV_LAKE_CACHE_TEST_CFLAGS)
tests_rulake_test_lake_bundle_LDADD = $(RUV_LAKE_CACHE_TEST_LDADD)
check_PROGRAMS += tests/rulake/test_lake_evict
TESTS += tests/rulake/test_lake_evict
tests_rulake_test_lake_evict_SOURCES = tests/rulake/test_lake_evict.c $(RUV_LAKE_CACHE_TEST_SOURCES)
tests_rulake_test_lake_evict_CPPFLAGS = $(RUV_LAKE_TEST_CPPFLAGS)
tests_rulake_test_lake_evict_CFLAGS = $(RUV_LAKE_CACHE_TEST_CFLAGS)
tests_rulake_test_lake_evict_LDADD = $(RUV_LAKE_CACHE_TEST_LDADD)
# What a prime leaves resident against what the cache counts (T6).
check_PROGRAMS += tests/rulake/test_lake_memory
TESTS += tests/rulake/test_lake_memory
tests_rulake_test_lake_memory_SOURCES = tests/rulake/test_lake_memory.c \
	$(RUV_LAKE_CACHE_TEST_SOURCES)
tests_rulake_test_lake_memory_CPPFLAGS = $(RUV_LAKE_TEST_CPPFLAGS)
tests_rulake_test_lake_memory_CFLAGS = $(RUV_LAKE_CACHE_TEST_CFLAGS)
tests_rulake_test_lake_memory_LDADD = $(RUV_LAKE_CACHE_TEST_LDADD)
check_PROGRAMS += tests/rulake/test_lake_async
TESTS += tests/rulake/test_lake_async
tests_rulake_test_lake_async_SOURCES = tests/rulake/test_lake_async.c $(RUV_LAKE_CACHE_TEST_SOURCES)
tests_rulake_test_lake_async_CPPFLAGS = $(RUV_LAKE_TEST_CPPFLAGS)
tests_rulake_test_lake_async_CFLAGS = $(RUV_LAKE_CACHE_TEST_CFLAGS)
tests_rulake_test_lake_async_LDADD = $(RUV_LAKE_CACHE_TEST_LDADD)
endif
endif

# ---- libFuzzer targets for the sidecar and ruvec readers (not in make check) ----
# Clang and compiler-rt as for fuzz-persist (engine/persist.mk, whose
# RUV_FUZZ_* settings these share); seeds come from a Python generator:
#   make fuzz-lake [RUV_FUZZ_CC=clang-14]
#   mkdir -p corpus-sidecar corpus-ruvec corpus-ruvec-strict
#   nice -n 10 tests/fuzz/fuzz_lake_sidecar -max_len=70000 -max_total_time=300 \
#       -dict=$(top_srcdir)/tests/fuzz/lake-sidecar.dict \
#       corpus-sidecar tests/fuzz/lake-seeds/sidecar
#   nice -n 10 tests/fuzz/fuzz_lake_ruvec -max_len=8192 -max_total_time=300 \
#       corpus-ruvec tests/fuzz/lake-seeds/ruvec
#   nice -n 10 tests/fuzz/fuzz_lake_ruvec_strict -max_len=8192 -max_total_time=300 \
#       corpus-ruvec-strict tests/fuzz/lake-seeds/ruvec
#   nice -n 10 tests/fuzz/fuzz_lake_pem -max_len=4096 -max_total_time=300 \
#       corpus-pem tests/fuzz/lake-seeds/pem
if HAVE_JANSSON
EXTRA_DIST += tests/fuzz/fuzz_lake_sidecar.c tests/fuzz/fuzz_lake_ruvec.c \
	tests/fuzz/fuzz_lake_pem.c tests/fuzz/gen_lake_seeds.py tests/fuzz/lake-sidecar.dict
RUV_FUZZ_LAKE_BUILD = \
	srcs=; for f in $(plugins_rulake_liblake_core_la_SOURCES); do \
	  case $$f in *.c) srcs="$$srcs $(top_srcdir)/$$f";; esac; done; \
	$(MKDIR_P) tests/fuzz && \
	$(RUV_FUZZ_CC) $(RUV_FUZZ_CFLAGS) -I$(top_builddir) $(AM_CPPFLAGS) \
	  -I$(top_srcdir)/plugins/rulake $(JANSSON_CFLAGS) $(PTHREAD_CFLAGS)
RUV_FUZZ_LAKE_LIBS = $(JANSSON_LIBS) $(PTHREAD_LIBS) -ldl
tests/fuzz/fuzz_lake_sidecar: $(plugins_rulake_liblake_core_la_SOURCES) \
		tests/fuzz/fuzz_lake_sidecar.c config.h
	$(RUV_FUZZ_LAKE_BUILD) $(top_srcdir)/tests/fuzz/fuzz_lake_sidecar.c $$srcs \
	  $(RUV_FUZZ_LAKE_LIBS) -o $@
tests/fuzz/fuzz_lake_ruvec: $(plugins_rulake_liblake_core_la_SOURCES) \
		tests/fuzz/fuzz_lake_ruvec.c config.h
	$(RUV_FUZZ_LAKE_BUILD) -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION \
	  $(top_srcdir)/tests/fuzz/fuzz_lake_ruvec.c $$srcs $(RUV_FUZZ_LAKE_LIBS) -o $@
tests/fuzz/fuzz_lake_ruvec_strict: $(plugins_rulake_liblake_core_la_SOURCES) \
		tests/fuzz/fuzz_lake_ruvec.c config.h
	$(RUV_FUZZ_LAKE_BUILD) $(top_srcdir)/tests/fuzz/fuzz_lake_ruvec.c $$srcs \
	  $(RUV_FUZZ_LAKE_LIBS) -o $@
tests/fuzz/fuzz_lake_pem: $(plugins_rulake_liblake_core_la_SOURCES) \
		tests/fuzz/fuzz_lake_pem.c config.h
	$(RUV_FUZZ_LAKE_BUILD) $(top_srcdir)/tests/fuzz/fuzz_lake_pem.c $$srcs \
	  $(RUV_FUZZ_LAKE_LIBS) -o $@
fuzz-lake-seeds:
	rm -rf tests/fuzz/lake-seeds
	python3 $(top_srcdir)/tests/fuzz/gen_lake_seeds.py tests/fuzz/lake-seeds
fuzz-lake: tests/fuzz/fuzz_lake_sidecar tests/fuzz/fuzz_lake_ruvec tests/fuzz/fuzz_lake_pem \
	tests/fuzz/fuzz_lake_ruvec_strict fuzz-lake-seeds
CLEANFILES += tests/fuzz/fuzz_lake_sidecar tests/fuzz/fuzz_lake_ruvec tests/fuzz/fuzz_lake_pem \
	tests/fuzz/fuzz_lake_ruvec_strict
endif
.PHONY: fuzz-lake fuzz-lake-seeds
