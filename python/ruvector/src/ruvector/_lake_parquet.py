"""ParquetBackend: ruLake over Parquet files, through pyarrow (optional).

    pq_backend = ruvector.ParquetBackend("parquet", {"docs": "docs.parquet"})
    lake.register_backend(pq_backend)
    lake.search_one("docs", query, k=10)

One file per collection, with an integer id column (unique; uint64, or
int64 >= 0) and a vector column: fixed_size_list<float32> (what
``ParquetBackend.write`` makes), or list<float> whose rows all have one
length. describe reads only the file's footer and ``stat``: the generation
is the opaque ``parquet:<dev>:<ino>:<size>:<mtime_ns>:<ctime_ns>``
(nanoseconds and the inode, so a same-second rewrite or an atomic replace
is seen; rulake.md §11 row 5). A pull takes the rows described by a stat
before and after the read: a file replaced during the read is read again.

pyarrow is imported on first use; without it the constructor raises
ImportError saying so (``pip install pyarrow``).
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

import numpy as np
import numpy.typing as npt

from ._lake_adapter import BackendAdapter, CollectionInfo, PulledBatch

__all__ = ["ParquetBackend"]

PathArg = Union[str, "os.PathLike[str]"]


def _pyarrow() -> Tuple[Any, Any]:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError as exc:
        raise ImportError("ParquetBackend needs pyarrow (pip install pyarrow)") from exc
    return pyarrow, pyarrow.parquet


def _generation(st: os.stat_result) -> str:
    return (f"parquet:{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:"
            f"{st.st_ctime_ns}")


class ParquetBackend(BackendAdapter):
    """A BackendAdapter over Parquet files, one per collection."""

    threadsafe = True  # each call opens its own reader

    def __init__(self, name: str, files: Optional[Mapping[str, PathArg]] = None, *,
                 id_column: str = "id", vector_column: str = "vector") -> None:
        super().__init__(name)
        self._pa, self._pq = _pyarrow()
        self.id_column = id_column
        self.vector_column = vector_column
        self._files: Dict[str, str] = {}
        # collection -> (generation, description): describe opens the footer
        # only when stat says the file changed (FRESH lakes describe per search).
        self._known: Dict[str, Tuple[str, CollectionInfo]] = {}
        for collection, path in (files or {}).items():
            self.register(collection, path)

    def register(self, collection: str, path: PathArg) -> None:
        """Serves collection from the Parquet file at path (it may not exist yet)."""
        self._files[collection] = os.path.abspath(os.fspath(path))
        self._known.pop(collection, None)

    def list_collections(self) -> Optional[List[str]]:
        return sorted(self._files)

    def _path(self, collection: str) -> str:
        try:
            return self._files[collection]
        except KeyError:
            raise LookupError(f"no Parquet file registered for collection {collection!r}") from None

    def _dim(self, schema: Any, path: str) -> Optional[int]:
        """The vector length from the schema (fixed_size_list), else None."""
        pa = self._pa
        idx = schema.get_field_index(self.vector_column)
        if idx < 0:
            raise ValueError(f"{path}: no column {self.vector_column!r} "
                             f"(columns: {schema.names})")
        t = schema.field(idx).type
        if pa.types.is_fixed_size_list(t):
            return int(t.list_size)
        if not (pa.types.is_list(t) or pa.types.is_large_list(t)):
            raise ValueError(f"{path}: column {self.vector_column!r} is {t}, not a list of floats")
        return None

    @staticmethod
    def _info(path: str, st: os.stat_result, dim: int) -> CollectionInfo:
        return CollectionInfo(data_ref="file://" + os.path.realpath(path), dim=dim,
                              generation=_generation(st))

    def describe(self, collection: str) -> CollectionInfo:
        path = self._path(collection)
        st = os.stat(path)
        gen = _generation(st)
        known = self._known.get(collection)
        if known is not None and known[0] == gen:
            return known[1]
        meta = self._pq.ParquetFile(path)
        try:
            dim = self._dim(meta.schema_arrow, path)
            if dim is None:  # list<float>: the first row says
                first = meta.read_row_group(0, columns=[self.vector_column]) \
                    if meta.num_row_groups else None
                dim = len(first.column(0)[0]) if first is not None and first.num_rows else 1
        finally:
            meta.close()
        info = self._info(path, st, dim)
        self._known[collection] = (gen, info)
        return info

    def _vectors(self, column: Any, path: str) -> npt.NDArray[np.float32]:
        pa = self._pa
        col = column.combine_chunks() if hasattr(column, "combine_chunks") else column
        n = len(col)
        if col.null_count:
            raise ValueError(f"{path}: column {self.vector_column!r} has null rows")
        if pa.types.is_fixed_size_list(col.type):
            dim = int(col.type.list_size)
            flat = col.flatten()
        else:
            lengths = col.value_lengths().to_numpy(zero_copy_only=False)
            dim = int(lengths[0]) if n else 0
            if n and not (lengths == dim).all():
                bad = int(np.argmax(lengths != dim))
                raise ValueError(f"{path}: row {bad} has {int(lengths[bad])} values, row 0 has {dim}")
            flat = col.flatten()
        if not pa.types.is_float32(flat.type):
            flat = flat.cast(pa.float32())
        vec = flat.to_numpy(zero_copy_only=False).reshape(n, dim)
        return np.ascontiguousarray(vec, dtype=np.float32)

    def _ids(self, column: Any, path: str) -> npt.NDArray[np.uint64]:
        pa = self._pa
        col = column.combine_chunks() if hasattr(column, "combine_chunks") else column
        if col.null_count or not pa.types.is_integer(col.type):
            raise ValueError(f"{path}: column {self.id_column!r} must be integers without nulls "
                             f"(it is {col.type})")
        ids = col.to_numpy(zero_copy_only=False)
        if ids.dtype.kind == "i" and ids.size and int(ids.min()) < 0:
            raise ValueError(f"{path}: column {self.id_column!r} has negative ids")
        return np.ascontiguousarray(ids.astype(np.uint64, copy=False))

    def pull_vectors(self, collection: str) -> PulledBatch:
        path = self._path(collection)
        for _ in range(3):
            before = os.stat(path)
            table = self._pq.read_table(path, columns=[self.id_column, self.vector_column])
            after = os.stat(path)
            if _generation(before) == _generation(after):
                break
        else:
            raise RuntimeError(f"{path} kept changing while it was read")
        ids = self._ids(table.column(self.id_column), path)
        vectors = self._vectors(table.column(self.vector_column), path)
        return PulledBatch(ids, vectors, self._info(path, before, int(vectors.shape[1])))

    @staticmethod
    def write(path: PathArg, ids: npt.ArrayLike, vectors: npt.ArrayLike, *,
              id_column: str = "id", vector_column: str = "vector",
              row_group_size: Optional[int] = None) -> None:
        """Writes rows as a Parquet file this backend reads: uint64 ids and
        fixed_size_list<float32> vectors. Written beside path and renamed
        onto it, so a reader sees the old file or the new one."""
        pa, pq = _pyarrow()
        v = np.ascontiguousarray(vectors, dtype=np.float32)
        if v.ndim != 2:
            raise ValueError(f"vectors must be 2-D, got shape {v.shape}")
        i = np.ascontiguousarray(ids, dtype=np.uint64)
        col = pa.FixedSizeListArray.from_arrays(pa.array(v.reshape(-1)), v.shape[1])
        table = pa.table({id_column: pa.array(i), vector_column: col})
        final = os.fspath(path)
        tmp = f"{final}.tmp.{os.getpid()}"
        pq.write_table(table, tmp, row_group_size=row_group_size)
        os.replace(tmp, final)
