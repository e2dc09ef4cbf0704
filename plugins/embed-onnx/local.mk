# ---- embed_onnx plugin: the BERT WordPiece tokenizer (embed.md §4) ----
# The plugin descriptor and ops come with the engine's host table v2; until
# then the tokenizer is a convenience library that its tests link.
if HAVE_JANSSON
noinst_LTLIBRARIES += plugins/embed-onnx/libruv_tok.la
plugins_embed_onnx_libruv_tok_la_SOURCES = \
	plugins/embed-onnx/tokenizer.h plugins/embed-onnx/tok_internal.h plugins/embed-onnx/tokenizer.c \
	plugins/embed-onnx/tok_error.h plugins/embed-onnx/tok_error.c \
	plugins/embed-onnx/vocab_txt.c plugins/embed-onnx/tokenizer_json.c \
	plugins/embed-onnx/vocab.h plugins/embed-onnx/vocab.c \
	plugins/embed-onnx/normalizer.h plugins/embed-onnx/normalizer.c \
	plugins/embed-onnx/pretokenizer.h plugins/embed-onnx/pretokenizer.c \
	plugins/embed-onnx/wordpiece.h plugins/embed-onnx/wordpiece.c \
	plugins/embed-onnx/unicode.h plugins/embed-onnx/unicode.c plugins/embed-onnx/unicode_tables.c \
	plugins/embed-onnx/utf8.h plugins/embed-onnx/utf8.c
plugins_embed_onnx_libruv_tok_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) -fvisibility=hidden
plugins_embed_onnx_libruv_tok_la_LIBADD = $(JANSSON_LIBS)

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
endif
endif
EXTRA_DIST += plugins/embed-onnx/gen/gen_tables.py plugins/embed-onnx/gen/gen_golden.py \
	plugins/embed-onnx/tests/tok-golden.sh plugins/embed-onnx/tests/data
