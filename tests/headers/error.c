/* Compiles <ruvector/error.h> alone: it must be self-contained. */
#include <ruvector/error.h>
#include <ruvector/error.h> /* and idempotent */

int ruv_test_header_error(void);
int ruv_test_header_error(void) { return 0; }
