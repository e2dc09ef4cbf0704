#!/usr/bin/env python3
"""Generated BERT test models (embed.md §6.4): random N(0, 0.02) weights
from a fixed seed through ruvector._bert_onnx's graph builder (onnx.helper,
IR 8, opset 17, no torch), written as a model directory that
Embedder.from_pretrained(dir) opens (model.onnx, config.json, vocab.txt,
tokenizer_config.json), plus the variants the plugin must either run or
refuse with a clear error.

    python3 tests/models/make_bert.py OUT_DIR [--size h8|tiny2] [--variant NAME]

tests/models/tiny-h8 is this script's `--size h8` output, committed (~8 KB);
tiny2 is built per test run (python/tests/test_embed_models.py)."""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any, Dict, List

import numpy as np

SIZES: Dict[str, Dict[str, int]] = {
    # layers, hidden, heads, FFN, vocab, positions
    "h8": dict(layers=1, hidden=8, heads=2, ffn=16, vocab=40, positions=16),
    "tiny2": dict(layers=2, hidden=32, heads=4, ffn=64, vocab=100, positions=64),
}
VARIANTS = ("plain", "cls", "no_token_types", "sentence_embedding", "sentence_embedding_only",
            "wrong_input_name",
            "wrong_output_name", "wrong_rank", "dim_mismatch", "truncated", "external_data")
SEED = 20261207
WORDS = ["the", "is", "cat", "dog", "sat", "on", "mat", "vector", "search", "fast",
         "hello", "world", "model", "text", "embed", "query", "answer", "data", "run"]


def vocab(size: int) -> List[str]:
    """Specials, single letters and digits, '##' continuations, then whole
    words and punctuation, cut to ``size`` entries."""
    base = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    out = base + letters + ["##" + c for c in letters] + list(".,!?'-") + [str(d) for d in range(10)]
    out += WORDS + ["##ing", "##ed"]
    if size < len(base) + len(letters):
        raise ValueError(f"vocab size {size} is too small for the letters")
    out = out[:size]
    while len(out) < size:
        out.append(f"[unused{len(out)}]")
    return out


def weights(cfg: Dict[str, int], seed: int) -> Dict[str, np.ndarray]:
    """HF BertModel tensors (no ``bert.`` prefix) with N(0, 0.02) entries,
    LayerNorm gains 1 and biases 0."""
    rng = np.random.default_rng(seed)
    h, f = cfg["hidden"], cfg["ffn"]

    def n(*shape: int) -> np.ndarray:
        return rng.normal(0.0, 0.02, shape).astype(np.float32)

    w = {"embeddings.word_embeddings.weight": n(cfg["vocab"], h),
         "embeddings.position_embeddings.weight": n(cfg["positions"], h),
         "embeddings.token_type_embeddings.weight": n(2, h),
         "embeddings.LayerNorm.weight": np.ones(h, np.float32),
         "embeddings.LayerNorm.bias": np.zeros(h, np.float32)}
    for i in range(cfg["layers"]):
        p = f"encoder.layer.{i}."
        for m in ("query", "key", "value"):
            w[p + f"attention.self.{m}.weight"], w[p + f"attention.self.{m}.bias"] = n(h, h), n(h)
        w[p + "attention.output.dense.weight"], w[p + "attention.output.dense.bias"] = n(h, h), n(h)
        w[p + "intermediate.dense.weight"], w[p + "intermediate.dense.bias"] = n(f, h), n(f)
        w[p + "output.dense.weight"], w[p + "output.dense.bias"] = n(h, f), n(h)
        for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
            w[p + ln + ".weight"] = (1.0 + n(h)).astype(np.float32)
            w[p + ln + ".bias"] = n(h)
    return w


def hf_config(cfg: Dict[str, int]) -> Dict[str, Any]:
    return {"model_type": "bert", "architectures": ["BertModel"], "hidden_size": cfg["hidden"],
            "num_hidden_layers": cfg["layers"], "num_attention_heads": cfg["heads"],
            "intermediate_size": cfg["ffn"], "vocab_size": cfg["vocab"],
            "max_position_embeddings": cfg["positions"], "type_vocab_size": 2,
            "hidden_act": "gelu", "layer_norm_eps": 1e-12,
            "position_embedding_type": "absolute"}


def _builder() -> Any:
    """python/ruvector's _bert_onnx.py, loaded from this checkout by path:
    importing the ruvector package would load its C extension, which this
    script does not need (and which a sanitizer build's LD_LIBRARY_PATH
    could swap under it)."""
    path = Path(__file__).resolve().parents[2] / "python/ruvector/src/ruvector/_bert_onnx.py"
    spec = importlib.util.spec_from_file_location("_ruv_bert_onnx", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def graph(cfg: Dict[str, int], seed: int) -> Any:
    b = _builder()
    return b._graph(weights(cfg, seed), b.BertConfig(hf_config(cfg)))


def _drop_token_types(model: Any) -> None:
    """token_type_ids becomes zeros made from input_ids inside the graph, so
    the graph has only input_ids and attention_mask (DistilBERT-like)."""
    from onnx import helper

    g = model.graph
    for node in g.node:
        node.input[:] = ["tt_zeros" if x == "token_type_ids" else x for x in node.input]
    g.node.insert(0, helper.make_node("Sub", ["input_ids", "input_ids"], ["tt_zeros"]))
    keep = [i for i in g.input if i.name != "token_type_ids"]
    del g.input[:]
    g.input.extend(keep)


def _add_sentence_embedding(model: Any, hidden: int) -> None:
    """A second output, sentence_embedding [batch, hidden]: masked mean of
    last_hidden_state, as sentence-transformers ONNX exports carry."""
    from onnx import TensorProto, helper, numpy_helper

    g = model.graph
    g.initializer.extend([numpy_helper.from_array(np.array([2], np.int64), "se_axes2"),
                          numpy_helper.from_array(np.array([1], np.int64), "se_axes1"),
                          numpy_helper.from_array(np.array(1e-9, np.float32), "se_eps")])
    g.node.extend([
        helper.make_node("Cast", ["attention_mask"], ["se_m"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["se_m", "se_axes2"], ["se_m3"]),
        helper.make_node("Mul", ["last_hidden_state", "se_m3"], ["se_x"]),
        helper.make_node("ReduceSum", ["se_x", "se_axes1"], ["se_sum"], keepdims=0),
        helper.make_node("ReduceSum", ["se_m3", "se_axes1"], ["se_cnt"], keepdims=0),
        helper.make_node("Max", ["se_cnt", "se_eps"], ["se_cnt1"]),
        helper.make_node("Div", ["se_sum", "se_cnt1"], ["sentence_embedding"]),
    ])
    g.output.append(helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT,
                                                  ["batch", hidden]))


def _rename(model: Any, old: str, new: str) -> None:
    g = model.graph
    for node in g.node:
        node.input[:] = [new if x == old else x for x in node.input]
        node.output[:] = [new if x == old else x for x in node.output]
    for vi in list(g.input) + list(g.output):
        if vi.name == old:
            vi.name = new


def build(out: Path, size: str = "h8", variant: str = "plain", seed: int = SEED) -> Path:
    """Writes the model directory ``out`` and returns it."""
    import onnx
    from onnx import TensorProto, helper

    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; known: {', '.join(VARIANTS)}")
    cfg = SIZES[size]
    out.mkdir(parents=True, exist_ok=True)
    model = graph(cfg, seed)
    if variant == "no_token_types":
        _drop_token_types(model)
    elif variant in ("sentence_embedding", "sentence_embedding_only"):
        _add_sentence_embedding(model, cfg["hidden"])
        if variant == "sentence_embedding_only":
            keep = [o for o in model.graph.output if o.name == "sentence_embedding"]
            del model.graph.output[:]
            model.graph.output.extend(keep)
    elif variant == "wrong_input_name":
        _rename(model, "attention_mask", "input_mask")
    elif variant == "wrong_output_name":
        _rename(model, "last_hidden_state", "hidden_states")
    elif variant == "wrong_rank":
        # last_hidden_state declared [batch, hidden]: flattened by a Reshape
        g = model.graph
        _rename(model, "last_hidden_state", "lhs3")
        g.initializer.append(onnx.numpy_helper.from_array(
            np.array([-1, cfg["hidden"]], np.int64), "flat_shape"))
        g.node.append(helper.make_node("Reshape", ["lhs3", "flat_shape"], ["last_hidden_state"]))
        del g.output[:]
        g.output.append(helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT,
                                                      ["rows", cfg["hidden"]]))
    onnx.checker.check_model(model)
    (out / "config.json").write_text(json.dumps(hf_config(cfg), indent=1) + "\n")
    (out / "vocab.txt").write_text("\n".join(vocab(cfg["vocab"])) + "\n")
    (out / "tokenizer_config.json").write_text(
        json.dumps({"do_lower_case": True, "model_max_length": cfg["positions"]}) + "\n")
    if variant in ("cls", "dim_mismatch"):
        dim = cfg["hidden"] + (1 if variant == "dim_mismatch" else 0)
        pool = {"word_embedding_dimension": dim, "pooling_mode_cls_token": variant == "cls",
                "pooling_mode_mean_tokens": variant != "cls", "pooling_mode_max_tokens": False}
        (out / "1_Pooling").mkdir(exist_ok=True)
        (out / "1_Pooling" / "config.json").write_text(json.dumps(pool) + "\n")
    onnx_path = out / "model.onnx"
    if variant == "external_data":
        onnx.save_model(model, str(onnx_path), save_as_external_data=True,
                        all_tensors_to_one_file=True, location="model.onnx.data",
                        size_threshold=1024)
    else:
        data = model.SerializeToString()
        if variant == "truncated":
            data = data[: len(data) // 2]
        onnx_path.write_bytes(data)
    return out


def main(argv: List[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--size", choices=sorted(SIZES), default="h8")
    ap.add_argument("--variant", choices=VARIANTS, default="plain")
    ap.add_argument("--seed", type=int, default=SEED)
    a = ap.parse_args(argv)
    build(a.out, a.size, a.variant, a.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
