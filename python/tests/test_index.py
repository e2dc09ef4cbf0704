"""The index API: build, search, batch, add/remove, persistence, access, errors."""

from __future__ import annotations

import array
import gc
import math
from pathlib import Path
from typing import Any, Dict, List

import numpy as np
import numpy.typing as npt
import pytest

import ruvector
from conftest import ALL, AnyIndexClass, F32, clustered

WITH_ORIGINALS: List[AnyIndexClass] = [ruvector.FlatF32Index, ruvector.RabitqPlusIndex]
CODES_ONLY: List[AnyIndexClass] = [ruvector.RabitqIndex, ruvector.RabitqAsymIndex]


def exact_top(data: F32, q: F32, k: int) -> npt.NDArray[np.int64]:
    d = ((data - q) ** 2).sum(axis=1)
    top: npt.NDArray[np.int64] = np.argsort(d, kind="stable")[:k].astype(np.int64)
    return top


@pytest.mark.parametrize("cls", ALL)
def test_build_and_search_finds_the_query_itself(cls: AnyIndexClass, small: F32) -> None:
    # 1-bit codes only estimate distances (recall@10 ~0.4 at 100k); 8-bit
    # codes are precise enough for the self-match to come first.
    kw: Dict[str, Any] = {"bits": 8} if cls in CODES_ONLY else {}
    idx = cls.build(small, **kw)
    assert len(idx) == small.shape[0]
    assert idx.dim == small.shape[1]
    assert idx.memory_bytes > 0
    assert idx.metric == "l2"
    hits = idx.search(small[42], 5)
    assert len(hits) == 5
    assert isinstance(hits[0], ruvector.SearchResult)
    assert hits[0].id == 42
    assert isinstance(hits[0].id, int) and isinstance(hits[0].score, float)
    scores = [h.score for h in hits]
    assert scores == sorted(scores)  # L2: ascending


def test_search_hits_are_ordinary_named_tuples(small: F32) -> None:
    """search builds each SearchResult with tuple.__new__ in C (no Python
    __new__ per hit): they must still be plain SearchResult tuples, equal
    and hashed as tuples, with the batch's ids and score bits."""
    idx = ruvector.RabitqPlusIndex.build(small)
    hits = idx.search(small[7], 10)
    want_ids, want_scores = idx.search_batch(small[7:8], 10)
    assert [h.id for h in hits] == [int(x) for x in want_ids[0]]
    bits = np.array([h.score for h in hits], dtype=np.float32).view(np.uint32)
    assert np.array_equal(bits, want_scores[0].view(np.uint32))
    h = hits[0]
    assert type(h) is ruvector.SearchResult and type(h.id) is int and type(h.score) is float
    assert h == tuple(h) and hash(h) == hash(tuple(h)) and len(h) == 2
    assert h._replace(id=1).id == 1 and h._asdict() == {"id": h.id, "score": h.score}
    assert repr(h).startswith("SearchResult(id=7, score=")
    assert idx.search(small[7], 10, filter=np.array([], dtype=np.uint64)) == []


@pytest.mark.parametrize("cls", [ruvector.FlatF32Index, ruvector.RabitqPlusIndex])
def test_exact_and_plus_agree_with_numpy(cls: AnyIndexClass, small: F32, small_queries: F32) -> None:
    idx = cls.build(small)
    for q in small_queries[:16]:
        got = [h.id for h in idx.search(q, 10)]
        assert got == list(exact_top(small, q, 10))


def test_plus_with_ivf_reaches_high_recall(small: F32, small_queries: F32) -> None:
    idx = ruvector.RabitqPlusIndex.build(small, nlist=64)
    hit = 0
    for q in small_queries:
        got = {h.id for h in idx.search(q, 10, nprobe=16)}
        hit += len(got & set(exact_top(small, q, 10).tolist()))
    assert hit / (10 * len(small_queries)) >= 0.95


@pytest.mark.parametrize("cls", ALL)
def test_search_batch_matches_single_searches(cls: AnyIndexClass, small: F32, small_queries: F32) -> None:
    idx = cls.build(small)
    ids, scores = idx.search_batch(small_queries, 7)
    assert ids.dtype == np.uint64 and scores.dtype == np.float32
    assert ids.shape == scores.shape == (len(small_queries), 7)
    for i, q in enumerate(small_queries):
        single = idx.search(q, 7)
        assert [h.id for h in single] == ids[i].tolist()
        np.testing.assert_allclose([h.score for h in single], scores[i], rtol=1e-5, atol=1e-4)


def test_batch_pads_missing_results_with_nan_scores_and_counts() -> None:
    idx = ruvector.FlatF32Index.build(np.eye(3, dtype=np.float32))
    ids, scores, counts = idx.search_batch(np.eye(3, dtype=np.float32), 5, return_counts=True)
    assert ids.dtype == np.uint64 and counts.tolist() == [3, 3, 3]
    assert (ids[:, 3:] == 2**64 - 1).all()
    assert np.isnan(scores[:, 3:]).all() and not np.isnan(scores[:, :3]).any()
    assert len(idx.search(np.ones(3, np.float32), 5)) == 3


@pytest.mark.parametrize("metric", ["l2", "ip", "cosine"])
def test_metrics_order_scores(metric: str, small: F32) -> None:
    idx = ruvector.FlatF32Index.build(small, metric=metric)
    assert idx.metric == metric
    scores = [h.score for h in idx.search(small[3], 10)]
    assert scores == sorted(scores, reverse=metric != "l2")


def test_custom_ids_filter_add_remove(small: F32) -> None:
    ids = np.arange(small.shape[0], dtype=np.int64) * 10 + 5
    idx = ruvector.RabitqPlusIndex.build(small, ids=ids)
    assert idx.search(small[0], 1)[0].id == 5
    allowed = [15, 25, 35]
    got = idx.search(small[0], 10, filter=allowed)
    assert {h.id for h in got} == set(allowed)
    assert idx.search(small[0], 10, filter=[]) == []
    fids, _ = idx.search_batch(small[:2], 3, filter=np.array([15, 25], dtype=np.uint64))
    assert set(fids[0][:2].tolist()) == {15, 25} and fids[0][2] == 2**64 - 1

    new = clustered(3, small.shape[1], seed=99)
    idx.add([1, 2, 3], new)
    assert len(idx) == small.shape[0] + 3
    assert idx.search(new[1], 1)[0].id == 2
    idx.add(id=4, vector=new[0] + 1.0)
    assert idx.search(new[0] + 1.0, 1)[0].id == 4
    with pytest.raises(ruvector.InvalidArgument):
        idx.add([4], new[:1])  # duplicate id
    assert idx.remove([1, 2, 999_999]) == 2
    assert 1 not in idx and 3 in idx
    assert len(idx) == small.shape[0] + 2
    assert idx.search(new[1], 1)[0].id != 2


def test_empty_index_add_then_search() -> None:
    idx = ruvector.RabitqPlusIndex(16)
    assert len(idx) == 0
    with pytest.raises(ruvector.EmptyIndex):
        idx.search(np.zeros(16, np.float32), 3)
    with pytest.raises(ruvector.EmptyIndex):
        idx.search_batch(np.zeros((2, 16), np.float32), 3)
    data = clustered(50, 16, seed=3)
    idx.add(np.arange(50), data)
    assert idx.search(data[7], 1)[0].id == 7
    assert isinstance(ruvector.EmptyIndex("x"), ruvector.IndexError)


def test_bad_ids() -> None:
    data = np.ones((2, 4), np.float32)
    with pytest.raises(ValueError, match=r"ids\[0\] = -1 is out of range"):
        ruvector.FlatF32Index.build(data, ids=[-1, 2])
    with pytest.raises(ValueError, match="expected 2 ids"):
        ruvector.FlatF32Index.build(data, ids=[1])
    with pytest.raises(TypeError, match="not an integer id"):
        ruvector.FlatF32Index.build(data, ids=[0.5, 1.5])
    with pytest.raises(ruvector.InvalidArgument, match="twice"):
        ruvector.FlatF32Index.build(data, ids=[3, 3])


# ---- the data contract ----


def test_dimension_mismatch_names_expected_and_got(small: F32) -> None:
    idx = ruvector.RabitqPlusIndex.build(small)
    with pytest.raises(ruvector.DimensionMismatch) as info:
        idx.search(np.zeros(31, np.float32), 3)
    msg = str(info.value)
    assert "32" in msg and "31" in msg, msg
    assert info.value.expected == 32 and info.value.got == 31
    assert info.value.status_name == "RUV_E_DIM"
    assert isinstance(info.value, ruvector.IndexError) and isinstance(info.value, ValueError)
    with pytest.raises(ruvector.DimensionMismatch, match="33"):
        idx.search_batch(np.zeros((2, 33), np.float32), 3)
    with pytest.raises(ruvector.DimensionMismatch, match="16"):
        idx.add([10**6], np.zeros((1, 16), np.float32))


def test_wrong_dtype_and_layout_raise_type_error(small: F32) -> None:
    idx = ruvector.FlatF32Index.build(small)
    with pytest.raises(TypeError, match="expected float32 data, got float64"):
        idx.search(small[0].astype(np.float64), 3)
    with pytest.raises(TypeError, match="float32"):
        ruvector.FlatF32Index.build(small.astype(np.float16))
    strided = np.zeros((32, 2), np.float32)[:, 0]  # 32 values, every other float
    with pytest.raises(TypeError, match="C-contiguous"):
        idx.search(strided, 3)
    with pytest.raises(TypeError, match="C-contiguous"):
        ruvector.FlatF32Index.build(np.asfortranarray(small[:100]))
    with pytest.raises(TypeError, match="C-contiguous"):
        idx.search_batch(np.zeros((10, 64), np.float32)[:, ::2], 3)
    with pytest.raises(TypeError, match="float32"):
        idx.search(small[0].astype(">f4"), 3)  # byte-swapped
    with pytest.raises(ValueError, match="1-D"):
        idx.search(small[:2], 3)


def test_sequences_and_buffers_are_accepted(small: F32) -> None:
    idx = ruvector.FlatF32Index.build(small)
    q = small[9]
    assert idx.search(q.tolist(), 1)[0].id == 9  # a list: copied
    assert idx.search(tuple(q.tolist()), 1)[0].id == 9
    assert idx.search(array.array("f", q.tobytes()), 1)[0].id == 9  # a buffer: shared
    assert idx.search(memoryview(q), 1)[0].id == 9
    with pytest.raises(TypeError, match="float32"):
        idx.search(array.array("d", q.tolist()), 1)
    ids, _ = idx.search_batch(small[:3].tolist(), 1)
    assert ids[:, 0].tolist() == [0, 1, 2]
    with pytest.raises(TypeError):
        idx.search(["a"] * 32, 1)


def test_nan_and_inf_are_rejected(small: F32) -> None:
    idx = ruvector.RabitqPlusIndex.build(small)
    q = small[0].copy()
    q[5] = np.nan
    with pytest.raises(ruvector.InvalidArgument):
        idx.search(q, 3)
    with pytest.raises(ValueError):  # InvalidArgument is a ValueError
        idx.search_batch(np.stack([small[1], q]), 3)
    bad = small[:100].copy()
    bad[17, 3] = np.inf
    with pytest.raises(ruvector.InvalidArgument, match="17"):
        ruvector.RabitqPlusIndex.build(bad)
    with pytest.raises(ruvector.InvalidArgument):
        idx.add([10**6], bad[17:18])


def test_k_must_be_positive(small: F32) -> None:
    idx = ruvector.FlatF32Index.build(small)
    with pytest.raises(ValueError):
        idx.search(small[0], 0)
    with pytest.raises(ValueError):
        idx.search_batch(small[:2], 0)


# ---- persistence ----


@pytest.mark.parametrize("cls", ALL)
def test_save_load_gives_identical_results(cls: AnyIndexClass, small: F32, small_queries: F32, tmp_path: Path) -> None:
    idx = cls.build(small, ids=np.arange(len(small)) + 100)
    path = tmp_path / "idx.ruv"
    idx.save(path)
    loaded = cls.load(path)
    assert type(loaded) is cls
    assert len(loaded) == len(idx) and loaded.dim == idx.dim and loaded.params == idx.params
    a_ids, a_scores = idx.search_batch(small_queries, 10)
    b_ids, b_scores = loaded.search_batch(small_queries, 10)
    np.testing.assert_array_equal(a_ids, b_ids)
    np.testing.assert_array_equal(a_scores, b_scores)
    assert loaded == idx
    generic = ruvector.load_index(str(path))
    assert type(generic) is cls


def test_load_checks_type_and_file(small: F32, tmp_path: Path) -> None:
    path = tmp_path / "flat.ruv"
    ruvector.FlatF32Index.build(small).save(path)
    with pytest.raises(TypeError, match="FlatF32Index"):
        ruvector.RabitqPlusIndex.load(path)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    bad = tmp_path / "bad.ruv"
    bad.write_bytes(bytes(raw))
    with pytest.raises(ruvector.PersistError):
        ruvector.FlatF32Index.load(bad)
    with pytest.raises(ruvector.NotFoundError, match="missing.ruv"):
        ruvector.FlatF32Index.load(tmp_path / "missing.ruv")
    with pytest.raises(ruvector.RuVectorError):
        ruvector.FlatF32Index.build(small).save(tmp_path / "no" / "such" / "dir" / "x.ruv")


# ---- stored vectors ----


@pytest.mark.parametrize("cls", WITH_ORIGINALS)
def test_getitem_iteration_and_asarray(cls: AnyIndexClass, small: F32) -> None:
    ids = np.arange(len(small), dtype=np.int64)[::-1].copy()
    idx = cls.build(small, ids=ids)
    np.testing.assert_array_equal(idx[int(ids[10])], small[10])
    with pytest.raises(LookupError):
        idx[10**9]
    with pytest.raises(ruvector.NotFoundError):
        idx[-1]
    items = list(idx)
    assert len(items) == len(small)
    assert isinstance(items[0], ruvector.IndexItem)
    by_id = {it.id: it.vector for it in items}
    np.testing.assert_array_equal(by_id[int(ids[3])], small[3])

    view = np.asarray(idx)
    assert view.shape == small.shape and view.dtype == np.float32
    assert not view.flags.writeable  # a view of the index's own memory
    np.testing.assert_array_equal(view[np.argsort(idx.ids)], small[np.argsort(ids)])
    with pytest.raises(BufferError):
        idx.add([10**6], small[:1])  # would free memory under the view
    with pytest.raises(BufferError):
        idx.remove([0])
    copy = np.array(idx)
    del view
    gc.collect()
    idx.add([10**6], small[:1])  # allowed again once the view is gone
    assert copy.flags.writeable and copy.shape == small.shape
    as64 = np.asarray(idx, dtype=np.float64)
    assert as64.dtype == np.float64


@pytest.mark.parametrize("cls", CODES_ONLY)
def test_codes_only_indexes_refuse_vector_access(cls: AnyIndexClass, small: F32) -> None:
    idx = cls.build(small)
    with pytest.raises(LookupError):
        idx[0]
    with pytest.raises(ruvector.OriginalsNotStored):
        iter(idx).__next__()
    with pytest.raises(LookupError):
        np.asarray(idx)
    with pytest.raises(ruvector.UnsupportedError):
        idx.ids


# ---- equality and display ----


@pytest.mark.parametrize("cls", ALL)
def test_equality_is_same_data_and_seed(cls: AnyIndexClass, small: F32) -> None:
    a = cls.build(small, seed=5)
    b = cls.build(small, seed=5)
    c = cls.build(small, seed=6)
    d = cls.build(small[:-1], seed=5)
    assert a == b
    assert a != d
    if cls is not ruvector.FlatF32Index:
        assert a != c  # another rotation
    assert a != "not an index"
    with pytest.raises(TypeError):
        hash(a)


def test_repr_is_diagnostic(small: F32) -> None:
    idx = ruvector.RabitqPlusIndex.build(small, nlist=16, seed=9)
    r = repr(idx)
    for part in ("RabitqPlusIndex(", f"n={len(small)}", "dim=32", "metric='l2'", "nlist=16",
                 "seed=9", "memory_bytes=", "kernel="):
        assert part in r, (part, r)


def test_build_parameters_are_recorded(small: F32) -> None:
    idx = ruvector.RabitqIndex.build(small, bits=4, nlist=8, query_bits=6, seed=3, epsilon=2.0)
    p = idx.params
    assert (p["type"], p["bits"], p["nlist"], p["query_bits"], p["seed"]) == ("rabitq", 4, 8, 6, 3)
    assert math.isclose(p["epsilon"], 2.0)
    with pytest.raises(ruvector.InvalidArgument, match="bits"):
        ruvector.RabitqIndex.build(small, bits=9)
    with pytest.raises(ruvector.InvalidArgument, match="metric|l3"):
        ruvector.FlatF32Index.build(small, metric="l3")


def test_extension_checks_arrays_itself(small: F32) -> None:
    # The Python layer words the errors; the extension still refuses anything
    # it cannot read safely, so no bug upstream can hand it a bad pointer.
    h = ruvector.FlatF32Index.build(small)._h
    with pytest.raises(TypeError, match="float32"):
        h.search(small[0].astype(np.float64), 1)
    with pytest.raises(TypeError, match="C-contiguous"):
        h.search(np.zeros((32, 2), np.float32)[:, 0], 1)
    with pytest.raises(TypeError, match="1-D"):
        h.search(small[:2], 1)
    with pytest.raises(TypeError, match="NumPy array"):
        h.search([0.0] * 32, 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="writable"):
        out = np.zeros(32, np.float32)
        out.flags.writeable = False
        h.get(0, out)
    with pytest.raises(TypeError, match="64-bit integer"):
        h.remove(np.array([1, 2], dtype=np.int32))
