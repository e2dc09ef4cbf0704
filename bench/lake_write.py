"""LocalBackend write costs from Python (docs/benchmarks-rulake.md,
"Session 8: LocalBackend writes"): process CPU time (the engine pool's
threads included) and wall time of upsert, put_collection and delete at
100k x 128, medians of --reps. Compare two plugin builds by running it twice
with RUVECTOR_PLUGIN_PATH pointing at each build's plugins/rulake."""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable, List, Tuple

import numpy as np

import ruvector

N, DIM = 100_000, 128


def timed(fn: Callable[[], object], setup: Callable[[], object], reps: int,
          per: int = 1) -> Tuple[float, float]:
    cpu: List[float] = []
    wall: List[float] = []
    for _ in range(reps):
        setup()
        c, w = time.process_time(), time.perf_counter()
        fn()
        cpu.append((time.process_time() - c) * 1e3 / per)
        wall.append((time.perf_counter() - w) * 1e3 / per)
    return statistics.median(cpu), statistics.median(wall)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    rng = np.random.default_rng(1)
    ids = np.arange(N, dtype=np.uint64) * np.uint64(2) + np.uint64(2)
    vecs = rng.standard_normal((N, DIM), dtype=np.float32)
    be = ruvector.LocalBackend("w")

    def fresh() -> None:
        be.put_collection("c", ids, vecs)

    def empty() -> None:
        be.put_collection("c", ids[:0], vecs[:0])

    rows: List[Tuple[str, Tuple[float, float]]] = []
    rows.append(("upsert 100k x 128 into an empty collection",
                 timed(lambda: be.upsert("c", ids, vecs), empty, a.reps)))
    other = vecs[::-1].copy()
    rows.append(("put_collection 100k x 128 (other rows)",
                 timed(lambda: be.put_collection("c", ids, other), fresh, a.reps)))
    batches = 50
    start = [2 * N + 10]

    def appends() -> None:
        for _ in range(batches):
            b = np.arange(start[0], start[0] + 100, dtype=np.uint64)
            start[0] += 100
            be.upsert("c", b, vecs[:100])

    rows.append(("append 100 rows to ~100k (per batch)", timed(appends, fresh, a.reps, batches)))
    for m in (1000, 50_000):
        dels = ids[:: N // m][:m].copy()
        rows.append((f"delete {m} spread ids of 100k",
                     timed(lambda: be.delete("c", dels), fresh, a.reps)))
    for what, (cpu, wall) in rows:
        print(f"{what:<46} CPU ms {cpu:8.2f}  wall ms {wall:8.2f}", flush=True)


if __name__ == "__main__":
    main()
