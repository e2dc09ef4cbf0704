"""ruLake: a cache-first vector fabric over backends (docs: rulake.md §4).

    hot = ruvector.LocalBackend("hot-shard")
    hot.upsert("docs", ids=ids_u64, vectors=vecs_f32)
    lake = ruvector.RuLake.builder().consistency(ruvector.Consistency.EVENTUAL).ttl_ms(5_000).build()
    lake.register_backend(hot)
    hits = lake.search_one("docs", query, k=10)   # [LakeSearchResult(backend, collection, id, score)]

On a miss the lake pulls the collection from its backend and builds a
RabitqPlusIndex from it (the engine's thread pool, the GIL released); later
searches check the backend's description per the consistency mode and reuse
the cached index while it matches. Everything here calls the `rulake`
feature plugin, loaded into the engine on first use.
"""

from __future__ import annotations

import asyncio
import atexit
import operator
import os
import weakref
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple, Union

import numpy as np
import numpy.typing as npt

from . import _ext
from ._arrays import F32, U64, as_float32, check_batch_output
from ._engine import Engine
from ._errors import STATUS_CLASSES, BackendError, LakeError, NotFoundError, RuVectorError, StateError
from . import _lake_hosted
from ._lake_adapter import BackendAdapter
from ._lake_backends import FsBackend, LocalBackend, _engine_handle
from ._lake_types import (
    CacheStats,
    Consistency,
    Key,
    LakeBackendName,
    LakeSearchResult,
    RefreshResult,
    SearchResults,
    UnknownBackend,
    UnknownCollection,
    _lake_error,
)

__all__ = [
    "Consistency",
    "RuLake",
    "RuLakeBuilder",
    "LocalBackend",
    "FsBackend",
    "LakeBackendName",
    "LakeSearchResult",
    "SearchResults",
    "CacheStats",
    "UnknownBackend",
    "UnknownCollection",
    "RefreshResult",
]

Backend = Union[LocalBackend, FsBackend, BackendAdapter]

_METRICS = {"l2": 1, "ip": 2, "cosine": 3}
_Out = Tuple[U64, F32, npt.NDArray[np.uint32], npt.NDArray[np.uint32]]
_PARTIAL, _DEDUPE, _NO_PRIME, _WARMUP, _WARMUP_DESCRIBE = 1, 2, 4, 8, 16
_NO_QUERY = np.empty(0, dtype=np.float32)  # with _WARMUP: the plugin makes the query up
_AUTO = 0xFFFFFFFF  # RUV_INDEX_AUTO: the engine's plan chooses
#: an Ed25519 key: raw 32 bytes, PEM text, or the path of a PEM file
KeySource = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]"]


def _hits(backend: str, collection: str, ids: U64, scores: F32,
          nh: npt.NDArray[np.uint32]) -> List[LakeSearchResult]:
    n = int(nh[0])  # tolist: Python ints and floats at once, not one NumPy scalar each
    return [LakeSearchResult(backend, collection, i, sc)
            for i, sc in zip(ids[0, :n].tolist(), scores[0, :n].tolist())]


class RuLakeBuilder:
    """Settings of a RuLake; nothing changes after build()."""

    def __init__(self, engine: Optional[Engine] = None) -> None:
        self._engine = engine
        self._consistency = Consistency.FRESH
        self._ttl_ms: Optional[int] = None
        self._rerank = 20
        self._seed = 42
        self._metric = "l2"
        self._bits: Optional[int] = None  # None: the engine's plan, per collection
        self._nlist: Optional[int] = None
        self._max_entries = 0
        self._max_bytes = 0
        self._threads = 0
        self._public_keys: List[bytes] = []
        self._signing_key = b""

    @staticmethod
    def _uint(what: str, value: int, lo: int, hi: int) -> int:
        v = operator.index(value)
        if not lo <= v <= hi:
            raise ValueError(f"{what} must be in {lo}..{hi}, got {v}")
        return v

    def consistency(self, mode: Consistency) -> "RuLakeBuilder":
        self._consistency = Consistency(mode)
        return self

    def ttl_ms(self, ms: int) -> "RuLakeBuilder":
        self._ttl_ms = self._uint("ttl_ms", ms, 0, (1 << 53))
        return self

    def rerank_factor(self, factor: int) -> "RuLakeBuilder":
        self._rerank = self._uint("rerank_factor", factor, 1, (1 << 31) - 1)
        return self

    def rotation_seed(self, seed: int) -> "RuLakeBuilder":
        self._seed = self._uint("rotation_seed", seed, 0, (1 << 63) - 1)
        return self

    def metric(self, metric: str) -> "RuLakeBuilder":
        if metric not in _METRICS:
            raise ValueError(f"metric must be one of {sorted(_METRICS)}, got {metric!r}")
        self._metric = metric
        return self

    def bits(self, bits: int) -> "RuLakeBuilder":
        """RaBitQ code bits, 1..8. Default: the engine's plan chooses per
        collection (from its size and dimension, for recall@10 0.95; 4 bits
        with IVF at 100k rows). ``.bits(1).nlist(0)`` gives the spec's values
        (recall@10 0.67 on ruvector-demo-100k at rerank 20)."""
        self._bits = self._uint("bits", bits, 1, 8)
        return self

    def nlist(self, nlist: int) -> "RuLakeBuilder":
        """IVF lists (0: none). Default: the engine's plan, per collection."""
        self._nlist = self._uint("nlist", nlist, 0, (1 << 31) - 1)
        return self

    def max_cache_entries(self, n: int) -> "RuLakeBuilder":
        self._max_entries = self._uint("max_cache_entries", n, 1, (1 << 63) - 1)
        return self

    def max_cache_bytes(self, n: int) -> "RuLakeBuilder":
        self._max_bytes = self._uint("max_cache_bytes", n, 1, (1 << 63) - 1)
        return self

    def _raw_key(self, what: str, key: KeySource, private: bool) -> bytes:
        """The raw 32 bytes of an Ed25519 key given raw, as PEM text or as
        the path of a PEM file (read with libcrypto's PEM readers)."""
        where = ""
        if isinstance(key, (str, os.PathLike)):
            path = os.fspath(key)
            try:
                with open(path, "rb") as f:
                    data = f.read(64 * 1024 + 1)
            except FileNotFoundError:
                raise FileNotFoundError(f"{what}: no such key file: {path!r}") from None
            except IsADirectoryError:
                raise ValueError(f"{what}: {path!r} is a directory, not a key file") from None
            where = f" (file {path!r})"
        elif isinstance(key, (bytes, bytearray, memoryview)):
            data = bytes(key)
        else:
            raise TypeError(f"{what} must be bytes (raw 32 bytes or PEM) or a path, "
                            f"got {type(key).__name__}")
        if len(data) == 32 and not data.startswith(b"-----"):
            return data
        if b"-----BEGIN" not in data:
            raise ValueError(f"{what}{where}: neither a raw 32-byte Ed25519 key nor PEM text "
                             f"({len(data)} bytes, no -----BEGIN line)")
        try:
            raw: bytes = _ext.lake_key_from_pem(_engine_handle(self._engine), data, private)
        except RuVectorError as exc:
            raise type(exc)(f"{exc}{where}", status=exc.status,
                            status_name=exc.status_name) from None
        return raw

    def public_key(self, key: KeySource) -> "RuLakeBuilder":
        """Trust bundles signed by this Ed25519 public key (may repeat): raw
        32 bytes, PEM text (-----BEGIN PUBLIC KEY-----) or a path to a PEM
        file. With any, warm_from_dir and refresh_from_bundle_dir refuse
        unsigned bundles and those signed by other keys (IntegrityError)."""
        self._public_keys.append(self._raw_key("public_key", key, False))
        return self

    def signing_key(self, key: KeySource) -> "RuLakeBuilder":
        """Sign what save_cache_to_dir and publish_bundle write with this
        Ed25519 private key: raw 32 bytes (the seed), unencrypted PKCS#8 PEM
        text (-----BEGIN PRIVATE KEY-----) or a path to such a file."""
        self._signing_key = self._raw_key("signing_key", key, True)
        return self

    def threads(self, n: int) -> "RuLakeBuilder":
        self._threads = self._uint("threads", n, 0, 4096)
        return self

    def _ttl(self) -> int:
        """The TTL the lake uses: 1,000 ms by default with EVENTUAL, else 0."""
        if self._ttl_ms is None:
            return 1000 if self._consistency == Consistency.EVENTUAL else 0
        return self._ttl_ms

    def build(self) -> "RuLake":
        if self._ttl_ms is not None and self._consistency != Consistency.EVENTUAL:
            raise ValueError("ttl_ms is valid only with Consistency.EVENTUAL")
        ttl = self._ttl()
        h = _ext.lake_open(
            _engine_handle(self._engine), int(self._consistency), ttl, self._rerank,
            _METRICS[self._metric], _AUTO if self._bits is None else self._bits,
            _AUTO if self._nlist is None else self._nlist, self._seed, self._max_entries,
            self._max_bytes, self._threads, b"".join(self._public_keys), self._signing_key)
        return RuLake._wrap(h, self)


class RuLake:
    """A read cache for top-k search over collections held by backends.

    Build with ``RuLake.builder()...build()``. A key is ``(backend,
    collection)``. Thread-safe; every search releases the GIL."""

    __slots__ = ("_h", "_backends", "_warm_only", "_adapters", "_hosted_flags", "_host_calls",
                 "_completions", "_keys", "consistency", "ttl_ms", "metric", "__weakref__")

    _h: Any
    _backends: List[str]
    #: backend names warm_from_dir installed entries under, not registered (yet)
    _warm_only: List[str]
    _adapters: Dict[str, BackendAdapter]
    #: per adapter name: what its async methods make the caller's loop do
    #: (RUV_LAKE_SUPPLY_DESCRIBE / _PULL); absent or 0: nothing
    _hosted_flags: Dict[str, int]
    _host_calls: _lake_hosted.HostCalls
    _completions: _lake_hosted.Completions
    _keys: Set[Key]
    consistency: Consistency
    ttl_ms: int
    metric: str

    def __init__(self) -> None:
        raise TypeError("use RuLake.builder()...build()")

    @staticmethod
    def builder(engine: Optional[Engine] = None) -> RuLakeBuilder:
        return RuLakeBuilder(engine)

    @classmethod
    def _wrap(cls, h: Any, b: RuLakeBuilder) -> "RuLake":
        self = object.__new__(cls)
        self._h = h
        self._backends = []
        self._warm_only = []
        self._adapters = {}
        self._hosted_flags = {}
        self._host_calls = _lake_hosted.HostCalls()
        self._completions = _lake_hosted.Completions(self._h)
        self._keys = set()
        self.consistency = b._consistency
        self.ttl_ms = b._ttl()
        self.metric = b._metric
        _open_lakes.add(self)
        return self

    # ---- backends ----

    def register_backend(self, backend: Backend) -> None:
        """Adds a backend; a second one with the same name is a ValueError."""
        if not isinstance(backend, (LocalBackend, FsBackend, BackendAdapter)):
            raise TypeError("backend must be a LocalBackend, an FsBackend or a BackendAdapter")
        if backend.name in self._backends:
            raise ValueError(f"a backend named {backend.name!r} is already registered")
        # A name only warmed so far: the backend takes its place (its warm
        # entries are kept and checked against it from now on).
        if isinstance(backend, BackendAdapter):
            self._h.register_adapter(backend, backend.name, bool(backend.threadsafe))
            self._adapters[backend.name] = backend
            self._hosted_flags[backend.name] = backend._hosted_flags()
        else:
            self._h.register(backend._h)
        if backend.name in self._warm_only:
            self._warm_only.remove(backend.name)
        self._backends.append(backend.name)

    @property
    def backends(self) -> List[LakeBackendName]:
        """Backend names: the registered ones in registration order, then
        the names warm_from_dir installed entries under whose backend is not
        registered (yet), each marked ``.absent`` (a str otherwise)."""
        return ([LakeBackendName(b) for b in self._backends] +
                [LakeBackendName(b, absent=True) for b in self._warm_only])

    def _known(self) -> List[str]:
        """Registered backends and names only warmed, as the plugin counts them."""
        return self._backends + self._warm_only

    def _backend_name(self, backend: Optional[str]) -> str:
        known = self._known()
        if backend is None:
            if len(known) != 1:
                raise UnknownBackend(
                    f"name a backend: {len(self._backends)} are registered ({self._backends})")
            return known[0]
        if backend not in known:
            raise UnknownBackend(f"unknown backend {backend!r} (registered: {self._backends})")
        return backend

    # ---- search ----

    def _outputs(self, qs: F32, k: int, rerank: Optional[int]) -> Tuple[int, int, _Out]:
        k = operator.index(k)
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        rf = 0 if rerank is None else self._check_rerank(rerank)
        nq = qs.shape[0]
        if nq * k > (1 << 20):  # 12 MiB fits any machine: skip the memory query per search
            check_batch_output(nq, k)
        out = (np.empty((nq, k), dtype=np.uint64), np.empty((nq, k), dtype=np.float32),
               np.empty((nq, k), dtype=np.uint32), np.zeros(nq, dtype=np.uint32))
        return k, rf, out

    def _search(self, targets: Sequence[Key], qs: F32, k: int, rerank: Optional[int],
                flags: int) -> Tuple[U64, F32, npt.NDArray[np.uint32], npt.NDArray[np.uint32],
                                     List[Tuple[int, str]]]:
        k, rf, (ids, scores, tg, nh) = self._outputs(qs, k, rerank)
        try:
            status = self._h.search(tuple(targets), qs, k, rf, flags, ids, scores, tg, nh)
        except NotFoundError as exc:
            nf = UnknownCollection(str(exc), status=exc.status, status_name=exc.status_name)
            raise self._with_cause(nf, targets[0])
        except BackendError as exc:
            raise self._with_cause(exc, targets[0])
        for key in targets:
            self._keys.add(key)
        return ids, scores, tg, nh, status

    def _search_one(self, backend: str, collection: str, q: F32, k: int, rf: int,
                    flags: int) -> List[LakeSearchResult]:
        """One query (dim,) on one key: the extension searches and builds the
        hits itself (no output arrays, no Python per hit: this wrapper was
        a third of a small search's time)."""
        try:
            hits: List[LakeSearchResult] = self._h.search_one(backend, collection, q, k, rf,
                                                              flags, LakeSearchResult)
        except NotFoundError as exc:
            nf = UnknownCollection(str(exc), status=exc.status, status_name=exc.status_name)
            raise self._with_cause(nf, (backend, collection))
        except BackendError as exc:
            raise self._with_cause(exc, (backend, collection))
        self._keys.add((backend, collection))
        return hits

    async def _search_async(self, targets: Sequence[Key], qs: F32, k: int,
                            rerank: Optional[int], flags: int
                            ) -> Tuple[U64, F32, npt.NDArray[np.uint32], npt.NDArray[np.uint32],
                                       List[Tuple[int, str]]]:
        """_search on the engine's pool (the event loop keeps running; an
        async BackendAdapter is awaited on it: see _lake_hosted)."""
        k, rf, outs = self._outputs(qs, k, rerank)
        status = await _lake_hosted.search(self, targets, qs, k, rf, flags, outs)
        for key in targets:
            self._keys.add(key)
        return (*outs, status)

    def _checks_every_call(self) -> bool:
        """Whether every search asks the backend (FRESH, or EVENTUAL with TTL 0)."""
        return self.consistency == Consistency.FRESH or (
            self.consistency == Consistency.EVENTUAL and self.ttl_ms == 0)

    def _with_cause(self, exc: RuVectorError, key: Key) -> RuVectorError:
        """exc with .backend, .collection and, for a Python backend, the
        adapter's own exception as __cause__."""
        if isinstance(exc, LakeError):
            exc.backend, exc.collection = key
        adapter = self._adapters.get(key[0])
        cause = adapter._take_cause(key[1]) if adapter is not None else None
        if cause is not None:
            exc.__cause__ = cause
        exc.__suppress_context__ = True
        return exc

    @staticmethod
    def _check_rerank(rerank: int) -> int:
        r = operator.index(rerank)
        if not 1 <= r < (1 << 31):
            raise ValueError(f"rerank_factor must be >= 1, got {r}")
        return r

    def search_one(self, collection: str, query: npt.ArrayLike, k: int = 10, *,
                   backend: Optional[str] = None, rerank_factor: Optional[int] = None,
                   prime: bool = True) -> List[LakeSearchResult]:
        """The k nearest rows of one collection, best first (ties by id).
        ``prime=False`` raises CacheMissError instead of pulling."""
        b = self._backend_name(backend)
        q = as_float32(query, "query", 1)
        k = operator.index(k)
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        rf = 0 if rerank_factor is None else self._check_rerank(rerank_factor)
        return self._search_one(b, collection, q, k, rf, 0 if prime else _NO_PRIME)

    async def search_one_async(self, collection: str, query: npt.ArrayLike, k: int = 10, *,
                               backend: Optional[str] = None,
                               rerank_factor: Optional[int] = None,
                               prime: bool = True) -> List[LakeSearchResult]:
        """search_one without blocking the event loop (the engine's pool runs it)."""
        b = self._backend_name(backend)
        q = as_float32(query, "query", 1)
        flags = 0 if prime else _NO_PRIME
        k = operator.index(k)
        if not 1 <= k <= (1 << 20):  # a k to check against memory (or refuse)
            ids, scores, _, nh, _ = await self._search_async(
                [(b, collection)], q.reshape(1, -1), k, rerank_factor, flags)
            return _hits(b, collection, ids, scores, nh)
        # The common case in fewer steps (the loop runs 100 concurrent calls
        # in one turn): no output arrays, one coroutine, the future resolved
        # by _lake_hosted.Completions with the hits as lists.
        rf = 0 if rerank_factor is None else self._check_rerank(rerank_factor)
        key = (b, collection)
        if self._hosted_flags.get(b):  # async adapter methods, awaited on this loop
            got_ids, got_scores = await _lake_hosted.search_one(self, key, q, k, rf, flags)
            self._keys.add(key)
            return [LakeSearchResult(b, collection, i, sc) for i, sc in zip(got_ids, got_scores)]
        fut, ticket = _lake_hosted.submit_one(self, key, q, k, rf, flags)
        try:
            status, detail, _, got = await fut
        except asyncio.CancelledError:
            self._h.cancel(ticket)
            raise
        if status != 0:
            raise self._with_cause(_lake_error(status, detail), key)
        self._keys.add(key)
        assert got is not None
        return [LakeSearchResult(b, collection, i, sc) for i, sc in zip(*got)]

    def search_batch(self, collection: str, queries: npt.ArrayLike, k: int = 10, *,
                     backend: Optional[str] = None, rerank_factor: Optional[int] = None,
                     prime: bool = True) -> Tuple[U64, F32]:
        """Every row of queries (n, dim) after one coherence check. Returns
        (ids, scores), uint64 and float32 (n, k), like Index.search_batch:
        unused slots hold id 2**64-1 and score NaN."""
        b = self._backend_name(backend)
        qs = as_float32(queries, "queries", 2)
        ids, scores, _, _, _ = self._search([(b, collection)], qs, k, rerank_factor,
                                             0 if prime else _NO_PRIME)
        return ids, scores

    async def search_batch_async(self, collection: str, queries: npt.ArrayLike, k: int = 10, *,
                                 backend: Optional[str] = None,
                                 rerank_factor: Optional[int] = None,
                                 prime: bool = True) -> Tuple[U64, F32]:
        """search_batch without blocking the event loop."""
        b = self._backend_name(backend)
        qs = as_float32(queries, "queries", 2)
        ids, scores, _, _, _ = await self._search_async([(b, collection)], qs, k, rerank_factor,
                                                        0 if prime else _NO_PRIME)
        return ids, scores

    def _federated_keys(self, collection: str, targets: Optional[Sequence[Key]],
                        on_error: str) -> List[Key]:
        if on_error not in ("raise", "partial"):
            raise ValueError(f'on_error must be "raise" or "partial", got {on_error!r}')
        keys: List[Key] = ([(b, collection) for b in self._backends] if targets is None
                           else [(self._backend_name(b), c) for b, c in targets])
        if not keys:
            raise UnknownBackend("no backend is registered")
        return keys

    def _federated_result(self, collection: str, keys: List[Key], implicit: bool,
                          on_error: str, ids: U64, scores: F32, tg: npt.NDArray[np.uint32],
                          nh: npt.NDArray[np.uint32],
                          status: List[Tuple[int, str]]) -> SearchResults:
        errors: Dict[Key, LakeError] = {}
        missing = 0
        for key, (st, detail) in zip(keys, status):
            if st == 0:
                continue
            if implicit and STATUS_CLASSES.get(st) is NotFoundError:
                missing += 1  # this backend does not hold the collection
                continue
            exc = _lake_error(st, detail)
            if not isinstance(exc, LakeError):
                exc = LakeError(detail, status=st, status_name=_ext.status_name(st))
            if key not in errors:
                errors[key] = self._with_cause(exc, key)  # type: ignore[assignment]
        if implicit and missing == len(keys):
            raise UnknownCollection(f"no registered backend holds collection {collection!r}")
        if errors and on_error == "raise":
            raise next(iter(errors.values()))
        hits = [LakeSearchResult(keys[int(tg[0, j])][0], keys[int(tg[0, j])][1],
                                 int(ids[0, j]), float(scores[0, j]))
                for j in range(int(nh[0]))]
        return SearchResults(hits, errors)

    def search_federated(self, collection: str, query: npt.ArrayLike, k: int = 10, *,
                         targets: Optional[Sequence[Key]] = None,
                         rerank_factor: Optional[int] = None, on_error: str = "raise",
                         dedupe_ids: bool = False) -> SearchResults:
        """One query over several keys (default: collection on every
        registered backend, in registration order, skipping backends that
        lack it), merged by (score, target position, id). ``on_error``:
        "raise" (the first failing target's error) or "partial" (the healthy
        targets' hits, ``.errors`` per failed key). ``dedupe_ids`` keeps the
        best hit per id."""
        keys = self._federated_keys(collection, targets, on_error)
        q = as_float32(query, "query", 1).reshape(1, -1)
        flags = _PARTIAL | (_DEDUPE if dedupe_ids else 0)
        out = self._search(keys, q, k, rerank_factor, flags)
        return self._federated_result(collection, keys, targets is None, on_error, *out)

    async def search_federated_async(self, collection: str, query: npt.ArrayLike, k: int = 10,
                                     *, targets: Optional[Sequence[Key]] = None,
                                     rerank_factor: Optional[int] = None,
                                     on_error: str = "raise",
                                     dedupe_ids: bool = False) -> SearchResults:
        """search_federated without blocking the event loop."""
        keys = self._federated_keys(collection, targets, on_error)
        q = as_float32(query, "query", 1).reshape(1, -1)
        flags = _PARTIAL | (_DEDUPE if dedupe_ids else 0)
        out = await self._search_async(keys, q, k, rerank_factor, flags)
        return self._federated_result(collection, keys, targets is None, on_error, *out)

    # ---- cache ----

    def invalidate_cache(self, key: Key) -> bool:
        """Drops the key's cached entry; returns whether there was one."""
        b, c = key
        was: bool = self._h.invalidate(self._backend_name(b), c)
        return was

    def cache_witness_of(self, key: Key, *, version: int = 2) -> Optional[str]:
        """The cached entry's witness (rulake.md §6; hex), or None."""
        b, c = key
        w: Optional[str] = self._h.witness_of(self._backend_name(b), c, version)
        return w

    def save_cache_to_dir(self, key: Key, dir: Union[str, "os.PathLike[str]"]) -> str:
        """Writes the key's cached entry to dir (its index file and sidecar,
        committed by one rename; no backend call). Returns its v2 witness.
        UnknownCollection when the key is not cached."""
        b, c = key
        try:
            w: str = self._h.save_cache(self._backend_name(b), c, dir)
        except NotFoundError as exc:
            raise UnknownCollection(str(exc), status=exc.status,
                                    status_name=exc.status_name) from None
        return w

    def publish_bundle(self, collection: str, *, out_dir: Union[str, "os.PathLike[str]"],
                       backend: Optional[str] = None) -> str:
        """Publishes the collection's bundle into out_dir (created if
        missing): the backend describes the collection now, whatever the
        consistency mode; the cached entry is used when it names that state,
        else the key primes again. The directory gets the index file and the
        sidecar (signed with the builder's signing_key), committed by one
        rename; another lake reads it with refresh_from_bundle_dir or
        warm_from_dir, and RuLakeBundle.read shows it. Returns the v2 witness."""
        b = self._backend_name(backend)
        w: str = self._h.publish(b, collection, out_dir)
        self._keys.add((b, collection))
        return w

    def warm_from_dir(self, key: Key, dir: Union[str, "os.PathLike[str]"]) -> int:
        """Installs the entry saved in dir under key (checked: witnesses,
        index size and SHAKE-256, this lake's seed and parameters); returns
        its row count. The key's backend need not be registered yet (the
        load never calls it): a STALE lake then searches the warm entry without
        it, while a FRESH or EVENTUAL search (which asks the backend whether
        the entry is current) raises BackendError saying the backend is
        needed, until register_backend adds it.

        Its last step is a warm-up of the entry, answered from the cache
        (no coherence check, counted in no statistic; hits dropped): up to
        16 of the entry's stored rows searched as queries,
        then one made-up query through search_one's steps; and, when the
        key's backend is a registered LocalBackend or FsBackend and the lake
        checks (not STALE), one description asked of it, answer dropped
        (a BackendAdapter is never asked). The load streams
        the whole index file through the CPU caches, and without it the
        first real searches would find this path's code and the rows
        re-ranks read evicted (rulake.md §12 T2). It costs about 17
        searches."""
        b, c = key
        name = self._backend_name(b) if b is None or b in self._known() else str(b)
        n: int = self._h.warm(name, c, dir)
        if name not in self._known():
            self._warm_only.append(name)
        self._keys.add((name, c))
        if n:
            self._warm_up(name, c)
        return n

    def _warm_up(self, backend: str, collection: str) -> None:
        """The steps of search_one on the key's entry with the plugin's
        warm-up flag (RUV_LAKE_WARMUP: the query is made up by the plugin,
        the entry searched as cached), the hits dropped; then, when a
        registered LocalBackend or FsBackend will be asked at the first
        search (not STALE), one description asked of it and dropped
        (RUV_LAKE_WARMUP_DESCRIBE). A BackendAdapter is not asked: its
        describe is the application's code, with its own failures."""
        flags = _WARMUP
        if (backend in self._backends and backend not in self._adapters
                and self.consistency != Consistency.STALE):
            flags |= _WARMUP_DESCRIBE
        self._search_one(backend, collection, as_float32(_NO_QUERY, "query", 1), 10, 0, flags)

    def refresh_from_bundle_dir(self, key: Key,
                                dir: Union[str, "os.PathLike[str]"]) -> RefreshResult:
        """Compares the bundle in dir with the key's entry; drops the entry
        only when the bundle names another state of the same data."""
        b, c = key
        return RefreshResult(self._h.refresh(self._backend_name(b), c, dir))

    def __contains__(self, key: object) -> bool:
        if not (isinstance(key, tuple) and len(key) == 2 and key[0] in self._known()):
            return False
        return self.cache_witness_of((str(key[0]), str(key[1]))) is not None

    def cache_stats(self) -> CacheStats:
        """Counters of the whole lake (entries and bytes: what is cached now)."""
        return CacheStats._from(self._h.stats(None, None))

    def cache_stats_by_backend(self) -> Dict[str, CacheStats]:
        return {b: CacheStats._from(self._h.stats(b, None)) for b in self._known()}

    def cache_stats_by_collection(self) -> Dict[Key, CacheStats]:
        """Counters per key this lake has searched."""
        return {k: CacheStats._from(self._h.stats(k[0], k[1])) for k in sorted(self._keys)}

    # ---- life ----

    def close(self) -> None:
        """Frees every cached index (waits for running searches). Idempotent."""
        self._h.close()

    def __enter__(self) -> "RuLake":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


#: Lakes still open at exit are closed first: a request still queued must
#: not call back into an interpreter that is shutting down.
_open_lakes: "weakref.WeakSet[RuLake]" = weakref.WeakSet()


@atexit.register
def _close_open_lakes() -> None:
    for lake in list(_open_lakes):
        lake.close()


class _ForkedHandle:
    """A lake's handle in a child forked while the lake had async requests
    in flight. Those requests, and whatever they held in the plugin (a
    describe or prime in progress, a pool task), belong to the parent's
    threads, which the child does not have: a search in the child would
    wait for them forever. So every call raises StateError, saying why;
    close does nothing (the parent's requests are not the child's to wait
    for). A lake with nothing in flight at the fork stays usable."""

    __slots__ = ("_h", "_why")

    def __init__(self, h: Any, inflight: int) -> None:
        self._h = h  # kept: its memory is the parent's copy
        self._why = (f"this RuLake had {inflight} async request(s) in flight when the process "
                     f"forked (parent pid {os.getppid()}); their threads stayed in the parent, "
                     "so the child cannot use it: build a new RuLake in the child")

    def close(self) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        raise StateError(self._why)


def _after_fork_in_child() -> None:
    for lake in list(_open_lakes):
        inflight = sum(lake._completions._loops.values())
        if inflight and not isinstance(lake._h, _ForkedHandle):
            lake._h = _ForkedHandle(lake._h, inflight)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
