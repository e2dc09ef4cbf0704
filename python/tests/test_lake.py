"""ruvector.RuLake over LocalBackend and FsBackend (rulake.md §4, §5, §7, §8).

Needs the `rulake` plugin where the engine finds plugins (the core wheel,
or RUVECTOR_PLUGIN_PATH pointing at a build tree's plugins/rulake/.libs);
the whole module is skipped, saying so, when it cannot be loaded."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable, List, Optional, Tuple

import numpy as np
import numpy.typing as npt
import pytest

import ruvector
from ruvector import Consistency, FsBackend, LocalBackend, RuLake

from lake_support import needs_rulake

F32 = npt.NDArray[np.float32]


pytestmark = needs_rulake


def rows(n: int, dim: int, seed: int) -> Tuple[npt.NDArray[np.uint64], F32]:
    rng = np.random.default_rng(seed)
    ids = (np.arange(n, dtype=np.uint64) * np.uint64(3)) + np.uint64(1)
    return ids, rng.standard_normal((n, dim), dtype=np.float32)


def lake_with(*backends: "LocalBackend | FsBackend | ruvector.BackendAdapter",
              consistency: Consistency = Consistency.FRESH,
              ttl_ms: Optional[int] = None, max_cache_bytes: Optional[int] = None) -> RuLake:
    b = RuLake.builder().consistency(consistency)
    if ttl_ms is not None:
        b = b.ttl_ms(ttl_ms)
    if max_cache_bytes is not None:
        b = b.max_cache_bytes(max_cache_bytes)
    lake = b.build()
    for x in backends:
        lake.register_backend(x)
    return lake


def test_search_one_matches_a_direct_index() -> None:
    ids, vecs = rows(2000, 24, 1)
    hot = LocalBackend("hot-shard")
    hot.upsert("docs", ids, vecs)
    with lake_with(hot) as lake:
        # The lake's defaults: bits and nlist from the engine's plan.
        idx = ruvector.RabitqPlusIndex.build(vecs, ids=ids, seed=42, rerank_factor=20)
        for q in vecs[:5]:
            got = lake.search_one("docs", q, k=10)
            want = idx.search(q, 10, rerank_factor=20)
            assert [h.id for h in got] == [h.id for h in want]
            assert [h.score for h in got] == [h.score for h in want]
            assert all(h.backend == "hot-shard" and h.collection == "docs" for h in got)
        s = lake.cache_stats()
        assert (s.primes, s.misses, s.hits) == (1, 1, 4)
        assert s.bytes > vecs.nbytes and s.entries == 1
        assert ("hot-shard", "docs") in lake and ("hot-shard", "nope") not in lake
        w2 = lake.cache_witness_of(("hot-shard", "docs"))
        assert w2 is not None and len(w2) == 64


def test_spec_witnesses_through_python() -> None:
    hot = LocalBackend("hot-shard")
    hot.upsert("docs", [7, 42, 99, 2000],
               np.array([[1, 2, 3, 4], [0.5, -0.5, 0.25, -0.25], [-1, -2, -3, -4],
                         [8, 16, 32, 64]], dtype=np.float32))
    with lake_with(hot) as lake:
        lake.search_one("docs", [1, 2, 3, 4], k=1)
        assert lake.cache_witness_of(("hot-shard", "docs"), version=1) == (
            "cfbc83a2e5561551db0843faa85b920d5bb6fa01f6b7190c61e32db7b9b0d365")
        assert lake.cache_witness_of(("hot-shard", "docs")) == (
            "2f92ba472c8cd0a4dd6274fc67857aa0d567096be766d20148d0ea132dae1076")


def test_search_batch_equals_search_one_and_ids_are_uint64() -> None:
    ids, vecs = rows(500, 8, 2)
    ids[-1] = np.uint64(2**64 - 1)
    hot = LocalBackend("h")
    hot.upsert("c", ids, vecs)
    with lake_with(hot) as lake:
        got_ids, got_scores = lake.search_batch("c", vecs[-4:], k=3)
        assert got_ids.dtype == np.uint64 and got_ids.shape == (4, 3)
        assert int(got_ids[3, 0]) == 2**64 - 1
        for i in range(4):
            one = lake.search_one("c", vecs[-4 + i], k=3)
            assert [h.id for h in one] == [int(x) for x in got_ids[i]]
            assert np.array_equal(np.array([h.score for h in one], dtype=np.float32),
                                  got_scores[i])
        more_ids, more_scores = lake.search_batch("c", vecs[:1], k=600)
        assert np.isnan(more_scores[0, 500:]).all()
        assert (more_ids[0, 500:] == np.uint64(2**64 - 1)).all()


def test_bad_queries_are_refused_before_any_prime() -> None:
    hot = LocalBackend("h")
    hot.upsert("c", *rows(10, 4, 3))
    with lake_with(hot) as lake:
        with pytest.raises(ValueError, match="k must be >= 1"):
            lake.search_one("c", [0, 0, 0, 0], k=0)
        with pytest.raises(ruvector.DimensionMismatch, match="has dim 4, the query has 3"):
            lake.search_one("c", [0, 0, 0], k=1)
        assert lake.cache_stats().misses == 0
        with pytest.raises(ruvector.UnknownBackend):
            lake.search_one("c", [0, 0, 0, 0], backend="nope")
        with pytest.raises(ruvector.UnknownCollection) as e:
            lake.search_one("zzz", [0, 0, 0, 0])
        assert isinstance(e.value, LookupError) and isinstance(e.value, ruvector.LakeError)
        with pytest.raises(ruvector.CacheMissError):
            lake.search_one("c", [0, 0, 0, 0], prime=False)
        assert lake.cache_stats().misses == 0


def test_consistency_modes() -> None:
    for mode in Consistency:
        hot = LocalBackend("h")
        hot.upsert("c", [1], [[1.0, 0.0]])
        ttl = 3_600_000 if mode == Consistency.EVENTUAL else None
        with lake_with(hot, consistency=mode, ttl_ms=ttl) as lake:
            assert lake.search_one("c", [0, 0])[0].score == 1.0
            hot.upsert("c", [1], [[3.0, 0.0]])
            score = lake.search_one("c", [0, 0])[0].score
            if mode == Consistency.FRESH:
                assert score == 9.0
            else:
                assert score == 1.0
                assert lake.cache_stats().skipped == 1
                assert lake.invalidate_cache(("h", "c")) is True
                assert lake.search_one("c", [0, 0])[0].score == 9.0
    with pytest.raises(ValueError, match="EVENTUAL"):
        RuLake.builder().ttl_ms(5).build()


def test_federation_partial_and_dedupe(tmp_path: Path) -> None:
    ids, vecs = rows(300, 8, 4)
    a, b = LocalBackend("a"), LocalBackend("b")
    a.upsert("docs", ids[:150], vecs[:150])
    b.upsert("docs", ids[150:], vecs[150:])
    both = LocalBackend("both")
    both.upsert("docs", ids, vecs)
    with lake_with(a, b) as lake, lake_with(both) as whole:
        q = vecs[200]
        fed = lake.search_federated("docs", q, k=10)
        assert fed.complete and not fed.errors
        assert [h.id for h in fed] == [h.id for h in whole.search_one("docs", q, k=10)]
        assert fed[0].backend == "b" and fed[0].id == int(ids[200])
        # The same ids in two targets: dedupe keeps one of each.
        dup = lake.search_federated("docs", q, k=10, targets=[("b", "docs"), ("b", "docs")])
        assert len({h.id for h in dup}) == 10
        # A missing collection on one explicit target: raise by default, partial on request.
        a.drop_collection("docs")
        with pytest.raises(ruvector.UnknownCollection, match="backend 'a' collection 'docs'"):
            lake.search_federated("docs", q, k=5, targets=[("a", "docs"), ("b", "docs")])
        part = lake.search_federated("docs", q, k=5, targets=[("a", "docs"), ("b", "docs")],
                                     on_error="partial")
        assert not part.complete and list(part.errors) == [("a", "docs")]
        assert len(part) == 5
        # Implicit targets skip backends that lack the collection.
        assert lake.search_federated("docs", q, k=5).complete


def test_federation_dedupe_ids() -> None:
    ids, vecs = rows(50, 4, 5)
    a, b = LocalBackend("a"), LocalBackend("b")
    a.upsert("docs", ids, vecs)
    b.upsert("docs", ids, vecs)
    with lake_with(a, b) as lake:
        plain = lake.search_federated("docs", vecs[0], k=6)
        assert len({h.id for h in plain}) < 6  # each id from both backends
        dd = lake.search_federated("docs", vecs[0], k=6, dedupe_ids=True)
        assert len({h.id for h in dd}) == 6


def test_fs_backend_sees_every_write(tmp_path: Path) -> None:
    ids, vecs = rows(64, 4, 6)
    fs = FsBackend("disk", tmp_path)
    fs.write("docs.ruvec2", ids, vecs)
    fs.register("docs", "docs.ruvec2")
    with lake_with(fs) as lake:
        q = vecs[3].copy()
        assert lake.search_one("docs", q, k=1)[0].id == int(ids[3])
        vecs[3] += 1.0  # rewritten within the same second, same size
        fs.write("docs.ruvec2", ids, vecs)
        assert lake.search_one("docs", q, k=1)[0].score > 1e-3
        assert lake.cache_stats().primes == 2


def test_eviction_by_bytes() -> None:
    hot = LocalBackend("h")
    ids, vecs = rows(1000, 16, 7)
    for c in range(3):
        vecs[0, 0] = c
        hot.upsert(f"c{c}", ids, vecs)
    with lake_with(hot) as probe:
        probe.search_one("c0", vecs[1])
        one = probe.cache_stats().bytes
    with lake_with(hot, max_cache_bytes=one * 2 + one // 2) as lake:
        for c in (0, 1, 0, 2):
            lake.search_one(f"c{c}", vecs[1])
        s = lake.cache_stats()
        assert s.evictions == 1 and s.entries == 2 and s.bytes <= one * 2 + one // 2
        assert ("h", "c1") not in lake and ("h", "c0") in lake
        per = lake.cache_stats_by_collection()
        assert per[("h", "c1")].evictions == 1
        assert lake.cache_stats_by_backend()["h"].primes == 3


def test_threads_search_while_others_invalidate() -> None:
    hot = LocalBackend("h")
    ids, vecs = rows(400, 8, 8)
    hot.upsert("c", ids, vecs)
    lake = lake_with(hot)
    bad: List[str] = []
    stop = threading.Event()

    def search() -> None:
        for i in range(100):
            hits = lake.search_one("c", vecs[i % 50], k=1)
            if hits[0].id != int(ids[i % 50]):
                bad.append(f"query {i}: {hits[0]}")

    def invalidate() -> None:
        while not stop.is_set():
            lake.invalidate_cache(("h", "c"))

    ts = [threading.Thread(target=search) for _ in range(3)]
    inv = threading.Thread(target=invalidate)
    inv.start()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    stop.set()
    inv.join()
    assert not bad
    s = lake.cache_stats()
    assert s.hits + s.misses == 300
    lake.close()
    lake.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        lake.search_one("c", vecs[0])


def test_register_errors() -> None:
    with lake_with(LocalBackend("x")) as lake:
        with pytest.raises(ValueError, match="already registered"):
            lake.register_backend(LocalBackend("x"))
        with pytest.raises(ruvector.InvalidArgument):
            LocalBackend("bad name")
        with pytest.raises(ruvector.UnknownCollection):
            LocalBackend("y").drop_collection("nope")


_SAVER = r"""
import json, os, signal, sys
import numpy as np
import ruvector
root, cache = sys.argv[1], sys.argv[2]
ids = np.array([7, 42, 99, 2000, 2**64 - 1], dtype=np.uint64)
vecs = np.arange(20, dtype=np.float32).reshape(5, 4) * np.float32(0.37)
fs = ruvector.FsBackend("disk", root)
fs.write("docs.ruvec2", ids, vecs)
fs.register("docs", "docs.ruvec2")
lake = ruvector.RuLake.builder().build()
lake.register_backend(fs)
out = []
for q in vecs:
    out.append([(h.id, float(np.float32(h.score).view(np.uint32))) for h in lake.search_one("docs", q, k=5)])
lake.save_cache_to_dir(("disk", "docs"), cache)
print(json.dumps(out), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_warm_restart_after_sigkill(tmp_path: Path) -> None:
    """test_warm_restart: prime an FsBackend key with sparse ids, save,
    SIGKILL the process; a new process warms: same ids and score bits, no
    prime and no miss."""
    import json
    import os
    import subprocess
    import sys

    root, cache = tmp_path / "fs", tmp_path / "cache"
    root.mkdir()
    p = subprocess.run([sys.executable, "-c", _SAVER, str(root), str(cache)],
                       capture_output=True, text=True, env=dict(os.environ), timeout=300)
    assert p.returncode == -9, p.stderr
    want = json.loads(p.stdout)
    fs = FsBackend("disk", root)
    fs.register("docs", "docs.ruvec2")
    with lake_with(fs) as lake:
        assert lake.warm_from_dir(("disk", "docs"), cache) == 5
        vecs = np.arange(20, dtype=np.float32).reshape(5, 4) * np.float32(0.37)
        for q, w in zip(vecs, want):
            got = [(h.id, float(np.float32(h.score).view(np.uint32)))
                   for h in lake.search_one("docs", q, k=5)]
            assert got == [tuple(x) for x in w]
        assert any(h.id == 2**64 - 1 for h in lake.search_one("docs", vecs[4], k=1))
        s = lake.cache_stats()
        assert (s.primes, s.misses, s.warm_installs) == (0, 0, 1)


def test_publish_refresh_roundtrip(tmp_path: Path) -> None:
    ids, vecs = rows(200, 8, 9)
    hot = LocalBackend("hot")
    hot.upsert("docs", ids, vecs)
    hot.upsert("other", ids, vecs)
    with lake_with(hot) as pub, lake_with(hot) as reader, lake_with(hot) as cold:
        pub.search_one("docs", vecs[0])
        pub.search_one("other", vecs[0])
        w = pub.save_cache_to_dir(("hot", "docs"), tmp_path / "docs")
        pub.save_cache_to_dir(("hot", "other"), tmp_path / "other")
        assert w == pub.cache_witness_of(("hot", "docs"))
        reader.search_one("docs", vecs[0])
        R = ruvector.RefreshResult
        assert reader.refresh_from_bundle_dir(("hot", "docs"), tmp_path / "docs") == R.UP_TO_DATE
        assert cold.refresh_from_bundle_dir(("hot", "docs"), tmp_path / "docs") == R.NOT_CACHED
        assert reader.refresh_from_bundle_dir(("hot", "docs"), tmp_path / "other") == R.FOREIGN
        assert reader.refresh_from_bundle_dir(("hot", "docs"), tmp_path / "x") == R.BUNDLE_MISSING
        hot.upsert("docs", ids[:1], vecs[:1] + 1)
        pub.search_one("docs", vecs[0])
        pub.save_cache_to_dir(("hot", "docs"), tmp_path / "docs")
        assert reader.refresh_from_bundle_dir(("hot", "docs"), tmp_path / "docs") == R.INVALIDATED
        assert ("hot", "docs") not in reader
        assert cold.cache_stats().misses == 0
        with pytest.raises(ruvector.UnknownCollection):
            cold.save_cache_to_dir(("hot", "docs"), tmp_path / "nothing")
    # Seeds 1 and 2: FOREIGN, nothing invalidated.
    s1 = RuLake.builder().rotation_seed(1).build()
    s2 = RuLake.builder().rotation_seed(2).build()
    for lk in (s1, s2):
        lk.register_backend(hot)
        lk.search_one("docs", vecs[0])
    s2.save_cache_to_dir(("hot", "docs"), tmp_path / "s2")
    assert s1.refresh_from_bundle_dir(("hot", "docs"), tmp_path / "s2") == ruvector.RefreshResult.FOREIGN
    assert ("hot", "docs") in s1
    with pytest.raises(ruvector.InvalidArgument, match="rotation_seed"):
        s1.warm_from_dir(("hot", "docs"), tmp_path / "s2")
    s1.close()
    s2.close()


class _ListBackend(ruvector.BackendAdapter):
    """A Python backend over in-memory arrays; records its calls and their threads."""

    def __init__(self, name: str, ids: npt.NDArray[np.uint64], vecs: F32) -> None:
        super().__init__(name)
        self.ids, self.vecs, self.gen = ids, vecs, 1
        self.calls: List[Tuple[str, int]] = []
        self.fail: Exception | None = None

    def describe(self, collection: str) -> ruvector.CollectionInfo:
        self.calls.append(("describe", threading.get_ident()))
        if collection != "docs":
            raise KeyError(collection)
        return ruvector.CollectionInfo(f"py://{self.name}/{collection}", self.vecs.shape[1], self.gen)

    def pull_vectors(self, collection: str) -> ruvector.PulledBatch:
        self.calls.append(("pull", threading.get_ident()))
        if self.fail is not None:
            raise self.fail
        return ruvector.PulledBatch(self.ids, self.vecs, self.describe(collection))


def test_python_backend_adapter() -> None:
    """test_python_backend_adapter: called on a miss (from pool threads in a
    federation); its exception reaches the caller as BackendError with
    __cause__; a LookupError is UnknownCollection."""
    ids, vecs = rows(300, 8, 10)
    a = _ListBackend("py-a", ids[:150].copy(), vecs[:150].copy())
    b = _ListBackend("py-b", ids[150:].copy(), vecs[150:].copy())
    ref = LocalBackend("ref")
    ref.upsert("docs", ids, vecs)
    with lake_with(a, b) as lake, lake_with(ref) as whole:
        hits = lake.search_one("docs", vecs[3], k=5, backend="py-a")
        assert hits[0].id == int(ids[3]) and hits[0].backend == "py-a"
        assert [c[0] for c in a.calls] == ["describe", "pull", "describe"]
        fed = lake.search_federated("docs", vecs[200], k=10)
        assert [h.id for h in fed] == [h.id for h in whole.search_one("docs", vecs[200], k=10)]
        # A change of generation is seen (FRESH) and pulled again.
        b.vecs = b.vecs + np.float32(100.0)
        b.gen = 2
        b.fail = RuntimeError("the store is down")
        with pytest.raises(ruvector.BackendError) as e:
            lake.search_one("docs", vecs[200], backend="py-b")
        assert isinstance(e.value.__cause__, RuntimeError)
        assert "the store is down" in str(e.value)
        assert (e.value.backend, e.value.collection) == ("py-b", "docs")
        part = lake.search_federated("docs", vecs[3], k=3, on_error="partial")
        assert list(part.errors) == [("py-b", "docs")]
        assert isinstance(part.errors[("py-b", "docs")].__cause__, RuntimeError)
        assert part[0].id == int(ids[3])
        with pytest.raises(ruvector.UnknownCollection):
            lake.search_one("nope", vecs[0], backend="py-a")
        b.fail = None
        assert lake.search_one("docs", b.vecs[0], backend="py-b")[0].id == int(ids[150])
        s = lake.cache_stats_by_backend()
        assert s["py-b"].primes == 2 and s["py-b"].prime_failures == 2


def test_backend_adapter_threads() -> None:
    """Searches from several Python threads on a cold Python backend: one
    pull (single-flight), every answer right."""
    ids, vecs = rows(200, 8, 11)
    a = _ListBackend("py", ids, vecs)
    lake = lake_with(a)
    bad: List[str] = []

    def run() -> None:
        for i in range(20):
            if lake.search_one("docs", vecs[i], k=1)[0].id != int(ids[i]):
                bad.append(str(i))

    ts = [threading.Thread(target=run) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not bad
    assert [c[0] for c in a.calls].count("pull") == 1
    lake.close()


def test_search_one_async_in_event_loop() -> None:
    """test_search_one_async_in_event_loop (results part; the timing ratio
    is bench/'s T3): 100 concurrent calls in one loop equal the sync ones."""
    import asyncio

    ids, vecs = rows(1000, 16, 12)
    hot = LocalBackend("h")
    hot.upsert("c", ids, vecs)
    with lake_with(hot) as lake:
        want = [[h.id for h in lake.search_one("c", vecs[i], k=5)] for i in range(100)]

        async def main() -> List[List[int]]:
            res = await asyncio.gather(*(lake.search_one_async("c", vecs[i], k=5)
                                         for i in range(100)))
            return [[h.id for h in r] for r in res]

        assert asyncio.run(main()) == want
        b_ids, b_scores = asyncio.run(lake.search_batch_async("c", vecs[:4], k=3))
        s_ids, s_scores = lake.search_batch("c", vecs[:4], k=3)
        assert np.array_equal(b_ids, s_ids) and np.array_equal(b_scores, s_scores)
        fed = asyncio.run(lake.search_federated_async("c", vecs[7], k=3))
        assert fed.complete and fed[0].id == int(ids[7])

        async def errors() -> None:
            with pytest.raises(ValueError):
                await lake.search_one_async("c", vecs[0], k=0)
            with pytest.raises(ruvector.DimensionMismatch):
                await lake.search_one_async("c", vecs[0][:3], k=1)
            with pytest.raises(ruvector.UnknownCollection):
                await lake.search_one_async("nope", vecs[0])

        asyncio.run(errors())


def test_async_cancel_and_backend_errors() -> None:
    """A request queued behind one held in a Python backend's pull can be
    cancelled; the held one finishes; a failing Python backend's exception
    is the __cause__ of the BackendError the awaiting task gets."""
    import asyncio

    ids, vecs = rows(100, 8, 13)
    gate = threading.Event()

    class Held(_ListBackend):
        def pull_vectors(self, collection: str) -> ruvector.PulledBatch:
            gate.wait(30)
            return super().pull_vectors(collection)

    a = Held("held", ids, vecs)
    with lake_with(a) as lake:
        async def main() -> List[int]:
            first = asyncio.ensure_future(lake.search_one_async("docs", vecs[0], k=1))
            second = asyncio.ensure_future(lake.search_one_async("docs", vecs[1], k=1))
            await asyncio.sleep(0.05)
            second.cancel()
            gate.set()
            with pytest.raises(asyncio.CancelledError):
                await second
            return [h.id for h in await first]

        assert asyncio.run(main()) == [int(ids[0])]
        a.fail = RuntimeError("gone")
        a.gen = 2

        async def failing() -> None:
            with pytest.raises(ruvector.BackendError) as e:
                await lake.search_one_async("docs", vecs[0])
            assert isinstance(e.value.__cause__, RuntimeError)

        asyncio.run(failing())


def _lake_round(tmp: Path, engine: ruvector.Engine, ids: npt.NDArray[np.uint64],
                vecs: F32) -> None:
    import asyncio

    hot = LocalBackend("hot", engine=engine)
    hot.upsert("docs", ids, vecs)
    py = _ListBackend("py", ids, vecs)
    lake = RuLake.builder(engine).build()
    lake.register_backend(hot)
    lake.register_backend(py)
    lake.search_one("docs", vecs[0], k=70, backend="hot")
    lake.search_batch("docs", vecs[:8], k=5, backend="py")
    lake.search_federated("docs", vecs[1], k=5, dedupe_ids=True)
    asyncio.run(lake.search_one_async("docs", vecs[2], k=5, backend="hot"))
    lake.save_cache_to_dir(("hot", "docs"), tmp / "c")
    lake.warm_from_dir(("hot", "docs"), tmp / "c")
    lake.refresh_from_bundle_dir(("hot", "docs"), tmp / "c")
    lake.cache_stats_by_collection()
    py.fail = RuntimeError("down")
    py.gen += 1
    bads: List[Callable[[], object]] = [
        lambda: lake.search_one("docs", vecs[0][:3], backend="hot"),
        lambda: lake.search_one("nope", vecs[0], backend="hot"),
        lambda: lake.search_one("docs", vecs[0], backend="py")]
    for bad in bads:
        with pytest.raises(ruvector.RuVectorError):
            bad()
    lake.close()


def test_lake_memory_stays_flat(tmp_path: Path) -> None:
    """Every lake path (sync, async, Python backend, errors, cache
    directories) in a loop: the Python heap and RSS stay flat, and the
    caller's arrays are not kept alive by the extension."""
    import gc
    import os
    import sys
    import tracemalloc

    def rss() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    engine = ruvector.Engine(threads=1)
    ids, vecs = rows(2000, 16, 14)  # 128 KB of vectors: a leaked copy shows in RSS
    for _ in range(3):
        _lake_round(tmp_path, engine, ids, vecs)
    gc.collect()
    refs = (sys.getrefcount(ids), sys.getrefcount(vecs))
    tracemalloc.start()
    before_rss, (before_py, _) = rss(), tracemalloc.get_traced_memory()
    for _ in range(30):
        _lake_round(tmp_path, engine, ids, vecs)
    gc.collect()
    grew_py = tracemalloc.get_traced_memory()[0] - before_py
    grew_rss = rss() - before_rss
    tracemalloc.stop()
    assert (sys.getrefcount(ids), sys.getrefcount(vecs)) == refs
    assert grew_py < 256 * 1024, grew_py
    assert grew_rss < 4 * 1024 * 1024, grew_rss


def test_signed_cache_directories(tmp_path: Path) -> None:
    """With public keys, only bundles signed by one of them are taken."""
    priv = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    pub = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    ids, vecs = rows(50, 4, 15)
    hot = LocalBackend("hot")
    hot.upsert("docs", ids, vecs)
    signer = RuLake.builder().signing_key(priv).build()
    plain = RuLake.builder().build()
    trusting = RuLake.builder().public_key(pub).build()
    for lk in (signer, plain, trusting):
        lk.register_backend(hot)
    signer.search_one("docs", vecs[0])
    plain.search_one("docs", vecs[0])
    signer.save_cache_to_dir(("hot", "docs"), tmp_path / "signed")
    plain.save_cache_to_dir(("hot", "docs"), tmp_path / "plain")
    assert trusting.warm_from_dir(("hot", "docs"), tmp_path / "signed") == 50
    with pytest.raises(ruvector.IntegrityError):
        trusting.refresh_from_bundle_dir(("hot", "docs"), tmp_path / "plain")
    with pytest.raises(ValueError, match="32-byte"):
        RuLake.builder().public_key(b"short")
    for lk in (signer, plain, trusting):
        lk.close()
