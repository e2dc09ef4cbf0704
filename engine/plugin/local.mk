# Plugin loader, kernel selection, conformance check, the scalar kernels.
engine_libruvector_core_la_SOURCES += engine/plugin/loader.c engine/plugin/plugins.h \
	engine/plugin/select.c engine/plugin/kernels.h engine/plugin/kernel_names.c \
	engine/plugin/conform.c engine/plugin/conform.h engine/plugin/kernel_scalar.c \
	engine/plugin/half.h engine/plugin/slots.c
