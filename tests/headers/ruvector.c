/* Compiles <ruvector/ruvector.h> alone: it must be self-contained. */
#include <ruvector/ruvector.h>
#include <ruvector/ruvector.h> /* and idempotent */

int ruv_test_header_ruvector(void);
int ruv_test_header_ruvector(void) { return 0; }
