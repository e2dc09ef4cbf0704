#!/usr/bin/env python3
"""What a new user gets: each library's README code against ruvector's defaults.

For each system, the code its README tells a new user to write:
  ours      ``RabitqPlusIndex.build(x)`` then ``idx.search(q, 10)`` (and
            ``search(q, 10, recall=0.99)``, the one-call knob)
  hnswlib   ``Index(space, dim)``, ``init_index(n, M=16, ef_construction=200)``,
            ``add_items``; ef swept
  faiss     ``index_factory(d, f"IVF{4*sqrt(n)},Flat")``, train, add; nprobe
            swept; and its RaBitQ IVF (``IVF{4*sqrt(n)},RaBitQ``) when the
            installed faiss-cpu has it. Cosine: rows and queries normalised,
            inner product (faiss's README recipe)
  usearch   ``Index(ndim, metric)``, ``add(keys, x)``, ``search(q, 10)``: its
            defaults, nothing swept
Every setting reports recall@10 (tie-tolerant; in-distribution and
out-of-distribution queries apart), single-query QPS on one thread (the
median over interleaved rounds, each round starting at another system and
warming each up first), batch QPS (every query in one call, on every core,
each library's own parallelism), build time (wall, every core) and bytes
per vector (what the library says it holds in memory, or its serialised
size). One process per run: the systems see the same machine load.

Data sets: bench/defaults_data.py (generated from seeds in memory),
demo-100k (/work/shared/datasets/ruvector-demo-100k, read in place) and
bench/peers' generated sets (embed384-100k, ...: read from, or generated
into, its cache, --peers-cache), e.g. to re-check a tuned row of
docs/benchmarks-peers.md on one clock:

    python3 bench/defaults.py --sets embed384-100k --only ours,hnswlib,faiss \
        --variant target_recall=0,nlist=256,bits=4,nprobe=4/8/16 --clock cpu

Never run in CI. Needs numpy, hnswlib, faiss-cpu, usearch (pip) and the
ruvector package (a wheel, or the extension built in place:
``cd python/ruvector && RUVECTOR_BUILD_DIR=../../build python3 setup.py
build_ext --inplace`` and PYTHONPATH=python/ruvector/src).

    python3 bench/defaults.py --sets issue14 --json out.json   # the report's run
    python3 bench/defaults_report.py out.json                   # tables + plot
    python3 bench/defaults.py --sets embed-cos-50k --only ours,hnswlib
    # the 1M set alone (hnswlib's build is ~330 CPU s, faiss IVF4000's ~200):
    # --save-partial writes each system's rows as soon as it is built
    python3 bench/defaults.py --sets clustered-l2-d32-1m --only ours,hnswlib,faiss \
        --clock cpu --save-partial --json 1m.json
    python3 bench/defaults_report.py sets.json 1m.json --png docs/img/defaults-issue14.png
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))
from bench_data import (  # noqa: E402
    DEMO_DIR,
    exact_distances,
    read_vecs,
    tie_tolerant_recall,
)

import bench_data  # noqa: E402
import cpuinfo  # noqa: E402
import defaults_data  # noqa: E402
import ruvector  # noqa: E402

K = 10
SearchOne = Callable[[np.ndarray], np.ndarray]
SearchBatch = Callable[[np.ndarray], np.ndarray]


def exact_kth(base: np.ndarray, queries: np.ndarray, metric: str) -> np.ndarray:
    """The K-th exact distance per query (float64 re-score of a float32 top 2K)."""
    out = np.empty(queries.shape[0], dtype=np.float64)
    if metric == "cosine":
        bn = base / np.maximum(np.linalg.norm(base, axis=1, keepdims=True), 1e-30)
    else:
        bn = base
        sq = np.einsum("ij,ij->i", base, base)
    for s in range(0, queries.shape[0], 64):
        q = queries[s:s + 64]
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
    if name in bench_data.catalogue():
        # a set of bench/peers (e.g. embed384-100k: 900 queries in distribution,
        # then 100 OOD), generated into that harness's cache on first use, so
        # that its tuned rows can be re-checked here, interleaved on one clock
        ds = bench_data.prepare(name, PEERS_CACHE, lambda m: print(m, flush=True))
        base, queries = bench_data.load_base(ds), bench_data.load_queries(ds)
        n_ood = int(round(0.1 * queries.shape[0])) if name.startswith("embed") else 0
        return base, queries, ds.metric, int(queries.shape[0]) - n_ood
    raise SystemExit(f"unknown data set {name!r}")


#: the bench/peers cache its sets are read from (--peers-cache)
PEERS_CACHE = Path(os.environ.get("RUVECTOR_BENCH_CACHE", "/tmp/ruvector-bench-data"))


#: the clock of the single-query QPS and the build times: "wall" (the
#: default) or "cpu" (--clock cpu: the searching thread's CPU time, and the
#: process's CPU time, all threads, for builds), which a machine shared with
#: other jobs does not inflate by the time the process waits for a core
CLOCK = "wall"


#: seconds to wait before a timed build: numpy's OpenBLAS worker threads spin
#: for a while after each matmul (the exact truth is computed just before the
#: first build of a set), and the process CPU clock counted that spinning as
#: build time. On embed-ip-d1024-10k (Zen 4) it added 0.07-0.09 s to a
#: 0.33 s build; after a 0.3 s pause it adds nothing measurable.
BLAS_SETTLE_S = 0.3


def timed(fn: Callable[[], Any]) -> Tuple[Any, float]:
    if CLOCK == "cpu":
        time.sleep(BLAS_SETTLE_S)
    t0 = time.perf_counter() if CLOCK == "wall" else time.process_time()
    out = fn()
    return out, (time.perf_counter() if CLOCK == "wall" else time.process_time()) - t0


def search_clock() -> float:
    """The single-query loop's clock: wall, or this thread's CPU time."""
    return time.perf_counter() if CLOCK == "wall" else time.thread_time()


def padded(ids: Any) -> np.ndarray:
    a = np.asarray(ids, dtype=np.int64).reshape(-1)[:K]
    return np.pad(a, (0, K - a.size), constant_values=-1)


class Setting:
    """One point of a system's curve."""

    def __init__(self, system: str, label: str, one: SearchOne, batch: SearchBatch,
                 build_s: float, bytes_per_vector: float) -> None:
        self.system, self.label, self.one, self.batch = system, label, one, batch
        self.build_s, self.bytes_per_vector = build_s, bytes_per_vector
        self.qps: List[float] = []
        self.batch_qps = float("nan")
        self.ids: Optional[np.ndarray] = None


# ---- the systems: the README code of each ----

def ours(base: np.ndarray, metric: str, variants: List[Dict[str, Any]]) -> List[Setting]:
    out = []
    eng = ruvector.Engine()
    for v in variants:
        # nprobe=2/4/8: one build, each search given that nprobe (exactly that
        # many lists: the tuned rows of docs/benchmarks-peers.md)
        sweep = v.pop("nprobe") if isinstance(v.get("nprobe"), list) else None
        idx, secs = timed(lambda: ruvector.RabitqPlusIndex.build(base, metric=metric, engine=eng,
                                                                 **v))
        name = "ours " + (",".join(f"{k}={x}" for k, x in v.items()) or "defaults")
        print(f"{name}: build {secs:.2f} s; {idx!r}", flush=True)
        bpv = idx.memory_bytes / len(idx)

        def one(ix: Any, **kw: Any) -> SearchOne:
            return lambda q: np.fromiter((r.id for r in ix.search(q, K, **kw)), np.int64)

        def batch(ix: Any, **kw: Any) -> SearchBatch:
            return lambda qs: ix.search_batch(qs, K, **kw)[0].astype(np.int64)

        if sweep:
            out += [Setting(name, f"{name} nprobe={p}", one(idx, nprobe=p), batch(idx, nprobe=p),
                            secs, bpv) for p in sweep]
            continue
        out.append(Setting(name, name, one(idx), batch(idx), secs, bpv))
        if not v:
            out.append(Setting(name, name + " recall=0.99", one(idx, recall=0.99),
                               batch(idx, recall=0.99), secs, bpv))
    return out


def codes_only(base: np.ndarray, metric: str) -> List[Setting]:
    """RabitqIndex.build(x): the codes alone, the plan's default width."""
    idx, secs = timed(lambda: ruvector.RabitqIndex.build(base, metric=metric))
    print(f"ours RabitqIndex defaults: build {secs:.2f} s; {idx!r}", flush=True)
    return [Setting("ours RabitqIndex", "ours RabitqIndex defaults (codes only)",
                    lambda q: np.fromiter((r.id for r in idx.search(q, K)), np.int64),
                    lambda qs: idx.search_batch(qs, K)[0].astype(np.int64), secs,
                    idx.memory_bytes / len(idx))]


def flat(base: np.ndarray, metric: str) -> List[Setting]:
    idx, secs = timed(lambda: ruvector.FlatF32Index.build(base, metric=metric))
    return [Setting("ours FlatF32Index", "ours FlatF32Index (exact)",
                    lambda q: np.fromiter((r.id for r in idx.search(q, K)), np.int64),
                    lambda qs: idx.search_batch(qs, K)[0].astype(np.int64), secs,
                    idx.memory_bytes / len(idx))]


def hnsw(base: np.ndarray, metric: str, efs: List[int]) -> List[Setting]:
    import hnswlib
    n, dim = base.shape
    h = hnswlib.Index(space={"l2": "l2", "cosine": "cosine", "ip": "ip"}[metric], dim=dim)

    def build() -> None:
        h.init_index(max_elements=n, M=16, ef_construction=200, random_seed=100)
        h.add_items(base, np.arange(n))

    _, secs = timed(build)
    with tempfile.NamedTemporaryFile(suffix=".hnsw") as f:
        h.save_index(f.name)
        bpv = os.path.getsize(f.name) / n
    print(f"hnswlib M=16 ef_construction=200: build {secs:.2f} s", flush=True)
    ncpu = os.cpu_count() or 1

    def one(ef: int) -> SearchOne:
        def f(q: np.ndarray) -> np.ndarray:
            h.set_ef(ef)
            h.set_num_threads(1)
            return h.knn_query(q, k=K)[0][0]
        return f

    def batch(ef: int) -> SearchBatch:
        def f(qs: np.ndarray) -> np.ndarray:
            h.set_ef(ef)
            h.set_num_threads(ncpu)
            return h.knn_query(qs, k=K)[0].astype(np.int64)
        return f

    return [Setting("hnswlib", f"hnswlib ef={ef}", one(ef), batch(ef), secs, bpv) for ef in efs]


def faiss_ivf(base: np.ndarray, metric: str, nprobes: List[int], codec: str) -> List[Setting]:
    import faiss
    n, dim = base.shape
    nlist = int(4 * math.sqrt(n))
    fmetric = faiss.METRIC_L2 if metric == "l2" else faiss.METRIC_INNER_PRODUCT
    x = base
    if metric == "cosine":
        x = base / np.maximum(np.linalg.norm(base, axis=1, keepdims=True), 1e-30)
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    index = faiss.index_factory(dim, f"IVF{nlist},{codec}", fmetric)

    def build() -> None:
        index.train(x)
        index.add(x)

    _, secs = timed(build)
    bpv = faiss.serialize_index(index).nbytes / n
    name = f"faiss IVF{nlist},{codec}"
    print(f"{name}: build {secs:.2f} s", flush=True)
    ivf = faiss.extract_index_ivf(index)
    ncpu = os.cpu_count() or 1

    def prep(q: np.ndarray) -> np.ndarray:
        if metric != "cosine":
            return q
        return q / np.maximum(np.linalg.norm(q, axis=-1, keepdims=True), 1e-30)

    def one(npr: int) -> SearchOne:
        def f(q: np.ndarray) -> np.ndarray:
            ivf.nprobe = npr
            return index.search(prep(q[None, :]), K)[1][0]
        return f

    def batch(npr: int) -> SearchBatch:
        def f(qs: np.ndarray) -> np.ndarray:
            ivf.nprobe = npr
            faiss.omp_set_num_threads(ncpu)
            try:
                return index.search(prep(qs), K)[1]
            finally:
                faiss.omp_set_num_threads(1)
        return f

    faiss.omp_set_num_threads(1)
    return [Setting(name, f"{name} nprobe={p}", one(p), batch(p), secs, bpv)
            for p in nprobes if p <= nlist]


def faiss_has_rabitq() -> bool:
    import faiss
    return hasattr(faiss, "IndexIVFRaBitQ")


def usearch_defaults(base: np.ndarray, metric: str) -> List[Setting]:
    from usearch.index import Index
    n, dim = base.shape
    index = Index(ndim=dim, metric={"l2": "l2sq", "cosine": "cos", "ip": "ip"}[metric])
    _, secs = timed(lambda: index.add(np.arange(n), base))
    bpv = index.memory_usage / n
    print(f"usearch defaults ({index.dtype}, M={index.connectivity}, "
          f"expansion_search={index.expansion_search}): build {secs:.2f} s", flush=True)
    return [Setting("usearch", "usearch defaults",
                    lambda q: index.search(q, K, threads=1).keys,
                    lambda qs: np.asarray(index.search(qs, K).keys, dtype=np.int64),
                    secs, bpv)]


# ---- one data set ----

def measure(settings: List[Setting], base: np.ndarray, queries: np.ndarray,
            kth: np.ndarray, metric: str, n_in: int, a: argparse.Namespace) -> List[Dict[str, Any]]:
    """Times every setting (interleaved rounds, then batch) and scores its recall."""
    for s in settings:  # a fresh measurement: earlier partial ones are dropped
        s.qps, s.ids, s.batch_qps = [], None, float("nan")
    reps = max(1, -(-a.min_queries // queries.shape[0]))
    for r in range(a.rounds):
        order = settings[r % len(settings):] + settings[:r % len(settings)]
        for s in order:
            for q in queries[:100]:  # untimed: the previous system evicted our caches
                s.one(q)
            t0 = search_clock()
            for _ in range(reps):
                got = [s.one(q) for q in queries]
            s.qps.append(reps * queries.shape[0] / (search_clock() - t0))
            if s.ids is None:
                s.ids = np.stack([padded(g) for g in got])
    for s in settings:
        s.batch(queries)  # warm
        _, secs = timed(lambda: s.batch(queries))
        s.batch_qps = queries.shape[0] / secs
    rows = []
    for s in settings:
        assert s.ids is not None
        rin = tie_tolerant_recall(base, queries[:n_in], s.ids[:n_in], kth[:n_in], metric, K)
        rood = (tie_tolerant_recall(base, queries[n_in:], s.ids[n_in:], kth[n_in:], metric, K)
                if n_in < queries.shape[0] else None)
        rows.append({"system": s.system, "label": s.label, "recall_in": rin, "recall_ood": rood,
                     "qps": float(np.median(s.qps)), "qps_rounds": s.qps,
                     "batch_qps": s.batch_qps, "build_s": s.build_s,
                     "bytes_per_vector": s.bytes_per_vector})
    return rows


def run_set(name: str, a: argparse.Namespace,
            save: Callable[[Dict[str, Any]], None] = lambda res: None) -> Dict[str, Any]:
    """One data set: every system built, then measured in one interleaved run.
    With --save-partial, after each system's build the systems built so far
    are measured and handed to save() marked partial, so a long set that
    dies (or runs out of time) keeps its finished systems; the final rows
    are a fresh measurement of all of them."""
    base, queries, metric, n_in = load_set(name)
    n, dim = base.shape
    t0 = time.perf_counter()
    kth = exact_kth(base, queries, metric)
    print(f"\n## {name}: n={n}, D={dim}, {metric}, {queries.shape[0]} queries "
          f"({queries.shape[0] - n_in} out of distribution); exact truth "
          f"{time.perf_counter() - t0:.1f} s; load {os.getloadavg()[0]:.1f}", flush=True)
    only = set(a.only.split(",")) if a.only else None
    want = (lambda s: only is None or s in only)
    nprobes = [int(p) for p in a.nprobe.split(",")]
    builders: List[Callable[[], List[Setting]]] = []
    if want("ours"):
        builders.append(lambda: ours(base, metric, [{}] + [parse_variant(v) for v in a.variant]))
    if only is not None and "codes" in only:  # not in the default run
        builders.append(lambda: codes_only(base, metric))
    if want("flat") and n <= 50_000:  # the small-n promise: never slower than this
        builders.append(lambda: flat(base, metric))
    if want("hnswlib"):
        builders.append(lambda: hnsw(base, metric, [int(e) for e in a.ef.split(",")]))
    if want("faiss"):
        builders.append(lambda: faiss_ivf(base, metric, nprobes, "Flat"))
    if want("faiss-rabitq") and faiss_has_rabitq():
        builders.append(lambda: faiss_ivf(base, metric, nprobes, "RaBitQ"))
    if want("usearch"):
        builders.append(lambda: usearch_defaults(base, metric))

    def result(rows: List[Dict[str, Any]], partial: bool) -> Dict[str, Any]:
        res = {"set": name, "n": n, "dim": dim, "metric": metric,
               "queries": int(queries.shape[0]), "ood": int(queries.shape[0] - n_in),
               "rounds": a.rounds,
               "queries_per_round": max(1, -(-a.min_queries // queries.shape[0]))
               * int(queries.shape[0]),
               "load_end": os.getloadavg()[0],
               "end_utc": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "rows": rows}
        if partial:
            res["partial"] = True
        return res

    settings: List[Setting] = []
    for i, build in enumerate(builders):
        settings += build()
        if a.save_partial and i + 1 < len(builders):
            res = result(measure(settings, base, queries, kth, metric, n_in, a), True)
            print(f"(partial: {len(settings)} settings measured, saved)", flush=True)
            print_rows(res)
            save(res)
    res = result(measure(settings, base, queries, kth, metric, n_in, a), False)
    print_rows(res)
    return res


def print_rows(res: Dict[str, Any]) -> None:
    print(f"load average {res['load_end']:.1f}")
    print("| setting | recall in | recall OOD | QPS 1 thread | batch QPS | build s | B/vector |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in res["rows"]:
        ood = "-" if r["recall_ood"] is None else f"{r['recall_ood']:.3f}"
        print(f"| {r['label']} | {r['recall_in']:.3f} | {ood} | {r['qps']:,.0f} | "
              f"{r['batch_qps']:,.0f} | {r['build_s']:.2f} | {r['bytes_per_vector']:,.0f} |",
              flush=True)


def parse_variant(text: str) -> Dict[str, Any]:
    """"nlist=256,bits=4" -> build parameters; "nprobe=2/4/8" -> a list: one
    build, searched at each nprobe."""
    out: Dict[str, Any] = {}
    for part in filter(None, text.split(",")):
        k, v = part.split("=", 1)
        if k == "nprobe" and "/" in v:
            out[k] = [int(x) for x in v.split("/")]
        else:
            out[k] = float(v) if k == "target_recall" else int(v)
    return out


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


def versions() -> Dict[str, str]:
    from importlib import metadata
    out = {}
    for dist in ("numpy", "hnswlib", "faiss-cpu", "usearch"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "missing"
    try:
        out["ruvector commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).parent,
            capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        pass
    return out


def main() -> None:
    global CLOCK, PEERS_CACHE
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", default="issue14")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--variant", action="append", default=[],
                    help="extra build parameters for ours, e.g. nlist=0,bits=4 (repeatable); "
                         "nprobe=2/4/8: one build searched with each nprobe given")
    ap.add_argument("--ef", default="16,32,64,128,256")
    ap.add_argument("--nprobe", default="1,2,4,8,16,32,64")
    ap.add_argument("--only", default="",
                    help="comma list of ours,flat,hnswlib,faiss,faiss-rabitq,usearch "
                         "and codes (RabitqIndex defaults, only when named)")
    ap.add_argument("--min-queries", type=int, default=1000,
                    help="queries per setting per round (the query set repeated)")
    ap.add_argument("--json", help="write the results here (bench/defaults_report.py reads it)")
    ap.add_argument("--save-partial", action="store_true",
                    help="with --json: after each system's build, measure the systems built "
                         "so far and write them (marked partial), so that a long set that "
                         "dies keeps what it finished; costs extra search rounds")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="cpu: single-query QPS from the searching thread's CPU time and "
                         "build times in process CPU seconds (all threads), for a machine "
                         "shared with other jobs; batch QPS stays wall-clock")
    ap.add_argument("--peers-cache", default=str(PEERS_CACHE),
                    help="bench/peers' cache, where its sets (embed384-100k, ...) are read "
                         "or generated (default $RUVECTOR_BENCH_CACHE or /tmp/ruvector-bench-data)")
    a = ap.parse_args()
    CLOCK = a.clock
    PEERS_CACHE = Path(a.peers_cache)
    meta = {"cpu_model": cpu_model(), "cpu_description": cpuinfo.describe(),
            "cpu_flags": cpu_flags(), "cpus": os.cpu_count(),
            "kernel": ruvector.Engine().kernel, "command": "python3 " + " ".join(sys.argv),
            "clock": a.clock,
            "start_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "uptime_start": subprocess.run(["uptime"], capture_output=True,
                                           text=True).stdout.strip(),
            "versions": versions()}
    print(json.dumps(meta, indent=1), flush=True)
    sets = a.sets.replace("issue14", ",".join(defaults_data.ISSUE14)).split(",")
    results: Dict[str, Any] = {"meta": meta, "sets": []}

    def write(current: Optional[Dict[str, Any]]) -> None:
        """The finished sets, plus the set under way when it is partial."""
        if not a.json:
            return
        meta["uptime_end"] = subprocess.run(["uptime"], capture_output=True,
                                            text=True).stdout.strip()
        out = dict(results, sets=results["sets"] + ([current] if current else []))
        tmp = Path(a.json + ".tmp")
        tmp.write_text(json.dumps(out, indent=1))
        tmp.replace(a.json)

    for s in sets:
        results["sets"].append(run_set(s, a, write))
        write(None)  # after each set: a long run that dies keeps what it measured

if __name__ == "__main__":
    main()
