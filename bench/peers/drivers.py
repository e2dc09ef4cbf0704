"""Peer drivers, run inside a worker process (one process per index build).

A worker builds one index (timed, 2 threads), then for every search setting:
  1. batch QPS on 2 threads (unpinned: both CPUs);
  2. pinned to CPU 0 (sched_setaffinity of the calling thread, the in-process
     equivalent of `taskset -c 0`) with the library's thread count set to 1:
     the single-query loop (recall, QPS, p50/p99 latency) and batch QPS on 1 thread.
Each timing is a warm-up pass then the median of `repeats` passes.

The worker prints one JSON document (a list of points) on stdout.
"""

from __future__ import annotations

import contextlib
import gc
import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
from numpy.typing import NDArray

from bench_data import F32, Dataset, load_base, load_gt, load_queries, tie_tolerant_recall

K = 10
IdsFn = Callable[[F32], NDArray[np.int64]]


def rss_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


@contextlib.contextmanager
def pinned(cpus: set[int]) -> Iterator[None]:
    """Pins the calling thread (where single-threaded library calls run)."""
    old = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, old)


# --------------------------------------------------------------------------
# Driver interface


class Driver:
    """One built index of one system; `settings` are its search-time knobs."""

    system: str = ""
    has_batch: bool = True
    batch_threads_max: int = 2
    pinning_note: str = ""

    def __init__(self, ds: Dataset, params: dict[str, Any], cache: Path) -> None:
        self.ds = ds
        self.params = params
        self.cache = cache
        self.metric = ds.metric
        self.extra_build_seconds = 0.0  # shared k-means, counted into the build

    def family(self) -> str:
        raise NotImplementedError

    def build(self, base: F32) -> None:
        raise NotImplementedError

    def settings(self) -> list[dict[str, Any]]:
        return [{}]

    def apply(self, setting: dict[str, Any]) -> None:
        pass

    def set_threads(self, t: int) -> None:
        pass

    def search_one(self, q: F32) -> NDArray[np.int64]:
        raise NotImplementedError

    def search_batch(self, qs: F32, threads: int) -> NDArray[np.int64]:
        raise NotImplementedError

    def reported_bytes(self) -> tuple[int, str] | None:
        """(bytes, source) as the index reports them, if it does."""
        return None

    def label(self, setting: dict[str, Any]) -> str:
        extra = " ".join(f"{k}={v}" for k, v in setting.items())
        return f"{self.family()} {extra}".strip()


# --------------------------------------------------------------------------
# Shared IVF k-means (faiss.Kmeans), cached per dataset and nlist


def shared_kmeans(ds: Dataset, base: F32, nlist: int, cache: Path) -> tuple[F32, NDArray[np.uint32], float]:
    import faiss

    path = cache / ds.name / f"kmeans-{nlist}.npz"
    if path.exists():
        z = np.load(path)
        return z["centroids"], z["assign"], float(z["seconds"])
    faiss.omp_set_num_threads(2)
    t0 = time.perf_counter()
    # Train on at most 64 points per list (256k at 1M / 4000 lists), 10 iterations.
    km = faiss.Kmeans(base.shape[1], nlist, niter=10, seed=1234, max_points_per_centroid=64,
                      verbose=False)
    km.train(base)
    _, assign = km.index.search(base, 1)
    seconds = time.perf_counter() - t0
    cents = np.ascontiguousarray(km.centroids, dtype=np.float32)
    np.savez(path, centroids=cents, assign=assign[:, 0].astype(np.uint32), seconds=seconds)
    return cents, assign[:, 0].astype(np.uint32), seconds


# --------------------------------------------------------------------------
# faiss


class FaissBase(Driver):
    system = "faiss"
    pinning_note = "faiss.omp_set_num_threads(t); OpenBLAS in the wheel is the OpenMP build"

    index: Any

    def set_threads(self, t: int) -> None:
        import faiss

        faiss.omp_set_num_threads(t)

    def faiss_metric(self) -> int:
        import faiss

        return faiss.METRIC_L2 if self.metric == "l2" else faiss.METRIC_INNER_PRODUCT

    def search_one(self, q: F32) -> NDArray[np.int64]:
        _, ids = self.index.search(q.reshape(1, -1), K)
        return ids[0]

    def search_batch(self, qs: F32, threads: int) -> NDArray[np.int64]:
        self.set_threads(threads)
        _, ids = self.index.search(qs, K)
        return ids

    def reported_bytes(self) -> tuple[int, str] | None:
        import faiss

        return int(faiss.serialize_index(self.index).nbytes), "serialized"


class FaissFlat(FaissBase):
    """IndexFlatL2/IP. faiss 1.15 sends a batch to BLAS only when
    nq * d >= distance_compute_blas_threshold (128,000: nq >= 1,000 at d=128);
    params {"blas_threshold": 20} lowers it so a 200-query batch uses sgemm too."""

    def family(self) -> str:
        name = "faiss IndexFlat" + ("L2" if self.metric == "l2" else "IP")
        if self.params.get("blas_threshold") is not None:
            name += f" (BLAS threshold {self.params['blas_threshold']})"
        return name

    def build(self, base: F32) -> None:
        import faiss

        if self.params.get("blas_threshold") is not None:
            faiss.cvar.distance_compute_blas_threshold = int(self.params["blas_threshold"])
        self.set_threads(2)
        self.index = faiss.IndexFlatL2(base.shape[1]) if self.metric == "l2" else faiss.IndexFlatIP(base.shape[1])
        self.index.add(base)


class FaissIVF(FaissBase):
    """IndexIVFFlat, or IndexIVFRaBitQ behind a random rotation (RR{d},IVF{nlist},RaBitQ{b})."""

    def family(self) -> str:
        nlist = self.params["nlist"]
        if self.params.get("bits") is None:
            return f"faiss IVF{nlist},Flat"
        return f"faiss RR,IVF{nlist},RaBitQ{self.params['bits']}"

    def build(self, base: F32) -> None:
        import faiss

        nlist = int(self.params["nlist"])
        cents, _, km_s = shared_kmeans(self.ds, base, nlist, self.cache)
        self.extra_build_seconds = km_s
        self.set_threads(2)
        d = base.shape[1]
        self.quantizer = faiss.IndexFlatL2(d)
        bits = self.params.get("bits")
        if bits is None:
            self.quantizer.add(cents)
            self.ivf = faiss.IndexIVFFlat(self.quantizer, d, nlist, self.faiss_metric())
            self.ivf.train(base[:1000])  # quantizer already holds nlist centroids: no clustering
            self.ivf.add(base)
            self.index = self.ivf
        else:
            self.rr = faiss.RandomRotationMatrix(d, d)
            self.rr.init(1234)
            self.quantizer.add(self.rr.apply(cents))
            self.ivf = faiss.IndexIVFRaBitQ(self.quantizer, d, nlist, self.faiss_metric(), True, int(bits))
            self.index = faiss.IndexPreTransform(self.rr, self.ivf)
            sample = base[np.random.default_rng(0).choice(base.shape[0], min(base.shape[0], 100_000), replace=False)]
            self.index.train(sample)  # the RaBitQ quantizer; the coarse quantizer is already trained
            self.index.add(base)

    def settings(self) -> list[dict[str, Any]]:
        return [{"nprobe": p} for p in self.params["nprobe"]]

    def apply(self, setting: dict[str, Any]) -> None:
        self.ivf.nprobe = int(setting["nprobe"])


# --------------------------------------------------------------------------
# hnswlib


class Hnswlib(Driver):
    system = "hnswlib"
    pinning_note = "num_threads=1 runs in the calling thread"

    def family(self) -> str:
        return f"hnswlib M={self.params['M']}"

    def build(self, base: F32) -> None:
        import hnswlib

        space = "l2" if self.metric == "l2" else "cosine"
        self.index = hnswlib.Index(space=space, dim=base.shape[1])
        self.index.init_index(max_elements=base.shape[0], ef_construction=int(self.params["efC"]),
                              M=int(self.params["M"]), random_seed=100)
        self.index.add_items(base, np.arange(base.shape[0]), num_threads=2)

    def settings(self) -> list[dict[str, Any]]:
        return [{"ef": e} for e in self.params["ef"]]

    def apply(self, setting: dict[str, Any]) -> None:
        self.index.set_ef(int(setting["ef"]))

    def search_one(self, q: F32) -> NDArray[np.int64]:
        labels, _ = self.index.knn_query(q, k=K, num_threads=1)
        return labels[0]

    def search_batch(self, qs: F32, threads: int) -> NDArray[np.int64]:
        labels, _ = self.index.knn_query(qs, k=K, num_threads=threads)
        return labels


# --------------------------------------------------------------------------
# usearch


class Usearch(Driver):
    system = "usearch"
    pinning_note = "threads=1 per call"

    def family(self) -> str:
        return f"usearch M={self.params['connectivity']}"

    def build(self, base: F32) -> None:
        from usearch.index import Index

        metric = "l2sq" if self.metric == "l2" else "cos"
        self.index = Index(ndim=base.shape[1], metric=metric, dtype="f32",
                           connectivity=int(self.params["connectivity"]),
                           expansion_add=int(self.params["expansion_add"]))
        self.index.add(np.arange(base.shape[0], dtype=np.uint64), base, threads=2)

    def settings(self) -> list[dict[str, Any]]:
        return [{"ef": e} for e in self.params["expansion_search"]]

    def apply(self, setting: dict[str, Any]) -> None:
        self.index.expansion_search = int(setting["ef"])

    def search_one(self, q: F32) -> NDArray[np.int64]:
        return np.asarray(self.index.search(q, K, threads=1).keys, dtype=np.int64)

    def search_batch(self, qs: F32, threads: int) -> NDArray[np.int64]:
        return np.asarray(self.index.search(qs, K, threads=threads).keys, dtype=np.int64)

    def reported_bytes(self) -> tuple[int, str] | None:
        return int(self.index.memory_usage), "memory_usage"


# --------------------------------------------------------------------------
# rabitqlib (the RaBitQ authors' library)


class RabitqlibIvf(Driver):
    system = "rabitqlib"
    pinning_note = "num_threads=1 per call"

    def family(self) -> str:
        return f"rabitqlib IVF{self.params['nlist']} {self.params['bits']}-bit"

    def build(self, base: F32) -> None:
        import rabitqlib

        nlist = int(self.params["nlist"])
        cents, assign, km_s = shared_kmeans(self.ds, base, nlist, self.cache)
        self.extra_build_seconds = km_s
        metric = "l2" if self.metric == "l2" else "ip"
        self.index = rabitqlib.IvfIndex(base.shape[1], base.shape[0], nlist, int(self.params["bits"]), metric)
        self.index.build(base, cents, assign, num_threads=2, fast_quantization=True)
        self.nprobe = 1

    def settings(self) -> list[dict[str, Any]]:
        return [{"nprobe": p} for p in self.params["nprobe"]]

    def apply(self, setting: dict[str, Any]) -> None:
        self.nprobe = int(setting["nprobe"])

    @staticmethod
    def _ids(raw: NDArray[np.uint32]) -> NDArray[np.int64]:
        """uint32 ids; 0xFFFFFFFF pads a result with fewer than k hits (small lists)."""
        ids = raw.astype(np.int64)
        ids[raw == np.iinfo(np.uint32).max] = -1
        return ids

    def search_one(self, q: F32) -> NDArray[np.int64]:
        ids, _ = self.index.search(q.reshape(1, -1), K, self.nprobe, num_threads=1)
        return self._ids(ids[0])

    def search_batch(self, qs: F32, threads: int) -> NDArray[np.int64]:
        ids, _ = self.index.search(qs, K, self.nprobe, num_threads=threads)
        return self._ids(ids)

    def reported_bytes(self) -> tuple[int, str] | None:
        with tempfile.TemporaryDirectory(dir=self.cache) as d:
            p = Path(d) / "ivf.idx"
            self.index.save(str(p))
            return p.stat().st_size, "saved file"


# --------------------------------------------------------------------------
# ruvector 0.1.4 from PyPI (Rust core): RabitqIndex (RaBitQ+) and HnswIndex


class RuvectorRabitq(Driver):
    system = "ruvector-pypi"
    has_batch = False
    pinning_note = "no batch API and the class is unsendable: single-query loop only"

    def family(self) -> str:
        return "ruvector 0.1.4 RabitqIndex"

    def build(self, base: F32) -> None:
        import ruvector

        self.index = ruvector.RabitqIndex.build(base, rerank_factor=20, seed=42)
        self.rf = 20

    def settings(self) -> list[dict[str, Any]]:
        return [{"rerank_factor": r} for r in self.params["rerank_factor"]]

    def apply(self, setting: dict[str, Any]) -> None:
        self.rf = int(setting["rerank_factor"])

    def search_one(self, q: F32) -> NDArray[np.int64]:
        return np.fromiter((i for i, _ in self.index.search(q, K, rerank_factor=self.rf)), dtype=np.int64)

    def reported_bytes(self) -> tuple[int, str] | None:
        return int(self.index.memory_bytes), "memory_bytes"


class RuvectorHnsw(Driver):
    system = "ruvector-pypi"
    has_batch = False
    pinning_note = "no batch API: single-query loop only"

    def family(self) -> str:
        return f"ruvector 0.1.4 HnswIndex M={self.params['M']}"

    def build(self, base: F32) -> None:
        import ruvector

        metric = "l2" if self.metric == "l2" else "cosine"
        self.index = ruvector.HnswIndex.create(base.shape[1], metric=metric, m=int(self.params["M"]),
                                               ef_construction=int(self.params["efC"]), ef_search=64)
        self.index.insert_batch([str(i) for i in range(base.shape[0])], base)
        self.ef = 64

    def settings(self) -> list[dict[str, Any]]:
        return [{"ef": e} for e in self.params["ef"]]

    def apply(self, setting: dict[str, Any]) -> None:
        self.ef = int(setting["ef"])

    def search_one(self, q: F32) -> NDArray[np.int64]:
        hits = self.index.search(q, K, ef_search=self.ef)
        return np.fromiter((int(h[0]) for h in hits), dtype=np.int64)


def call_floor(dim: int, repeats: int) -> dict[str, float]:
    """Median µs per single-query call on a 1,000-vector index, pinned to
    CPU 0 with 1 library thread: the cost of the Python binding itself,
    which every peer's single-query QPS includes (ours is timed in C)."""
    import faiss
    import hnswlib
    import rabitqlib
    import ruvector
    from usearch.index import Index

    rng = np.random.default_rng(7)
    x = rng.standard_normal((1000, dim)).astype(np.float32)
    qs = x[:100].copy()
    faiss.omp_set_num_threads(1)
    flat = faiss.IndexFlatL2(dim)
    flat.add(x)
    hn = hnswlib.Index(space="l2", dim=dim)
    hn.init_index(max_elements=1000, ef_construction=64, M=16)
    hn.add_items(x, num_threads=1)
    hn.set_ef(16)
    us = Index(ndim=dim, metric="l2sq", dtype="f32", connectivity=16)
    us.add(np.arange(1000, dtype=np.uint64), x, threads=1)
    us.expansion_search = 16
    rq = rabitqlib.IvfIndex(dim, 1000, 1, 1, "l2")
    rq.build(x, x.mean(axis=0, keepdims=True), np.zeros(1000, dtype=np.uint32), num_threads=1)
    rv = ruvector.RabitqIndex.build(x, rerank_factor=1, seed=42)
    fns: dict[str, Callable[[F32], Any]] = {
        "faiss IndexFlatL2 (1k vectors)": lambda q: flat.search(q.reshape(1, -1), K),
        "hnswlib (ef=16)": lambda q: hn.knn_query(q, k=K, num_threads=1),
        "usearch (ef=16)": lambda q: us.search(q, K, threads=1),
        "rabitqlib IvfIndex (1 list, 1-bit)": lambda q: rq.search(q.reshape(1, -1), K, 1, num_threads=1),
        "ruvector 0.1.4 RabitqIndex (rerank 1)": lambda q: rv.search(q, K, rerank_factor=1),
    }
    out: dict[str, float] = {}
    with pinned({0}):
        empty = np.zeros(0, dtype=np.int64)

        def no_ids(f: Callable[[F32], Any]) -> IdsFn:
            def call(q: F32) -> NDArray[np.int64]:
                f(q)
                return empty
            return call

        for name, fn in fns.items():
            t = time_single(no_ids(fn), qs, repeats)
            out[name] = 1e6 / t.qps
    return out


DRIVERS: dict[str, type[Driver]] = {
    "faiss-flat": FaissFlat,
    "faiss-ivf": FaissIVF,
    "hnswlib": Hnswlib,
    "usearch": Usearch,
    "rabitqlib-ivf": RabitqlibIvf,
    "ruvector-pypi-rabitq": RuvectorRabitq,
    "ruvector-pypi-hnsw": RuvectorHnsw,
}


# --------------------------------------------------------------------------
# Measurement


@dataclass
class Timing:
    qps: float
    p50_us: float | None = None
    p99_us: float | None = None
    ids: NDArray[np.int64] | None = field(default=None, repr=False)
    best_qps: float | None = None


MIN_PASS_SECONDS = 0.3


def time_single(fn: Callable[[F32], NDArray[np.int64]], qs: F32, repeats: int) -> Timing:
    """Single-query loop: a warm-up pass (its ids give the recall), then
    `repeats` timed repeats, each cycling over the queries until it has run
    for MIN_PASS_SECONDS; median QPS (best in `best_qps`), p50/p99 over all
    timed queries."""
    nq = qs.shape[0]
    ids = np.full((nq, K), -1, dtype=np.int64)
    for i in range(nq):
        r = fn(qs[i])
        ids[i, : len(r)] = r[:K]
    qps: list[float] = []
    lat: list[float] = []
    clock = time.perf_counter
    for _ in range(repeats):
        t_rep = clock()
        done = 0
        while True:
            for i in range(nq):
                t0 = clock()
                fn(qs[i])
                lat.append(clock() - t0)
            done += nq
            if clock() - t_rep >= MIN_PASS_SECONDS:
                break
        qps.append(done / (clock() - t_rep))
    lat_us = np.asarray(lat) * 1e6
    return Timing(statistics.median(qps), float(np.percentile(lat_us, 50)), float(np.percentile(lat_us, 99)),
                  ids, max(qps))


def time_batch(fn: Callable[[], NDArray[np.int64]], nq: int, repeats: int) -> Timing:
    """One call with every query; a warm-up call, then `repeats` repeats of
    at least MIN_PASS_SECONDS each; median QPS."""
    fn()
    qps = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        done = 0
        while True:
            fn()
            done += nq
            if time.perf_counter() - t0 >= MIN_PASS_SECONDS:
                break
        qps.append(done / (time.perf_counter() - t0))
    return Timing(statistics.median(qps), best_qps=max(qps))


def run_worker(system: str, ds: Dataset, params: dict[str, Any], cache: Path, repeats: int,
               log: Callable[[str], None]) -> list[dict[str, Any]]:
    driver = DRIVERS[system](ds, params, cache)
    base = load_base(ds)
    queries = load_queries(ds)
    _, gt_dist = load_gt(ds, cache)
    kth = gt_dist[:, K - 1]
    if params.get("max_queries"):  # slow exact scans at 1M: a query subset
        queries, kth = queries[: int(params["max_queries"])], kth[: int(params["max_queries"])]
    if isinstance(driver, (FaissIVF, RabitqlibIvf)):
        shared_kmeans(ds, base, int(params["nlist"]), cache)  # outside the RSS window
    gc.collect()
    rss0 = rss_bytes()
    t0 = time.perf_counter()
    driver.build(base)
    build_s = time.perf_counter() - t0 + driver.extra_build_seconds
    gc.collect()
    rss_delta = rss_bytes() - rss0
    reported = driver.reported_bytes()
    n = base.shape[0]
    log(f"  {driver.family()}: built in {build_s:.1f} s")
    points: list[dict[str, Any]] = []
    for setting in driver.settings():
        driver.apply(setting)
        batch: dict[str, float] = {}
        batch_best: dict[str, float | None] = {}
        if driver.has_batch:
            driver.set_threads(2)
            tb = time_batch(lambda: driver.search_batch(queries, 2), queries.shape[0], repeats)
            batch["2"], batch_best["2"] = tb.qps, tb.best_qps
        with pinned({0}):
            driver.set_threads(1)
            single = time_single(driver.search_one, queries, repeats)
            if driver.has_batch:
                tb = time_batch(lambda: driver.search_batch(queries, 1), queries.shape[0], repeats)
                batch["1"], batch_best["1"] = tb.qps, tb.best_qps
        driver.set_threads(2)
        assert single.ids is not None
        recall = tie_tolerant_recall(base, queries, single.ids, kth, ds.metric, K)
        point = {
            "dataset": ds.name,
            "system": driver.system,
            "family": driver.family(),
            "label": driver.label(setting),
            "build_params": params,
            "search_params": setting,
            "recall@10": recall,
            "qps_single": single.qps,
            "latency_p50_us": single.p50_us,
            "latency_p99_us": single.p99_us,
            "batch_qps": batch,
            "best_qps_single": single.best_qps,
            "best_batch_qps": batch_best,
            "build_seconds": build_s,
            "build_threads": 2,
            "kmeans_seconds_included": driver.extra_build_seconds,
            "bytes_per_vector": (reported[0] if reported else rss_delta) / n,
            "bytes_source": reported[1] if reported else "RSS delta",
            "rss_delta_bytes_per_vector": rss_delta / n,
            "pinning": driver.pinning_note,
            "nq": int(queries.shape[0]),
        }
        log(f"    {point['label']}: recall@10 {recall:.4f}, {single.qps:.0f} QPS single, batch {batch}")
        points.append(point)
    return points
