"""The plan's M2 gate: RuLake over a 100k-row Parquet file against a
standalone index built from the same rows, <= 2x, for the first search and
in steady state (docs/benchmarks-rulake.md, "Parquet: the M2 gate").

    python3 bench/rulake_parquet.py [--data DIR] [--reps 3] [--queries 200]

The Parquet file is made from ruvector-demo-100k (ids 0..n-1 as uint64,
vectors as fixed_size_list<float32>[128]) in a temporary directory.
  standalone first: read the file with pyarrow, RabitqPlusIndex.build (the
      lake's defaults: the plan, seed 42, rerank 20), one search;
  lake first: a new RuLake (FRESH) with a ParquetBackend, one search_one
      (describe, pull, build, search);
  steady: single-query searches on one thread, the lake's search_one
      (FRESH: a stat of the file per search) against index.search.
Reps interleave the two; the ratio is lake / standalone per rep.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import numpy as np
import pyarrow.parquet as pq

import ruvector


def fvecs(path: str) -> np.ndarray:
    raw = np.fromfile(path, dtype=np.int32)
    d = int(raw[0])
    return raw.reshape(-1, d + 1)[:, 1:].copy().view(np.float32)


def standalone(path: str, queries: np.ndarray) -> tuple:
    t0 = time.perf_counter()
    t = pq.read_table(path)
    ids = t.column("id").to_numpy()
    vec = t.column("vector").combine_chunks().flatten().to_numpy().reshape(len(ids), -1)
    idx = ruvector.RabitqPlusIndex.build(np.ascontiguousarray(vec), ids=ids, seed=42,
                                         rerank_factor=20)
    idx.search(queries[0], 10)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    for q in queries:
        idx.search(q, 10)
    per = (time.perf_counter() - t0) / len(queries)
    return first, per, [h.id for h in idx.search(queries[1], 10)]


def lake(path: str, queries: np.ndarray) -> tuple:
    with ruvector.RuLake.builder().build() as lk:
        lk.register_backend(ruvector.ParquetBackend("pq", {"docs": path}))
        t0 = time.perf_counter()
        lk.search_one("docs", queries[0], k=10)
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        for q in queries:
            lk.search_one("docs", q, k=10)
        per = (time.perf_counter() - t0) / len(queries)
        return first, per, [h.id for h in lk.search_one("docs", queries[1], k=10)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/work/shared/datasets/ruvector-demo-100k")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--queries", type=int, default=200)
    a = ap.parse_args()
    base = fvecs(os.path.join(a.data, "base.fvecs"))
    queries = fvecs(os.path.join(a.data, "query.fvecs"))[: a.queries]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "demo-100k.parquet")
        ruvector.ParquetBackend.write(path, np.arange(len(base), dtype=np.uint64), base)
        print(f"parquet file: {os.path.getsize(path) / 1e6:.1f} MB, {len(base)} rows", flush=True)
        firsts, steadies = [], []
        for rep in range(a.reps):
            s_first, s_per, s_ids = standalone(path, queries)
            l_first, l_per, l_ids = lake(path, queries)
            assert s_ids == l_ids, "the lake and the standalone index disagree"
            firsts.append(l_first / s_first)
            steadies.append(l_per / s_per)
            print(f"rep {rep}: first search standalone {s_first:.2f} s, lake {l_first:.2f} s "
                  f"(x{l_first / s_first:.2f}); steady standalone {1e6 * s_per:.0f} us, lake "
                  f"{1e6 * l_per:.0f} us (x{l_per / s_per:.2f})", flush=True)
        print(f"median ratio lake/standalone: first search x{statistics.median(firsts):.2f}, "
              f"steady state x{statistics.median(steadies):.2f} (gate: <= 2)")


if __name__ == "__main__":
    main()
