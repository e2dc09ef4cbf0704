bin_PROGRAMS += tools/ruvector
tools_ruvector_SOURCES = tools/ruvector.c tools/cli.h tools/cmd_info.c tools/cmd_bench_kernels.c
tools_ruvector_LDADD = engine/libruvector.la -lm
