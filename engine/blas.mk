# Run-time BLAS (dlopen'ed, never linked: see engine/blas.h) and k-means for IVF.
engine_libruvector_la_SOURCES += engine/blas.c engine/blas.h engine/kmeans.c engine/kmeans.h
engine_libruvector_la_LIBADD += -ldl

if HAVE_CMOCKA
# Links the engine-private sources directly: ruv__* names are not exported
# from libruvector.
check_PROGRAMS += tests/test_kmeans
TESTS += tests/test_kmeans
tests_test_kmeans_SOURCES = tests/test_kmeans.c engine/blas.c engine/kmeans.c \
	engine/kernel_scalar.c engine/error.c engine/util.c
tests_test_kmeans_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/engine
tests_test_kmeans_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) -pthread
tests_test_kmeans_LDADD = $(CMOCKA_LIBS) -ldl -lm
tests_test_kmeans_LDFLAGS = -pthread
endif

EXTRA_DIST += bench/bench_gemm.c
