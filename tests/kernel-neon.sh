#!/bin/sh
# Kernel matrix: the kernel checks with RUVECTOR_KERNEL=neon (exit 77 = SKIP when
# the CPU lacks its ISA; never a fake pass).
[ -x ./tests/test_kernels ] || { echo "test_kernels not built (no cmocka)"; exit 77; }
RUVECTOR_KERNEL=neon exec ./tests/test_kernels
