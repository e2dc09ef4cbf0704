"""ruLake's built-in backends (in the rulake plugin, C): LocalBackend
(in memory) and FsBackend (ruvec2 / ruvec1 files)."""

from __future__ import annotations

import os
from typing import Any, Optional, Tuple, Union

from . import _ext
from ._arrays import F32, U64, as_float32, as_ids
from ._engine import Engine, default_engine
from ._errors import NotFoundError
from ._lake_types import _lake_error

__all__ = ["LocalBackend", "FsBackend"]


def _engine_handle(engine: Optional[Engine]) -> Any:
    return (engine if engine is not None else default_engine())._h


def _rows(ids: object, vectors: object) -> Tuple[U64, F32]:
    ids_a = as_ids(ids, "ids")
    vec_a = as_float32(vectors, "vectors", 2)
    if ids_a.shape[0] != vec_a.shape[0]:
        raise ValueError(f"{ids_a.shape[0]} ids for {vec_a.shape[0]} vectors")
    return ids_a, vec_a


class LocalBackend:
    """An in-memory backend (in the plugin, C). Collections of (uint64 id,
    float32 vector) rows; every change bumps the collection's generation."""

    __slots__ = ("_h", "_name")

    def __init__(self, name: str, *, engine: Optional[Engine] = None) -> None:
        self._h = _ext.lake_local_new(_engine_handle(engine), name)
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    def upsert(self, collection: str, ids: object, vectors: object) -> None:
        """Inserts rows, replacing those whose id is present (the
        collection's dim is fixed by its first rows). The ids of one call
        must be distinct: a repeated id refuses the whole call
        (InvalidArgument naming it; nothing changes)."""
        ids_a, vec_a = _rows(ids, vectors)
        self._h.put(collection, ids_a, vec_a, False)

    def put_collection(self, collection: str, ids: object, vectors: object) -> None:
        """Replaces the whole collection with these rows (distinct ids, as
        for upsert)."""
        ids_a, vec_a = _rows(ids, vectors)
        self._h.put(collection, ids_a, vec_a, True)

    def delete(self, collection: str, ids: object) -> int:
        """Deletes the ids present and returns how many rows went; absent
        and repeated ids are ignored (deleting nothing is no change)."""
        try:
            n: int = self._h.delete(collection, as_ids(ids, "ids"))
        except NotFoundError as exc:
            raise _lake_error(exc.status or -3, str(exc)) from None
        return n

    def drop_collection(self, collection: str) -> None:
        try:
            self._h.drop(collection)
        except NotFoundError as exc:
            raise _lake_error(exc.status or -3, str(exc)) from None


class FsBackend:
    """A directory of ruvec2 files (ruvector's ruvec1 also read), one per
    collection; changes are seen through each file's write token and content
    digest, never its mtime."""

    __slots__ = ("_h", "_name")

    def __init__(self, name: str, root: Union[str, "os.PathLike[str]"], *,
                 engine: Optional[Engine] = None) -> None:
        self._h = _ext.lake_fs_new(_engine_handle(engine), name, root)
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    def register(self, collection: str, filename: str) -> None:
        """Names the file (in root) that holds collection."""
        self._h.register(collection, filename)

    def write(self, filename: str, ids: object, vectors: object) -> None:
        """Writes filename in root as ruvec2, durably (fsync, rename)."""
        ids_a, vec_a = _rows(ids, vectors)
        self._h.write(filename, ids_a, vec_a)
