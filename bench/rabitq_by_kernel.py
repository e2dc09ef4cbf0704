#!/usr/bin/env python3
"""RabitqPlusIndex defaults searched through engines with different kernel plugins.

Builds `RabitqPlusIndex.build(x)` (the plan a new user gets) once per
engine, each engine loading its kernel plugins from its own directory (e.g.
one holding avx2.so alone, one avx512.so alone, one both, where the engine
races them per slot), then times `search(q, 10)` one query at a time in
interleaved rounds (the order flips every round) on the searching thread's
CPU clock. Reports each engine's median QPS and the median per-round ratio
to the first engine. The indexes are byte-identical whatever the kernel;
only the speed differs. Never run in CI.

    python bench/rabitq_by_kernel.py /work/shared/datasets/ruvector-demo-100k \\
        avx2=/tmp/k-avx2 avx512=/tmp/k-avx512 mixed=/tmp/k-both --rounds 15

Needs numpy and the ruvector package."""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))
from bench_data import read_vecs  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", type=Path, help="directory with base.fvecs and query.fvecs")
    ap.add_argument("engines", nargs="+", metavar="NAME=PLUGIN_DIR")
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--queries", type=int, default=300)
    args = ap.parse_args()

    import ruvector

    base = read_vecs(args.data / "base.fvecs")
    queries = read_vecs(args.data / "query.fvecs")[: args.queries]
    indexes = {}
    for spec in args.engines:
        name, path = spec.split("=", 1)
        eng = ruvector.Engine(threads=1, plugin_path=path)
        idx = ruvector.RabitqPlusIndex.build(base, engine=eng)
        info = ruvector.runtime_info(eng)
        kernel = info.get("kernel", {})
        mixed = {s["slot"]: s["kernel"] for s in kernel.get("slots", [])
                 if s["kernel"] != kernel.get("name")}
        print(f"{name}: plugins from {path}, kernel {kernel.get('name')}, "
              f"slots from another plugin: {mixed or 'none'}; nprobe {idx.params.get('nprobe')}")
        indexes[name] = idx
    names = list(indexes)
    qps: Dict[str, List[float]] = {n: [] for n in names}
    for r in range(args.rounds):
        for n in names if r % 2 == 0 else names[::-1]:
            idx = indexes[n]
            for q in queries[:20]:  # warm-up
                idx.search(q, 10)
            t0 = time.thread_time()
            for q in queries:
                idx.search(q, 10)
            qps[n].append(len(queries) / (time.thread_time() - t0))
    ref = names[0]
    for n in names:
        ratio = [a / b for a, b in zip(qps[n], qps[ref])]
        print(f"{n:10s} median QPS {statistics.median(qps[n]):9.0f}   vs {ref}: "
              f"{statistics.median(ratio):.3f} (per round {min(ratio):.2f}-{max(ratio):.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
