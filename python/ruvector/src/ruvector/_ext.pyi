# Hand-written stub of the C extension ruvector._ext (src/ruvector/_ext.c).
# Private: the public API is the ruvector package. Arrays must be
# C-contiguous, aligned, native-order NumPy arrays of the dtype named (the
# extension reads them through __array_struct__ and raises TypeError
# otherwise). `python -m mypy.stubtest ruvector` checks this file against
# the compiled module.

from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Type, TypeVar, final

import numpy as np
import numpy.typing as npt

_Hit = TypeVar("_Hit", bound=Tuple[Any, ...])

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
def embed_fetch(
    engine: Engine,
    name: str,
    cache_dir: Optional[str] = ...,
    base_url: Optional[str] = ...,
    offline: bool = ...,
    ca_file: Optional[str] = ...,
    progress: Optional[Callable[[str, int, int], object]] = ...,
) -> str: ...
def embed_registry(engine: Engine, /) -> List[Dict[str, Any]]: ...
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
    fewest_bits: bool = ...,
) -> Index: ...
def index_load(engine: Engine, path: str, /) -> Index: ...
@final
class Lake:
    def close(self) -> None: ...
    def register(self, backend: LakeLocal | LakeFs, /) -> None: ...
    def register_adapter(self, adapter: Any, name: str, threadsafe: bool, /) -> None: ...
    def search(
        self,
        targets: Tuple[Tuple[Optional[str], str], ...],
        queries: npt.NDArray[np.float32],
        k: int,
        rerank_factor: int,
        flags: int,
        out_ids: npt.NDArray[np.uint64],
        out_scores: npt.NDArray[np.float32],
        out_targets: npt.NDArray[np.uint32],
        out_nhits: npt.NDArray[np.uint32],
        /,
    ) -> List[Tuple[int, str]]: ...
    def search_one(
        self,
        backend: str,
        collection: str,
        query: npt.NDArray[np.float32],
        k: int,
        rerank_factor: int,
        flags: int,
        hit_type: Type[_Hit],
        /,
    ) -> List[_Hit]: ...
    def submit(
        self,
        targets: Tuple[Tuple[Optional[str], str], ...],
        queries: npt.NDArray[np.float32],
        k: int,
        rerank_factor: int,
        flags: int,
        out_ids: npt.NDArray[np.uint64],
        out_scores: npt.NDArray[np.float32],
        out_targets: npt.NDArray[np.uint32],
        out_nhits: npt.NDArray[np.uint32],
        token: object,
        supplies: Optional[Tuple[Optional[_LakeSupply], ...]] = None,
        /,
    ) -> int: ...
    def submit_one(
        self,
        backend: str,
        collection: str,
        query: npt.NDArray[np.float32],
        k: int,
        rerank_factor: int,
        flags: int,
        token: object,
        supplies: Optional[Tuple[Optional[_LakeSupply], ...]] = None,
        /,
    ) -> int: ...
    def cancel(self, ticket: int, /) -> bool: ...
    def notify_fd(self) -> int: ...
    def poll(
        self, max: int, /
    ) -> List[Tuple[Any, int, str, List[Tuple[int, str, int]],
                    Optional[Tuple[List[int], List[float]]]]]: ...
    def invalidate(self, backend: Optional[str], collection: str, /) -> bool: ...
    def witness_of(self, backend: Optional[str], collection: str, version: int, /) -> Optional[str]: ...
    def stats(self, backend: Optional[str], collection: Optional[str], /) -> Dict[str, int]: ...
    def save_cache(self, backend: Optional[str], collection: str, dir: Any, /) -> str: ...
    def warm(self, backend: Optional[str], collection: str, dir: Any, /) -> int: ...
    def refresh(self, backend: Optional[str], collection: str, dir: Any, /) -> int: ...
    def publish(self, backend: Optional[str], collection: str, dir: Any, /) -> str: ...

@final
class LakeLocal:
    def put(
        self, collection: str, ids: npt.NDArray[np.uint64], vectors: npt.NDArray[np.float32], replace: bool, /
    ) -> None: ...
    def delete(self, collection: str, ids: npt.NDArray[np.uint64], /) -> int: ...
    def drop(self, collection: str, /) -> None: ...

@final
class LakeFs:
    def register(self, collection: str, filename: str, /) -> None: ...
    def write(self, filename: str, ids: npt.NDArray[np.uint64], vectors: npt.NDArray[np.float32], /) -> None: ...

def lake_open(
    engine: Engine,
    consistency: int,
    ttl_ms: int,
    rerank_factor: int,
    metric: int,
    bits: int,
    nlist: int,
    seed: int,
    max_entries: int,
    max_bytes: int,
    threads: int,
    public_keys: bytes,
    signing_key: bytes,
    /,
) -> Lake: ...
def lake_bundle_verify(engine: Engine, dir: Any, public_keys: bytes, /) -> Tuple[str, str]: ...
def lake_key_from_pem(engine: Engine, pem: bytes, private_key: bool, /) -> bytes: ...
def lake_local_new(engine: Engine, name: str, /) -> LakeLocal: ...
def lake_fs_new(engine: Engine, name: str, root: Any, /) -> LakeFs: ...
def _init(errors: Dict[int, Type[BaseException]], fallback: Type[BaseException], hit: Type[Any], /) -> None: ...
def _raise_status(status: int, detail: str, /) -> None: ...

# ---- the a2a plugin's blocking client (_ext_a2a.c) ----
# An outcome: (status, error kind, rpc_code, http_status, request_sent,
# detail, payload); payload is the result (JSON text or a handle) on success,
# the peer's JSON-RPC error object (JSON text) or None on failure.
#: a BackendAdapter's description: (data_ref, dim, gen_is_opaque, gen_num, gen, has_digest, count, digest)
_LakeDesc = Tuple[bytes, int, int, int, bytes, int, int, bytes]
#: per target of an async search: (RUV_LAKE_SUPPLY_* flags, description or None,
#: (ids, vectors, description) pulled or None)
_LakeSupply = Tuple[int, Optional[_LakeDesc], Optional[Tuple[Any, Any, _LakeDesc]]]
_A2aOutcome = Tuple[int, int, int, int, int, Optional[str], Any]
_A2aPolicy = Tuple[
    Optional[str],
    Optional[List[str]],
    int,
    float,
    int,
    float,
    int,
    int,
    Optional[List[str]],
    Optional["A2aBudgetHandle"],
    int,
]

def a2a_connect(
    engine: Engine,
    url: str,
    flags: int,
    protocol: int,
    agent_ids: Sequence[str],
    pinned: Sequence[Tuple[str, str, int, bool]],
    ca_file: Optional[str],
    authorization: Optional[str],
    connect_ms: int,
    unary_ms: int,
    idle_ms: int,
    event_ms: int,
    max_body: int,
    max_event: int,
    trusted_jku: Optional[Sequence[str]] = ...,
    submit: bool = ...,
    proxy: Optional[str] = ...,
    compression: bool = ...,
    /,
) -> _A2aOutcome: ...
@final
class A2aHandle:
    def info(self) -> str: ...
    def notify_fd(self) -> int: ...
    def submit(self, method: int, params: str, policy: Optional[_A2aPolicy], /) -> _A2aOutcome: ...
    def stream_submit(self, method: int, params: str, policy: Optional[_A2aPolicy], /) -> _A2aOutcome: ...
    def credit(self, req: int, n: int, /) -> None: ...
    def poll(self, max: int, /) -> List[Tuple[int, int, _A2aOutcome]]: ...
    def wait(self, timeout_ms: int, /) -> bool: ...
    def abort(self, req: int, /) -> None: ...
    def close(self) -> None: ...
def a2a_budget_new(
    engine: Engine, max_usd: float, max_tokens: int, max_tasks: int, window_ms: int, queue_depth: int, /
) -> A2aBudgetHandle: ...
@final
class A2aBudgetHandle: ...
