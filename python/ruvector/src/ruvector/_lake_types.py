"""ruLake's value types and errors (rulake.md §4): Consistency,
RefreshResult, the results, CacheStats, UnknownBackend/UnknownCollection."""

from __future__ import annotations

import enum
from typing import Dict, Iterable, List, NamedTuple, Tuple

from . import _ext
from ._errors import STATUS_CLASSES, LakeError, NotFoundError, RuVectorError

__all__ = ["Consistency", "RefreshResult", "UnknownBackend", "UnknownCollection",
           "LakeSearchResult", "SearchResults", "CacheStats", "Key", "LakeBackendName"]

Key = Tuple[str, str]


class LakeBackendName(str):
    """A name in ``RuLake.backends``: a str, with ``absent`` True for a name
    that warm_from_dir installed entries under while no backend of that
    name is registered (a STALE lake searches them; register_backend makes
    it present)."""

    absent: bool

    def __new__(cls, name: str, absent: bool = False) -> "LakeBackendName":
        self = super().__new__(cls, name)
        self.absent = absent
        return self

    def __repr__(self) -> str:
        return f"LakeBackendName({str.__repr__(self)}, absent={self.absent})"


class Consistency(enum.IntEnum):
    """When the lake asks a backend whether a cached collection changed."""

    #: before every search, batch or federated shard
    FRESH = 0
    #: again once ttl_ms passed since the last check (ttl 0 acts as FRESH)
    EVENTUAL = 1
    #: only while the collection is not cached (first search, after invalidate or eviction)
    STALE = 2


class RefreshResult(enum.IntEnum):
    """What refresh_from_bundle_dir found (rulake.md §9)."""

    #: the bundle names the entry the key holds
    UP_TO_DATE = 0
    #: it names another state of the same data: the key's entry was dropped
    INVALIDATED = 1
    #: no such directory, or no sidecar in it
    BUNDLE_MISSING = 2
    #: the key holds no entry (nothing to compare; nothing was pulled)
    NOT_CACHED = 3
    #: another key, data_ref, dim, seed, rerank factor or index parameters: ignored
    FOREIGN = 4


class UnknownBackend(LakeError, LookupError):
    """No backend of that name is registered (or none was named and several are)."""


class UnknownCollection(LakeError, LookupError):
    """The backend has no such collection."""


class LakeSearchResult(NamedTuple):
    """One hit: where it came from, its id and the index's exact score
    (squared L2 for "l2": smaller is closer; larger is closer for "ip" and "cosine")."""

    backend: str
    collection: str
    id: int
    score: float


class SearchResults(List[LakeSearchResult]):
    """The hits of search_federated, best first, with the targets that failed
    (``errors``, only with ``on_error="partial"``) and whether all answered."""

    errors: Dict[Key, LakeError]
    complete: bool

    def __init__(self, hits: Iterable[LakeSearchResult], errors: Dict[Key, LakeError]) -> None:
        super().__init__(hits)
        self.errors = errors
        self.complete = not errors


class CacheStats(NamedTuple):
    """Counters of the whole lake, one backend or one key (rulake.md §7)."""

    hits: int
    skipped: int
    misses: int
    prime_failures: int
    checks: int
    primes: int
    shared_hits: int
    warm_installs: int
    invalidations: int
    evictions: int
    superseded: int
    entries: int
    bytes: int
    total_prime_ms: float
    last_prime_ms: float

    def hit_rate(self) -> float:
        """hits / (hits + misses); 0.0 before any search."""
        n = self.hits + self.misses
        return self.hits / n if n else 0.0

    def avg_prime_ms(self) -> float:
        """Mean time of a prime that built an index; 0.0 when none did."""
        return self.total_prime_ms / self.primes if self.primes else 0.0

    @classmethod
    def _from(cls, d: Dict[str, int]) -> "CacheStats":
        return cls(
            hits=d["hits"], skipped=d["skipped"], misses=d["misses"],
            prime_failures=d["prime_failures"], checks=d["checks"], primes=d["primes"],
            shared_hits=d["shared_hits"], warm_installs=d["warm_installs"],
            invalidations=d["invalidations"], evictions=d["evictions"],
            superseded=d["superseded"], entries=d["entries"], bytes=d["bytes"],
            total_prime_ms=d["total_prime_ns"] / 1e6, last_prime_ms=d["last_prime_ns"] / 1e6)


def _lake_error(status: int, detail: str) -> RuVectorError:
    cls = STATUS_CLASSES.get(status, RuVectorError)
    if cls is NotFoundError:
        cls = UnknownCollection
    return cls(detail, status=status, status_name=_ext.status_name(status))
