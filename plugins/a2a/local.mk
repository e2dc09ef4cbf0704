# ---- a2a plugin: the offline core (a2a.md §12, build step 1) ----
# JSON limits, SSE framing, RFC 8785, base64url, JWK import, JWS, identity and
# pins, URL origin rules, offline card verification and the V1/V3/J1 self-test, and
# the blocking client (HTTP, JSON-RPC, both dialects, pre-flight policy, SSE streams), as a PIC
# convenience library, which the plugin module below links; the cmocka tests
# and the fuzzers (tests/a2a/local.mk) use it directly.
# Needs jansson, libcrypto 3 and libcurl (its URL API) (configure: HAVE_A2A_CORE); without them the
# rest of ruvector builds as before.
RUV_A2A_CORE_SOURCES = \
	plugins/common/detail.c plugins/common/detail.h plugins/a2a/detail.h \
	plugins/a2a/bytes.c plugins/a2a/bytes.h \
	plugins/a2a/json_in.c plugins/a2a/json_in.h \
	plugins/a2a/sse.c plugins/a2a/sse.h \
	plugins/a2a/jcs.c plugins/a2a/jcs.h \
	plugins/a2a/b64url.c plugins/a2a/b64url.h \
	plugins/a2a/jwk.c plugins/a2a/jwk.h \
	plugins/a2a/jws.c plugins/a2a/jws.h \
	plugins/a2a/identity.c plugins/a2a/identity.h \
	plugins/a2a/schema.c plugins/a2a/schema.h \
	plugins/a2a/verify.c plugins/a2a/verify.h \
	plugins/a2a/origin.c plugins/a2a/origin.h \
	plugins/a2a/selftest.c plugins/a2a/selftest.h \
	plugins/a2a/curl_fit.c plugins/a2a/curl_fit.h \
	plugins/a2a/options.c plugins/a2a/options.h \
	plugins/a2a/jsonrpc.c plugins/a2a/jsonrpc.h \
	plugins/a2a/dialect.c plugins/a2a/dialect.h \
	plugins/a2a/policy.c plugins/a2a/policy.h \
	plugins/a2a/budget.c plugins/a2a/budget.h \
	plugins/a2a/clock.c plugins/a2a/clock.h \
	plugins/a2a/concurrency.c plugins/a2a/concurrency.h \
	plugins/a2a/http.c plugins/a2a/http.h \
	plugins/a2a/client.c plugins/a2a/client.h \
	plugins/a2a/card_cache.c plugins/a2a/card_cache.h \
	plugins/a2a/reconcile.c plugins/a2a/reconcile.h \
	plugins/a2a/stream_event.c plugins/a2a/stream_event.h \
	plugins/a2a/stream.c \
	plugins/a2a/io.c plugins/a2a/io.h plugins/a2a/evq.c plugins/a2a/async.c \
	plugins/a2a/astream.c \
	plugins/a2a/jwks.c plugins/a2a/jwks.h \
	plugins/a2a/discover.c plugins/a2a/discover.h plugins/a2a/adiscover.c \
	plugins/a2a/policy_keep.c plugins/a2a/policy_keep.h
if HAVE_A2A_CORE
noinst_LTLIBRARIES += plugins/a2a/liba2a_core.la
plugins_a2a_liba2a_core_la_SOURCES = $(RUV_A2A_CORE_SOURCES)
plugins_a2a_liba2a_core_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden $(JANSSON_CFLAGS) $(OPENSSL_CFLAGS) \
	$(LIBCURL_CFLAGS) $(PTHREAD_CFLAGS)
plugins_a2a_liba2a_core_la_LIBADD = $(JANSSON_LIBS) $(OPENSSL_LIBS) $(LIBCURL_LIBS) $(PTHREAD_LIBS) -lm

# The feature plugin `a2a` (descriptor, init/fini, self-test, report and the
# ops of include/ruvector/feature-a2a.h). One exported symbol; it never links
# libruvector.
plugin_LTLIBRARIES += plugins/a2a/a2a.la
plugins_a2a_a2a_la_SOURCES = plugins/a2a/plugin.c
plugins_a2a_a2a_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden $(JANSSON_CFLAGS) $(OPENSSL_CFLAGS) \
	$(LIBCURL_CFLAGS)
plugins_a2a_a2a_la_LDFLAGS = -module -avoid-version -no-undefined -Wl,-z,defs \
	-export-symbols-regex '^ruv_plugin_a2a$$'
plugins_a2a_a2a_la_LIBADD = plugins/a2a/liba2a_core.la $(JANSSON_LIBS) $(OPENSSL_LIBS) \
	$(LIBCURL_LIBS) $(PTHREAD_LIBS) -lm
else
EXTRA_DIST += $(RUV_A2A_CORE_SOURCES) plugins/a2a/plugin.c
endif
