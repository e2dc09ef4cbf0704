#!/bin/sh
# Quick start, step 1: install what is missing, build, and run the demo:
# what the engine found on this machine and how fast its kernels run here.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/install-deps.sh"
"$top/scripts/build.sh"
b=${RUV_BUILD_DIR:-$top/build}
# Run from the build tree: plugins resolve from their build directories.
RUVECTOR_PLUGIN_PATH="$b/plugins/kernel-avx2:$b/plugins/kernel-avx512:$b/plugins/kernel-neon"
export RUVECTOR_PLUGIN_PATH
"$b/tools/ruvector" info
echo
echo "== kernel throughput (quick run; pin it for stable numbers: taskset -c 0 ...) =="
"$b/tools/ruvector" bench-kernels --quick
