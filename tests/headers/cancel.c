/* Compiles <ruvector/cancel.h> alone: it must be self-contained. */
#include <ruvector/cancel.h>
#include <ruvector/cancel.h> /* and idempotent */

int ruv_test_header_cancel(void);
int ruv_test_header_cancel(void) { return 0; }
