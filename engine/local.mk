# The engine (included from the top Makefile.am; paths are relative to the
# top directory). Every engine object goes into one non-installed convenience
# library, engine/libruvector_core.la; the installed libruvector.la is linked
# from it and exports only the public ruv_* names. White-box tests link the
# core library to reach the private ruv__ functions. Each subsystem folder
# adds its sources in its own local.mk:
#   base < cpu < plugin < exec < store < index < index/ivf, index/rabitq < core
# (a folder includes headers from its own layer and lower ones only).
noinst_LTLIBRARIES += engine/libruvector_core.la
engine_libruvector_core_la_SOURCES =
engine_libruvector_core_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/engine $(LTDLINCL) \
	-DRUV_PLUGINDIR='"$(plugindir)"'
engine_libruvector_core_la_CFLAGS = $(AM_CFLAGS) $(PTHREAD_CFLAGS)
# What a program or library linking the core needs besides it. hwloc and a
# BLAS are opened at run time (engine/cpu/topo.h, engine/exec/blas.h), never
# linked: -ldl.
RUV_CORE_LIBADD = $(LIBLTDL) $(PTHREAD_LIBS) -ldl -lm
RUV_CORE_LIBS = engine/libruvector_core.la $(RUV_CORE_LIBADD)

lib_LTLIBRARIES += engine/libruvector.la
engine_libruvector_la_SOURCES =
engine_libruvector_la_LIBADD = $(RUV_CORE_LIBS)
# The included libltdl (a convenience library) must exist before the link.
EXTRA_engine_libruvector_la_DEPENDENCIES = $(LTDLDEPS)
engine_libruvector_la_LDFLAGS = -version-info $(RUV_LT_VERSION) -no-undefined \
	-export-symbols-regex '^ruv_[a-z]'
