# ---- a2a offline core: cmocka tests (a2a.md §10 items 1-6, 18) ----
# They link the core's convenience library directly (no engine, no plugin
# loading). Vectors in tests/a2a/vectors/ come from Node's own JSON and
# crypto (gen_vectors.mjs) and from CPython's json with the `cryptography`
# package (gen_python_vectors.py); those scripts regenerate them.
RUV_A2A_VECTOR_FILES = tests/a2a/gen_vectors.mjs tests/a2a/vectors/es_numbers.txt \
	tests/a2a/vectors/jcs.json tests/a2a/vectors/cards.json \
	tests/a2a/gen_python_vectors.py tests/a2a/vectors/python.json \
	tests/a2a/vectors/identity_card.json
EXTRA_DIST += $(RUV_A2A_VECTOR_FILES) tests/a2a/a2a_test_util.h tests/a2a/fakes/fake_peer.py \
	tests/a2a/fakes/fake_proxy.py \
	tests/a2a/peers/a2a_sdk_peer.py tests/a2a/peers/js/package.json \
	tests/a2a/peers/js/package-lock.json tests/a2a/peers/js/peer.mjs
if HAVE_A2A_CORE
if HAVE_CMOCKA
RUV_A2A_TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS) $(OPENSSL_CFLAGS) -DRUV_A2A_SRCDIR='"$(abs_top_srcdir)"'
RUV_A2A_TEST_LDADD = plugins/a2a/liba2a_core.la $(CMOCKA_LIBS) $(JANSSON_LIBS) $(OPENSSL_LIBS) \
	$(LIBCURL_LIBS) $(PTHREAD_LIBS) -lm
RUV_A2A_TESTS = tests/a2a/test_a2a_sse tests/a2a/test_a2a_jcs tests/a2a/test_a2a_jws \
	tests/a2a/test_a2a_card tests/a2a/test_a2a_origin tests/a2a/test_a2a_curl \
	tests/a2a/test_a2a_budget
check_PROGRAMS += $(RUV_A2A_TESTS)
TESTS += $(RUV_A2A_TESTS)
tests_a2a_test_a2a_sse_SOURCES = tests/a2a/test_a2a_sse.c
tests_a2a_test_a2a_sse_CFLAGS = $(RUV_A2A_TEST_CFLAGS)
tests_a2a_test_a2a_sse_LDADD = $(RUV_A2A_TEST_LDADD)
tests_a2a_test_a2a_jcs_SOURCES = tests/a2a/test_a2a_jcs.c tests/a2a/a2a_test_util.h
tests_a2a_test_a2a_jcs_CFLAGS = $(RUV_A2A_TEST_CFLAGS)
tests_a2a_test_a2a_jcs_LDADD = $(RUV_A2A_TEST_LDADD)
tests_a2a_test_a2a_jws_SOURCES = tests/a2a/test_a2a_jws.c
tests_a2a_test_a2a_jws_CFLAGS = $(RUV_A2A_TEST_CFLAGS)
tests_a2a_test_a2a_jws_LDADD = $(RUV_A2A_TEST_LDADD)
tests_a2a_test_a2a_card_SOURCES = tests/a2a/test_a2a_card.c tests/a2a/a2a_test_util.h
tests_a2a_test_a2a_card_CFLAGS = $(RUV_A2A_TEST_CFLAGS)
tests_a2a_test_a2a_card_LDADD = $(RUV_A2A_TEST_LDADD)
tests_a2a_test_a2a_origin_SOURCES = tests/a2a/test_a2a_origin.c
tests_a2a_test_a2a_origin_CFLAGS = $(RUV_A2A_TEST_CFLAGS)
tests_a2a_test_a2a_origin_LDADD = $(RUV_A2A_TEST_LDADD)
tests_a2a_test_a2a_budget_SOURCES = tests/a2a/test_a2a_budget.c
tests_a2a_test_a2a_budget_CFLAGS = $(RUV_A2A_TEST_CFLAGS) $(PTHREAD_CFLAGS)
tests_a2a_test_a2a_budget_LDADD = $(RUV_A2A_TEST_LDADD)
tests_a2a_test_a2a_curl_SOURCES = tests/a2a/test_a2a_curl.c
tests_a2a_test_a2a_curl_CFLAGS = $(RUV_A2A_TEST_CFLAGS) $(LIBCURL_CFLAGS)
tests_a2a_test_a2a_curl_LDADD = $(RUV_A2A_TEST_LDADD)
# The plugin as a host sees it: through the engine only (it links
# libruvector, not the core library; jansson just reads the vectors).
check_PROGRAMS += tests/a2a/test_a2a_plugin
TESTS += tests/a2a/test_a2a_plugin
tests_a2a_test_a2a_plugin_SOURCES = tests/a2a/test_a2a_plugin.c tests/a2a/a2a_test_util.h
tests_a2a_test_a2a_plugin_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS) \
	-DRUV_A2A_SRCDIR='"$(abs_top_srcdir)"'
tests_a2a_test_a2a_plugin_LDADD = engine/libruvector.la $(CMOCKA_LIBS) $(JANSSON_LIBS)
# The blocking client against the loopback fake peer (fakes/fake_peer.py:
# python3 + cryptography; the test skips with 77 without them).
RUV_A2A_CLIENT_TESTS = tests/a2a/test_a2a_client tests/a2a/test_a2a_client_hostile \
	tests/a2a/test_a2a_io tests/a2a/test_a2a_astream tests/a2a/test_a2a_discover \
	tests/a2a/test_a2a_fallback
check_PROGRAMS += $(RUV_A2A_CLIENT_TESTS)
TESTS += $(RUV_A2A_CLIENT_TESTS)
RUV_A2A_CLIENT_TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS) \
	$(LIBCURL_CFLAGS) -DRUV_A2A_SRCDIR='"$(abs_top_srcdir)"'
RUV_A2A_CLIENT_TEST_LDADD = engine/libruvector.la $(CMOCKA_LIBS) $(JANSSON_LIBS) $(LIBCURL_LIBS)
tests_a2a_test_a2a_client_SOURCES = tests/a2a/test_a2a_client.c tests/a2a/a2a_fake_peer.c \
	tests/a2a/a2a_fake_peer.h
tests_a2a_test_a2a_client_CFLAGS = $(RUV_A2A_CLIENT_TEST_CFLAGS)
tests_a2a_test_a2a_client_LDADD = $(RUV_A2A_CLIENT_TEST_LDADD)
tests_a2a_test_a2a_client_hostile_SOURCES = tests/a2a/test_a2a_client_hostile.c \
	tests/a2a/a2a_fake_peer.c tests/a2a/a2a_fake_peer.h
tests_a2a_test_a2a_client_hostile_CFLAGS = $(RUV_A2A_CLIENT_TEST_CFLAGS)
tests_a2a_test_a2a_client_hostile_LDADD = $(RUV_A2A_CLIENT_TEST_LDADD)
# The I/O thread (ops V3) against the same fake.
tests_a2a_test_a2a_io_SOURCES = tests/a2a/test_a2a_io.c tests/a2a/a2a_fake_peer.c \
	tests/a2a/a2a_fake_peer.h
tests_a2a_test_a2a_io_CFLAGS = $(RUV_A2A_CLIENT_TEST_CFLAGS)
tests_a2a_test_a2a_io_LDADD = $(RUV_A2A_CLIENT_TEST_LDADD)
tests_a2a_test_a2a_astream_SOURCES = tests/a2a/test_a2a_astream.c tests/a2a/a2a_fake_peer.c \
	tests/a2a/a2a_fake_peer.h
tests_a2a_test_a2a_astream_CFLAGS = $(RUV_A2A_CLIENT_TEST_CFLAGS)
tests_a2a_test_a2a_astream_LDADD = $(RUV_A2A_CLIENT_TEST_LDADD)
# Card discovery: on the I/O thread (ops V4), redirects, jku, the cache.
tests_a2a_test_a2a_discover_SOURCES = tests/a2a/test_a2a_discover.c tests/a2a/a2a_fake_peer.c \
	tests/a2a/a2a_fake_peer.h
tests_a2a_test_a2a_discover_CFLAGS = $(RUV_A2A_CLIENT_TEST_CFLAGS)
tests_a2a_test_a2a_discover_LDADD = $(RUV_A2A_CLIENT_TEST_LDADD)
# The v0.3 resend re-runs the pre-flight (budget, concurrency), both paths.
tests_a2a_test_a2a_fallback_SOURCES = tests/a2a/test_a2a_fallback.c tests/a2a/a2a_fake_peer.c \
	tests/a2a/a2a_fake_peer.h
tests_a2a_test_a2a_fallback_CFLAGS = $(RUV_A2A_CLIENT_TEST_CFLAGS)
tests_a2a_test_a2a_fallback_LDADD = $(RUV_A2A_CLIENT_TEST_LDADD)
endif
endif

# ---- a2a libFuzzer targets (not built by default; clang + compiler-rt) ----
# Each compiles the core's sources with the sanitizers (RUV_FUZZ_* from
# engine/persist.mk):
#   make fuzz-a2a [RUV_FUZZ_CC=clang-14]
#   for t in sse jcs card jsonrpc jwks discover; do mkdir -p corpus-a2a-$$t; \
#     nice -n 10 tests/a2a/fuzz_a2a_$$t -max_len=8192 -timeout=10 -max_total_time=300 \
#       corpus-a2a-$$t $(top_srcdir)/tests/a2a/fuzz-seeds/$$t; done
# fuzz_a2a_sse frames every input whole and in chunks and demands the same
# events; fuzz_a2a_jcs demands canon(parse(canon(x))) == canon(x);
# fuzz_a2a_card drives the protected-header parser, JWK import and card
# verification; fuzz_a2a_jsonrpc the JSON-RPC response decoder, the v1.0 and
# v0.3 normalizers behind it and the request translator; fuzz_a2a_jwks the
# JWK Set reader; fuzz_a2a_discover the discovery state machine driven by a
# script of HTTP answers (redirects, fallbacks, 304s, JWKS, the cache);
# fuzz_a2a_headers the response-header parsers (Retry-After as seconds or an
# HTTP-date, Content-Type, ETag, Cache-Control, the header cap).
# Seeds: tests/a2a/fuzz-seeds (made by make_fuzz_seeds.py).
RUV_A2A_FUZZERS = tests/a2a/fuzz_a2a_sse tests/a2a/fuzz_a2a_jcs tests/a2a/fuzz_a2a_card \
	tests/a2a/fuzz_a2a_jsonrpc tests/a2a/fuzz_a2a_jwks tests/a2a/fuzz_a2a_discover \
	tests/a2a/fuzz_a2a_headers
EXTRA_DIST += tests/a2a/fuzz_a2a_sse.c tests/a2a/fuzz_a2a_jcs.c tests/a2a/fuzz_a2a_card.c \
	tests/a2a/fuzz_a2a_jsonrpc.c tests/a2a/fuzz_a2a_jwks.c tests/a2a/fuzz_a2a_discover.c \
	tests/a2a/fuzz_a2a_headers.c \
	tests/a2a/make_fuzz_seeds.py tests/a2a/fuzz-seeds
RUV_A2A_FUZZ_BUILD = \
	srcs=; for f in $(RUV_A2A_CORE_SOURCES); do \
	  case $$f in *.c) srcs="$$srcs $(top_srcdir)/$$f";; esac; done; \
	$(MKDIR_P) tests/a2a && \
	$(RUV_FUZZ_CC) $(RUV_FUZZ_CFLAGS) $(RUV_FUZZ_CPPFLAGS) $(JANSSON_CFLAGS) $(OPENSSL_CFLAGS) \
	  $(LIBCURL_CFLAGS)
RUV_A2A_FUZZ_LIBS = $(JANSSON_LIBS) $(OPENSSL_LIBS) $(LIBCURL_LIBS) -pthread -lm
tests/a2a/fuzz_a2a_sse: $(RUV_A2A_CORE_SOURCES) tests/a2a/fuzz_a2a_sse.c config.h
	$(RUV_A2A_FUZZ_BUILD) $(top_srcdir)/tests/a2a/fuzz_a2a_sse.c $$srcs $(RUV_A2A_FUZZ_LIBS) -o $@
tests/a2a/fuzz_a2a_jcs: $(RUV_A2A_CORE_SOURCES) tests/a2a/fuzz_a2a_jcs.c config.h
	$(RUV_A2A_FUZZ_BUILD) $(top_srcdir)/tests/a2a/fuzz_a2a_jcs.c $$srcs $(RUV_A2A_FUZZ_LIBS) -o $@
tests/a2a/fuzz_a2a_card: $(RUV_A2A_CORE_SOURCES) tests/a2a/fuzz_a2a_card.c config.h
	$(RUV_A2A_FUZZ_BUILD) $(top_srcdir)/tests/a2a/fuzz_a2a_card.c $$srcs $(RUV_A2A_FUZZ_LIBS) -o $@
tests/a2a/fuzz_a2a_jsonrpc: $(RUV_A2A_CORE_SOURCES) tests/a2a/fuzz_a2a_jsonrpc.c config.h
	$(RUV_A2A_FUZZ_BUILD) $(top_srcdir)/tests/a2a/fuzz_a2a_jsonrpc.c $$srcs $(RUV_A2A_FUZZ_LIBS) -o $@
tests/a2a/fuzz_a2a_jwks: $(RUV_A2A_CORE_SOURCES) tests/a2a/fuzz_a2a_jwks.c config.h
	$(RUV_A2A_FUZZ_BUILD) $(top_srcdir)/tests/a2a/fuzz_a2a_jwks.c $$srcs $(RUV_A2A_FUZZ_LIBS) -o $@
tests/a2a/fuzz_a2a_discover: $(RUV_A2A_CORE_SOURCES) tests/a2a/fuzz_a2a_discover.c config.h
	$(RUV_A2A_FUZZ_BUILD) $(top_srcdir)/tests/a2a/fuzz_a2a_discover.c $$srcs $(RUV_A2A_FUZZ_LIBS) -o $@
tests/a2a/fuzz_a2a_headers: $(RUV_A2A_CORE_SOURCES) tests/a2a/fuzz_a2a_headers.c config.h
	$(RUV_A2A_FUZZ_BUILD) $(top_srcdir)/tests/a2a/fuzz_a2a_headers.c $$srcs $(RUV_A2A_FUZZ_LIBS) -o $@
fuzz-a2a: $(RUV_A2A_FUZZERS)
.PHONY: fuzz-a2a
CLEANFILES += $(RUV_A2A_FUZZERS)
