"""Embedder: text in, float32 vectors out, through the embed_onnx plugin
(embed.md §1). The plugin tokenizes with its own C WordPiece tokenizer and
runs the model in ONNX Runtime, which it loads at run time (the onnxruntime
wheel's library when that is installed, see ``ort_lib_wheel``); pooling and
normalisation follow the model directory's sentence-transformers files.

A model directory that carries only ``model.safetensors`` (a BERT) is
converted to ONNX once (``ruvector._bert_onnx``, needs the ``onnx`` package)
into the cache, with the digests of the weights and of the graph recorded
in a manifest beside it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt

from . import _ext
from ._embed_progress import ProgressArg, fetch_progress
from ._engine import Engine, default_engine
from ._errors import RuVectorError
from ._plugins import ort_hint

__all__ = ["Embedder", "EmbedError", "DEFAULT_CACHE_DIR"]

PathArg = Union[str, "os.PathLike[str]"]
F32 = npt.NDArray[np.float32]

#: Where converted models go unless ``cache_dir`` says otherwise.
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "ruvector" / "models"

_INSTALL = "install ruvector[text] (pip install 'ruvector[text]')"


class EmbedError(RuVectorError):
    """An embedding call failed: the plugin or ONNX Runtime is missing, the
    model directory cannot be used, or a text could not be embedded. The
    message carries the C detail; ``status_name`` the C status when there is
    one (e.g. ``"RUV_E_UNSUPPORTED"``)."""


def _wrap(exc: RuVectorError, prefix: str = "") -> EmbedError:
    return EmbedError(prefix + str(exc), status=exc.status, status_name=exc.status_name)


#: The onnxruntime wheel's library, or None (see _plugins.ort_hint).
ort_wheel_library = ort_hint


def _plugin_reason(eng: Engine) -> str:
    for p in eng.report().get("plugins", []):
        if p.get("name") == "embed_onnx":
            return f"embed_onnx {p.get('state', '?')}: {p.get('reason', '')}".rstrip(": ")
    return "the embed_onnx plugin was not found"


def _load_plugin(eng: Engine) -> None:
    try:
        eng.load_plugin("embed_onnx")
    except RuVectorError as exc:
        raise _wrap(exc, f"text embeddings are not available ({_INSTALL}): ") from None
    if not eng.feature_loaded("embed_onnx"):
        raise EmbedError(
            f"text embeddings are not available: {_plugin_reason(eng)}; {_INSTALL}",
            status_name="RUV_E_UNSUPPORTED",
        )


def _default_engine() -> Engine:
    """ruvector.default_engine() with embed_onnx loaded late (the engine
    passes the onnxruntime wheel's library as ``ort_lib_wheel``; the
    ``ort_lib`` setting and RUVECTOR_ORT_LIB still win)."""
    eng = default_engine()
    _load_plugin(eng)
    return eng


def _converted(model_dir: Path, cache_dir: Path) -> Path:
    """model.onnx for a directory with model.safetensors: from the cache
    when its manifest matches the weights' size and mtime, else built."""
    from . import _bert_onnx

    weights = model_dir / "model.safetensors"
    st = weights.stat()
    key = hashlib.sha256(str(model_dir.resolve()).encode()).hexdigest()[:16]
    out_dir = cache_dir / "converted" / f"{model_dir.name}-{key}"
    onnx_path = out_dir / "model.onnx"
    manifest_path = out_dir / "manifest.json"
    want = {
        "builder": _bert_onnx.BUILDER_VERSION,
        "source": str(model_dir.resolve()),
        "weights_size": st.st_size,
        "weights_mtime_ns": st.st_mtime_ns,
    }
    try:
        manifest = json.loads(manifest_path.read_text())
        if all(manifest.get(k) == v for k, v in want.items()) and (
            onnx_path.stat().st_size == manifest.get("onnx_size")
        ):
            return onnx_path
    except (OSError, ValueError):
        pass
    try:
        digest = _bert_onnx.build_bert_onnx(model_dir, onnx_path)
    except ImportError as exc:
        raise EmbedError(
            f"{model_dir} has model.safetensors and no model.onnx; converting it needs the "
            f"onnx package ({exc}): pip install onnx"
        ) from None
    except ValueError as exc:
        raise EmbedError(f"{model_dir}: cannot convert to ONNX: {exc}") from None
    record: Dict[str, Any] = dict(want)
    record.update(
        weights_sha256=_bert_onnx.sha256_file(weights),
        onnx_sha256=digest,
        onnx_size=onnx_path.stat().st_size,
    )
    tmp = manifest_path.with_suffix(".json.part")
    tmp.write_text(json.dumps(record, indent=1) + "\n")
    os.replace(tmp, manifest_path)
    return onnx_path


class Embedder:
    """Text embeddings with a sentence-transformers model (``ruvector[text]``).

        emb = ruvector.Embedder.from_pretrained("/path/to/all-MiniLM-L6-v2")
        v = emb.embed("hello world")          # float32 (emb.dim,), unit norm
        m = emb.embed_batch(texts)            # float32 (len(texts), emb.dim)

    Any thread may call; the GIL is released while texts are tokenized and
    the model runs."""

    __slots__ = (
        "_model", "_engine", "_info", "_worker", "_worker_lock", "name", "path", "onnx_path",
        "__weakref__",
    )
    _model: _ext.EmbedModel
    _worker: Optional[concurrent.futures.ThreadPoolExecutor]
    _worker_lock: threading.Lock
    _engine: Engine
    _info: Dict[str, Any]
    #: The directory's name, e.g. "all-MiniLM-L6-v2".
    name: str
    #: The model directory.
    path: Path
    #: The ONNX graph in use (the directory's, or the cached conversion).
    onnx_path: Path

    def __init__(self) -> None:
        raise TypeError("use Embedder.from_pretrained(path)")

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: PathArg,
        *,
        cache_dir: Optional[PathArg] = None,
        download: bool = True,
        engine: Optional[Engine] = None,
        batch_size: int = 32,
        base_url: Optional[str] = None,
        ca_file: Optional[PathArg] = None,
        progress: ProgressArg = None,
    ) -> "Embedder":
        """Opens a local sentence-transformers model directory: tokenizer.json
        or vocab.txt, and model.onnx (or onnx/model.onnx), or else
        model.safetensors with config.json, converted to ONNX once into
        ``cache_dir`` (default ~/.cache/ruvector/models).

        ``engine`` carries plugin options (``ort_lib``, threads); by default
        ruvector.default_engine(), into which embed_onnx is loaded late.

        A name that is not a directory is looked up in the plugin's model
        registry (``Embedder.registry()``; e.g. "all-MiniLM-L6-v2" or
        "sentence-transformers/all-MiniLM-L6-v2"): its files, pinned by
        SHA-256, are taken from ``cache_dir`` when they verify, else
        downloaded from ``base_url`` (default https://huggingface.co; files
        are <base>/<repo>/resolve/<revision>/<path>) unless ``download`` is
        False. ``ca_file`` names a PEM bundle trusted for those downloads
        instead of the system's. ``progress`` reports them: None (default)
        draws a one-line bar on stderr when stderr is a terminal, True
        always draws it, False never, and a callable(done, total) is called
        with the bytes downloaded so far and the total of the files started
        (files already verified in the cache are not downloaded); an
        exception it raises stops the download and propagates. Raises EmbedError: an unknown name lists the known ones
        (RUV_E_NOTFOUND), a missing file with ``download=False`` is
        RUV_E_MISS, and the message says ``install ruvector[text]`` when the
        plugin or ONNX Runtime is missing."""
        if batch_size < 1 or batch_size > 4096:
            raise ValueError(f"batch_size must be in [1, 4096], not {batch_size}")
        eng = engine if engine is not None else _default_engine()
        if engine is not None:
            _load_plugin(eng)
        cache = Path(os.fspath(cache_dir)) if cache_dir is not None else DEFAULT_CACHE_DIR
        path = Path(os.fspath(name_or_path))
        name = path.name
        if not path.is_dir():
            name = os.fspath(name_or_path)
            bar = fetch_progress(name, progress)
            try:
                path = Path(
                    _ext.embed_fetch(
                        eng._h,
                        name,
                        cache_dir=str(cache),
                        base_url=base_url,
                        offline=not download,
                        ca_file=os.fspath(ca_file) if ca_file is not None else None,
                        progress=bar,
                    )
                )
            except RuVectorError as exc:
                raise _wrap(exc, f"{name!r} is not a model directory: ") from None
            finally:
                if bar is not None:
                    bar.finish()
            for e in cls.registry(eng):
                if name == e["name"] or name in e["aliases"]:
                    name = str(e["name"])
        onnx_path: Optional[Path] = None
        if not (path / "model.onnx").is_file() and not (path / "onnx" / "model.onnx").is_file():
            if (path / "model.safetensors").is_file():
                onnx_path = _converted(path, cache)
        try:
            model = _ext.embed_open(
                eng._h,
                str(path),
                onnx_path=str(onnx_path) if onnx_path else None,
                batch_size=batch_size,
            )
        except RuVectorError as exc:
            raise _wrap(exc) from None
        info = model.info()
        if not info["dim"]:
            raise EmbedError(
                f"{path} has no model.onnx and no model.safetensors: it can only tokenize",
                status_name="RUV_E_STATE",
            )
        self = object.__new__(cls)
        self._model = model
        self._engine = eng
        self._info = info
        self._worker = None
        self._worker_lock = threading.Lock()
        self.name = name
        self.path = path
        self.onnx_path = onnx_path if onnx_path else (
            path / "model.onnx" if (path / "model.onnx").is_file() else path / "onnx" / "model.onnx"
        )
        return self

    @classmethod
    def registry(cls, engine: Optional[Engine] = None) -> List[Dict[str, Any]]:
        """The models from_pretrained knows by name: one dict per entry with
        name, aliases, repo, revision, dim, max_tokens, pooling, normalize,
        weights ("onnx" or "safetensors"), weights_file, licence and
        query_prefix."""
        eng = engine if engine is not None else _default_engine()
        if engine is not None:
            _load_plugin(eng)
        try:
            return _ext.embed_registry(eng._h)
        except RuVectorError as exc:
            raise _wrap(exc) from None

    @property
    def dim(self) -> int:
        """Length of every vector."""
        return int(self._info["dim"])

    @property
    def max_length(self) -> int:
        """Token ids per text, [CLS] and [SEP] included; longer texts are cut."""
        return int(self._info["max_tokens"])

    @property
    def pooling(self) -> str:
        """"mean", "cls" or "max", from the model's pooling config."""
        return str(self._info["pooling"])

    @property
    def normalize(self) -> bool:
        """Whether vectors are L2-normalised (a Normalize module in modules.json)."""
        return bool(self._info["normalize"])

    def tokenize(self, text: str) -> List[int]:
        """The model's input ids for ``text``, with [CLS]/[SEP], truncated."""
        try:
            return self._model.tokenize(text)
        except RuVectorError as exc:
            raise _wrap(exc) from None

    def embed_batch(self, texts: Sequence[str], batch_size: Optional[int] = None) -> F32:
        """Vectors for ``texts``: float32 (len(texts), dim), C-contiguous, row
        i for texts[i]. ``batch_size`` texts run at once (default: the one
        given to from_pretrained). Raises TypeError for a non-str item."""
        if isinstance(texts, str):
            raise TypeError("texts must be a sequence of str, not one str (use embed())")
        items = list(texts)
        out: F32 = np.empty((len(items), self.dim), dtype=np.float32)
        try:
            self._model.embed_into(items, out, batch_size)
        except RuVectorError as exc:
            raise _wrap(exc) from None
        return out

    async def embed_batch_async(
        self, texts: Sequence[str], batch_size: Optional[int] = None
    ) -> F32:
        """embed_batch on this Embedder's one worker thread (one per
        Embedder, so calls never oversubscribe ONNX Runtime's pool); the
        event loop never blocks. Cancelling the awaiting task stops the
        embedding, also inside the batch ONNX Runtime is running, and the
        task raises CancelledError once the worker has stopped."""
        if isinstance(texts, str):
            raise TypeError("texts must be a sequence of str, not one str (use embed())")
        items = list(texts)
        out: F32 = np.empty((len(items), self.dim), dtype=np.float32)
        flag = self._model.new_cancel()
        with self._worker_lock:
            if self._worker is None:
                self._worker = concurrent.futures.ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix="ruvector-embed"
                )
            worker = self._worker
        job = worker.submit(self._model.embed_into, items, out, batch_size, flag)
        try:
            await asyncio.wrap_future(job)
        except asyncio.CancelledError:
            flag.cancel()
            # wait (without blocking the loop) for the worker to stop, so no
            # run outlives the task that asked for it
            await asyncio.wait([asyncio.wrap_future(job)])
            raise
        except RuVectorError as exc:
            raise _wrap(exc) from None
        return out

    def embed(self, text: str) -> F32:
        """The vector for one text: float32 (dim,)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be str, not {type(text).__name__}")
        row: F32 = self.embed_batch([text])[0]
        return row

    def __repr__(self) -> str:
        return (
            f"Embedder({self.name!r}, dim={self.dim}, max_length={self.max_length}, "
            f"pooling={self.pooling!r})"
        )
