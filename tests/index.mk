# Index tests (issue 3).
if HAVE_CMOCKA
check_PROGRAMS += tests/test_rabitq
TESTS += tests/test_rabitq
# The numerical core is compiled straight into the test so it can reach the
# engine-private ruv__ functions, which the shared library does not export.
tests_test_rabitq_SOURCES = tests/test_rabitq.c \
	engine/rotation.c engine/rabitq.c engine/kernel_scalar.c
tests_test_rabitq_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/engine
tests_test_rabitq_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_rabitq_LDADD = $(CMOCKA_LIBS) -lm
endif
