"""Which index parameters should ruLake use by default? (docs/rulake.md,
"Defaults"). Builds RabitqPlusIndex the way the lake builds it (rows in id
order, seed 42) under each candidate and reports recall@10, single-query
QPS on one thread, build seconds and memory, on ruvector-demo-100k and on
one generated clustered set. Not a test; run by hand:

    python3 bench/lake_defaults.py [--data /work/shared/datasets/ruvector-demo-100k]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any, Dict, List, Tuple

import numpy as np

import ruvector

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from defaults_data import clustered  # noqa: E402


def fvecs(path: str) -> np.ndarray:
    raw = np.fromfile(path, dtype=np.int32)
    d = int(raw[0])
    return raw.reshape(-1, d + 1)[:, 1:].copy().view(np.float32)


def exact_top10(base: np.ndarray, queries: np.ndarray) -> np.ndarray:
    flat = ruvector.FlatF32Index.build(base)
    ids, _ = flat.search_batch(queries, 10)
    return np.asarray(ids)


CANDIDATES: List[Tuple[str, Dict[str, Any], int]] = [
    # name, build params, search rerank_factor (-1: the index's own)
    ("spec: bits 1, rerank 20", dict(bits=1, nlist=0, rerank_factor=20), -1),
    ("bits 1, rerank 50", dict(bits=1, nlist=0, rerank_factor=50), -1),
    ("bits 1, rerank 100", dict(bits=1, nlist=0, rerank_factor=100), -1),
    ("bits 1, no cap (error bound)", dict(bits=1, nlist=0, rerank_factor=0), -1),
    ("bits 4, rerank 20", dict(bits=4, nlist=0, rerank_factor=20), -1),
    ("auto plan, rerank 20", dict(target_recall=0.95, rerank_factor=20), -1),
]


def measure(name: str, base: np.ndarray, queries: np.ndarray, gt: np.ndarray) -> None:
    ids = np.arange(base.shape[0], dtype=np.uint64)
    for label, params, _ in CANDIDATES:
        t0 = time.perf_counter()
        idx = ruvector.RabitqPlusIndex.build(base, ids=ids, seed=42, **params)
        build_s = time.perf_counter() - t0
        got = []
        t0 = time.perf_counter()
        for q in queries:
            got.append(np.asarray([r.id for r in idx.search(q, 10)], dtype=np.int64))
        qps = len(queries) / (time.perf_counter() - t0)
        rec = float(np.mean([len(set(g.tolist()) & set(t[:10].tolist())) / 10.0
                             for g, t in zip(got, gt)]))
        p = idx.params
        print(f"{name:<22} {label:<30} recall@10 {rec:.3f}  QPS {qps:7.0f}  build {build_s:5.2f} s"
              f"  MB {idx.memory_bytes / 1e6:6.1f}  bits {p.get('bits')} nlist {p.get('nlist')}"
              f"  nprobe {p.get('nprobe')}", flush=True)


def through_lake(name: str, base: np.ndarray, queries: np.ndarray, gt: np.ndarray) -> None:
    """The same through RuLake: its defaults, and the spec's values set explicitly."""
    ids = np.arange(base.shape[0], dtype=np.uint64)
    for label, spec in (("RuLake.builder() defaults", False), ("RuLake .bits(1).nlist(0)", True)):
        b = ruvector.RuLake.builder()
        if spec:
            b = b.bits(1).nlist(0)
        with b.build() as lake:
            hot = ruvector.LocalBackend("hot")
            hot.upsert("docs", ids, base)
            lake.register_backend(hot)
            t0 = time.perf_counter()
            lake.search_one("docs", queries[0], k=10)
            first = time.perf_counter() - t0
            t0 = time.perf_counter()
            got = [[h.id for h in lake.search_one("docs", q, k=10)] for q in queries]
            qps = len(queries) / (time.perf_counter() - t0)
            rec = float(np.mean([len(set(g) & set(t[:10].tolist())) / 10.0
                                 for g, t in zip(got, gt)]))
            print(f"{name:<22} {label:<30} recall@10 {rec:.3f}  QPS {qps:7.0f}  "
                  f"first search (prime) {first:5.2f} s", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/work/shared/datasets/ruvector-demo-100k")
    ap.add_argument("--nq", type=int, default=200)
    ap.add_argument("--lake-only", action="store_true")
    a = ap.parse_args()
    base = fvecs(os.path.join(a.data, "base.fvecs"))
    queries = fvecs(os.path.join(a.data, "query.fvecs"))[: a.nq]
    gt = np.fromfile(os.path.join(a.data, "gt100.ivecs"), dtype=np.int32).reshape(-1, 101)[:, 1:]
    if not a.lake_only:
        measure("demo-100k", base, queries, gt)
    through_lake("demo-100k", base, queries, gt)
    if a.lake_only:
        return
    cb, cq, _ = clustered(100_000, a.nq, 96, seed=2026)
    measure("clustered 100k x 96", cb, cq, exact_top10(cb, cq))


if __name__ == "__main__":
    main()
