/* Compiles <ruvector/plugin.h> alone: it must be self-contained. */
#include <ruvector/plugin.h>
#include <ruvector/plugin.h> /* and idempotent */

int ruv_test_header_plugin(void);
int ruv_test_header_plugin(void) { return 0; }
