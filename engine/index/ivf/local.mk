# IVF: k-means training, assignment and the probe table.
engine_libruvector_core_la_SOURCES += engine/index/ivf/kmeans.c engine/index/ivf/kmeans.h
