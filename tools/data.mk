# CLI data files and index subcommands (ruvector build / search / bench).
# Included from the top Makefile.am after tools/local.mk; paths are relative
# to the top directory.
DATAIO_SOURCES = tools/dataio.h tools/dataio_internal.h tools/dataio.c tools/dataio_parse.c \
	tools/dataio_npy.c tools/dataio_write.c
tools_ruvector_SOURCES += $(DATAIO_SOURCES) \
	tools/cli_options.c tools/cli_options.h tools/cli_util.c tools/cli_util.h \
	tools/index_opts.c tools/index_opts.h tools/results.c tools/results.h \
	tools/cli_cancel.c tools/cli_cancel.h tools/cmd_build.c tools/cmd_search.c \
	tools/bench.h tools/cmd_bench.c tools/bench_truth.c tools/bench_measure.c \
	tools/bench_report.c

# The readers are tested on their own, without libruvector: every file the
# tests read is generated in a temporary directory.
if HAVE_CMOCKA
check_PROGRAMS += tests/test_dataio
tests_test_dataio_SOURCES = tests/test_dataio.c $(DATAIO_SOURCES)
tests_test_dataio_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tools
tests_test_dataio_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_dataio_LDADD = $(CMOCKA_LIBS) -lm
TESTS += tests/test_dataio
endif

# libFuzzer target (built by hand with clang; see the file's header).
EXTRA_DIST += tests/fuzz/fuzz_dataio.c
