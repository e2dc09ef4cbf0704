# The index common layer (ids, originals, validation, search driver), the
# flat index, id map, top-k and index persistence.
engine_libruvector_core_la_SOURCES += engine/index/common.h engine/index/index.c \
	engine/index/index_search.c engine/index/index_flat.c engine/index/index_persist.c \
	engine/index/idmap.c engine/index/idmap.h engine/index/topk.c engine/index/topk.h \
	engine/index/estimate.c engine/index/build.h \
	engine/index/plan.c engine/index/calibrate.c engine/index/cal_truth.c \
	engine/index/cal_truth.h engine/index/fewest_bits.c \
	engine/index/scratch.c engine/index/scratch.h
