/* Compiles <ruvector/engine.h> alone: it must be self-contained. */
#include <ruvector/engine.h>
#include <ruvector/engine.h> /* and idempotent */

int ruv_test_header_engine(void);
int ruv_test_header_engine(void) { return 0; }
