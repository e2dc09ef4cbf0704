#!/bin/sh
# The benchmarks behind docs/benchmarks.md, in one run: machine facts, the
# engine report, kernel throughput next to memory bandwidth, and the indexes
# on ruvector-demo-100k (and a generated 1M set with --large). Not part of
# CI. Usage: bench/core.sh [--large] [BUILD_DIR]   (default: ./build)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
large=0
[ "${1:-}" = "--large" ] && { large=1; shift; }
b=${1:-$top/build}
R="$b/tools/ruvector"
export RUVECTOR_PLUGIN_PATH="$b/plugins/kernel-avx2:$b/plugins/kernel-avx512:$b/plugins/kernel-neon"
D="$top/../shared/datasets/ruvector-demo-100k"
echo "## machine"; date -u; uname -r; lscpu | grep -E "Model name|^CPU\(s\)|L2|L3|Flags" | cut -c1-200
uptime
echo "## engine"; "$R" info --json
echo "## kernels (1 thread, pinned)"; taskset -c 0 "$R" bench-kernels
bench() { "$R" bench "$D/base.fvecs" "$D/query.fvecs" --gt "$D/gt100.ivecs" -k 10 --repeats 5 "$@"; }
echo "## flat_f32"; bench --type flat_f32 --threads 1,2
echo "## rabitq_plus IVF256"; bench --type rabitq_plus --nlist 256 --nprobe 2,4,8,16 --threads 1,2
echo "## rabitq_plus IVF1000"; bench --type rabitq_plus --nlist 1000 --nprobe 10,20 --threads 1,2
echo "## rabitq_plus 4-bit IVF256"; bench --type rabitq_plus --bits 4 --nlist 256 --nprobe 2,4,8 --threads 1,2
echo "## rabitq_plus, no IVF"; bench --type rabitq_plus --threads 1,2
echo "## rabitq 1-bit IVF1000"; bench --type rabitq --bits 1 --nlist 1000 --nprobe 5,10,20 --threads 1,2
echo "## rabitq 4-bit IVF1000"; bench --type rabitq --bits 4 --nlist 1000 --nprobe 5,10,20 --threads 1,2
echo "## rabitq_asym 1-bit IVF1000"; bench --type rabitq_asym --nlist 1000 --nprobe 10 --threads 1,2
if [ $large -eq 1 ]; then
    G=${RUV_BENCH_DATA:-/tmp/ruvector-bench-1m}
    mkdir -p "$G"
    [ -f "$G/base.fvecs" ] || { make -C "$b" bench/gen_clustered >/dev/null && "$b/bench/gen_clustered" "$G" 1000000 1000 128 100 0.6 2024; }
    if [ ! -f "$G/gt100.ivecs" ]; then
        "$R" build "$G/base.fvecs" -o "$G/flat.ruv" --type flat_f32 >/dev/null
        "$R" search "$G/flat.ruv" "$G/query.fvecs" -k 100 --out "$G/gt100.ivecs" >/dev/null
        rm -f "$G/flat.ruv"
    fi
    for bits in 1 4; do
        echo "## 1M x 128 generated: rabitq_plus ${bits}-bit IVF1000"
        "$R" bench "$G/base.fvecs" "$G/query.fvecs" --gt "$G/gt100.ivecs" -k 10 --repeats 3 \
            --type rabitq_plus --bits $bits --nlist 1000 --nprobe 5,8,10,20 --threads 1,2
    done
fi
