#!/usr/bin/env python3
"""What a new user gets: ruvector's defaults against hnswlib's, same run.

Ours is what the README tells a new user to type: ``RabitqPlusIndex.build(x)``
then ``idx.search(q, 10)``. hnswlib is M=16, ef_construction=200, ef=64
(also ef 32 and 128, to see its curve). Both search one query at a time on
one thread, interleaved round by round so that a shared, noisy machine
slows both alike; the ratios come from the same round.

Data sets (generated ones are made in memory, nothing is written):
  demo-100k       /work/shared/datasets/ruvector-demo-100k (read in place)
  clustered-20k   20,000 x 100, L2, 50 Gaussian clusters (the demo recipe)
  embed-100k      100,000 x 96, cosine, embedding-like unit vectors (Zipf
                  clusters, per-dimension scales i^-0.5 under a rotation);
                  10 % of the queries out of distribution (uniform on the
                  sphere), reported separately
  and the sets of bench/defaults_data.py (issue 14's shapes, 50,000 rows,
  1,000 queries of which 10 % out of distribution):
  clustered-l2-50k, aniso-l2-50k, embed-cos-50k, dups-zeros-l2-50k,
  clustered-ip-d61-50k

Never run in CI. Needs numpy, hnswlib (pip install hnswlib) and the ruvector
package (an installed wheel, or the extension built in place:
``cd python/ruvector && RUVECTOR_BUILD_DIR=../../build python3 setup.py
build_ext --inplace`` and PYTHONPATH=python/ruvector/src).

    python3 bench/defaults.py                      # every data set
    python3 bench/defaults.py --sets clustered-20k --rounds 5
    python3 bench/defaults.py --sets issue14 --cost-rounds 0   # the six-set report
    python3 bench/defaults.py --variant nlist=0 --variant nlist=300,bits=4
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))
from bench_data import (  # noqa: E402
    DEMO_DIR,
    exact_distances,
    gen_clustered,
    gen_embedding_like,
    read_vecs,
    tie_tolerant_recall,
)

import defaults_data  # noqa: E402
import ruvector  # noqa: E402

K = 10


def exact_kth(base: np.ndarray, queries: np.ndarray, metric: str) -> np.ndarray:
    """The K-th exact distance per query (float64 re-score of a float32 top 2K)."""
    out = np.empty(queries.shape[0], dtype=np.float64)
    if metric == "cosine":
        bn = base / np.maximum(np.linalg.norm(base, axis=1, keepdims=True), 1e-30)
    else:
        bn = base
        sq = np.einsum("ij,ij->i", base, base)
    for s in range(0, queries.shape[0], 256):
        q = queries[s:s + 256]
        g = q @ bn.T
        d = -g if metric in ("cosine", "ip") else sq[None, :] - 2.0 * g
        cand = np.argpartition(d, 2 * K, axis=1)[:, :2 * K]
        exact = exact_distances(base, q, cand, metric)
        out[s:s + q.shape[0]] = np.sort(exact, axis=1)[:, K - 1]
    return out


def load_set(name: str) -> Tuple[np.ndarray, np.ndarray, str, int]:
    """(base, queries, metric, in-distribution query count)."""
    if name == "demo-100k":
        return read_vecs(DEMO_DIR / "base.fvecs"), read_vecs(DEMO_DIR / "query.fvecs"), "l2", 200
    if name in defaults_data.GENERATORS:
        return defaults_data.load(name)
    if name.startswith("clustered-") and name[10:-1].isdigit() and name.endswith("k"):
        # clustered-20k is the reported one; other sizes find the IVF threshold
        b, q = gen_clustered(int(name[10:-1]) * 1000, 1000, 100, 50, 0.6, seed=7)
        return b, q, "l2", 1000
    if name == "embed-100k":
        b, q = gen_embedding_like(100_000, 1000, 96, 200, seed=11, ood_fraction=0.1)
        return b, q, "cosine", 900
    raise SystemExit(f"unknown data set {name!r}")


def timed(fn: Callable[[], Any]) -> Tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def parse_variant(text: str) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for part in filter(None, text.split(",")):
        k, v = part.split("=", 1)
        out[k] = float(v) if k == "target_recall" else int(v)
    return out


def run_set(name: str, rounds: int, variants: List[Dict[str, Any]], efs: List[int],
            hnsw: bool, cost_rounds: int, min_queries: int, flat: bool = True) -> None:
    base, queries, metric, n_in = load_set(name)
    n, dim = base.shape
    kth = exact_kth(base, queries, metric)
    print(f"\n## {name}: n={n}, D={dim}, {metric}, {queries.shape[0]} queries "
          f"({queries.shape[0] - n_in} out of distribution)", flush=True)
    eng = ruvector.Engine()
    systems: Dict[str, Callable[[np.ndarray], np.ndarray]] = {}
    builds: Dict[str, float] = {}
    for v in variants:
        label = "ours " + (",".join(f"{k}={x}" for k, x in v.items()) or "defaults")
        idx, secs = timed(lambda: ruvector.RabitqPlusIndex.build(base, metric=metric, engine=eng,
                                                                 **v))
        builds[label] = secs
        p = idx.params
        print(f"{label}: build {secs:.2f} s; plan: {p['plan']}", flush=True)
        systems[label] = (lambda ix: lambda q: np.array([r.id for r in ix.search(q, K)]))(idx)
        if not v:
            systems[label + " recall=0.99"] = (
                lambda ix: lambda q: np.array([r.id for r in ix.search(q, K, recall=0.99)]))(idx)
            if p["nlist"] > 1 and cost_rounds > 0:
                # calibration's share of the build: the same plan, nothing
                # measured; alternating builds, medians of the process's CPU
                # time (wall time on a loaded machine varies by more)
                def cpu(**kw: Any) -> float:
                    t0 = time.process_time()
                    ruvector.RabitqPlusIndex.build(base, metric=metric, engine=eng, **kw)
                    return time.process_time() - t0

                full, bare = [], []
                for _ in range(cost_rounds):
                    bare.append(cpu(target_recall=0, bits=p["bits"], nlist=p["nlist"]))
                    full.append(cpu())
                f, b = float(np.median(full)), float(np.median(bare))
                print(f"  build CPU time (median of {cost_rounds}): {f:.2f} s with calibration, "
                      f"{b:.2f} s the same plan without: calibration {100 * (f - b) / f:.0f} % "
                      f"of the build", flush=True)
    if n <= 50_000 and flat:  # the small-n promise: never slower than this
        flat = ruvector.FlatF32Index.build(base, metric=metric, engine=eng)
        systems["FlatF32Index (exact)"] = lambda q: np.array([r.id for r in flat.search(q, K)])
    if hnsw:
        import hnswlib
        space = {"l2": "l2", "cosine": "cosine", "ip": "ip"}[metric]
        h = hnswlib.Index(space=space, dim=dim)
        h.set_num_threads(os.cpu_count() or 1)

        def hb() -> None:
            h.init_index(max_elements=n, M=16, ef_construction=200, random_seed=100)
            h.add_items(base, np.arange(n))

        _, builds["hnswlib"] = timed(hb)
        print(f"hnswlib M=16 ef_construction=200: build {builds['hnswlib']:.2f} s "
              f"({os.cpu_count()} threads; ours used {eng.threads})", flush=True)
        h.set_num_threads(1)
        for ef in efs:
            systems[f"hnswlib ef={ef}"] = (
                lambda e: lambda q: (h.set_ef(e), h.knn_query(q, k=K)[0][0])[1])(ef)
    # recall once, QPS per round, interleaved
    ids: Dict[str, np.ndarray] = {}
    qps: Dict[str, List[float]] = {s: [] for s in systems}
    reps = max(1, -(-min_queries // queries.shape[0]))  # each round searches >= min_queries
    names = list(systems)
    for r in range(rounds):
        # each round starts at another system, and each system warms up
        # first: the same search measured up to 1.5x slower right after
        # another system's (cold caches) than after itself
        for s in names[r % len(names):] + names[:r % len(names)]:
            fn = systems[s]
            for q in queries[:200]:  # untimed: the previous system evicted our caches
                fn(q)
            t0 = time.perf_counter()
            for _ in range(reps):
                got = [fn(q) for q in queries]
            qps[s].append(reps * queries.shape[0] / (time.perf_counter() - t0))
            if r == 0:
                ids[s] = np.array([np.pad(g.astype(np.int64), (0, K - len(g)), constant_values=-1)
                                   for g in got])
    load = os.getloadavg()[0]
    ref = "hnswlib ef=64" if hnsw and 64 in efs else None
    print(f"\nload average {load:.1f}; {rounds} interleaved rounds of {reps * queries.shape[0]} "
          f"queries each, median QPS, ratio = "
          f"median over rounds of QPS / {ref or '-'} QPS in the same round")
    print("| system | recall@10 in-dist | recall@10 OOD | QPS (1 thread) | QPS ratio | build s "
          "| build ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for s in systems:
        rin = tie_tolerant_recall(base, queries[:n_in], ids[s][:n_in], kth[:n_in], metric, K)
        rood = (tie_tolerant_recall(base, queries[n_in:], ids[s][n_in:], kth[n_in:], metric, K)
                if n_in < queries.shape[0] else float("nan"))
        ratio = (np.median([a / b for a, b in zip(qps[s], qps[ref])]) if ref else float("nan"))
        b = builds.get(s, builds.get(s.replace(" recall=0.99", ""), float("nan")))
        if s.startswith("hnswlib"):
            b = builds["hnswlib"]
        br = b / builds["hnswlib"] if "hnswlib" in builds else float("nan")
        print(f"| {s} | {rin:.3f} | {rood:.3f} | {np.median(qps[s]):,.0f} | {ratio:.2f} | "
              f"{b:.2f} | {br:.2f} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", default="clustered-20k,demo-100k,embed-100k")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--variant", action="append", default=[],
                    help="extra build parameters for ours, e.g. nlist=0,bits=4 (repeatable)")
    ap.add_argument("--ef", default="32,64,128")
    ap.add_argument("--no-hnswlib", action="store_true")
    ap.add_argument("--no-flat", action="store_true", help="leave out FlatF32Index")
    ap.add_argument("--cost-rounds", type=int, default=3,
                    help="extra alternating builds to time the calibration")
    ap.add_argument("--min-queries", type=int, default=1000,
                    help="queries per system per round (the query set repeated)")
    a = ap.parse_args()
    variants = [{}] + [parse_variant(v) for v in a.variant]
    efs = [int(e) for e in a.ef.split(",") if e]
    print(f"CPU: {cpu_model()}; flags: {cpu_flags()}; cores: {os.cpu_count()}; "
          f"ruvector kernel {ruvector.Engine().kernel}")
    sets = a.sets.replace("issue14", ",".join(list(defaults_data.GENERATORS) + ["demo-100k"]))
    print(f"load average at start {os.getloadavg()[0]:.1f}; command: python3 "
          f"{' '.join(sys.argv)}", flush=True)
    for s in sets.split(","):
        run_set(s, a.rounds, variants, efs, not a.no_hnswlib, a.cost_rounds, a.min_queries,
                not a.no_flat)


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def cpu_flags() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            f = set(line.split(":", 1)[1].split())
            return " ".join(x for x in ("avx2", "fma", "avx512f", "avx512vpopcntdq") if x in f) or "-"
    return "-"


if __name__ == "__main__":
    main()
