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
    before_py, _ = tracemalloc.get_traced_memory()
    # RSS in three windows of 20 iterations: a leak grows every window, while
    # the allocator's one-time growth (arenas, fragmentation left by earlier
    # tests' threads in a full pytest run: up to ~5 MB seen) lands in one.
    grew_rss = []
    for _ in range(3):
        gc.collect()
        before_rss = rss_bytes()
        for _ in range(20):
            exercise(tmp_path, engine)
        gc.collect()
        grew_rss.append(rss_bytes() - before_rss)
    after_py, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    grew_py = after_py - before_py
    print(f"\n60 iterations: Python heap {grew_py / 1024:+.1f} KiB, RSS by window "
          + ", ".join(f"{g / 1024:+.0f}" for g in grew_rss) + " KiB")
    # One leaked index per iteration would be >= 20 * 128 KB = 2.5 MB of
    # vectors alone in C (RSS) in every window; leaked result lists would
    # show in Python's heap.
    assert grew_py < 256 * 1024, grew_py
    assert min(grew_rss) < 1024 * 1024, grew_rss
