ruvectorincludedir = $(includedir)/ruvector
ruvectorinclude_HEADERS = \
	include/ruvector/ruvector.h \
	include/ruvector/error.h \
	include/ruvector/cpu.h \
	include/ruvector/engine.h \
	include/ruvector/kernel.h \
	include/ruvector/kernel_isa.h \
	include/ruvector/plugin.h \
	include/ruvector/index.h \
	include/ruvector/cancel.h \
	include/ruvector/feature-a2a.h \
	include/ruvector/feature-lake.h \
	include/ruvector/feature-embed.h
nodist_ruvectorinclude_HEADERS = include/ruvector/version.h
