#!/bin/sh
# Stands in for test-avx512-emulated when configure found no SIMDe headers.
echo "SKIP: SIMDe (simde/x86/avx512.h) not found; install libsimde-dev to test the AVX-512 kernels under emulation"
exit 77
