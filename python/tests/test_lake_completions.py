"""How ruLake's async requests come back (_ext_lake_async.c, _lake_hosted
Completions): a pool thread queues a finished request on the lake without
the GIL and makes the lake's notify fd readable; the event loops with
requests in flight read that fd and take the results with poll."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from typing import Any, List, Tuple

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
    ids = np.arange(n, dtype=np.uint64) * np.uint64(3) + np.uint64(1)
    return ids, rng.standard_normal((n, dim), dtype=np.float32)


def local_lake(n: int = 800, dim: int = 12, seed: int = 5) -> Tuple[RuLake, F32]:
    ids, vecs = rows(n, dim, seed)
    be = LocalBackend("b")
    be.upsert("c", ids, vecs)
    lake = RuLake.builder().consistency(Consistency.FRESH).build()
    lake.register_backend(be)
    return lake, vecs


def test_results_need_no_gil() -> None:
    """Requests finish and queue their results while this thread holds the
    GIL throughout: with a switch interval of 1,000 s no other thread gets
    the GIL, so a pool thread that took it to hand a result over would never
    finish (the old path: the 30 s guard below fails it)."""
    lake, vecs = local_lake()
    with lake:
        lake.search_one("c", vecs[0], k=3)  # primed: the requests only search
        got: List[Tuple[int, str]] = []
        outs = []
        for i in range(20):
            o = (np.empty((1, 3), np.uint64), np.empty((1, 3), np.float32),
                 np.empty((1, 3), np.uint32), np.empty(1, np.uint32))
            outs.append(o)
            lake._h.submit((("b", "c"),), vecs[i:i + 1], 3, 0, 0, *o,
                           lambda st, detail, per: got.append((st, detail)))
        old = sys.getswitchinterval()
        sys.setswitchinterval(1000.0)
        try:
            results: List[Any] = []
            deadline = time.monotonic() + 30.0
            while len(results) < 20 and time.monotonic() < deadline:
                results.extend(lake._h.poll(7))  # poll keeps the GIL
        finally:
            sys.setswitchinterval(old)
        assert len(results) == 20
        for callback, status, detail, per, hits in results:
            assert hits is None  # submit's hits are in its output arrays
            callback(status, detail, per)
        assert got == [(0, "")] * 20
        for i, o in enumerate(outs):  # the outputs were filled before queueing
            want = [h.id for h in lake.search_one("c", vecs[i], k=3)]
            assert o[0][0].tolist() == want and int(o[3][0]) == 3
        assert lake._h.poll(5) == []


def test_poll_arguments() -> None:
    lake, _ = local_lake(50, 4)
    with lake:
        assert isinstance(lake._h.notify_fd(), int) and lake._h.notify_fd() >= 0
        with pytest.raises(ValueError):
            lake._h.poll(0)
        assert lake._h.poll(1) == []


def test_reader_goes_with_the_last_request() -> None:
    """The loop reads the lake's fd only while it has requests in flight:
    after they all came back (one of them cancelled while queued) the fd is
    no longer registered and the lake tracks no loop."""
    lake, vecs = local_lake()
    with lake:
        want = [[h.id for h in lake.search_one("c", vecs[i], k=4)] for i in range(60)]

        async def main() -> None:
            loop = asyncio.get_running_loop()
            tasks = [asyncio.ensure_future(lake.search_one_async("c", vecs[i], k=4))
                     for i in range(60)]
            extra = asyncio.ensure_future(lake.search_one_async("c", vecs[0], k=4))
            await asyncio.sleep(0)
            extra.cancel()
            res = await asyncio.gather(*tasks)
            assert [[h.id for h in r] for r in res] == want
            with pytest.raises(asyncio.CancelledError):
                await extra
            # the cancelled one still comes back (cancelled in the lake, or
            # run to the end): wait for the lake to let this loop go
            for _ in range(2000):
                if loop not in lake._completions._loops:
                    break
                await asyncio.sleep(0.005)
            assert loop not in lake._completions._loops
            assert not loop.remove_reader(lake._h.notify_fd())

        asyncio.run(main())
        asyncio.run(main())  # a second loop registers afresh


def test_uvloop_results_equal_sync() -> None:
    uvloop = pytest.importorskip("uvloop", reason="uvloop is not installed (pip install uvloop)")
    lake, vecs = local_lake()
    with lake:
        want = [[h.id for h in lake.search_one("c", vecs[i], k=5)] for i in range(100)]

        async def main() -> List[List[int]]:
            res = await asyncio.gather(*(lake.search_one_async("c", vecs[i], k=5)
                                         for i in range(100)))
            return [[h.id for h in r] for r in res]

        loop = uvloop.new_event_loop()
        try:
            assert loop.run_until_complete(main()) == want
            assert loop.run_until_complete(main()) == want
        finally:
            loop.close()


class Held(ruvector.BackendAdapter):
    """A Python backend whose pull waits for a gate."""

    threadsafe = True

    def __init__(self, name: str, ids: npt.NDArray[np.uint64], vecs: F32) -> None:
        super().__init__(name)
        self.ids, self.vecs = ids, vecs
        self.gate = threading.Event()

    def describe(self, collection: str) -> ruvector.CollectionInfo:
        return ruvector.CollectionInfo("held://docs", self.vecs.shape[1], 1)

    def pull_vectors(self, collection: str) -> ruvector.PulledBatch:
        self.gate.wait(30)
        return ruvector.PulledBatch(self.ids, self.vecs,
                                    ruvector.CollectionInfo("held://docs", self.vecs.shape[1], 1))


def test_close_with_requests_in_flight() -> None:
    """close() from another thread while one request runs (held in a
    Python pull) and others wait in the pool's queue: close waits for the
    running one; every awaiting task gets its result or an error, none
    hangs, and the loop lets the lake's fd go."""
    ids, vecs = rows(200, 6, 9)
    held = Held("held", ids, vecs)
    lake = RuLake.builder().build()
    lake.register_backend(held)

    async def main() -> List[Any]:
        loop = asyncio.get_running_loop()
        tasks = [asyncio.ensure_future(lake.search_one_async("docs", vecs[i], k=2))
                 for i in range(12)]
        await asyncio.sleep(0.05)  # submitted; the first pull is held
        closer = threading.Thread(target=lake.close)
        closer.start()
        await asyncio.sleep(0.05)
        held.gate.set()
        out = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 60)
        await loop.run_in_executor(None, closer.join)
        assert loop not in lake._completions._loops
        return out

    out = asyncio.run(main())
    assert len(out) == 12
    for r in out:
        assert isinstance(r, (list, ruvector.RuVectorError)), r
    assert any(isinstance(r, list) for r in out)


def test_search_one_async_equals_sync_exactly() -> None:
    """search_one_async's path without output arrays (submit_one: the hits
    come back from poll as lists) gives the sync call's results: same ids,
    the same float32 scores, the same number of hits when the collection
    has fewer rows than k, with and without rerank_factor, and prime=False
    on a key nobody searched raises the same error class as the sync call."""
    lake, vecs = local_lake(40, 8, 11)
    with lake:
        cases = [(i, k, rf) for i in range(0, 40, 3) for k, rf in ((1, None), (7, 3), (64, None))]
        want = [lake.search_one("c", vecs[i], k=k, rerank_factor=rf) for i, k, rf in cases]
        assert any(len(w) == 40 for w in want)  # k 64 > 40 rows: fewer hits

        async def main() -> List[Any]:
            return list(await asyncio.gather(*(lake.search_one_async("c", vecs[i], k=k,
                                                                     rerank_factor=rf)
                                               for i, k, rf in cases)))

        got = asyncio.run(main())
        assert got == want
        for g, w in zip(got, want):
            assert [type(h.id) for h in g] == [int] * len(g)
            assert [np.float32(h.score) for h in g] == [np.float32(h.score) for h in w]
        other = ruvector.LocalBackend("o")
        other.upsert("d", *rows(10, 8, 3))
        lake.register_backend(other)
        with pytest.raises(ruvector.CacheMissError) as sync_err:
            lake.search_one("d", vecs[0], backend="o", prime=False)
        with pytest.raises(ruvector.CacheMissError) as async_err:
            asyncio.run(lake.search_one_async("d", vecs[0], backend="o", prime=False))
        assert type(async_err.value) is type(sync_err.value)
        assert async_err.value.backend == "o" and async_err.value.collection == "d"


def test_submit_one_poll_and_arguments() -> None:
    """Lake.submit_one: poll gives back the token with (ids, scores) lists;
    a failed request gives None; bad arguments are refused before queueing."""
    lake, vecs = local_lake(60, 5, 2)
    with lake:
        lake.search_one("c", vecs[0], k=3)
        token, bad_token = object(), object()
        lake._h.submit_one("b", "c", vecs[4], 3, 0, 0, token)
        lake._h.submit_one("b", "nope", vecs[4], 3, 0, 0, bad_token)
        results: List[Any] = []
        deadline = time.monotonic() + 30.0
        while len(results) < 2 and time.monotonic() < deadline:
            results.extend(lake._h.poll(4))
            time.sleep(0.001)
        by_token = {id(r[0]): r for r in results}
        _, status, detail, per, hits = by_token[id(token)]
        assert status == 0 and detail == "" and per == [(0, "", 0)]
        want = lake.search_one("c", vecs[4], k=3)
        assert hits == ([h.id for h in want], [h.score for h in want])
        _, status, detail, _, hits = by_token[id(bad_token)]
        assert status != 0 and "nope" in detail and hits is None
        with pytest.raises(TypeError):
            lake._h.submit_one(None, "c", vecs[0], 3, 0, 0, token)  # a backend name is needed
        with pytest.raises(TypeError):
            lake._h.submit_one("b", "c", vecs[:2], 3, 0, 0, token)  # one 1-D query
        with pytest.raises(TypeError):
            lake._h.submit_one("b", "c", vecs[0].astype(np.float64), 3, 0, 0, token)
        with pytest.raises(ValueError):
            lake._h.submit_one("b", "c", vecs[0], 0, 0, 0, token)
        assert lake._h.poll(4) == []
    with pytest.raises(ValueError):
        lake._h.submit_one("b", "c", vecs[0], 3, 0, 0, token)  # closed


def test_two_loops_in_two_threads_take_each_others_results() -> None:
    """Two threads, each with its own loop, search one lake at once through
    submit_one: a loop that polls the other's result hands it over
    (call_soon_threadsafe); every call gets its own hits and both loops
    let the lake go."""
    lake, vecs = local_lake(900, 12, 4)
    with lake:
        want = [[h.id for h in lake.search_one("c", vecs[i], k=4)] for i in range(200)]
        bad: List[BaseException] = []
        loops: List[asyncio.AbstractEventLoop] = []

        def worker(offset: int) -> None:
            async def main() -> List[List[int]]:
                loops.append(asyncio.get_running_loop())
                res = await asyncio.gather(*(lake.search_one_async("c", vecs[offset + i], k=4)
                                             for i in range(100)))
                return [[h.id for h in r] for r in res]
            try:
                for _ in range(5):
                    assert asyncio.run(main()) == want[offset:offset + 100]
            except BaseException as exc:  # reported by the main thread
                bad.append(exc)

        ts = [threading.Thread(target=worker, args=(o,)) for o in (0, 100)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert not bad, bad
        assert not any(lp in lake._completions._loops for lp in loops)


def _in_child(check: Any) -> int:
    """Runs check() in a forked child (a hang guard of 30 s); its exit status."""
    import faulthandler
    import os
    import warnings
    with warnings.catch_warnings():
        # 3.12+: "use of fork() may lead to deadlocks" (the engine's pool threads)
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:
        code = 1
        try:
            faulthandler.dump_traceback_later(30, exit=True)
            code = 0 if check() else 2
        finally:
            os._exit(code)
    return os.waitpid(pid, 0)[1]


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_fork_with_requests_in_flight() -> None:
    """A child forked while the lake's async requests were in flight gets a
    StateError naming why from every call of that lake (the requests'
    threads and what they held stayed in the parent: a search there hung
    before), while a new lake in the child works and the parent's requests
    all finish with the sync results. A lake idle at the fork stays usable
    in the child."""
    lake, vecs = local_lake()
    with lake:
        want = [[h.id for h in lake.search_one("c", vecs[i], k=3)] for i in range(40)]

        def child_busy() -> bool:
            try:
                lake.search_one("c", vecs[0], k=3)
                return False
            except ruvector.StateError as e:
                if "in flight when the process forked" not in str(e):
                    return False
            lake.close()  # does not wait for the parent's requests
            fresh, v2 = local_lake()
            with fresh:
                return [h.id for h in fresh.search_one("c", v2[0], k=3)] == want[0]

        async def main() -> Tuple[int, List[List[int]]]:
            tasks = [asyncio.ensure_future(lake.search_one_async("c", vecs[i], k=3))
                     for i in range(40)]
            await asyncio.sleep(0)  # every request submitted, most still running
            status = _in_child(child_busy)
            res = await asyncio.gather(*tasks)
            return status, [[h.id for h in r] for r in res]

        status, got = asyncio.run(main())
        assert status == 0
        assert got == want

        def child_idle() -> bool:
            got1 = [h.id for h in lake.search_one("c", vecs[1], k=3)]
            got2 = asyncio.run(lake.search_one_async("c", vecs[2], k=3))
            return got1 == want[1] and [h.id for h in got2] == want[2]

        assert _in_child(child_idle) == 0
