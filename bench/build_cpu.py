"""Build CPU time of the default plan against the same plan with explicit
bits (each row's own extended-code scale) and with explicit bits and the
engine's own k-means sample (the build before the plan chose them),
interleaved, with recall@10 and the search CPU time per query of each.

CPU time (time.process_time: every thread of the process), not wall time:
on a shared machine wall time follows the load. Usage:

    PYTHONPATH=python/ruvector/src python3 bench/build_cpu.py \
        --sets demo-100k,clustered-l2-50k --rounds 3
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any, Dict, List

import numpy as np

import defaults  # bench/defaults.py: the data sets and the exact k-th distances
from bench_data import tie_tolerant_recall

import ruvector

K = 10


def engine_sample(n: int, nlist: int) -> int:
    """ruv__kmeans_default_sample (engine/index/ivf/kmeans.c)."""
    s = 256 * nlist if nlist <= 65536 // 256 else 65536
    if nlist > 65536 // 64:
        s = 64 * nlist
    return min(s, n)


def run(name: str, rounds: int, per_list: List[int], hnsw: bool) -> None:
    base, queries, metric, n_in = defaults.load_set(name)
    kth = defaults.exact_kth(base, queries, metric)
    eng = ruvector.Engine()
    probe = ruvector.RabitqPlusIndex.build(base, metric=metric, engine=eng)
    nlist, bits = int(probe.params["nlist"]), int(probe.params["bits"])
    ts = engine_sample(base.shape[0], nlist)
    # explicit bits: each row's own scale (what the plan did before); with
    # the engine's k-means sample too: the build as it was
    variants: Dict[str, Dict[str, Any]] = {
        "defaults": {},
        f"bits={bits}": {"bits": bits},
        f"bits={bits},train_size={ts} (before)": {"bits": bits, "train_size": ts},
    }
    for per in per_list:  # the plan's bits, another k-means sample
        variants[f"train_size={per * nlist}"] = {"train_size": per * nlist}
    cpu: Dict[str, List[float]] = {k: [] for k in variants}
    last: Dict[str, Any] = {}
    for _ in range(rounds):
        for label, kw in variants.items():
            t0 = time.process_time()
            last[label] = ruvector.RabitqPlusIndex.build(base, metric=metric, engine=eng, **kw)
            cpu[label].append(time.process_time() - t0)
    print(f"\n{name}: n={base.shape[0]} D={base.shape[1]} {metric}, nlist {nlist}")
    if hnsw:  # bench/defaults.py's hnswlib, its build's CPU time once
        import hnswlib
        h = hnswlib.Index(space={"l2": "l2", "cosine": "cosine", "ip": "ip"}[metric],
                          dim=base.shape[1])
        h.set_num_threads(os.cpu_count() or 1)
        t0 = time.process_time()
        h.init_index(max_elements=base.shape[0], M=16, ef_construction=200, random_seed=100)
        h.add_items(base, np.arange(base.shape[0]))
        hcpu = time.process_time() - t0
        ours = statistics.median(cpu["defaults"])
        print(f"  hnswlib M=16 ef_construction=200: build CPU {hcpu:.2f} s; ours defaults / "
              f"hnswlib = {ours / hcpu:.3f}", flush=True)
    # search CPU per query: every index once per round, interleaved, median
    search: Dict[str, List[float]] = {k: [] for k in variants}
    ids: Dict[str, np.ndarray] = {}
    for _ in range(rounds):
        for label, idx in last.items():
            t0 = time.process_time()
            ids[label] = np.array([[r.id for r in idx.search(q, K)] for q in queries])
            search[label].append((time.process_time() - t0) / queries.shape[0] * 1e6)
    for label, idx in last.items():
        got = ids[label]
        rin = tie_tolerant_recall(base, queries[:n_in], got[:n_in], kth[:n_in], metric, K)
        rood = (tie_tolerant_recall(base, queries[n_in:], got[n_in:], kth[n_in:], metric, K)
                if n_in < queries.shape[0] else float("nan"))
        p = idx.params
        print(f"  {label}: build CPU {statistics.median(cpu[label]):.2f} s "
              f"(rounds {', '.join(f'{x:.2f}' for x in cpu[label])}), train_size "
              f"{p['train_size']}, nprobe {p['nprobe']}, recall@10 in {rin:.3f} / OOD "
              f"{rood:.3f}, search CPU {statistics.median(search[label]):.0f} us/query "
              f"(rounds {', '.join(f'{x:.0f}' for x in search[label])})", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default="demo-100k")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--hnswlib", action="store_true", help="also hnswlib's build CPU time")
    ap.add_argument("--per-list", default="", help="also train on these rows per list, e.g. 128")
    a = ap.parse_args()
    for s in a.sets.split(","):
        run(s, a.rounds, [int(x) for x in a.per_list.split(",") if x], a.hnswlib)


if __name__ == "__main__":
    main()
