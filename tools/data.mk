# CLI data files and index subcommands (ruvector build / search / bench).
# Included from the top Makefile.am after tools/local.mk; paths are relative
# to the top directory.
tools_ruvector_SOURCES += tools/dataio.c tools/dataio.h tools/cmd_index.c tools/cmd_index.h

# The readers are tested on their own, without libruvector: every file the
# tests read is generated in a temporary directory.
if HAVE_CMOCKA
check_PROGRAMS += tests/test_dataio
tests_test_dataio_SOURCES = tests/test_dataio.c tools/dataio.c tools/dataio.h
tests_test_dataio_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tools
tests_test_dataio_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_dataio_LDADD = $(CMOCKA_LIBS) -lm
TESTS += tests/test_dataio
endif

# libFuzzer target (built by hand with clang; see the file's header).
EXTRA_DIST += tests/fuzz/fuzz_dataio.c
