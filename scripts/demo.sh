#!/bin/sh
# Quick start, step 1: install what is missing, build, and run the demo:
# what the engine found on this machine, how fast its kernels run here, and
# an index over the shipped 100k dataset with its recall and speed.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/install-deps.sh"
"$top/scripts/build.sh"
b=${RUV_BUILD_DIR:-$top/build}
# Run from the build tree: the engine finds the kernel plugins next to the
# libruvector it loaded (no RUVECTOR_PLUGIN_PATH needed).
R="$b/tools/ruvector"
"$R" info
echo
echo "== kernel throughput (quick run; pin it for stable numbers: taskset -c 0 ...) =="
"$R" bench-kernels --quick
data="$top/../shared/datasets/ruvector-demo-100k"
if [ -f "$data/base.fvecs" ]; then
    echo
    echo "== RabitqPlusIndex on ruvector-demo-100k (IVF 256, k = 10, recall at k) =="
    "$R" bench "$data/base.fvecs" "$data/query.fvecs" --gt "$data/gt100.ivecs" \
        --type rabitq_plus --nlist 256 --nprobe 4,8,16 -k 10 --threads 1,2
    echo
    echo "== FlatF32Index (exact) on the same data =="
    "$R" bench "$data/base.fvecs" "$data/query.fvecs" --gt "$data/gt100.ivecs" \
        --type flat_f32 -k 10 --threads 1,2
else
    echo "(ruvector-demo-100k not found at $data: skipping the index demo)"
fi
