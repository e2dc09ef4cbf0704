# Errors (thread-local detail), verbose log, string and buffer helpers.
engine_libruvector_core_la_SOURCES += engine/base/error.c engine/base/error.h \
	engine/base/log.h engine/base/source.h engine/base/splitmix.h engine/base/util.c engine/base/util.h
