# ---- a2a offline core: cmocka tests (a2a.md §10 items 1-6, 18) ----
# They link the core's convenience library directly (no engine, no plugin
# loading). Vectors in tests/a2a/vectors/ come from Node's own JSON and
# crypto: tests/a2a/gen_vectors.mjs regenerates them.
RUV_A2A_VECTOR_FILES = tests/a2a/gen_vectors.mjs tests/a2a/vectors/es_numbers.txt \
	tests/a2a/vectors/jcs.json tests/a2a/vectors/cards.json
EXTRA_DIST += $(RUV_A2A_VECTOR_FILES) tests/a2a/a2a_test_util.h
if HAVE_A2A_CORE
if HAVE_CMOCKA
RUV_A2A_TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS) $(OPENSSL_CFLAGS) -DRUV_A2A_SRCDIR='"$(abs_top_srcdir)"'
RUV_A2A_TEST_LDADD = plugins/a2a/liba2a_core.la $(CMOCKA_LIBS) $(JANSSON_LIBS) $(OPENSSL_LIBS) -lm
check_PROGRAMS += tests/a2a/test_a2a_sse tests/a2a/test_a2a_jcs tests/a2a/test_a2a_jws
TESTS += tests/a2a/test_a2a_sse tests/a2a/test_a2a_jcs tests/a2a/test_a2a_jws
tests_a2a_test_a2a_sse_SOURCES = tests/a2a/test_a2a_sse.c
tests_a2a_test_a2a_sse_CFLAGS = $(RUV_A2A_TEST_CFLAGS)
tests_a2a_test_a2a_sse_LDADD = $(RUV_A2A_TEST_LDADD)
tests_a2a_test_a2a_jcs_SOURCES = tests/a2a/test_a2a_jcs.c tests/a2a/a2a_test_util.h
tests_a2a_test_a2a_jcs_CFLAGS = $(RUV_A2A_TEST_CFLAGS)
tests_a2a_test_a2a_jcs_LDADD = $(RUV_A2A_TEST_LDADD)
tests_a2a_test_a2a_jws_SOURCES = tests/a2a/test_a2a_jws.c tests/a2a/a2a_test_util.h
tests_a2a_test_a2a_jws_CFLAGS = $(RUV_A2A_TEST_CFLAGS)
tests_a2a_test_a2a_jws_LDADD = $(RUV_A2A_TEST_LDADD)
endif
endif
