#!/usr/bin/env python3
"""ruLake side by side: the original (crates.io ruvector-rulake 2.3.0, via
bench/rulake-peer) and ours (ruvector.RuLake) on the same data in one run.

Never run by CI. rulake.md §12 says what T1-T6 are; docs/benchmarks-rulake.md
holds the results and the commands.

    python3 bench/rulake_compare.py [--dataset DIR] [--n N] [--rounds 3] [--reps 1] [--build]
                                    [--tests T1,T2,T3,T4,T5,T6] [--json OUT] [--md OUT]
    python3 bench/rulake_compare.py interop [--build] [--ours-cli build/tests/rulake/witness_cli]

The Rust program is built outside the repository:
    cd bench/rulake-peer && CARGO_TARGET_DIR=/work/cargo-target \
        nice -n 10 cargo build --release -j1 --locked
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # rulake_sidecar_cases.witness_v1
PEER_DIR = HERE / "rulake-peer"
TARGET_DIR = Path(os.environ.get("CARGO_TARGET_DIR", "/work/cargo-target"))
DEFAULT_BIN = TARGET_DIR / "release" / "rulake-peer"
DEFAULT_DATASET = Path("/work/shared/datasets/ruvector-demo-100k")
K = 10


def machine() -> Dict[str, Any]:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        flags = next(l for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("flags"))
        simd = "avx512f" if " avx512f" in flags else ("avx2" if " avx2" in flags else "no avx2")
    except (OSError, StopIteration):
        simd = "?"
    return {"cpu": model, "vcpus": os.cpu_count(), "simd": simd, "kernel": platform.release(),
            "python": platform.python_version()}


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def build_peer() -> None:
    cargo = shutil.which("cargo") or "/root/.cargo/bin/cargo"
    env = dict(os.environ, CARGO_TARGET_DIR=str(TARGET_DIR))
    subprocess.run(["nice", "-n", "10", cargo, "build", "--release", "-j1", "--locked"],
                   cwd=PEER_DIR, env=env, check=True)


def run_peer(binary: Path, args: List[str]) -> List[Dict[str, Any]]:
    out = subprocess.run([str(binary), *args], check=True, capture_output=True, text=True)
    return [json.loads(l) for l in out.stdout.splitlines() if l.strip()]


# ---------------------------------------------------------------- ours

def ours_available() -> Optional[str]:
    """None when ruvector.RuLake can be used, else why not."""
    try:
        import ruvector  # noqa: F401
    except ImportError as e:
        return f"ruvector is not importable ({e})"
    import ruvector
    if not hasattr(ruvector, "RuLake"):
        return f"ruvector {getattr(ruvector, '__version__', '?')} has no RuLake (not merged yet)"
    return None


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

        class SlowDescribe(BackendAdapter):
            """describe takes 2 ms, like a remote store (rulake.md §12 T3)."""
            threadsafe = True

            def describe(self, collection: str) -> CollectionInfo:
                time.sleep(0.002)
                return CollectionInfo(data_ref="slow://c", dim=base.shape[1], generation=1)

            def pull_vectors(self, collection: str) -> PulledBatch:
                return PulledBatch(ids, base, CollectionInfo(data_ref="slow://c", dim=base.shape[1], generation=1))

        slk = self.lake(ruvector.Consistency.FRESH)
        slk.register_backend(SlowDescribe("slow"))
        slk.search_one("c", qs[0], k=K)
        slow_async: List[float] = []
        for _ in range(max(1, self.reps)):
            for q in qs[:5]:
                t = time.perf_counter()
                slk.search_one("c", q, k=K)
                one_s.append(time.perf_counter() - t)
            slow_async.append(asyncio.run(gather(slk, "c")))
        checks = slk.cache_stats().checks
        slk.close()
        ms, ma, mo, msa = median(sync_s), median(async_s), median(one_s), median(slow_async)
        return [{"test": "T3", "n": n, "sync_100_ms": ms * 1e3, "async_100_ms": ma * 1e3,
                 "async_over_sync_in_memory": ma / ms, "sync_qps": 100 / ms, "async_qps": 100 / ma,
                 "slow_one_sync_ms": mo * 1e3, "slow_async_100_ms": msa * 1e3, "slow_async_100_over_one": msa / mo,
                 "slow_describes_per_100": checks / (len(slow_async) + len(one_s) + 1)}]

    def t4(self) -> List[Dict[str, Any]]:
        import threading
        import ruvector
        out: List[Dict[str, Any]] = []
        for s in self.shards:
            lk = self.lake(ruvector.Consistency.EVENTUAL)
            chunk = -(-self.n // s)
            for i in range(s):
                self.local(lk, f"shard-{i}", i * chunk, min(self.n, (i + 1) * chunk))
            t = time.perf_counter()
            lk.search_federated("c", self.queries[0], k=K)
            prime_ms = (time.perf_counter() - t) * 1e3
            qs: List[float] = []
            res: List[List[int]] = []
            for rep in range(self.reps + 1):
                cur: List[List[int]] = []
                v = qps(self.queries, lambda q: cur.append([h.id for h in lk.search_federated("c", q, k=K)]))
                if rep:
                    qs.append(v)
                res = cur
            out.append({"test": "T4", "shards": s, "recall_at_10": recall(self.base, self.queries, self.truth, res),
                        "qps": median(qs), "prime_ms_parallel": prime_ms})
            lk.close()
        lk = self.lake(ruvector.Consistency.EVENTUAL)
        self.local(lk, "b", 0, self.n)
        lk.search_one("c", self.queries[0], k=K)
        by: Dict[int, float] = {}
        for threads in (1, 2):
            qs2: List[float] = []
            for rep in range(self.reps + 1):
                def client() -> None:
                    for q in self.queries:
                        lk.search_one("c", q, k=K)
                ts = [threading.Thread(target=client) for _ in range(threads)]
                t = time.perf_counter()
                for th in ts:
                    th.start()
                for th in ts:
                    th.join()
                if rep:
                    qs2.append(threads * len(self.queries) / (time.perf_counter() - t))
            by[threads] = median(qs2)
        lk.close()
        out.append({"test": "T4_concurrent", "qps_1_thread": by[1], "qps_2_threads": by[2],
                    "ratio_2_over_1": by[2] / by[1]})
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
    steps = []
    for i in range(3):
        lk.search_one("c", queries[0], k=K, backend=f"b{i}")
        st = lk.cache_stats()
        steps.append({"primed": i + 1, "entries": st.entries, "cache_bytes": st.bytes, "rss_delta": rss_bytes() - rss0})
    st = lk.cache_stats()
    delta = rss_bytes() - rss0
    print(json.dumps({"rows_per_collection": n3, "entry_memory_bytes": entry, "budget_bytes": budget,
                      "entries_after_3_primes": st.entries, "cache_bytes": st.bytes, "evictions": st.evictions,
                      "rss_delta_bytes": delta, "rss_delta_over_entry_bytes": delta / entry,
                      "rss_delta_over_budget": delta / budget, "cache_bytes_over_rss_delta": st.bytes / delta if delta else None,
                      "within_budget": st.bytes <= budget, "steps": steps}))
    return 0


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


# ---------------------------------------------------------------- table

ROWS = [
    ("T1", "direct_qps", "T1 direct index QPS (1 thread, wall)"),
    ("T1", "fresh_qps", "T1 lake FRESH QPS (wall)"),
    ("T1", "eventual_qps", "T1 lake EVENTUAL QPS (wall)"),
    ("T1", "overhead_fresh", "T1 overhead FRESH, wall (direct/lake, gate <= 1.05)"),
    ("T1", "overhead_eventual", "T1 overhead EVENTUAL, wall (gate <= 1.05)"),
    ("T1", "overhead_fresh_cpu", "T1 overhead FRESH, CPU time (gate <= 1.05)"),
    ("T1", "overhead_eventual_cpu", "T1 overhead EVENTUAL, CPU time (gate <= 1.05)"),
    ("recall", "recall_at_10", "recall@10 at rerank 20 through the lake (k=10)"),
    ("T2", "ratio_first_over_p50", "T2 first search after warm / steady p50 (gate <= 1.5)"),
    ("T2", "ratio_first_over_p50_cpu", "T2 first / steady p50, CPU time (gate <= 1.5)"),
    ("T2", "first_search_us", "T2 first search after warm, us"),
    ("T2", "steady_p50_us", "T2 steady-state p50, us"),
    ("T2", "warm_from_dir_ms", "T2 warm_from_dir ms"),
    ("T3", "async_over_sync_in_memory", "T3 100 async / 100 sync in sequence, in memory (gate <= 1.2)"),
    ("T3", "async_qps", "T3 search_one_async QPS (100 in flight)"),
    ("T3", "sync_qps", "T3 search_one QPS (sync)"),
    ("T3", "slow_async_100_over_one", "T3 100 async / one sync, describe 2 ms (gate <= 10)"),
    ("T5", "bare_build_ms", "T5 bare index build ms (wall)"),
    ("T5", "prime_ms", "T5 prime ms (cold first search, wall)"),
    ("T5", "ratio", "T5 prime / build, wall (gate <= 1.25)"),
    ("T5", "ratio_cpu", "T5 prime / build, CPU time (gate <= 1.25)"),
    ("T4_concurrent", "qps_1_thread", "T4 hits QPS, 1 client thread (EVENTUAL)"),
    ("T4_concurrent", "qps_2_threads", "T4 hits QPS, 2 client threads"),
    ("T4_concurrent", "ratio_2_over_1", "T4 2 threads / 1 thread (gate >= 1.8)"),
    ("T6", "budget_bytes", "T6 byte budget (1.5 entries; the original has none)"),
    ("T6", "entries_after_3_primes", "T6 entries kept after 3 primes"),
    ("T6", "rss_delta_over_entry_bytes", "T6 RSS growth / one entry's bytes"),
    ("T6", "rss_delta_over_budget", "T6 RSS growth / budget (gate <= 1)"),
    ("T6", "cache_bytes_over_rss_delta", "T6 cache_stats().bytes / RSS growth (gate 0.95-1.05)"),
]


def pick(results: List[Dict[str, Any]], test: str, field: str, shards: Optional[int] = None) -> Optional[float]:
    vals = [r[field] for r in results if r.get("test") == test and isinstance(r.get(field), (int, float))
            and (shards is None or r.get("shards") == shards)]
    return median(vals) if vals else None  # T2 repeats in one process each


def fmt(v: Optional[float]) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int) or abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.3f}"


def table(peer: List[Dict[str, Any]], ours: List[Dict[str, Any]], shards: List[int]) -> str:
    lines = ["| measurement | original (ruvector-rulake 2.3.0) | ours | ours / original |", "|---|---:|---:|---:|"]
    rows = list(ROWS)
    for s in shards:
        rows.append(("T4", f"recall_at_10@{s}", f"T4 federated recall@10, {s} shards"))
        rows.append(("T4", f"qps@{s}", f"T4 federated QPS, {s} shards"))
    for rf in (1, 5, 10, 20, 50, 100, 0):
        rows.append(("recall_sweep", f"recall_at_10%{rf}", f"recall@10, direct index, rerank {rf}"))
        rows.append(("recall_sweep", f"qps%{rf}", f"QPS, direct index, rerank {rf}"))
    for test, field, label in rows:
        if "%" in field:
            f, rf = field.split("%")
            a = median([r[f] for r in peer if r.get("test") == test and r.get("rerank") == int(rf)] or [float("nan")])
            b = median([r[f] for r in ours if r.get("test") == test and r.get("rerank") == int(rf)] or [float("nan")])
            a2 = None if a != a else a
            b2 = None if b != b else b
            ratio = fmt(b2 / a2) if (a2 and b2 is not None) else "—"
            lines.append(f"| {label} | {fmt(a2)} | {fmt(b2)} | {ratio} |")
            continue
        if "@" in field:
            f, sh = field.split("@")
            a, b = pick(peer, test, f, int(sh)), pick(ours, test, f, int(sh))
        else:
            a, b = pick(peer, test, field), pick(ours, test, field)
        ratio = fmt(b / a) if (a and b is not None and not isinstance(a, bool)) else "—"
        lines.append(f"| {label} | {fmt(a)} | {fmt(b)} | {ratio} |")
    return "\n".join(lines)


# ---------------------------------------------------------------- interop

DEFAULT_CLI = HERE.parent / "build" / "tests" / "rulake" / "witness_cli"
SPEC_EXAMPLE_DIGEST = "3de7bfbad5f7366a26d126d44b23a0037301c24f5c4a99fb7d7c02dda20fd7c3"  # rulake.md §6


def cli(path: Path, request: str) -> str:
    """One request to tests/rulake/witness_cli (our C witnesses, sidecar
    reader and ruvec files); its one-line answer."""
    out = subprocess.run([str(path)], input=request + "\n", capture_output=True, text=True)
    return (out.stdout.strip().splitlines() or ["error: no answer"])[0]


def interop(binary: Path, ours_cli: Path) -> int:
    """Bundles across the two implementations. Crate-written bundles are
    read by the crate, by our C reader (witness_cli, from an out-of-tree
    build) and, once it exists, by ruvector.RuLakeBundle; ours are read by
    the crate. One JSON line per check; exit 1 if a check that should pass
    failed. `expect` says what rulake.md leads us to expect."""
    failed = 0
    why = ours_available()

    def report(check: str, ok: bool, expect: bool = True, **kw: Any) -> None:
        nonlocal failed
        failed += ok != expect
        print(json.dumps({"check": check, "ok": ok, "expected": expect, **kw}))

    with tempfile.TemporaryDirectory(prefix="rulake-interop-") as tmp:
        for kind in ("local", "fs"):
            d = Path(tmp) / f"crate-{kind}"
            w = run_peer(binary, ["write-bundle", "--kind", kind, "--out", str(d)])[0]
            r = run_peer(binary, ["read-bundle", str(d)])[0]
            report(f"crate writes {kind}, crate reads", r["rvf_witness"] == w["rvf_witness"],
                   witness=w["rvf_witness"], rows=r.get("rows"), warm_search_ids=r.get("warm_search_ids"))
            if ours_cli.exists():
                got = cli(ours_cli, f"readsidecar {d}")
                report(f"crate writes {kind}, our C reader reads the sidecar", got == w["rvf_witness"], answer=got)
                if kind == "fs":
                    got = cli(ours_cli, f"readruvec {d} docs.ruvec1")
                    report("crate writes ruvec1, our C reader reads it (content digest = rulake.md §6 example)",
                           got == SPEC_EXAMPLE_DIGEST, answer=got)
            if why is None:
                import ruvector
                try:
                    b = ruvector.RuLakeBundle.read(str(d))
                    report(f"crate writes {kind}, ruvector.RuLakeBundle reads", b.rvf_witness == w["rvf_witness"])
                except Exception as e:  # report every failure, keep going
                    report(f"crate writes {kind}, ruvector.RuLakeBundle reads", False, error=repr(e))
        if ours_cli.exists():
            # Ours writes ruvec2 (rulake.md §10.2); the crate reads only ruvec1.
            d = Path(tmp) / "ours-fs"
            d.mkdir()
            example: List[Tuple[int, List[float]]] = [
                (7, [1, 2, 3, 4]), (42, [0.5, -0.5, 0.25, -0.25]), (99, [-1, -2, -3, -4]), (2000, [8, 16, 32, 64])]
            rows = b"".join(i.to_bytes(8, "little") + b"".join(struct.pack("<f", x) for x in v) for i, v in example)
            got = cli(ours_cli, f"writeruvec {d} docs.ruvec2 4 x{rows.hex()}")
            back = cli(ours_cli, f"readruvec {d} docs.ruvec2")
            report("our C writer writes ruvec2, our C reader reads it", back == SPEC_EXAMPLE_DIGEST, answer=back)
            side: Dict[str, Any] = {"format_version": 2, "data_ref": f"file://{d}/docs.ruvec2", "dim": 4, "rotation_seed": 42,
                    "rerank_factor": 20, "generation": "ruvec2-token", "rvf_witness": "", "pii_policy": None,
                    "lineage_id": None}
            from rulake_sidecar_cases import witness_v1
            side["rvf_witness"] = witness_v1(side["data_ref"], 4, 42, 20, "ruvec2-token")
            (d / "table.rulake.json").write_text(json.dumps(side))
            r = run_peer(binary, ["read-bundle", str(d)])[0]
            report("ours writes ruvec2, the crate pulls it", r.get("pulled_rows") == 4, expect=False,
                   crate=r.get("pull_error"), header_answer=got)
        else:
            print(json.dumps({"check": "our C side", "skipped": f"{ours_cli} not built"}))
        if why is None:
            import numpy as np
            import ruvector
            d = Path(tmp) / "ours-local"
            lk = ruvector.RuLake.builder().rerank_factor(20).rotation_seed(42).build()
            be = ruvector.LocalBackend(name="hot-shard")
            be.upsert("docs", ids=np.array([7, 42, 99, 2000], dtype=np.uint64),
                      vectors=np.array([[1, 2, 3, 4], [0.5, -0.5, 0.25, -0.25], [-1, -2, -3, -4], [8, 16, 32, 64]],
                                       dtype=np.float32))
            lk.register_backend(be)
            lk.publish_bundle("docs", out_dir=str(d))
            proc = subprocess.run([str(binary), "read-bundle", str(d)], capture_output=True, text=True)
            report("ours publishes (LocalBackend), the crate reads", proc.returncode == 0,
                   crate=json.loads(proc.stdout) if proc.stdout.strip() else proc.stderr)
        else:
            print(json.dumps({"check": "ruvector.RuLake", "skipped": why}))
    return 1 if failed else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", nargs="?", default="bench", choices=["bench", "interop", "t2-child", "t6-child"])
    ap.add_argument("root", nargs="?", type=Path, default=None, help="t2-child: the writer's directory")
    ap.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    ap.add_argument("--n", type=int, default=None, help="first N base rows (ground truth recomputed)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds; each runs every test, original then ours")
    ap.add_argument("--reps", type=int, default=1, help="timed passes per test inside a round")
    ap.add_argument("--tests", default="T1,T2,T3,T4,T5,T6")
    ap.add_argument("--shards", default="1,2,4,8")
    ap.add_argument("--peer-bin", type=Path, default=DEFAULT_BIN)
    ap.add_argument("--ours-cli", type=Path, default=DEFAULT_CLI,
                    help="tests/rulake/witness_cli of an out-of-tree build (interop)")
    ap.add_argument("--build", action="store_true", help="cargo build the peer first")
    ap.add_argument("--no-ours", action="store_true")
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument("--json", type=Path, default=None, help="write every result here")
    ap.add_argument("--md", type=Path, default=None, help="write the ratio table here")
    a = ap.parse_args()

    if a.mode == "t2-child":
        return t2_child(a.root, a.dataset, a.n)
    if a.mode == "t6-child":
        return t6_child(a.dataset, a.n)
    if not a.no_peer and (a.build or not a.peer_bin.exists()):
        build_peer()
    if a.mode == "interop":
        return interop(a.peer_bin, a.ours_cli)

    tests = a.tests.split(",")
    shards = [int(x) for x in a.shards.split(",")]
    info: Dict[str, Any] = {"machine": machine(), "load_start": loadavg(),
                            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                            "command": " ".join([sys.executable, *sys.argv]), "loads": []}
    peer_base = ["bench", "--base", str(a.dataset / "base.fvecs"), "--queries", str(a.dataset / "query.fvecs"),
                 "--gt", str(a.dataset / "gt100.ivecs"), "--reps", str(a.reps), "--shards", a.shards]
    if a.n:
        peer_base += ["--n", str(a.n)]
    info["peer_command"] = " ".join([str(a.peer_bin), *peer_base, "--tests", "<one test>"])
    why = "--no-ours" if a.no_ours else ours_available()
    o: Optional[Ours] = None
    if why is None:
        base = read_fvecs(a.dataset / "base.fvecs", a.n)
        queries = read_fvecs(a.dataset / "query.fvecs")
        truth = truth_for(base, queries, a.dataset / "gt100.ivecs", a.n is None)
        o = Ours(base, queries, truth, a.reps, shards)
    peer: List[Dict[str, Any]] = []
    ours: List[Dict[str, Any]] = []
    script = Path(__file__).resolve()
    # Interleaved: every round runs each test on the original and then on
    # ours, so that load drifting over the run reaches both alike; the
    # table takes medians over rounds.
    for rnd in range(a.rounds):
        for t in tests:
            info["loads"].append({"round": rnd, "test": t, "load": loadavg()})
            if not a.no_peer and t != "T3":  # the crate has no async API
                for r in run_peer(a.peer_bin, [*peer_base, "--tests", "T1" if t == "recall" else t]):
                    r["round"] = rnd
                    peer.append(r)
                    print(json.dumps({"system": "original", **r}), flush=True)
            if o is not None:
                for r in run_ours(o, t, script, a.dataset, a.n):
                    r["round"] = rnd
                    ours.append(r)
                    print(json.dumps({"system": "ours", **{k: v for k, v in r.items() if k != "runs"}}), flush=True)
    info["ours"] = "measured" if why is None else f"not measured: {why}"
    info["load_end"] = loadavg()
    md = table(peer, ours, shards)
    print(json.dumps(info), file=sys.stderr)
    print(md, file=sys.stderr)
    if a.json:
        a.json.write_text(json.dumps({"info": info, "original": peer, "ours": ours}, indent=1) + "\n")
    if a.md:
        a.md.write_text(md + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
