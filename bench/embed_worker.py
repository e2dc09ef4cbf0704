#!/usr/bin/env python3
"""One embedding system in a process of its own, for bench_embed.py and
embed_parity.py (never run by CI): loads the model, embeds the texts of a
JSON file `repeats` times with batch 32, saves the last vectors as .npy and
prints one JSON line: {"system", "seconds" (best of the repeats, model
loading excluded), "load_seconds", "peak_rss_kb" (VmHWM: the peak resident
set of this process's own memory, imports, model and runs),
"getrusage_maxrss_kb"}. getrusage's ru_maxrss is printed but not used: Linux
carries the parent's peak into it across fork and exec, so a child of a
large parent (bench_embed.py holds a model of its own) reads the parent's.

  ruvector:  python embed_worker.py ruvector TEXTS.json OUT.npy --model DIR
                 --cache DIR --plugin-dir DIR --threads N
             (the cache should already hold the ONNX conversion, so the
             conversion's memory is not counted)
  st:        python embed_worker.py st TEXTS.json OUT.npy --model DIR --threads N
             (sentence-transformers on torch, CPU)
"""
import argparse
import json
import os
import resource
import time


def run_ruvector(args, texts):
    import ruvector
    from ruvector._plugins import default_plugin_path

    eng = ruvector.Engine(
        plugin_path=os.pathsep.join(p for p in (default_plugin_path(), args.plugin_dir) if p),
        threads=args.threads,
        options={"embed_onnx": {"ort_lib_wheel": ruvector._embedder.ort_wheel_library()}},
    )
    t = time.perf_counter()
    emb = ruvector.Embedder.from_pretrained(args.model, cache_dir=args.cache, engine=eng)
    emb.embed("warm up")
    load = time.perf_counter() - t
    return load, lambda: emb.embed_batch(texts, batch_size=32)


def run_st(args, texts):
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(args.threads)
    t = time.perf_counter()
    model = SentenceTransformer(args.model, device="cpu")
    model.encode(["warm up"])
    load = time.perf_counter() - t

    def encode():
        with torch.inference_mode():
            return model.encode(texts, batch_size=32, convert_to_numpy=True,
                                show_progress_bar=False)

    return load, encode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("system", choices=["ruvector", "st"])
    ap.add_argument("texts")
    ap.add_argument("out")
    ap.add_argument("--model", required=True)
    ap.add_argument("--cache")
    ap.add_argument("--plugin-dir", default="")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args()
    with open(args.texts, encoding="utf-8") as f:
        texts = json.load(f)
    load, fn = (run_ruvector if args.system == "ruvector" else run_st)(args, texts)
    best, vectors = None, None
    for _ in range(args.repeats):
        t = time.perf_counter()
        vectors = fn()
        took = time.perf_counter() - t
        best = took if best is None else min(best, took)
    import numpy as np

    np.save(args.out, np.asarray(vectors, dtype=np.float32))
    print(json.dumps({
        "system": args.system,
        "seconds": best,
        "load_seconds": load,
        "peak_rss_kb": vm_hwm_kb(),
        "getrusage_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }))


def vm_hwm_kb():
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


if __name__ == "__main__":
    main()
