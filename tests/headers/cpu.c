/* Compiles <ruvector/cpu.h> alone: it must be self-contained. */
#include <ruvector/cpu.h>
#include <ruvector/cpu.h> /* and idempotent */

int ruv_test_header_cpu(void);
int ruv_test_header_cpu(void) { return 0; }
