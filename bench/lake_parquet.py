"""The plan's M2 gate: RuLake over a 100k-row Parquet file against a
standalone index built from the same rows, <= 2x, for the first search and
in steady state (docs/benchmarks-rulake.md, "Parquet: the M2 gate").

    python3 bench/lake_parquet.py [--data DIR] [--reps 3] [--queries 200]

The Parquet file is made from ruvector-demo-100k (ids 0..n-1 as uint64,
vectors as fixed_size_list<float32>[128]) in a temporary directory.
  standalone first: read the file with pyarrow, RabitqPlusIndex.build (the
      lake's defaults: the plan, seed 42, rerank 20), one search;
  lake first: a new RuLake (FRESH) with a ParquetBackend, one search_one
      (describe, pull, build, search);
  steady: single-query searches on one thread, index.search against the
      lake's search_one, FRESH (a describe, i.e. a stat of the file, per
      search) and EVENTUAL with a 1 s TTL; all three alive at once, blocks
      of queries interleaved round by round, median per-query time.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from typing import Callable, Dict, List

import numpy as np
import pyarrow.parquet as pq

import ruvector


def fvecs(path: str) -> np.ndarray:
    raw = np.fromfile(path, dtype=np.int32)
    d = int(raw[0])
    return raw.reshape(-1, d + 1)[:, 1:].copy().view(np.float32)


def build_standalone(path: str, q0: np.ndarray) -> tuple:
    t0 = time.perf_counter()
    t = pq.read_table(path)
    ids = t.column("id").to_numpy()
    vec = t.column("vector").combine_chunks().flatten().to_numpy().reshape(len(ids), -1)
    idx = ruvector.RabitqPlusIndex.build(np.ascontiguousarray(vec), ids=ids, seed=42,
                                         rerank_factor=20)
    idx.search(q0, 10)
    return idx, time.perf_counter() - t0


def open_lake(path: str, q0: np.ndarray, mode: ruvector.Consistency) -> tuple:
    b = ruvector.RuLake.builder().consistency(mode)
    lk = (b.ttl_ms(1000) if mode == ruvector.Consistency.EVENTUAL else b).build()
    lk.register_backend(ruvector.ParquetBackend("pq", {"docs": path}))
    t0 = time.perf_counter()
    lk.search_one("docs", q0, k=10)
    return lk, time.perf_counter() - t0


def per_query(search: Callable[[np.ndarray], object], queries: np.ndarray) -> float:
    t0 = time.perf_counter()
    for q in queries:
        search(q)
    return (time.perf_counter() - t0) / len(queries)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/work/shared/datasets/ruvector-demo-100k")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=10)
    a = ap.parse_args()
    base = fvecs(os.path.join(a.data, "base.fvecs"))
    queries = fvecs(os.path.join(a.data, "query.fvecs"))[: a.queries]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "demo-100k.parquet")
        ruvector.ParquetBackend.write(path, np.arange(len(base), dtype=np.uint64), base)
        print(f"parquet file: {os.path.getsize(path) / 1e6:.1f} MB, {len(base)} rows", flush=True)
        firsts = []
        for rep in range(a.reps):  # first search: read/pull + build + one search
            idx, s_first = build_standalone(path, queries[0])
            lk, l_first = open_lake(path, queries[0], ruvector.Consistency.FRESH)
            lk.close()
            del idx
            firsts.append(l_first / s_first)
            print(f"rep {rep}: first search standalone {s_first:.2f} s, lake (FRESH) "
                  f"{l_first:.2f} s: x{l_first / s_first:.2f}", flush=True)
        # Steady state: the three searchers alive together, blocks of queries
        # interleaved round by round; the median per-query time of each.
        idx, _ = build_standalone(path, queries[0])
        fresh, _ = open_lake(path, queries[0], ruvector.Consistency.FRESH)
        eventual, _ = open_lake(path, queries[0], ruvector.Consistency.EVENTUAL)
        want = [h.id for h in idx.search(queries[1], 10)]
        for lk in (fresh, eventual):
            assert [h.id for h in lk.search_one("docs", queries[1], k=10)] == want
        t: Dict[str, List[float]] = {"standalone": [], "FRESH": [], "EVENTUAL": []}
        for _ in range(a.rounds):
            t["standalone"].append(per_query(lambda q: idx.search(q, 10), queries))
            t["FRESH"].append(per_query(lambda q: fresh.search_one("docs", q, k=10), queries))
            t["EVENTUAL"].append(
                per_query(lambda q: eventual.search_one("docs", q, k=10), queries))
        med = {k: statistics.median(v) for k, v in t.items()}
        print(f"steady state, median of {a.rounds} rounds of {len(queries)} queries: "
              f"standalone {1e6 * med['standalone']:.0f} us, lake FRESH "
              f"{1e6 * med['FRESH']:.0f} us (x{med['FRESH'] / med['standalone']:.2f}), lake "
              f"EVENTUAL(1 s) {1e6 * med['EVENTUAL']:.0f} us "
              f"(x{med['EVENTUAL'] / med['standalone']:.2f})")
        print(f"median first-search ratio x{statistics.median(firsts):.2f} (gate: <= 2)")
        fresh.close()
        eventual.close()

if __name__ == "__main__":
    main()
