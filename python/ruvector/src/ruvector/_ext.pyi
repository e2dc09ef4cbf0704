# Hand-written stub of the C extension ruvector._ext (src/ruvector/_ext.c).
# Private: the public API is the ruvector package. Arrays must be
# C-contiguous, aligned, native-order NumPy arrays of the dtype named (the
# extension reads them through __array_struct__ and raises TypeError
# otherwise). `python -m mypy.stubtest ruvector` checks this file against
# the compiled module.

from typing import Any, Dict, List, Optional, Tuple, Type, final

import numpy as np
import numpy.typing as npt

VERSION_HEX: int
HEADER_VERSION_HEX: int

@final
class Engine:
    def __new__(
        cls,
        *,
        kernel: Optional[str] = ...,
        plugin_path: Optional[str] = ...,
        disable: Optional[str] = ...,
        plugins: Tuple[str, ...] = ...,
        threads: Optional[int] = ...,
        verbose: Optional[int] = ...,
        blas_path: Optional[str] = ...,
        options: Tuple[Tuple[str, str, str], ...] = ...,
    ) -> Engine: ...
    @property
    def kernel(self) -> str: ...
    @property
    def kernel_source(self) -> str: ...
    @property
    def blas(self) -> str: ...
    @property
    def threads(self) -> int: ...
    def report(self) -> str: ...
    def feature_loaded(self, name: str, /) -> bool: ...
    def load_plugin(self, name: str, /) -> None: ...

@final
class VectorsExport:
    @property
    def vectors_address(self) -> int: ...
    @property
    def ids_address(self) -> int: ...
    @property
    def n(self) -> int: ...
    @property
    def dim(self) -> int: ...

@final
class Index:
    @property
    def len(self) -> int: ...
    @property
    def dim(self) -> int: ...
    @property
    def memory_bytes(self) -> int: ...
    @property
    def params(self) -> Dict[str, Any]: ...
    @property
    def exports(self) -> int: ...
    def __len__(self) -> int: ...
    def search(
        self,
        query: npt.NDArray[np.float32],
        k: int,
        nprobe: int = ...,
        rerank_factor: int = ...,
        allow: Optional[npt.NDArray[np.uint64]] = ...,
        recall: float = ...,
        /,
    ) -> List[Any]: ...
    def search_batch(
        self,
        queries: npt.NDArray[np.float32],
        k: int,
        nprobe: int,
        rerank_factor: int,
        allow: Optional[npt.NDArray[np.uint64]],
        out_ids: npt.NDArray[np.uint64],
        out_scores: npt.NDArray[np.float32],
        out_nfound: npt.NDArray[np.uintp],
        recall: float = ...,
        /,
    ) -> None: ...
    def add(self, vectors: npt.NDArray[np.float32], ids: npt.NDArray[np.uint64], /) -> None: ...
    def remove(self, ids: npt.NDArray[np.uint64], /) -> int: ...
    def save(self, path: str, /) -> None: ...
    def get(self, id: int, out: npt.NDArray[np.float32], /) -> None: ...
    def export_vectors(self) -> VectorsExport: ...
    def check_dim(self, got: int, what: str, /) -> None: ...

@final
class EmbedCancel:
    def cancel(self) -> None: ...

@final
class EmbedModel:
    def tokenize(self, text: str, /) -> List[int]: ...
    def embed_into(
        self,
        texts: List[str],
        out: npt.NDArray[np.float32],
        batch_size: Optional[int] = ...,
        cancel: Optional[EmbedCancel] = ...,
        /,
    ) -> None: ...
    def new_cancel(self) -> EmbedCancel: ...
    def info(self) -> Dict[str, Any]: ...

def embed_open(
    engine: Engine, path: str, onnx_path: Optional[str] = ..., batch_size: Optional[int] = ...
) -> EmbedModel: ...
def version() -> str: ...
def cpu_features() -> Dict[str, bool]: ...
def status_name(status: int, /) -> str: ...
def status_str(status: int, /) -> str: ...
def index_new(
    engine: Engine,
    *,
    type: str,
    metric: str,
    dim: int,
    bits: Optional[int] = ...,
    nlist: Optional[int] = ...,
    query_bits: Optional[int] = ...,
    rerank_factor: Optional[int] = ...,
    train_size: Optional[int] = ...,
    kmeans_iters: Optional[int] = ...,
    seed: Optional[int] = ...,
    epsilon: Optional[float] = ...,
    target_recall: Optional[float] = ...,
    nprobe: Optional[int] = ...,
) -> Index: ...
def index_build(
    engine: Engine,
    vectors: npt.NDArray[np.float32],
    ids: Optional[npt.NDArray[np.uint64]],
    *,
    type: str,
    metric: str,
    dim: Optional[int] = ...,
    bits: Optional[int] = ...,
    nlist: Optional[int] = ...,
    query_bits: Optional[int] = ...,
    rerank_factor: Optional[int] = ...,
    train_size: Optional[int] = ...,
    kmeans_iters: Optional[int] = ...,
    seed: Optional[int] = ...,
    epsilon: Optional[float] = ...,
    target_recall: Optional[float] = ...,
    nprobe: Optional[int] = ...,
) -> Index: ...
def index_load(engine: Engine, path: str, /) -> Index: ...
def _init(errors: Dict[int, Type[BaseException]], fallback: Type[BaseException], hit: Type[Any], /) -> None: ...
def _raise_status(status: int, detail: str, /) -> None: ...
