"""recommend(): what the build's plan does for that size and target."""

from __future__ import annotations

import pytest

import ruvector
from conftest import F32, clustered


def test_ivf_plan_at_100k() -> None:
    rec = ruvector.recommend(100_000, 128, 0.99)
    assert rec.index_class is ruvector.RabitqPlusIndex
    assert rec.build_params == {"target_recall": 0.99}
    assert rec.search_params == {}
    assert rec.expected_recall == pytest.approx(0.99)
    assert rec.measured and "316 lists" in rec.basis and "adaptive" in rec.basis
    other = ruvector.recommend(1_000_000, 128, 0.9)
    assert other.build_params == {"target_recall": 0.9} and not other.measured
    assert "1000 lists" in other.basis
    assert other.expected_qps_per_thread < rec.expected_qps_per_thread


def test_exact_and_small_n() -> None:
    exact = ruvector.recommend(100_000, 128, 1.0)
    assert exact.index_class is ruvector.FlatF32Index and exact.expected_recall == 1.0
    for n, dim in ((999, 4096), (2_000, 128)):  # fewer than 1,000; within 1 MiB
        small = ruvector.recommend(n, dim, 0.9)
        assert small.index_class is ruvector.RabitqPlusIndex
        assert small.expected_recall == 1.0 and "exactly" in small.basis
    assert "exactly" not in ruvector.recommend(3_000, 128, 0.9).basis


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


def test_recommendation_is_the_plan(small: F32) -> None:
    """Built as recommended, the index plans what recommend() said."""
    for x in (small, clustered(20_000, 32, seed=9, clusters=16)):
        n, dim = x.shape
        rec = ruvector.recommend(n, dim, 0.9)
        idx = rec.build(x)
        exact = "exactly" in rec.basis
        assert ("exact scan" in idx.params["plan"]) == exact
        if not exact:
            assert idx.params["nlist"] == round(n ** 0.5)
            assert f"{idx.params['nlist']} lists" in rec.basis
