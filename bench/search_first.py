#!/usr/bin/env python3
"""Page faults and time of the first searches in a new process against the
steady state, for engines side by side (issue 10 T2: per-call scratch).

Never run by CI. Each variant is a directory holding an installed ruvector
package (PYTHONPATH); runs are interleaved, one new process per sample:

    python3 bench/search_first.py --variant before=DIR --variant after=DIR \
        [--dataset DIR] [--reps 3] [--first 20] [--steady 2000]

The parent builds each index once (first variant) and saves it; a child
loads it and measures: per search of the first --first, wall and CPU
microseconds and minor page faults (getrusage); then --steady searches for
queries per second (wall and CPU) and faults per search.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from rulake_ours import median, read_fvecs  # noqa: E402

# file stem -> class; "lake": the index a ruLake entry holds (bits 1, no
# IVF lists, rerank 20: bench/rulake_ours.py's settings)
KINDS = {"RabitqPlusIndex": "RabitqPlusIndex", "FlatF32Index": "FlatF32Index",
         "lake": "RabitqPlusIndex"}


def child(index_path: str, kind: str, dataset: Path, first: int, steady: int) -> None:
    import ruvector
    queries = read_fvecs(dataset / "query.fvecs")
    idx = getattr(ruvector, KINDS[kind]).load(index_path)
    rows = []
    for i in range(first):
        q = queries[i % len(queries)]
        r0, c0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.process_time(), time.perf_counter()
        idx.search(q, k=10)
        t1, c1, r1 = time.perf_counter(), time.process_time(), resource.getrusage(resource.RUSAGE_SELF)
        rows.append(((t1 - t0) * 1e6, (c1 - c0) * 1e6, r1.ru_minflt - r0.ru_minflt))
    r0, c0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.process_time(), time.perf_counter()
    for i in range(steady):
        idx.search(queries[i % len(queries)], k=10)
    t1, c1, r1 = time.perf_counter(), time.process_time(), resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({
        "first_us": rows[0][0], "first_cpu_us": rows[0][1], "first_faults": rows[0][2],
        "first10_faults_mean": sum(r[2] for r in rows[:10]) / min(10, len(rows)),
        "first10_wall_us_median": median([r[0] for r in rows[:10]]),
        "qps_wall": steady / (t1 - t0), "qps_cpu": steady / (c1 - c0) if c1 > c0 else None,
        "steady_faults_per_search": (r1.ru_minflt - r0.ru_minflt) / steady}))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--variant", action="append", default=[], help="name=DIR (an installed ruvector)")
    ap.add_argument("--dataset", type=Path, default=Path("/work/shared/datasets/ruvector-demo-100k"))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--first", type=int, default=20)
    ap.add_argument("--steady", type=int, default=2000)
    ap.add_argument("--child", nargs=2, metavar=("INDEX", "KIND"))
    a = ap.parse_args()
    if a.child:
        child(a.child[0], a.child[1], a.dataset, a.first, a.steady)
        return 0
    variants = dict(v.split("=", 1) for v in a.variant)
    env0 = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="search-first-") as tmp:
        build = ("import sys; sys.path.insert(0, %r); import numpy as np, ruvector; "
                 "from rulake_ours import read_fvecs; from pathlib import Path; "
                 "b = read_fvecs(Path(%r) / 'base.fvecs'); "
                 "ruvector.RabitqPlusIndex.build(b).save(%r); ruvector.FlatF32Index.build(b).save(%r); "
                 "ruvector.RabitqPlusIndex.build(b, bits=1, nlist=0, rerank_factor=20, seed=42).save(%r)"
                 % (str(HERE), str(a.dataset), f"{tmp}/RabitqPlusIndex.rvx", f"{tmp}/FlatF32Index.rvx",
                    f"{tmp}/lake.rvx"))
        first_dir = next(iter(variants.values()))
        subprocess.run([sys.executable, "-c", build], check=True, env={**env0, "PYTHONPATH": first_dir})
        out: Dict[str, Dict[str, List[Dict[str, Any]]]] = {}
        for rep in range(a.reps):
            for kind in KINDS:
                for name, d in variants.items():
                    r = subprocess.run([sys.executable, __file__, "--child", f"{tmp}/{kind}.rvx", kind,
                                        "--dataset", str(a.dataset), "--first", str(a.first),
                                        "--steady", str(a.steady)],
                                       capture_output=True, text=True, env={**env0, "PYTHONPATH": d})
                    if r.returncode:
                        print(r.stderr, file=sys.stderr)
                        return 1
                    out.setdefault(kind, {}).setdefault(name, []).append(json.loads(r.stdout.splitlines()[-1]))
        print(f"load average: {os.getloadavg()}")
        for kind, by in out.items():
            for name, runs in by.items():
                keys = runs[0].keys()
                med = {k: round(median([r[k] for r in runs if r[k] is not None]), 2) for k in keys}
                print(kind, name, json.dumps(med))
    return 0


if __name__ == "__main__":
    sys.exit(main())
