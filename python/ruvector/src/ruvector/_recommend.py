"""recommend(): which index and parameters for a size and a recall target.

The answer is what ``RabitqPlusIndex.build(x, target_recall=t)`` does, so
that what we recommend is what the build does (issue 14): the build plans
from n and dim (an exact scan of the originals while they fit in 1 MiB or
n < 1,000; else IVF with round(sqrt(n)) lists and 4-bit codes), measures
itself on 200 of its own rows to pick the smallest nprobe reaching t, and
searches with adaptive probing from there (docs/indexes.md, "Defaults: a
recall target"). ``idx.params["plan"]`` shows what it chose. Exact search
(t >= 0.9999) is FlatF32Index.

The QPS figures are estimates scaled by the work per query from the
measured points (docs/benchmarks-defaults.md: demo-100k, 100k x 128, the
defaults, one thread, machine shared; FlatF32 from docs/benchmarks-peers.md),
and ``measured`` says so.
"""

from __future__ import annotations

import math
from typing import Any, Dict, NamedTuple, Optional, Type, Union

import numpy.typing as npt

from ._engine import Engine
from ._index import FlatF32Index, Index, RabitqIndex, RabitqPlusIndex

__all__ = ["Recommendation", "recommend"]

# The measured point: demo-100k (100,000 x 128, L2) with the defaults,
# 18,165 QPS on one loaded vCPU (docs/benchmarks-defaults.md); FlatF32 ~280.
_REF_N = 100_000
_REF_DIM = 128
_REF_QPS = 18_000.0
_FLAT_REF_QPS = 280.0
# The plan's exact-scan rule (engine/index/plan.c): originals within 1 MiB,
# or fewer than 1,000 of them.
_EXACT_BYTES = 1 << 20
_EXACT_N = 1_000
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


def recommend(n: int, dim: int, recall_target: float = 0.99) -> Recommendation:
    """The index class and parameters for n vectors of dimension dim whose
    recall@10 should reach recall_target (0 < target <= 1)."""
    if n < 1 or dim < 1:
        raise ValueError(f"n and dim must be >= 1, got n={n}, dim={dim}")
    if not 0.0 < recall_target <= 1.0:
        raise ValueError(f"recall_target must be in (0, 1], got {recall_target}")
    if recall_target >= _EXACT_TARGET:
        scale = (_REF_N * _REF_DIM) / float(n * dim)
        return Recommendation(
            FlatF32Index, {}, {}, 1.0, _FLAT_REF_QPS * scale, False,
            "exact search was asked for: FlatF32 scans every vector "
            f"(~{_FLAT_REF_QPS:,.0f} QPS/thread single at 100k x 128)",
        )
    if n < _EXACT_N or n * dim * 4 <= _EXACT_BYTES:
        # the plan scans the originals exactly: recall 1, a flat scan's speed
        scale = (_REF_N * _REF_DIM) / float(n * dim)
        return Recommendation(
            RabitqPlusIndex, {"target_recall": recall_target}, {}, 1.0,
            _FLAT_REF_QPS * scale, False,
            f"the plan scans the originals exactly (they fit in 1 MiB, or n < {_EXACT_N}): "
            "recall 1 by construction",
        )
    nlist = max(1, int(math.floor(math.sqrt(n) + 0.5)))
    # IVF work per query grows with sqrt(n) (lists probed x their length) and dim
    scale = math.sqrt(_REF_N / float(n)) * (_REF_DIM / float(dim))
    return Recommendation(
        RabitqPlusIndex, {"target_recall": recall_target}, {}, recall_target,
        _REF_QPS * scale, n == _REF_N and dim == _REF_DIM,
        f"the build's plan: IVF with {nlist} lists (~sqrt(n)), 4-bit codes, nprobe "
        f"calibrated at build to reach recall@10 {recall_target:g} on its own rows, then "
        f"adaptive probing; defaults at 100k x 128 measured ~{_REF_QPS:,.0f} QPS/thread "
        "(docs/benchmarks-defaults.md)",
    )
