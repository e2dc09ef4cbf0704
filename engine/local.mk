lib_LTLIBRARIES += engine/libruvector.la
engine_libruvector_la_SOURCES = \
	engine/internal.h \
	engine/conform.c engine/conform.h \
	engine/config.c \
	engine/cpu.c engine/cpu_x86.c engine/cpu_arm.c \
	engine/engine.c \
	engine/error.c \
	engine/kernel_scalar.c engine/half.h \
	engine/loader.c \
	engine/report.c \
	engine/select.c \
	engine/topo.c engine/topo.h engine/topo_hwloc.c engine/topo_sys.c engine/hwloc_abi.h \
	engine/util.c \
	engine/version.c \
	engine/index_internal.h engine/index.c engine/index_flat.c engine/index_rabitq.c \
	engine/index_persist.c engine/topk.c engine/idmap.c engine/parallel.c
engine_libruvector_la_CPPFLAGS = $(AM_CPPFLAGS) $(LTDLINCL) -DRUV_PLUGINDIR='"$(plugindir)"'
engine_libruvector_la_CFLAGS = $(AM_CFLAGS) $(PTHREAD_CFLAGS)
# hwloc is opened at run time (engine/topo.h), never linked: -ldl below.
engine_libruvector_la_LIBADD = $(LIBLTDL) $(PTHREAD_LIBS) -lm
# The included libltdl (a convenience library) must exist before the link.
EXTRA_engine_libruvector_la_DEPENDENCIES = $(LTDLDEPS)
engine_libruvector_la_LDFLAGS = -version-info $(RUV_LT_VERSION) -no-undefined \
	-export-symbols-regex '^ruv_[a-z]'
