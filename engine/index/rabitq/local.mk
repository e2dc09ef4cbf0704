# RaBitQ: the numerical core (encoding; search-time estimators), the random
# rotation, and the index type (life cycle and encoding, search, persistence).
engine_libruvector_core_la_SOURCES += engine/index/rabitq/rabitq.h \
	engine/index/rabitq/rabitq.c engine/index/rabitq/rabitq_query.c \
	engine/index/rabitq/rotation.c engine/index/rabitq/rotation.h \
	engine/index/rabitq/rq.h engine/index/rabitq/index_rabitq.c \
	engine/index/rabitq/rq_search.c engine/index/rabitq/rq_persist.c \
	engine/index/rabitq/rq_pass.h engine/index/rabitq/rq_rerank.c engine/index/rabitq/rq_ladder.c
