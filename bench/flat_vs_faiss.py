#!/usr/bin/env python3
"""Exact search, one thread: ruvector FlatF32Index against faiss IndexFlatL2
(or IndexFlatIP) in one process, alternating, so that both see the same
machine load; one query per call, or batches. Never part of CI.

Each round times `--queries` one-query calls on every system in turn (the
order flips every round); the reported ratio is the median over rounds of
ours / faiss QPS from the same round. On a shared machine only the ratios
mean something; absolute QPS are printed for reference with the load average.

    python bench/flat_vs_faiss.py --data /work/shared/datasets/ruvector-demo-100k
    python bench/flat_vs_faiss.py --gen 1000000x128 --rounds 5 --queries 20

Options worth knowing:
  --plugin-path DIR    our kernel plugins from DIR (default: the package's own)
  --baseline DIR       also time a second FlatF32Index whose kernel plugins
                       come from DIR (e.g. a copy of the plugins before a
                       change): the before/after ratio in the same process
  --rabitq             also time RabitqPlusIndex.build(x) (defaults) search
                       with both plugin sets (needs --baseline)
  --metric l2|ip|cosine  faiss IndexFlatL2 or IndexFlatIP (cosine: both get
                       unit rows and queries)
  --batch NQ           one search_batch of NQ queries per system per round
                       (wall clock); run it with OPENBLAS_NUM_THREADS=1, as
                       faiss's OpenBLAS ignores omp_set_num_threads

Needs numpy, faiss-cpu and the ruvector package."""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

import numpy as np


def read_fvecs(path: Path) -> np.ndarray:
    raw = np.fromfile(path, dtype=np.int32)
    dim = int(raw[0])
    return raw.reshape(-1, dim + 1)[:, 1:].view(np.float32).copy()


def generate(spec: str, nq: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """n x d rows of the demo recipe: Gaussian clusters around centres
    uniform in [-2, 2], queries from the same process."""
    n, d = (int(v) for v in spec.lower().split("x"))
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-2, 2, size=(1000, d)).astype(np.float32)
    base = np.empty((n, d), dtype=np.float32)
    step = 100_000
    for b in range(0, n, step):
        m = min(step, n - b)
        base[b:b + m] = centres[rng.integers(0, len(centres), m)]
        base[b:b + m] += rng.normal(0, 0.6, size=(m, d)).astype(np.float32)
    q = centres[rng.integers(0, len(centres), nq)] + rng.normal(0, 0.6, size=(nq, d))
    return base, q.astype(np.float32)


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_flags() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                f = set(line.split(":", 1)[1].split())
                return "AVX-512" if "avx512f" in f else ("AVX2" if "avx2" in f else "no AVX2")
    except OSError:
        pass
    return "?"


def timed(fn: Callable[[np.ndarray], object], queries: np.ndarray, cpu: bool) -> float:
    """QPS of one-query calls over every row of queries: by the wall clock,
    or (cpu) by this thread's CPU time, which leaves out the time slices
    other processes take on a shared machine (memory stalls still count)."""
    clock = time.thread_time if cpu else time.perf_counter
    t0 = clock()
    for q in queries:
        fn(q)
    return len(queries) / (clock() - t0)


def timed_batch(fn: Callable[[np.ndarray], object], queries: np.ndarray, cpu: bool) -> float:
    """QPS of one batch call over every row of queries. Always by the wall
    clock: ours runs a batch on the engine's pool thread, whose CPU time the
    calling thread's clock would not see."""
    clock = time.perf_counter
    t0 = clock()
    fn(queries)
    return len(queries) / (clock() - t0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", type=Path, help="directory with base.fvecs and query.fvecs")
    src.add_argument("--gen", help="generate NxD rows (e.g. 1000000x128)")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--queries", type=int, default=50, help="queries per system per round")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--plugin-path", type=Path)
    ap.add_argument("--baseline", type=Path)
    ap.add_argument("--variant", action="append", default=[], metavar="NAME=DIR",
                    help="one more FlatF32Index with the kernel plugins of DIR (repeatable)")
    ap.add_argument("--rabitq", action="store_true")
    ap.add_argument("--metric", choices=("l2", "ip", "cosine"), default="l2",
                    help="faiss IndexFlatL2, or IndexFlatIP (cosine: over unit rows and queries)")
    ap.add_argument("--batch", type=int, default=0, metavar="NQ",
                    help="time one search_batch of NQ queries per system per round instead "
                         "of one-query calls")
    ap.add_argument("--pin", type=int, help="pin the process to this CPU")
    ap.add_argument("--cpu-time", action="store_true",
                    help="QPS by thread CPU time instead of wall time (shared machines)")
    args = ap.parse_args()

    import faiss  # type: ignore[import-not-found]
    import ruvector

    if args.pin is not None:
        os.sched_setaffinity(0, {args.pin})
    faiss.omp_set_num_threads(1)
    if args.data:
        base = read_fvecs(args.data / "base.fvecs")
        queries = read_fvecs(args.data / "query.fvecs")
        name = args.data.name
    else:
        base, queries = generate(args.gen, max(args.queries, 200))
        name = f"generated {args.gen}"
    n, d = base.shape
    print(f"# {' '.join([Path(sys.executable).name] + sys.argv)}")
    print(f"# CPU: {cpu_name()} ({os.cpu_count()} CPUs, {cpu_flags()}); "
          f"load average at start {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    print(f"# clock: {'thread CPU time' if args.cpu_time else 'wall'}")
    print(f"# data: {name}, {n} x {d}, {base.nbytes / 1e6:.1f} MB; k={args.k}; "
          f"faiss {faiss.__version__}, ruvector {getattr(ruvector, '__version__', '?')}")

    def engine(path: Path | None) -> "ruvector.Engine":
        return ruvector.Engine(threads=1, plugin_path=str(path) if path else None)

    metric = args.metric
    if metric == "cosine":
        # faiss has no cosine index: unit rows and queries under IndexFlatIP
        # (ours gets the same unit vectors and normalises again, a no-op)
        base = base / np.linalg.norm(base, axis=1, keepdims=True).clip(1e-30)
        queries = queries / np.linalg.norm(queries, axis=1, keepdims=True).clip(1e-30)
        base, queries = base.astype(np.float32), queries.astype(np.float32)
    fi = faiss.IndexFlatL2(d) if metric == "l2" else faiss.IndexFlatIP(d)
    fi.add(base)
    k = args.k
    nb = args.batch
    print(f"# metric {metric}; " + (f"batch QPS: one search_batch of {nb} queries per round"
                                     if nb else "single-query calls"))
    if nb:
        queries = np.concatenate([queries] * (-(-max(nb, args.queries) // len(queries))))

    def ours_fn(idx: Any) -> Callable[[np.ndarray], object]:
        if nb:
            return lambda qs: idx.search_batch(qs, k)
        return lambda q: idx.search(q, k)

    def flat(path: Path | None) -> Any:
        return ruvector.FlatF32Index.build(base, metric=metric, engine=engine(path))

    systems: Dict[str, Callable[[np.ndarray], object]] = {
        "faiss": (lambda qs: fi.search(qs, k)) if nb else (lambda q: fi.search(q.reshape(1, -1), k)),
    }
    ours = flat(args.plugin_path)
    systems["ours"] = ours_fn(ours)
    if args.baseline:
        systems["ours-before"] = ours_fn(flat(args.baseline))
    for v in args.variant:
        vname, vdir = v.split("=", 1)
        systems[vname] = ours_fn(flat(Path(vdir)))
    if args.rabitq:
        systems["rabitq+"] = ours_fn(ruvector.RabitqPlusIndex.build(
            base, metric=metric, engine=engine(args.plugin_path)))
        if args.baseline:
            systems["rabitq+-before"] = ours_fn(ruvector.RabitqPlusIndex.build(
                base, metric=metric, engine=engine(args.baseline)))

    # the answers agree (ties aside: compare distances of the k-th)
    for q in queries[:20]:
        fd, _ = fi.search(q.reshape(1, -1), k)
        od = np.asarray([r.score for r in ours.search(q, k)])
        if not np.allclose(np.sort(fd[0]), np.sort(od), rtol=1e-4, atol=1e-3):
            print(f"warning: distances differ: faiss {fd[0][:3]} ours {od[:3]}")
            break

    names = list(systems)
    qps: Dict[str, List[float]] = {s: [] for s in names}
    nq = len(queries)
    for r in range(args.rounds):
        want = nb or args.queries
        qs = queries[(r * want) % nq:][:want]
        if len(qs) < want:
            qs = np.concatenate([qs, queries[:want - len(qs)]])
        order = names if r % 2 == 0 else names[::-1]
        for s in order:
            qps[s].append(timed_batch(systems[s], qs, args.cpu_time) if nb
                          else timed(systems[s], qs, args.cpu_time))
        print("round %d: " % r + "  ".join(f"{s} {qps[s][-1]:.1f}" for s in names), flush=True)

    print(f"# load average at end {os.getloadavg()[0]:.2f}")
    print(f"{'system':<16} {'median QPS':>11} {'ratio to faiss (median of rounds)':>36}")
    for s in names:
        ratios = [a / b for a, b in zip(qps[s], qps["faiss"])]
        print(f"{s:<16} {statistics.median(qps[s]):>11.1f} {statistics.median(ratios):>36.3f}")
    if args.baseline:
        pairs = [("ours", "ours-before"), ("rabitq+", "rabitq+-before")]
        pairs += [(v.split("=", 1)[0], "ours-before") for v in args.variant]
        for s, b in pairs:
            if s in qps and b in qps:
                ratios = [a / c for a, c in zip(qps[s], qps[b])]
                print(f"{s} / {b}: median ratio {statistics.median(ratios):.3f} "
                      f"(min {min(ratios):.3f}, max {max(ratios):.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
