/* Compiles <ruvector/index.h> alone: it must be self-contained. */
#include <ruvector/index.h>
#include <ruvector/index.h> /* and idempotent */

int ruv_test_header_index(void);
int ruv_test_header_index(void) { return 0; }
