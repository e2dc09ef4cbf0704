"""Backends written in Python for ruLake (rulake.md §4): subclass
BackendAdapter, give it ``describe`` and ``pull_vectors``, register it.

The lake calls the adapter on a miss or a check, from the searching thread
or one of the engine's pool threads, with the GIL taken. C-contiguous
uint64 ids and float32 vectors are borrowed until the lake has copied them,
not converted. An exception raised by the adapter reaches the caller as
``BackendError`` (``UnknownCollection`` for a ``LookupError``), with the
adapter's exception as ``__cause__``.

``describe`` and ``pull_vectors`` may be ``async def`` (a remote store
reached through an async client): the ``*_async`` searches await them on
the caller's event loop, where concurrent searches of one key share a
describe (rulake.md §5 step 3) and a pull, and no pool thread waits for
them. The blocking API runs such a coroutine to completion in a private
event loop on the calling thread (so not from inside a running loop: call
the ``*_async`` methods there)."""

from __future__ import annotations

import asyncio
import inspect
import threading
from dataclasses import dataclass
from typing import Any, Awaitable, Dict, List, NamedTuple, Optional, Tuple, Union

import numpy.typing as npt

from ._arrays import as_float32, as_ids

__all__ = ["BackendAdapter", "CollectionInfo", "PulledBatch"]

_NOTFOUND, _BACKEND = -3, -14


@dataclass(frozen=True)
class CollectionInfo:
    """A backend's description of a collection. ``generation`` changes with
    the data (an int, or a str for opaque versions: 7 and "7" differ). With
    both ``count`` and ``content_digest`` (rulake.md §6.2, 32 bytes), the
    lake compares content witnesses (v2); otherwise the generation (v1)."""

    data_ref: str
    dim: int
    generation: Union[int, str]
    count: Optional[int] = None
    content_digest: Optional[bytes] = None


class PulledBatch(NamedTuple):
    """One pull: n unique ids, n x dim vectors, and the description of
    exactly these rows."""

    ids: npt.ArrayLike
    vectors: npt.ArrayLike
    info: CollectionInfo


def _desc_tuple(info: CollectionInfo) -> Tuple[bytes, int, int, int, bytes, int, int, bytes]:
    if not isinstance(info, CollectionInfo):
        raise TypeError(f"describe must return a CollectionInfo, got {type(info).__name__}")
    gen = info.generation
    if isinstance(gen, bool) or not isinstance(gen, (int, str)):
        raise TypeError(f"generation must be an int or a str, got {type(gen).__name__}")
    opaque = isinstance(gen, str)
    has_digest = info.count is not None and info.content_digest is not None
    digest = bytes(info.content_digest) if has_digest and info.content_digest is not None else b""
    if has_digest and len(digest) != 32:
        raise ValueError(f"content_digest must be 32 bytes, got {len(digest)}")
    return (info.data_ref.encode(), int(info.dim), int(opaque), 0 if opaque else int(gen),
            str(gen).encode() if opaque else b"", int(has_digest), int(info.count or 0), digest)


class BackendAdapter:
    """Base class of backends written in Python.

    Set ``threadsafe = True`` when describe and pull_vectors may run at once
    on several threads; by default the lake serialises them."""

    threadsafe: bool = False

    def __init__(self, name: str) -> None:
        self.name = name
        self._errors: Dict[Tuple[int, str], BaseException] = {}
        self._errors_lock = threading.Lock()

    def describe(self, collection: str) -> Union[CollectionInfo, Awaitable[CollectionInfo]]:
        """Cheap: called before searches (per the lake's consistency). May be
        ``async def``: the ``*_async`` searches then await it on their loop."""
        raise NotImplementedError

    def pull_vectors(self, collection: str) -> Union[PulledBatch, Awaitable[PulledBatch]]:
        """Every row of the collection (called on a miss); may be ``async def``."""
        raise NotImplementedError

    def _hosted_flags(self) -> int:
        """RUV_LAKE_SUPPLY_DESCRIBE (1) | RUV_LAKE_SUPPLY_PULL (2) for the
        methods this adapter defines as coroutines."""
        return ((1 if inspect.iscoroutinefunction(self.describe) else 0) |
                (2 if inspect.iscoroutinefunction(self.pull_vectors) else 0))

    def list_collections(self) -> Optional[List[str]]:
        """The collections this backend holds, or None when it cannot say."""
        return None

    # ---- called by the extension, GIL taken ----

    def _failed(self, collection: str, exc: BaseException) -> Tuple[int, str]:
        with self._errors_lock:
            self._errors[(threading.get_ident(), collection)] = exc
            if len(self._errors) > 64:  # unclaimed causes: keep the newest
                self._errors.pop(next(iter(self._errors)))
        status = _NOTFOUND if isinstance(exc, LookupError) else _BACKEND
        return status, f"{type(exc).__name__}: {exc}"

    def _take_cause(self, collection: str) -> Optional[BaseException]:
        """The exception behind the last failure on collection (the caller's
        thread first: single-target searches call the adapter there)."""
        with self._errors_lock:
            exc = self._errors.pop((threading.get_ident(), collection), None)
            if exc is None:
                for key in [k for k in self._errors if k[1] == collection]:
                    exc = self._errors.pop(key)
            return exc

    def _lake_describe(self, collection: str) -> Any:
        try:
            return _desc_tuple(_finish(self.describe(collection), "describe"))
        except Exception as exc:
            return self._failed(collection, exc)

    def _lake_pull(self, collection: str) -> Any:
        try:
            return _pull_tuple(_finish(self.pull_vectors(collection), "pull_vectors"))
        except Exception as exc:
            return self._failed(collection, exc)

    # ---- called by RuLake's *_async on the caller's event loop ----

    async def _lake_describe_async(self, collection: str) -> Any:
        info: Any = self.describe(collection)
        if inspect.isawaitable(info):
            info = await info
        return _desc_tuple(info)

    async def _lake_pull_async(self, collection: str) -> Any:
        batch: Any = self.pull_vectors(collection)
        if inspect.isawaitable(batch):
            batch = await batch
        return _pull_tuple(batch)


def _pull_tuple(batch: Any) -> Tuple[Any, Any, Tuple[bytes, int, int, int, bytes, int, int, bytes]]:
    if not isinstance(batch, PulledBatch):
        raise TypeError(f"pull_vectors must return a PulledBatch, got {type(batch).__name__}")
    return (as_ids(batch.ids, "ids"), as_float32(batch.vectors, "vectors", 2),
            _desc_tuple(batch.info))


def _finish(result: Any, what: str) -> Any:
    """An async method's coroutine run to its end for the blocking API, in
    a private event loop on this thread (there is none running here)."""
    if not inspect.iscoroutine(result):
        return result
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(result)
    result.close()
    raise RuntimeError(f"{what} is async and this thread runs an event loop: "
                       "use the lake's *_async methods here")
