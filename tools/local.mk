bin_PROGRAMS += tools/ruvector
tools_ruvector_SOURCES = tools/ruvector.c tools/commands.h \
	tools/cli_messages.c tools/cli_messages.h tools/cli_engine.c tools/cli_engine.h \
	tools/cmd_info.c tools/cmd_bench_kernels.c
tools_ruvector_LDADD = engine/libruvector.la -lm
