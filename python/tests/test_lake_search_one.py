"""RuLake.search_one's own path (session 9): one C call that searches and
builds the LakeSearchResult tuples itself, instead of search's output
arrays turned into hits in Python. The hits must be what the general path
gives (ids and score bits), be ordinary LakeSearchResult tuples, and the
errors keep their classes and attributes."""

from __future__ import annotations

import gc
import pickle
import sys
import threading
from typing import List, Tuple

import numpy as np
import numpy.typing as npt
import pytest

import ruvector
from ruvector import Consistency, LakeSearchResult, LocalBackend, RuLake

from lake_support import needs_rulake

pytestmark = needs_rulake

F32 = npt.NDArray[np.float32]


def rows(n: int, dim: int, seed: int) -> Tuple[npt.NDArray[np.uint64], F32]:
    rng = np.random.default_rng(seed)
    ids = np.unique(rng.integers(0, 2**63, size=2 * n, dtype=np.uint64))[:n]
    rng.shuffle(ids)
    ids[0] = np.uint64(2**64 - 1)  # the full id range reaches the hits
    return ids, rng.standard_normal((n, dim), dtype=np.float32)


def lake_for(mode: Consistency, metric: str = "l2") -> RuLake:
    b = RuLake.builder().consistency(mode).metric(metric)
    if mode == Consistency.EVENTUAL:
        b = b.ttl_ms(600_000)
    return b.build()


@pytest.mark.parametrize("mode", [Consistency.FRESH, Consistency.EVENTUAL, Consistency.STALE])
@pytest.mark.parametrize("metric", ["l2", "ip", "cosine"])
def test_hits_equal_the_general_path_bit_for_bit(mode: Consistency, metric: str) -> None:
    ids, vecs = rows(150, 12, 1)
    be = LocalBackend("b")
    be.upsert("c", ids, vecs)
    qs = np.random.default_rng(2).standard_normal((6, 12), dtype=np.float32)
    with lake_for(mode, metric) as lake:
        lake.register_backend(be)
        # 64 hits fit the C side's stack buffer, 65 do not; 200 > the rows.
        for k in (1, 10, 64, 65, 200):
            for rf in (None, 1, 7):
                want_ids, want_scores = lake.search_batch("c", qs, k=k, rerank_factor=rf)
                for i, q in enumerate(qs):
                    got = lake.search_one("c", q, k=k, rerank_factor=rf)
                    n = int((~np.isnan(want_scores[i])).sum())
                    assert len(got) == n == min(k, 150)
                    assert [h.id for h in got] == [int(x) for x in want_ids[i, :n]]
                    got_bits = np.array([h.score for h in got], dtype=np.float32).view(np.uint32)
                    assert np.array_equal(got_bits, want_scores[i, :n].view(np.uint32))
                    assert all(h.backend == "b" and h.collection == "c" for h in got)
        # and the federated path (another merge) agrees on one target
        fed = lake.search_federated("c", qs[0], k=10, targets=[("b", "c")])
        assert list(fed) == lake.search_one("c", qs[0], k=10)


def test_hits_are_ordinary_named_tuples() -> None:
    ids, vecs = rows(40, 4, 3)
    be = LocalBackend("shard-1")  # a non-ASCII collection goes through UTF-8 and back
    be.upsert("docs/ü", ids, vecs)
    with RuLake.builder().build() as lake:
        lake.register_backend(be)
        hits = lake.search_one("docs/ü", vecs[5], k=3)
        h = hits[0]
        assert type(hits) is list and type(h) is LakeSearchResult
        assert (h.backend, h.collection, h.id) == ("shard-1", "docs/ü", int(ids[5]))
        assert type(h.id) is int and type(h.score) is float
        plain = tuple(h)
        assert h == plain and hash(h) == hash(plain) and len(h) == 4
        assert {h: 1}[plain] == 1
        assert h._replace(score=0.0).score == 0.0 and h._asdict()["id"] == int(ids[5])
        assert pickle.loads(pickle.dumps(h)) == h
        assert repr(h).startswith("LakeSearchResult(backend='shard-1', collection='docs/ü'")


def test_no_reference_is_leaked_or_lost() -> None:
    """Names go into every hit: their counts come back to where they were
    once the hits are dropped (a missing or extra incref shows here)."""
    ids, vecs = rows(100, 8, 4)
    be = LocalBackend("b")
    be.upsert("coll", ids, vecs)
    coll = "".join(["co", "ll"])  # a str of our own, not an interned constant
    with RuLake.builder().build() as lake:
        lake.register_backend(be)
        lake.search_one(coll, vecs[0], k=10)
        gc.collect()
        before = sys.getrefcount(coll)
        kept: List[List[LakeSearchResult]] = [lake.search_one(coll, q, k=10) for q in vecs[:50]]
        assert sys.getrefcount(coll) == before + 500
        del kept
        for q in vecs[:50]:
            lake.search_one(coll, q, k=10)
        with pytest.raises(ruvector.UnknownCollection):
            lake.search_one(coll + "-missing", vecs[0])
        gc.collect()
        assert sys.getrefcount(coll) == before


def test_errors_keep_their_classes_and_attributes() -> None:
    ids, vecs = rows(30, 4, 5)
    be = LocalBackend("b")
    be.upsert("c", ids, vecs)
    lake = RuLake.builder().build()
    lake.register_backend(be)
    with pytest.raises(ruvector.UnknownCollection) as nf:
        lake.search_one("zzz", vecs[0])
    assert (nf.value.backend, nf.value.collection) == ("b", "zzz")
    with pytest.raises(ruvector.DimensionMismatch):
        lake.search_one("c", vecs[0, :3])
    with pytest.raises(TypeError, match="float32"):
        lake.search_one("c", vecs[0].astype(np.float64))
    with pytest.raises(ValueError, match="1-D"):
        lake.search_one("c", vecs[:2])
    with pytest.raises(ValueError, match="k must be >= 1"):
        lake.search_one("c", vecs[0], k=0)
    with pytest.raises(ValueError, match="rerank_factor"):
        lake.search_one("c", vecs[0], rerank_factor=0)
    with pytest.raises(ruvector.CacheMissError):
        lake.search_one("c", vecs[0], prime=False)
    assert lake.search_one("c", vecs[0], k=1)[0].id == int(ids[0])
    assert ("b", "c") in lake and ("b", "zzz") not in lake
    lake.close()
    with pytest.raises(ValueError, match="closed"):
        lake.search_one("c", vecs[0])


def test_the_extension_checks_its_arguments() -> None:
    ids, vecs = rows(30, 4, 6)
    be = LocalBackend("b")
    be.upsert("c", ids, vecs)
    with RuLake.builder().build() as lake:
        lake.register_backend(be)
        h = lake._h
        with pytest.raises(TypeError, match="tuple subclass"):
            h.search_one("b", "c", vecs[0], 3, 0, 0, int)
        with pytest.raises(ValueError, match="k must be >= 1"):
            h.search_one("b", "c", vecs[0], 0, 0, 0, LakeSearchResult)
        with pytest.raises(TypeError):
            h.search_one(None, "c", vecs[0], 3, 0, 0, LakeSearchResult)
        with pytest.raises(TypeError, match="NumPy array"):
            h.search_one("b", "c", [1.0, 2.0, 3.0, 4.0], 3, 0, 0, LakeSearchResult)
        got = h.search_one("b", "c", vecs[7], 3, 0, 0, tuple)  # a plain tuple works too
        assert type(got[0]) is tuple and got[0][:3] == ("b", "c", int(ids[7]))


def test_threads_search_one_while_others_invalidate() -> None:
    ids, vecs = rows(300, 8, 7)
    be = LocalBackend("b")
    be.upsert("c", ids, vecs)
    errors: List[BaseException] = []
    with RuLake.builder().build() as lake:
        lake.register_backend(be)
        want = {i: lake.search_one("c", vecs[i], k=5) for i in range(20)}
        stop = threading.Event()

        def searcher() -> None:
            try:
                for r in range(150):
                    i = r % 20
                    assert lake.search_one("c", vecs[i], k=5) == want[i]
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        def invalidator() -> None:
            while not stop.is_set():
                lake.invalidate_cache(("b", "c"))

        ts = [threading.Thread(target=searcher) for _ in range(4)]
        inv = threading.Thread(target=invalidator)
        inv.start()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        stop.set()
        inv.join()
    assert not errors, errors


def test_an_emptied_collection_gives_no_hits() -> None:
    be = LocalBackend("b")
    be.upsert("c", np.arange(3, dtype=np.uint64), np.ones((3, 4), dtype=np.float32))
    be.delete("c", np.arange(3, dtype=np.uint64))
    with RuLake.builder().build() as lake:
        lake.register_backend(be)
        assert lake.search_one("c", np.ones(4, dtype=np.float32), k=5) == []
        assert ("b", "c") in lake
