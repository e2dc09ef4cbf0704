# The engine object: open/close, configuration and settings, report, version.
engine_libruvector_core_la_SOURCES += engine/core/engine.c engine/core/engine.h \
	engine/core/config.c engine/core/settings.c engine/core/settings.h \
	engine/core/report.c engine/core/version.c engine/core/host.c engine/core/host.h \
	engine/core/kernel_cache.c engine/core/kernel_cache.h engine/core/kernel_slots.c \
	engine/core/kernel_slots.h
