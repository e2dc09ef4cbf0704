"""Shared fixtures: generated data (no downloads) and indexes built once."""

from __future__ import annotations

from typing import Iterator, List, Type, Union

import numpy as np
import numpy.typing as npt
import pytest

import ruvector

F32 = npt.NDArray[np.float32]

#: The four index classes, for tests that run on each.
AnyIndexClass = Union[
    Type[ruvector.FlatF32Index],
    Type[ruvector.RabitqIndex],
    Type[ruvector.RabitqPlusIndex],
    Type[ruvector.RabitqAsymIndex],
]
ALL: List[AnyIndexClass] = [
    ruvector.FlatF32Index,
    ruvector.RabitqIndex,
    ruvector.RabitqPlusIndex,
    ruvector.RabitqAsymIndex,
]


def gaussian(n: int, dim: int, seed: int) -> F32:
    data: F32 = np.random.default_rng(seed).standard_normal((n, dim), dtype=np.float32)
    return data


def clustered(n: int, dim: int, seed: int, clusters: int = 64) -> F32:
    """Points around random centres: closer to real embeddings than pure noise,
    so IVF and recall behave as they do on real data."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim), dtype=np.float32) * 4.0
    labels = rng.integers(0, clusters, size=n)
    data: F32 = (centres[labels] + rng.standard_normal((n, dim), dtype=np.float32)).astype(
        np.float32
    )
    return data


@pytest.fixture(scope="session")
def small() -> F32:
    """5,000 x 32: cheap enough for every API test."""
    return clustered(5_000, 32, seed=7, clusters=16)


@pytest.fixture(scope="session")
def small_queries() -> F32:
    return clustered(64, 32, seed=8, clusters=16)


@pytest.fixture(scope="session")
def big() -> F32:
    """100,000 x 128, generated (the size of the demo set)."""
    return clustered(100_000, 128, seed=11, clusters=256)


@pytest.fixture(scope="session")
def big_queries() -> F32:
    return clustered(200, 128, seed=12, clusters=256)


@pytest.fixture(scope="session")
def big_plus(big: F32) -> ruvector.RabitqPlusIndex:
    """The recommended configuration at 100k: nlist 256 (~0.8 sqrt(n))."""
    return ruvector.RabitqPlusIndex.build(big, nlist=256)


@pytest.fixture()
def single_thread_engine() -> Iterator[ruvector.Engine]:
    yield ruvector.Engine(threads=1)
