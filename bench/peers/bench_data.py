"""Datasets for the peer benchmark: .fvecs/.ivecs I/O, generators, ground truth.

Every dataset is a directory holding ``base.fvecs``, ``query.fvecs`` and
``gt100.ivecs`` (exact top-100 row numbers, nearest first) plus a
``gt100.dist.fvecs`` side file with the exact distances of those rows, which
the tie-tolerant recall needs. The shipped demo set is read in place; the
generated sets are written to a cache directory outside the repository.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from numpy.typing import NDArray

F32 = NDArray[np.float32]
I32 = NDArray[np.int32]

DEMO_DIR = Path("/work/shared/datasets/ruvector-demo-100k")
GT_K = 100


# --------------------------------------------------------------------------
# .fvecs / .ivecs


def read_vecs(path: Path, dtype: type[np.float32] | type[np.int32] = np.float32) -> NDArray:
    """Reads an .fvecs (float32) or .ivecs (int32) file: per row an int32
    dimension then the values, little-endian."""
    raw = np.fromfile(path, dtype="<i4")
    if raw.size == 0:
        raise ValueError(f"{path}: empty")
    dim = int(raw[0])
    if dim <= 0 or raw.size % (dim + 1) != 0:
        raise ValueError(f"{path}: not a .fvecs/.ivecs file (dim {dim}, {raw.size} words)")
    rows = raw.reshape(-1, dim + 1)
    if not np.all(rows[:, 0] == dim):
        raise ValueError(f"{path}: rows of different dimensions")
    return np.ascontiguousarray(rows[:, 1:].view(np.dtype(dtype).newbyteorder("<")).astype(dtype))


def write_vecs(path: Path, data: NDArray) -> None:
    """Writes a 2-D float32 or int32 array as .fvecs / .ivecs (atomically)."""
    arr = np.ascontiguousarray(data)
    if arr.dtype not in (np.float32, np.int32):
        raise TypeError(f"write_vecs: {arr.dtype} (want float32 or int32)")
    n, dim = arr.shape
    out = np.empty((n, dim + 1), dtype="<i4")
    out[:, 0] = dim
    out[:, 1:] = arr.view("<i4")
    tmp = path.with_suffix(path.suffix + ".tmp")
    out.tofile(tmp)
    tmp.replace(path)


# --------------------------------------------------------------------------
# Exact distances and the tie-tolerant recall


def exact_distances(base: F32, queries: F32, ids: NDArray, metric: str) -> NDArray[np.float64]:
    """Exact distances (float64) between each query and the given rows.

    l2: squared Euclidean distance; cosine: 1 - cos; ip: -<q, x>. ids < 0
    give +inf."""
    nq, k = ids.shape
    safe = np.where(ids >= 0, ids, 0)
    q = queries.astype(np.float64)
    out = np.empty((nq, k), dtype=np.float64)
    for i in range(nq):
        rows = base[safe[i]].astype(np.float64)
        if metric == "l2":
            diff = rows - q[i]
            out[i] = np.einsum("ij,ij->i", diff, diff)
        elif metric == "cosine":
            qn = q[i] / max(np.linalg.norm(q[i]), 1e-30)
            rn = np.linalg.norm(rows, axis=1)
            out[i] = 1.0 - (rows @ qn) / np.maximum(rn, 1e-30)
        elif metric == "ip":
            out[i] = -(rows @ q[i])
        else:
            raise ValueError(f"metric {metric}")
    out[ids < 0] = np.inf
    return out


def tie_tolerant_recall(base: F32, queries: F32, result_ids: NDArray, kth_dist: NDArray[np.float64],
                        metric: str, k: int = 10) -> float:
    """recall@k: a returned row is a hit if its exact distance is within the
    k-th ground-truth distance + 1e-6 |k-th| (inner-product distances can be
    negative), so ties count. Duplicate ids count once."""
    ids = np.asarray(result_ids, dtype=np.int64)[:, :k]
    dist = exact_distances(base, queries, ids, metric)
    hits = 0
    for i in range(ids.shape[0]):
        seen: set[int] = set()
        for j in range(ids.shape[1]):
            r = int(ids[i, j])
            if r >= 0 and r not in seen and dist[i, j] <= kth_dist[i] + 1e-6 * abs(kth_dist[i]):
                hits += 1
            seen.add(r)
    return hits / (ids.shape[0] * k)


# --------------------------------------------------------------------------
# Dataset descriptions


@dataclass
class Dataset:
    name: str
    title: str
    directory: str
    metric: str  # "l2" or "cosine"
    n: int
    dim: int
    nq: int
    description: str
    prepare_seconds: float = 0.0
    stats: dict[str, float] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return Path(self.directory)

    @property
    def base(self) -> Path:
        return self.path / "base.fvecs"

    @property
    def queries(self) -> Path:
        return self.path / "query.fvecs"

    @property
    def gt(self) -> Path:
        return self.path / "gt100.ivecs"

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def gt_dist_path(ds: Dataset, cache: Path) -> Path:
    return cache / ds.name / "gt100.dist.fvecs"


def load_base(ds: Dataset) -> F32:
    return read_vecs(ds.base)


def load_queries(ds: Dataset) -> F32:
    return read_vecs(ds.queries)


def load_gt(ds: Dataset, cache: Path) -> tuple[I32, NDArray[np.float64]]:
    """Ground-truth rows and their exact distances (nq x 100 each)."""
    ids = read_vecs(ds.gt, np.int32)
    return ids, read_vecs(gt_dist_path(ds, cache)).astype(np.float64)


def query_files(ds: Dataset, cache: Path, subset: int | None = None, min_nq: int = 0) -> tuple[Path, Path]:
    """Query and ground-truth files for the CLI: the first `subset` queries
    (slow exact scans), tiled until there are at least `min_nq` rows so that
    one timed pass of a fast index lasts long enough to measure. Tiling
    leaves recall unchanged: every query appears the same number of times."""
    nq = min(subset or ds.nq, ds.nq)
    reps = max(1, math.ceil(min_nq / nq)) if min_nq else 1
    if nq == ds.nq and reps == 1:
        return ds.queries, ds.gt
    d = cache / ds.name
    qp, gp = d / f"query{nq}x{reps}.fvecs", d / f"gt100-q{nq}x{reps}.ivecs"
    if not qp.exists() or not gp.exists():
        write_vecs(qp, np.tile(load_queries(ds)[:nq], (reps, 1)))
        write_vecs(gp, np.tile(read_vecs(ds.gt, np.int32)[:nq], (reps, 1)))
    return qp, gp


# --------------------------------------------------------------------------
# Ground truth


def exact_topk(base: F32, queries: F32, metric: str, k: int = GT_K) -> tuple[I32, NDArray[np.float64]]:
    """Exact top-k with faiss IndexFlat (float32), then the candidates (2k per
    query) re-scored in float64 and re-sorted, ties broken by row number."""
    import faiss  # the peers' venv has it

    cand_k = min(2 * k, base.shape[0])
    if metric == "l2":
        index = faiss.IndexFlatL2(base.shape[1])
    else:
        index = faiss.IndexFlatIP(base.shape[1])
    index.add(base)
    ids = np.empty((queries.shape[0], k), dtype=np.int32)
    dist = np.empty((queries.shape[0], k), dtype=np.float64)
    for s in range(0, queries.shape[0], 500):
        _, cand = index.search(queries[s:s + 500], cand_k)
        d = exact_distances(base, queries[s:s + 500], cand, metric)
        for i in range(cand.shape[0]):
            order = np.lexsort((cand[i], d[i]))[:k]
            ids[s + i] = cand[i][order]
            dist[s + i] = d[i][order]
    return ids, dist


def _write_gt_dist(ds: Dataset, cache: Path, base: F32, queries: F32) -> None:
    out = gt_dist_path(ds, cache)
    if out.exists():
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    ids = read_vecs(ds.gt, np.int32)
    write_vecs(out, exact_distances(base, queries, ids, ds.metric).astype(np.float32))


# --------------------------------------------------------------------------
# Generators


def gen_clustered(n: int, nq: int, dim: int, centroids: int, sigma: float, seed: int) -> tuple[F32, F32]:
    """The demo recipe at another scale: centroids uniform in [-2, 2]^dim,
    each row a random centroid plus N(0, sigma^2) noise per coordinate.
    Our own numpy generator: not bit-identical to ruvector's Rust one."""
    rng = np.random.default_rng(seed)
    cents = rng.uniform(-2.0, 2.0, size=(centroids, dim)).astype(np.float32)
    rows = np.empty((n + nq, dim), dtype=np.float32)
    step = 100_000
    for s in range(0, n + nq, step):
        e = min(s + step, n + nq)
        pick = rng.integers(0, centroids, size=e - s)
        rows[s:e] = cents[pick] + rng.normal(0.0, sigma, size=(e - s, dim)).astype(np.float32)
    return rows[:n], np.ascontiguousarray(rows[n:])


def gen_embedding_like(n: int, nq: int, dim: int, clusters: int, seed: int,
                       within: float = 0.55, zipf_s: float = 1.0,
                       ood_fraction: float = 0.1) -> tuple[F32, F32]:
    """Embedding-like unit vectors: `clusters` Gaussian clusters with Zipf
    sizes (p_j ~ 1/j^s), per-dimension scale sigma_i ~ i^-0.5 (centres and
    noise alike) under one random rotation, then L2-normalised. Queries come
    from the same process, plus ood_fraction uniform-on-sphere queries."""
    rng = np.random.default_rng(seed)
    scale = (np.arange(1, dim + 1, dtype=np.float64) ** -0.5).astype(np.float32)
    rot, r = np.linalg.qr(rng.standard_normal((dim, dim)))
    rot = (rot * np.sign(np.diag(r))).astype(np.float32)  # Haar-distributed
    centres = rng.standard_normal((clusters, dim)).astype(np.float32) * scale
    p = 1.0 / np.arange(1, clusters + 1, dtype=np.float64) ** zipf_s
    p /= p.sum()
    n_ood = int(round(nq * ood_fraction))
    n_in = n + nq - n_ood
    rows = np.empty((n + nq, dim), dtype=np.float32)
    step = 100_000
    for s in range(0, n_in, step):
        e = min(s + step, n_in)
        pick = rng.choice(clusters, size=e - s, p=p)
        x = centres[pick] + within * rng.standard_normal((e - s, dim)).astype(np.float32) * scale
        rows[s:e] = x @ rot.T
    rows[n_in:] = rng.standard_normal((n_ood, dim)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    # Queries: the in-distribution tail of the process, then the OOD ones.
    base = rows[:n]
    queries = np.concatenate([rows[n:n_in], rows[n_in:]])
    return np.ascontiguousarray(base), np.ascontiguousarray(queries)


# --------------------------------------------------------------------------
# The catalogue


@dataclass(frozen=True)
class Spec:
    name: str
    title: str
    metric: str
    n: int
    dim: int
    nq: int
    description: str
    make: Callable[[], tuple[F32, F32]] | None  # None: shipped, read in place


def catalogue() -> dict[str, Spec]:
    return {
        "demo-100k": Spec(
            "demo-100k", "A. ruvector demo, 100k x 128, L2", "l2", 100_000, 128, 200,
            "ruvector's own demo data (seed 91, 100 centroids, N(0, 0.6) noise), read from "
            f"{DEMO_DIR}; its shipped gt100.ivecs",
            None),
        "demo-1m": Spec(
            "demo-1m", "B. ruvector demo recipe, 1M x 128, L2", "l2", 1_000_000, 128, 1000,
            "the protocol's set B (rabitq.md): the demo's generator at n = 1M, new seed: "
            "100 centroids uniform in [-2,2]^128, N(0, 0.6) noise, seed 1003 (numpy PCG64; "
            "not bit-identical to ruvector's Rust generator); 1,000 queries from the same "
            "process; exact top-100 by faiss IndexFlatL2 re-scored in float64. Each cluster "
            "holds ~10,000 rows, so neighbours are close together and hard to tell apart",
            lambda: gen_clustered(1_000_000, 1000, 128, 100, 0.6, 1003)),
        "clustered-1m": Spec(
            "clustered-1m", "B. clustered, 1M x 128, L2", "l2", 1_000_000, 128, 1000,
            "1,000 centroids uniform in [-2,2]^128, N(0, 0.6) noise, seed 1001 (numpy PCG64; "
            "the demo recipe, not bit-identical to ruvector's Rust generator); 1,000 queries "
            "from the same process; exact top-100 by faiss IndexFlatL2 re-scored in float64",
            lambda: gen_clustered(1_000_000, 1000, 128, 1000, 0.6, 1001)),
        "embed384-100k": Spec(
            "embed384-100k", "D. embedding-like, 100k x 384, cosine", "cosine", 100_000, 384, 1000,
            "1,000 Gaussian clusters with Zipf(1) sizes, sigma_i ~ i^-0.5 under a random "
            "rotation, L2-normalised, seed 2002; 900 in-distribution + 100 uniform-sphere "
            "queries; exact top-100 by cosine (faiss IndexFlatIP re-scored in float64)",
            lambda: gen_embedding_like(100_000, 1000, 384, 1000, 2002)),
        "embed384-1m": Spec(
            "embed384-1m", "D. embedding-like, 1M x 384, cosine", "cosine", 1_000_000, 384, 1000,
            "as embed384-100k at n=1M, seed 2003",
            lambda: gen_embedding_like(1_000_000, 1000, 384, 1000, 2003)),
    }


def _nn_stats(base: F32, queries: F32, gt_ids: I32, gt_dist: NDArray[np.float64], metric: str) -> dict[str, float]:
    return {
        "gt_dist@1_median": float(np.median(gt_dist[:, 0])),
        "gt_dist@10_median": float(np.median(gt_dist[:, 9])),
        "gt_dist@100_median": float(np.median(gt_dist[:, 99])),
    }


def prepare(name: str, cache: Path, log: Callable[[str], None]) -> Dataset:
    """Returns the dataset, generating files and ground truth on first use."""
    spec = catalogue()[name]
    meta_path = cache / name / "dataset.json"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        ds = Dataset(**meta)
        if ds.base.exists() and ds.gt.exists() and gt_dist_path(ds, cache).exists():
            return ds
    (cache / name).mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if spec.make is None:
        ds = Dataset(name, spec.title, str(DEMO_DIR), spec.metric, spec.n, spec.dim, spec.nq,
                     spec.description)
        base, queries = load_base(ds), load_queries(ds)
        _write_gt_dist(ds, cache, base, queries)
    else:
        ds = Dataset(name, spec.title, str(cache / name), spec.metric, spec.n, spec.dim, spec.nq,
                     spec.description)
        log(f"[data] generating {name} ({spec.n} x {spec.dim}) into {ds.path}")
        base, queries = spec.make()
        write_vecs(ds.base, base)
        write_vecs(ds.queries, queries)
        log(f"[data] exact top-{GT_K} for {name} ({spec.metric})")
        ids, dist = exact_topk(base, queries, spec.metric)
        write_vecs(ds.gt, ids)
        write_vecs(gt_dist_path(ds, cache), dist.astype(np.float32))
    ids, dist = load_gt(ds, cache)
    ds.n, ds.dim, ds.nq = int(base.shape[0]), int(base.shape[1]), int(queries.shape[0])
    ds.stats = _nn_stats(base, queries, ids, dist, ds.metric)
    ds.prepare_seconds = round(time.perf_counter() - t0, 2)
    meta_path.write_text(json.dumps(ds.to_json(), indent=1))
    return ds


def ivf_lists(n: int) -> int:
    """About 4 sqrt(n) lists, rounded to thousands: 1,000 at 100k (rabitq.md 2.8), 4,000 at 1M."""
    return max(1, round(4 * math.sqrt(n) / 1000.0)) * 1000
