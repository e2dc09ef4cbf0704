# Index file container: sectioned, CRC-32C-checked, mmap-able files with
# atomic save through the one durable-write routine (store/durable.h). Format: docs/file-format.md; API: engine/store/persist.h.
engine_libruvector_core_la_SOURCES += engine/store/persist.h engine/store/container.h \
	engine/store/container.c engine/store/writer.c engine/store/reader.c \
	engine/store/cursor.c engine/store/crc32c.c \
	engine/store/durable.c engine/store/durable.h
