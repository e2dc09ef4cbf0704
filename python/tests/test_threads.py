"""The GIL is released around searches; concurrent searches are safe; writers
are serialised against readers."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, List, Tuple

import numpy as np
import numpy.typing as npt
import pytest

import ruvector
from conftest import F32, clustered


def test_four_threads_give_the_serial_results(small: F32) -> None:
    idx = ruvector.RabitqPlusIndex.build(small, nlist=32)
    queries = clustered(400, small.shape[1], seed=21, clusters=16)
    serial = [[(h.id, h.score) for h in idx.search(q, 10, nprobe=8)] for q in queries]
    serial_batch = idx.search_batch(queries, 10, nprobe=8)

    def worker(part: int) -> List[Tuple[int, List[Tuple[int, float]]]]:
        out = []
        for i in range(part, len(queries), 4):
            out.append((i, [(h.id, h.score) for h in idx.search(queries[i], 10, nprobe=8)]))
        return out

    def batch_worker(_: int) -> Tuple[npt.NDArray[np.uint64], npt.NDArray[np.float32]]:
        return idx.search_batch(queries, 10, nprobe=8)

    with ThreadPoolExecutor(4) as pool:
        results = [r for part in pool.map(worker, range(4)) for r in part]
        batches = list(pool.map(batch_worker, range(4)))
    assert len(results) == len(queries)
    for i, hits in results:
        assert hits == serial[i]
    for ids, scores in batches:
        np.testing.assert_array_equal(ids, serial_batch[0])
        np.testing.assert_array_equal(scores, serial_batch[1])


def _timed(fn: Callable[[], None]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _together(in_thread: Callable[[], None], in_main: Callable[[], None]) -> float:
    """Wall time of in_thread in a second thread while in_main runs here."""
    th = threading.Thread(target=in_thread)
    t0 = time.perf_counter()
    th.start()
    in_main()
    th.join()
    return time.perf_counter() - t0


def _repeat_to(fn: Callable[[], None], seconds: float) -> Callable[[], None]:
    """fn repeated enough times to take about `seconds`."""
    once = min(_timed(fn) for _ in range(3))
    reps = max(1, int(round(seconds / max(once, 1e-6))))

    def run() -> None:
        for _ in range(reps):
            fn()

    return run


def test_search_in_a_thread_overlaps_numpy_in_the_main_thread(
    single_thread_engine: ruvector.Engine,
) -> None:
    # Both sides small enough to stay in cache: two memory-bound loops would
    # slow each other down through the shared memory bus, not the GIL.
    data = clustered(20_000, 64, seed=5)
    idx = ruvector.RabitqPlusIndex.build(data, nlist=64, engine=single_thread_engine)
    queries = data[:200].copy()

    def searches() -> None:
        for q in queries:  # single queries: one GIL release per search
            idx.search(q, 10, nprobe=8)

    # NumPy work that releases the GIL and stays on one core (no BLAS threads).
    x = np.random.default_rng(0).random(32_768)
    out = np.empty_like(x)

    def numpy_work() -> None:
        np.sin(x, out=out)
        np.sqrt(out * out + 1.0, out=out)

    search_side = _repeat_to(searches, 0.3)
    numpy_side = _repeat_to(numpy_work, 0.3)

    attempts = []
    for _ in range(5):  # a busy machine can only make overlap look worse
        t_search = min(_timed(search_side) for _ in range(2))
        t_numpy = min(_timed(numpy_side) for _ in range(2))
        wall = _together(search_side, numpy_side)
        attempts.append((wall, t_search, t_numpy))
        if wall < 0.8 * (t_search + t_numpy):
            break
    wall, t_search, t_numpy = attempts[-1]
    print(f"\nsearch {t_search:.3f} s, numpy {t_numpy:.3f} s, together {wall:.3f} s "
          f"(sum {t_search + t_numpy:.3f} s, max {max(t_search, t_numpy):.3f} s)")
    if wall >= 0.8 * (t_search + t_numpy):
        # Two busy threads need two free cores. Calibrate right now with two
        # NumPy computations (both release the GIL): if even they do not
        # overlap, other processes hold the cores and the timing says nothing
        # about our GIL handling (checked load-independently by
        # test_the_gil_is_free_during_a_batch_search).
        pair = _together(numpy_side, numpy_side)
        if pair >= 0.8 * (2 * t_numpy):
            pytest.skip(f"no two free cores now: two NumPy threads took {pair:.3f} s for "
                        f"2 x {t_numpy:.3f} s of work (load {os.getloadavg()[0]:.1f}); "
                        f"attempts {attempts}")
    assert wall < 0.8 * (t_search + t_numpy), attempts


def test_the_gil_is_free_during_a_batch_search(single_thread_engine: ruvector.Engine) -> None:
    """Independent of machine load: while one long search_batch runs in a
    thread, the main thread keeps executing Python bytecode. Were the GIL
    held, the main thread could not run at all until the call returned."""
    data = clustered(50_000, 64, seed=6)
    idx = ruvector.FlatF32Index.build(data, engine=single_thread_engine)
    queries = data[:400].copy()
    started, done = threading.Event(), threading.Event()

    def search() -> None:
        started.set()
        idx.search_batch(queries, 10)
        done.set()

    th = threading.Thread(target=search)
    th.start()
    started.wait()
    spins = 0
    t0 = time.perf_counter()
    while not done.is_set():
        spins += 1
    elapsed = time.perf_counter() - t0
    th.join()
    print(f"\nmain thread ran {spins} loop iterations during a {elapsed:.3f} s batch search")
    assert elapsed > 0.02, "the batch was too short to tell"
    assert spins > 10_000, spins


def test_add_is_serialised_against_concurrent_searches() -> None:
    dim = 16
    base = clustered(2_000, dim, seed=1)
    idx = ruvector.RabitqPlusIndex.build(base)
    extra = clustered(2_000, dim, seed=2)
    stop = threading.Event()
    errors: List[BaseException] = []

    def reader() -> None:
        try:
            while not stop.is_set():
                hits = idx.search(base[5], 3)
                assert hits[0].id == 5
                idx.search_batch(base[:8], 3)
                assert len(idx) >= 2_000
        except BaseException as exc:  # reported below
            errors.append(exc)

    readers = [threading.Thread(target=reader) for _ in range(3)]
    for t in readers:
        t.start()
    try:
        for i in range(0, 2_000, 50):
            idx.add(np.arange(10_000 + i, 10_050 + i), extra[i : i + 50])
            if i % 200 == 0:
                idx.remove(np.arange(10_000 + i, 10_010 + i))
    finally:
        stop.set()
        for t in readers:
            t.join()
    assert not errors, errors
    assert len(idx) == 2_000 + 2_000 - 10 * 10
