#!/usr/bin/env python3
"""What one search_one_async costs the event loop's thread (rulake.md §13
test 2: a 1 ms ticker on the loop running 100 concurrent searches).

Per pass, on one loop: 100 tasks of search_one_async are created (timed
apart: gather's own cost) and their first steps run in one loop turn (what
gather() does); that turn's thread CPU / 100 is the per-submit cost. Then the rest of the gather runs with a
1 ms ticker beside it (the ticks missed in the worst gap, as
bench/rulake_ours.py t3 counts them) and the loop thread's CPU for the
whole burst. Cases: in memory (LocalBackend) and a BackendAdapter whose
describe is awaited on the loop (2 ms), 50k rows, T3's lake settings.

    python bench/rulake_submit_cost.py [--passes 20] [--n 50000] [--json OUT]

Thread CPU is the robust figure on a shared machine; wall and ticks depend
on the load (printed)."""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rulake_ours import read_fvecs  # noqa: E402

DATA = Path("/work/shared/datasets/ruvector-demo-100k")


def lake(ruvector: Any) -> Any:
    return (ruvector.RuLake.builder().rerank_factor(20).rotation_seed(42).bits(1).nlist(0)
            .consistency(ruvector.Consistency.FRESH).build())


async def one_pass(lk: Any, qs: Any) -> Dict[str, float]:
    loop = asyncio.get_running_loop()
    stop = False
    worst = 0

    async def ticker() -> None:
        nonlocal worst
        last = time.perf_counter()
        while not stop:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            worst = max(worst, int((now - last) / 0.001) - 1)
            last = now

    tick = asyncio.ensure_future(ticker())
    await asyncio.sleep(0.005)
    c0, w0 = time.thread_time(), time.perf_counter()
    tasks = [loop.create_task(lk.search_one_async("c", q, k=10)) for q in qs]
    cs, ws = time.thread_time(), time.perf_counter()
    await asyncio.sleep(0)  # the 100 first steps run before this resumes
    c1, w1 = time.thread_time(), time.perf_counter()
    await asyncio.gather(*tasks)
    c2, w2 = time.thread_time(), time.perf_counter()
    stop = True
    await tick
    return {"submit_turn_cpu_us": (c1 - cs) * 1e6, "submit_turn_wall_us": (w1 - ws) * 1e6,
            "create_tasks_cpu_us": (cs - c0) * 1e6,
            "loop_cpu_ms": (c2 - c0) * 1e3, "wall_ms": (w2 - w0) * 1e3, "ticks_missed": worst}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--passes", type=int, default=20)
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--json")
    a = ap.parse_args()
    import numpy as np
    import ruvector
    from ruvector import BackendAdapter, CollectionInfo, PulledBatch
    base = read_fvecs(DATA / "base.fvecs", a.n)
    ids = np.arange(base.shape[0], dtype=np.uint64)
    qs = read_fvecs(DATA / "query.fvecs", 100)
    info = CollectionInfo(data_ref="slow://c", dim=base.shape[1], generation=1)

    class SlowAsyncDescribe(BackendAdapter):
        threadsafe = True

        async def describe(self, collection: str) -> CollectionInfo:
            await asyncio.sleep(0.002)
            return info

        def pull_vectors(self, collection: str) -> PulledBatch:
            return PulledBatch(ids, base, info)

    out: Dict[str, Any] = {"load": os.getloadavg(), "passes": a.passes,
                           "python": sys.version.split()[0]}
    for case in ("memory", "adescribe"):
        lk = lake(ruvector)
        if case == "memory":
            be = ruvector.LocalBackend(name="b")
            be.upsert("c", ids=ids, vectors=base)
            lk.register_backend(be)
        else:
            lk.register_backend(SlowAsyncDescribe("slow"))
        ref = [lk.search_one("c", q, k=10) for q in qs]
        rows: List[Dict[str, float]] = []
        for _ in range(a.passes):
            rows.append(asyncio.run(one_pass(lk, qs)))

        async def check() -> List[Any]:
            return await asyncio.gather(*(lk.search_one_async("c", q, k=10) for q in qs))
        got = asyncio.run(check())
        assert [[(h.id, h.score) for h in r] for r in got] == \
               [[(h.id, h.score) for h in r] for r in ref], "async hits differ from sync"
        lk.close()
        med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
        med["submit_cpu_us_per_call"] = med["submit_turn_cpu_us"] / len(qs)
        med["ticks_missed_max"] = max(r["ticks_missed"] for r in rows)
        med["ticks_missed_p90"] = sorted(r["ticks_missed"] for r in rows)[int(0.9 * len(rows))]
        out[case] = med
        print(case, {k: round(v, 2) for k, v in med.items()}, flush=True)
    out["load_after"] = os.getloadavg()
    print("load", out["load"], "->", out["load_after"])
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
