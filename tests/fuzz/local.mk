# ---- libFuzzer target for the container reader (not built by default) ----
# Needs clang with compiler-rt (Debian: clang-14 libclang-rt-14-dev):
#   make fuzz-persist [RUV_FUZZ_CC=clang-14]
#   mkdir -p corpus seeds && cp some-saved-index.idx seeds/   # any valid file
#   tests/fuzz/fuzz_persist -max_total_time=60 -max_len=4096 corpus seeds
#   tests/fuzz/fuzz_persist_strict -max_total_time=60 -max_len=4096 corpus seeds
# fuzz_persist ignores checksum mismatches (FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
# so the fuzzer gets past the CRCs to the structural checks;
# fuzz_persist_strict is the reader exactly as shipped.
# Both fuzzers compile the engine's sources (the core library's list, so they
# follow it) with the sanitizers and libFuzzer's coverage instrumentation: a
# library built by the ordinary compiler would be opaque to the fuzzer.
EXTRA_DIST += tests/fuzz/fuzz_persist.c
RUV_FUZZ_CC = clang
RUV_FUZZ_CFLAGS = -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined
RUV_FUZZ_CPPFLAGS = -I$(top_builddir) $(AM_CPPFLAGS) -I$(top_srcdir)/engine
RUV_FUZZ_LIBS = $(LIBLTDL) $(HWLOC_LIBS) $(PTHREAD_LIBS) -ldl -lm
# Every C source of the engine core, so the fuzzers follow the library's list.
RUV_FUZZ_BUILD = \
	srcs=; for f in $(engine_libruvector_core_la_SOURCES); do \
	  case $$f in *.c) srcs="$$srcs $(top_srcdir)/$$f";; esac; done; \
	$(MKDIR_P) tests/fuzz && \
	$(RUV_FUZZ_CC) $(RUV_FUZZ_CFLAGS) $(RUV_FUZZ_CPPFLAGS) $(HWLOC_CFLAGS) $(PTHREAD_CFLAGS) \
	  -DRUV_PLUGINDIR='"$(plugindir)"'
tests/fuzz/fuzz_persist: $(engine_libruvector_core_la_SOURCES) tests/fuzz/fuzz_persist.c config.h
	$(RUV_FUZZ_BUILD) -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION \
	  $(top_srcdir)/tests/fuzz/fuzz_persist.c $$srcs $(RUV_FUZZ_LIBS) -o $@
tests/fuzz/fuzz_persist_strict: $(engine_libruvector_core_la_SOURCES) tests/fuzz/fuzz_persist.c config.h
	$(RUV_FUZZ_BUILD) \
	  $(top_srcdir)/tests/fuzz/fuzz_persist.c $$srcs $(RUV_FUZZ_LIBS) -o $@
fuzz-persist: tests/fuzz/fuzz_persist tests/fuzz/fuzz_persist_strict
.PHONY: fuzz-persist
CLEANFILES += tests/fuzz/fuzz_persist tests/fuzz/fuzz_persist_strict

# ---- libFuzzer target for the index loader (not built by default) ----
# tests/fuzz/fuzz_index_load.c feeds any bytes to ruv_index_load and, when
# they load, searches, saves, reloads and compares. Clang and compiler-rt as
# for fuzz-persist (above, whose RUV_FUZZ_* settings it shares);
# the whole engine is compiled into the fuzzer with the sanitizers:
#   make fuzz-index [RUV_FUZZ_CC=clang-14]   # both fuzzers and the seeds
#   mkdir -p corpus-index corpus-index-strict
#   nice -n 10 tests/fuzz/fuzz_index_load -max_len=16384 -timeout=10 \
#       -max_total_time=600 corpus-index tests/fuzz/index-seeds
#   nice -n 10 tests/fuzz/fuzz_index_load_strict -max_len=16384 -timeout=10 \
#       -max_total_time=600 corpus-index-strict tests/fuzz/index-seeds
# fuzz_index_load ignores checksum mismatches, so mutations reach the index
# checks; fuzz_index_load_strict is the loader as shipped (keep its corpus
# apart: the other's inputs mostly fail a CRC). The seeds (165 files, 434 KB,
# every type, metric and layout) are generated, never committed:
# make fuzz-index-seeds. Results: docs/file-format.md, "Fuzzing".
# Line coverage of a corpus (clang source-based coverage, no sanitizers):
#   make fuzz-index-cov [RUV_FUZZ_CC=clang-14]
#   LLVM_PROFILE_FILE=cov.profraw tests/fuzz/fuzz_index_load_cov -runs=0 \
#       corpus-index tests/fuzz/index-seeds
#   llvm-profdata-14 merge -o cov.profdata cov.profraw
#   llvm-cov-14 report tests/fuzz/fuzz_index_load_cov -instr-profile=cov.profdata
EXTRA_DIST += tests/fuzz/fuzz_index_load.c tests/fuzz/gen_index_seeds.c tests/fuzz/scalar_engine.h
tests/fuzz/fuzz_index_load: $(engine_libruvector_core_la_SOURCES) tests/fuzz/fuzz_index_load.c config.h
	$(RUV_FUZZ_BUILD) -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION \
	  $(top_srcdir)/tests/fuzz/fuzz_index_load.c $$srcs $(RUV_FUZZ_LIBS) -o $@
tests/fuzz/fuzz_index_load_strict: $(engine_libruvector_core_la_SOURCES) tests/fuzz/fuzz_index_load.c config.h
	$(RUV_FUZZ_BUILD) \
	  $(top_srcdir)/tests/fuzz/fuzz_index_load.c $$srcs $(RUV_FUZZ_LIBS) -o $@
tests/fuzz/fuzz_index_load_cov: $(engine_libruvector_core_la_SOURCES) tests/fuzz/fuzz_index_load.c config.h
	$(RUV_FUZZ_BUILD) -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION \
	  -fno-sanitize=address,undefined -fprofile-instr-generate -fcoverage-mapping \
	  $(top_srcdir)/tests/fuzz/fuzz_index_load.c $$srcs $(RUV_FUZZ_LIBS) -o $@
fuzz-index-cov: tests/fuzz/fuzz_index_load_cov

# The seed generator links the build's libruvector (libtool), like the tests.
tests/fuzz/gen_index_seeds.$(OBJEXT): tests/fuzz/gen_index_seeds.c
	$(MKDIR_P) tests/fuzz
	$(COMPILE) -c -o $@ $(top_srcdir)/tests/fuzz/gen_index_seeds.c
tests/fuzz/gen_index_seeds$(EXEEXT): tests/fuzz/gen_index_seeds.$(OBJEXT) engine/libruvector.la
	$(LINK) tests/fuzz/gen_index_seeds.$(OBJEXT) engine/libruvector.la -lm
fuzz-index-seeds: tests/fuzz/gen_index_seeds$(EXEEXT)
	rm -rf tests/fuzz/index-seeds
	$(MKDIR_P) tests/fuzz/index-seeds
	tests/fuzz/gen_index_seeds$(EXEEXT) tests/fuzz/index-seeds
fuzz-index: tests/fuzz/fuzz_index_load tests/fuzz/fuzz_index_load_strict fuzz-index-seeds
.PHONY: fuzz-index fuzz-index-seeds fuzz-index-cov
CLEANFILES += tests/fuzz/fuzz_index_load tests/fuzz/fuzz_index_load_strict \
	tests/fuzz/fuzz_index_load_cov \
	tests/fuzz/gen_index_seeds$(EXEEXT) tests/fuzz/gen_index_seeds.$(OBJEXT)
clean-local: clean-fuzz-index
clean-fuzz-index:
	rm -rf tests/fuzz/index-seeds tests/fuzz/.libs
.PHONY: clean-fuzz-index

# ---- structure-aware fuzzer for the index loader (issue 13, item 5) ----
# fuzz_index_load.c's checks on the loader as shipped (checksums enforced),
# driven by tests/fuzz/fuzz_index_mutator.c, a custom mutator that edits the
# meaning of sections (META fields, factors, rows, versions, sections dropped
# or resized) and writes the file out again with valid CRC-32Cs:
#   make fuzz-index-struct [RUV_FUZZ_CC=clang-14]   # also builds the seeds
#   mkdir -p corpus-struct
#   nice -n 10 tests/fuzz/fuzz_index_struct -max_len=65536 -timeout=10 \
#       -max_total_time=600 corpus-struct tests/fuzz/index-seeds
EXTRA_DIST += tests/fuzz/fuzz_index_mutator.c tests/fuzz/container_edit.h
tests/fuzz/fuzz_index_struct: $(engine_libruvector_core_la_SOURCES) tests/fuzz/fuzz_index_load.c \
		tests/fuzz/fuzz_index_mutator.c tests/fuzz/container_edit.h config.h
	$(RUV_FUZZ_BUILD) \
	  $(top_srcdir)/tests/fuzz/fuzz_index_load.c $(top_srcdir)/tests/fuzz/fuzz_index_mutator.c \
	  $$srcs $(RUV_FUZZ_LIBS) -o $@
fuzz-index-struct: tests/fuzz/fuzz_index_struct fuzz-index-seeds
.PHONY: fuzz-index-struct
CLEANFILES += tests/fuzz/fuzz_index_struct

# ---- libFuzzer target for the kernel-slot speed cache (not built by default) ----
#   make fuzz-kernel-cache [RUV_FUZZ_CC=clang-14]
#   mkdir -p kc-corpus && cp ~/.cache/ruvector/kernel-slots kc-corpus/   # any cache file
#   tests/fuzz/fuzz_kernel_cache -max_total_time=120 kc-corpus
# Parses each input as it is and with a correct checksum line appended (so the
# fuzzer reaches the line parser); what parses must format and parse back equal.
EXTRA_DIST += tests/fuzz/fuzz_kernel_cache.c
tests/fuzz/fuzz_kernel_cache: $(engine_libruvector_core_la_SOURCES) tests/fuzz/fuzz_kernel_cache.c config.h
	$(RUV_FUZZ_BUILD) \
	  $(top_srcdir)/tests/fuzz/fuzz_kernel_cache.c $$srcs $(RUV_FUZZ_LIBS) -o $@
fuzz-kernel-cache: tests/fuzz/fuzz_kernel_cache
.PHONY: fuzz-kernel-cache
CLEANFILES += tests/fuzz/fuzz_kernel_cache
