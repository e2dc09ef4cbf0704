#!/usr/bin/env python3
"""What one search_one_async costs the event loop's thread (rulake.md §13
test 2: a 1 ms ticker on the loop running 100 concurrent searches).

Per pass, on one loop: 100 tasks of search_one_async are created (timed
apart: gather's own cost) and their first steps run in one loop turn (what
gather() does); that turn's thread CPU / 100 is the per-submit cost. Then the
rest of the gather runs with a 1 ms ticker beside it (the ticks missed in the
worst gap, as bench/rulake_ours.py t3 counts them, and the loop thread's CPU
in its worst gap) and the loop thread's CPU for the whole burst, and per
loop turn (the longest turn, the longest three turns in a row: a timer that
falls due waits for the turn running then, and the ticker's wake-up takes
two more handles). Cases (--cases): in memory (LocalBackend), a
BackendAdapter whose describe is awaited on the loop (2 ms) with T3's lake
settings and with the planned index, and one whose describe blocks a pool
thread (2 ms); 50k rows. The hits are checked against the sync calls.

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


async def one_pass(lk: Any, qs: Any, ticking: bool = True) -> Dict[str, float]:
    loop = asyncio.get_running_loop()
    stop = not ticking
    worst = 0
    worst_cpu = 0.0

    async def ticker() -> None:
        nonlocal worst, worst_cpu
        last, last_cpu = time.perf_counter(), time.thread_time()
        while not stop:
            await asyncio.sleep(0.001)
            now, now_cpu = time.perf_counter(), time.thread_time()
            worst = max(worst, int((now - last) / 0.001) - 1)
            worst_cpu = max(worst_cpu, now_cpu - last_cpu)
            last, last_cpu = now, now_cpu

    # Each loop turn's thread CPU (asyncio's own loop: _run_once is one turn).
    turns: List[float] = []
    run_once = loop._run_once  # type: ignore[attr-defined]

    def timed_turn() -> None:
        c = time.thread_time()
        run_once()
        turns.append(time.thread_time() - c)

    tick = asyncio.ensure_future(ticker())
    await asyncio.sleep(0.005)
    loop._run_once = timed_turn  # type: ignore[attr-defined]
    c0, w0 = time.thread_time(), time.perf_counter()
    tasks = [loop.create_task(lk.search_one_async("c", q, k=10)) for q in qs]
    cs, ws = time.thread_time(), time.perf_counter()
    await asyncio.sleep(0)  # the 100 first steps run before this resumes
    c1, w1 = time.thread_time(), time.perf_counter()
    await asyncio.gather(*tasks)
    c2, w2 = time.thread_time(), time.perf_counter()
    loop._run_once = run_once  # type: ignore[attr-defined]
    stop = True
    await tick
    three = max((sum(turns[i:i + 3]) for i in range(max(1, len(turns) - 2))), default=0.0)
    return {"submit_turn_cpu_us": (c1 - cs) * 1e6, "submit_turn_wall_us": (w1 - ws) * 1e6,
            "create_tasks_cpu_us": (cs - c0) * 1e6,
            "loop_cpu_ms": (c2 - c0) * 1e3, "wall_ms": (w2 - w0) * 1e3,
            "max_turn_cpu_us": max(turns, default=0.0) * 1e6, "max_3_turns_cpu_us": three * 1e6,
            "max_cpu_between_ticks_us": worst_cpu * 1e6, "ticks_missed": worst}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--passes", type=int, default=20)
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--cases", default="memory,adescribe,adescribe_plan,slow",
                    help="memory, adescribe (describe awaited on the loop), adescribe_plan "
                         "(the same, the lake's planned index), slow (describe blocking "
                         "a pool thread)")
    ap.add_argument("--no-ticker", action="store_true",
                    help="no ticker (for instruction counts under callgrind, where a pass "
                         "lasts long enough for the ticker to dominate)")
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

    class SlowDescribe(BackendAdapter):
        """describe blocks 2 ms on the pool thread that calls it."""
        threadsafe = True

        def describe(self, collection: str) -> CollectionInfo:
            time.sleep(0.002)
            return info

        def pull_vectors(self, collection: str) -> PulledBatch:
            return PulledBatch(ids, base, info)

    out: Dict[str, Any] = {"load": os.getloadavg(), "passes": a.passes,
                           "python": sys.version.split()[0]}
    for case in a.cases.split(","):
        # T3's lake (bits 1, flat, rerank 20) but for "*_plan": the planned defaults
        lk = (ruvector.RuLake.builder().rerank_factor(20).rotation_seed(42).build()
              if case.endswith("_plan") else lake(ruvector))
        if case == "memory":
            be = ruvector.LocalBackend(name="b")
            be.upsert("c", ids=ids, vectors=base)
            lk.register_backend(be)
        elif case.startswith("adescribe"):
            lk.register_backend(SlowAsyncDescribe("slow"))
        else:
            lk.register_backend(SlowDescribe("slow"))
        ref = [lk.search_one("c", q, k=10) for q in qs]
        rows: List[Dict[str, float]] = []
        for _ in range(a.passes):
            rows.append(asyncio.run(one_pass(lk, qs, not a.no_ticker)))

        async def check() -> List[Any]:
            return await asyncio.gather(*(lk.search_one_async("c", q, k=10) for q in qs))
        got = asyncio.run(check())
        assert [[(h.id, h.score) for h in r] for r in got] == \
               [[(h.id, h.score) for h in r] for r in ref], "async hits differ from sync"
        lk.close()
        med: Dict[str, Any] = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
        med["submit_cpu_us_per_call"] = med["submit_turn_cpu_us"] / len(qs)
        for k in ("ticks_missed", "max_turn_cpu_us", "max_3_turns_cpu_us",
                  "max_cpu_between_ticks_us"):
            v = sorted(r[k] for r in rows)
            med[k + "_p90"], med[k + "_max"] = v[int(0.9 * len(v))], v[-1]
        out[case] = med
        print(case, {k: round(v, 2) for k, v in med.items()}, flush=True)
    out["load_after"] = os.getloadavg()
    print("load", out["load"], "->", out["load_after"])
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
