"""Backends written in Python for ruLake (rulake.md §4): subclass
BackendAdapter, give it ``describe`` and ``pull_vectors``, register it.

The lake calls the adapter on a miss or a check, from the searching thread
or one of the engine's pool threads, with the GIL taken. C-contiguous
uint64 ids and float32 vectors are borrowed until the lake has copied them,
not converted. An exception raised by the adapter reaches the caller as
``BackendError`` (``UnknownCollection`` for a ``LookupError``), with the
adapter's exception as ``__cause__``."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Dict, List, NamedTuple, Optional, Tuple, Union

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

    def describe(self, collection: str) -> CollectionInfo:
        """Cheap: called before searches (per the lake's consistency)."""
        raise NotImplementedError

    def pull_vectors(self, collection: str) -> PulledBatch:
        """Every row of the collection (called on a miss)."""
        raise NotImplementedError

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
            return _desc_tuple(self.describe(collection))
        except Exception as exc:
            return self._failed(collection, exc)

    def _lake_pull(self, collection: str) -> Any:
        try:
            batch = self.pull_vectors(collection)
            if not isinstance(batch, PulledBatch):
                raise TypeError(f"pull_vectors must return a PulledBatch, got {type(batch).__name__}")
            return (as_ids(batch.ids, "ids"), as_float32(batch.vectors, "vectors", 2),
                    _desc_tuple(batch.info))
        except Exception as exc:
            return self._failed(collection, exc)
