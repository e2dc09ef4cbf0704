# Index file container (issue 3): sectioned, CRC-32C-checked, mmap-able
# files with atomic save. Format: docs/file-format.md; API: engine/persist.h.
engine_libruvector_la_SOURCES += engine/persist.c engine/persist.h engine/crc32c.c

if HAVE_CMOCKA
check_PROGRAMS += tests/test_persist
TESTS += tests/test_persist
# The container is compiled straight into the test so it can reach the
# engine-private ruv__ functions, which the shared library does not export.
tests_test_persist_SOURCES = tests/test_persist.c \
	engine/persist.c engine/persist.h engine/crc32c.c engine/error.c
tests_test_persist_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/engine
tests_test_persist_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_persist_LDADD = $(CMOCKA_LIBS)
endif

# ---- libFuzzer target for the reader (not built by default) ----
# Needs clang with compiler-rt (Debian: clang-14 libclang-rt-14-dev):
#   make fuzz-persist [RUV_FUZZ_CC=clang-14]
#   mkdir -p corpus seeds && cp some-saved-index.idx seeds/   # any valid file
#   tests/fuzz/fuzz_persist -max_total_time=60 -max_len=4096 corpus seeds
#   tests/fuzz/fuzz_persist_strict -max_total_time=60 -max_len=4096 corpus seeds
# fuzz_persist ignores checksum mismatches (FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
# so the fuzzer gets past the CRCs to the structural checks;
# fuzz_persist_strict is the reader exactly as shipped.
EXTRA_DIST += tests/fuzz/fuzz_persist.c
RUV_FUZZ_CC = clang
RUV_FUZZ_CFLAGS = -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined
RUV_FUZZ_CPPFLAGS = -I$(top_builddir) $(AM_CPPFLAGS) -I$(top_srcdir)/engine
RUV_FUZZ_SRCS = $(top_srcdir)/tests/fuzz/fuzz_persist.c $(top_srcdir)/engine/persist.c \
	$(top_srcdir)/engine/crc32c.c $(top_srcdir)/engine/error.c
fuzz-persist: $(RUV_FUZZ_SRCS) $(top_srcdir)/engine/persist.h config.h
	$(MKDIR_P) tests/fuzz
	$(RUV_FUZZ_CC) $(RUV_FUZZ_CFLAGS) $(RUV_FUZZ_CPPFLAGS) \
		-DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION $(RUV_FUZZ_SRCS) \
		-o tests/fuzz/fuzz_persist
	$(RUV_FUZZ_CC) $(RUV_FUZZ_CFLAGS) $(RUV_FUZZ_CPPFLAGS) $(RUV_FUZZ_SRCS) \
		-o tests/fuzz/fuzz_persist_strict
.PHONY: fuzz-persist
CLEANFILES += tests/fuzz/fuzz_persist tests/fuzz/fuzz_persist_strict
