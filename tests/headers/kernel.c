/* Compiles <ruvector/kernel.h> alone: it must be self-contained. */
#include <ruvector/kernel.h>
#include <ruvector/kernel.h> /* and idempotent */

int ruv_test_header_kernel(void);
int ruv_test_header_kernel(void) { return 0; }
