# IVF: k-means training, the assignment of rows to centroids, the probe
# table, and k-means' steps on the engine's thread pool.
engine_libruvector_core_la_SOURCES += engine/index/ivf/kmeans.h engine/index/ivf/ivf.h \
	engine/index/ivf/kmeans.c engine/index/ivf/assign.c engine/index/ivf/probe.c \
	engine/index/ivf/km_pool.h engine/index/ivf/km_pool.c
