"""recommend(): the measured points come back as measured, the rest scales."""

from __future__ import annotations

import pytest

import ruvector
from conftest import F32


def test_measured_point_at_100k() -> None:
    rec = ruvector.recommend(100_000, 128, 0.99)
    assert rec.index_class is ruvector.RabitqPlusIndex
    assert rec.build_params == {"nlist": 256, "bits": 4}
    assert rec.search_params == {"nprobe": 8}
    assert rec.expected_recall == pytest.approx(0.999)
    assert rec.measured and "14,000" in rec.basis


def test_exact_and_low_recall_and_small_n() -> None:
    assert ruvector.recommend(100_000, 128, 1.0).index_class is ruvector.FlatF32Index
    assert ruvector.recommend(1_000, 128, 0.9).index_class is ruvector.FlatF32Index
    low = ruvector.recommend(100_000, 128, 0.3)
    assert low.index_class is ruvector.RabitqIndex and low.build_params["bits"] == 1
    assert low.build_params["nlist"] == 1000 and low.search_params == {"nprobe": 10}
    mid = ruvector.recommend(10_000, 128, 0.95)
    assert mid.index_class is ruvector.RabitqPlusIndex and mid.build_params == {"nlist": 0, "bits": 4}
    big = ruvector.recommend(1_000_000, 128, 0.99)
    assert big.build_params["nlist"] == 800 and big.search_params["nprobe"] == 25
    assert not big.measured and big.expected_qps_per_thread < 14_000
    higher = ruvector.recommend(100_000, 128, 0.9995)
    assert higher.search_params["nprobe"] > 8 and not higher.measured


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        ruvector.recommend(0, 128, 0.9)
    with pytest.raises(ValueError):
        ruvector.recommend(10, 128, 1.5)


def test_recommendation_builds_and_searches(small: F32) -> None:
    rec = ruvector.recommend(len(small) * 10, small.shape[1], 0.99)
    idx = rec.build(small)
    assert isinstance(idx, rec.index_class)
    hits = idx.search(small[1], 10, **rec.search_params)
    assert hits[0].id == 1
