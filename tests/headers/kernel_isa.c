/* Compiles <ruvector/kernel_isa.h> alone: it must be self-contained. */
#include <ruvector/kernel_isa.h>
#include <ruvector/kernel_isa.h> /* and idempotent */

int ruv_test_header_kernel_isa(void);
int ruv_test_header_kernel_isa(void) { return RUV_KERNEL_ISA_AVX2 == 0; /* a use of the macro; 0 */ }
