"""ruLake's async path with BackendAdapters whose describe / pull_vectors
are ``async def`` (rulake.md §4, §5 step 3, §12 T3): awaited on the
caller's event loop, shared between concurrent calls of one key, never on a
pool thread; the plugin's coherence step decides everything else."""

from __future__ import annotations

import asyncio
import threading
from typing import Awaitable, Dict, List, Optional, Tuple, Union

import numpy as np
import numpy.typing as npt
import pytest

import ruvector
from ruvector import Consistency, LocalBackend, RuLake

from lake_support import needs_rulake

F32 = npt.NDArray[np.float32]

pytestmark = needs_rulake


def rows(n: int, dim: int, seed: int) -> Tuple[npt.NDArray[np.uint64], F32]:
    rng = np.random.default_rng(seed)
    ids = (np.arange(n, dtype=np.uint64) * np.uint64(5)) + np.uint64(2)
    return ids, rng.standard_normal((n, dim), dtype=np.float32)


class Remote(ruvector.BackendAdapter):
    """A store reached through an async client: describe (and, with
    async_pull, pull_vectors) awaits, like a network call."""

    threadsafe = True

    def __init__(self, name: str, ids: npt.NDArray[np.uint64], vecs: F32,
                 delay: float = 0.002) -> None:
        super().__init__(name)
        self.ids, self.vecs, self.gen, self.delay = ids, vecs, 1, delay
        self.describes: List[int] = []  # the thread of each call
        self.pulls: List[int] = []
        self.fail: Optional[Exception] = None

    def info(self) -> ruvector.CollectionInfo:
        return ruvector.CollectionInfo(f"remote://{self.name}/docs", self.vecs.shape[1], self.gen)

    async def describe(self, collection: str) -> ruvector.CollectionInfo:
        self.describes.append(threading.get_ident())
        await asyncio.sleep(self.delay)
        if self.fail is not None:
            raise self.fail
        if collection != "docs":
            raise KeyError(collection)
        return self.info()

    def pull_vectors(self, collection: str
                     ) -> Union[ruvector.PulledBatch, Awaitable[ruvector.PulledBatch]]:
        self.pulls.append(threading.get_ident())
        return ruvector.PulledBatch(self.ids, self.vecs, self.info())


class RemotePull(Remote):
    async def pull_vectors(self, collection: str) -> ruvector.PulledBatch:
        self.pulls.append(threading.get_ident())
        await asyncio.sleep(self.delay)
        return ruvector.PulledBatch(self.ids, self.vecs, self.info())


def build(*backends: ruvector.BackendAdapter | LocalBackend,
          consistency: Consistency = Consistency.FRESH, ttl_ms: Optional[int] = None) -> RuLake:
    b = RuLake.builder().consistency(consistency)
    if ttl_ms is not None:
        b = b.ttl_ms(ttl_ms)
    lake = b.build()
    for x in backends:
        lake.register_backend(x)
    return lake


def ids_of(hits: List[ruvector.LakeSearchResult]) -> List[int]:
    return [h.id for h in hits]


def test_concurrent_fresh_searches_share_describes() -> None:
    """100 concurrent FRESH searches in one loop: the results of the sync
    API, two describes (the first call's, and one begun after the others
    arrived), each on the loop's thread; and a 1 ms ticker on the same loop
    keeps ticking meanwhile (rulake.md §13 test 2; the timing is bench/ T3)."""
    ids, vecs = rows(2000, 16, 1)
    remote = Remote("remote", ids, vecs)
    with build(remote) as lake:
        want = [ids_of(lake.search_one("docs", vecs[i], k=5)) for i in range(100)]
        remote.describes.clear()

        async def main() -> Tuple[List[List[int]], int, int]:
            ticks = 0
            stop = False

            async def ticker() -> None:
                nonlocal ticks
                while not stop:
                    await asyncio.sleep(0.001)
                    ticks += 1

            t = asyncio.ensure_future(ticker())
            res = await asyncio.gather(*(lake.search_one_async("docs", vecs[i], k=5)
                                         for i in range(100)))
            during = ticks
            stop = True
            await t
            return [ids_of(r) for r in res], during, threading.get_ident()

        got, ticks, loop_thread = asyncio.run(main())
        assert got == want
        assert 1 <= len(remote.describes) <= 3, len(remote.describes)
        assert set(remote.describes) == {loop_thread}
        assert ticks >= 1  # the loop ran the ticker while the searches waited
        s = lake.cache_stats()
        assert s.primes == 1 and s.misses == 1


def test_async_pull_is_single_flight_on_the_loop() -> None:
    """A cold key, 50 concurrent searches, async describe and pull: one pull,
    on the loop's thread; one prime; every result right."""
    ids, vecs = rows(3000, 8, 2)
    remote = RemotePull("remote", ids, vecs)
    ref = LocalBackend("ref")
    ref.upsert("docs", ids, vecs)
    with build(remote) as lake, build(ref) as plain:
        want = [ids_of(plain.search_one("docs", vecs[i], k=4)) for i in range(50)]

        async def main() -> Tuple[List[List[int]], int]:
            res = await asyncio.gather(*(lake.search_one_async("docs", vecs[i], k=4)
                                         for i in range(50)))
            return [ids_of(r) for r in res], threading.get_ident()

        got, loop_thread = asyncio.run(main())
        assert got == want
        assert remote.pulls == [loop_thread]
        s = lake.cache_stats()
        assert (s.primes, s.misses) == (1, 1)
        # batch and federated searches take the same path
        b_ids, _ = asyncio.run(lake.search_batch_async("docs", vecs[:3], k=2))
        assert b_ids[:, 0].tolist() == ids[:3].tolist()
        fed = asyncio.run(lake.search_federated_async("docs", vecs[9], k=2))
        assert fed.complete and fed[0].id == int(ids[9])


def test_eventual_describes_only_when_due() -> None:
    """EVENTUAL with a long TTL: the first async call describes (asked by the
    plugin, which has no entry) and pulls; later calls describe nothing."""
    ids, vecs = rows(500, 8, 3)
    remote = RemotePull("remote", ids, vecs)
    with build(remote, consistency=Consistency.EVENTUAL, ttl_ms=600_000) as lake:
        async def main() -> List[List[int]]:
            out = [ids_of(await lake.search_one_async("docs", vecs[0], k=1))]
            out += [ids_of(r) for r in await asyncio.gather(
                *(lake.search_one_async("docs", vecs[i], k=1) for i in range(1, 20)))]
            return out

        assert asyncio.run(main()) == [[int(ids[i])] for i in range(20)]
        assert len(remote.describes) == 1 and len(remote.pulls) == 1
        assert lake.cache_stats().skipped == 19


def test_changed_data_is_primed_again() -> None:
    """FRESH after the data changed: the describe (on the loop) names the new
    generation, the plugin asks for rows, the new rows answer."""
    ids, vecs = rows(400, 8, 4)
    remote = RemotePull("remote", ids, vecs)
    with build(remote) as lake:
        assert ids_of(asyncio.run(lake.search_one_async("docs", vecs[3], k=1))) == [int(ids[3])]
        remote.vecs = vecs[::-1].copy()
        remote.gen = 2
        assert ids_of(asyncio.run(lake.search_one_async("docs", vecs[3], k=1))) == \
            [int(ids[len(ids) - 4])]
        assert lake.cache_stats().primes == 2 and len(remote.pulls) == 2


def test_async_adapter_errors() -> None:
    """The adapter's exception is the __cause__ of the BackendError (a
    LookupError: UnknownCollection); in a federation with on_error="partial"
    the healthy backend still answers."""
    ids, vecs = rows(300, 8, 5)
    remote = Remote("remote", ids, vecs)
    local = LocalBackend("local")
    local.upsert("docs", ids, vecs)
    with build(remote, local) as lake:
        async def one(coll: str) -> None:
            await lake.search_one_async(coll, vecs[0], k=1, backend="remote")

        with pytest.raises(ruvector.UnknownCollection) as nf:
            asyncio.run(one("nope"))
        assert isinstance(nf.value.__cause__, KeyError)
        remote.fail = RuntimeError("link down")
        with pytest.raises(ruvector.BackendError, match="link down") as be:
            asyncio.run(one("docs"))
        assert isinstance(be.value.__cause__, RuntimeError)
        assert (be.value.backend, be.value.collection) == ("remote", "docs")

        res = asyncio.run(lake.search_federated_async("docs", vecs[1], k=2, on_error="partial"))
        assert not res.complete and list(res.errors) == [("remote", "docs")]
        assert isinstance(res.errors[("remote", "docs")].__cause__, RuntimeError)
        assert res[0].id == int(ids[1]) and res[0].backend == "local"
        with pytest.raises(ruvector.BackendError, match="link down"):
            asyncio.run(lake.search_federated_async("docs", vecs[1], k=2))


def test_cancelled_caller_does_not_strand_the_others() -> None:
    """Cancelling the call that runs the shared describe: the others wait on,
    a new describe begins, and they all get their results."""
    ids, vecs = rows(300, 8, 6)
    remote = Remote("remote", ids, vecs, delay=0.02)
    with build(remote) as lake:
        async def main() -> List[List[int]]:
            first = asyncio.ensure_future(lake.search_one_async("docs", vecs[0], k=1))
            await asyncio.sleep(0.005)  # first is inside its describe
            rest = [asyncio.ensure_future(lake.search_one_async("docs", vecs[i], k=1))
                    for i in range(1, 6)]
            await asyncio.sleep(0)
            first.cancel()
            with pytest.raises(asyncio.CancelledError):
                await first
            return [ids_of(await r) for r in rest]

        assert asyncio.run(main()) == [[int(ids[i])] for i in range(1, 6)]


def test_blocking_api_runs_async_methods() -> None:
    """search_one on an async adapter runs its coroutines to completion
    (outside a running loop); inside one it says to use the *_async API."""
    ids, vecs = rows(200, 8, 7)
    remote = RemotePull("remote", ids, vecs)
    with build(remote) as lake:
        assert ids_of(lake.search_one("docs", vecs[5], k=1)) == [int(ids[5])]
        assert len(remote.pulls) == 1

        async def inside() -> None:
            lake.search_one("docs", vecs[5], k=1)

        with pytest.raises(ruvector.BackendError, match="_async") as e:
            asyncio.run(inside())
        assert isinstance(e.value.__cause__, RuntimeError)


def test_sync_adapters_share_describes_when_queued() -> None:
    """A blocking describe on pool threads: requests submitted while one
    describe runs arrived then (not when a pool thread took them) and share
    the next describe, instead of each calling its own."""
    ids, vecs = rows(1000, 8, 8)
    calls: Dict[str, int] = {"describe": 0}
    lock = threading.Lock()
    gate = threading.Event()
    gate.set()

    class Slow(ruvector.BackendAdapter):
        threadsafe = True

        def describe(self, collection: str) -> ruvector.CollectionInfo:
            with lock:
                calls["describe"] += 1
            gate.wait(30)  # held until every request is submitted
            return ruvector.CollectionInfo("slow://docs", 8, 1)

        def pull_vectors(self, collection: str) -> ruvector.PulledBatch:
            return ruvector.PulledBatch(ids, vecs, ruvector.CollectionInfo("slow://docs", 8, 1))

    with build(Slow("slow")) as lake:
        lake.search_one("docs", vecs[0], k=1)
        calls["describe"] = 0
        gate.clear()

        async def main() -> List[List[int]]:
            tasks = [asyncio.ensure_future(lake.search_one_async("docs", vecs[i], k=1))
                     for i in range(60)]
            await asyncio.sleep(0)  # every task has submitted its request
            gate.set()
            return [ids_of(await t) for t in tasks]

        assert asyncio.run(main()) == [[int(ids[i])] for i in range(60)]
        assert 1 <= calls["describe"] <= 2, calls["describe"]


def test_supplied_rows_are_not_kept() -> None:
    """Rounds of async searches that pull (the data changes each round) and
    fail: the pulled arrays are released once the prime is done (their
    reference counts come back), and the Python heap stays flat."""
    import gc
    import sys
    import tracemalloc

    ids, vecs = rows(1000, 16, 9)
    remote = RemotePull("remote", ids, vecs, delay=0.0)

    async def rounds(lake: RuLake, n: int) -> None:
        for _ in range(n):
            remote.gen += 1
            await asyncio.gather(*(lake.search_one_async("docs", vecs[i], k=3) for i in range(8)))
            await lake.search_batch_async("docs", vecs[:4], k=2)
            with pytest.raises(ruvector.UnknownCollection):
                await lake.search_one_async("nope", vecs[0])

    with build(remote) as lake:
        asyncio.run(rounds(lake, 3))
        gc.collect()
        refs = (sys.getrefcount(ids), sys.getrefcount(vecs))
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        asyncio.run(rounds(lake, 30))
        gc.collect()
        grew = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        assert (sys.getrefcount(ids), sys.getrefcount(vecs)) == refs
        assert grew < 256 * 1024, grew
        assert lake.cache_stats().primes == 33  # one per round: the data changed


def test_loops_in_two_threads() -> None:
    """Two event loops in two threads search one lake at once through an
    async adapter: each loop awaits its own describes; all results right."""
    ids, vecs = rows(500, 8, 10)
    remote = Remote("remote", ids, vecs, delay=0.001)
    with build(remote) as lake:
        lake.search_one("docs", vecs[0], k=1)
        bad: List[BaseException] = []

        def worker(offset: int) -> None:
            async def main() -> List[List[int]]:
                return [ids_of(r) for r in await asyncio.gather(
                    *(lake.search_one_async("docs", vecs[offset + i], k=1) for i in range(30)))]
            try:
                for _ in range(5):
                    assert asyncio.run(main()) == [[int(ids[offset + i])] for i in range(30)]
            except BaseException as exc:  # reported by the main thread
                bad.append(exc)

        ts = [threading.Thread(target=worker, args=(o,)) for o in (0, 100)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert not bad, bad


def test_describe_callers_woken_a_batch_a_turn() -> None:
    """The callers of one shared describe are woken _WAKE_BATCH a loop turn
    (each goes on to submit its search: all at once would hold off the
    loop's timers), every one of them gets the description or the error,
    and a cancelled caller is skipped without stopping the others."""
    from ruvector import _lake_hosted as hosted

    async def main() -> None:
        loop = asyncio.get_running_loop()
        n = 2 * hosted._WAKE_BATCH + 5
        waiters: List["asyncio.Future[hosted._Described]"] = [loop.create_future()
                                                               for _ in range(n)]
        waiters[3].cancel()
        err = RuntimeError("x")
        hosted._wake(loop, waiters, (None, err), 0)
        done = [sum(w.done() for w in waiters)]
        for _ in range(3):
            await asyncio.sleep(0)  # one loop turn
            done.append(sum(w.done() for w in waiters))
        assert done == [hosted._WAKE_BATCH, 2 * hosted._WAKE_BATCH, n, n]
        assert waiters[3].cancelled()
        assert all(w.result() == (None, err) for i, w in enumerate(waiters) if i != 3)

    asyncio.run(main())


def test_many_callers_of_a_failing_describe_all_get_the_error() -> None:
    """More callers than one wake batch wait for a shared describe that
    fails: each raises the BackendError with the adapter's exception as its
    cause; then the same callers succeed once the backend is back."""
    ids, vecs = rows(400, 8, 12)
    remote = Remote("remote", ids, vecs)
    with build(remote) as lake:
        want = [ids_of(lake.search_one("docs", vecs[i], k=3)) for i in range(60)]
        remote.fail = RuntimeError("link down")

        async def main() -> List[Union[List[int], BaseException]]:
            res = await asyncio.gather(*(lake.search_one_async("docs", vecs[i], k=3)
                                         for i in range(60)), return_exceptions=True)
            return [r if isinstance(r, BaseException) else ids_of(r) for r in res]

        got = asyncio.run(main())
        assert all(isinstance(r, ruvector.BackendError) and
                   isinstance(r.__cause__, RuntimeError) for r in got), got
        remote.fail = None
        assert asyncio.run(main()) == want
