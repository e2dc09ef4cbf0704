"""recommend(): which index and parameters for a size and a recall target.

The rules come from measurements on the 100k x 128 demo set
(shared/datasets/ruvector-demo-100k, recall@10, one thread; docs/benchmarks-peers.md,
one run with the machine shared, so QPS are conservative):

    RabitqPlusIndex 4-bit, nlist 256 (~0.8 sqrt(n)), nprobe 8   1.000   ~14,000 QPS
    RabitqPlusIndex 1-bit, same lists, nprobe 8                 0.999    ~6,700 QPS
    FlatF32Index (exact)                                        1.0      ~280 QPS single, ~2,000 batched
    RabitqIndex 1-bit, nlist 1000, nprobe 8                     0.405   ~16,000 QPS

4-bit codes tighten the error bounds, so RabitqPlus re-ranks far fewer
originals; at 1M x 128 (demo recipe, IVF 1000, nprobe 10) that is ~23 exact
re-ranks per query instead of ~1,450 (docs/indexes.md).

Away from 100k x 128 the lists are scaled (nlist with sqrt(n), nprobe as the
same fraction of nlist) and the QPS figures with the work per query
(n * dim for a scan); those numbers are estimates, and ``measured`` says so.
"""

from __future__ import annotations

import math
from typing import Any, Dict, NamedTuple, Optional, Type, Union

import numpy.typing as npt

from ._engine import Engine
from ._index import FlatF32Index, Index, RabitqIndex, RabitqPlusIndex

__all__ = ["Recommendation", "recommend"]

_REF_N = 100_000
_REF_DIM = 128
# Below this many vectors a scan of the codes (nlist 0) is already fast, and
# k-means over a few points per list does more harm than good.
_MIN_IVF_N = 20_000
# Up to this many vectors exact search costs under ~0.2 ms per query at dim 128.
_FLAT_N = 5_000
# At or above this target only exact search is a promise we can keep.
_EXACT_TARGET = 0.9999

IndexClass = Union[Type[FlatF32Index], Type[RabitqIndex], Type[RabitqPlusIndex]]


class Recommendation(NamedTuple):
    """What recommend() returns: ``rec.build(vectors)`` then
    ``idx.search(q, k, **rec.search_params)``."""

    index_class: IndexClass
    build_params: Dict[str, Any]
    search_params: Dict[str, Any]
    expected_recall: float
    expected_qps_per_thread: float
    #: True when (n, dim) is the measured 100k x 128 case
    measured: bool
    #: the measurement this rests on, in words
    basis: str

    def build(
        self, vectors: npt.ArrayLike, *, ids: Optional[npt.ArrayLike] = None,
        engine: Optional[Engine] = None,
    ) -> Index:
        """Builds the recommended index over vectors."""
        cls: Any = self.index_class
        idx: Index = cls.build(vectors, ids=ids, engine=engine, **self.build_params)
        return idx


def _round16(x: float) -> int:
    """Rounds a list count to a multiple of 16 (256 at 100k, as measured)."""
    return max(16, int(round(x / 16.0)) * 16)


def recommend(n: int, dim: int, recall_target: float = 0.99) -> Recommendation:
    """The index class and parameters for n vectors of dimension dim whose
    recall@10 should reach recall_target (0 < target <= 1)."""
    if n < 1 or dim < 1:
        raise ValueError(f"n and dim must be >= 1, got n={n}, dim={dim}")
    if not 0.0 < recall_target <= 1.0:
        raise ValueError(f"recall_target must be in (0, 1], got {recall_target}")
    scale = (_REF_N * _REF_DIM) / float(n * dim)  # work per query relative to the reference
    measured = n == _REF_N and dim == _REF_DIM

    if recall_target >= _EXACT_TARGET or n <= _FLAT_N:
        why = "exact search was asked for" if recall_target >= _EXACT_TARGET else (
            f"n <= {_FLAT_N}: a scan is already fast")
        return Recommendation(
            FlatF32Index, {}, {}, 1.0, 280.0 * scale, measured,
            f"{why}; FlatF32 measured ~280 QPS/thread single, ~2,000/thread batched at 100k x 128",
        )

    if recall_target <= 0.39:
        nlist = max(16, int(round(math.sqrt(n) * 1000 / math.sqrt(_REF_N))))
        nprobe = max(1, int(math.ceil(nlist * 10 / 1000)))
        return Recommendation(
            RabitqIndex, {"bits": 1, "nlist": nlist}, {"nprobe": nprobe}, 0.405, 16_000.0 * scale,
            measured and nlist == 1000,
            "RabitqIndex 1-bit, nlist 1000, nprobe 8-10: recall@10 0.405 at ~16k QPS "
            "(100k x 128, machine shared); codes only, no originals kept",
        )

    if n < _MIN_IVF_N:
        return Recommendation(
            RabitqPlusIndex, {"nlist": 0, "bits": 4}, {}, 0.999, 14_000.0 * scale * 0.25, False,
            f"n < {_MIN_IVF_N}: no IVF, the error-bound rerank scans every code; "
            "recall from RabitqPlus 4-bit at 100k x 128 (1.000)",
        )

    nlist = _round16(0.8 * math.sqrt(n))
    if recall_target <= 0.999:
        nprobe = max(1, int(math.ceil(nlist * 8 / 256)))
        return Recommendation(
            RabitqPlusIndex, {"nlist": nlist, "bits": 4}, {"nprobe": nprobe}, 0.999,
            14_000.0 * scale, measured and nlist == 256,
            "RabitqPlus 4-bit, nlist ~0.8 sqrt(n) (256 at 100k), nprobe 8: recall@10 1.000 "
            "at ~14,000 QPS/thread (100k x 128, machine shared); 1-bit codes save 140 B per "
            "vector and reach 0.999 at about half the speed",
        )
    # Between the measured point and exact: twice the lists probed (estimate).
    nprobe = max(2, int(math.ceil(nlist * 16 / 256)))
    return Recommendation(
        RabitqPlusIndex, {"nlist": nlist, "bits": 4}, {"nprobe": nprobe}, recall_target,
        14_000.0 * scale / 2, False,
        "extrapolated: twice the nprobe of the measured point "
        "(RabitqPlus 4-bit, nlist 256, nprobe 8 at 100k x 128); use FlatF32Index for exact "
        "results",
    )
