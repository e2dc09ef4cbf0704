"""ruvector: vector search on a small C engine that loads its kernels at run time.

    import numpy as np, ruvector
    idx = ruvector.RabitqPlusIndex.build(vectors, nlist=256)     # (n, dim) float32
    hits = idx.search(query, 10, nprobe=8)                        # [SearchResult(id, score), ...]

``ruvector.show_runtime()`` prints the CPU, the kernel chosen and why, the
BLAS, and every plugin directory found through installed packages.
"""

from __future__ import annotations

from . import _ext
from ._embedder import Embedder, EmbedError
from ._engine import Engine, cpu_features, default_engine, runtime_info, show_runtime
from ._errors import STATUS_CLASSES as STATUS_CLASSES  # explicit re-export, not in __all__
from ._errors import IndexError as IndexError  # noqa: A004 - not in __all__, see below
from ._errors import (
    AbiError,
    BackendError,
    CacheMissError,
    CanceledError,
    CorruptFile,
    DeadlineExceeded,
    DimensionMismatch,
    EmptyIndex,
    Error,
    InvalidArgument,
    IntegrityError,
    IoError,
    LakeError,
    NotFoundError,
    OriginalsNotStored,
    OutOfMemory,
    PersistError,
    PluginError,
    PolicyError,
    ProtocolError,
    RemoteError,
    RuVectorError,
    SecurityError,
    SelfTestError,
    StateError,
    UnsupportedError,
)
from ._index import (
    FlatF32Index,
    Index,
    IndexItem,
    RabitqAsymIndex,
    RabitqIndex,
    RabitqPlusIndex,
    SearchResult,
    load_index,
)
from ._lake_adapter import BackendAdapter, CollectionInfo, PulledBatch
from ._lake_bundle import RuLakeBundle
from ._lake_parquet import ParquetBackend
from ._lake import (
    CacheStats,
    Consistency,
    FsBackend,
    LakeBackendName,
    LakeSearchResult,
    LocalBackend,
    RuLake,
    RefreshResult,
    RuLakeBuilder,
    SearchResults,
    UnknownBackend,
    UnknownCollection,
)
from ._plugins import ENTRY_POINT_GROUP, PluginDir, installed_plugin_dirs
from ._recommend import Recommendation, recommend
from . import a2a
from .a2a import A2aClient, A2aError

_ext._init(dict(STATUS_CLASSES), RuVectorError, SearchResult)

#: The C library's version (ruv_version_string()); the wheel's version is the same.
__version__: str = _ext.version()

# ruvector.IndexError is reachable as an attribute but left out of __all__:
# a star import must not shadow the builtin IndexError.
__all__ = [
    "__version__",
    "a2a",
    "A2aClient",
    "A2aError",
    "Engine",
    "default_engine",
    "Embedder",
    "EmbedError",
    "cpu_features",
    "runtime_info",
    "show_runtime",
    "recommend",
    "Recommendation",
    "FlatF32Index",
    "RabitqIndex",
    "RabitqPlusIndex",
    "RabitqAsymIndex",
    "Index",
    "SearchResult",
    "IndexItem",
    "load_index",
    "installed_plugin_dirs",
    "PluginDir",
    "ENTRY_POINT_GROUP",
    "RuVectorError",
    "Error",
    "InvalidArgument",
    "OutOfMemory",
    "NotFoundError",
    "UnsupportedError",
    "PluginError",
    "AbiError",
    "SelfTestError",
    "StateError",
    "DimensionMismatch",
    "EmptyIndex",
    "PersistError",
    "IoError",
    "CorruptFile",
    "OriginalsNotStored",
    "IntegrityError",
    "LakeError",
    "BackendError",
    "CacheMissError",
    "CanceledError",
    "SecurityError",
    "PolicyError",
    "ProtocolError",
    "RemoteError",
    "DeadlineExceeded",
    "RuLake",
    "RuLakeBuilder",
    "RuLakeBundle",
    "ParquetBackend",
    "Consistency",
    "LocalBackend",
    "FsBackend",
    "LakeBackendName",
    "LakeSearchResult",
    "SearchResults",
    "CacheStats",
    "UnknownBackend",
    "UnknownCollection",
    "RefreshResult",
    "BackendAdapter",
    "CollectionInfo",
    "PulledBatch",
]

# Public classes present themselves as ruvector.X (reprs, tracebacks, pickles),
# not as the private module that defines them.
for _name in [*__all__, "IndexError"]:
    _obj = globals()[_name]
    if isinstance(_obj, type) and _obj.__module__.startswith("ruvector._"):
        _obj.__module__ = __name__
del _name, _obj

