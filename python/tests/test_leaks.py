"""No leaks: every path (success and error) run in a loop, memory stays flat."""

from __future__ import annotations

import gc
import os
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import ruvector
from conftest import clustered


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def exercise(tmp: Path, engine: ruvector.Engine) -> None:
    data = clustered(2_000, 16, seed=1)  # 128 KB per copy: a leak shows in RSS
    for cls in (ruvector.FlatF32Index, ruvector.RabitqIndex, ruvector.RabitqPlusIndex,
                ruvector.RabitqAsymIndex):
        idx = cls.build(data, ids=np.arange(len(data)) + 1, engine=engine)
        idx.search(data[0], 70)  # > 64 results: the heap-allocated buffers
        idx.search(data[0], 5, filter=[1, 2, 3])
        idx.search_batch(data[:10], 5)
        idx.add([10**6], data[:1])
        idx.remove([10**6, 5])
        idx.save(tmp / "i.ruv")
        cls.load(tmp / "i.ruv", engine=engine)
        repr(idx)
        if cls in (ruvector.FlatF32Index, ruvector.RabitqPlusIndex):
            idx[2]
            np.asarray(idx)
            list(idx)
        for bad in (lambda: idx.search(data[0][:5], 3),            # DimensionMismatch
                    lambda: idx.search(np.full(16, np.nan, np.float32), 3),
                    lambda: idx.add([2], data[:1]),                 # duplicate id
                    lambda: cls.load(tmp / "missing.ruv", engine=engine),
                    lambda: idx[10**9]):
            with pytest.raises((ruvector.RuVectorError, LookupError)):
                bad()
    with pytest.raises(ruvector.NotFoundError):
        ruvector.Engine(kernel="sse9")
    ruvector.Engine(threads=1).report()


def test_memory_stays_flat_over_many_iterations(tmp_path: Path) -> None:
    engine = ruvector.Engine(threads=1)
    for _ in range(5):  # warm up caches, allocator pools, lazy imports
        exercise(tmp_path, engine)
    gc.collect()
    tracemalloc.start()
    before_rss = rss_bytes()
    before_py, _ = tracemalloc.get_traced_memory()
    for _ in range(60):
        exercise(tmp_path, engine)
    gc.collect()
    after_py, _ = tracemalloc.get_traced_memory()
    after_rss = rss_bytes()
    tracemalloc.stop()
    grew_py, grew_rss = after_py - before_py, after_rss - before_rss
    print(f"\n60 iterations: Python heap {grew_py / 1024:+.1f} KiB, RSS {grew_rss / 1024:+.1f} KiB")
    # One leaked index per iteration would be >= 60 * 128 KB = 7.5 MB of
    # vectors alone in C (RSS); leaked result lists would show in Python's heap.
    assert grew_py < 256 * 1024, grew_py
    assert grew_rss < 4 * 1024 * 1024, grew_rss
