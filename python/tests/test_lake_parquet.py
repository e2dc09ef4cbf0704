"""ruLake over Parquet files (ruvector.ParquetBackend, pyarrow optional):
skipped, saying so, when pyarrow is not installed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Tuple

import numpy as np
import numpy.typing as npt
import pytest

import ruvector
from ruvector import Consistency, ParquetBackend, RuLake

from lake_support import needs_rulake

try:
    import pyarrow as pa
    import pyarrow.parquet as pq
    _NO_PYARROW = ""
except ImportError:
    pa = pq = None
    _NO_PYARROW = "pyarrow is not installed (pip install pyarrow)"


pytestmark = needs_rulake
needs_pyarrow = pytest.mark.skipif(bool(_NO_PYARROW), reason=_NO_PYARROW)


def rows(n: int, dim: int, seed: int) -> Tuple[npt.NDArray[np.uint64], npt.NDArray[np.float32]]:
    rng = np.random.default_rng(seed)
    ids = np.arange(n, dtype=np.uint64) * np.uint64(7919) + np.uint64(2**63 + 5)  # ids >= 2^63
    return ids, rng.standard_normal((n, dim), dtype=np.float32)


@needs_pyarrow
def test_search_matches_a_direct_index(tmp_path: Path) -> None:
    ids, vecs = rows(3000, 24, 1)
    path = tmp_path / "docs.parquet"
    ParquetBackend.write(path, ids, vecs, row_group_size=700)  # several row groups
    with RuLake.builder().build() as lake:
        lake.register_backend(ParquetBackend("pq", {"docs": path}))
        idx = ruvector.RabitqPlusIndex.build(vecs[np.argsort(ids)], ids=np.sort(ids), seed=42,
                                             rerank_factor=20)
        for q in vecs[:5]:
            got = lake.search_one("docs", q, k=10)
            want = idx.search(q, 10)
            assert [(h.id, h.score) for h in got] == [(h.id, h.score) for h in want]
        assert got[0].backend == "pq" and got[0].id >= 2**63
        s = lake.cache_stats()
        assert (s.primes, s.hits) == (1, 4)


@needs_pyarrow
def test_a_rewrite_is_seen_within_the_second(tmp_path: Path) -> None:
    ids, vecs = rows(500, 8, 2)
    path = tmp_path / "docs.parquet"
    ParquetBackend.write(path, ids, vecs)
    with RuLake.builder().consistency(Consistency.FRESH).build() as lake:
        lake.register_backend(ParquetBackend("pq", {"docs": path}))
        assert lake.search_one("docs", vecs[3], k=1)[0].id == int(ids[3])
        moved = vecs.copy()
        moved[3] += 100.0
        ParquetBackend.write(path, ids, moved)  # same size, same second
        assert lake.search_one("docs", vecs[3], k=1)[0].id != int(ids[3])
        assert lake.cache_stats().primes == 2


@needs_pyarrow
def test_list_columns_and_bad_files(tmp_path: Path) -> None:
    assert pa is not None and pq is not None
    ids, vecs = rows(200, 6, 3)
    ok = tmp_path / "list.parquet"
    pq.write_table(pa.table({"key": pa.array(ids.astype(np.int64) & 0xFFFF),
                             "emb": pa.array([list(map(float, v)) for v in vecs])}), ok)
    ragged = tmp_path / "ragged.parquet"
    pq.write_table(pa.table({"key": pa.array([1, 2], pa.int64()),
                             "emb": pa.array([[1.0, 2.0], [3.0]])}), ragged)
    negative = tmp_path / "negative.parquet"
    pq.write_table(pa.table({"key": pa.array([1, -2], pa.int64()),
                             "emb": pa.array([[1.0], [3.0]])}), negative)
    b = ParquetBackend("pq", {"ok": ok, "ragged": ragged, "negative": negative,
                              "missing": tmp_path / "nope.parquet"},
                       id_column="key", vector_column="emb")
    with RuLake.builder().build() as lake:
        lake.register_backend(b)
        hit = lake.search_one("ok", vecs[5], k=1)[0]
        assert hit.id == int(ids[5]) & 0xFFFF and hit.score == 0.0
        with pytest.raises(ruvector.BackendError, match="row 1 has 1 values") as ex:
            lake.search_one("ragged", np.zeros(2, np.float32))
        assert isinstance(ex.value.__cause__, ValueError)
        with pytest.raises(ruvector.BackendError, match="negative ids"):
            lake.search_one("negative", np.zeros(1, np.float32))
        with pytest.raises(ruvector.BackendError, match="nope.parquet"):
            lake.search_one("missing", np.zeros(1, np.float32))
        with pytest.raises(ruvector.UnknownCollection):
            lake.search_one("unregistered", np.zeros(1, np.float32))
        assert b.list_collections() == ["missing", "negative", "ok", "ragged"]


def test_without_pyarrow_the_error_says_so(monkeypatch: Any) -> None:
    import builtins
    real = builtins.__import__

    def no_pyarrow(name: str, *a: Any, **k: Any) -> Any:
        if name.startswith("pyarrow"):
            raise ImportError("no pyarrow here")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    with pytest.raises(ImportError, match="pip install pyarrow"):
        ParquetBackend("pq")
    assert os.environ is not None


@needs_pyarrow
def test_the_example_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                          monkeypatch: pytest.MonkeyPatch) -> None:
    import runpy
    import sys
    example = Path(__file__).resolve().parent.parent / "examples" / "parquet_lake.py"
    monkeypatch.setattr(sys, "argv", [str(example), str(tmp_path)])
    runpy.run_path(str(example), run_name="__main__")
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("first search") and "(420, 0.0)" in out[0]
    assert out[2] == "after the rewrite: 430 primes: 2"
    assert out[3].startswith("bundle: RuLakeBundle(") and "signature=unsigned" in out[3]
    assert (tmp_path / "bundle" / "table.rulake.json").is_file()
