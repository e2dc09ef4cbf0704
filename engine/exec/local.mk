# The one thread pool (parallel loops, submitted tasks), cancel tokens and the run-time
# BLAS (dlopen'ed, never linked).
engine_libruvector_core_la_SOURCES += engine/exec/pool.c engine/exec/pool.h \
	engine/exec/progress.h engine/exec/blas.c engine/exec/blas.h \
	engine/exec/cancel.c engine/exec/cancel.h
