"""Data sets of issue 14 that are cheap to generate, for bench/defaults.py.

Every set is (base, queries, metric, n_in): the first n_in queries come
from the process that made the base, the remaining 10 % from elsewhere
(out of distribution, OOD), reported apart. Made in memory from a seed,
never written. Shapes follow the issue's list: clustered, anisotropic
(per-dimension scales i^-0.7 under a random rotation), embedding-like unit
vectors, exact duplicates and zero vectors, and a dimension that is not a
multiple of 8, across L2, inner product and cosine.
"""

from __future__ import annotations

from typing import Callable, Dict, Tuple

import numpy as np
from numpy.typing import NDArray

F32 = NDArray[np.float32]
Set = Tuple[F32, F32, str, int]


def _rotation(rng: np.random.Generator, dim: int) -> F32:
    q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
    return (q * np.sign(np.diag(r))).astype(np.float32)  # Haar-distributed


def _split(rows: F32, n: int, ood: F32) -> Tuple[F32, F32, int]:
    base = np.ascontiguousarray(rows[:n])
    queries = np.ascontiguousarray(np.concatenate([rows[n:], ood]).astype(np.float32))
    return base, queries, rows.shape[0] - n


def clustered(n: int, nq: int, dim: int, seed: int) -> Tuple[F32, F32, int]:
    """100 Gaussian clusters, centres uniform in [-2, 2]^dim, noise 0.6 per
    coordinate. OOD: one Gaussian with the data's mean and per-coordinate
    spread, so its queries fall between the clusters."""
    rng = np.random.default_rng(seed)
    n_ood = nq // 10
    cents = rng.uniform(-2.0, 2.0, size=(100, dim)).astype(np.float32)
    pick = rng.integers(0, 100, size=n + nq - n_ood)
    rows = cents[pick] + rng.normal(0.0, 0.6, size=(pick.size, dim)).astype(np.float32)
    ood = rows[:n].mean(0) + rows[:n].std(0) * rng.standard_normal((n_ood, dim))
    return _split(rows, n, ood.astype(np.float32))


def anisotropic(n: int, nq: int, dim: int, seed: int) -> Tuple[F32, F32, int]:
    """One Gaussian whose per-dimension scales fall like i^-0.7, under a
    random rotation. OOD: an isotropic Gaussian of the same total variance
    (most of its energy in the directions the data barely uses)."""
    rng = np.random.default_rng(seed)
    n_ood = nq // 10
    scale = (np.arange(1, dim + 1, dtype=np.float64) ** -0.7).astype(np.float32)
    rot = _rotation(rng, dim)
    rows = (rng.standard_normal((n + nq - n_ood, dim)).astype(np.float32) * scale) @ rot.T
    iso = float(np.sqrt((scale.astype(np.float64) ** 2).mean()))
    ood = iso * rng.standard_normal((n_ood, dim))
    return _split(rows, n, ood.astype(np.float32))


def embedding(n: int, nq: int, dim: int, seed: int) -> Tuple[F32, F32, int]:
    """Unit vectors: 200 Zipf-sized clusters, scales i^-0.5 under a rotation,
    normalised. OOD: uniform on the sphere."""
    rng = np.random.default_rng(seed)
    n_ood = nq // 10
    scale = (np.arange(1, dim + 1, dtype=np.float64) ** -0.5).astype(np.float32)
    rot = _rotation(rng, dim)
    cents = rng.standard_normal((200, dim)).astype(np.float32) * scale
    p = 1.0 / np.arange(1, 201, dtype=np.float64)
    pick = rng.choice(200, size=n + nq - n_ood, p=p / p.sum())
    rows = (cents[pick] + 0.55 * rng.standard_normal((pick.size, dim)).astype(np.float32) * scale)
    rows = rows @ rot.T
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    ood = rng.standard_normal((n_ood, dim))
    ood /= np.linalg.norm(ood, axis=1, keepdims=True)
    return _split(rows, n, ood.astype(np.float32))


def duplicates(n: int, nq: int, dim: int, seed: int) -> Tuple[F32, F32, int]:
    """Clustered rows of which 30 % are exact copies of other rows and 1 %
    are zero vectors. OOD: as for clustered."""
    base, queries, n_in = clustered(n, nq, dim, seed)
    rng = np.random.default_rng(seed + 1)
    copies = rng.choice(n, size=3 * n // 10, replace=False)
    base[copies] = base[rng.integers(0, n, size=copies.size)]
    base[rng.choice(n, size=n // 100, replace=False)] = 0.0
    return base, queries, n_in


GENERATORS: Dict[str, Tuple[Callable[[], Tuple[F32, F32, int]], str]] = {
    # name: (generator, metric); n chosen so that a set runs in minutes on 2 cores
    "clustered-l2-50k": (lambda: clustered(50_000, 1000, 128, 21), "l2"),
    "aniso-l2-50k": (lambda: anisotropic(50_000, 1000, 128, 22), "l2"),
    "embed-cos-50k": (lambda: embedding(50_000, 1000, 256, 23), "cosine"),
    "dups-zeros-l2-50k": (lambda: duplicates(50_000, 1000, 64, 24), "l2"),
    "clustered-ip-d61-50k": (lambda: clustered(50_000, 1000, 61, 25), "ip"),
    # the ends of the issue's ranges: n = 10k at D = 1,024, n = 1M at D = 32
    "embed-ip-d1024-10k": (lambda: embedding(10_000, 1000, 1024, 26), "ip"),
    "clustered-l2-d32-1m": (lambda: clustered(1_000_000, 1000, 32, 27), "l2"),
}

#: the sets of the issue-14 report, in the order they run (the 1M one last)
ISSUE14 = ["clustered-l2-50k", "aniso-l2-50k", "embed-cos-50k", "dups-zeros-l2-50k",
           "clustered-ip-d61-50k", "embed-ip-d1024-10k", "demo-100k", "clustered-l2-d32-1m"]


def load(name: str) -> Set:
    """(base, queries, metric, in-distribution query count) of a generated set."""
    gen, metric = GENERATORS[name]
    base, queries, n_in = gen()
    return base, queries, metric, n_in
