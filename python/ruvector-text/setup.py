"""ruvector-text: the companion wheel behind `pip install ruvector[text]`.

It ships the embed_onnx plugin (plugins/embed-onnx), which ruvector.Embedder
drives. The plugin loads ONNX Runtime from the onnxruntime wheel at run time
(embed.md) and never links it; onnx is what converts a sentence-transformers
directory's safetensors weights to an ONNX graph, once, into the cache.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # python/companion_setup.py
from companion_setup import companion_setup  # noqa: E402

companion_setup(
    package="ruvector_text",
    plugins={"embed_onnx": "plugins/embed-onnx/embed_onnx.la"},
    # API 21 is the plugin's floor (embed.md §3.1); older runtimes are refused.
    install_requires=["onnxruntime>=1.21", "onnx>=1.16"],
    skeleton_note="SKELETON companion of ruvector[text]: built without the embed_onnx plugin (no jansson)",
)
