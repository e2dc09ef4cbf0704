"""Ids are unsigned 64-bit end to end (issue 13, item 6): ids >= 2**63 as
Python ints and numpy uint64 go in, come back from search, search_batch,
ids, iteration, indexing, contains, remove and a save/load round trip, and
2**64-1 is never taken for "no result"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import ruvector
from conftest import ALL, AnyIndexClass

TOP = 2**64 - 1
BIG = [TOP, 2**63, 2**63 + 12345, 7]


def _data(n: int = 4, dim: int = 8) -> "np.ndarray[tuple[int, ...], np.dtype[np.float32]]":
    rng = np.random.default_rng(3)
    return rng.standard_normal((n, dim)).astype(np.float32)


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("as_numpy", [False, True])
def test_high_ids_round_trip(cls: AnyIndexClass, as_numpy: bool, tmp_path: Path) -> None:
    data = _data()
    ids = np.array(BIG, dtype=np.uint64) if as_numpy else BIG
    idx = cls.build(data, ids=ids)
    for row, want in enumerate(BIG):
        hits = idx.search(data[row], 1)
        assert hits[0].id == want and isinstance(hits[0].id, int)
    got, scores, counts = idx.search_batch(data, 4, return_counts=True)
    assert got.dtype == np.uint64
    assert counts.tolist() == [4, 4, 4, 4]
    assert not np.isnan(scores).any()
    assert [int(got[r, 0]) for r in range(4)] == BIG
    assert sorted(int(v) for v in got[0]) == sorted(BIG)
    # a filter of high ids, as ints and as uint64
    only = idx.search(data[1], 4, filter=[TOP, 2**63])
    assert {h.id for h in only} == {TOP, 2**63}
    only_np = idx.search(data[1], 4, filter=np.array([TOP], dtype=np.uint64))
    assert [h.id for h in only_np] == [TOP]
    path = tmp_path / "high.idx"
    idx.save(path)
    loaded = ruvector.load_index(path)
    assert [loaded.search(data[r], 1)[0].id for r in range(4)] == BIG
    assert idx.remove([TOP, 2**63]) == 2
    assert len(idx) == 2
    left, _, n = idx.search_batch(data[:1], 4, return_counts=True)
    assert int(n[0]) == 2 and set(int(v) for v in left[0, :2]) == {2**63 + 12345, 7}


@pytest.mark.parametrize("cls", [ruvector.FlatF32Index, ruvector.RabitqPlusIndex])
def test_high_ids_get_contains_iterate(cls: AnyIndexClass) -> None:
    data = _data()
    idx = cls.build(data, ids=BIG, metric="l2")
    assert idx.ids.dtype == np.uint64 and idx.ids.tolist() == BIG
    assert TOP in idx and 2**63 in idx and 2**63 + 1 not in idx
    np.testing.assert_array_equal(idx[TOP], data[0])
    np.testing.assert_array_equal(idx[np.uint64(2**63)], data[1])
    assert [item.id for item in idx] == BIG
    with pytest.raises(ruvector.NotFoundError):
        idx[2**64]
    idx.add(ids=np.array([2**64 - 2], dtype=np.uint64), vectors=data[:1] + 1)
    assert 2**64 - 2 in idx


def test_empty_slots_are_nan_not_an_id() -> None:
    data = _data(2)
    idx = ruvector.FlatF32Index.build(data, ids=[TOP, 1])
    ids, scores, counts = idx.search_batch(data, 5, return_counts=True)
    assert counts.tolist() == [2, 2]
    # a real hit with id 2**64-1 has a score; the padding has NaN
    assert int(ids[0, 0]) == TOP and not np.isnan(scores[0, 0])
    assert np.isnan(scores[:, 2:]).all()


def test_batch_output_beyond_memory_is_a_memory_error() -> None:
    import os

    mem = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    idx = ruvector.FlatF32Index.build(_data(16, 4))
    queries = np.zeros((1000, 4), np.float32)
    k = mem // (12 * 1000) + 1
    with pytest.raises(MemoryError) as info:
        idx.search_batch(queries, k)
    assert isinstance(info.value, ruvector.OutOfMemory)
    assert "more than this machine's" in str(info.value)
