"""ruvector-text: the companion wheel behind `pip install ruvector[text]`.

SKELETON: the embed_onnx plugin (plugins/embed-onnx) is not written yet.
Until its make target exists this wheel ships an empty plugin directory;
once plugins/embed-onnx/embed_onnx.la builds, the same setup.py ships it.
The onnxruntime dependency is declared now: the plugin loads ONNX Runtime
from that wheel at run time (embed.md) and never links it.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # python/companion_setup.py
from companion_setup import companion_setup  # noqa: E402

companion_setup(
    package="ruvector_text",
    plugins={"embed_onnx": "plugins/embed-onnx/embed_onnx.la"},
    install_requires=["onnxruntime"],
    skeleton_note="SKELETON companion of ruvector[text]: the embed_onnx plugin is not built yet",
)
