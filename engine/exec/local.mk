# Parallel loops and the run-time BLAS (dlopen'ed, never linked).
engine_libruvector_core_la_SOURCES += engine/exec/parallel.c engine/exec/parallel.h \
	engine/exec/progress.h engine/exec/blas.c engine/exec/blas.h
