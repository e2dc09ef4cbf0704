"""A RAG-shaped workflow on ruvector, without a model download.

Documents are "embedded" by a deterministic hashing embedder (character
trigrams hashed into 256 dimensions, L2-normalised): crude, but it makes
texts that share words land near each other, which is all retrieval needs
to be demonstrated. Swap `embed` for a real model (ruvector[text] will
bring one) and nothing else changes.

Run:  python examples/rag_like.py "how do I save an index"
"""

from __future__ import annotations

import sys
import zlib
from typing import List, Sequence

import numpy as np
import numpy.typing as npt

import ruvector

DIM = 256

CORPUS = [
    "Build an index from a float32 NumPy array with RabitqPlusIndex.build.",
    "Search returns a list of SearchResult named tuples: id and score.",
    "search_batch takes a 2-D array of queries and returns ids and scores arrays.",
    "Save an index to a file with save(path); load it back with load(path).",
    "Index files are checksummed; a corrupted file raises CorruptFile.",
    "The engine picks the fastest kernel this CPU can run: avx512, avx2 or scalar.",
    "show_runtime prints the CPU, the kernel and why it was chosen.",
    "Set RUVECTOR_KERNEL=scalar to force the portable kernel.",
    "Install ruvector[agent] for the A2A client plugin.",
    "Install ruvector[text] for ONNX sentence embeddings.",
    "A dimension mismatch raises DimensionMismatch naming both sizes.",
    "Searches release the GIL, so threads can search in parallel.",
    "Use recommend(n, dim, recall_target) to choose an index and parameters.",
    "FlatF32Index is exact; RaBitQ indexes trade a little recall for speed.",
    "Remove vectors by id with remove(ids); add more with add(ids, vectors).",
]


def embed(texts: Sequence[str]) -> npt.NDArray[np.float32]:
    """Hashing-trick embeddings: each character trigram adds +-1 to one of
    DIM buckets (crc32 picks bucket and sign), then rows are normalised."""
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    for row, text in enumerate(texts):
        t = f"  {text.lower()}  "
        for i in range(len(t) - 2):
            h = zlib.crc32(t[i : i + 3].encode())
            out[row, h % DIM] += 1.0 if (h >> 16) & 1 else -1.0
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    normalised: npt.NDArray[np.float32] = (out / np.maximum(norms, 1e-12)).astype(np.float32)
    return normalised


def retrieve(question: str, k: int = 3) -> List[str]:
    # The RAG core in four lines: embed, build, embed the question, search.
    vectors = embed(CORPUS)
    index = ruvector.RabitqPlusIndex.build(vectors, metric="cosine")
    hits = index.search(embed([question])[0], k)
    return [f"{h.score:.3f}  {CORPUS[h.id]}" for h in hits]


def main(argv: List[str]) -> int:
    question = " ".join(argv[1:]) or "how do I save an index to disk"
    print(f"question: {question}")
    for line in retrieve(question):
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
