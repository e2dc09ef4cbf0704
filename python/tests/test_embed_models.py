"""Generated test models (embed.md §6.4) through ruvector.Embedder: the
committed 1-layer H8 model (tests/models/tiny-h8), tiny2 (2 layers, H32,
4 heads, FFN 64, vocab 100) built per run by tests/models/make_bert.py with
seeded N(0, 0.02) weights, and its variants: each either works (parity
against onnxruntime-python + numpy pooling, cosine >= 0.9999 for every
text) or is refused with an EmbedError naming what is wrong.

Needs onnx and onnxruntime (the embed step of scripts/python-test.sh has
both) and the embed_onnx plugin; skipped, saying why, otherwise."""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np
import pytest

import bert_reference as ref
import ruvector

TOP = Path(__file__).resolve().parents[2]
COMMITTED = TOP / "tests" / "models" / "tiny-h8"
MISSING = ref.missing("onnx", "onnxruntime")
pytestmark = pytest.mark.skipif(MISSING is not None, reason=f"{MISSING} not installed")

TEXTS = [
    "hello world",
    "the cat sat on the mat",
    "",
    "a",
    "Vector search is FAST!",
    "dogs running, cats jumped?",
    "xyz qq 42 7",
    "unknown ✓ symbols ü and é",
    " ".join(["query answer data"] * 30),  # longer than the 64 positions: truncated
]


def _make_bert() -> Any:
    spec = importlib.util.spec_from_file_location("make_bert", TOP / "tests" / "models" / "make_bert.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def engine() -> Any:
    return ref.embed_engine()


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Path]:
    mb = _make_bert()
    root = tmp_path_factory.mktemp("tiny2")
    return {v: mb.build(root / v, "tiny2", v) for v in mb.VARIANTS}


def _open(path: Path, engine: Any) -> ruvector.Embedder:
    try:
        return ruvector.Embedder.from_pretrained(path, engine=engine)
    except ruvector.EmbedError as exc:
        if "install ruvector[text]" in str(exc):
            pytest.skip(f"embed_onnx unavailable: {exc}")
        raise


def _wordpiece_ids(model_dir: Path, texts: List[str], max_length: int) -> Optional[List[List[int]]]:
    """HF tokenizers' ids for vocab.txt, or None without tokenizers."""
    if ref.missing("tokenizers"):
        return None
    tokenizers: Any = importlib.import_module("tokenizers")
    tok = tokenizers.BertWordPieceTokenizer(str(model_dir / "vocab.txt"), lowercase=True)
    tok.enable_truncation(max_length)
    return [list(e.ids) for e in tok.encode_batch(texts)]


def _reference(model_dir: Path, ids: List[List[int]], pooling: str, inputs: List[str]) -> np.ndarray:
    """onnxruntime-python on the same file, one text per run, float64 numpy
    pooling and L2 normalisation."""
    ort: Any = importlib.import_module("onnxruntime")
    sess = ort.InferenceSession(str(model_dir / "model.onnx"), providers=["CPUExecutionProvider"])
    rows = []
    for r in ids:
        a = np.array([r], dtype=np.int64)
        feed = {"input_ids": a, "attention_mask": np.ones_like(a), "token_type_ids": np.zeros_like(a)}
        hidden = np.asarray(sess.run(["last_hidden_state"], {k: feed[k] for k in inputs})[0])[0]
        v = hidden[0] if pooling == "cls" else hidden.astype(np.float64).mean(0)
        rows.append(v / max(np.linalg.norm(v), 1e-12))
    return np.stack(rows)


def _parity(model_dir: Path, engine: Any, pooling: str, inputs: List[str]) -> np.ndarray:
    emb = _open(model_dir, engine)
    assert emb.pooling == pooling and emb.normalize
    ids = [emb.tokenize(t) for t in TEXTS]
    hf = _wordpiece_ids(model_dir, TEXTS, emb.max_length)
    if hf is not None:
        assert ids == hf
    assert max(len(r) for r in ids) == emb.max_length  # the long text was cut
    want = _reference(model_dir, ids, pooling, inputs)
    for batch in (1, 32):
        got = emb.embed_batch(TEXTS, batch_size=batch).astype(np.float64)
        assert got.shape == (len(TEXTS), emb.dim)
        cos = (got * want).sum(1)
        assert cos.min() >= 0.9999, (batch, TEXTS[int(np.argmin(cos))], cos.min())
    return want


ALL_INPUTS = ["input_ids", "attention_mask", "token_type_ids"]


def test_committed_h8_model(engine: Any, tmp_path: Path) -> None:
    """The committed model opens as it is, and make_bert.py still makes
    exactly it (the same seed gives the same bytes)."""
    assert (COMMITTED / "model.onnx").stat().st_size < 12_000
    emb = _open(COMMITTED, engine)
    assert (emb.dim, emb.max_length) == (8, 16)
    _parity(COMMITTED, engine, "mean", ALL_INPUTS)
    again = _make_bert().build(tmp_path / "h8", "h8", "plain")
    for name in ("model.onnx", "vocab.txt", "config.json", "tokenizer_config.json"):
        assert (again / name).read_bytes() == (COMMITTED / name).read_bytes(), name


def test_tiny2_mean(models: Dict[str, Path], engine: Any) -> None:
    assert _open(models["plain"], engine).dim == 32
    _parity(models["plain"], engine, "mean", ALL_INPUTS)


def test_bge_shaped_cls_pooling(models: Dict[str, Path], engine: Any) -> None:
    """CLS pooling read from 1_Pooling/config.json."""
    cls = _parity(models["cls"], engine, "cls", ALL_INPUTS)
    mean = _reference(models["plain"], [[2, 83, 84, 3]], "mean", ALL_INPUTS)
    assert abs(float((cls[0] * mean[0]).sum())) < 0.999  # a different vector, not mean again


def test_no_token_type_ids_input(models: Dict[str, Path], engine: Any) -> None:
    """A graph without token_type_ids runs: the plugin feeds only the
    inputs the graph has (ORT refuses unknown inputs)."""
    plain = _open(models["plain"], engine).embed_batch(TEXTS)
    _parity(models["no_token_types"], engine, "mean", ["input_ids", "attention_mask"])
    got = _open(models["no_token_types"], engine).embed_batch(TEXTS)
    np.testing.assert_allclose(got, plain, atol=1e-6)  # type ids are 0 either way


def test_extra_sentence_embedding_output(models: Dict[str, Path], engine: Any) -> None:
    """A graph with both last_hidden_state and sentence_embedding: the plugin
    takes sentence_embedding (embed.md §5), L2-normalised: the graph's own
    mean pooling, so equal to the plain model's vectors too."""
    d = models["sentence_embedding"]
    got = _open(d, engine).embed_batch(TEXTS).astype(np.float64)
    ort: Any = importlib.import_module("onnxruntime")
    sess = ort.InferenceSession(str(d / "model.onnx"), providers=["CPUExecutionProvider"])
    emb = _open(d, engine)
    for text, row in zip(TEXTS, got):
        a = np.array([emb.tokenize(text)], dtype=np.int64)
        se = np.asarray(sess.run(["sentence_embedding"], {
            "input_ids": a, "attention_mask": np.ones_like(a),
            "token_type_ids": np.zeros_like(a)})[0])[0].astype(np.float64)
        assert float((row * se).sum() / np.linalg.norm(se)) >= 0.9999, text
    plain = _open(models["plain"], engine).embed_batch(TEXTS).astype(np.float64)
    assert (got * plain).sum(1).min() >= 0.9999


def test_sentence_embedding_output_wins_over_pooling_config(
    models: Dict[str, Path], engine: Any, tmp_path: Path
) -> None:
    """Both outputs and a CLS pooling config: the graph's sentence_embedding
    (a mean) is what comes out, not the CLS token of last_hidden_state."""
    d = tmp_path / "se-cls"
    shutil.copytree(models["sentence_embedding"], d)
    shutil.copytree(models["cls"] / "1_Pooling", d / "1_Pooling")
    got = _open(d, engine).embed_batch(TEXTS).astype(np.float64)
    mean = _open(models["plain"], engine).embed_batch(TEXTS).astype(np.float64)
    cls = _open(models["cls"], engine).embed_batch(TEXTS).astype(np.float64)
    assert (got * mean).sum(1).min() >= 0.9999
    assert (got * cls).sum(1).min() < 0.99


def test_sentence_embedding_output_only(models: Dict[str, Path], engine: Any) -> None:
    """A graph whose only output is sentence_embedding [batch, hidden]
    (pooled inside the graph): used as it is, then L2 as the config says;
    here the graph mean-pools, so the vectors equal the plain model's."""
    emb = _open(models["sentence_embedding_only"], engine)
    assert emb.dim == 32
    want = _open(models["plain"], engine).embed_batch(TEXTS)
    for batch in (1, 3, 32):
        got = emb.embed_batch(TEXTS, batch_size=batch)
        assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
        cos = (got.astype(np.float64) * want).sum(1)
        assert cos.min() >= 0.9999, (batch, TEXTS[int(np.argmin(cos))], cos.min())


REFUSED = {
    "wrong_input_name": ("RUV_E_INVAL", "input 'input_mask' is not one of input_ids"),
    "wrong_output_name": ("RUV_E_INVAL", "neither a last_hidden_state nor a sentence_embedding"),
    "wrong_rank": ("RUV_E_INVAL", r"last_hidden_state must be float \[batch, sequence, hidden\]"),
    "dim_mismatch": ("RUV_E_INVAL", "32 wide but the pooling config says word_embedding_dimension 33"),
    "truncated": ("RUV_E_INVAL", "Protobuf parsing failed"),
}


@pytest.mark.parametrize("variant", sorted(REFUSED))
def test_refused_with_clear_error(variant: str, models: Dict[str, Path], engine: Any) -> None:
    status, text = REFUSED[variant]
    with pytest.raises(ruvector.EmbedError, match=text) as info:
        _open(models[variant], engine)
    assert str(models[variant]) in str(info.value)  # names the file
    assert info.value.status_name == status


def test_external_data(models: Dict[str, Path], engine: Any, tmp_path: Path) -> None:
    """Weights in model.onnx.data beside model.onnx: works when the file is
    there (the same vectors as the inline model), a clear error when not."""
    d = models["external_data"]
    assert (d / "model.onnx.data").stat().st_size > (d / "model.onnx").stat().st_size
    got = _open(d, engine).embed_batch(TEXTS)
    np.testing.assert_allclose(got, _open(models["plain"], engine).embed_batch(TEXTS), atol=1e-6)
    lost = tmp_path / "lost"
    shutil.copytree(d, lost)
    os.unlink(lost / "model.onnx.data")
    with pytest.raises(ruvector.EmbedError, match="model.onnx.data") as info:
        _open(lost, engine)
    assert str(lost) in str(info.value)
