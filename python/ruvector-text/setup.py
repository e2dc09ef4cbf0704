"""ruvector-text: the companion wheel behind `pip install ruvector[text]`.

It ships the embed_onnx plugin (plugins/embed-onnx). So far the plugin finds
and checks ONNX Runtime and tokenizes (include/ruvector/feature-embed.h, first
slots); embedding and ruvector.Embedder come later. The onnxruntime dependency
is declared: the plugin loads ONNX Runtime from that wheel at run time
(embed.md) and never links it.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # python/companion_setup.py
from companion_setup import companion_setup  # noqa: E402

companion_setup(
    package="ruvector_text",
    plugins={"embed_onnx": "plugins/embed-onnx/embed_onnx.la"},
    # API 21 is the plugin's floor (embed.md §3.1); older runtimes are refused.
    install_requires=["onnxruntime>=1.21"],
    skeleton_note="SKELETON companion of ruvector[text]: built without the embed_onnx plugin (no jansson)",
)
