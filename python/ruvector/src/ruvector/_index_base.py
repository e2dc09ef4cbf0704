"""What the four index classes share (the public classes are in _index.py):
the results' named tuples, the zero-copy views of stored vectors, and
``_Index``, which wraps one C index (``ruvector._ext.Index``): construction,
search, add/remove/save, the sequence and mapping protocols. Searches may
run from many Python threads at once and release the GIL; add, remove and
save are serialised against everything else by a reader-writer lock in the
extension.
"""

from __future__ import annotations

import filecmp
import operator
import os
import tempfile
from typing import (
    Any,
    ClassVar,
    Dict,
    Iterator,
    List,
    Literal,
    NamedTuple,
    Optional,
    SupportsIndex,
    Tuple,
    Type,
    TypeVar,
    Union,
    overload,
)

import numpy as np
import numpy.typing as npt

from . import _ext
from ._arrays import MAX_ID, F32, U64, as_float32, as_ids, check_batch_output
from ._engine import Engine, default_engine
from ._errors import NotFoundError, OriginalsNotStored

PathArg = Union[str, "os.PathLike[str]"]
IdsArg = Union[npt.ArrayLike, int]
_I = TypeVar("_I", bound="_Index")


class SearchResult(NamedTuple):
    """One hit: the vector's id and its score (squared L2 distance,
    ascending; or inner product / cosine similarity, descending)."""

    id: int
    score: float


class IndexItem(NamedTuple):
    """What iterating an index yields: an id and a copy of its stored vector."""

    id: int
    vector: F32


_NATIVE_F32 = np.dtype(np.float32).str
_NATIVE_U64 = np.dtype(np.uint64).str


class _ExportView:
    """Describes a pinned C buffer to NumPy (``__array_interface__``).

    The array NumPy makes keeps this object (and so the export) alive as its
    base; while any such array lives, add/remove on the index raise
    BufferError instead of freeing memory under it.
    """

    __slots__ = ("_export", "__array_interface__")

    def __init__(self, export: _ext.VectorsExport, ids: bool) -> None:
        self._export = export
        shape: Tuple[int, ...] = (export.n,) if ids else (export.n, export.dim)
        self.__array_interface__ = {
            "shape": shape,
            "typestr": _NATIVE_U64 if ids else _NATIVE_F32,
            "data": (export.ids_address if ids else export.vectors_address, True),  # read-only
            "version": 3,
        }


def _engine_handle(engine: Optional[Engine]) -> Tuple[Engine, _ext.Engine]:
    eng = engine if engine is not None else default_engine()
    if not isinstance(eng, Engine):
        raise TypeError(f"engine must be a ruvector.Engine, not {type(eng).__name__}")
    return eng, eng._h


def _filter_ids(filter: Optional[IdsArg]) -> Optional[U64]:
    return None if filter is None else as_ids(filter, "filter")


class _Index:
    """Shared behaviour of the four index classes (not public)."""

    _TYPE: ClassVar[str]
    _KEEPS_VECTORS: ClassVar[bool]
    _REPR_PARAMS: ClassVar[Tuple[str, ...]] = ()

    __slots__ = ("_h", "_engine", "__weakref__")

    _h: _ext.Index
    _engine: Engine

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "_TYPE" in cls.__dict__:  # a concrete type: load() finds it by its name
            _CLASS_BY_TYPE[cls._TYPE] = cls

    # ---- construction ----

    def _init_empty(self, dim: int, engine: Optional[Engine], **params: Any) -> None:
        eng, handle = _engine_handle(engine)
        self._engine = eng
        self._h = _ext.index_new(handle, type=self._TYPE, dim=operator.index(dim), **params)

    @classmethod
    def _wrap(cls: Type[_I], handle: _ext.Index, engine: Engine) -> _I:
        self = cls.__new__(cls)
        self._h = handle
        self._engine = engine
        return self

    @classmethod
    def _build(
        cls: Type[_I],
        vectors: npt.ArrayLike,
        ids: Optional[IdsArg],
        engine: Optional[Engine],
        **params: Any,
    ) -> _I:
        data = as_float32(vectors, "vectors", 2)
        n = data.shape[0]
        id_arr = None if ids is None else as_ids(ids)
        if id_arr is not None and id_arr.shape[0] != n:
            raise ValueError(f"ids: expected {n} ids (one per vector), got {id_arr.shape[0]}")
        eng, handle = _engine_handle(engine)
        h = _ext.index_build(handle, data, id_arr, type=cls._TYPE, **params)
        return cls._wrap(h, eng)

    @classmethod
    def load(cls: Type[_I], path: PathArg, *, engine: Optional[Engine] = None) -> _I:
        """Loads an index saved with save(); the file's checksums are verified.
        Raises TypeError if the file holds another index type (see
        ruvector.load_index for any type)."""
        idx = _load_any(path, engine)
        if not isinstance(idx, cls):
            raise TypeError(
                f"{os.fspath(path)!r} holds a {type(idx).__name__}, not a {cls.__name__}; "
                "use ruvector.load_index() for any type"
            )
        return idx

    # ---- queries ----

    def search(
        self,
        query: npt.ArrayLike,
        k: int = 10,
        *,
        rerank_factor: Optional[int] = None,
        filter: Optional[IdsArg] = None,
        nprobe: Optional[int] = None,
        recall: Optional[float] = None,
    ) -> List[SearchResult]:
        """The k best matches of one query, best first.

        Args:
            query: dim float32 values (a C-contiguous float32 array is read
                without a copy; a list is copied).
            k: results wanted; fewer come back when the index holds fewer.
            rerank_factor: RabitqPlusIndex: cap on re-ranked candidates
                (k * factor); 0 lets the error bound alone decide; None keeps
                the index's setting.
            filter: only these ids may be returned (an allow-list).
            nprobe: IVF lists to scan (None: the index's default).
            recall: ask this call for more (or less) than the build's
                target: the smallest calibrated nprobe whose measured
                recall@10 reaches it (all lists when none did). nprobe wins.
        """
        q = as_float32(query, "query", 1)
        allow = _filter_ids(filter)
        if allow is not None and allow.size == 0:
            return []
        return self._h.search(
            q,
            operator.index(k),
            0 if nprobe is None else operator.index(nprobe),
            -1 if rerank_factor is None else operator.index(rerank_factor),
            allow,
            0.0 if recall is None else float(recall),
        )

    @overload
    def search_batch(
        self, queries: npt.ArrayLike, k: int = ..., *, rerank_factor: Optional[int] = ...,
        filter: Optional[IdsArg] = ..., nprobe: Optional[int] = ...,
        recall: Optional[float] = ..., return_counts: Literal[False] = ...,
    ) -> Tuple[U64, F32]: ...

    @overload
    def search_batch(
        self, queries: npt.ArrayLike, k: int = ..., *, rerank_factor: Optional[int] = ...,
        filter: Optional[IdsArg] = ..., nprobe: Optional[int] = ...,
        recall: Optional[float] = ..., return_counts: Literal[True],
    ) -> Tuple[U64, F32, npt.NDArray[np.int64]]: ...

    def search_batch(
        self,
        queries: npt.ArrayLike,
        k: int = 10,
        *,
        rerank_factor: Optional[int] = None,
        filter: Optional[IdsArg] = None,
        nprobe: Optional[int] = None,
        recall: Optional[float] = None,
        return_counts: bool = False,
    ) -> Union[Tuple[U64, F32], Tuple[U64, F32, npt.NDArray[np.int64]]]:
        """Searches every row of queries (n, dim), in parallel over the
        engine's threads. Returns (ids, scores), uint64 and float32 of shape
        (n, k): row i holds query i's results best first. Ids use all 64
        bits, so no id value marks an unused slot: a slot is unused exactly
        when its score is NaN (its id is then 2**64-1, which a real result can
        also carry). With return_counts=True, a third array (n,) says how many
        slots of each row hold results."""
        qs = as_float32(queries, "queries", 2)
        nq, dim = qs.shape
        k = operator.index(k)
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        allow = _filter_ids(filter)
        check_batch_output(nq, k)
        ids = np.empty((nq, k), dtype=np.uint64)
        scores = np.empty((nq, k), dtype=np.float32)
        nfound = np.zeros(nq, dtype=np.uintp)
        if allow is not None and allow.size == 0:
            self._h.check_dim(dim, "queries")
            ids.fill(np.iinfo(np.uint64).max)
            scores.fill(np.nan)
        else:
            self._h.search_batch(
                qs,
                k,
                0 if nprobe is None else operator.index(nprobe),
                -1 if rerank_factor is None else operator.index(rerank_factor),
                allow,
                ids,
                scores,
                nfound,
                0.0 if recall is None else float(recall),
            )
        if return_counts:
            return ids, scores, nfound.astype(np.int64)
        return ids, scores

    # ---- changes ----

    def add(
        self,
        ids: Optional[IdsArg] = None,
        vectors: Optional[npt.ArrayLike] = None,
        *,
        id: Optional[int] = None,
        vector: Optional[npt.ArrayLike] = None,
    ) -> None:
        """Adds vectors with their ids: ``add(ids, vectors)`` for many,
        ``add(id=7, vector=v)`` for one. Atomic: on error nothing is added.
        An id already present raises InvalidArgument (a ValueError)."""
        if id is not None or vector is not None:
            if ids is not None or vectors is not None:
                raise TypeError("pass either ids and vectors, or id= and vector=")
            if id is None or vector is None:
                raise TypeError("add(id=..., vector=...) needs both")
            v = as_float32(vector, "vector", 1)
            data = v.reshape(1, v.shape[0])
            id_arr = as_ids([operator.index(id)])
        else:
            if ids is None or vectors is None:
                raise TypeError("add() needs ids and vectors (or id= and vector=)")
            data = as_float32(vectors, "vectors", 2)
            id_arr = as_ids(ids)
            if id_arr.shape[0] != data.shape[0]:
                raise ValueError(
                    f"ids: expected {data.shape[0]} ids (one per vector), got {id_arr.shape[0]}"
                )
        self._h.add(data, id_arr)

    def remove(self, ids: IdsArg) -> int:
        """Removes the given ids; unknown ids are ignored. Returns how many
        were removed."""
        return self._h.remove(as_ids(ids))

    def save(self, path: PathArg) -> None:
        """Writes the index atomically (temporary file, fsync, rename)."""
        self._h.save(os.fspath(path))

    # ---- properties ----

    def __len__(self) -> int:
        return self._h.len

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return self._h.dim

    @property
    def memory_bytes(self) -> int:
        """Bytes the index holds in memory (codes, originals, ids, maps)."""
        return self._h.memory_bytes

    @property
    def metric(self) -> str:
        """"l2", "ip" or "cosine"."""
        return str(self._h.params["metric"])

    @property
    def params(self) -> Dict[str, Any]:
        """Every build parameter (type, metric, dim, bits, nlist, seed, ...),
        what the plan chose ("plan", "probing", "nprobe", "calibrated_recall"
        and its one-sided 95 % lower bound "calibrated_lower", 0 when the file
        stores none) and "calibration_curve": (nprobe, mean recall@10, lower
        bound or None) per measured point, what search(..., recall=) reads."""
        return self._h.params

    @property
    def engine(self) -> Engine:
        """The engine whose kernels this index uses."""
        return self._engine

    # ---- stored vectors (FlatF32Index, RabitqPlusIndex) ----

    def _require_originals(self) -> None:
        if not self._KEEPS_VECTORS:
            raise OriginalsNotStored(
                f"a {type(self).__name__} keeps codes only, not the original vectors; "
                "use RabitqPlusIndex or FlatF32Index to read vectors back"
            )

    def _views(self) -> Tuple[F32, U64]:
        """Read-only, zero-copy arrays of the stored vectors and their ids."""
        self._require_originals()
        export = self._h.export_vectors()
        if export.n == 0:
            return np.empty((0, export.dim), np.float32), np.empty(0, np.uint64)
        vectors: F32 = np.asarray(_ExportView(export, ids=False))
        ids: U64 = np.asarray(_ExportView(export, ids=True))
        return vectors, ids

    def __getitem__(self, id: SupportsIndex) -> F32:
        """A copy of the stored vector of ``id`` (for COSINE, normalised)."""
        self._require_originals()
        key = operator.index(id)
        if not 0 <= key <= MAX_ID:
            raise NotFoundError(f"id {key} is not in the index")
        out = np.empty(self.dim, dtype=np.float32)
        self._h.get(key, out)
        return out

    def __contains__(self, id: object) -> bool:
        self._require_originals()
        if not isinstance(id, (int, np.integer)):
            return False
        try:
            self[int(id)]
        except NotFoundError:
            return False
        return True

    def __iter__(self) -> Iterator[IndexItem]:
        """(id, vector copy) pairs in storage order. add/remove raise
        BufferError while an iteration is under way."""
        vectors, ids = self._views()
        for i in range(ids.shape[0]):
            yield IndexItem(int(ids[i]), vectors[i].copy())

    @property
    def ids(self) -> U64:
        """A copy of the stored ids (uint64), in the row order of np.asarray(index)."""
        return self._views()[1].copy()

    def __array__(self, dtype: Optional[npt.DTypeLike] = None, copy: Optional[bool] = None) -> F32:
        """``np.asarray(index)``: the stored vectors (n, dim) as a read-only
        view, without a copy. While the view lives, add/remove raise
        BufferError; ``np.array(index)`` gives an independent copy."""
        vectors, _ = self._views()
        if dtype is not None and np.dtype(dtype) != vectors.dtype:
            if copy is False:
                raise ValueError("a dtype other than float32 needs a copy")
            converted: F32 = vectors.astype(dtype)
            return converted
        if copy:
            return vectors.copy()
        return vectors

    # ---- comparison and display ----

    def __eq__(self, other: object) -> bool:
        """Same type, parameters (seed included) and data. Rows are compared
        by id, so storage order does not matter; codes-only indexes are
        compared through their saved files."""
        if not isinstance(other, _Index):
            return NotImplemented
        if self is other:
            return True
        if type(self) is not type(other) or self.params != other.params:
            return False
        if len(self) != len(other):
            return False
        if self._KEEPS_VECTORS:
            va, ia = self._views()
            vb, ib = other._views()
            oa, ob = np.argsort(ia, kind="stable"), np.argsort(ib, kind="stable")
            return bool(np.array_equal(ia[oa], ib[ob]) and np.array_equal(va[oa], vb[ob]))
        with tempfile.TemporaryDirectory(prefix="ruvector-eq-") as tmp:
            a, b = os.path.join(tmp, "a"), os.path.join(tmp, "b")
            self.save(a)
            other.save(b)
            return filecmp.cmp(a, b, shallow=False)

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        p = self.params
        extra = "".join(f", {name}={p[name]!r}" for name in self._REPR_PARAMS)
        if self._TYPE != "flat_f32":
            extra += f", plan={p['plan']!r}"
        return (
            f"{type(self).__name__}(n={len(self)}, dim={self.dim}, metric={p['metric']!r}"
            f"{extra}, memory_bytes={self.memory_bytes}, kernel={self._engine.kernel!r})"
        )


#: The concrete classes by C type name (filled as they are defined, in
#: _index.py): what a loaded file becomes.
_CLASS_BY_TYPE: Dict[str, Type[_Index]] = {}


def _load_any(path: PathArg, engine: Optional[Engine]) -> _Index:
    eng, handle = _engine_handle(engine)
    h = _ext.index_load(handle, os.fspath(path))
    return _CLASS_BY_TYPE[h.params["type"]]._wrap(h, eng)
