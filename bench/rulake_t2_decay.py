#!/usr/bin/env python3
"""T2's first searches one by one: after `warm_from_dir` in a new process,
the latency of searches 1-7 (each a different query) and the steady-state
p50, for telling first-time work (one slow search) from cold caches (a
decay over several). Never run by CI; docs/benchmarks-rulake.md cites it.
    python3 bench/rulake_t2_decay.py [--dataset DIR] [--procs 3] [--extra-warmup]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from rulake_ours import median, read_fvecs  # noqa: E402


def lake():  # type: ignore[no-untyped-def]
    import ruvector
    return (ruvector.RuLake.builder().rerank_factor(20).rotation_seed(42).bits(1).nlist(0)
            .consistency(ruvector.Consistency.FRESH).build())


def child(root: Path, dataset: Path, extra: bool) -> None:
    import ruvector
    q = read_fvecs(dataset / "query.fvecs")
    fs = ruvector.FsBackend("fs", root / "data")
    fs.register("c", "base.ruvec2")
    lk = lake()
    lk.register_backend(fs)
    lk.warm_from_dir(("fs", "c"), root / "cache")
    if extra:
        lk.search_one("c", q[0], k=10)
    first = []
    for i in range(1, 8):
        t = time.perf_counter()
        lk.search_one("c", q[i], k=10)
        first.append((time.perf_counter() - t) * 1e6)
    lat = []
    for x in list(q) * 2:
        t = time.perf_counter()
        lk.search_one("c", x, k=10)
        lat.append((time.perf_counter() - t) * 1e6)
    p50 = median(lat)
    print("searches 1-7 (us):", " ".join(f"{v:.0f}" for v in first),
          f"| p50 {p50:.0f} | first / p50 {first[0] / p50:.2f}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", type=Path, default=Path("/work/shared/datasets/ruvector-demo-100k"))
    ap.add_argument("--procs", type=int, default=3)
    ap.add_argument("--extra-warmup", action="store_true", help="one more search (a real query) first")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(a.child, a.dataset, a.extra_warmup)
        return 0
    import numpy as np
    import ruvector
    base = read_fvecs(a.dataset / "base.fvecs")
    q = read_fvecs(a.dataset / "query.fvecs")
    with tempfile.TemporaryDirectory(prefix="rulake-t2-decay-") as tmp:
        root = Path(tmp)
        (root / "data").mkdir()
        fs = ruvector.FsBackend("fs", root / "data")
        fs.write("base.ruvec2", np.arange(len(base), dtype=np.uint64), base)
        fs.register("c", "base.ruvec2")
        lk = lake()
        lk.register_backend(fs)
        lk.search_one("c", q[0], k=10)
        lk.save_cache_to_dir(("fs", "c"), root / "cache")
        lk.close()
        cmd = [sys.executable, __file__, "--child", str(root), "--dataset", str(a.dataset)]
        for _ in range(a.procs):
            subprocess.run(cmd + (["--extra-warmup"] if a.extra_warmup else []), check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
