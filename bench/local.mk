# Benchmarks and their tools: built by `make bench`, never by `make check`,
# never run in CI. Results and the commands that produced them live in
# docs/benchmarks.md (the flat scan against faiss: docs/benchmarks-flat.md).
EXTRA_PROGRAMS = bench/gen_clustered
bench_gen_clustered_SOURCES = bench/gen_clustered.c
bench_gen_clustered_LDADD = -lm
if HAVE_JANSSON
# The embed_onnx tokenizer against HF tokenizers: bench/bench_tokenizer.py.
EXTRA_PROGRAMS += bench/bench_tok
bench_bench_tok_SOURCES = bench/bench_tok.c
bench_bench_tok_LDADD = plugins/embed-onnx/libruv_tok.la
endif
EXTRA_DIST += bench/bench_tokenizer.py bench/flat_vs_faiss.py
CLEANFILES += $(EXTRA_PROGRAMS)
bench: $(EXTRA_PROGRAMS) tools/ruvector
.PHONY: bench
EXTRA_DIST += bench/bench_gemm.c
# One rabitq_plus search in thread CPU (the T3 scan: 50k x 128, bits 1, flat).
EXTRA_PROGRAMS += bench/rq_search_profile
bench_rq_search_profile_SOURCES = bench/rq_search_profile.c
bench_rq_search_profile_LDADD = engine/libruvector.la
# LocalBackend write costs in CPU time (docs/benchmarks-rulake.md, "Session 8:
# LocalBackend writes"); run with RUVECTOR_PLUGIN_PATH=plugins/rulake.
EXTRA_PROGRAMS += bench/lake_write
bench_lake_write_SOURCES = bench/lake_write.c
bench_lake_write_LDADD = engine/libruvector.la
EXTRA_DIST += bench/lake_write.py
