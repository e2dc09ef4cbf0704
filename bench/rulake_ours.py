"""ruLake side by side: ours through the rulake.md §4 API (the Python
side of bench/rulake_compare.py, which runs it in process and as the
t2-child / t6-child processes). Never run by CI."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

K = 10


def read_fvecs(path: Path, limit: Optional[int] = None) -> Any:
    import numpy as np
    raw = np.fromfile(path, dtype=np.int32)
    dim = int(raw[0])
    rows = raw.reshape(-1, dim + 1)[:, 1:]
    if limit is not None:
        rows = rows[:limit]
    return np.ascontiguousarray(rows.view(np.float32))


def truth_for(base: Any, queries: Any, gt_path: Path, full: bool) -> Any:
    """(kth distance per query, top-k ids): from the shipped ivecs for the
    full base, else by an exact float64 scan."""
    import numpy as np
    if full and gt_path.exists():
        raw = np.fromfile(gt_path, dtype=np.int32)
        gt = raw.reshape(-1, int(raw[0]) + 1)[:, 1:1 + K].astype(np.int64)
    else:
        b = base.astype(np.float64)
        q = queries.astype(np.float64)
        d = (q * q).sum(1)[:, None] - 2 * q @ b.T + (b * b).sum(1)[None, :]
        gt = np.argsort(d, axis=1, kind="stable")[:, :K]
    kth = ((base[gt[:, K - 1]] - queries) ** 2).sum(1)
    return kth, gt


def recall(base: Any, queries: Any, truth: Any, ids: List[List[int]]) -> float:
    import numpy as np
    kth, _ = truth
    hits = 0
    for qi, row in enumerate(ids):
        r = np.asarray(row[:K], dtype=np.int64)
        d = ((base[r] - queries[qi]) ** 2).sum(1)
        hits += int((d <= kth[qi] * (1 + 1e-6)).sum())
    return hits / (len(ids) * K)


def qps(queries: Any, fn: Any) -> float:
    t = time.perf_counter()
    for q in queries:
        fn(q)
    return len(queries) / (time.perf_counter() - t)


def median(xs: List[float]) -> float:
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def cpu_qps(queries: Any, fn: Any) -> Tuple[float, float]:
    """(wall QPS, CPU QPS): CPU time of the whole process (every thread),
    so that a pass slowed by other processes on the machine shows as a
    wall/CPU gap rather than as a slower search."""
    t, c = time.perf_counter(), time.process_time()
    for q in queries:
        fn(q)
    return len(queries) / (time.perf_counter() - t), len(queries) / max(time.process_time() - c, 1e-9)


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class Ours:
    """Ours through the rulake.md §4 API with the original's index
    settings, named explicitly (bits 1, flat, rerank_factor 20, seed 42) so
    that a change of the lake's defaults does not change the comparison."""

    def __init__(self, base: Any, queries: Any, truth: Any, reps: int, shards: List[int]) -> None:
        import numpy as np
        self.base, self.queries, self.truth, self.reps, self.shards = base, queries, truth, reps, shards
        self.n, self.dim = base.shape
        self.ids = np.arange(self.n, dtype=np.uint64)

    def lake(self, consistency: Any = None, **kw: Any) -> Any:
        import ruvector
        c = consistency or ruvector.Consistency.FRESH
        b = ruvector.RuLake.builder().rerank_factor(20).rotation_seed(42).bits(1).nlist(0).consistency(c)
        if c == ruvector.Consistency.EVENTUAL:
            b = b.ttl_ms(600_000)
        if "max_cache_bytes" in kw:
            b = b.max_cache_bytes(kw["max_cache_bytes"])
        return b.build()

    def local(self, lk: Any, name: str, lo: int, hi: int) -> None:
        import ruvector
        be = ruvector.LocalBackend(name=name)
        be.upsert("c", ids=self.ids[lo:hi], vectors=self.base[lo:hi])
        lk.register_backend(be)

    def direct(self) -> Any:
        import ruvector
        return ruvector.RabitqPlusIndex.build(self.base, ids=self.ids, bits=1, nlist=0, rerank_factor=20, seed=42)

    def t1(self) -> List[Dict[str, Any]]:
        import ruvector
        qs = self.queries
        t = time.perf_counter()
        direct = self.direct()
        build_ms = (time.perf_counter() - t) * 1e3
        fresh, eventual = self.lake(ruvector.Consistency.FRESH), self.lake(ruvector.Consistency.EVENTUAL)
        for lk in (fresh, eventual):
            self.local(lk, "b", 0, self.n)
            lk.search_one("c", qs[0], k=K)
        fns = {"direct": lambda q: direct.search(q, K), "fresh": lambda q: fresh.search_one("c", q, k=K),
               "eventual": lambda q: eventual.search_one("c", q, k=K)}
        names = list(fns)
        for q in qs[:20]:  # warm-up
            for name in names:
                fns[name](q)
        # Query by query, the three in turn (the order rotating), each call
        # timed in wall and in this thread's CPU time: load that comes and
        # goes reaches the three alike, and a pass cannot be lucky alone.
        wall = {k: 0.0 for k in names}
        cpu = {k: 0.0 for k in names}
        per_rep: Dict[str, List[Tuple[float, float]]] = {k: [] for k in names}
        calls = 0
        for rep in range(max(1, self.reps)):
            w0 = dict(wall)
            c0 = dict(cpu)
            for i, q in enumerate(qs):
                for j in range(3):
                    name = names[(i + j + rep) % 3]
                    t, c = time.perf_counter(), time.thread_time()
                    fns[name](q)
                    cpu[name] += time.thread_time() - c
                    wall[name] += time.perf_counter() - t
            calls += len(qs)
            for k in names:
                per_rep[k].append((len(qs) / (wall[k] - w0[k]), len(qs) / (cpu[k] - c0[k])))
        med = {k: (calls / wall[k], calls / cpu[k]) for k in names}
        out: List[Dict[str, Any]] = [{
            "test": "T1", "direct_qps": med["direct"][0], "fresh_qps": med["fresh"][0],
            "eventual_qps": med["eventual"][0],
            "overhead_fresh": med["direct"][0] / med["fresh"][0],
            "overhead_eventual": med["direct"][0] / med["eventual"][0],
            "overhead_fresh_cpu": med["direct"][1] / med["fresh"][1],
            "overhead_eventual_cpu": med["direct"][1] / med["eventual"][1],
            "direct_qps_cpu": med["direct"][1], "fresh_qps_cpu": med["fresh"][1],
            "eventual_qps_cpu": med["eventual"][1], "direct_build_ms": build_ms, "runs": per_rep,
            "method": "query by query, direct/FRESH/EVENTUAL in rotating order; wall and thread CPU time"}]
        res = [[h.id for h in fresh.search_one("c", q, k=K)] for q in qs]
        dres = [[h.id for h in direct.search(q, K)] for q in qs]
        out.append({"test": "recall", "recall_at_10": recall(self.base, qs, self.truth, res), "qps": med["fresh"][0],
                    "same_ids_as_direct": res == dres})
        # recall@10 against QPS: the rerank cap swept on the direct index (the
        # lake adds T1's overhead on top); 0 lets the error bound alone decide.
        for rf in (1, 5, 10, 20, 50, 100, 0):
            got: List[List[int]] = []
            t = time.perf_counter()
            for q in qs:
                got.append([h.id for h in direct.search(q, K, rerank_factor=rf)])
            out.append({"test": "recall_sweep", "rerank": rf, "qps": len(qs) / (time.perf_counter() - t),
                        "recall_at_10": recall(self.base, qs, self.truth, got)})
        fresh.close()
        eventual.close()
        return out

    def t2(self, script: Path, dataset: Path, nlimit: Optional[int]) -> List[Dict[str, Any]]:
        import ruvector
        out: List[Dict[str, Any]] = []
        with tempfile.TemporaryDirectory(prefix="rulake-ours-t2-") as tmp:
            root = Path(tmp)
            (root / "data").mkdir()
            fs = ruvector.FsBackend("fs", root / "data")
            fs.write("base.ruvec2", self.ids, self.base)
            fs.register("c", "base.ruvec2")
            lk = self.lake()
            lk.register_backend(fs)
            lk.search_one("c", self.queries[0], k=K)
            t = time.perf_counter()
            lk.save_cache_to_dir(("fs", "c"), root / "cache")
            save_ms = (time.perf_counter() - t) * 1e3
            lk.close()
            cmd = [sys.executable, str(script), "t2-child", str(root), "--dataset", str(dataset)]
            if nlimit:
                cmd += ["--n", str(nlimit)]
            for _ in range(3):  # a first search is one sample: three new processes a round
                r = subprocess.run(cmd, capture_output=True, text=True)
                if r.returncode != 0:
                    return [{"test": "T2", "error": r.stderr[-2000:]}]
                v = json.loads(r.stdout.strip().splitlines()[-1])
                v.update({"test": "T2", "save_ms": save_ms})
                out.append(v)
        return out

    def t3(self) -> List[Dict[str, Any]]:
        import asyncio
        import ruvector
        from ruvector import BackendAdapter, CollectionInfo, PulledBatch
        qs = self.queries[:100]
        n = min(self.n, 50_000)  # rulake.md §12 T3 is written for 50k rows
        lk = self.lake(ruvector.Consistency.FRESH)
        self.local(lk, "b", 0, n)
        lk.search_one("c", qs[0], k=K)

        async def gather(lake: Any, coll: str) -> float:
            t = time.perf_counter()
            await asyncio.gather(*(lake.search_one_async(coll, q, k=K) for q in qs))
            return time.perf_counter() - t

        sync_s: List[float] = []
        async_s: List[float] = []
        one_s: List[float] = []
        for _ in range(max(1, self.reps)):
            t = time.perf_counter()
            for q in qs:
                lk.search_one("c", q, k=K)
            sync_s.append(time.perf_counter() - t)
            async_s.append(asyncio.run(gather(lk, "c")))
        lk.close()

        base, ids = self.base[:n], self.ids[:n]
        info = CollectionInfo(data_ref="slow://c", dim=base.shape[1], generation=1)
        calls = {"describe": 0}

        class SlowDescribe(BackendAdapter):
            """describe takes 2 ms, like a remote store (rulake.md §12 T3),
            blocking: the lake calls it from a pool thread."""
            threadsafe = True

            def describe(self, collection: str) -> CollectionInfo:
                calls["describe"] += 1
                time.sleep(0.002)
                return info

            def pull_vectors(self, collection: str) -> PulledBatch:
                return PulledBatch(ids, base, info)

        class SlowAsyncDescribe(BackendAdapter):
            """The same remote store through an async client: describe is
            awaited on the caller's event loop, holding no pool thread."""
            threadsafe = True

            async def describe(self, collection: str) -> CollectionInfo:
                calls["describe"] += 1
                await asyncio.sleep(0.002)
                return info

            def pull_vectors(self, collection: str) -> PulledBatch:
                return PulledBatch(ids, base, info)

        async def ticked(lake: Any, coll: str) -> Tuple[float, int]:
            """gather() with a 1 ms ticker on the same loop (rulake.md §13
            test 2): (seconds, the most ticks one gap missed)."""
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
            await asyncio.sleep(0.005)  # the ticker runs before the searches start
            t = time.perf_counter()
            await asyncio.gather(*(lake.search_one_async(coll, q, k=K) for q in qs))
            dt = time.perf_counter() - t
            stop = True
            await tick
            return dt, worst

        out: Dict[str, Any] = {"test": "T3", "n": n, "sync_100_ms": median(sync_s) * 1e3,
                               "async_100_ms": median(async_s) * 1e3,
                               "async_over_sync_in_memory": median(async_s) / median(sync_s),
                               "sync_qps": 100 / median(sync_s), "async_qps": 100 / median(async_s)}
        # The last two isolate the describe from the scans' CPU: 2,000 rows,
        # where 100 scans cost little next to two 2 ms describes.
        cases = (("slow", SlowDescribe, "spec"), ("slow_adescribe", SlowAsyncDescribe, "spec"),
                 ("slow_adescribe_plan", SlowAsyncDescribe, "plan"),
                 ("slow_small", SlowDescribe, "small"),
                 ("slow_adescribe_small", SlowAsyncDescribe, "small"))
        full_base, full_ids = base, ids
        for label, cls, params in cases:
            base, ids = (full_base[:2000], full_ids[:2000]) if params == "small" else (full_base, full_ids)
            slk = (self.lake(ruvector.Consistency.FRESH) if params != "plan" else
                   ruvector.RuLake.builder().rerank_factor(20).rotation_seed(42).build())
            slk.register_backend(cls("slow"))
            slk.search_one("c", qs[0], k=K)
            one_s: List[float] = []
            slow_async: List[float] = []
            ticks: List[int] = []
            describes = 0
            for _ in range(max(1, self.reps)):
                for q in qs[:5]:
                    t = time.perf_counter()
                    slk.search_one("c", q, k=K)
                    one_s.append(time.perf_counter() - t)
                before = calls["describe"]
                dt, worst = asyncio.run(ticked(slk, "c"))
                describes = max(describes, calls["describe"] - before)
                slow_async.append(dt)
                ticks.append(worst)
            slk.close()
            out.update({f"{label}_one_sync_ms": median(one_s) * 1e3,
                        f"{label}_async_100_ms": median(slow_async) * 1e3,
                        f"{label}_async_100_over_one": median(slow_async) / median(one_s),
                        f"{label}_describes_per_100": describes,
                        f"{label}_ticker_missed_max": max(ticks)})
        return [out]

    def t4(self) -> List[Dict[str, Any]]:
        """Federation at S shards and hits from 1 / 2 client threads. Every
        configuration is built first and the timed passes rotate through them
        rep by rep, so that load from elsewhere on a shared machine falls on
        all of them alike rather than on whichever ran during it; each pass
        also records process CPU / wall (about 2 when a 2-thread pass had both
        cores, about 1 when something else held one)."""
        import threading
        import ruvector
        out: List[Dict[str, Any]] = []
        lakes: Dict[int, Any] = {}
        prime: Dict[int, float] = {}
        for s in self.shards:
            lk = self.lake(ruvector.Consistency.EVENTUAL)
            chunk = -(-self.n // s)
            for i in range(s):
                self.local(lk, f"shard-{i}", i * chunk, min(self.n, (i + 1) * chunk))
            t = time.perf_counter()
            lk.search_federated("c", self.queries[0], k=K)
            prime[s] = (time.perf_counter() - t) * 1e3
            lakes[s] = lk
        qs: Dict[int, List[float]] = {s: [] for s in self.shards}
        util: Dict[int, List[float]] = {s: [] for s in self.shards}
        res: Dict[int, List[List[int]]] = {}
        for rep in range(self.reps + 1):
            order = self.shards[rep % len(self.shards):] + self.shards[:rep % len(self.shards)]
            for s in order:
                lk, cur = lakes[s], []
                t, c = time.perf_counter(), time.process_time()
                for q in self.queries:
                    cur.append([h.id for h in lk.search_federated("c", q, k=K)])
                w = time.perf_counter() - t
                if rep:  # the first pass of each warms its caches
                    qs[s].append(len(self.queries) / w)
                    util[s].append((time.process_time() - c) / w)
                res[s] = cur
        for s in self.shards:
            out.append({"test": "T4", "shards": s, "recall_at_10": recall(self.base, self.queries, self.truth, res[s]),
                        "qps": median(qs[s]), "qps_runs": qs[s], "cpu_over_wall": median(util[s]),
                        "prime_ms_parallel": prime[s]})
            lakes[s].close()
        if 1 in qs and 4 in qs:  # the gate: S = 4 at >= 0.8x S = 1, judged per rep (same minutes)
            per_rep = [b / a for a, b in zip(qs[1], qs[4])]
            out.append({"test": "T4_shards", "qps_4_over_1": median(per_rep), "qps_4_over_1_runs": per_rep})
        lk = self.lake(ruvector.Consistency.EVENTUAL)
        self.local(lk, "b", 0, self.n)
        lk.search_one("c", self.queries[0], k=K)
        by: Dict[int, List[float]] = {1: [], 2: []}
        use: Dict[int, List[float]] = {1: [], 2: []}
        for rep in range(2 * self.reps + 1):
            for threads in ((1, 2) if rep % 2 else (2, 1)):
                def client() -> None:
                    for q in self.queries:
                        lk.search_one("c", q, k=K)
                ts = [threading.Thread(target=client) for _ in range(threads)]
                t, c = time.perf_counter(), time.process_time()
                for th in ts:
                    th.start()
                for th in ts:
                    th.join()
                w = time.perf_counter() - t
                if rep:
                    by[threads].append(threads * len(self.queries) / w)
                    use[threads].append((time.process_time() - c) / w)
        lk.close()
        out.append({"test": "T4_concurrent", "qps_1_thread": median(by[1]), "qps_2_threads": median(by[2]),
                    "ratio_2_over_1": median(by[2]) / median(by[1]),
                    "cpu_over_wall_1": median(use[1]), "cpu_over_wall_2": median(use[2]),
                    "runs_1": by[1], "runs_2": by[2]})
        return out

    def t5(self) -> List[Dict[str, Any]]:
        bare: List[Tuple[float, float]] = []
        cold: List[Tuple[float, float]] = []
        for _ in range(max(1, self.reps)):
            t, c = time.perf_counter(), time.process_time()
            idx = self.direct()
            bare.append(((time.perf_counter() - t) * 1e3, (time.process_time() - c) * 1e3))
            del idx
            lk = self.lake()
            self.local(lk, "b", 0, self.n)
            t, c = time.perf_counter(), time.process_time()
            lk.search_one("c", self.queries[0], k=K)
            cold.append(((time.perf_counter() - t) * 1e3, (time.process_time() - c) * 1e3))
            lk.close()
        b, p = median([w for w, _ in bare]), median([w for w, _ in cold])
        bc, pc = median([c for _, c in bare]), median([c for _, c in cold])
        return [{"test": "T5", "bare_build_ms": b, "prime_ms": p, "ratio": p / b, "bare_build_cpu_ms": bc,
                 "prime_cpu_ms": pc, "ratio_cpu": pc / bc, "bare_all": bare, "prime_all": cold}]


def t2_child(root: Path, dataset: Path, nlimit: Optional[int]) -> int:
    """T2, the new process: FsBackend registered, FRESH, warm_from_dir, the
    first search, then the steady-state p50 over every query twice."""
    import ruvector
    queries = read_fvecs(dataset / "query.fvecs")
    fs = ruvector.FsBackend("fs", root / "data")
    fs.register("c", "base.ruvec2")
    lk = (ruvector.RuLake.builder().rerank_factor(20).rotation_seed(42).bits(1).nlist(0)
          .consistency(ruvector.Consistency.FRESH).build())
    lk.register_backend(fs)
    t = time.perf_counter()
    rows = lk.warm_from_dir(("fs", "c"), root / "cache")
    warm_ms = (time.perf_counter() - t) * 1e3
    t, c = time.perf_counter(), time.process_time()
    lk.search_one("c", queries[1], k=K)
    first_us, first_cpu_us = (time.perf_counter() - t) * 1e6, (time.process_time() - c) * 1e6
    st = lk.cache_stats()
    lat: List[float] = []
    cpu: List[float] = []
    for q in list(queries) * 2:
        t, c = time.perf_counter(), time.process_time()
        lk.search_one("c", q, k=K)
        lat.append((time.perf_counter() - t) * 1e6)
        cpu.append((time.process_time() - c) * 1e6)
    p50 = median(lat)
    print(json.dumps({"n": rows, "warm_from_dir_ms": warm_ms, "first_search_us": first_us, "steady_p50_us": p50,
                      "ratio_first_over_p50": first_us / p50, "primes_after_first": st.primes,
                      "first_search_cpu_us": first_cpu_us, "steady_p50_cpu_us": median(cpu),
                      "ratio_first_over_p50_cpu": first_cpu_us / median(cpu),
                      "misses_after_first": st.misses, "warm_installs": st.warm_installs,
                      "consistency": "FRESH", "backend": "FsBackend (ruvec2)"}))
    return 0


def t6_child(dataset: Path, nlimit: Optional[int]) -> int:
    """T6 in its own process (a clean RSS): three collections of n/3 rows
    under a byte budget of 1.5 entries; entries kept, the cache's bytes and
    the RSS growth against the budget."""
    import numpy as np
    import ruvector
    base = read_fvecs(dataset / "base.fvecs", nlimit)
    queries = read_fvecs(dataset / "query.fvecs")
    n3 = base.shape[0] // 3
    ids = np.arange(n3, dtype=np.uint64)
    probe = ruvector.RabitqPlusIndex.build(base[:n3], ids=ids, bits=1, nlist=0, rerank_factor=20, seed=42)
    entry = probe.memory_bytes
    del probe
    budget = int(entry * 1.5)
    lk = (ruvector.RuLake.builder().rerank_factor(20).rotation_seed(42).bits(1).nlist(0)
          .consistency(ruvector.Consistency.EVENTUAL).ttl_ms(600_000).max_cache_bytes(budget).build())
    for i in range(3):
        be = ruvector.LocalBackend(name=f"b{i}")
        be.upsert("c", ids=ids, vectors=base[i * n3:(i + 1) * n3])
        lk.register_backend(be)
    del base
    rss0 = rss_bytes()
    # Side figures (the gate's RSS growth is from rss0, as before): the
    # growth from a start whose freed heap pages were given back first (the
    # lake's first trim returns pages freed before rss0, e.g. the probe
    # build's, so the gate figure reads a little low), and the growth of the
    # heap in use (what the entries and the thread's buffers allocated).
    heap = glibc_heap()
    trimmed0 = heap0 = None
    if heap:
        heap.malloc_trim(0)
        trimmed0, heap0 = rss_bytes(), heap_in_use(heap)
    steps = []
    for i in range(3):
        lk.search_one("c", queries[0], k=K, backend=f"b{i}")
        st = lk.cache_stats()
        steps.append({"primed": i + 1, "entries": st.entries, "cache_bytes": st.bytes, "rss_delta": rss_bytes() - rss0})
    st = lk.cache_stats()
    rss1 = rss_bytes()
    delta = rss1 - rss0
    side: Dict[str, Any] = {}
    if heap and trimmed0 is not None and heap0 is not None:
        d_trim, d_heap = rss1 - trimmed0, heap_in_use(heap) - heap0
        side = {"rss_delta_from_trimmed_start": d_trim, "heap_in_use_delta": d_heap,
                "cache_bytes_over_rss_delta_from_trimmed_start": st.bytes / d_trim if d_trim else None,
                "cache_bytes_over_heap_in_use_delta": st.bytes / d_heap if d_heap else None}
    print(json.dumps({"rows_per_collection": n3, "entry_memory_bytes": entry, "budget_bytes": budget,
                      "entries_after_3_primes": st.entries, "cache_bytes": st.bytes, "evictions": st.evictions,
                      "rss_delta_bytes": delta, "rss_delta_over_entry_bytes": delta / entry,
                      "rss_delta_over_budget": delta / budget, "cache_bytes_over_rss_delta": st.bytes / delta if delta else None,
                      "within_budget": st.bytes <= budget, **side, "steps": steps}))
    return 0


def glibc_heap() -> Optional[Any]:
    """glibc's malloc_trim and mallinfo2 (2.33+) through ctypes, or None."""
    import ctypes
    try:
        libc = ctypes.CDLL("libc.so.6")
        info, trim = libc.mallinfo2, libc.malloc_trim  # mallinfo2: glibc 2.33+
    except (OSError, AttributeError):
        return None

    class MallInfo2(ctypes.Structure):
        _fields_ = [(f, ctypes.c_size_t) for f in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                                                   "usmblks", "fsmblks", "uordblks", "fordblks",
                                                   "keepcost")]
    info.restype = MallInfo2
    trim.argtypes = [ctypes.c_size_t]
    return libc


def heap_in_use(libc: Any) -> int:
    """Bytes the allocator has handed out (all arenas, mmapped blocks too)."""
    m = libc.mallinfo2()
    return int(m.uordblks + m.hblkhd)


def run_ours(o: Ours, test: str, script: Path, dataset: Path, nlimit: Optional[int]) -> List[Dict[str, Any]]:
    if test == "T1":
        return o.t1()
    if test == "T2":
        return o.t2(script, dataset, nlimit)
    if test == "T3":
        return o.t3()
    if test == "T4":
        return o.t4()
    if test == "T5":
        return o.t5()
    if test == "T6":
        cmd = [sys.executable, str(script), "t6-child", "--dataset", str(dataset)]
        if nlimit:
            cmd += ["--n", str(nlimit)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            return [{"test": "T6", "error": r.stderr[-2000:]}]
        return [{"test": "T6", **json.loads(r.stdout.strip().splitlines()[-1])}]
    raise SystemExit(f"--tests: unknown test {test!r}")
