/* Compiles <ruvector/version.h> alone: it must be self-contained. */
#include <ruvector/version.h>
#include <ruvector/version.h> /* and idempotent */

int ruv_test_header_version(void);
int ruv_test_header_version(void) { return 0; }
