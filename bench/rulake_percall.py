#!/usr/bin/env python3
"""T1's fixed per-call cost: RuLake.search_one (FRESH, EVENTUAL) against
index.search on the same rows and queries (bits 1, flat, rerank 20, seed
42, k 10: the bench's settings). Never run by CI; docs/benchmarks-rulake.md
"Session 9" cites it.

    python3 bench/rulake_percall.py [--n 2000] [--reps 5]
        thread CPU per call, the three in rotating order, median of reps
    valgrind --tool=callgrind --dump-before=time_perf_counter \\
        python3 bench/rulake_percall.py --n 5000 --callgrind fresh
        one dump per 200-search loop: index.search, then search_one
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rulake_ours import K, median, read_fvecs  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", type=Path, default=Path("/work/shared/datasets/ruvector-demo-100k"))
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--callgrind", choices=["fresh", "eventual"], default=None)
    a = ap.parse_args()
    import numpy as np
    import ruvector
    base = read_fvecs(a.dataset / "base.fvecs", a.n)
    qs = read_fvecs(a.dataset / "query.fvecs")
    ids = np.arange(base.shape[0], dtype=np.uint64)
    direct = ruvector.RabitqPlusIndex.build(base, ids=ids, bits=1, nlist=0, rerank_factor=20, seed=42)

    def lake(c: "ruvector.Consistency") -> "ruvector.RuLake":
        b = ruvector.RuLake.builder().rerank_factor(20).rotation_seed(42).bits(1).nlist(0).consistency(c)
        if c == ruvector.Consistency.EVENTUAL:
            b = b.ttl_ms(600_000)
        lk = b.build()
        be = ruvector.LocalBackend("b")
        be.upsert("c", ids, base)
        lk.register_backend(be)
        lk.search_one("c", qs[0], k=K)
        return lk

    modes = ["fresh", "eventual"] if a.callgrind is None else [a.callgrind]
    lakes = {m: lake(ruvector.Consistency.FRESH if m == "fresh" else ruvector.Consistency.EVENTUAL)
             for m in modes}
    fns = {"direct": lambda q: direct.search(q, K)}
    for m, lk in lakes.items():
        fns[m] = lambda q, lk=lk: lk.search_one("c", q, k=K)
    for q in qs[:50]:  # warm, and the same answers
        want = [(h.id, h.score) for h in direct.search(q, K)]
        for m, lk in lakes.items():
            assert [(h.id, h.score) for h in lk.search_one("c", q, k=K)] == want
    if a.callgrind:
        loop = qs[:200]
        for _ in range(2):  # the second pair of dumps is the one to read
            time.perf_counter()
            for q in loop:
                fns["direct"](q)
            time.perf_counter()
            for q in loop:
                fns[a.callgrind](q)
        time.perf_counter()
        return 0
    names = list(fns)
    cpu = {k: [] for k in names}
    for rep in range(a.reps):
        acc = {k: 0.0 for k in names}
        for i, q in enumerate(qs):
            for j in range(len(names)):
                nm = names[(i + j + rep) % len(names)]
                c = time.thread_time()
                fns[nm](q)
                acc[nm] += time.thread_time() - c
        for k in names:
            cpu[k].append(acc[k] / len(qs) * 1e6)
    d = median(cpu["direct"])
    print(f"n={base.shape[0]}: us per call, thread CPU, median of {a.reps}: direct {d:.1f}" +
          "".join(f"; {m} {median(cpu[m]):.1f} ({median(cpu[m]) - d:+.1f})" for m in modes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
