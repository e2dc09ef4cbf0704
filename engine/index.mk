# Index sources (issue 3): the RaBitQ numerical core.
engine_libruvector_la_SOURCES += \
	engine/rotation.c engine/rotation.h \
	engine/rabitq.c engine/rabitq.h
