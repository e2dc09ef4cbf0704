"""Latency at 100k x 128, and the zero-copy data path, checked rather than assumed."""

from __future__ import annotations

import time
import tracemalloc
from typing import Callable

import numpy as np
import pytest

import ruvector
from ruvector import _arrays
from conftest import F32


def test_build_100k_and_p99_of_single_queries(big: F32, big_queries: F32) -> None:
    t0 = time.perf_counter()
    idx = ruvector.RabitqPlusIndex.build(big, nlist=256)
    build_s = time.perf_counter() - t0
    for q in big_queries[:10]:  # warm caches and the allocator
        idx.search(q, 10, nprobe=8)
    lat = []
    for q in big_queries[100:200]:
        t = time.perf_counter()
        idx.search(q, 10, nprobe=8)
        lat.append(time.perf_counter() - t)
    p50, p99 = (float(np.percentile(lat, p)) * 1e3 for p in (50, 99))
    print(f"\n100k x 128 RabitqPlus nlist 256: build {build_s:.2f} s; "
          f"single query nprobe 8: p50 {p50:.3f} ms, p99 {p99:.3f} ms")
    assert len(idx) == 100_000
    assert p99 < 10.0, f"p99 {p99:.2f} ms"


def _peak_traced(fn: Callable[[], object]) -> int:
    """Peak bytes allocated through Python's allocators (NumPy's data buffers
    included: NumPy reports them to tracemalloc) while fn runs."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - base


def test_float32_input_is_not_copied(big_plus: ruvector.RabitqPlusIndex, big: F32) -> None:
    queries = np.ascontiguousarray(big[:20_000])  # 10 MB of float32
    nbytes = queries.nbytes
    # The conversion hands back the caller's own array...
    assert _arrays.as_float32(queries, "queries", 2) is queries
    assert np.shares_memory(_arrays.as_float32(queries[3], "query", 1), queries)
    # ...and nothing on the way to C allocates a copy of it. Outputs for k=1
    # are 20k * (8 + 4 + 8) bytes, far below the 10 MB a copy would need.
    peak = _peak_traced(lambda: big_plus.search_batch(queries, 1, nprobe=1))
    assert peak < nbytes // 10, f"{peak} bytes allocated for {nbytes} bytes of queries"
    # The detector does see a copy: a list of lists must be converted.
    as_list = queries[:5_000].tolist()
    peak_list = _peak_traced(lambda: big_plus.search_batch(as_list, 1, nprobe=1))
    assert peak_list >= 5_000 * 128 * 4
    # Single queries: no allocation proportional to the query either.
    q = np.ascontiguousarray(big[7])
    peak_one = _peak_traced(lambda: big_plus.search(q, 10))
    assert peak_one < 64 * 1024


def test_ids_are_not_copied() -> None:
    ids = np.arange(1_000_000, dtype=np.int64)
    out = _arrays.as_ids(ids)
    assert out.dtype == np.uint64 and np.shares_memory(out, ids)
    u = np.arange(10, dtype=np.uint64)
    assert _arrays.as_ids(u) is not None and np.shares_memory(_arrays.as_ids(u), u)


def test_build_input_is_not_copied(big: F32) -> None:
    data = np.ascontiguousarray(big[:50_000])
    peak = _peak_traced(lambda: ruvector.FlatF32Index.build(data))
    assert peak < data.nbytes // 10, peak


@pytest.mark.parametrize("k", [10])
def test_flat_batched_is_faster_than_single(big: F32, big_queries: F32, k: int) -> None:
    idx = ruvector.FlatF32Index.build(big)
    qs = big_queries[:64]
    t = time.perf_counter()
    for q in qs:
        idx.search(q, k)
    single = time.perf_counter() - t
    t = time.perf_counter()
    ids, _ = idx.search_batch(qs, k)
    batch = time.perf_counter() - t
    print(f"\nFlatF32 100k x 128: {len(qs) / single:.0f} QPS single, {len(qs) / batch:.0f} QPS batched")
    assert [h.id for h in idx.search(qs[0], k)] == ids[0].tolist()
